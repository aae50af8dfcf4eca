package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request classes of Hydra's admin API that the report tells apart.
const (
	classGet    = "GET"    // GET /admin/clients/{id}
	classList   = "LIST"   // GET /admin/clients (one page)
	classPost   = "POST"   // POST /admin/clients (create)
	classPut    = "PUT"    // PUT /admin/clients/{id}
	classPatch  = "PATCH"  // PATCH /admin/clients/{id}
	classDelete = "DELETE" // DELETE /admin/clients/{id}
	classOther  = "OTHER"  // anything else (health, other admin endpoints)
)

var classes = []string{classGet, classList, classPost, classPut, classPatch, classDelete, classOther}

// harnessUserAgent marks the harness's own requests (the raw path) so that the proxy counts
// them apart from the operator's.
const harnessUserAgent = "oauth2-client-operator-bench"

// classify maps a request to its class.
func classify(method, path string) string {
	path = strings.TrimSuffix(path, "/")
	switch {
	case path == "/admin/clients":
		switch method {
		case http.MethodGet:
			return classList
		case http.MethodPost:
			return classPost
		}
	case strings.HasPrefix(path, "/admin/clients/"):
		switch method {
		case http.MethodGet:
			return classGet
		case http.MethodPut:
			return classPut
		case http.MethodPatch:
			return classPatch
		case http.MethodDelete:
			return classDelete
		}
	}
	return classOther
}

// Counts are requests seen by the proxy, by class, plus answers that were not 2xx.
type Counts struct {
	ByClass map[string]int64 `json:"by_class"`
	// Status4xx and Status5xx count answers by status class; Failed counts requests that got no
	// answer from Hydra (the proxy answered 502).
	Status4xx int64 `json:"status_4xx"`
	Status5xx int64 `json:"status_5xx"`
	Failed    int64 `json:"failed"`
	// ListStarts counts list requests without a page_token: the first page of a scan.
	ListStarts int64 `json:"list_starts"`
	// NotOK counts the answers that were not 2xx by class and status, such as "POST 409".
	NotOK map[string]int64 `json:"not_ok,omitempty"`
}

// Total is the number of requests of every class.
func (c Counts) Total() int64 {
	var t int64
	for _, v := range c.ByClass {
		t += v
	}
	return t
}

// Writes is the number of requests that change Hydra (POST, PUT, PATCH, DELETE).
func (c Counts) Writes() int64 {
	return c.ByClass[classPost] + c.ByClass[classPut] + c.ByClass[classPatch] + c.ByClass[classDelete]
}

// Reads is the number of GET and list requests.
func (c Counts) Reads() int64 { return c.ByClass[classGet] + c.ByClass[classList] }

// Sub returns c minus an earlier snapshot.
func (c Counts) Sub(earlier Counts) Counts {
	out := Counts{ByClass: map[string]int64{}, NotOK: map[string]int64{}, ListStarts: c.ListStarts - earlier.ListStarts, Status4xx: c.Status4xx - earlier.Status4xx,
		Status5xx: c.Status5xx - earlier.Status5xx, Failed: c.Failed - earlier.Failed}
	for _, k := range classes {
		out.ByClass[k] = c.ByClass[k] - earlier.ByClass[k]
	}
	for k, v := range c.NotOK {
		if d := v - earlier.NotOK[k]; d != 0 {
			out.NotOK[k] = d
		}
	}
	return out
}

// countingProxy is a reverse proxy to Hydra's admin API on loopback that counts the
// operator's requests (everything without the harness's User-Agent) and, separately, the
// harness's own.
type countingProxy struct {
	srv      *http.Server
	listener net.Listener
	proxy    *httputil.ReverseProxy

	mu       sync.Mutex
	operator Counts
	harness  Counts
	lastReq  time.Time            // arrival of the operator's latest request
	lastOK   map[string]time.Time // when the operator's latest 2xx answer of each class was sent
}

func startProxy(target string) (*countingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	rp.ErrorLog = nil
	p := &countingProxy{
		listener: l,
		proxy:    rp,
		operator: Counts{ByClass: map[string]int64{}, NotOK: map[string]int64{}},
		harness:  Counts{ByClass: map[string]int64{}, NotOK: map[string]int64{}},
		lastOK:   map[string]time.Time{},
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// URL is the proxy's base URL, given to the operator as --hydra-admin-url.
func (p *countingProxy) URL() string { return "http://" + p.listener.Addr().String() }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	class := classify(r.Method, r.URL.Path)
	fromHarness := strings.HasPrefix(r.UserAgent(), harnessUserAgent)
	if !fromHarness {
		p.mu.Lock()
		p.lastReq = time.Now()
		p.mu.Unlock()
	}
	rec := &statusRecorder{ResponseWriter: w}
	p.proxy.ServeHTTP(rec, r)
	now := time.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	c := &p.operator
	if fromHarness {
		c = &p.harness
	}
	c.ByClass[class]++
	if class == classList && r.URL.Query().Get("page_token") == "" {
		c.ListStarts++
	}
	if rec.status < 200 || rec.status >= 300 {
		c.NotOK[fmt.Sprintf("%s %d", class, rec.status)]++
	}
	switch {
	case rec.status == http.StatusBadGateway:
		c.Failed++
	case rec.status >= 500:
		c.Status5xx++
	case rec.status >= 400:
		c.Status4xx++
	case !fromHarness && rec.status >= 200 && rec.status < 300:
		p.lastOK[class] = now
	}
}

// Operator returns a copy of the operator's counts so far.
func (p *countingProxy) Operator() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.operator)
}

// Harness returns a copy of the harness's counts so far.
func (p *countingProxy) Harness() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.harness)
}

// LastRequest is when the operator's latest request arrived (zero: none yet).
func (p *countingProxy) LastRequest() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastReq
}

// LastSuccess is when the latest 2xx answer of this class reached the operator.
func (p *countingProxy) LastSuccess(class string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastOK[class]
}

func copyCounts(c Counts) Counts {
	out := c
	out.ByClass, out.NotOK = map[string]int64{}, map[string]int64{}
	for _, k := range classes {
		out.ByClass[k] = c.ByClass[k]
	}
	for k, v := range c.NotOK {
		out.NotOK[k] = v
	}
	return out
}

func (p *countingProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = p.srv.Close()
	}
	if err != nil {
		return fmt.Errorf("stopping the proxy: %w", err)
	}
	return nil
}
