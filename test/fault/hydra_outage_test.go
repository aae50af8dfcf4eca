//go:build fault

package fault

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestHydraOutageMidCreate kills Hydra while 300 clients are being created and starts it again
// hydraOutage later (FAULT_HYDRA_OUTAGE, default 60s) with an empty in-memory database: every
// client registered before the kill is lost at Hydra, and every create in flight fails. The
// operator must bring every resource to Ready with the credentials it had already put into the
// Secret, with exactly one Hydra client per resource.
func TestHydraOutageMidCreate(t *testing.T) {
	const n = 300
	e := setup(t, "hydra-outage", hydraOutage+6*time.Minute)
	op := e.startOperator(operatorOptions{})

	var objs []*v1alpha1.OAuth2Client
	for _, name := range names("svc", 0, n) {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	begin := time.Now()
	cr := e.startCreating(objs, 4)

	// The fault: Hydra dies while creates are in flight, once a third of the resources exist
	// and some of their clients are registered (and so will be lost with the database).
	var readyAtKill int
	if err := e.waitFor("a third of the resources created, 20 Ready", 3*time.Minute, func() (bool, error) {
		if cr.created.Load() < n/3 {
			return false, nil
		}
		var err error
		readyAtKill, err = e.readyCount()
		return readyAtKill >= 20, err
	}); err != nil {
		t.Fatal(err)
	}
	e.hydra.Stop()
	killedAt := time.Now()
	createdAtKill := cr.created.Load()
	t.Logf("Hydra killed after %s: %d resources created, %d Ready", killedAt.Sub(begin).Round(time.Millisecond), createdAtKill, readyAtKill)

	// The outage itself: Hydra stays down this long, whatever happens meanwhile.
	e.faultDelay(hydraOutage)
	if err := cr.wait(); err != nil {
		t.Fatal(err)
	}

	// Just before Hydra comes back: the credentials the Secrets hold.
	recorded, err := e.managedSecrets()
	if err != nil {
		t.Fatal(err)
	}
	restartAt := time.Now()
	if err := e.hydra.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Hydra back after %s with an empty database; %d of %d Secrets already hold credentials", restartAt.Sub(killedAt).Round(time.Millisecond), len(recorded), n)

	converge, snap, convergeErr := e.waitConverged(restartAt, n, 4*time.Minute)
	lost, duplicates, changed, tokenFailures := n, -1, -1, -1
	var tokenErrs []string
	leaks := -1
	if snap != nil {
		tl := snap.tally()
		lost = tl.Missing + (n - tl.Resources)
		duplicates = tl.Duplicates
		changed = 0
		for name, before := range recorded {
			if now := snap.secrets[name]; now == nil || credentialsOf(now) != before {
				changed++
			}
		}
		tokenFailures, tokenErrs = e.checkTokens(snap, snap.liveNames())
		leaks = e.secretsInLogs(snap)
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}
	e.report(converge, convergeErr, lost, duplicates,
		kv("n", n), kv("outage", hydraOutage), kv("createdAtKill", createdAtKill), kv("readyAtKill", readyAtKill),
		kv("secretsBeforeRestart", fmt.Sprintf("%d/%d", len(recorded), n)), kv("secretsChanged", changed),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, n)), kv("secretsInLogs", leaks), kv("total", time.Since(begin)), kv("operatorExited", op.exited()))

	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	// Every resource had its credentials in its Secret before Hydra came back (so the operator
	// had to restore the clients with them rather than start afresh), and none changed.
	if len(recorded) != n {
		t.Errorf("%d of %d Secrets held credentials before Hydra came back; the operator must write them without Hydra", len(recorded), n)
	}
	if changed != 0 {
		t.Errorf("%d Secrets' credentials changed after Hydra came back; the credentials written before the outage must be the ones registered", changed)
	}
	if tokenFailures != 0 {
		t.Errorf("%d of %d token requests with the Secrets' credentials failed: %v", tokenFailures, n, tokenErrs)
	}
	if op.exited() {
		t.Errorf("the operator exited during the outage: %v", op.ExitErr())
	}
}

// credentials are a Secret's client_id and client_secret.
type credentials struct{ id, secret string }

func credentialsOf(s *corev1.Secret) credentials {
	return credentials{id: string(s.Data["client_id"]), secret: string(s.Data["client_secret"])}
}

// managedSecrets maps the names of the operator's Secrets in the namespace that hold a
// client_id and a client_secret to them.
func (e *env) managedSecrets() (map[string]credentials, error) {
	list := &corev1.SecretList{}
	if err := e.k8s.List(e.ctx, list, client.InNamespace(e.ns), client.MatchingLabels{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}); err != nil {
		return nil, err
	}
	out := map[string]credentials{}
	for i := range list.Items {
		if c := credentialsOf(&list.Items[i]); c.id != "" && c.secret != "" {
			out[list.Items[i].Name] = c
		}
	}
	return out, nil
}
