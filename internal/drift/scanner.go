// Package drift checks every settled OAuth2Client against Hydra once per period by reading
// Hydra's client list in pages, instead of one read per client: at 10,000 clients that is 20
// requests rather than 10,000.
//
// The scanner does not know the reconciler. It sends the resources that need a reconcile to
// the queue it is given, and answers the reconciler's questions through Verdict and MarkInSync,
// which the controllers package declares as the small interface it needs.
package drift

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/clientcache"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// Options configure a Scanner.
type Options struct {
	// Reader lists OAuth2Clients; the manager's cache.
	Reader client.Reader
	// Store, when set, is the informer store behind Reader. The scan then reads the cached
	// objects themselves (it never changes them) instead of listing them through Reader
	// (clientcache says why).
	Store clientcache.Store
	Hydra hydra.Client
	// Installation is the reconciler's: the owner marks the scan expects are this
	// installation's, so a legacy mark counts as drift and is rewritten.
	Installation string
	// Queue receives the resources that need a reconcile; the controller watches the other
	// end. A scan waits for room in it (or for its context to end), so a full queue slows the
	// scan down rather than losing a resource.
	Queue chan<- event.GenericEvent
	// Interval between scans (with ±10% jitter).
	Interval time.Duration
	// PageSize of Hydra list requests; Hydra allows up to 1000.
	PageSize int
	// Selects, when set, picks the resources whose clients live at this scanner's server; the
	// others are not its to check. Unset: every resource.
	Selects func(*v1alpha1.OAuth2Client) bool
	// Server names the scanner's server in its log lines.
	Server string
	// StartupGrace is how long after New the reconciler waits for the first scan before it
	// falls back to reading clients one by one (for example while Hydra is down).
	StartupGrace time.Duration
}

// Scanner queues every settled resource whose Hydra client is missing or differs from the spec
// for a full reconcile, which reads the client itself before writing anything.
//
// It remembers two things between scans, both only to spare Hydra reads; a restarted process
// starts without them and is merely slower, never wrong:
//
//   - per resource UID, the generation last seen in sync at Hydra: by the last scan, or by the
//     reconciler since (MarkInSync). A reconcile of a settled resource whose generation is
//     recorded need not read Hydra: after a restart, the periodic resync and the passes the
//     operator's own Secret and status writes trigger would otherwise cost a read per client.
//     Each scan replaces the whole record, so deleted resources and drifted clients drop out.
//   - whether the first scan has finished, and when the scanner was made. Before the first
//     scan it knows nothing, so for up to StartupGrace it asks the reconciler to wait
//     (ScanSoon) rather than read every client on its own; a restart then costs a few list
//     pages. After the grace (Hydra down, say) the reconciler reads clients itself.
type Scanner struct {
	opts    Options
	started time.Time

	mu       sync.RWMutex
	scanned  bool
	verified map[types.UID]int64
}

// New returns a scanner; its StartupGrace counts from now. Add it to the manager to run it.
func New(opts Options) *Scanner {
	return &Scanner{opts: opts, started: time.Now(), verified: map[types.UID]int64{}}
}

// Verdict is what the scanner knows about one resource.
type Verdict int

const (
	// Unknown means the scanner can't vouch for the resource: read Hydra.
	Unknown Verdict = iota
	// InSync means the last scan, or the reconciler since, saw this generation in sync at Hydra.
	InSync
	// ScanSoon means the first scan is under way: check again shortly.
	ScanSoon
)

// NeedLeaderElection makes only the leader scan.
func (s *Scanner) NeedLeaderElection() bool { return true }

// Start scans at once and then every Interval until ctx ends.
func (s *Scanner) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("drift-scanner").WithValues("server", s.opts.Server)
	for {
		begin := time.Now()
		checked, queued, err := s.Scan(ctx)
		if err != nil {
			log.Info("Drift scan failed; retrying at the next interval", "error", err.Error())
		} else {
			log.V(1).Info("Drift scan done", "checked", checked, "queued", queued, "duration", time.Since(begin).String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(jitter(s.opts.Interval)):
		}
	}
}

// Verdict says whether a reconcile of this resource can skip reading Hydra. It is Unknown for
// a resource that is not settled (Ready for its generation, with a client ID): the scan checks
// only settled resources, so it can vouch for no other.
func (s *Scanner) Verdict(obj *v1alpha1.OAuth2Client) Verdict {
	if !isSettled(obj) {
		return Unknown
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.scanned && s.verified[obj.UID] == obj.Generation:
		return InSync
	case !s.scanned && time.Since(s.started) < s.opts.StartupGrace:
		return ScanSoon
	}
	return Unknown
}

// MarkInSync records that the reconciler has just made Hydra's client match this generation,
// so the pass its own Secret and status writes trigger need not read Hydra again.
func (s *Scanner) MarkInSync(obj *v1alpha1.OAuth2Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[obj.UID] = obj.Generation
}

// SeenInSync reports whether some generation of the resource was last seen in sync at Hydra:
// by the last scan (which drops every resource it finds drifted or missing, and keeps a
// resource with a new generation only while its client still carries its owner mark), or by
// the reconciler since. Its client then carries this resource's owner mark.
func (s *Scanner) SeenInSync(obj *v1alpha1.OAuth2Client) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.verified[obj.UID]
	return ok
}

