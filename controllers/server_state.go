package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// DefaultServer names the one authorization server the operator registers clients at, in
// metrics, logs and messages; the label is there so that several servers can follow.
const DefaultServer = "default"

// ServerState learns whether the authorization server is available from the outcome of every
// call the operator makes to it: the reconciler's and the drift scanner's, which share the
// client that Observe returns. It serves the state as a gauge, counts failed calls by cause, and
// says so once per change of state (a log line, and an Event on the resource whose pass saw
// the change), never once per pass: an outage of an hour at a thousand resources would
// otherwise bury everything else.
type ServerState struct {
	name string

	mu sync.Mutex
	// down and cause are the state last seen. Until the first call the server counts as up for
	// the log (a start against a reachable server is no news), but the gauge has no series yet.
	down  bool
	cause hydra.Cause

	// circuit, set for the servers that have an object and so a health check of their own,
	// makes every call fail at once while the server is down, instead of each pass waiting for
	// a timeout on a worker that the clients of other servers need. The next successful check
	// of the server closes it (MarkReachable). The default server has no check: its passes
	// keep trying, with the controller's backoff.
	circuit bool
	// onDown, when set, is called when a call finds the server down: its health check runs
	// at once.
	onDown func()
}

// errCircuitOpen is the error of a call not made because the server is down.
var errCircuitOpen = errors.New("not sent: the server was unavailable at the last call and has not passed a check since")

// open returns the error a call gets without being sent while the circuit is open; nil when
// the call may go.
func (s *ServerState) open() error {
	if !s.circuit {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		return nil
	}
	return &ServerUnavailableError{Server: s.name, Cause: s.cause, Err: errCircuitOpen}
}

// MarkReachable records a successful health check: the server is up, and its circuit closes.
func (s *ServerState) MarkReachable(ctx context.Context) {
	_ = s.observe(ctx, nil) // success: nothing to return
}

// NewServerState tracks the authorization server called name, with its metrics on
// controller-runtime's registry.
func NewServerState(name string) *ServerState {
	registerServerMetrics(name)
	return &ServerState{name: name}
}

// Observe wraps c so that every call's outcome updates the state.
func (s *ServerState) Observe(c hydra.Client) hydra.Client {
	return &observedClient{inner: c, state: s}
}

// serverChange is one change of the server's state.
type serverChange struct {
	server string
	down   bool
	cause  hydra.Cause
}

