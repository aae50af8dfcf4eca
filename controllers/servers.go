package controllers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// Server is one authorization server as a pass uses it: where to register the client, the
// endpoints its Secret lists, and the drift scanner that checks that server's clients.
type Server struct {
	// Name labels the server in metrics, logs and messages: DefaultServer, or the server
	// object's kind and name (serverKey.String).
	Name string
	// Hydra is the server's admin API, observed by the server's ServerState.
	Hydra hydra.Client
	// Endpoints are the server's public URLs, for secretTemplate.includeEndpoints.
	Endpoints secrets.Endpoints
	// Drift answers for the server's drift scanner; nil: every pass reads Hydra.
	Drift DriftVerdicts
	// slots bounds the passes that use the server at once to --max-concurrent-reconciles. The
	// controller runs twice as many workers (a bulkhead): a server that hangs holds at most its
	// own share of them until its circuit opens, and the other servers keep a full share. Nil:
	// no bound.
	slots chan struct{}
	// lastRelease is when a slot was last freed (UnixNano).
	lastRelease *atomic.Int64
}

// acquire takes one of the server's slots. When all are taken it waits up to slotWait, but
// only while the server is moving (a slot was freed within slotWait): a healthy server frees
// one within milliseconds, while the slots of a server that hangs stay taken, and waiting for
// them would hold a worker that the clients of other servers need. false: no slot; the pass
// gives its worker back.
func (s *Server) acquire(ctx context.Context) bool {
	if s.slots == nil {
		return true
	}
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	if time.Since(time.Unix(0, s.lastRelease.Load())) > slotWait {
		return false
	}
	timer := time.NewTimer(slotWait)
	defer timer.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// slotWait is how long a pass waits for one of its server's slots before it gives its worker
// back to the clients of other servers.
const slotWait = 200 * time.Millisecond

func (s *Server) release() {
	if s.slots != nil {
		s.lastRelease.Store(time.Now().UnixNano())
		<-s.slots
	}
}

// verdicts are the server's drift scanner's, or a stand-in that knows nothing.
func (s *Server) verdicts() DriftVerdicts {
	if s.Drift == nil {
		return noDrift{}
	}
	return s.Drift
}

// serverKey identifies a server object: an AuthorizationServer by namespace and name, a
// ClusterAuthorizationServer by name.
type serverKey struct {
	kind      v1alpha1.AuthorizationServerKind
	namespace string
	name      string
}

// String is the key as metrics, logs and the reconciler's index write it.
func (k serverKey) String() string {
	if k.kind == v1alpha1.AuthorizationServerKindCluster {
		return string(k.kind) + "/" + k.name
	}
	return string(k.kind) + "/" + k.namespace + "/" + k.name
}

// referencedServer is the key of the server obj refers to; ok is false without a reference.
func referencedServer(obj *v1alpha1.OAuth2Client) (serverKey, bool) {
	ref := obj.Spec.AuthorizationServerRef
	if ref == nil {
		return serverKey{}, false
	}
	k := serverKey{kind: ref.Kind, name: ref.Name}
	if ref.Kind != v1alpha1.AuthorizationServerKindCluster {
		k.namespace = obj.Namespace
	}
	return k, true
}

// keyOfServer is the key of a server object.
func keyOfServer(obj authorizationServer) serverKey {
	if obj.GetNamespace() == "" {
		return serverKey{kind: v1alpha1.AuthorizationServerKindCluster, name: obj.GetName()}
	}
	return serverKey{kind: v1alpha1.AuthorizationServerKindNamespaced, namespace: obj.GetNamespace(), name: obj.GetName()}
}

// ServerDirectory holds a connection for each server object whose check got as far as reading
// its credentials. The AuthorizationServer reconciler keeps it current: a rotated token or CA
// replaces the connection's credentials at the next check, without a restart. The OAuth2Client
// reconciler looks servers up in it. Each server has its own ServerState (metrics, circuit),
// rate limiter, slots and drift scanner, so that a slow or down server does not hold up
// another's clients.
type ServerDirectory struct {
	// WrapTransport wraps each server's HTTP transport: the leader-election write fence.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// WrapConn wraps each connection to a server: the fence again, at the socket.
	WrapConn func(net.Conn) net.Conn
	// Workers is --max-concurrent-reconciles: how many passes may use one server at once.
	Workers int
	// StartScanner, when set, starts a drift scanner for a new server's clients and returns its
	// verdicts and how to stop it; without it servers have no scanner (every pass reads Hydra).
	StartScanner func(s *Server, selects func(*v1alpha1.OAuth2Client) bool) (DriftVerdicts, func())

	mu      sync.RWMutex
	entries map[serverKey]*serverEntry
	recheck map[v1alpha1.AuthorizationServerKind]chan event.GenericEvent
}

// serverEntry is a server with what its reconciler may change.
type serverEntry struct {
	server *Server
	state  *ServerState
	client *swappableClient
	// opts are the options the current client was built with (credentials included, kept in
	// memory only), to tell a change.
	opts        hydra.Options
	rateLimit   *v1alpha1.RateLimit
	publicURL   string
	stopScanner func()
}

// Lookup returns the server of key, or nil when no check has read its credentials yet.
func (d *ServerDirectory) Lookup(key serverKey) *Server {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if e := d.entries[key]; e != nil {
		return e.server
	}
	return nil
}

// configure makes the directory's server of key use opts, the endpoints and the rate limit:
// a new server is created (with its scanner), a changed one gets a new admin client, an
// unchanged one is left as it is. It returns the server's state.
func (d *ServerDirectory) configure(key serverKey, opts hydra.Options, publicURL string, endpoints secrets.Endpoints, limit *v1alpha1.RateLimit) (*ServerState, error) {
	opts.Server = key.String()
	opts.WrapTransport, opts.WrapConn = d.WrapTransport, d.WrapConn
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entries == nil {
		d.entries = map[serverKey]*serverEntry{}
	}
	e := d.entries[key]
	if e != nil && sameOptions(e.opts, opts) && reflect.DeepEqual(e.rateLimit, limit) && e.publicURL == publicURL {
		return e.state, nil
	}
	c, err := hydra.New(opts)
	if err != nil {
		return nil, err
	}
	if e != nil {
		e.client.set(withRateLimit(c, limit))
		// Endpoints are read by passes without the lock: a new Server, not a changed one.
		server := *e.server
		server.Endpoints = endpoints
		e.server = &server
		e.opts, e.rateLimit, e.publicURL = opts, limit, publicURL
		return e.state, nil
	}
	e = &serverEntry{state: NewServerState(key.String()), client: &swappableClient{}, opts: opts, rateLimit: limit, publicURL: publicURL}
	e.state.circuit = true
	e.state.onDown = func() { d.askForCheck(key) }
	e.client.set(withRateLimit(c, limit))
	e.server = &Server{Name: key.String(), Hydra: e.state.Observe(e.client), Endpoints: endpoints,
		slots: make(chan struct{}, max(1, d.Workers)), lastRelease: &atomic.Int64{}}
	if d.StartScanner != nil {
		e.server.Drift, e.stopScanner = d.StartScanner(e.server, func(obj *v1alpha1.OAuth2Client) bool {
			k, ok := referencedServer(obj)
			return ok && k == key
		})
	}
	d.entries[key] = e
	return e.state, nil
}

// remove forgets the server of key: its scanner stops and its metrics go.
func (d *ServerDirectory) remove(key serverKey) {
	if d == nil {
		return
	}
	d.mu.Lock()
	e := d.entries[key]
	delete(d.entries, key)
	d.mu.Unlock()
	if e == nil {
		return
	}
	if e.stopScanner != nil {
		e.stopScanner()
	}
	forgetServerMetrics(key.String())
	hydra.ForgetServer(key.String())
}

// sameOptions compares what a server's client is built from. The client certificate is
// compared by its DER bytes; the rest by value.
func sameOptions(a, b hydra.Options) bool {
	certA, certB := a.ClientCertificate, b.ClientCertificate
	a.ClientCertificate, b.ClientCertificate = nil, nil
	a.WrapTransport, b.WrapTransport = nil, nil
	a.WrapConn, b.WrapConn = nil, nil
	if !reflect.DeepEqual(a, b) {
		return false
	}
	if (certA == nil) != (certB == nil) {
		return false
	}
	return certA == nil || reflect.DeepEqual(certA.Certificate, certB.Certificate)
}

// swappableClient is a hydra.Client whose connection can be replaced while passes use it.
type swappableClient struct {
	mu    sync.RWMutex
	inner hydra.Client
}

func (c *swappableClient) set(inner hydra.Client) {
	c.mu.Lock()
	c.inner = inner
	c.mu.Unlock()
}

func (c *swappableClient) current() hydra.Client {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.inner
}

func (c *swappableClient) Get(ctx context.Context, id string) (*hydra.OAuth2Client, error) {
	return c.current().Get(ctx, id)
}

func (c *swappableClient) Create(ctx context.Context, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	return c.current().Create(ctx, cl)
}

func (c *swappableClient) Update(ctx context.Context, id string, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	return c.current().Update(ctx, id, cl)
}

func (c *swappableClient) Delete(ctx context.Context, id string) error {
	return c.current().Delete(ctx, id)
}

func (c *swappableClient) List(ctx context.Context, owner string, pageSize int, fn func([]hydra.OAuth2Client) error) error {
	return c.current().List(ctx, owner, pageSize, fn)
}

func (c *swappableClient) RotateSecret(ctx context.Context, id, secret string) error {
	return c.current().RotateSecret(ctx, id, secret)
}

func (c *swappableClient) ClearRotatedSecrets(ctx context.Context, id string) error {
	return c.current().ClearRotatedSecrets(ctx, id)
}

// withRateLimit bounds c's requests by limit (spec.rateLimit); c itself without one.
func withRateLimit(c hydra.Client, limit *v1alpha1.RateLimit) hydra.Client {
	if limit == nil {
		return c
	}
	burst := int(limit.Burst)
	if burst < int(limit.QPS) {
		burst = int(limit.QPS)
	}
	return &rateLimitedClient{inner: c, limiter: rate.NewLimiter(rate.Limit(limit.QPS), burst)}
}

// rateLimitedClient waits for its limiter before each request; a wait that would outlast the
// context fails at once, as a transient error.
type rateLimitedClient struct {
	inner   hydra.Client
	limiter *rate.Limiter
}

var errRateLimited = errors.New("the server's rate limit (spec.rateLimit) leaves no room before the deadline")

func (c *rateLimitedClient) wait(ctx context.Context) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return errRateLimited
	}
	return nil
}

