package hydra

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	hydraclient "github.com/ory/hydra-client-go/v2"
)

// APIError is an answer from Hydra's admin API with a status code that is not a success.
// It carries Hydra's error code and description; it never carries a client secret.
type APIError struct {
	// Op is the operation: get, create, update, delete or list.
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Code is Hydra's `error` field, such as invalid_redirect_uri.
	Code string
	// Description is Hydra's `error_description` (or `error` when there is none).
	Description string
}

func (e *APIError) Error() string {
	msg := e.Description
	if msg == "" {
		msg = e.Code
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("hydra %s: %d: %s", e.Op, e.StatusCode, msg)
}

// concurrentUpdateMessage is how Hydra words a write that lost a race inside its database
// (a serialisation failure). Hydra answers it with 400 although the request was fine, so it
// must be told apart from a real validation error.
const concurrentUpdateMessage = "Unable to serialize access due to a concurrent update"

// concurrentUpdate reports whether Hydra blamed a concurrent write rather than the request.
func (e *APIError) concurrentUpdate() bool {
	return strings.Contains(e.Code, concurrentUpdateMessage) ||
		strings.Contains(e.Description, concurrentUpdateMessage)
}

func statusOf(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsNotFound reports whether Hydra answered 404.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether Hydra answered 409 (a client with that ID exists already).
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsUnauthorized reports whether Hydra's admin API (or a gateway in front of it) refused the
// operator's own credentials with 401 or 403. That says nothing about the client being
// registered: it is the operator's configuration, which an administrator fixes.
func IsUnauthorized(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

// IsRejected reports whether Hydra refused the request because of what it asked for: the
// same request will be refused again, so the caller should report it against the spec and
// stop retrying until the spec changes. 404 and 409 are excluded because they describe the
// state of the server, which the caller handles on its own; 429 and Hydra's concurrent-update
// 400 are excluded because they pass by themselves, and 401 and 403 because they refuse the
// operator, not the spec (see IsTransient).
func IsRejected(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch s := apiErr.StatusCode; {
	case s < 400 || s >= 500:
		return false
	case s == http.StatusNotFound, s == http.StatusConflict, s == http.StatusTooManyRequests,
		s == http.StatusUnauthorized, s == http.StatusForbidden:
		return false
	}
	return !apiErr.concurrentUpdate()
}

// IsTransient reports whether the same request may well succeed later: Hydra or the network
// failed, not the request. Callers retry these with backoff instead of reporting them against
// the spec. 401 and 403 count too: the operator's credentials for the admin API are wrong or
// not yet valid (a token being rotated, an access rule being deployed), and a retry with
// backoff picks up the fix without anyone touching the resources.
// A cancelled context is not transient: the caller gave up, nothing is to be retried.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 ||
			apiErr.StatusCode == http.StatusTooManyRequests ||
			IsUnauthorized(apiErr) ||
			apiErr.concurrentUpdate()
	}
	return isTransportError(err)
}

// isTransportError recognises failures below HTTP: the request may never have reached Hydra,
// or its answer was cut off.
func isTransportError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, errBadResponse)
}

// Cause says why a call found the authorization server unavailable. The values are metric
// labels and appear in status messages, so they are few and fixed.
type Cause string

// The causes of unavailability.
const (
	// CauseUnreachable: no connection, or it was cut (refused, reset, no route, unknown host,
	// a certificate the operator does not trust).
	CauseUnreachable Cause = "unreachable"
	// CauseTimeout: no answer within the request timeout.
	CauseTimeout Cause = "timeout"
	// CauseUnauthorized: the admin API (or a gateway in front of it) answered 401 or 403 to the
	// operator's own credentials.
	CauseUnauthorized Cause = "unauthorized"
	// CauseServerError: an answer of 5xx, or a success whose body could not be read.
	CauseServerError Cause = "server_error"
)

