package testenv

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHydraDatabaseDir: with DatabaseDir, Hydra keeps its clients in a file there while it
// runs, and Restart empties it as it does the in-memory database.
func TestHydraDatabaseDir(t *testing.T) {
	if os.Getenv("HYDRA_BIN") == "" {
		t.Skip("HYDRA_BIN is not set (make test sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	h, err := StartHydra(ctx, HydraOptions{FastHashing: true, DatabaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	clients := func() int {
		t.Helper()
		list, _, err := ListHydraClients[struct{}](ctx, http.DefaultClient, h.AdminURL(), "test", 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	resp, err := http.Post(h.AdminURL()+"/admin/clients", "application/json", strings.NewReader(`{"client_id":"kept","client_secret":"kept-secret-123456"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %s", resp.Status)
	}
	if n := clients(); n != 1 {
		t.Fatalf("%d clients after one create", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "hydra.sqlite")); err != nil {
		t.Fatalf("the database is not in DatabaseDir: %v", err)
	}
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n := clients(); n != 0 {
		t.Fatalf("%d clients after Restart, want an empty database", n)
	}
}
