package hydra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// ErrRotationUnsupported is the answer of an admin API without the secret rotation endpoint:
// every released Hydra up to v2.3.0 answers its path with its "route not found" 404.
var ErrRotationUnsupported = errors.New("the authorization server has no secret rotation endpoint " +
	"(POST /admin/clients/{id}/secrets/rotate, in Hydra after v2.3.0)")

// IsRotationUnsupported reports whether err says the server cannot rotate secrets itself.
func IsRotationUnsupported(err error) bool { return errors.Is(err, ErrRotationUnsupported) }

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// RotateSecret implements Client.
func (a *adapter) RotateSecret(ctx context.Context, id, secret string) error {
	body, err := json.Marshal(map[string]string{"client_secret": secret})
	if err != nil {
		return err
	}
	return a.secretsRotate(ctx, "rotate", http.MethodPost, id, body, secret)
}

// ClearRotatedSecrets implements Client.
func (a *adapter) ClearRotatedSecrets(ctx context.Context, id string) error {
	return a.secretsRotate(ctx, "clear-rotated", http.MethodDelete, id, nil, "")
}

// secretsRotate sends one request to /admin/clients/{id}/secrets/rotate, which the SDK has no
// method for, on the SDK's HTTP client (same TLS, credentials and write fence), with the same
// timeout, metrics and error typing as the other calls. secret is redacted from any answer.
func (a *adapter) secretsRotate(ctx context.Context, op, method, id string, body []byte, secret string) error {
	if id == "" {
		return fmt.Errorf("hydra %s: empty client ID", op)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/admin/clients/"+url.PathEscape(id)+"/secrets/rotate", bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.userAgent)
	start := time.Now()
	resp, err := a.http.Do(req)
	if !a.unobserved {
		observe(a.server, op, resp, time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("hydra %s: %w", op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode < 300 {
		return nil
	}
	if routeMissing(resp, raw) {
		return fmt.Errorf("hydra %s: %d: %w", op, resp.StatusCode, ErrRotationUnsupported)
	}
	apiErr := &APIError{Op: op, StatusCode: resp.StatusCode}
	var e oauth2Error
	if json.Unmarshal(raw, &e) == nil {
		apiErr.Code, apiErr.Description = redact(e.Error, secret), redact(e.ErrorDescription, secret)
		if apiErr.Description == "" {
			apiErr.Description = apiErr.Code
		}
	}
	return apiErr
}

// routeMissing tells an admin API without the route from Hydra's 404 for a client that does not
// exist ({"error":"Unable to locate the resource"}): Hydra answers a path it has no route for
// with {"error":{"code":404,"message":"Not Found","reason":"The requested route does not
// exist..."}} (an object, not a string) or, unless JSON is asked for, an HTML page; a gateway
// in front of it may answer 404, 405 or 501 in any other form.
func routeMissing(resp *http.Response, body []byte) bool {
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
	default:
		return false
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType != "application/json" {
		return true
	}
	var answer struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return true
	}
	var code string
	return json.Unmarshal(answer.Error, &code) != nil // not Hydra's error string
}
