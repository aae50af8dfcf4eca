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
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// repoPath returns the absolute path of a file in the repository, from this source file's place.
func repoPath(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the test's source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", filepath.FromSlash(rel))
}

func readRepoFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// cond is one status condition of a fixture.
type cond struct {
	Type    string
	Status  string
	Reason  string
	Message string
}

// fixture describes an OAuth2Client as the API server would serve it.
type fixture struct {
	generation int64
	// observedGeneration < 0 leaves status.observedGeneration out.
	observedGeneration int64
	// noStatus leaves .status out entirely: a resource the operator has not written to yet.
	noStatus   bool
	deleting   bool
	conditions []cond
}

// object renders the fixture as the unstructured object a client reads from the API server. It
// goes through JSON as the API server's answer does, so numbers are int64 and lists are
// []interface{}, exactly the types Argo CD and kstatus see.
func (f fixture) object(t testing.TB) *unstructured.Unstructured {
	t.Helper()
	metadata := map[string]interface{}{
		"name":       "example-service",
		"namespace":  "default",
		"uid":        "5f0c3a52-2b5e-4d7e-9a59-2f3c7c0e8a11",
		"generation": f.generation,
	}
	if f.deleting {
		metadata["deletionTimestamp"] = "2026-01-02T03:04:05Z"
		metadata["finalizers"] = []interface{}{v1alpha1.FinalizerName}
	}
	obj := map[string]interface{}{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       "OAuth2Client",
		"metadata":   metadata,
		"spec": map[string]interface{}{
			"grantTypes": []interface{}{"client_credentials"},
			"scopes":     []interface{}{"read", "write"},
		},
	}
	if !f.noStatus {
		status := map[string]interface{}{}
		if f.observedGeneration >= 0 {
			status["observedGeneration"] = f.observedGeneration
		}
		if len(f.conditions) > 0 {
			conds := make([]interface{}, 0, len(f.conditions))
			for _, c := range f.conditions {
				m := map[string]interface{}{
					"type":               c.Type,
					"status":             c.Status,
					"reason":             c.Reason,
					"lastTransitionTime": "2026-01-02T03:04:05Z",
				}
				if f.observedGeneration >= 0 {
					m["observedGeneration"] = f.observedGeneration
				}
				if c.Message != "" {
					m["message"] = c.Message
				}
				conds = append(conds, m)
			}
			status["conditions"] = conds
		}
		obj["status"] = status
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("marshal fixture: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatalf("unmarshal fixture: %v", err)
	}
	return u
}

// Argo CD health codes (github.com/argoproj/gitops-engine/pkg/health).
const (
	argoHealthy     = "Healthy"
	argoProgressing = "Progressing"
	argoDegraded    = "Degraded"
)

// kstatus results (sigs.k8s.io/cli-utils/pkg/kstatus/status), as strings to keep the table short.
const (
	ksInProgress  = "InProgress"
	ksCurrent     = "Current"
	ksFailed      = "Failed"
	ksTerminating = "Terminating"
)

const (
	msgRegistering = "Registering the client in Hydra"
	msgReady       = "The client is registered in Hydra and its credentials are in Secret example-service"
	msgRejected    = "Hydra rejected the client: redirect_uris: invalid URI"
	msgUnavailable = `The authorization server "default" is unavailable (unreachable); retrying with backoff`
	msgNoSecret    = "Waiting for Secret example-service, which requireExistingSecret says someone else writes"
	msgBadSecret   = "Secret example-service has no key client_secret"
)

// healthCase is one resource state with what Argo CD and kstatus must make of it.
type healthCase struct {
	name    string
	fixture fixture
	// What config/argocd/health.lua returns.
	argoStatus  string
	argoMessage string
	// What kstatus computes.
	kstatus string
}

// healthCases is the shared table: each state of an OAuth2Client, side by side with its Argo CD
// health and its kstatus status. Where the two differ, the case's name says why.
var healthCases = []healthCase{
	{
		// kstatus has nothing to go on: no observedGeneration, no conditions, a kind it does not
		// know. It falls back to Current. Only the operator's first status write (observedGeneration
		// and Ready=False/Reconciling=True) closes that window; Argo CD's script waits instead.
		name:        "new object without status (kstatus cannot tell and says Current)",
		fixture:     fixture{generation: 1, noStatus: true},
		argoStatus:  argoProgressing,
		argoMessage: "Waiting for the operator",
		kstatus:     ksCurrent,
	},
	{
		// What the controller writes on its first pass: it leaves observedGeneration alone until
		// it is done with a generation (Ready or Stalled).
		name: "first reconcile, no generation done yet",
		fixture: fixture{generation: 1, observedGeneration: -1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonProgressing, msgRegistering},
			{v1alpha1.ConditionReconciling, "True", v1alpha1.ReasonProgressing, msgRegistering},
		}},
		argoStatus:  argoProgressing,
		argoMessage: msgRegistering,
		kstatus:     ksInProgress,
	},
	{
		name: "retrying a changed spec while the authorization server is unavailable",
		fixture: fixture{generation: 3, observedGeneration: 2, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonAuthorizationServerUnavailable, msgUnavailable},
			{v1alpha1.ConditionReconciling, "True", v1alpha1.ReasonAuthorizationServerUnavailable, msgUnavailable},
		}},
		argoStatus:  argoProgressing,
		argoMessage: msgUnavailable,
		kstatus:     ksInProgress,
	},
	{
		name: "waiting for an externally written Secret",
		fixture: fixture{generation: 1, observedGeneration: -1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonSecretNotFound, msgNoSecret},
			{v1alpha1.ConditionReconciling, "True", v1alpha1.ReasonSecretNotFound, msgNoSecret},
		}},
		argoStatus:  argoProgressing,
		argoMessage: msgNoSecret,
		kstatus:     ksInProgress,
	},
	{
		name: "reconciling",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonProgressing, msgRegistering},
			{v1alpha1.ConditionReconciling, "True", v1alpha1.ReasonProgressing, msgRegistering},
		}},
		argoStatus:  argoProgressing,
		argoMessage: msgRegistering,
		kstatus:     ksInProgress,
	},
	{
		name: "ready at the current generation",
		fixture: fixture{generation: 2, observedGeneration: 2, conditions: []cond{
			{v1alpha1.ConditionReady, "True", v1alpha1.ReasonReconciled, msgReady},
		}},
		argoStatus:  argoHealthy,
		argoMessage: msgReady,
		kstatus:     ksCurrent,
	},
	{
		name: "ready but the spec changed since (stale observedGeneration)",
		fixture: fixture{generation: 3, observedGeneration: 2, conditions: []cond{
			{v1alpha1.ConditionReady, "True", v1alpha1.ReasonReconciled, msgReady},
		}},
		argoStatus:  argoProgressing,
		argoMessage: "Waiting for the operator to observe generation 3 (observed 2)",
		kstatus:     ksInProgress,
	},
	{
		name: "status written without observedGeneration",
		fixture: fixture{generation: 1, observedGeneration: -1, conditions: []cond{
			{v1alpha1.ConditionReady, "True", v1alpha1.ReasonReconciled, msgReady},
		}},
		argoStatus:  argoProgressing,
		argoMessage: "Waiting for the operator to observe generation 1",
		kstatus:     ksCurrent, // no observedGeneration: kstatus skips the check and reads Ready
	},
	{
		name: "stalled",
		fixture: fixture{generation: 4, observedGeneration: 4, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonHydraRejected, msgRejected},
			{v1alpha1.ConditionStalled, "True", v1alpha1.ReasonHydraRejected, msgRejected},
		}},
		argoStatus:  argoDegraded,
		argoMessage: msgRejected,
		kstatus:     ksFailed,
	},
	{
		name: "stalled without a message falls back to the reason",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonClientIDConflict, ""},
			{v1alpha1.ConditionStalled, "True", v1alpha1.ReasonClientIDConflict, ""},
		}},
		argoStatus:  argoDegraded,
		argoMessage: v1alpha1.ReasonClientIDConflict,
		kstatus:     ksFailed,
	},
	{
		// The Stalled condition describes generation 1; generation 2 may well fix it.
		name: "stalled at an older generation waits for the operator",
		fixture: fixture{generation: 2, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonHydraRejected, msgRejected},
			{v1alpha1.ConditionStalled, "True", v1alpha1.ReasonHydraRejected, msgRejected},
		}},
		argoStatus:  argoProgressing,
		argoMessage: "Waiting for the operator to observe generation 2 (observed 1)",
		kstatus:     ksInProgress,
	},
	{
		name: "Ready=False AuthorizationServerUnavailable (the operator retries)",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonAuthorizationServerUnavailable, msgUnavailable},
		}},
		argoStatus:  argoProgressing,
		argoMessage: v1alpha1.ReasonAuthorizationServerUnavailable + ": " + msgUnavailable,
		kstatus:     ksInProgress,
	},
	{
		// Written by operator versions before AuthorizationServerUnavailable; a resource keeps it
		// until its next pass after an upgrade.
		name: "Ready=False HydraUnavailable from an older operator",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", "HydraUnavailable", msgUnavailable},
		}},
		argoStatus:  argoProgressing,
		argoMessage: "HydraUnavailable: " + msgUnavailable,
		kstatus:     ksInProgress,
	},
	{
		name: "Ready=False SecretNotFound (waiting for an externally written Secret)",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonSecretNotFound, msgNoSecret},
		}},
		argoStatus:  argoProgressing,
		argoMessage: v1alpha1.ReasonSecretNotFound + ": " + msgNoSecret,
		kstatus:     ksInProgress,
	},
	{
		// The controller should set Stalled=True with such a reason (then both say failed). If it
		// only sets Ready=False, kstatus cannot tell a dead end from a wait; the script can.
		name: "Ready=False SecretInvalid without Stalled (kstatus cannot tell it is a dead end)",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonSecretInvalid, msgBadSecret},
		}},
		argoStatus:  argoDegraded,
		argoMessage: v1alpha1.ReasonSecretInvalid + ": " + msgBadSecret,
		kstatus:     ksInProgress,
	},
	{
		name: "Ready=Unknown",
		fixture: fixture{generation: 1, observedGeneration: 1, conditions: []cond{
			{v1alpha1.ConditionReady, "Unknown", v1alpha1.ReasonProgressing, msgRegistering},
		}},
		argoStatus:  argoProgressing,
		argoMessage: v1alpha1.ReasonProgressing + ": " + msgRegistering,
		kstatus:     ksInProgress,
	},
	{
		name:        "observed but no conditions yet",
		fixture:     fixture{generation: 1, observedGeneration: 1},
		argoStatus:  argoProgressing,
		argoMessage: "Waiting for the operator",
		kstatus:     ksCurrent, // nothing says otherwise; the controller always sets Ready
	},
	{
		// Argo CD itself reports "Pending deletion" for any object with a deletionTimestamp
		// before it runs a health script; the script's own answer only matters if it is asked.
		name: "deleting",
		fixture: fixture{generation: 2, observedGeneration: 2, deleting: true, conditions: []cond{
			{v1alpha1.ConditionReady, "False", v1alpha1.ReasonDeleting, "Deleting the client from Hydra"},
			{v1alpha1.ConditionReconciling, "True", v1alpha1.ReasonDeleting, "Deleting the client from Hydra"},
		}},
		argoStatus:  argoProgressing,
		argoMessage: "Deleting the client from Hydra",
		kstatus:     ksTerminating,
	},
}
