package secrets

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Keys of format OAuth2Proxy: the environment variables oauth2-proxy v7 reads for the flags of
// the same name (--client-id is OAUTH2_PROXY_CLIENT_ID), so a container takes them all with
// envFrom. Flags given on oauth2-proxy's command line still win over them.
const (
	OAuth2ProxyClientIDKey     = "OAUTH2_PROXY_CLIENT_ID"
	OAuth2ProxyClientSecretKey = "OAUTH2_PROXY_CLIENT_SECRET"
	OAuth2ProxyCookieSecretKey = "OAUTH2_PROXY_COOKIE_SECRET"
	OAuth2ProxyIssuerURLKey    = "OAUTH2_PROXY_OIDC_ISSUER_URL"
	OAuth2ProxyProviderKey     = "OAUTH2_PROXY_PROVIDER"
	OAuth2ProxyRedirectURLKey  = "OAUTH2_PROXY_REDIRECT_URL"
	OAuth2ProxyScopeKey        = "OAUTH2_PROXY_SCOPE"
	// OAuth2ProxyProviderOIDC is oauth2-proxy's generic OpenID Connect provider; its default
	// provider is Google's.
	OAuth2ProxyProviderOIDC = "oidc"
)

// DefaultBindingProvider is the provider of a ServiceBinding Secret when
// secretTemplate.serviceBinding.provider is unset.
const DefaultBindingProvider = "hydra"

// FormatOf returns the template's format; a template without one is Default.
func FormatOf(t *v1alpha1.SecretTemplate) v1alpha1.SecretFormat {
	if t == nil || t.Format == "" {
		return v1alpha1.SecretFormatDefault
	}
	return t.Format
}

// secretType is the type of the Secret a format writes. Only ServiceBinding has its own: the
// Service Binding specification recommends servicebinding.io/<type> for a binding Secret.
func secretType(f v1alpha1.SecretFormat) corev1.SecretType {
	if f == v1alpha1.SecretFormatServiceBinding {
		return corev1.SecretType(ServiceBindingSecretTypeOAuth2)
	}
	return corev1.SecretTypeOpaque
}

// serviceBindingData is the binding's content besides client-id and client-secret: the reserved
// keys, the server's endpoints and what Spring needs to build the client registration. Keys
// without a value are left out rather than written empty: Spring would bind an empty string.
func serviceBindingData(src Source) map[string]string {
	spec := src.spec()
	provider := DefaultBindingProvider
	if t := spec.SecretTemplate; t != nil && t.ServiceBinding != nil && t.ServiceBinding.Provider != "" {
		provider = t.ServiceBinding.Provider
	}
	authMethod := string(spec.TokenEndpointAuthMethod)
	if authMethod == "" {
		authMethod = string(v1alpha1.AuthMethodClientSecretBasic) // Hydra's default
	}
	data := map[string]string{
		BindingTypeKey:               BindingTypeOAuth2,
		BindingProviderKey:           provider,
		BindingClientAuthMethodKey:   authMethod,
		BindingAuthorizationGrantKey: PrimaryGrantType(spec.GrantTypes),
		BindingClientNameKey:         spec.ClientName,
		BindingIssuerURIKey:          src.Endpoints.Issuer,
		BindingTokenURIKey:           src.Endpoints.Token,
		BindingAuthorizationURIKey:   src.Endpoints.Authorization,
		BindingJWKSetURIKey:          src.Endpoints.JWKS,
		// Spring binds a comma-separated string to the registration's set of scopes.
		BindingScopeKey: strings.Join(spec.Scopes, ","),
	}
	if len(spec.RedirectURIs) > 0 {
		// A registration has one redirect-uri; the first is the application's own.
		data[BindingRedirectURIKey] = spec.RedirectURIs[0]
	}
	return data
}

// oauth2ProxyData is what oauth2-proxy needs besides the client ID and secret to sign users in
// through the server's OpenID Connect provider with no further flags.
func oauth2ProxyData(src Source) map[string]string {
	spec := src.spec()
	data := map[string]string{
		OAuth2ProxyProviderKey:     OAuth2ProxyProviderOIDC,
		OAuth2ProxyCookieSecretKey: src.CookieSecret,
		OAuth2ProxyIssuerURLKey:    src.Endpoints.Issuer,
		// oauth2-proxy sends --scope as it is, space-separated.
		OAuth2ProxyScopeKey: strings.Join(spec.Scopes, " "),
	}
	if len(spec.RedirectURIs) > 0 {
		data[OAuth2ProxyRedirectURLKey] = spec.RedirectURIs[0]
	}
	return data
}

// formatKeys are all the keys a format may write besides the client ID and secret, so that
// one the desired content no longer has (scopes removed, say) is dropped from the Secret.
func formatKeys(f v1alpha1.SecretFormat) []string {
	switch f {
	case v1alpha1.SecretFormatServiceBinding:
		return []string{BindingTypeKey, BindingProviderKey, BindingClientAuthMethodKey, BindingAuthorizationGrantKey,
			BindingClientNameKey, BindingIssuerURIKey, BindingTokenURIKey, BindingAuthorizationURIKey, BindingJWKSetURIKey,
			BindingScopeKey, BindingRedirectURIKey}
	case v1alpha1.SecretFormatOAuth2Proxy:
		return []string{OAuth2ProxyProviderKey, OAuth2ProxyCookieSecretKey, OAuth2ProxyIssuerURLKey,
			OAuth2ProxyScopeKey, OAuth2ProxyRedirectURLKey}
	}
	return []string{IssuerURLKey, TokenEndpointKey, AuthorizationEndpointKey, JWKSURIKey}
}
