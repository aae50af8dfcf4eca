package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestOneLogLinePerFailedPass runs failing passes with the controller's logger as
// controller-runtime hands it to Reconcile, and logs each returned error as controller-runtime
// does: at the default level each failure is one line, with the keys a user greps for.
func TestOneLogLinePerFailedPass(t *testing.T) {
	for _, tc := range []struct {
		level        zapcore.Level
		wantDebugDup bool // controller-runtime's line, demoted
	}{{zapcore.InfoLevel, false}, {zapcore.DebugLevel, true}} {
		t.Run(tc.level.String(), func(t *testing.T) {
			obj := resource("shop", "svc")
			w := newFastWorld(t, obj)
			var out bytes.Buffer
			// zap's production setting, but with error-level stack traces, as a check that the
			// demoted line would not carry one.
			base := zap.New(zap.WriteTo(&out), zap.Level(tc.level), zap.StacktraceLevel(zapcore.ErrorLevel))
			req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
			log := logConstructor(base)(&req)
			const passes = 3
			w.hydra.FailNext(passes, http.StatusServiceUnavailable)
			for range passes {
				_, err := w.r.Reconcile(ctrl.LoggerInto(context.Background(), log), req)
				if err == nil {
					t.Fatal("the pass should fail while Hydra is unavailable")
				}
				log.Error(err, reconcilerErrorMessage) // what controller-runtime does with it
			}
			lines := logLines(t, out.String())
			failures, debugDups := 0, 0
			for _, l := range lines {
				switch l["msg"] {
				case failureMessage:
					failures++
					checkFailureLine(t, l, obj)
				case reconcilerErrorMessage:
					debugDups++
					if l["level"] != "debug" || l["stacktrace"] != nil {
						t.Errorf("controller-runtime's line should be demoted to debug without a stack trace: %v", l)
					}
				}
			}
			if failures != passes {
				t.Errorf("want %d failure lines, one per failed pass, have %d:\n%s", passes, failures, out.String())
			}
			if want := map[bool]int{true: passes, false: 0}[tc.wantDebugDup]; debugDups != want {
				t.Errorf("want %d lines of controller-runtime's own at %s, have %d:\n%s", want, tc.level, debugDups, out.String())
			}
		})
	}
}

func checkFailureLine(t *testing.T, l map[string]any, obj *v1alpha1.OAuth2Client) {
	t.Helper()
	want := map[string]any{
		"level": "error", "namespace": obj.Namespace, "name": obj.Name, "clientID": string(obj.UID),
		"server": DefaultServer, "reason": v1alpha1.ReasonAuthorizationServerUnavailable, "controller": controllerName,
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("failure line: %s = %v, want %v (line %v)", k, l[k], v, l)
		}
	}
	if e, _ := l["error"].(string); !strings.Contains(e, "503") {
		t.Errorf("failure line should carry the error, has %v", l)
	}
}

func logLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(text), "\n") {
		if raw == "" {
			continue
		}
		l := map[string]any{}
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		lines = append(lines, l)
	}
	return lines
}
