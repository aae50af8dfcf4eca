package main

import (
	"net"
	"strings"
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
