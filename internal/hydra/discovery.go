package hydra

import (
	"context"
	"fmt"

	hydraclient "github.com/ory/hydra-client-go/v2"
)

// PublicEndpoints are the URLs applications use, as the authorization server advertises them.
type PublicEndpoints struct {
	Issuer, Token, Authorization, JWKS string
}

// Discover reads the OpenID Connect discovery document (/.well-known/openid-configuration) of
// the public API at publicURL. The document, not the URL the operator reaches Hydra by, is the
// authority: behind an ingress or with URLS_SELF_ISSUER set, the issuer and endpoints that
// applications must use differ from the address the operator was given. Only opts' TLS and
// connection settings are used; the admin bearer token is never sent to the public API.
func Discover(ctx context.Context, publicURL string, opts Options) (PublicEndpoints, error) {
	base, err := baseURL("hydra public URL", publicURL)
	if err != nil {
		return PublicEndpoints{}, err
	}
	httpClient, err := newHTTPClient(opts)
	if err != nil {
		return PublicEndpoints{}, err
	}
	cfg := hydraclient.NewConfiguration()
	cfg.Servers = hydraclient.ServerConfigurations{{URL: base}}
	cfg.HTTPClient = httpClient
	cfg.UserAgent = withDefault(opts.UserAgent, DefaultUserAgent)
	ctx, cancel := context.WithTimeout(ctx, requestTimeout(opts))
	defer cancel()
	doc, resp, err := hydraclient.NewAPIClient(cfg).OidcAPI.DiscoverOidcConfiguration(ctx).Execute()
	if resp != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return PublicEndpoints{}, fmt.Errorf("reading %s/.well-known/openid-configuration: %w", base, err)
	}
	ep := PublicEndpoints{
		Issuer:        doc.GetIssuer(),
		Token:         doc.GetTokenEndpoint(),
		Authorization: doc.GetAuthorizationEndpoint(),
		JWKS:          doc.GetJwksUri(),
	}
	if ep.Issuer == "" || ep.Token == "" {
		return PublicEndpoints{}, fmt.Errorf("%s/.well-known/openid-configuration names no issuer or token endpoint", base)
	}
	return ep, nil
}
