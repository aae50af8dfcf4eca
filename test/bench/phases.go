// The benchmark's phases (raw path, converge, idle, restart, update, delete, foreign Secrets),
// one function each. Longer than 400 lines because each phase is a measurement read top to
// bottom; split, the order in which a run does them would be lost.

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

const (
	rawNamespace = "bench-raw"
	rawIDPrefix  = "bench-raw-"
	pollInterval = 100 * time.Millisecond
	pageSize     = 1000 // Hydra's maximum page size, for the harness's checks
)

var (
	scopesBefore = []string{"read", "write"}
	scopesAfter  = []string{"read", "write", "admin"}
)

func clientNamespace(i, namespaces int) string { return fmt.Sprintf("bench-%02d", i%namespaces) }
func clientName(i int) string                  { return fmt.Sprintf("c-%05d", i) }

// runPhases runs every phase in order; each one needs the state the previous one left.
func (b *bench) runPhases(ctx context.Context) error {
	var nss []string
	for i := range b.cfg.namespaces {
		nss = append(nss, clientNamespace(i, b.cfg.namespaces))
	}
	nss = append(nss, rawNamespace)
	if err := b.createNamespaces(ctx, nss); err != nil {
		return err
	}
	if !b.cfg.skipRaw {
		if err := b.rawPath(ctx); err != nil {
			return fmt.Errorf("raw path: %w", err)
		}
	}
	run, err := b.startOperator(ctx, b.cfg.syncPeriod, "converge")
	if err != nil {
		return err
	}
	b.res.Settings.OperatorArgs = run.Args
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"converge", b.converge},
		{"idle", b.idle},
		{"update", b.update},
		{"restart", b.restart},
		{"idle with default flags", b.idleDefault},
		{"restart with unrelated Secrets", b.restartWithSecrets},
		{"delete", b.deleteAll},
		{"server isolation", b.serverIsolation},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			if strings.HasPrefix(err.Error(), s.name) {
				return err
			}
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if _, err := b.stopOperator("end"); err != nil {
		logf("the operator's exit: %v", err)
	}
	return nil
}

func (b *bench) createNamespaces(ctx context.Context, names []string) error {
	for _, ns := range names {
		err := b.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	return nil
}

// ---- raw path ------------------------------------------------------------------------------

// rawPath does, from the harness, the work the operator cannot avoid for a new client: one
// Secret create and one Hydra create with a generated secret, on as many workers as the
// operator reconciles in parallel, through the same proxy. It runs before the operator starts
// and removes what it created afterwards.
func (b *bench) rawPath(ctx context.Context) error {
	n := b.cfg.n
	logf("raw path: %d x (Secret create + Hydra create) on %d workers", n, b.cfg.rawWorkers)
	before := b.proxy.Harness()
	cpuBefore := takeCPU(0)
	start := time.Now()
	err := parallel(ctx, b.cfg.rawWorkers, n, func(ctx context.Context, i int) error {
		id, secret := fmt.Sprintf("%s%05d", rawIDPrefix, i), newSecret()
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("raw-%05d", i), Namespace: rawNamespace, Labels: map[string]string{"bench": "raw"}},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"client_id": []byte(id), "client_secret": []byte(secret)},
		}
		if err := retry(ctx, 5, func() error { return b.k8s.Create(ctx, s) }); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		c := hydraClient{ClientID: id, ClientSecret: secret, GrantTypes: []string{"client_credentials"},
			Scope: strings.Join(scopesBefore, " "), TokenEndpointAuthMethod: "client_secret_basic", Owner: "bench-raw"}
		return retry(ctx, 5, func() error {
			err := b.hydraViaProxy.Create(ctx, c)
			if err != nil && strings.Contains(err.Error(), "HTTP 409") {
				return nil // an earlier attempt got through
			}
			return err
		})
	})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	b.res.Raw = RawResult{Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		Workers: b.cfg.rawWorkers, Hydra: b.proxy.Harness().Sub(before), CPU: takeCPU(0).since(cpuBefore)}
	logf("raw path: %d clients in %.1fs = %.0f/s", n, elapsed.Seconds(), b.res.Raw.PerSecond)

	// Clean up, so that neither the operator nor the checks below see any of it.
	cleanStart := time.Now()
	if err := parallel(ctx, b.cfg.rawWorkers, n, func(ctx context.Context, i int) error {
		return retry(ctx, 5, func() error { return b.hydraDirect.Delete(ctx, fmt.Sprintf("%s%05d", rawIDPrefix, i)) })
	}); err != nil {
		return fmt.Errorf("deleting the raw clients: %w", err)
	}
	if err := b.k8s.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(rawNamespace), client.MatchingLabels{"bench": "raw"}); err != nil {
		return fmt.Errorf("deleting the raw Secrets: %w", err)
	}
	err = b.waitUntil(ctx, "raw path clean-up", time.Minute, 500*time.Millisecond, func() string { return "Secrets or Hydra clients left" }, func() (bool, error) {
		var l corev1.SecretList
		if err := b.k8s.List(ctx, &l, client.InNamespace(rawNamespace), client.MatchingLabels{"bench": "raw"}, client.Limit(1)); err != nil {
			return false, err
		}
		if len(l.Items) > 0 {
			return false, nil
		}
		all, _, err := b.hydraDirect.List(ctx, pageSize, 10+n/pageSize)
		if err != nil {
			return false, err
		}
		for _, c := range all {
			if strings.HasPrefix(c.ClientID, rawIDPrefix) {
				return false, nil
			}
		}
		return true, nil
	})
	b.res.Raw.CleanupSeconds = time.Since(cleanStart).Seconds()
	return err
}

