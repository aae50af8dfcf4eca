//go:build fault

package fault

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// Settings of TestOperatorSIGKILL.
const (
	sigkills        = 20
	sigkillInitial  = 30                      // resources before the first start
	sigkillMinDelay = 20 * time.Millisecond   // a kill comes this long after /readyz, or later,
	sigkillMaxDelay = 1200 * time.Millisecond // up to this long
	sigkillBatch    = 10                      // creates and spec updates per round
	sigkillDeletes  = 2                       // deletions per round, from the second round on
	sigkillWorkers  = 4                       // parallel API writes of the workload
	sigkillScope    = "fault.read"            // every client has this scope, plus a version
	sigkillConverge = 3 * time.Minute         // the bound on the final convergence
)

// TestOperatorSIGKILL kills the operator with SIGKILL at random moments (seeded; the seed is
// logged and FAULT_SEED repeats it) twenty times in a row, restarting it each time, while
// resources are created, their specs updated and some deleted. Afterwards: every resource
// converges with its last spec at Hydra, no Hydra client is orphaned or duplicated, the deleted
// resources are gone and so are their clients, and every Secret's credentials obtain a token.
func TestOperatorSIGKILL(t *testing.T) {
	seed := envInt64("FAULT_SEED", time.Now().UnixNano())
	t.Logf("seed %d (FAULT_SEED=%d repeats the kill moments and the workload)", seed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	e := setup(t, "sigkill", 8*time.Minute)

	w := &workload{e: e}
	if err := w.run(w.creates(sigkillInitial), nil, nil); err != nil {
		t.Fatal(err)
	}

	begin := time.Now()
	var delays []time.Duration
	midWork := 0
	for round := range sigkills {
		// Decide the round's workload and kill moment up front, from the seed alone.
		creates := w.creates(sigkillBatch)
		updates := w.pick(rng, sigkillBatch)
		var deletes []string
		if round >= 1 {
			deletes = w.pick(rng, sigkillDeletes)
		}
		delay := sigkillMinDelay + time.Duration(rng.Int64N(int64(sigkillMaxDelay-sigkillMinDelay)))
		delays = append(delays, delay)
		version := fmt.Sprintf("v%d", round+1)

		// The round's changes start with the process, so that it starts with work to do.
		done := make(chan error, 1)
		go func() { done <- w.run(creates, updatesTo(updates, version), deletes) }()
		op := e.startOperator(operatorOptions{})
		e.faultDelay(delay) // the random moment is the fault
		op.kill()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Was there work left when it died? (Counts the kills that hit something.)
		if s, err := e.snapshot(e.ctx); err == nil && !s.tally().converged(len(w.live())) {
			midWork++
		}
	}
	t.Logf("%d SIGKILLs in %s; %d resources live, %d deleted", sigkills, time.Since(begin).Round(time.Millisecond), len(w.live()), len(w.deleted))

	finalStart := time.Now()
	op := e.startOperator(operatorOptions{})
	live := w.live()
	converge, snap, convergeErr := e.waitConverged(finalStart, len(live), sigkillConverge)
	lost, duplicates, orphans, stale, deletedLeft, tokenFailures := len(live), -1, -1, -1, -1, -1
	var tokenErrs []string
	leaks := -1
	if snap != nil {
		tl := snap.tally()
		lost, duplicates, orphans, stale = tl.Missing, tl.Duplicates, tl.Orphans, tl.Stale
		for _, name := range live {
			if snap.resources[name] == nil {
				lost++
			}
		}
		deletedLeft = w.deletedLeft(snap)
		tokenFailures, tokenErrs = e.checkTokens(snap, live)
		leaks = e.secretsInLogs(snap)
		if convergeErr != nil {
			t.Logf("last state: %s", tl)
		}
	}
	slices.Sort(delays)
	e.report(converge, convergeErr, lost, duplicates,
		kv("orphans", orphans), kv("kills", sigkills), kv("killsWithWorkLeft", midWork), kv("seed", seed),
		kv("killDelayMin", delays[0]), kv("killDelayMedian", delays[len(delays)/2]), kv("killDelayMax", delays[len(delays)-1]),
		kv("live", len(live)), kv("deleted", len(w.deleted)), kv("deletedLeft", deletedLeft), kv("staleSpecs", stale),
		kv("tokenFailures", fmt.Sprintf("%d/%d", tokenFailures, len(live))), kv("secretsInLogs", leaks), kv("total", time.Since(begin)))

	// The kills must have interrupted work, or their harmlessness proves nothing.
	if midWork == 0 {
		t.Errorf("none of the %d SIGKILLs left work unfinished (kill delays %s..%s): the test did not interrupt the operator", sigkills, delays[0], delays[len(delays)-1])
	}
	if leaks != 0 {
		t.Errorf("%d client secrets appear in the operator's logs", leaks)
	}
	if convergeErr != nil {
		t.Fatal(convergeErr)
	}
	if deletedLeft != 0 {
		t.Errorf("%d deleted resources are still there, or still have a Hydra client", deletedLeft)
	}
	if tokenFailures != 0 {
		t.Errorf("%d token requests with the Secrets' credentials failed: %v", tokenFailures, tokenErrs)
	}
	if op.exited() {
		t.Errorf("the operator exited: %v", op.ExitErr())
	}
}

// workload is what a team does to its OAuth2Clients: create, change scopes, delete. It keeps
// what it expects the end state to be.
type workload struct {
	e *env

	mu      sync.Mutex
	next    int
	names   []string             // live, in creation order
	deleted map[string]types.UID // deleted names and the UID each had
}

// creates names n new resources (created by run).
func (w *workload) creates(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for range n {
		out = append(out, fmt.Sprintf("svc-%03d", w.next))
		w.next++
	}
	return out
}

// pick chooses n distinct live resources.
func (w *workload) pick(rng *rand.Rand, n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n > len(w.names) {
		n = len(w.names)
	}
	var out []string
	for _, i := range rng.Perm(len(w.names))[:n] {
		out = append(out, w.names[i])
	}
	return out
}

func (w *workload) live() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.names)
}

