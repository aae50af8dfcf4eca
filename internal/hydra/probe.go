package hydra

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	hydraclient "github.com/ory/hydra-client-go/v2"
)

// Probe checks an admin API as the operator would use it, with opts' credentials and TLS
// settings, and returns the version the server reports. It reads the version (GET /version)
// and then lists one client: the list needs the credentials even where a gateway lets
// /version through unauthenticated, so a wrong token or password shows as an error for which
// IsUnauthorized is true. Errors are classified as the adapter's (Availability, IsTransient);
// the bearer token and password are removed from anything the server wrote back. Its requests
// are not counted in the request metrics, which are about the operator's own Hydra.
func Probe(ctx context.Context, opts Options) (string, error) {
	api, err := newAPIClient(opts)
	if err != nil {
		return "", err
	}
	a := &adapter{api: api.OAuth2API, timeout: requestTimeout(opts), unobserved: true}
	v, resp, err := call(ctx, a, "version", "", func(ctx context.Context) (*hydraclient.GetVersion200Response, *http.Response, error) {
		return api.MetadataAPI.GetVersion(ctx).Execute()
	})
	closeBody(resp)
	if err != nil {
		return "", redactCredentials(err, opts)
	}
	_, resp, err = call(ctx, a, "list", "", func(ctx context.Context) ([]OAuth2Client, *http.Response, error) {
		return api.OAuth2API.ListOAuth2Clients(ctx).PageSize(1).Execute()
	})
	closeBody(resp)
	if err != nil {
		return "", redactCredentials(err, opts)
	}
	return v.GetVersion(), nil
}

// redactCredentials removes opts' token and password, and the basic credentials as the
// Authorization header carries them, from what the server wrote back into err: a gateway that
// refuses a request may quote the header it refused.
func redactCredentials(err error, opts Options) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	basic := ""
	if opts.BasicUsername != "" {
		basic = base64.StdEncoding.EncodeToString([]byte(opts.BasicUsername + ":" + opts.BasicPassword))
	}
	for _, secret := range []string{opts.BearerToken, opts.BasicPassword, basic} {
		apiErr.Code = redact(apiErr.Code, secret)
		apiErr.Description = redact(apiErr.Description, secret)
	}
	return err
}

// closeBody closes what the SDK left of a response's body (it has read it already).
func closeBody(resp *http.Response) {
	if resp != nil {
		_ = resp.Body.Close()
	}
}
