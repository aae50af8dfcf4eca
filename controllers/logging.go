package controllers

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// failureMessage is the one line a failed pass logs.
const failureMessage = "Reconcile failed; retrying with backoff"

// reconcilerErrorMessage is how controller-runtime logs an error a Reconcile returned, at error
// level and so with a stack trace in zap's production setting.
const reconcilerErrorMessage = "Reconciler error"

// logFailure is the one log line of a failed pass. controller-runtime's own line about the same
// error is demoted to debug (see logConstructor), so a retried outage costs one line per retry,
// with what someone grepping for a resource looks for. The error never holds Secret data: Hydra
// errors are redacted by the adapter, API errors carry no data.
func logFailure(ctx context.Context, obj *v1alpha1.OAuth2Client, err error) {
	kv := []any{"server", DefaultServer, "reason", failureReason(err)}
	if id := knownClientID(obj); id != "" {
		kv = append(kv, "clientID", id)
	}
	ctrl.LoggerFrom(ctx).Error(err, failureMessage, kv...)
}

// failureReason is the Ready reason a transient failure shows, also in its log line.
func failureReason(err error) string {
	var unavailable *ServerUnavailableError
	if errors.As(err, &unavailable) {
		return unavailableReason(unavailable)
	}
	return v1alpha1.ReasonProgressing
}

// unavailableReason: AuthorizationServerUnavailable for the default server, which has no
// object; AuthorizationServerNotReady for a server object, whose status says more.
func unavailableReason(e *ServerUnavailableError) string {
	if e.Server == DefaultServer {
		return v1alpha1.ReasonAuthorizationServerUnavailable
	}
	return v1alpha1.ReasonAuthorizationServerNotReady
}

// knownClientID is the client ID registered (status) or to be registered (spec, UID); empty
// when the pass failed before the resource was read.
func knownClientID(obj *v1alpha1.OAuth2Client) string {
	if obj.Status.ClientID != "" {
		return obj.Status.ClientID
	}
	return clientIDFor(obj)
}

// logConstructor gives the controller the logger controller-runtime's builder would (the same
// keys: controller, controllerGroup, controllerKind, OAuth2Client, namespace, name), except that
// its "Reconciler error" line is demoted to debug: Reconcile logs every failure itself.
func logConstructor(base logr.Logger) func(*reconcile.Request) logr.Logger {
	if sink := base.GetSink(); sink != nil {
		// One more frame between the caller and zap: its caller annotation stays right.
		base = base.WithSink(demotedReconcilerErrors{sink}).WithCallDepth(1)
	}
	base = base.WithValues("controller", controllerName,
		"controllerGroup", v1alpha1.GroupVersion.Group, "controllerKind", "OAuth2Client")
	return func(req *reconcile.Request) logr.Logger {
		if req == nil {
			return base
		}
		return base.WithValues("OAuth2Client", req.NamespacedName,
			"namespace", req.Namespace, "name", req.Name)
	}
}

// demotedReconcilerErrors passes everything through to its sink but controller-runtime's
// "Reconciler error", which it logs at debug level (V(1)) without a stack trace. The retry
// itself is untouched: controller-runtime still requeues the error with the rate limiter and
// counts it in controller_runtime_reconcile_errors_total.
type demotedReconcilerErrors struct{ logr.LogSink }

func (s demotedReconcilerErrors) Error(err error, msg string, kv ...any) {
	if msg != reconcilerErrorMessage {
		s.LogSink.Error(err, msg, kv...)
		return
	}
	if s.Enabled(1) {
		s.Info(1, msg, append(kv, "error", err)...)
	}
}

func (s demotedReconcilerErrors) WithValues(kv ...any) logr.LogSink {
	return demotedReconcilerErrors{s.LogSink.WithValues(kv...)}
}

func (s demotedReconcilerErrors) WithName(name string) logr.LogSink {
	return demotedReconcilerErrors{s.LogSink.WithName(name)}
}

// WithCallDepth keeps zap's caller annotation pointing at the code that logged.
func (s demotedReconcilerErrors) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.LogSink.(logr.CallDepthLogSink); ok {
		return demotedReconcilerErrors{cd.WithCallDepth(depth)}
	}
	return s
}