type scopeUpdate struct{ name, version string }

func updatesTo(names []string, version string) []scopeUpdate {
	var out []scopeUpdate
	for _, n := range names {
		out = append(out, scopeUpdate{n, version})
	}
	return out
}

// run applies one round: creates, scope updates (never to a resource deleted in the same round)
// and deletions, in parallel, each retried until it went through.
func (w *workload) run(creates []string, updates []scopeUpdate, deletes []string) error {
	e := w.e
	var mu sync.Mutex
	var errs []error
	jobs := make(chan func() error)
	var wg sync.WaitGroup
	for range sigkillWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				if err := job(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range creates {
		jobs <- func() error {
			if err := e.createRetrying(serviceClient(e.ns, name, sigkillScope, "v0")); err != nil {
				return err
			}
			w.mu.Lock()
			w.names = append(w.names, name)
			w.mu.Unlock()
			return nil
		}
	}
	for _, u := range updates {
		if slices.Contains(deletes, u.name) {
			continue
		}
		jobs <- func() error {
			_, err := e.retrying(func() error {
				obj := &v1alpha1.OAuth2Client{}
				if err := e.k8s.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: u.name}, obj); err != nil {
					return err
				}
				obj.Spec.Scopes = []string{sigkillScope, u.version}
				return e.k8s.Update(e.ctx, obj)
			})
			if err != nil {
				return fmt.Errorf("updating %s: %w", u.name, err)
			}
			return nil
		}
	}
	for _, name := range deletes {
		jobs <- func() error {
			obj := &v1alpha1.OAuth2Client{}
			if _, err := e.retrying(func() error { return e.k8s.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, obj) }); err != nil {
				return fmt.Errorf("reading %s before deleting it: %w", name, err)
			}
			_, err := e.retrying(func() error {
				err := e.k8s.Delete(e.ctx, obj, client.Preconditions{UID: &obj.UID})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("deleting %s: %w", name, err)
			}
			w.mu.Lock()
			w.names = slices.DeleteFunc(w.names, func(n string) bool { return n == name })
			if w.deleted == nil {
				w.deleted = map[string]types.UID{}
			}
			w.deleted[name] = obj.UID
			w.mu.Unlock()
			return nil
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("workload: %v", errs)
	}
	return nil
}

// deletedLeft counts deleted resources that still exist, and Hydra clients that belong to a
// deleted resource (by owner or by the client ID derived from its UID).
func (w *workload) deletedLeft(s *snapshot) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for name := range w.deleted {
		if s.resources[name] != nil {
			n++
		}
	}
	for _, c := range s.hydra {
		_, owner, ok := hydra.ParseOwner(c.Owner)
		_, byOwner := w.deleted[owner]
		byID := false
		for _, uid := range w.deleted {
			byID = byID || string(uid) == c.ClientID
		}
		if (ok && byOwner) || byID {
			n++
		}
	}
	return n
}
