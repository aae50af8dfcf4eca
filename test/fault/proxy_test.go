//go:build fault

package fault

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// proxyMode is how the fault proxy treats the requests that arrive while it is in that mode.
type proxyMode int

const (
	// pass forwards at once and answers at once.
	pass proxyMode = iota
	// lateAnswer forwards at once, so Hydra does the work, and holds Hydra's answer for the
	// configured delay (or until the caller gives up): a slow Hydra or a slow network back.
	lateAnswer
	// hang holds the request without forwarding it until the proxy is healed or the caller
	// gives up: a Hydra that accepts connections and never answers.
	hang
)

func (m proxyMode) String() string {
	return [...]string{"pass", "late-answer", "hang"}[m]
}

type delayKey struct{}

// faultProxy is a reverse proxy on loopback in front of Hydra's admin API. It counts the
// requests it sees (writes with their arrival times, to attribute Hydra writes to one operator
// replica) and can answer late or hang.
type faultProxy struct {
	srv *http.Server
	ln  net.Listener
	rp  *httputil.ReverseProxy

	mu          sync.Mutex
	mode        proxyMode
	delay       time.Duration
	release     chan struct{} // closed when a hang ends
	reads       int
	writeTimes  []time.Time // arrival of each write (POST, PUT, PATCH, DELETE)
	okWrites    int         // writes Hydra answered with 2xx
	abandoned   int         // requests whose caller gave up while held or delayed
	inflight    int
	maxInflight int
}

func startFaultProxy(target string) (*faultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &faultProxy{ln: ln, release: make(chan struct{})}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.rp.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p.rp.ModifyResponse = func(resp *http.Response) error {
		d, _ := resp.Request.Context().Value(delayKey{}).(time.Duration)
		if d <= 0 {
			return nil
		}
		// The delay is the fault: Hydra has answered; the answer is held back.
		select {
		case <-time.After(d):
			return nil
		case <-resp.Request.Context().Done():
			p.count(func() { p.abandoned++ })
			return resp.Request.Context().Err()
		}
	}
	p.rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	// IdleTimeout closes the operator's idle keep-alive connections soon, so that its goroutine
	// count settles within seconds once the traffic stops.
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's base URL, for --hydra-admin-url.
func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *faultProxy) count(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn()
}

// set switches the mode for requests that arrive from now on. Leaving hang releases the
// requests it holds (most of whose callers have long given up).
func (p *faultProxy) set(mode proxyMode, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == hang && mode != hang {
		close(p.release)
		p.release = make(chan struct{})
	}
	p.mode, p.delay = mode, delay
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	clientAPI := strings.HasPrefix(r.URL.Path, "/admin/clients")
	p.mu.Lock()
	mode, delay, release := p.mode, p.delay, p.release
	if clientAPI && isWrite(r.Method) {
		p.writeTimes = append(p.writeTimes, time.Now())
	} else if clientAPI {
		p.reads++
	}
	p.inflight++
	p.maxInflight = max(p.maxInflight, p.inflight)
	p.mu.Unlock()
	defer p.count(func() { p.inflight-- })

	// Read the body first: only then does net/http watch the connection and cancel the
	// request's context when the caller gives up (it would otherwise go unnoticed while held).
	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	switch mode {
	case hang:
		select {
		case <-release:
		case <-r.Context().Done():
			p.count(func() { p.abandoned++ })
			return
		}
	case lateAnswer:
		r = r.WithContext(context.WithValue(r.Context(), delayKey{}, delay))
	}
	if !clientAPI || !isWrite(r.Method) {
		p.rp.ServeHTTP(w, r)
		return
	}
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	p.rp.ServeHTTP(rec, r)
	if rec.status < 300 {
		p.count(func() { p.okWrites++ })
	}
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// proxyCounts is a snapshot of what a proxy has seen.
type proxyCounts struct {
	Reads, Writes, Abandoned, MaxInflight int
	// OKWrites are the writes Hydra carried out (2xx); Writes counts every attempt.
	OKWrites              int
	FirstWrite, LastWrite time.Time
}

func (p *faultProxy) counts() proxyCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := proxyCounts{Reads: p.reads, Writes: len(p.writeTimes), OKWrites: p.okWrites, Abandoned: p.abandoned, MaxInflight: p.maxInflight}
	if len(p.writeTimes) > 0 {
		c.FirstWrite, c.LastWrite = p.writeTimes[0], p.writeTimes[len(p.writeTimes)-1]
	}
	return c
}

// writesBetween counts the writes that arrived in [from, to).
func (p *faultProxy) writesBetween(from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, at := range p.writeTimes {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func (p *faultProxy) close() {
	p.set(pass, 0) // release held requests
	_ = p.srv.Close()
}
