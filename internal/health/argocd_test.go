/*
Copyright 2026 The oauth2-client-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package health

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const (
	healthScriptPath = "config/argocd/health.lua"
	argoCDConfigPath = "config/argocd/argocd-cm.yaml"
	// argoCDConfigKey is the argocd-cm key Argo CD reads a custom health check from:
	// resource.customizations.health.<group>_<kind>.
	argoCDConfigKey = "resource.customizations.health.oauth2.clientoperator.dev_OAuth2Client"
)

// argoCDConfigKeys are the keys of every kind the script serves: the server kinds' status
// follows the same conventions.
var argoCDConfigKeys = []string{
	argoCDConfigKey,
	"resource.customizations.health.oauth2.clientoperator.dev_AuthorizationServer",
	"resource.customizations.health.oauth2.clientoperator.dev_ClusterAuthorizationServer",
}

// argoHealth is what Argo CD reads from the table a health script returns
// (github.com/argoproj/gitops-engine/pkg/health.HealthStatus).
type argoHealth struct {
	Status  string
	Message string
}

// validArgoHealth are the codes Argo CD accepts from a script; any other is turned into Unknown
// with the message "Lua returned an invalid health status".
var validArgoHealth = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

// runArgoCDHealth runs a health script the way Argo CD's util/lua VM does for a check configured
// in argocd-cm: a fresh Lua state without the standard libraries (argocd-cm checks run with
// useOpenLibs false), then only the package, base and table libraries, a one-second deadline,
// the resource as the global obj, and the script's return value read from the top of the stack.
// Argo CD also loads a restricted os library; this script has no use for it, so it is left out,
// which makes any use of os fail here.
func runArgoCDHealth(script string, obj *unstructured.Unstructured) (argoHealth, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return argoHealth{}, fmt.Errorf("open Lua library %q: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", decodeValue(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return argoHealth{}, err
	}
	ret := l.Get(-1)
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return argoHealth{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	var h argoHealth
	for field, dst := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		switch v := tbl.RawGetString(field).(type) {
		case lua.LString:
			*dst = string(v)
		case *lua.LNilType:
		default:
			return argoHealth{}, fmt.Errorf("health %s is a %s, not a string", field, v.Type())
		}
	}
	if !validArgoHealth[h.Status] {
		return argoHealth{}, fmt.Errorf("Lua returned an invalid health status %q", h.Status)
	}
	return h, nil
}

// decodeValue converts a value of an unstructured object to Lua the way Argo CD's
// util/lua.decodeValue does: maps become hash tables, lists become array tables (1-based, in
// order), numbers become LNumber, json.Number a string, nil and anything else nil.
func decodeValue(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []interface{}:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]interface{}:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	default:
		return lua.LNil
	}
}

func TestArgoCDHealth(t *testing.T) {
	script := readRepoFile(t, healthScriptPath)
	for _, tc := range healthCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runArgoCDHealth(script, tc.fixture.object(t))
			if err != nil {
				t.Fatalf("%s: %v", healthScriptPath, err)
			}
			want := argoHealth{Status: tc.argoStatus, Message: tc.argoMessage}
			if got != want {
				t.Errorf("health = %+v, want %+v", got, want)
			}
		})
	}
}

// TestArgoCDHealthOddObjects feeds the script objects the API server would not normally serve,
// to make sure it answers instead of failing with a Lua error (which Argo CD shows as an error
// on the resource instead of a health).
func TestArgoCDHealthOddObjects(t *testing.T) {
	script := readRepoFile(t, healthScriptPath)
	for _, tc := range []struct {
		name, yaml string
		want       argoHealth
	}{
		{
			name: "no metadata.generation", // nothing to compare observedGeneration with
			yaml: "status: {conditions: [{type: Ready, status: 'True', reason: Reconciled}]}",
			want: argoHealth{argoHealthy, "Reconciled"},
		},
		{
			name: "empty status",
			yaml: "metadata: {generation: 1}\nstatus: {}",
			want: argoHealth{argoProgressing, "Waiting for the operator to observe generation 1"},
		},
		{
			name: "empty conditions",
			yaml: "metadata: {generation: 1}\nstatus: {observedGeneration: 1, conditions: []}",
			want: argoHealth{argoProgressing, "Waiting for the operator"},
		},
		{
			name: "condition without reason or message",
			yaml: "metadata: {generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Ready, status: 'False'}]}",
			want: argoHealth{argoDegraded, ""},
		},
		{
			name: "unknown condition types only",
			yaml: "metadata: {generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Synced, status: 'True'}]}",
			want: argoHealth{argoProgressing, "Waiting for the operator"},
		},
		{
			name: "observedGeneration ahead of generation",
			yaml: "metadata: {generation: 1}\nstatus: {observedGeneration: 2, conditions: [{type: Ready, status: 'True', message: ok}]}",
			want: argoHealth{argoHealthy, "ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			raw, err := yaml.YAMLToJSON([]byte("apiVersion: oauth2.clientoperator.dev/v1alpha1\nkind: OAuth2Client\n" + tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := u.UnmarshalJSON(raw); err != nil {
				t.Fatal(err)
			}
			got, err := runArgoCDHealth(script, u)
			if err != nil {
				t.Fatalf("%s: %v", healthScriptPath, err)
			}
			if got != tc.want {
				t.Errorf("health = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestArgoCDHealthUsesOnlyBaseLibrary guards the libraries the script may use: Argo CD runs
// argocd-cm checks without string, math, io and os (unless useOpenLibs is set for the kind), and
// the fixtures may not reach every line.
func TestArgoCDHealthUsesOnlyBaseLibrary(t *testing.T) {
	script := readRepoFile(t, healthScriptPath)
	lib := regexp.MustCompile(`\b(string|math|io|os|debug|coroutine|utf8)\s*\.|:\s*\w+\s*\(`)
	for i, line := range strings.Split(script, "\n") {
		code, _, _ := strings.Cut(line, "--")
		if m := lib.FindString(code); m != "" {
			t.Errorf("%s:%d uses %q, which Argo CD does not provide to argocd-cm health checks", healthScriptPath, i+1, m)
		}
	}
}

// TestArgoCDConfigMapEmbedsHealthScript keeps config/argocd/argocd-cm.yaml and health.lua from
// drifting apart: the ConfigMap must carry the script verbatim under the key Argo CD reads.
func TestArgoCDConfigMapEmbedsHealthScript(t *testing.T) {
	script := readRepoFile(t, healthScriptPath)
	var cm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, argoCDConfigPath)), &cm); err != nil {
		t.Fatalf("%s: %v", argoCDConfigPath, err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Metadata.Name != "argocd-cm" {
		t.Errorf("%s is %s %s %q, want v1 ConfigMap \"argocd-cm\"", argoCDConfigPath, cm.APIVersion, cm.Kind, cm.Metadata.Name)
	}
	for _, key := range argoCDConfigKeys {
		checkEmbedded(t, cm.Data, key, script)
	}
}

// checkEmbedded fails unless data[key] is script, and shows what it should be.
func checkEmbedded(t *testing.T, data map[string]string, key, script string) {
	t.Helper()
	got, ok := data[key]
	if !ok {
		t.Fatalf("%s has no data key %s", argoCDConfigPath, key)
	}
	if got != script {
		var indented strings.Builder
		for _, line := range strings.SplitAfter(script, "\n") {
			if strings.TrimSpace(line) != "" {
				indented.WriteString("    ")
			}
			indented.WriteString(line)
		}
		t.Errorf("%s does not embed %s verbatim. Set its data to:\n  %s: |\n%s",
			argoCDConfigPath, healthScriptPath, key, indented.String())
	}
}