// Availability says what the outcome of one call tells about the server: unavailable with a
// cause; available (cause "", known) when it answered at all, even 404 or 400; or nothing
// (known false) when the request never left the process or the caller gave up, as with a
// cancelled context or the leader-election fence refusing a write.
func Availability(err error) (cause Cause, known bool) {
	var apiErr *APIError
	switch {
	case err == nil:
		return "", true
	case errors.Is(err, context.Canceled):
		return "", false
	case errors.As(err, &apiErr):
		return answerCause(apiErr.StatusCode), true
	case isTimeout(err):
		return CauseTimeout, true
	case errors.Is(err, errBadResponse):
		return CauseServerError, true
	case isConnectionFailure(err):
		return CauseUnreachable, true
	}
	return "", false
}

// answerCause: an answer proves the server is there; only 5xx and a refusal of the operator's
// credentials make it unusable for every resource alike.
func answerCause(status int) Cause {
	switch {
	case status >= 500:
		return CauseServerError
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return CauseUnauthorized
	}
	return ""
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// isConnectionFailure recognises a connection that could not be made or was cut. It names the
// failures one by one rather than taking every net.Error: an *url.Error is one too, and wraps
// errors of the process itself (the leader-election fence) that say nothing about the server.
func isConnectionFailure(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &certErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET)
}

// errBadResponse marks a success status whose body could not be decoded: a proxy in front of
// Hydra or a truncated answer, which is the server side's fault and worth another try.
var errBadResponse = errors.New("unreadable response")

// errorFor converts what the SDK returns for one call into the error the adapter returns:
// an *APIError for any answer that is not a success, or a wrapped transport error. The
// secret, when not empty, is removed from anything Hydra wrote back, so that an error
// message, a log line or a status condition can never reveal it.
func errorFor(op string, resp *http.Response, err error, secret string) error {
	if resp != nil && resp.StatusCode >= 300 {
		apiErr := &APIError{Op: op, StatusCode: resp.StatusCode}
		apiErr.Code, apiErr.Description = errorBody(err)
		apiErr.Code = redact(apiErr.Code, secret)
		apiErr.Description = redact(apiErr.Description, secret)
		return apiErr
	}
	if err == nil {
		return nil
	}
	if resp != nil {
		// The SDK got a success status but could not decode the body; its message is a JSON
		// decoding error, which quotes no more than a character of the body.
		return fmt.Errorf("hydra %s: %w: %s", op, errBadResponse, redact(err.Error(), secret))
	}
	// Transport errors (*url.Error) name the method and the URL, which hold at most a client
	// ID, never a secret or the bearer token.
	return fmt.Errorf("hydra %s: %w", op, err)
}

// oauth2Error is the JSON shape of Hydra's error answers.
type oauth2Error struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// errorBody extracts Hydra's error and error_description. The SDK decodes them into
// ErrorOAuth2 when the answer is JSON; the raw body is the fallback for answers it could not
// decode (a content type it does not know, such as one set by a gateway), and the only source
// for the requests the adapter sends without the SDK (answerError).
func errorBody(err error) (code, description string) {
	var raw []byte
	var sdkErr *hydraclient.GenericOpenAPIError
	var answer *answerError
	switch {
	case errors.As(err, &answer):
		raw = answer.body
	case errors.As(err, &sdkErr):
		if m, ok := sdkErr.Model().(hydraclient.ErrorOAuth2); ok {
			code, description = m.GetError(), m.GetErrorDescription()
		} else {
			raw = sdkErr.Body()
		}
	default:
		return "", ""
	}
	var body oauth2Error
	if raw != nil && json.Unmarshal(raw, &body) == nil {
		code, description = body.Error, body.ErrorDescription
	}
	if description == "" {
		description = code
	}
	return code, description
}

// RedactURL returns the URL without its userinfo (user:password@), for logs: an admin URL may
// carry basic-auth credentials for a gateway in front of Hydra. A URL that does not parse is
// not shown at all, since where its credentials are can't be told.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable URL]"
	}
	u.User = nil
	return u.String()
}

// redact removes secret from s. Hydra does not echo request bodies today; this keeps it that
// way should a future version or a proxy in between start to.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
