//go:build fault

package fault

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The phases of TestSlowAndHangingHydra, in order, while 100 clients are being created.
var slowPhases = []struct {
	mode  proxyMode
	delay time.Duration // of each answer, for lateAnswer
	lasts time.Duration
}{
	{lateAnswer, 300 * time.Millisecond, 5 * time.Second},  // slow, but within --hydra-timeout
	{lateAnswer, 1500 * time.Millisecond, 8 * time.Second}, // Hydra does the work; the answer comes after the timeout
	{hang, 0, 10 * time.Second},                            // Hydra never answers
}

// goroutineMargin is how far above its idle baseline the operator's goroutine count may stay
// once the faults are over and the work is done.
const goroutineMargin = 10

// TestSlowAndHangingHydra puts a proxy in front of Hydra that first answers slowly, then
// answers only after the operator's --hydra-timeout=1s (the write happened; the answer is
// lost), then hangs, while 100 clients are being created; then heals. Everything must converge
// without duplicates, and the operator's goroutines must return to their baseline: timed-out
// requests must not leave goroutines behind.
func TestSlowAndHangingHydra(t *testing.T) {
	const warm, n = 20, 100
	e := setup(t, "slow-hydra", 5*time.Minute)
	proxy, err := startFaultProxy(e.hydra.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.close)
	op := e.startOperator(operatorOptions{HydraAdminURL: proxy.URL(), Metrics: true, Args: []string{"--hydra-timeout=1s"}})

	// Warm up: some clients, converged, then the idle goroutine count.
	var warmObjs []*v1alpha1.OAuth2Client
	for _, name := range names("warm", 0, warm) {
		warmObjs = append(warmObjs, serviceClient(e.ns, name, "fault.read"))
	}
	if err := e.startCreating(warmObjs, 4).wait(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.waitConverged(time.Now(), warm, time.Minute); err != nil {
		t.Fatal(err)
	}
	baseline, err := e.idleGoroutines(op, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("idle baseline: %d goroutines", baseline)

	// The faults, while n more clients are being created.
	sampler := e.sampleGoroutines(op)
	var objs []*v1alpha1.OAuth2Client
	for _, name := range names("svc", 0, n) {
		objs = append(objs, serviceClient(e.ns, name, "fault.read"))
	}
	faultStart := time.Now()
	cr := e.startCreating(objs, 4)
	// abandonedLate counts the requests the operator gave up on during the phase whose answers
	// come after --hydra-timeout: with the timeout honoured, each of them; were it ignored (the
	// default is 10s), none, as every answer comes within 1.5s.
	abandonedLate := 0
	for _, ph := range slowPhases {
		before := proxy.counts().Abandoned
		proxy.set(ph.mode, ph.delay)
		t.Logf("proxy: %s (delay %s) for %s", ph.mode, ph.delay, ph.lasts)
		e.faultDelay(ph.lasts) // the length of the phase is the fault
		if ph.mode == lateAnswer && ph.delay > time.Second {
			abandonedLate = proxy.counts().Abandoned - before
		}
	}
	proxy.set(pass, 0)
	healedAt := time.Now()
	if err := cr.wait(); err != nil {
		t.Fatal(err)
	}
	readyAtHeal, _ := e.readyCount()

	converge, snap, convergeErr := e.waitConverged(healedAt, warm+n, 3*time.Minute)
	lost, duplicates, tokenFailures := warm+n, -1, -1
	var tokenErrs []string
	leaks := -1
	if snap != nil {
		tl := snap.tally()
		lost, duplicates = tl.Missing+(warm+n-tl.Resources), tl.Duplicates
		tokenFailures, tokenErrs = e.checkTokens(snap, snap.liveNames())
		leaks = e.secretsInLogs(snap)
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}

	// Back to the baseline? First within the margin, then the settled (lowest) value over the
	// same window as the baseline's.
	final := -1
	settleBegin := time.Now()
	settleErr := e.waitFor("goroutines back to the baseline", time.Minute, func() (bool, error) {
		g, err := goroutines(e.ctx, op)
		if err == nil {
			final = g
		}
		return err == nil && g <= baseline+goroutineMargin, err
	})
	settle := time.Since(settleBegin)
	if settleErr == nil {
		if low, err := e.idleGoroutines(op, 4*time.Second); err == nil {
			final = low
		}
	}
	peak := sampler.stop()
	samples, _ := testenv.ScrapeMetrics(e.ctx, op.metricsURL)
	hydraErrors, _ := samples.Sum("oauth2_client_operator_hydra_requests_total", map[string]string{"code": "error"})
	pc := proxy.counts()

	e.report(converge, convergeErr, lost, duplicates,
		kv("n", n), kv("timeout", "1s"), kv("faultFor", healedAt.Sub(faultStart)), kv("readyAtHeal", fmt.Sprintf("%d/%d", readyAtHeal, warm+n)),
		kv("goroutinesBaseline", baseline), kv("goroutinesPeak", peak), kv("goroutinesFinal", final), kv("goroutinesSettle", settle),
		kv("hydraRequestErrors", int(hydraErrors)), kv("abandonedAtProxy", pc.Abandoned), kv("abandonedLateAnswers", abandonedLate), kv("maxInflight", pc.MaxInflight),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, warm+n)), kv("secretsInLogs", leaks), kv("operatorExited", op.exited()))

	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	// The faults must have bitten, or converging proves nothing: the operator timed out on the
	// late answers (--hydra-timeout=1s honoured) and counted its failed requests, and so, having
	// converged, it retried them.
	if abandonedLate == 0 {
		t.Errorf("no request timed out while Hydra answered after 1.5s: --hydra-timeout=1s was not applied")
	}
	if hydraErrors == 0 || pc.Abandoned == 0 {
		t.Errorf("the faults went unnoticed: %v failed Hydra requests counted, %d abandoned at the proxy", hydraErrors, pc.Abandoned)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if settleErr != nil {
		t.Errorf("the operator's goroutines did not return to baseline %d (+%d): %d at the end: %v", baseline, goroutineMargin, final, settleErr)
	}
	if op.exited() {
		t.Errorf("the operator exited: %v", op.ExitErr())
	}
}

// goroutines scrapes go_goroutines from the operator's metrics endpoint.
func goroutines(ctx context.Context, op *operatorProc) (int, error) {
	samples, err := testenv.ScrapeMetrics(ctx, op.metricsURL)
	if err != nil {
		return 0, err
	}
	n, found := samples.Sum("go_goroutines", nil)
	if !found {
		return 0, fmt.Errorf("no go_goroutines at %s", op.metricsURL)
	}
	return int(n), nil
}

// idleGoroutines samples the goroutine count of an idle operator over window and returns the
// lowest value (idle keep-alive connections come and go with the periodic drift scan).
func (e *env) idleGoroutines(op *operatorProc, window time.Duration) (int, error) {
	low := -1
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		g, err := goroutines(e.ctx, op)
		if err != nil {
			return 0, err
		}
		if low < 0 || g < low {
			low = g
		}
		select {
		case <-e.ctx.Done():
			return 0, e.ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return low, nil
}

// goroutineSampler records the highest goroutine count seen while it runs.
type goroutineSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak int
}

func (e *env) sampleGoroutines(op *operatorProc) *goroutineSampler {
	s := &goroutineSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			if g, err := goroutines(e.ctx, op); err == nil {
				s.mu.Lock()
				s.peak = max(s.peak, g)
				s.mu.Unlock()
			}
			select {
			case <-s.done:
				return
			case <-e.ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *goroutineSampler) stop() int {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