// record takes in one call's outcome and reports whether it changed the state.
func (s *ServerState) record(err error) (serverChange, bool) {
	cause, known := hydra.Availability(err)
	if !known {
		return serverChange{}, false
	}
	down := cause != ""
	if down {
		serverErrors.WithLabelValues(s.name, string(cause)).Inc()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	serverUp.WithLabelValues(s.name).Set(upValue(down))
	// A new cause while down (a timeout after refused connections) is the same outage.
	if down == s.down {
		return serverChange{}, false
	}
	s.down, s.cause = down, cause
	if down && s.onDown != nil {
		s.onDown()
	}
	return serverChange{server: s.name, down: down, cause: cause}, true
}

func upValue(down bool) float64 {
	if down {
		return 0
	}
	return 1
}

// ServerUnavailableError is the error of a call that found the authorization server
// unavailable. The reconciler reports it with reason AuthorizationServerUnavailable; it is
// still transient (hydra.IsTransient) and retried with backoff.
type ServerUnavailableError struct {
	Server string
	Cause  hydra.Cause
	Err    error
}

func (e *ServerUnavailableError) Error() string { return e.Err.Error() }

func (e *ServerUnavailableError) Unwrap() error { return e.Err }

// unavailableMessage is the status message of a resource whose pass found the server
// unavailable. It holds only the server and the cause, nothing that differs from one retry to
// the next (a port, a count, a time), so that repeated failures write no status: the error
// itself is in the operator's log, once per pass.
func unavailableMessage(e *ServerUnavailableError) string {
	if e.Server != DefaultServer {
		kind, name, _ := strings.Cut(e.Server, "/")
		if ns, n, namespaced := strings.Cut(name, "/"); namespaced {
			name = n + " -n " + ns
		}
		if e.Cause == hydra.CauseUnauthorized {
			return fmt.Sprintf("The authorization server %s refused the operator's credentials (see kubectl describe %s %s); retrying with backoff", e.Server, strings.ToLower(kind), name)
		}
		return fmt.Sprintf("The authorization server %s is unavailable (%s; see kubectl describe %s %s); retrying with backoff, and at once when it is Ready again", e.Server, e.Cause, strings.ToLower(kind), name)
	}
	if e.Cause == hydra.CauseUnauthorized {
		return fmt.Sprintf("The authorization server %q refused the operator's credentials (check the operator's "+
			"--hydra-admin-token-file and Hydra's admin access rules); retrying with backoff", e.Server)
	}
	return fmt.Sprintf("The authorization server %q is unavailable (%s); retrying with backoff", e.Server, e.Cause)
}

// onServerChangeKey carries, in the context of a pass, what to do when one of the pass's calls
// changes the server's state: record an Event on the pass's resource, the only object at hand.
type onServerChangeKey struct{}

func withServerChangeEvents(ctx context.Context, r *OAuth2ClientReconciler, obj *v1alpha1.OAuth2Client) context.Context {
	return context.WithValue(ctx, onServerChangeKey{}, func(c serverChange) {
		if c.down {
			r.event(obj, corev1.EventTypeWarning, reasonServerDown, fmt.Sprintf(
				"The authorization server %q became unavailable (%s) during this resource's pass; every resource "+
					"that needs it waits until it answers again", c.server, c.cause))
			return
		}
		r.event(obj, corev1.EventTypeNormal, reasonServerUp, fmt.Sprintf(
			"The authorization server %q answered again during this resource's pass", c.server))
	})
}

// Event reasons of a change of the server's state, told apart from a resource's own condition
// reasons: a resource records them only when its pass is the one that saw the change.
const (
	reasonServerDown = "AuthorizationServerDown"
	reasonServerUp   = "AuthorizationServerUp"
)

// observe records one call's outcome. On a change of state it logs one line and calls the
// pass's handler, if the call came from a pass (the drift scanner's do not). An error that
// says the server is unavailable is returned as a *ServerUnavailableError.
func (s *ServerState) observe(ctx context.Context, err error) error {
	change, changed := s.record(err)
	if changed {
		log := ctrl.LoggerFrom(ctx)
		if change.down {
			// Info, not Error: the outage is not the operator's failure and needs no stack trace.
			log.Info("Authorization server unavailable; calls are retried with backoff",
				"server", change.server, "cause", string(change.cause), "error", err.Error())
		} else {
			log.Info("Authorization server available again", "server", change.server)
		}
		if notify, ok := ctx.Value(onServerChangeKey{}).(func(serverChange)); ok {
			notify(change)
		}
	}
	if cause, _ := hydra.Availability(err); cause != "" {
		return &ServerUnavailableError{Server: s.name, Cause: cause, Err: err}
	}
	return err
}

// observedClient is a hydra.Client whose every call's outcome goes to a ServerState.
type observedClient struct {
	inner hydra.Client
	state *ServerState
}

func (c *observedClient) Get(ctx context.Context, id string) (*hydra.OAuth2Client, error) {
	if err := c.state.open(); err != nil {
		return nil, err
	}
	out, err := c.inner.Get(ctx, id)
	return out, c.state.observe(ctx, err)
}

func (c *observedClient) Create(ctx context.Context, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := c.state.open(); err != nil {
		return nil, err
	}
	out, err := c.inner.Create(ctx, cl)
	return out, c.state.observe(ctx, err)
}

func (c *observedClient) Update(ctx context.Context, id string, cl *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := c.state.open(); err != nil {
		return nil, err
	}
	out, err := c.inner.Update(ctx, id, cl)
	return out, c.state.observe(ctx, err)
}

func (c *observedClient) Delete(ctx context.Context, id string) error {
	if err := c.state.open(); err != nil {
		return err
	}
	return c.state.observe(ctx, c.inner.Delete(ctx, id))
}

func (c *observedClient) RotateSecret(ctx context.Context, id, secret string) error {
	if err := c.state.open(); err != nil {
		return err
	}
	return c.state.observe(ctx, c.inner.RotateSecret(ctx, id, secret))
}

func (c *observedClient) ClearRotatedSecrets(ctx context.Context, id string) error {
	if err := c.state.open(); err != nil {
		return err
	}
	return c.state.observe(ctx, c.inner.ClearRotatedSecrets(ctx, id))
}

// List observes the listing as one call: an error from fn is the caller's, not the server's.
func (c *observedClient) List(ctx context.Context, ownerFilter string, pageSize int, fn func(page []hydra.OAuth2Client) error) error {
	if err := c.state.open(); err != nil {
		return err
	}
	var fnErr error
	err := c.inner.List(ctx, ownerFilter, pageSize, func(page []hydra.OAuth2Client) error {
		fnErr = fn(page)
		return fnErr
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		return err
	}
	return c.state.observe(ctx, err)
}
