package health

import (
	"testing"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestServerHealth runs the states the AuthorizationServer controller writes through the Argo
// CD script and kstatus, for both server kinds: Reachable is healthy; refused credentials and
// a broken Secret are degraded (stalled); an unreachable server and a missing Secret are
// progressing (the operator retries).
func TestServerHealth(t *testing.T) {
	script := readRepoFile(t, healthScriptPath)
	ready := func(s, reason string) cond {
		return cond{Type: v1alpha1.ConditionReady, Status: s, Reason: reason, Message: reason + " message"}
	}
	also := func(typ, reason string) cond {
		return cond{Type: typ, Status: "True", Reason: reason, Message: reason + " message"}
	}
	for _, tc := range []struct {
		name       string
		conditions []cond
		argo, ks   string
	}{
		{"reachable", []cond{ready("True", v1alpha1.ReasonReachable)}, argoHealthy, ksCurrent},
		{"unauthorized", []cond{ready("False", v1alpha1.ReasonUnauthorized), also(v1alpha1.ConditionStalled, v1alpha1.ReasonUnauthorized)}, argoDegraded, ksFailed},
		{"Secret invalid", []cond{ready("False", v1alpha1.ReasonSecretInvalid), also(v1alpha1.ConditionStalled, v1alpha1.ReasonSecretInvalid)}, argoDegraded, ksFailed},
		{"unreachable", []cond{ready("False", v1alpha1.ReasonUnreachable), also(v1alpha1.ConditionReconciling, v1alpha1.ReasonUnreachable)}, argoProgressing, ksInProgress},
		{"Secret not found", []cond{ready("False", v1alpha1.ReasonSecretNotFound), also(v1alpha1.ConditionReconciling, v1alpha1.ReasonSecretNotFound)}, argoProgressing, ksInProgress},
		{"ConfigMap not found", []cond{ready("False", v1alpha1.ReasonConfigMapNotFound), also(v1alpha1.ConditionReconciling, v1alpha1.ReasonConfigMapNotFound)}, argoProgressing, ksInProgress},
	} {
		for _, kind := range []string{"AuthorizationServer", "ClusterAuthorizationServer"} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				obj := fixture{generation: 2, observedGeneration: 2, conditions: tc.conditions}.object(t)
				obj.SetKind(kind)
				obj.Object["spec"] = map[string]interface{}{"adminURL": "http://hydra-admin:4445"}
				if kind == "ClusterAuthorizationServer" {
					obj.SetNamespace("")
				}
				got, err := runArgoCDHealth(script, obj)
				if err != nil || got.Status != tc.argo {
					t.Errorf("Argo CD health %+v, %v; want %s", got, err, tc.argo)
				}
				res, err := status.Compute(obj)
				if err != nil || res.Status.String() != tc.ks {
					t.Errorf("kstatus %v, %v; want %s", res, err, tc.ks)
				}
			})
		}
	}
}
