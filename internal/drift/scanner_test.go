package drift

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// listOnly is a Hydra that holds clients and answers only List, in pages: the one call a scan
// may make.
type listOnly struct {
	hydra.Client // nil: any other call panics
	clients      []hydra.OAuth2Client
	lists        int
	// afterPage, when set, runs after each page has been handed to the scan, as the next
	// request would be under way.
	afterPage func()
}

func (h *listOnly) List(_ context.Context, _ string, pageSize int, fn func([]hydra.OAuth2Client) error) error {
	for start := 0; start < len(h.clients); start += pageSize {
		h.lists++
		if err := fn(h.clients[start:min(start+pageSize, len(h.clients))]); err != nil {
			return err
		}
		if h.afterPage != nil {
			h.afterPage()
		}
	}
	return nil
}

// settled is a resource Ready for its generation with a client registered as id.
func settled(name, id string) *v1alpha1.OAuth2Client {
	return &v1alpha1.OAuth2Client{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}, Scopes: []string{"read"}},
		Status: v1alpha1.OAuth2ClientStatus{
			ClientID: id, ObservedGeneration: 1,
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReconciled}},
		},
	}
}

// atHydra is the client Hydra holds when it matches obj.
func atHydra(t *testing.T, obj *v1alpha1.OAuth2Client) hydra.OAuth2Client {
	t.Helper()
	c, err := hydra.Desired(&obj.Spec, obj.Status.ClientID, hydra.OwnerFor(obj.Namespace, obj.Name))
	if err != nil {
		t.Fatal(err)
	}
	return *c
}

