//go:build fault

package fault

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// Leader election timing of TestLeaderFailover: short, so a takeover takes seconds.
const (
	leaseDuration = 4 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = 1 * time.Second
	// leaseName is the operator's fixed Lease (internal/operator LeaderElectionID).
	leaseName = "oauth2-client-operator.clientoperator.dev"
)

// takeoverBound is the longest a standby may take to lead once the leader is gone without
// releasing the lease. client-go tries every retry period stretched by a random jitter of up to
// 1.2 times (so up to 2.2 periods); the standby sees the leader's last renewal up to one such
// interval late, counts the lease duration from then, and tries to acquire up to one more
// interval after the lease expired. One second of scheduling slack on a busy 2-core machine on
// top.
const takeoverBound = leaseDuration + 2*retryPeriod*22/10 + time.Second

// resumedExitBound is the longest a leader resumed after its lease expired may take to exit.
// When it wakes up, its renew deadline has long passed: the renew loop ends at its next check,
// at most one retry period away, after the renewal attempt in flight (bounded by the renew
// deadline) returns; controller-runtime then stops the manager at once. Five seconds of slack for
// the shutdown and a busy machine.
const resumedExitBound = renewDeadline + retryPeriod + 5*time.Second

// TestLeaderFailover runs two replicas with leader election, each behind its own counting proxy
// to Hydra, so every Hydra write is attributed to one replica. Only the leader may write; when
// it is SIGKILLed (no lease release) in the middle of creating 150 clients, the standby takes
// over within the lease time and finishes the work, and at no time do both write.
func TestLeaderFailover(t *testing.T) {
	const n = 150
	e := setup(t, "leader", 5*time.Minute)
	r := startReplicaPair(e)
	proxyA, proxyB, a, b, holderA := r.proxyA, r.proxyB, r.a, r.b, r.holderA

	var objs []*v1alpha1.OAuth2Client
	for _, name := range names("svc", 0, n) {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	begin := time.Now()
	cr := e.startCreating(objs, 4)
	if err := e.waitFor("replica A has made a third of the creates", 2*time.Minute, func() (bool, error) {
		return proxyA.counts().Writes >= n/3, nil
	}); err != nil {
		t.Fatal(err)
	}

	// The fault: the leader dies without releasing the lease.
	a.kill()
	killedAt := time.Now()
	writesA := proxyA.counts().Writes
	standbyBefore := proxyB.counts()
	t.Logf("leader A SIGKILLed after %s and %d Hydra writes; standby B had made %d writes, %d reads",
		killedAt.Sub(begin).Round(time.Millisecond), writesA, standbyBefore.Writes, standbyBefore.Reads)

	lease := e.waitTakeover(holderA)
	acquiredAt := lease.Spec.AcquireTime.Time
	takeover := acquiredAt.Sub(killedAt)
	if err := cr.wait(); err != nil {
		t.Fatal(err)
	}

	converge, snap, convergeErr := e.waitConverged(killedAt, n, 3*time.Minute)
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
	ca, cb := proxyA.counts(), proxyB.counts()
	// Writes by B before it held the lease, and by A after it was killed (in-flight at most).
	bEarly := proxyB.writesBetween(time.Time{}, acquiredAt)
	aLate := proxyA.writesBetween(killedAt, time.Now().Add(time.Hour))
	overlap := !ca.LastWrite.IsZero() && !cb.FirstWrite.IsZero() && !ca.LastWrite.Before(cb.FirstWrite)
	firstWriteB := time.Duration(0)
	if !cb.FirstWrite.IsZero() {
		firstWriteB = cb.FirstWrite.Sub(killedAt)
	}
	e.report(converge, convergeErr, lost, duplicates,
		kv("n", n), kv("takeover", takeover), kv("takeoverBound", takeoverBound), kv("standbyFirstWriteAfterKill", firstWriteB),
		kv("writesA", ca.Writes), kv("writesB", cb.Writes), kv("writesBBeforeTakeover", bEarly), kv("writesAAfterKill", aLate),
		kv("overlap", overlap), kv("lease", fmt.Sprintf("%s/%s/%s", leaseDuration, renewDeadline, retryPeriod)),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, n)), kv("secretsInLogs", leaks))

	if bEarly != 0 || standbyBefore.Writes != 0 {
		t.Errorf("the standby wrote to Hydra before it held the lease: %d writes before %s (%d before the kill)", bEarly, acquiredAt.Format(time.RFC3339Nano), standbyBefore.Writes)
	}
	if aLate != 0 || overlap {
		t.Errorf("both replicas wrote: A's last write %s, B's first %s, A's writes after the kill %d", ca.LastWrite.Format(time.RFC3339Nano), cb.FirstWrite.Format(time.RFC3339Nano), aLate)
	}
	if takeover > takeoverBound {
		t.Errorf("takeover took %s, more than %s (lease %s + retry margin)", takeover, takeoverBound, leaseDuration)
	}
	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if b.exited() {
		t.Errorf("replica B exited: %v", b.ExitErr())
	}
}