func (c *rateLimitedClient) Get(ctx context.Context, id string) (*hydra.OAuth2Client, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.inner.Get(ctx, id)
}

func (c *rateLimitedClient) Create(ctx context.Context, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.inner.Create(ctx, cl)
}

func (c *rateLimitedClient) Update(ctx context.Context, id string, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	return c.inner.Update(ctx, id, cl)
}

func (c *rateLimitedClient) Delete(ctx context.Context, id string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.inner.Delete(ctx, id)
}

// List waits once per listing: pages of one scan are few.
func (c *rateLimitedClient) List(ctx context.Context, owner string, pageSize int, fn func([]hydra.OAuth2Client) error) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.inner.List(ctx, owner, pageSize, fn)
}

func (c *rateLimitedClient) RotateSecret(ctx context.Context, id, secret string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.inner.RotateSecret(ctx, id, secret)
}

func (c *rateLimitedClient) ClearRotatedSecrets(ctx context.Context, id string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	return c.inner.ClearRotatedSecrets(ctx, id)
}

// serverIndex indexes OAuth2Clients by the server they refer to (serverKey.String), so that a
// server's change reaches its clients and a server being deleted knows whether any remain.
const serverIndex = "spec.authorizationServerRef"

func indexedServer(obj *v1alpha1.OAuth2Client) []string {
	if k, ok := referencedServer(obj); ok {
		return []string{k.String()}
	}
	return nil
}

// requestsFor are the reconcile requests of the OAuth2Clients in clients.
func requestsFor(clients []v1alpha1.OAuth2Client) []types.NamespacedName {
	out := make([]types.NamespacedName, len(clients))
	for i := range clients {
		out[i] = types.NamespacedName{Namespace: clients[i].Namespace, Name: clients[i].Name}
	}
	return out
}