// Scan compares Hydra's clients, page by page, with the settled resources in the cache, and
// queues those whose client is missing or differs. Start runs it every Interval.
func (s *Scanner) Scan(ctx context.Context) (checked, queued int, err error) {
	resources, err := clientcache.List(ctx, s.opts.Reader, s.opts.Store)
	if err != nil {
		return 0, 0, err
	}
	byID := map[string]*v1alpha1.OAuth2Client{}
	// changing: resources with a new generation not reconciled yet. Not the scan's to check, but
	// what it knew of them stays while Hydra still marks their client as theirs (SeenInSync).
	changing := map[string]*v1alpha1.OAuth2Client{}
	for _, obj := range resources {
		if !obj.DeletionTimestamp.IsZero() || (s.opts.Selects != nil && !s.opts.Selects(obj)) || obj.Status.ClientID == "" {
			continue
		}
		if isSettled(obj) {
			byID[obj.Status.ClientID] = obj
		} else {
			changing[obj.Status.ClientID] = obj
		}
	}
	verified := make(map[types.UID]int64, len(byID))
	// What was known of the changing resources, copied now: the reconciler writes s.verified
	// (MarkInSync) while the pages are read.
	previous := make(map[types.UID]int64, len(changing))
	s.mu.RLock()
	for _, obj := range changing {
		if gen, seen := s.verified[obj.UID]; seen {
			previous[obj.UID] = gen
		}
	}
	s.mu.RUnlock()
	err = s.opts.Hydra.List(ctx, "", s.opts.PageSize, func(page []hydra.OAuth2Client) error {
		for i := range page {
			if obj, ok := changing[page[i].GetClientId()]; ok {
				if gen, seen := previous[obj.UID]; seen && page[i].GetOwner() == hydra.OwnerIn(s.opts.Installation, obj.Namespace, obj.Name) {
					verified[obj.UID] = gen
				}
				continue
			}
			obj, ok := byID[page[i].GetClientId()]
			if !ok {
				continue
			}
			delete(byID, page[i].GetClientId())
			checked++
			if matches(s.opts.Installation, obj, &page[i]) {
				verified[obj.UID] = obj.Generation
			} else {
				s.enqueue(ctx, obj)
				queued++
			}
		}
		return nil
	})
	if err != nil {
		return checked, queued, err
	}
	// Not listed: deleted at Hydra, or lost with its database.
	for _, obj := range byID {
		s.enqueue(ctx, obj)
		queued++
	}
	s.mu.Lock()
	s.verified, s.scanned = verified, true
	s.mu.Unlock()
	return checked + len(byID), queued, nil
}

// enqueue queues obj for a reconcile, after dropping what the last scan (or the reconciler)
// recorded of it: the reconcile may run before this scan ends and replaces the record, and it
// must then read Hydra rather than trust that record (Verdict InSync) and leave the drift for
// the next scan. With more list pages to read after a drifted client's, that happened for
// nearly every field edited at Hydra, so a repair took two intervals instead of one.
func (s *Scanner) enqueue(ctx context.Context, obj *v1alpha1.OAuth2Client) {
	s.mu.Lock()
	delete(s.verified, obj.UID)
	s.mu.Unlock()
	select {
	case s.opts.Queue <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	}
}

// matches reports whether Hydra's copy is this resource's, as desired. The keys the operator
// generates (rotation strategy KeyRollover) are in the Secret, which the scanner never reads:
// for them the client's jwks must be exactly the keys status names.
func matches(installation string, obj *v1alpha1.OAuth2Client, actual *hydra.OAuth2Client) bool {
	desired, err := hydra.Desired(&obj.Spec, obj.Status.ClientID, hydra.OwnerIn(installation, obj.Namespace, obj.Name))
	if err != nil {
		return false
	}
	if keyIDs, generated := generatedKeyIDs(obj); generated {
		if !hydra.HoldsKeys(actual, keyIDs) {
			return false
		}
		desired.Jwks = actual.Jwks
	}
	return len(hydra.Diff(desired, actual)) == 0
}

// generatedKeyIDs are the key IDs status names for a client whose keys the operator generates.
func generatedKeyIDs(obj *v1alpha1.OAuth2Client) ([]string, bool) {
	rot, st := obj.Spec.Rotation, obj.Status.Rotation
	if rot == nil || rot.Strategy != v1alpha1.RotationStrategyKeyRollover {
		return nil, false
	}
	if st == nil || st.CurrentKeyID == "" {
		return nil, true // not recorded yet: nothing matches, and a pass records them
	}
	ids := []string{st.CurrentKeyID}
	if st.PreviousKeyID != "" {
		ids = append(ids, st.PreviousKeyID)
	}
	return ids, true
}

// isSettled reports whether the resource is Ready for its current generation.
func isSettled(obj *v1alpha1.OAuth2Client) bool {
	ready := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue &&
		obj.Status.ObservedGeneration == obj.Generation && obj.Status.ClientID != ""
}

// jitter varies the interval by ±10%, like the reconciler's periodic re-checks (the same few
// lines as controllers' jitter: too small to give a package of their own).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