// TestLeaderPausedThenResumed is the dangerous case of leader election: a leader that is not
// dead but paused (SIGSTOP, as a long stop-the-world pause, a frozen VM or a throttled container
// would) and so still believes it leads when it wakes up. The standby takes over once the lease
// has expired; the old leader, resumed with SIGCONT, must find that it lost the lease and stop
// before it writes: no Hydra write and no API write of it may arrive after the standby acquired
// the lease, and the process exits (controller-runtime ends it when leadership is lost).
func TestLeaderPausedThenResumed(t *testing.T) {
	const n = 150
	e := setup(t, "leader-paused", 5*time.Minute)
	r := startReplicaPair(e)

	var objs []*v1alpha1.OAuth2Client
	for _, name := range names("svc", 0, n) {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	cr := e.startCreating(objs, 4)
	if err := e.waitFor("replica A has made a third of the creates", 2*time.Minute, func() (bool, error) {
		return r.proxyA.counts().Writes >= n/3, nil
	}); err != nil {
		t.Fatal(err)
	}

	// The fault: the leader stops in the middle of its work, holding the lease.
	if err := syscall.Kill(r.a.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	pausedAt := time.Now()
	t.Cleanup(func() { _ = syscall.Kill(r.a.Pid(), syscall.SIGCONT) }) // runs before the kill
	lease := e.waitTakeover(r.holderA)
	acquiredAt := lease.Spec.AcquireTime.Time
	takeover := acquiredAt.Sub(pausedAt)
	// Keep A paused until B is at work on the same resources, so that A wakes up to a world that
	// changed under it.
	if err := e.waitFor("replica B writes to Hydra", time.Minute, func() (bool, error) {
		return r.proxyB.counts().Writes > 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(r.a.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumedAt := time.Now()
	exitErr := e.waitFor("the resumed old leader exits", resumedExitBound, func() (bool, error) {
		return r.a.exited(), nil
	})
	exitedAfter := time.Since(resumedAt)
	if err := cr.wait(); err != nil {
		t.Fatal(err)
	}

	converge, snap, convergeErr := e.waitConverged(resumedAt, n, 3*time.Minute)
	lost, duplicates, tokenFailures := n, -1, -1
	var tokenErrs []string
	if snap != nil {
		tl := snap.tally()
		lost, duplicates = tl.Missing+(n-tl.Resources), tl.Duplicates
		tokenFailures, tokenErrs = e.checkTokens(snap, snap.liveNames())
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}
	far := time.Now().Add(time.Hour)
	hydraLateA := r.proxyA.writesBetween(acquiredAt, far)
	hydraEarlyB := r.proxyB.writesBetween(time.Time{}, acquiredAt)
	apiLateA, auditErr := e.cp.apiWrites("replica-a", acquiredAt)
	apiBeforeA, _ := e.cp.apiWrites("replica-a", time.Time{})
	e.report(converge, convergeErr, lost, duplicates,
		kv("n", n), kv("takeover", takeover), kv("takeoverBound", takeoverBound), kv("pausedFor", resumedAt.Sub(pausedAt)),
		kv("oldLeaderExitedAfter", exitedAfter), kv("writesA", r.proxyA.counts().Writes), kv("writesB", r.proxyB.counts().Writes),
		kv("hydraWritesAAfterTakeover", hydraLateA), kv("apiWritesAAfterTakeover", len(apiLateA)),
		kv("hydraWritesBBeforeTakeover", hydraEarlyB), kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, n)))

	// The audit log must hold A's writes from before the pause, or the check after it proves
	// nothing.
	if auditErr != nil || len(apiBeforeA) == 0 {
		t.Errorf("the audit log shows no API write of replica A at all (%v): the attribution is broken", auditErr)
	}
	if hydraLateA != 0 || len(apiLateA) != 0 {
		t.Errorf("the old leader wrote after the standby acquired the lease at %s: %d Hydra writes, API writes %v",
			acquiredAt.Format(time.RFC3339Nano), hydraLateA, apiLateA)
	}
	if hydraEarlyB != 0 {
		t.Errorf("the standby wrote to Hydra %d times before it held the lease", hydraEarlyB)
	}
	if exitErr != nil {
		t.Errorf("%v: a leader that lost its lease must stop", exitErr)
	} else if e.countInLog("operator-a", "leader election lost") == 0 {
		t.Errorf("the old leader exited (%v), but not because it lost the lease", r.a.ExitErr())
	}
	if takeover > takeoverBound || takeover < leaseDuration-renewDeadline {
		t.Errorf("takeover took %s, outside [%s, %s]: sooner, the standby took a lease the leader still held; later, it missed the expiry", takeover, leaseDuration-renewDeadline, takeoverBound)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if r.b.exited() {
		t.Errorf("replica B exited: %v", r.b.ExitErr())
	}
}

// replicaPair is two operator replicas with leader election, each behind its own counting
// proxy to Hydra and with its own API user (replica-a, replica-b), so that every Hydra write and
// every API write is attributed to one replica. A is the leader, B the standby.
type replicaPair struct {
	proxyA, proxyB *faultProxy
	a, b           *operatorProc
	holderA        string // A's identity in the lease
}

func startReplicaPair(e *env) *replicaPair {
	e.t.Helper()
	r := &replicaPair{}
	var err error
	if r.proxyA, err = startFaultProxy(e.hydra.AdminURL()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(r.proxyA.close)
	if r.proxyB, err = startFaultProxy(e.hydra.AdminURL()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(r.proxyB.close)
	kubeconfigA, err := e.cp.userKubeconfig("replica-a")
	if err != nil {
		e.t.Fatal(err)
	}
	kubeconfigB, err := e.cp.userKubeconfig("replica-b")
	if err != nil {
		e.t.Fatal(err)
	}
	args := []string{
		"--leader-elect", "--leader-election-namespace=" + e.ns,
		"--leader-election-lease-duration=" + leaseDuration.String(),
		"--leader-election-renew-deadline=" + renewDeadline.String(),
		"--leader-election-retry-period=" + retryPeriod.String(),
	}

	// Replica A alone first, so that it is the leader; then the standby B.
	r.a = e.startOperator(operatorOptions{HydraAdminURL: r.proxyA.URL(), Args: args, Metrics: true, Log: "operator-a", Kubeconfig: kubeconfigA})
	if err := e.waitFor("replica A holds the lease", 30*time.Second, func() (bool, error) {
		lease, err := e.lease()
		if err == nil && lease.Spec.HolderIdentity != nil {
			r.holderA = *lease.Spec.HolderIdentity
		}
		return r.holderA != "", client.IgnoreNotFound(err)
	}); err != nil {
		e.t.Fatal(err)
	}
	r.b = e.startOperator(operatorOptions{HydraAdminURL: r.proxyB.URL(), Args: args, Metrics: true, Log: "operator-b", Kubeconfig: kubeconfigB})
	if lead, err := leaderStatus(e, r.b); err != nil || lead {
		e.t.Fatalf("replica B should be a standby: leader_election_master_status=%v, %v", lead, err)
	}
	return r
}

// waitTakeover waits until a replica other than holder holds the lease, and returns the lease.
func (e *env) waitTakeover(holder string) *coordinationv1.Lease {
	e.t.Helper()
	var lease *coordinationv1.Lease
	if err := e.waitFor("replica B takes the lease", 2*takeoverBound+10*time.Second, func() (bool, error) {
		l, err := e.lease()
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == holder || *l.Spec.HolderIdentity == "" {
			return false, err
		}
		lease = l
		return true, nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return lease
}

func (e *env) lease() (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	err := e.k8s.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: leaseName}, l)
	return l, err
}

// leaderStatus reads controller-runtime's leader_election_master_status gauge of a replica.
func leaderStatus(e *env, op *operatorProc) (bool, error) {
	samples, err := testenv.ScrapeMetrics(e.ctx, op.metricsURL)
	if err != nil {
		return false, err
	}
	status, _ := samples.Sum("leader_election_master_status", nil)
	return status > 0, nil
}
