// Package hydrafake is an in-memory stand-in for the part of Ory Hydra's admin API that the
// operator uses: GET and POST /admin/clients, and GET, PUT and DELETE /admin/clients/{id}.
// It is an http.Handler served on a loopback port, so that tests point the real adapter
// (hydra.New with AdminURL set to the fake's URL) at it, and the adapter's error typing and
// pagination run as they do against Hydra.
//
// It answers as Hydra v2.3.0 does (and, after SupportSecretRotation, serves the secret
// rotation endpoint of later versions: rotate.go): the same status codes, error bodies, defaults, validation
// rules (the ones that need no network), secret handling and Link headers. That is not taken
// on trust: internal/hydra/contract_test.go runs the same cases against the fake and against
// a real Hydra, and says where the two differ in ways the operator does not depend on. A
// change here belongs with a row there.
//
// What a real Hydra can't do on demand, the fake can: FailNext answers with an error status,
// HangNext holds requests until their context ends, Calls counts requests, SecretMatches
// checks a secret without a token endpoint.
//
//	fake := hydrafake.Start(t)
//	hc, err := hydra.New(hydra.Options{AdminURL: fake.URL})
//	...
//	fake.FailNextOn(hydrafake.OpUpdate, 1, http.StatusServiceUnavailable)
package hydrafake

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Op names one kind of request to the admin API.
type Op string

// The operations the fake serves, one per route.
const (
	OpGet    Op = "get"    // GET /admin/clients/{id}
	OpList   Op = "list"   // GET /admin/clients, one page
	OpCreate Op = "create" // POST /admin/clients
	OpUpdate Op = "update" // PUT /admin/clients/{id}
	OpDelete Op = "delete" // DELETE /admin/clients/{id}
)

// Calls counts the requests the fake received, by operation, including those it failed or
// held on purpose.
type Calls struct {
	Get, List, Create, Update, Delete int
	// Rotate counts the requests to the rotation endpoint (rotate.go), either method.
	Rotate int
}

// Total is the number of requests of any operation.
func (c Calls) Total() int { return c.Get + c.List + c.Create + c.Update + c.Delete + c.Rotate }

// Fake is Hydra's admin API in memory. It is safe for concurrent use.
type Fake struct {
	// URL is the base URL of the admin API, for hydra.Options.AdminURL.
	URL string

	server    *httptest.Server
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	clients map[string]*record
	calls   Calls
	faults  []fault
	// rotation: the rotation endpoint is served (SupportSecretRotation).
	rotation bool
}

// fault is one request the fake answers wrongly on purpose: with status, or not at all when
// status is 0. An empty op matches any request.
type fault struct {
	op     Op
	status int
}

// New starts a fake with no clients on a loopback port. Close stops it.
func New() *Fake {
	f := &Fake{clients: map[string]*record{}, closed: make(chan struct{})}
	f.server = httptest.NewServer(f)
	f.URL = f.server.URL
	return f
}

// Start is New for one test: the fake is closed when the test ends.
func Start(tb testing.TB) *Fake {
	f := New()
	tb.Cleanup(f.Close)
	return f
}

// Close stops the server. Requests held by HangNext are cut off, so that Close never waits
// for a client that does not give up.
func (f *Fake) Close() {
	f.closeOnce.Do(func() {
		close(f.closed)
		f.server.Close()
	})
}

// FailNext makes the next n requests, of any operation, answer status with a Hydra-style
// error body, without looking at or changing any client.
func (f *Fake) FailNext(n, status int) { f.FailNextOn("", n, status) }

// FailNextOn is FailNext for requests of one operation; the others are answered as usual.
func (f *Fake) FailNextOn(op Op, n, status int) {
	f.addFaults(fault{op: op, status: status}, n)
}

// HangNext makes the next n requests wait, unanswered, until the client gives up (its
// request context ends) or the fake is closed: a Hydra that accepted the connection and
// then got stuck.
func (f *Fake) HangNext(n int) { f.addFaults(fault{}, n) }

func (f *Fake) addFaults(ft fault, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, ft)
	}
}

// Calls returns how many requests the fake received so far.
func (f *Fake) Calls() Calls {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// SecretMatches reports whether secret is the current secret of the client with this ID, or
// one a rotation at the server keeps working:
// what a client_credentials request at Hydra's token endpoint would tell.
func (f *Fake) SecretMatches(id, secret string) bool {
	f.mu.Lock()
	rec, ok := f.clients[id]
	f.mu.Unlock()
	if !ok {
		return false
	}
	hash := hashSecret(secret)
	return rec.secretHash == hash || slices.Contains(rec.rotated, hash)
}

// hashSecret is how the fake keeps secrets: never in the clear, as Hydra does (Hydra uses
// PBKDF2 or BCrypt; nothing here needs a slow hash).
func hashSecret(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

const clientsPath = "/admin/clients"

// ServeHTTP routes like Hydra's router, which matches the unescaped path: an ID with a '/'
// (escaped or not) reaches no route, which is why the adapter refuses to create one.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, id, ok := route(r.Method, r.URL.Path)
	if !ok {
		op, id, ok = rotationRoute(r.Method, r.URL.Path)
		f.mu.Lock()
		supported := f.rotation
		f.mu.Unlock()
		if ok && !supported { // counted, and answered as by a Hydra without the route
			f.count(op)
			ok = false
		}
	}
	if !ok {
		writeRouteNotFound(w, r)
		return
	}
	f.count(op)
	if ft, found := f.takeFault(op); found {
		f.answerFault(w, r, ft)
		return
	}
	switch op {
	case OpGet:
		f.get(w, id)
	case OpList:
		f.list(w, r)
	case OpCreate:
		f.create(w, r)
	case OpUpdate:
		f.update(w, r, id)
	case OpDelete:
		f.delete(w, id)
	case OpRotate:
		f.rotate(w, r, id)
	case OpClearRotated:
		f.clearRotated(w, id)
	}
}

// route maps a request to an operation and the client ID in its path.
func route(method, path string) (op Op, id string, ok bool) {
	if path == clientsPath {
		switch method {
		case http.MethodGet:
			return OpList, "", true
		case http.MethodPost:
			return OpCreate, "", true
		}
		return "", "", false
	}
	id, found := strings.CutPrefix(path, clientsPath+"/")
	if !found || id == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	switch method {
	case http.MethodGet:
		return OpGet, id, true
	case http.MethodPut:
		return OpUpdate, id, true
	case http.MethodDelete:
		return OpDelete, id, true
	}
	return "", "", false
}

func (f *Fake) count(op Op) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case OpGet:
		f.calls.Get++
	case OpList:
		f.calls.List++
	case OpCreate:
		f.calls.Create++
	case OpUpdate:
		f.calls.Update++
	case OpDelete:
		f.calls.Delete++
	case OpRotate, OpClearRotated:
		f.calls.Rotate++
	}
}

// takeFault removes and returns the first queued fault that applies to op.
func (f *Fake) takeFault(op Op) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.op == "" || ft.op == op {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			return ft, true
		}
	}
	return fault{}, false
}

func (f *Fake) answerFault(w http.ResponseWriter, r *http.Request, ft fault) {
	if ft.status != 0 {
		writeError(w, apiError{status: ft.status, code: http.StatusText(ft.status), description: "injected by hydrafake"})
		return
	}
	select {
	case <-r.Context().Done():
	case <-f.closed:
	}
	// Drops the connection without an answer, as a stuck server that is finally cut off.
	panic(http.ErrAbortHandler)
}
