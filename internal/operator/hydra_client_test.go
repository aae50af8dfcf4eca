package operator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// The operator's Hydra client re-reads --hydra-admin-token-file when it changes, and the write
// fence still refuses writes with the file-backed token in place.
func TestHydraClientRereadsTheTokenFileBehindTheFence(t *testing.T) {
	var want atomic.Value
	want.Store("Bearer token-a")
	var writes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != want.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"request_unauthorized"}`)
			return
		}
		_, _ = io.WriteString(w, `{"client_id":"x"}`)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "token")
	writeFile := func(content string) {
		t.Helper()
		if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("token-a\n")

	o := DefaultOptions()
	o.HydraAdminURL, o.HydraTokenFile = srv.URL, path
	fence := &leaseFence{enabled: true, window: time.Hour} // never renewed: closed to writes
	h, err := newHydraClient(o, fence)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := h.Get(ctx, "x"); err != nil {
		t.Fatalf("Get with token A: %v", err)
	}
	writeFile("token-b\n")
	want.Store("Bearer token-b")
	if _, err := h.Get(ctx, "x"); err != nil {
		t.Fatalf("Get after the token file changed to B: %v", err)
	}
	if err := h.Delete(ctx, "x"); !errors.Is(err, errNotLeader) {
		t.Fatalf("Delete through a closed fence: %v, want errNotLeader", err)
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d fenced writes reached the server", n)
	}
}

// A token or CA file that can't be read fails the start, naming the flags.
func TestHydraClientRefusesUnreadableFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for name, edit := range map[string]func(*Options){
		"token file": func(o *Options) { o.HydraTokenFile = missing },
		"CA file":    func(o *Options) { o.HydraCAFile = missing },
	} {
		o := DefaultOptions()
		o.HydraAdminURL = "https://hydra-admin:4445"
		edit(&o)
		if _, err := newHydraClient(o, nil); err == nil {
			t.Errorf("%s missing: newHydraClient succeeded", name)
		}
	}
}