// ---- converge ------------------------------------------------------------------------------

func benchClient(i, namespaces int) *v1alpha1.OAuth2Client {
	return &v1alpha1.OAuth2Client{
		ObjectMeta: metav1.ObjectMeta{Name: clientName(i), Namespace: clientNamespace(i, namespaces), Labels: map[string]string{"bench": "scale"}},
		Spec: v1alpha1.OAuth2ClientSpec{
			GrantTypes: []v1alpha1.GrantType{"client_credentials"},
			Scopes:     append([]string(nil), scopesBefore...),
		},
	}
}

// converge creates the N resources from the harness and waits until every one is Ready for
// its generation with its Secret in place.
func (b *bench) converge(ctx context.Context) error {
	n := b.cfg.n
	apiBefore, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(b.op.Pid())
	logf("converge: creating %d OAuth2Clients on %d workers", n, b.cfg.createWorkers)
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		b.profileAPIServer(ctx, apiServerProfileSeconds(n))
	}()
	defer func() { <-profiled }()
	start := time.Now()
	var createSeconds float64
	createDone := make(chan error, 1)
	createCtx, cancelCreate := context.WithCancel(ctx)
	defer cancelCreate()
	go func() {
		err := parallel(createCtx, b.cfg.createWorkers, n, func(ctx context.Context, i int) error {
			return retry(ctx, 5, func() error {
				err := b.k8s.Create(ctx, benchClient(i, b.cfg.namespaces))
				if apierrors.IsAlreadyExists(err) {
					return nil
				}
				return err
			})
		})
		createSeconds = time.Since(start).Seconds()
		createDone <- err
	}()
	created := false
	err = b.waitUntil(ctx, "converge", b.cfg.phaseTimeout, pollInterval, func() string { return b.tracker.progress().String() }, func() (bool, error) {
		if !created {
			select {
			case err := <-createDone:
				created = true // the workers are done either way: nothing more to wait for
				if err != nil {
					return false, fmt.Errorf("creating the OAuth2Clients: %w", err)
				}
				logf("converge: created %d OAuth2Clients in %.1fs", n, createSeconds)
			default:
				return false, nil
			}
		}
		p := b.tracker.progress()
		return p.Present == n && p.Done == n, nil
	})
	if !created {
		cancelCreate()
		<-createDone //nolint:errcheck // only waiting: the workers stop with createCtx or their first error
	}
	if err != nil {
		return err
	}
	p := b.tracker.progress()
	hydra := b.proxy.Operator().Sub(hydraBefore)
	cpu := takeCPU(b.op.Pid()).since(cpuBefore)
	b.profileOperatorHeap(ctx, "operator-heap-converge.pprof")
	apiAfter, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	elapsed := p.LastDone.Sub(start)
	b.res.Converge = PhaseResult{
		Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(), CreateSeconds: createSeconds,
		Hydra: hydra, API: apiAfter.Sub(apiBefore), CPU: cpu,
	}
	if b.res.Raw.PerSecond > 0 {
		b.res.Converge.RatioToRaw = b.res.Converge.PerSecond / b.res.Raw.PerSecond
	}
	logf("converge: %d Ready in %.1fs = %.0f/s; Hydra %s; API %s", n, elapsed.Seconds(), b.res.Converge.PerSecond, countsText(hydra, 1), apiText(b.res.Converge.API, 1))
	return nil
}

