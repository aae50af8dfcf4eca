package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestListenFallsBackOnlyFromTheDefault: a taken default port falls back to a free one (the
// user did not choose it), a taken port given with a flag is an error, and 0 is any free port.
func TestListenFallsBackOnlyFromTheDefault(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	port := taken.Addr().(*net.TCPAddr).Port

	byDefault := config{explicit: map[string]bool{}}
	got, err := byDefault.freePort("login-port", port)
	if err != nil {
		t.Fatalf("a taken default port: %v, want a fallback", err)
	}
	if got == port || got == 0 {
		t.Errorf("a taken default port %d gave %d, want another free port", port, got)
	}

	chosen := config{explicit: map[string]bool{"login-port": true}}
	if _, err := chosen.freePort("login-port", port); err == nil || !strings.Contains(err.Error(), "-login-port") {
		t.Errorf("a taken port given with -login-port: %v, want an error naming the flag", err)
	}

	if got, err := chosen.freePort("login-port", 0); err != nil || got == 0 {
		t.Errorf("port 0: %d, %v; want a free port", got, err)
	}
}

// TestBearerGateway: the staging admin API answers only with the token, and the token is not
// passed on to Hydra.
func TestBearerGateway(t *testing.T) {
	var seen atomic.Value
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "ok")
	}))
	defer backend.Close()
	gateway, err := newBearerGateway(backend.URL, "right")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		header string
		want   int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Basic right", http.StatusUnauthorized}, {"Bearer right", http.StatusOK}} {
		req := httptest.NewRequest(http.MethodGet, "/admin/clients", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		rec := httptest.NewRecorder()
		gateway.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Authorization %q: status %d, want %d", tt.header, rec.Code, tt.want)
		}
	}
	if got := seen.Load(); got != "" {
		t.Errorf("Hydra received Authorization %q, want none", got)
	}
}
