package operator

import (
	"errors"
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
// (or the acquisition), counted from when the request started.
func (f *leaseFence) observe(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err == nil && (req.Method == http.MethodPut || req.Method == http.MethodPost) &&
			strings.Contains(req.URL.Path, "/leases") && resp.StatusCode/100 == 2 {
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
