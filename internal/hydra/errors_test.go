package hydra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestClassification(t *testing.T) {
	apiErr := func(status int, code, description string) error {
		return fmt.Errorf("wrapped: %w", &APIError{Op: "create", StatusCode: status, Code: code, Description: description})
	}
	concurrent := "The request could not be completed due to concurrent access: Unable to serialize access due to a concurrent update in another session"
	tests := []struct {
		name                                    string
		err                                     error
		notFound, conflict, rejected, transient bool
	}{
		{"nil", nil, false, false, false, false},
		{"404", apiErr(404, "Unable to locate the resource", ""), true, false, false, false},
		{"409", apiErr(409, "Unable to insert or update resource because a resource with that value exists already", ""), false, true, false, false},
		{"400 invalid redirect", apiErr(400, "invalid_redirect_uri", "The value of one or more redirect_uris is invalid."), false, false, true, false},
		{"400 concurrent update in description", apiErr(400, "invalid_request", concurrent), false, false, false, true},
		{"400 concurrent update in code", apiErr(400, concurrent, ""), false, false, false, true},
		// The admin API refusing the operator is its configuration, not the spec: retried.
		{"401", apiErr(401, "", ""), false, false, false, true},
		{"403", apiErr(403, "request_forbidden", "Access denied by the gateway"), false, false, false, true},
		{"422", apiErr(422, "", ""), false, false, true, false},
		{"429", apiErr(429, "", ""), false, false, false, true},
		{"500", apiErr(500, "The error is unrecognizable", ""), false, false, false, true},
		{"503", apiErr(503, "", ""), false, false, false, true},
		{"302", apiErr(302, "", ""), false, false, false, false},
		{"connection refused", &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, false, false, false, true},
		{"deadline", fmt.Errorf("hydra get: %w", &url.Error{Op: "Get", URL: "http://h", Err: context.DeadlineExceeded}), false, false, false, true},
		{"bare deadline", context.DeadlineExceeded, false, false, false, true},
		{"cancelled", fmt.Errorf("hydra get: %w", &url.Error{Op: "Get", URL: "http://h", Err: context.Canceled}), false, false, false, false},
		{"cut off", fmt.Errorf("hydra get: %w", io.ErrUnexpectedEOF), false, false, false, true},
		{"bad response", fmt.Errorf("hydra get: %w: json", errBadResponse), false, false, false, true},
		{"other", errors.New("something else"), false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := [4]bool{IsNotFound(tt.err), IsConflict(tt.err), IsRejected(tt.err), IsTransient(tt.err)}
			want := [4]bool{tt.notFound, tt.conflict, tt.rejected, tt.transient}
			if got != want {
				t.Errorf("IsNotFound, IsConflict, IsRejected, IsTransient = %v, want %v", got, want)
			}
		})
	}
}

func TestIsUnauthorized(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("w: %w", &APIError{Op: "get", StatusCode: 401}), true},
		{&APIError{Op: "list", StatusCode: 403}, true},
		{&APIError{Op: "create", StatusCode: 400}, false},
		{&APIError{Op: "get", StatusCode: 404}, false},
		{&APIError{Op: "get", StatusCode: 503}, false},
		{errors.New("dial tcp: connection refused"), false},
		{nil, false},
	} {
		if got := IsUnauthorized(tt.err); got != tt.want {
			t.Errorf("IsUnauthorized(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Op: "get", StatusCode: 404, Code: "Unable to locate the resource", Description: "Unable to locate the resource"}, "hydra get: 404: Unable to locate the resource"},
		{&APIError{Op: "create", StatusCode: 400, Code: "invalid_redirect_uri", Description: "The value is invalid."}, "hydra create: 400: The value is invalid."},
		{&APIError{Op: "list", StatusCode: 502, Code: "bad_gateway"}, "hydra list: 502: bad_gateway"},
		{&APIError{Op: "delete", StatusCode: 503}, "hydra delete: 503: Service Unavailable"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := redact("secret is s3cr3t-value, again s3cr3t-value", "s3cr3t-value"); got != "secret is [redacted], again [redacted]" {
		t.Errorf("redact = %q", got)
	}
	if got := redact("nothing to hide", ""); got != "nothing to hide" {
		t.Errorf("redact with no secret = %q", got)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://hydra-admin:4445", "http://hydra-admin:4445"},
		{"https://operator:s3cr3t@hydra.example.com/admin", "https://hydra.example.com/admin"},
		{"https://only-user@hydra.example.com", "https://hydra.example.com"},
		{"https://user:p%40ss@hydra.example.com:8443/x?y=1", "https://hydra.example.com:8443/x?y=1"},
		{"http://user:pa ss@host:bad-port", "[unparseable URL]"},
	} {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAvailability: what one call's outcome says about the server. An answer of any kind but
// 5xx, 401 and 403 proves it there; errors of the process itself prove nothing either way.
func TestAvailability(t *testing.T) {
	apiErr := func(status int) error { return fmt.Errorf("reading: %w", &APIError{Op: "get", StatusCode: status}) }
	notLeader := &url.Error{Op: "Put", URL: "http://h", Err: errors.New("not writing: the lease was not renewed")}
	tests := []struct {
		name  string
		err   error
		cause Cause
		known bool
	}{
		{"success", nil, "", true},
		{"404 is an answer", apiErr(404), "", true},
		{"400 is an answer", apiErr(400), "", true},
		{"429 is an answer", apiErr(429), "", true},
		{"401", apiErr(401), CauseUnauthorized, true},
		{"403", apiErr(403), CauseUnauthorized, true},
		{"500", apiErr(500), CauseServerError, true},
		{"503", apiErr(503), CauseServerError, true},
		{"bad response", fmt.Errorf("hydra get: %w: json", errBadResponse), CauseServerError, true},
		{"connection refused", &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, CauseUnreachable, true},
		{"unknown host", &url.Error{Op: "Get", URL: "http://nowhere", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "nowhere"}}}, CauseUnreachable, true},
		{"cut off", fmt.Errorf("hydra get: %w", io.ErrUnexpectedEOF), CauseUnreachable, true},
		{"deadline", fmt.Errorf("hydra get: %w", &url.Error{Op: "Get", URL: "http://h", Err: context.DeadlineExceeded}), CauseTimeout, true},
		{"cancelled", fmt.Errorf("hydra get: %w", &url.Error{Op: "Get", URL: "http://h", Err: context.Canceled}), "", false},
		{"the write fence refused", fmt.Errorf("hydra update: %w", notLeader), "", false},
		{"other", errors.New("hydra get: empty client ID"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cause, known := Availability(tt.err); cause != tt.cause || known != tt.known {
				t.Errorf("Availability = %q, %t; want %q, %t", cause, known, tt.cause, tt.known)
			}
		})
	}
}