// ---- idle ----------------------------------------------------------------------------------

// idle waits until the operator has stopped writing after converging (at most a minute), then
// counts its Hydra requests and API requests over the idle window, which spans at least one
// full sync period; and reads its memory.
func (b *bench) idle(ctx context.Context) error {
	settleStart := time.Now()
	_, err := b.waitQuiet(ctx, "idle: settling", 3*time.Second, time.Minute, func() (string, bool, error) {
		api, err := b.apiRequests(ctx)
		if err != nil {
			return "", false, err
		}
		return fmt.Sprint(b.proxy.Operator().Writes(), api.Writes()), true, nil
	})
	settle := time.Since(settleStart)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		logf("idle: the operator kept writing for a minute after converging; measuring anyway")
	}
	apiBefore, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(b.op.Pid())
	start := time.Now()
	window := b.cfg.idleWindow
	logf("idle: watching for %s (sync period %s)", window, b.cfg.syncPeriod)
	if err := b.waitUntil(ctx, "idle", window+time.Minute, 250*time.Millisecond, func() string {
		return fmt.Sprintf("%.0fs of %s; Hydra %s", time.Since(start).Seconds(), window, countsText(b.proxy.Operator().Sub(hydraBefore), 1))
	}, func() (bool, error) {
		return time.Since(start) >= window, nil
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	hydra := b.proxy.Operator().Sub(hydraBefore)
	apiAfter, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	syncs := elapsed.Seconds() / b.cfg.syncPeriod.Seconds()
	b.res.Idle = IdleResult{
		WindowSeconds: elapsed.Seconds(), SyncPeriods: syncs, SettleSeconds: settle.Seconds(),
		Hydra: hydra, API: apiAfter.Sub(apiBefore),
		HydraReadsPerSync: float64(hydra.Reads()) / syncs, Scans: hydra.ListStarts, CPU: takeCPU(b.op.Pid()).since(cpuBefore),
	}
	if hydra.ListStarts > 0 {
		b.res.Idle.HydraReadsPerScan = float64(hydra.Reads()) / float64(hydra.ListStarts)
	}
	mem, err := readMemory(b.op.Pid(), fmt.Sprintf("after converge and the idle window (N=%d, no unrelated Secrets)", b.cfg.n))
	if err != nil {
		return err
	}
	b.res.Memory.Converge = mem
	logf("idle: %.1fs (%.2f sync periods): Hydra %s; API %s; VmHWM %d MiB", elapsed.Seconds(), syncs, countsText(hydra, 1), apiText(b.res.Idle.API, 1), mem.VMHWMKB/1024)
	return nil
}

// waitQuiet polls sig every 250ms until it has not changed for quietFor while ready is true.
// It returns when the signature last changed.
func (b *bench) waitQuiet(ctx context.Context, what string, quietFor, timeout time.Duration, sig func() (string, bool, error)) (time.Time, error) {
	last, prev, ready := time.Now(), "", false
	err := b.waitUntil(ctx, what, timeout, 250*time.Millisecond, func() string {
		return fmt.Sprintf("last change %.1fs ago; %s", time.Since(last).Seconds(), prev)
	}, func() (bool, error) {
		s, ok, err := sig()
		if err != nil {
			return false, err
		}
		ready = ok
		if s != prev {
			prev, last = s, time.Now()
		}
		return ready && time.Since(last) >= quietFor, nil
	})
	return last, err
}

// ---- update --------------------------------------------------------------------------------

// update adds a scope to every spec with a merge patch and waits until Hydra holds the new
// scope for every client: the statuses tell when to look, a list of Hydra confirms it, and
// the proxy tells when the last write to Hydra was answered.
func (b *bench) update(ctx context.Context) error {
	n := b.cfg.n
	apiBefore, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(b.op.Pid())
	b.tracker.expectNewGeneration()
	patch := []byte(fmt.Sprintf(`{"spec":{"scopes":["%s"]}}`, strings.Join(scopesAfter, `","`)))
	logf("update: patching %d OAuth2Clients (scopes %v -> %v)", n, scopesBefore, scopesAfter)
	start := time.Now()
	if err := parallel(ctx, b.cfg.createWorkers, n, func(ctx context.Context, i int) error {
		obj := &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Name: clientName(i), Namespace: clientNamespace(i, b.cfg.namespaces)}}
		return retry(ctx, 5, func() error { return b.k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)) })
	}); err != nil {
		return fmt.Errorf("patching: %w", err)
	}
	patchSeconds := time.Since(start).Seconds()
	if err := b.waitUntil(ctx, "update: statuses", b.cfg.phaseTimeout, pollInterval, func() string { return b.tracker.progress().String() }, func() (bool, error) {
		p := b.tracker.progress()
		return p.Present == n && p.Done == n, nil
	}); err != nil {
		return err
	}
	statusDone := b.tracker.progress().LastDone
	cpu := takeCPU(b.op.Pid()).since(cpuBefore) // before the harness's own Hydra lists
	ids := b.tracker.clientIDs()
	want := strings.Join(sortedWords(strings.Join(scopesAfter, " ")), " ")
	polls, behind := 0, 0
	if err := b.waitUntil(ctx, "update: Hydra", 2*time.Minute, time.Second, func() string { return fmt.Sprintf("%d clients without the new scope at Hydra", behind) }, func() (bool, error) {
		polls++
		all, _, err := b.hydraDirect.List(ctx, pageSize, 10+n/pageSize)
		if err != nil {
			return false, err
		}
		ok := 0
		for _, c := range all {
			if ids[c.ClientID] && strings.Join(sortedWords(c.Scope), " ") == want {
				ok++
			}
		}
		behind = len(ids) - ok
		return behind == 0 && len(ids) == n, nil
	}); err != nil {
		return err
	}
	hydra := b.proxy.Operator().Sub(hydraBefore)
	apiAfter, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	// Hydra reflected every change when the last write the operator made was answered.
	reflected := time.Time{}
	for _, c := range []string{classPut, classPatch, classPost} {
		if t := b.proxy.LastSuccess(c); t.After(reflected) {
			reflected = t
		}
	}
	if reflected.Before(start) {
		reflected = statusDone
	}
	elapsed := reflected.Sub(start)
	b.res.Update = PhaseResult{
		Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(), CreateSeconds: patchSeconds,
		StatusSeconds: statusDone.Sub(start).Seconds(), HydraPolls: polls,
		Hydra: hydra, API: apiAfter.Sub(apiBefore), CPU: cpu,
	}
	if b.res.Raw.PerSecond > 0 {
		b.res.Update.RatioToRaw = b.res.Update.PerSecond / b.res.Raw.PerSecond
	}
	logf("update: Hydra reflects all %d after %.1fs (statuses after %.1fs) = %.0f/s; Hydra %s; API %s", n, elapsed.Seconds(),
		b.res.Update.StatusSeconds, b.res.Update.PerSecond, countsText(hydra, 1), apiText(b.res.Update.API, 1))
	return nil
}

