package operator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// errNotLeader refuses a write from a replica that can't be sure it still holds the lease.
var errNotLeader = errors.New("not writing: the leader-election lease was not renewed recently (paused or partitioned process)")

// leaseFence lets writes through only while this replica renewed its lease less than
// renewDeadline ago (monotonic clock), which is how long client-go itself still counts it as
// the leader; a standby takes over no sooner than the lease duration after the last renewal.
// A process that was paused (SIGSTOP, a long GC, a frozen VM) finds its renewal stale the moment
// it resumes and writes nothing before it exits.
type leaseFence struct {
	enabled   bool
	window    time.Duration
	lastRenew atomic.Pointer[time.Time]
}

func (f *leaseFence) open() bool {
	if !f.enabled {
		return true
	}
	t := f.lastRenew.Load()
	return t != nil && time.Since(*t) < f.window
}

// observe wraps the leader election's transport: a successful write of the lease is a renewal
// (or the acquisition), counted from when the request started. A replica that held the lease
// and lost it (lost) writes the lease no more: client-go releases the lease on its way out
// after it re-reads it, so a leader resumed after a pause, whose renewal timed out before it saw
// the standby's record, would otherwise overwrite the lease the standby now holds (seen in
// TestLeaderPausedThenResumed: the old leader's release succeeded 300 ms after the takeover and
// the new leader's next renewal got a conflict).
func (f *leaseFence) observe(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		leaseWrite := (req.Method == http.MethodPut || req.Method == http.MethodPost) && strings.Contains(req.URL.Path, "/leases")
		if leaseWrite && f.lost() {
			return nil, errNotLeader
		}
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err == nil && leaseWrite && resp.StatusCode/100 == 2 {
			f.lastRenew.Store(&start)
		}
		return resp, err
	})
}

// guard wraps the operator's own API transport and Hydra's: writes only through an open fence.
func (f *leaseFence) guard(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet && !f.open() {
			return nil, errNotLeader
		}
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (fn roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return fn(req) }

// lost reports whether this replica held the lease and has not renewed it within the window:
// it is no longer the leader, whatever it believes, and is about to exit.
func (f *leaseFence) lost() bool {
	if !f.enabled {
		return false
	}
	t := f.lastRenew.Load()
	return t != nil && time.Since(*t) >= f.window
}

// conn fences a connection to Hydra or the API server at its socket: once the lease is lost,
// nothing more is written to it, reads and writes alike (the replica is about to exit). This is
// the narrowest place a check can be: guard checks a write before the transport finds a
// connection and encodes the request, so a process paused in between (SIGSTOP, a frozen VM)
// would send the write when it resumes, after a standby took over; here only the system call
// that sends the bytes is left after the check. A standby, which never held the lease, reads
// freely; guard keeps it from writing.
func (f *leaseFence) conn(c net.Conn) net.Conn {
	if !f.enabled {
		return c
	}
	return &fencedConn{Conn: c, fence: f}
}

// dial wraps a dialer so that every connection it makes is fenced.
func (f *leaseFence) dial(d func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := d(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return f.conn(c), nil
	}
}

type fencedConn struct {
	net.Conn
	fence *leaseFence
}

func (c *fencedConn) Write(p []byte) (int, error) {
	if c.fence.lost() {
		return 0, errNotLeader
	}
	return c.Conn.Write(p)
}
