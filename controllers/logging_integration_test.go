//go:build integration

package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestOneLogLinePerRetry: while Hydra fails for one client, the operator, as internal/operator
// wires it, logs exactly one line per failed pass for it, and no stack trace.
func TestOneLogLinePerRetry(t *testing.T) {
	ns := newNamespace(t, "logs")
	obj := serviceClient(ns, "svc")
	obj.Spec.ClientID = ns + ".svc"
	stop, failures := operatorHydra.failGets(obj.Spec.ClientID)
	defer stop()
	from := len(logBuf.String())
	create(t, obj)
	waitCondition(t, ns, "svc", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerUnavailable)
	eventually(t, 30*time.Second, func() error {
		if n := failures(); n < 3 {
			return fmt.Errorf("%d failed passes so far", n)
		}
		return nil
	})
	stop()
	waitReadyWithin(t, ns, "svc", 60*time.Second)

	text := logBuf.String()[from:]
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, ns) && strings.Contains(l, "ERROR") {
			lines = append(lines, l)
		}
	}
	// Each failed pass failed at its first Get; nothing else failed for this resource.
	if int64(len(lines)) != failures() {
		t.Fatalf("%d failed passes logged %d error lines:\n%s", failures(), len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		for _, want := range []string{failureMessage, `"clientID": "` + obj.Spec.ClientID + `"`,
			`"server": "default"`, `"reason": "AuthorizationServerUnavailable"`, `"name": "svc"`} {
			if !strings.Contains(l, want) {
				t.Errorf("the failure line lacks %s: %s", want, l)
			}
		}
	}
	for _, frame := range []string{"goroutine ", "sigs.k8s.io/controller-runtime/pkg/internal/controller."} {
		if strings.Contains(text, frame) {
			t.Errorf("the log carries a stack trace (%q)", frame)
		}
	}
}
