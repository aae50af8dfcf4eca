//go:build fault

package fault

import (
	"fmt"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// apiServerGap is how long kube-apiserver stays stopped before it starts again.
const apiServerGap = 5 * time.Second

// TestAPIServerRestart stops kube-apiserver (SIGTERM) and, 5s later, starts it again on the same port with
// the same certificates and the same etcd while 150 clients are being created and the operator
// is reconciling them. The operator must reconnect by itself (its watches, its writes) and
// converge, without duplicates and without exiting.
func TestAPIServerRestart(t *testing.T) {
	const n = 150
	e := setup(t, "apiserver-restart", 5*time.Minute)
	op := e.startOperator(operatorOptions{})

	var objs []*v1alpha1.OAuth2Client
	for _, name := range names("svc", 0, n) {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	begin := time.Now()
	cr := e.startCreating(objs, 4)
	var readyAtStop int
	if err := e.waitFor("a third of the resources created, 10 Ready", 2*time.Minute, func() (bool, error) {
		if cr.created.Load() < n/3 {
			return false, nil
		}
		var err error
		readyAtStop, err = e.readyCount()
		return readyAtStop >= 10, err
	}); err != nil {
		t.Fatal(err)
	}

	// The fault: kube-apiserver goes away and comes back on the same port.
	createdAtStop := cr.created.Load()
	restartAt := time.Now()
	if err := e.cp.stopAPIServer(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Since(restartAt)
	e.faultDelay(apiServerGap) // the API server stays away this long: part of the fault
	startAt := time.Now()
	if err := e.cp.startAPIServer(); err != nil {
		t.Fatal(err)
	}
	started := time.Since(startAt)
	down := time.Since(restartAt)
	t.Logf("kube-apiserver restarted after %s (%d created, %d Ready); unavailable for %s",
		restartAt.Sub(begin).Round(time.Millisecond), createdAtStop, readyAtStop, down.Round(time.Millisecond))
	backAt := time.Now()
	if err := cr.wait(); err != nil {
		t.Fatal(err)
	}

	converge, snap, convergeErr := e.waitConverged(backAt, n, 3*time.Minute)
	lost, duplicates, tokenFailures := n, -1, -1
	var tokenErrs []string
	leaks := -1
	if snap != nil {
		tl := snap.tally()
		lost, duplicates = tl.Missing+(n-tl.Resources), tl.Duplicates
		tokenFailures, tokenErrs = e.checkTokens(snap, snap.liveNames())
		leaks = e.secretsInLogs(snap)
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}
	e.report(converge, convergeErr, lost, duplicates,
		kv("n", n), kv("apiserverDown", down), kv("stopTook", stopped), kv("gap", apiServerGap), kv("startTook", started),
		kv("conflictsInOperatorLog", e.countInLog("operator", "the object has been modified")), kv("createdAtStop", createdAtStop), kv("readyAtStop", readyAtStop),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, n)), kv("secretsInLogs", leaks), kv("operatorExited", op.exited()), kv("total", time.Since(begin)))

	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if op.exited() {
		t.Errorf("the operator exited when the API server went away (it should reconnect): %v", op.ExitErr())
	}
}