func sortedWords(s string) []string {
	w := strings.Fields(s)
	sort.Strings(w)
	return w
}

// ---- restarts ------------------------------------------------------------------------------

// restart stops the operator with SIGTERM and starts it again with every client Ready and
// nothing to change; it counts Hydra requests and API requests until the operator is idle.
func (b *bench) restart(ctx context.Context) error {
	r, err := b.restartOnce(ctx, fmt.Sprintf("restart (N=%d Ready, no unrelated Secrets)", b.cfg.n), b.cfg.restartSyncPeriod)
	if err != nil {
		return err
	}
	b.res.Restart = r
	b.res.Memory.Restart = r.Memory
	return nil
}

// idleDefault restarts the operator with its default flags (no --sync-period, so the drift scan
// runs every 30 s, its default --drift-interval) and, once it is idle, counts what it does over a
// window of several scans with nothing to change: the standing cost of the default, as Hydra
// requests per minute and the operator's CPU as a share of one core.
func (b *bench) idleDefault(ctx context.Context) error {
	window := b.cfg.defaultIdleWindow
	if window <= 0 {
		logf("idle with default flags: skipped (-default-idle-window=0)")
		return nil
	}
	run, err := b.restartOnce(ctx, fmt.Sprintf("idle with default flags (N=%d Ready)", b.cfg.n), 0)
	if err != nil {
		return err
	}
	apiBefore, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(b.op.Pid())
	start := time.Now()
	logf("idle with default flags: watching for %s", window)
	if err := b.waitUntil(ctx, "idle with default flags", window+time.Minute, 250*time.Millisecond, func() string {
		return fmt.Sprintf("%.0fs of %s; Hydra %s", time.Since(start).Seconds(), window, countsText(b.proxy.Operator().Sub(hydraBefore), 1))
	}, func() (bool, error) {
		return time.Since(start) >= window, nil
	}); err != nil {
		return err
	}
	// A scan still listing at the end of the window is counted to its last page, so that every
	// scan counted is whole (the window began in a quiet moment, between scans).
	if _, err := b.waitQuiet(ctx, "idle with default flags: the last scan", time.Second, 30*time.Second, func() (string, bool, error) {
		return fmt.Sprint(b.proxy.Operator().Sub(hydraBefore).Total()), true, nil
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	cpu := takeCPU(b.op.Pid()).since(cpuBefore)
	hydra := b.proxy.Operator().Sub(hydraBefore)
	apiAfter, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	minutes := elapsed.Minutes()
	r := &IdleDefaultResult{
		Args: run.Args, StartToIdleSeconds: run.IdleAfterSeconds, WindowSeconds: elapsed.Seconds(),
		Hydra: hydra, API: apiAfter.Sub(apiBefore), Scans: hydra.ListStarts, CPU: cpu,
		HydraPerMinute:      float64(hydra.Total()) / minutes,
		OperatorCorePercent: 100 * cpu["operator"] / elapsed.Seconds(),
		HydraCorePercent:    100 * cpu["hydra"] / elapsed.Seconds(),
	}
	if hydra.ListStarts > 0 {
		r.HydraRequestsPerScan = float64(hydra.Total()) / float64(hydra.ListStarts)
		r.ScanIntervalSeconds = elapsed.Seconds() / float64(hydra.ListStarts)
	}
	b.res.IdleDefault = r
	logf("idle with default flags: %.1fs: Hydra %s (%.1f per minute); API %s; operator %.2f%% of one core",
		elapsed.Seconds(), countsText(hydra, 1), r.HydraPerMinute, apiText(r.API, 1), r.OperatorCorePercent)
	return nil
}

// restartWithSecrets stops the operator, creates the unrelated Secrets, and restarts it the
// same way as restart: the same N clients, the same phase, the same flags.
func (b *bench) restartWithSecrets(ctx context.Context) error {
	if _, err := b.stopOperator("before the unrelated Secrets"); err != nil {
		logf("the operator's exit: %v", err)
	}
	if err := b.createUnrelatedSecrets(ctx); err != nil {
		return err
	}
	r, err := b.restartOnce(ctx, fmt.Sprintf("restart (N=%d Ready, %d unrelated Secrets)", b.cfg.n, b.cfg.unrelatedSecrets), b.cfg.restartSyncPeriod)
	if err != nil {
		return err
	}
	b.res.RestartWithSecrets = r
	b.res.Memory.RestartWithSecrets = r.Memory
	if r.Memory.VMHWMKB > 0 && b.res.Memory.Restart.VMHWMKB > 0 {
		b.res.Memory.Ratio = float64(r.Memory.VMHWMKB) / float64(b.res.Memory.Restart.VMHWMKB)
	}
	return nil
}

// restartOnce stops the operator and starts it again with syncPeriod (0: the operator's
// default), and waits until it is idle.
func (b *bench) restartOnce(ctx context.Context, label string, syncPeriod time.Duration) (*OperatorRun, error) {
	n := b.cfg.n
	shutdown, exitErr := b.stopOperator(label)
	if exitErr != nil {
		logf("%s: the operator's exit after SIGTERM: %v", label, exitErr)
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(0)
	start := time.Now()
	run, err := b.startOperator(ctx, syncPeriod, label)
	if err != nil {
		return nil, err
	}
	run.ShutdownSeconds = shutdown
	if exitErr != nil {
		run.PreviousExit = exitErr.Error()
	}
	var reconciles float64
	var reconcileFound bool
	last, err := b.waitQuiet(ctx, label, b.cfg.quiet, b.cfg.phaseTimeout, func() (string, bool, error) {
		m, err := scrapeMetrics(ctx, b.metrics)
		if err != nil {
			return "", false, err
		}
		api := apiRequests(m)
		var total int64
		for _, v := range api {
			total += v
		}
		reconciles, reconcileFound = m.Sum("controller_runtime_reconcile_total", map[string]string{"controller": "oauth2client"})
		depth, depthFound := m.Sum("workqueue_depth", map[string]string{"name": "oauth2client"})
		ready := (!reconcileFound || reconciles >= float64(n)) && (!depthFound || depth == 0)
		return fmt.Sprintf("Hydra requests %d, API requests %d, reconciles %.0f (waiting for >= %d), queue depth %.0f",
			b.proxy.Operator().Sub(hydraBefore).Total(), total, reconciles, n, depth), ready, nil
	})
	if err != nil {
		return nil, err
	}
	api, err := b.apiRequests(ctx)
	if err != nil {
		return nil, err
	}
	run.Hydra = b.proxy.Operator().Sub(hydraBefore)
	run.API = api
	run.CPU = takeCPU(b.op.Pid()).since(cpuBefore)
	run.IdleAfterSeconds = last.Sub(start).Seconds()
	if reconcileFound {
		run.Reconciles = int64(reconciles)
	}
	mem, err := readMemory(b.op.Pid(), label+", when idle")
	if err != nil {
		return nil, err
	}
	run.Memory = mem
	logf("%s: idle after %.1fs: Hydra %s; API %s; reconciles %d; VmHWM %d MiB, VmRSS %d MiB", label, run.IdleAfterSeconds,
		countsText(run.Hydra, 1), apiText(api, 1), run.Reconciles, mem.VMHWMKB/1024, mem.VMRSSKB/1024)
	return run, nil
}

// createUnrelatedSecrets creates Secrets the operator has nothing to do with, spread across
// their own namespaces, while the operator is stopped.
func (b *bench) createUnrelatedSecrets(ctx context.Context) error {
	count, nsCount := b.cfg.unrelatedSecrets, b.cfg.unrelatedNS
	var nss []string
	for i := range nsCount {
		nss = append(nss, fmt.Sprintf("bench-unrelated-%02d", i))
	}
	if err := b.createNamespaces(ctx, nss); err != nil {
		return err
	}
	logf("creating %d unrelated Secrets of %d bytes in %d namespaces", count, b.cfg.unrelatedBytes, nsCount)
	start := time.Now()
	err := parallel(ctx, b.cfg.createWorkers, count, func(ctx context.Context, i int) error {
		blob := make([]byte, b.cfg.unrelatedBytes)
		r := rand.New(rand.NewPCG(uint64(i), 42))
		for j := range blob {
			blob[j] = byte(r.Uint32())
		}
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%05d", i), Namespace: nss[i%nsCount], Labels: map[string]string{"app": "unrelated"}},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"blob": blob},
		}
		err := retry(ctx, 5, func() error { return b.k8s.Create(ctx, s) })
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	})
	b.res.UnrelatedSecretsSeconds = time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("creating unrelated Secrets: %w", err)
	}
	logf("created %d unrelated Secrets in %.1fs", count, b.res.UnrelatedSecretsSeconds)
	return nil
}

// ---- delete --------------------------------------------------------------------------------

// deleteAll deletes every resource and waits until Hydra has none of their clients and no
// OAuth2Client is left (every finalizer removed).
func (b *bench) deleteAll(ctx context.Context) error {
	n := b.cfg.n
	ids := b.tracker.clientIDs()
	apiBefore, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	hydraBefore := b.proxy.Operator()
	cpuBefore := takeCPU(b.op.Pid())
	logf("delete: deleting %d OAuth2Clients", n)
	start := time.Now()
	if err := parallel(ctx, b.cfg.createWorkers, n, func(ctx context.Context, i int) error {
		obj := &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Name: clientName(i), Namespace: clientNamespace(i, b.cfg.namespaces)}}
		return client.IgnoreNotFound(retry(ctx, 5, func() error { return b.k8s.Delete(ctx, obj) }))
	}); err != nil {
		return fmt.Errorf("deleting: %w", err)
	}
	deleteSeconds := time.Since(start).Seconds()
	if err := b.waitUntil(ctx, "delete: objects", b.cfg.phaseTimeout, pollInterval, func() string {
		present, _ := b.tracker.gone()
		return fmt.Sprintf("%d OAuth2Clients left; %s", present, b.tracker.progress())
	}, func() (bool, error) {
		present, _ := b.tracker.gone()
		return present == 0, nil
	}); err != nil {
		return err
	}
	_, lastGone := b.tracker.gone()
	cpu := takeCPU(b.op.Pid()).since(cpuBefore) // before the harness's own Hydra lists
	left, polls := 0, 0
	if err := b.waitUntil(ctx, "delete: confirm", 2*time.Minute, time.Second, func() string { return fmt.Sprintf("%d clients left at Hydra", left) }, func() (bool, error) {
		polls++
		var l v1alpha1.OAuth2ClientList
		if err := b.k8s.List(ctx, &l, client.Limit(1)); err != nil {
			return false, err
		}
		if len(l.Items) > 0 {
			return false, nil
		}
		all, _, err := b.hydraDirect.List(ctx, pageSize, 10+n/pageSize)
		if err != nil {
			return false, err
		}
		left = 0
		for _, c := range all {
			if ids[c.ClientID] {
				left++
			}
		}
		return left == 0, nil
	}); err != nil {
		return err
	}
	hydra := b.proxy.Operator().Sub(hydraBefore)
	apiAfter, err := b.apiRequests(ctx)
	if err != nil {
		return err
	}
	end := lastGone
	if t := b.proxy.LastSuccess(classDelete); t.After(end) {
		end = t
	}
	elapsed := end.Sub(start)
	b.res.Delete = PhaseResult{
		Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(), CreateSeconds: deleteSeconds,
		HydraPolls: polls, Hydra: hydra, API: apiAfter.Sub(apiBefore), CPU: cpu,
	}
	logf("delete: all %d gone from Hydra and the API after %.1fs = %.0f/s; Hydra %s; API %s", n, elapsed.Seconds(),
		b.res.Delete.PerSecond, countsText(hydra, 1), apiText(b.res.Delete.API, 1))
	return nil
}