func TestScanQueuesDriftAndRemembersWhatIsInSync(t *testing.T) {
	same, changed, missing := settled("same", "id-same"), settled("changed", "id-changed"), settled("missing", "id-missing")
	pending := settled("pending", "id-pending")
	pending.Generation = 2 // a new spec not reconciled yet: not the scanner's to check
	other := atHydra(t, changed)
	other.SetScope("everything")
	h := &listOnly{clients: []hydra.OAuth2Client{atHydra(t, same), other, atHydra(t, pending)}}

	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, obj := range []*v1alpha1.OAuth2Client{same, changed, missing, pending} {
		if err := store.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	queue := make(chan event.GenericEvent, 10)
	s := New(Options{Store: store, Hydra: h, Queue: queue, PageSize: 2, StartupGrace: time.Hour})

	if got := s.Verdict(same); got != ScanSoon {
		t.Fatalf("before the first scan, within the grace: %v, want ScanSoon", got)
	}
	if got := s.Verdict(pending); got != Unknown {
		t.Fatalf("an unsettled resource before the first scan: %v, want Unknown", got)
	}
	checked, queued, err := s.Scan(context.Background())
	if err != nil || checked != 3 || queued != 2 || h.lists != 2 {
		t.Fatalf("scan: checked %d, queued %d, %d list pages, err %v; want 3, 2, 2, nil", checked, queued, h.lists, err)
	}
	got := map[string]bool{}
	for range queued {
		got[(<-queue).Object.GetName()] = true
	}
	if !got["changed"] || !got["missing"] {
		t.Fatalf("queued %v, want changed and missing", got)
	}
	for obj, want := range map[*v1alpha1.OAuth2Client]Verdict{same: InSync, changed: Unknown, missing: Unknown, pending: Unknown} {
		if v := s.Verdict(obj); v != want {
			t.Errorf("%s after the scan: %v, want %v", obj.Name, v, want)
		}
	}

	// The reconciler repairs a client: its next pass need not read Hydra again.
	s.MarkInSync(changed)
	if v := s.Verdict(changed); v != InSync {
		t.Errorf("after MarkInSync: %v, want InSync", v)
	}
	// A new generation is not vouched for until it is seen in sync.
	next := same.DeepCopy()
	next.Generation, next.Status.ObservedGeneration = 2, 2
	if v := s.Verdict(next); v != Unknown {
		t.Errorf("a newer generation: %v, want Unknown", v)
	}

	// Each scan replaces the record: a client changed at Hydra since is no longer vouched for.
	h.clients[0].SetScope("everything")
	if _, _, err := s.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := s.Verdict(same); v != Unknown {
		t.Errorf("drifted since the last scan: %v, want Unknown", v)
	}
}

func TestVerdictAfterTheStartupGrace(t *testing.T) {
	s := New(Options{Hydra: &listOnly{}, Queue: make(chan event.GenericEvent), StartupGrace: 0})
	if v := s.Verdict(settled("a", "id-a")); v != Unknown {
		t.Fatalf("no scan yet and the grace is over: %v, want Unknown (the reconciler reads Hydra)", v)
	}
}

// A resource the scan queues is reconciled while the scan reads further pages. That reconcile
// must read Hydra, not trust the previous record: before the fix it saw InSync, did nothing,
// and the drift waited for the next scan.
func TestQueuedResourceIsNotVouchedForDuringTheScan(t *testing.T) {
	changed, later := settled("changed", "id-changed"), settled("later", "id-later")
	edited := atHydra(t, changed)
	edited.SetScope("everything")
	h := &listOnly{clients: []hydra.OAuth2Client{edited, atHydra(t, later)}}
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, obj := range []*v1alpha1.OAuth2Client{changed, later} {
		if err := store.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	queue := make(chan event.GenericEvent, 10)
	s := New(Options{Store: store, Hydra: h, Queue: queue, PageSize: 1, StartupGrace: time.Hour})
	// A first scan in sync, or the reconciler's own create, recorded the resource as in sync.
	if _, _, err := s.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	for len(queue) > 0 {
		<-queue
	}
	s.MarkInSync(changed)
	var during []Verdict
	h.afterPage = func() {
		if len(queue) > 0 {
			during = append(during, s.Verdict(changed))
		}
	}
	if _, queued, err := s.Scan(context.Background()); err != nil || queued != 1 {
		t.Fatalf("scan: queued %d, err %v; want 1, nil", queued, err)
	}
	if len(during) == 0 {
		t.Fatal("the drifted resource was not queued before the last page: the test proves nothing")
	}
	for _, v := range during {
		if v != Unknown {
			t.Errorf("Verdict of a queued resource while the scan reads on: %v, want Unknown (read Hydra)", v)
		}
	}
}

// A resource with a new generation (not settled) is not checked, but a scan keeps what it knew
// of it while Hydra still marks the client as the resource's: the reconciler may then update
// the client without reading it. A client whose mark changed loses that.
func TestScanKeepsSeenInSyncOfChangingResources(t *testing.T) {
	kept, taken := settled("kept", "id-kept"), settled("taken", "id-taken")
	other := atHydra(t, taken)
	other.SetOwner(hydra.OwnerIn("", "elsewhere", "someone"))
	h := &listOnly{clients: []hydra.OAuth2Client{atHydra(t, kept), other}}
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, obj := range []*v1alpha1.OAuth2Client{kept, taken} {
		if err := store.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Options{Store: store, Hydra: h, Queue: make(chan event.GenericEvent, 10), PageSize: 10})
	s.MarkInSync(kept)
	s.MarkInSync(taken)
	kept.Generation, taken.Generation = 2, 2 // spec edits, not reconciled yet
	if _, _, err := s.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.SeenInSync(kept) {
		t.Error("a changing resource whose client still carries its mark lost SeenInSync")
	}
	if s.SeenInSync(taken) {
		t.Error("a changing resource whose client carries another mark kept SeenInSync")
	}
	if s.Verdict(kept) != Unknown {
		t.Error("a changing resource is vouched for")
	}
}

// TestScanWhileTheReconcilerMarksResources: the reconciler marks resources in sync while a
// scan reads its pages; the scan must not read the map being written (under -race this
// failed, and at N=10,000 the operator died of a concurrent map read and write).
func TestScanWhileTheReconcilerMarksResources(t *testing.T) {
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	h := &listOnly{}
	var objs []*v1alpha1.OAuth2Client
	for i := range 50 {
		obj := settled(fmt.Sprintf("c%d", i), fmt.Sprintf("id-%d", i))
		h.clients = append(h.clients, atHydra(t, obj))
		obj.Generation = 2 // changing: the scan looks up what it knew of it
		if err := store.Add(obj); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
	}
	s := New(Options{Store: store, Hydra: h, Queue: make(chan event.GenericEvent, 100), PageSize: 5})
	for _, obj := range objs {
		s.MarkInSync(obj)
	}
	var marking sync.WaitGroup
	h.afterPage = func() {
		marking.Go(func() {
			for _, obj := range objs {
				s.MarkInSync(obj)
			}
		})
	}
	if _, _, err := s.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	marking.Wait()
}
