package secrets

import (
	"slices"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Keys of a Service Binding (servicebinding.io) Secret of type oauth2, as Spring Cloud Bindings
// reads them: SpringSecurityOAuth2BindingsPropertiesProcessor (spring-cloud-bindings, 2024-11)
// maps each to a spring.security.oauth2.client registration or provider property, and skips a
// binding without provider. It also reads authorization-grant-types and redirect-uris, but only
// when they hold one value, so the single-valued keys are the ones to write.
const (
	BindingTypeKey                 = "type" // type and provider are the Service Binding specification's reserved keys
	BindingProviderKey             = "provider"
	BindingClientIDKey             = "client-id"
	BindingClientSecretKey         = "client-secret"
	BindingIssuerURIKey            = "issuer-uri"
	BindingTokenURIKey             = "token-uri"
	BindingAuthorizationURIKey     = "authorization-uri"
	BindingJWKSetURIKey            = "jwk-set-uri"
	BindingClientAuthMethodKey     = "client-authentication-method"
	BindingAuthorizationGrantKey   = "authorization-grant-type"
	BindingRedirectURIKey          = "redirect-uri"
	BindingScopeKey                = "scope"
	BindingClientNameKey           = "client-name"
	BindingTypeOAuth2              = "oauth2"
	ServiceBindingSecretTypeOAuth2 = "servicebinding.io/oauth2"
)

// primaryGrants is the order in which a client's grant types are considered for the one
// authorization-grant-type a Spring registration has: a client that signs users in is used for
// that, one that also calls APIs as itself can do so with its own registration. refresh_token is
// absent: Spring uses it alongside authorization_code, never as a registration's grant.
// implicit is last: Spring Security 6 no longer supports it.
var primaryGrants = []v1alpha1.GrantType{
	"authorization_code",
	"client_credentials",
	"urn:ietf:params:oauth:grant-type:device_code",
	"urn:ietf:params:oauth:grant-type:jwt-bearer",
	"implicit",
}

// PrimaryGrantType is the value of authorization-grant-type for a client with the given grant
// types: the first of primaryGrants the client has, or "" (the key is then left out) when it has
// none of them.
func PrimaryGrantType(grants []v1alpha1.GrantType) string {
	for _, g := range primaryGrants {
		if slices.Contains(grants, g) {
			return string(g)
		}
	}
	return ""
}
