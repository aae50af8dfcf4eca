package controllers

// The errors a pass ends with, typed by what happens next (summarize): a wait with a delay, a
// stall until the spec or the environment changes, or a short deferral; any other error is
// transient and retried with backoff.

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// errScanPending defers a settled resource until the drift scanner's first scan tells whether
// Hydra still holds its client, so that a restart costs a few list pages, not a read per client.
var errScanPending = errors.New("waiting for the first drift scan")

// errStaleCache defers a pass that read from a cache which does not yet show this process's
// own last write: of status (the work is done, and redoing it would re-register the secret, a
// password hash at Hydra, for nothing) or of a rotation to the Secret (cacheBehindRotation: a
// rotation decided on it would rotate again).
var errStaleCache = errors.New("the cache has not caught up with this process's last write")

// stalledError ends a pass without retry: the spec (or the environment) has to change first.
type stalledError struct{ reason, message string }

func (e *stalledError) Error() string { return e.reason + ": " + e.message }

func stalled(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// waitingError ends a pass that waits for something outside the operator, such as a Secret
// that another tool will write; the pass is repeated after a delay.
type waitingError struct {
	reason, message string
	after           time.Duration
}

func (e *waitingError) Error() string { return e.reason + ": " + e.message }

// isGone reports whether a read failed because the object does not exist.
func isGone(err error) bool { return apierrors.IsNotFound(err) }
