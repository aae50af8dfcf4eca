package operator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

func TestLeaseFence(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusConflict)
		}
	}))
	t.Cleanup(srv.Close)
	request := func(rt http.RoundTripper, method, path string) error {
		req := httptest.NewRequestWithContext(context.Background(), method, srv.URL+path, nil)
		req.RequestURI = ""
		resp, err := rt.RoundTrip(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}

	disabled := &leaseFence{enabled: false, window: time.Second}
	if err := request(disabled.guard(http.DefaultTransport), http.MethodPatch, "/api/v1/secrets/x"); err != nil {
		t.Fatalf("without leader election every write passes: %v", err)
	}

	f := &leaseFence{enabled: true, window: time.Hour}
	guarded, election := f.guard(http.DefaultTransport), f.observe(http.DefaultTransport)
	if err := request(guarded, http.MethodGet, "/api/v1/secrets"); err != nil {
		t.Fatalf("reads pass a closed fence: %v", err)
	}
	if err := request(guarded, http.MethodPatch, "/api/v1/secrets/x"); err == nil {
		t.Fatal("a write passed before the lease was ever held")
	}
	if err := request(election, http.MethodPut, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l?fail=1"); err != nil {
		t.Fatal(err)
	}
	if f.open() {
		t.Fatal("a refused lease update opened the fence")
	}
	if err := request(election, http.MethodGet, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l"); err != nil || f.open() {
		t.Fatalf("reading the lease opened the fence (err %v)", err)
	}
	if err := request(election, http.MethodPut, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l"); err != nil {
		t.Fatal(err)
	}
	if err := request(guarded, http.MethodPatch, "/api/v1/secrets/x"); err != nil {
		t.Fatalf("a write right after a renewal was refused: %v", err)
	}

	// A renewal older than the window (a paused process) closes the fence for API and Hydra.
	stale := time.Now().Add(-2 * time.Hour)
	f.lastRenew.Store(&stale)
	if err := request(guarded, http.MethodPost, "/api/v1/namespaces/ns/events"); err == nil {
		t.Fatal("a write passed with a stale renewal")
	}
	// Hydra's writes are fenced at its transport: nothing reaches the server.
	var reached atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer server.Close()
	h, err := hydra.New(hydra.Options{AdminURL: server.URL, WrapTransport: f.guard})
	if err != nil {
		t.Fatal(err)
	}
	id := "x"
	if _, err := h.Create(context.Background(), &hydra.OAuth2Client{ClientId: &id}); !errors.Is(err, errNotLeader) {
		t.Fatalf("Hydra create with a stale renewal: %v, want errNotLeader", err)
	}
	if _, err := h.Update(context.Background(), id, &hydra.OAuth2Client{ClientId: &id}); !errors.Is(err, errNotLeader) {
		t.Fatalf("Hydra update with a stale renewal: %v, want errNotLeader", err)
	}
	if err := h.Delete(context.Background(), id); !errors.Is(err, errNotLeader) {
		t.Fatalf("Hydra delete with a stale renewal: %v, want errNotLeader", err)
	}
	// Nor does it write the lease: client-go's release on the way out would overwrite the record
	// of the standby that took over.
	release := httptest.NewRequestWithContext(context.Background(), http.MethodPut, server.URL+"/apis/coordination.k8s.io/v1/namespaces/ns/leases/l", nil)
	release.RequestURI = ""
	resp, err := election.RoundTrip(release)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !errors.Is(err, errNotLeader) {
		t.Fatalf("lease release with a stale renewal: %v, want errNotLeader", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d fenced writes reached the server", n)
	}
}

// TestFencedConnection: a replica that held the lease and let the renew window pass writes
// nothing more to its connections, whatever the request: that is the check a paused leader
// meets when it resumes in the middle of sending a request that guard had let through.
func TestFencedConnection(t *testing.T) {
	var received atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	t.Cleanup(srv.Close)
	f := &leaseFence{enabled: true, window: 50 * time.Millisecond}
	transport := &http.Transport{DialContext: f.dial((&net.Dialer{}).DialContext)}
	t.Cleanup(transport.CloseIdleConnections)
	send := func(method string) error {
		req, err := http.NewRequest(method, srv.URL+"/admin/clients/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := transport.RoundTrip(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	// A standby that never held the lease reads (guard keeps it from writing).
	if err := send(http.MethodGet); err != nil {
		t.Fatalf("a replica that never led could not read: %v", err)
	}
	renewed := time.Now()
	f.lastRenew.Store(&renewed)
	if err := send(http.MethodPut); err != nil {
		t.Fatalf("the leader could not write right after renewing: %v", err)
	}
	// The last renewal is now older than the window, as after a pause (SIGSTOP) of the leader;
	// the connections opened while it led are reused.
	stale := time.Now().Add(-time.Minute)
	f.lastRenew.Store(&stale)
	if !f.lost() {
		t.Fatal("the fence does not count a renewal older than the window as a lost lease")
	}
	before := received.Load()
	for _, method := range []string{http.MethodPut, http.MethodGet} {
		if err := send(method); err == nil {
			t.Errorf("%s after the lease was lost succeeded", method)
		}
	}
	if n := received.Load() - before; n != 0 {
		t.Errorf("the server received %d requests after the lease was lost", n)
	}
	if c := (&leaseFence{enabled: false}).conn(nil); c != nil {
		t.Error("without leader election connections are not wrapped")
	}
}
