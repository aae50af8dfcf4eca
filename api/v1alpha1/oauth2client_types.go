/*
Copyright 2026 The oauth2-client-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// This file is longer than the house's 400 lines on purpose: it is the OAuth2Client schema, and
// every field carries the doc comment `kubectl explain` shows, its bounds and its CEL rules with
// their messages. Split across files, one field's rules would sit far from its neighbours'. The
// nested objects with rules of their own live beside it: secretTemplate in
// secrettemplate_types.go, jwks and tokenLifespans in tokensettings_types.go; the status in
// oauth2client_status_types.go.

package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GrantType is an OAuth2 grant type the client may use at the token endpoint.
// +kubebuilder:validation:Enum=authorization_code;refresh_token;client_credentials;implicit;"urn:ietf:params:oauth:grant-type:jwt-bearer";"urn:ietf:params:oauth:grant-type:device_code"
type GrantType string

// ResponseType is an OAuth2 / OpenID Connect response type the client may request at the
// authorization endpoint: `code`, `token`, `id_token`, or a space-separated combination of them.
// +kubebuilder:validation:Enum=code;token;id_token;"code id_token";"code token";"id_token token";"code id_token token"
type ResponseType string

// TokenEndpointAuthMethod is how the client authenticates at the token endpoint.
// +kubebuilder:validation:Enum=client_secret_basic;client_secret_post;private_key_jwt;none
type TokenEndpointAuthMethod string

const (
	// AuthMethodClientSecretBasic sends client_id and client_secret with HTTP Basic authentication.
	AuthMethodClientSecretBasic TokenEndpointAuthMethod = "client_secret_basic"
	// AuthMethodClientSecretPost sends client_id and client_secret in the form body.
	AuthMethodClientSecretPost TokenEndpointAuthMethod = "client_secret_post"
	// AuthMethodPrivateKeyJWT signs a JWT with the client's private key (RFC 7523).
	AuthMethodPrivateKeyJWT TokenEndpointAuthMethod = "private_key_jwt"
	// AuthMethodNone is a public client (a single-page or native app using PKCE) with no secret.
	AuthMethodNone TokenEndpointAuthMethod = "none"
)

// AdoptionSource names another controller whose clients an OAuth2Client may take over.
// +kubebuilder:validation:Enum=HydraMaester
type AdoptionSource string

// AdoptFromHydraMaester takes over the client ory/hydra-maester registered for a hydra.ory.sh
// OAuth2Client of the same namespace and name.
const AdoptFromHydraMaester AdoptionSource = "HydraMaester"

// DeletionPolicy says what happens to the Hydra client when the OAuth2Client is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the Hydra client together with the resource.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyOrphan keeps the Hydra client (and its credentials) when the resource is deleted.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
)

// OAuth2ClientSpec is the desired registration of an OAuth2 client at the authorization server.
//
// +kubebuilder:validation:XValidation:rule="!has(self.grantTypes) || !('refresh_token' in self.grantTypes) || 'authorization_code' in self.grantTypes || 'urn:ietf:params:oauth:grant-type:device_code' in self.grantTypes",message="grantTypes: refresh_token needs authorization_code or urn:ietf:params:oauth:grant-type:device_code as well; a refresh token is only issued by one of those grants"
// +kubebuilder:validation:XValidation:rule="!has(self.tokenEndpointAuthMethod) || self.tokenEndpointAuthMethod != 'none' || !has(self.grantTypes) || !('client_credentials' in self.grantTypes)",message="grantTypes: client_credentials cannot be used with tokenEndpointAuthMethod none; a public client has no secret to authenticate with"
// +kubebuilder:validation:XValidation:rule="!has(self.tokenEndpointAuthMethod) || self.tokenEndpointAuthMethod != 'private_key_jwt' || has(self.jwksURI) || has(self.jwks) || (has(self.rotation) && self.rotation.strategy == 'KeyRollover')",message="tokenEndpointAuthMethod private_key_jwt needs the client's public keys: set jwksURI or jwks, or let the operator generate the keys with rotation strategy KeyRollover"
// +kubebuilder:validation:XValidation:rule="!(has(self.jwksURI) && has(self.jwks))",message="set either jwksURI or jwks, not both"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.authorizationServerRef) == has(self.authorizationServerRef) && (!has(self.authorizationServerRef) || (self.authorizationServerRef.kind == oldSelf.authorizationServerRef.kind && self.authorizationServerRef.name == oldSelf.authorizationServerRef.name))",message="authorizationServerRef is immutable: a client can't move to another authorization server in place; delete this OAuth2Client and create it again with the new reference"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.clientID) == has(self.clientID) && (!has(self.clientID) || self.clientID == oldSelf.clientID)",message="clientID is immutable: it cannot be added, changed or removed once the resource exists; create a new resource instead"
// +kubebuilder:validation:XValidation:rule="(has(self.secretTemplate) && has(self.secretTemplate.format) ? self.secretTemplate.format : 'Default') == (has(oldSelf.secretTemplate) && has(oldSelf.secretTemplate.format) ? oldSelf.secretTemplate.format : 'Default')",message="secretTemplate.format cannot be changed once the resource exists: a Secret's type is immutable, and the formats differ in type and keys; to change it, delete and re-create the OAuth2Client (a new Secret is written in the new format)"
// +kubebuilder:validation:XValidation:rule="!has(self.responseTypes) || !self.responseTypes.exists(r, r.contains('code')) || (has(self.grantTypes) && 'authorization_code' in self.grantTypes)",message="responseTypes containing code need authorization_code in grantTypes"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.requireExistingSecret) || !self.requireExistingSecret",message="rotation cannot be used with requireExistingSecret: the operator never writes a Secret someone else provides, so whoever writes it rotates its credentials"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy == 'KeyRollover' || !has(self.tokenEndpointAuthMethod) || !(self.tokenEndpointAuthMethod in ['none', 'private_key_jwt'])",message="rotation with strategy Replace, AlternatingClients or ServerRotation needs a client secret: a client with tokenEndpointAuthMethod none has none to rotate, and a private_key_jwt client's keys are rotated with strategy KeyRollover"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy != 'KeyRollover' || (has(self.tokenEndpointAuthMethod) && self.tokenEndpointAuthMethod == 'private_key_jwt' && !has(self.jwks) && !has(self.jwksURI))",message="rotation strategy KeyRollover is for tokenEndpointAuthMethod private_key_jwt without jwks or jwksURI: the operator generates the keys and publishes their public halves as the client's jwks"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy != 'KeyRollover' || !has(self.secretTemplate) || !has(self.secretTemplate.format) || self.secretTemplate.format == 'Default'",message="rotation strategy KeyRollover needs secretTemplate.format Default"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy != 'AlternatingClients' || self.grantTypes.all(g, g == 'client_credentials')",message="rotation strategy AlternatingClients is for client_credentials clients only: switching a user-facing client to another client ID would end its users' refresh tokens and consents; use Replace"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy != 'AlternatingClients' || !has(self.secretTemplate) || !has(self.secretTemplate.format) || self.secretTemplate.format == 'Default'",message="rotation strategy AlternatingClients needs secretTemplate.format Default"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || self.rotation.strategy != 'AlternatingClients' || !has(self.clientID) || size(self.clientID) <= 124",message="rotation strategy AlternatingClients needs a clientID of at most 124 characters: the second client's ID adds the suffix -alt"
type OAuth2ClientSpec struct {
	// authorizationServerRef names the authorization server to register the client at: an
	// AuthorizationServer of this resource's namespace or a ClusterAuthorizationServer whose
	// namespaceSelector selects this namespace. Unset: the operator's default server (its
	// --hydra-admin-url). Immutable: to move a client to another server, delete the resource and
	// create it again.
	// +optional
	AuthorizationServerRef *AuthorizationServerReference `json:"authorizationServerRef,omitempty"`

	// clientID is the OAuth2 client_id to register. Leave it unset to let the operator choose one
	// (the resource's UID). Set it to keep a client's identity when the resource is deleted and
	// re-created, or moved to another cluster. Immutable once set. Letters, digits and `.`, `_`,
	// `~`, `-` only (Hydra stores IDs with `/` but can never read them back).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[A-Za-z0-9._~-]+$')",message="clientID may contain only letters, digits and the characters . _ ~ - (Hydra stores IDs with / or other characters but cannot read them back)"
	ClientID string `json:"clientID,omitempty"`

	// clientName is a human-readable name shown to users on the consent screen: at most 256
	// characters of printable text. Any script, accents and emoji are fine. Refused, so that the
	// name cannot disguise itself on the consent screen: control characters (such as newlines,
	// tabs or NUL), line and paragraph separators, and invisible format characters, such as the
	// bidirectional override U+202E or zero-width characters (including the zero-width joiner
	// that some combined emoji use).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\p{C}\\p{Zl}\\p{Zp}]*$')",message="clientName must be printable text: remove control characters (such as newlines, tabs or NUL), line or paragraph separators, and invisible format characters such as bidirectional overrides (U+202E) or zero-width characters"
	ClientName string `json:"clientName,omitempty"`

	// grantTypes lists the OAuth2 grant types the client may use. Web applications use
	// authorization_code (with refresh_token for refresh tokens); services use client_credentials.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=6
	GrantTypes []GrantType `json:"grantTypes"`

	// responseTypes lists the response types the client may request at the authorization
	// endpoint. Unset means none; authorization-code clients need `code`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=7
	ResponseTypes []ResponseType `json:"responseTypes,omitempty"`

	// redirectURIs are the absolute URIs the authorization server may redirect the browser to
	// after login. They must match exactly what the application sends as redirect_uri.
	// At most 64 entries of at most 2048 printable ASCII characters (no spaces or non-ASCII
	// characters; percent-encode them), without a fragment (#). Each entry uses one of:
	// https with a host (https://app.example.com/callback); http only on a loopback host,
	// localhost, 127.0.0.1 or [::1], with any port (http://127.0.0.1:8080/callback, for native
	// and development apps); or, for native apps, a private-use scheme in reverse domain name
	// form, which contains a dot (com.example.app:/callback, RFC 8252 section 7.1). Other
	// schemes (javascript:, data:, file:, ...) and http on any other host are refused.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[!-~]+$')",message="redirectURIs: each entry may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:items:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && url(self).getScheme() != '')",message="redirectURIs: each entry must be an absolute URI with a scheme, such as https://app.example.com/callback"
	// +kubebuilder:validation:items:XValidation:rule="!self.matches(r'^[!-~]+$') || !isURL(self) || url(self).getScheme() == '' || (url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1']) || self.matches(r'^[a-zA-Z][a-zA-Z0-9+-]*([.][a-zA-Z0-9+-]+)+:')",message="redirectURIs: each entry must use https with a host (https://app.example.com/callback), http only on a loopback host (http://localhost, http://127.0.0.1 or http://[::1], any port), or a private-use scheme with a dot for native apps (com.example.app:/callback); other schemes such as javascript:, data: or file:, and http on other hosts, are refused"
	// +kubebuilder:validation:items:XValidation:rule="!self.contains('#')",message="redirectURIs: an entry must not contain a fragment (#); RFC 6749 section 3.1.2 forbids it"
	RedirectURIs []string `json:"redirectURIs,omitempty"`

	// postLogoutRedirectURIs are the absolute URIs the browser may be sent to after logout.
	// Each must share scheme, host and port with one of the redirectURIs. The rules are those
	// of redirectURIs: at most 64 entries of at most 2048 printable ASCII characters, no
	// fragment, and https with a host, http only on a loopback host (localhost, 127.0.0.1 or
	// [::1]), or a private-use scheme containing a dot (com.example.app:/logout).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[!-~]+$')",message="postLogoutRedirectURIs: each entry may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:items:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && url(self).getScheme() != '')",message="postLogoutRedirectURIs: each entry must be an absolute URI with a scheme, such as https://app.example.com/"
	// +kubebuilder:validation:items:XValidation:rule="!self.matches(r'^[!-~]+$') || !isURL(self) || url(self).getScheme() == '' || (url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1']) || self.matches(r'^[a-zA-Z][a-zA-Z0-9+-]*([.][a-zA-Z0-9+-]+)+:')",message="postLogoutRedirectURIs: each entry must use https with a host (https://app.example.com/), http only on a loopback host (http://localhost, http://127.0.0.1 or http://[::1], any port), or a private-use scheme with a dot for native apps (com.example.app:/logout); other schemes such as javascript:, data: or file:, and http on other hosts, are refused"
	// +kubebuilder:validation:items:XValidation:rule="!self.contains('#')",message="postLogoutRedirectURIs: an entry must not contain a fragment (#)"
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectURIs,omitempty"`

	// scopes the client may request, such as openid, offline_access or an application scope.
	// Sent to Hydra space-separated. Unset means Hydra's default (openid offline offline_access).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[!#-\\[\\]-~]+$')",message="scopes: each entry is one scope, such as read or orders.write: printable ASCII without spaces (Hydra separates scopes with spaces), double quotes or backslashes; list several scopes as separate entries"
	Scopes []string `json:"scopes,omitempty"`

	// audience lists the audiences the client may request for its access tokens, usually the
	// URLs of APIs. At most 64 entries, each 1 to 2048 printable ASCII characters (no spaces,
	// control characters or non-ASCII characters).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[!-~]+$')",message="audience: each entry may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters, such as https://api.example.com"
	Audience []string `json:"audience,omitempty"`

	// allowedCORSOrigins are the origins (scheme://host[:port], no path) allowed to call the
	// token endpoint from a browser, for single-page applications. At most 64 entries of at
	// most 2048 printable ASCII characters; write an internationalized host name in its xn--
	// (punycode) form.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[!-~]+$')",message="allowedCORSOrigins: each entry may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^https?://[^/?#]+$')",message="allowedCORSOrigins: each entry must be an origin, http(s)://host[:port] with no path, query or trailing slash, such as https://app.example.com"
	AllowedCORSOrigins []string `json:"allowedCORSOrigins,omitempty"`

	// tokenEndpointAuthMethod is how the client authenticates at the token endpoint.
	// Unset means client_secret_basic. Use none for public clients (PKCE, no secret) and
	// private_key_jwt together with jwksURI or jwks, or with rotation strategy KeyRollover for
	// keys the operator generates and keeps in the Secret.
	// +optional
	TokenEndpointAuthMethod TokenEndpointAuthMethod `json:"tokenEndpointAuthMethod,omitempty"`

	// jwksURI is the URL of the client's JSON Web Key Set, for private_key_jwt: an absolute http
	// or https URL of at most 2048 printable ASCII characters.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="jwksURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != '')",message="jwksURI must be an absolute http or https URL, such as https://app.example.com/"
	JWKSURI string `json:"jwksURI,omitempty"`

	// jwks is the client's JSON Web Key Set inline (public keys only), for private_key_jwt.
	// +optional
	JWKS *JSONWebKeySet `json:"jwks,omitempty"`

	// skipConsent skips the consent screen for this client. Only for first-party applications.
	// +optional
	SkipConsent bool `json:"skipConsent,omitempty"`

	// skipLogoutConsent skips the logout confirmation screen for this client.
	// +optional
	SkipLogoutConsent bool `json:"skipLogoutConsent,omitempty"`

	// frontchannelLogoutURI is loaded in an iframe by the authorization server at logout.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="frontchannelLogoutURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="frontchannelLogoutURI must be an absolute https URL with a host, such as https://app.example.com/logout; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	FrontchannelLogoutURI string `json:"frontchannelLogoutURI,omitempty"`

	// frontchannelLogoutSessionRequired asks the server to add iss and sid to frontchannelLogoutURI.
	// +optional
	FrontchannelLogoutSessionRequired bool `json:"frontchannelLogoutSessionRequired,omitempty"`

	// backchannelLogoutURI receives a logout token from the authorization server at logout.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="backchannelLogoutURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="backchannelLogoutURI must be an absolute https URL with a host, such as https://app.example.com/logout; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	BackchannelLogoutURI string `json:"backchannelLogoutURI,omitempty"`

	// backchannelLogoutSessionRequired asks the server to include sid in the logout token.
	// +optional
	BackchannelLogoutSessionRequired bool `json:"backchannelLogoutSessionRequired,omitempty"`

	// clientURI is the home page of the client, shown on the consent screen.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="clientURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="clientURI must be an absolute https URL with a host, such as https://app.example.com/; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	ClientURI string `json:"clientURI,omitempty"`

	// logoURI is the client's logo, shown on the consent screen.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="logoURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="logoURI must be an absolute https URL with a host, such as https://app.example.com/logo.png; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	LogoURI string `json:"logoURI,omitempty"`

	// policyURI is the client's privacy policy.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="policyURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="policyURI must be an absolute https URL with a host, such as https://app.example.com/privacy; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	PolicyURI string `json:"policyURI,omitempty"`

	// tosURI is the client's terms of service.
	// An absolute https URL of at most 2048 printable ASCII characters; http is accepted only
	// on a loopback host (localhost, 127.0.0.1 or [::1]), for local development.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[!-~]+$')",message="tosURI may contain only printable ASCII characters: no spaces, control characters or non-ASCII characters; percent-encode them (a space is %20) and write an internationalized host name in its xn-- (punycode) form"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[!-~]+$') || (isURL(self) && ((url(self).getScheme() == 'https' && url(self).getHostname() != '') || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="tosURI must be an absolute https URL with a host, such as https://app.example.com/terms; http is accepted only on a loopback host (localhost, 127.0.0.1 or [::1])"
	TosURI string `json:"tosURI,omitempty"`

	// contacts are e-mail addresses of the people responsible for the client. At most 32
	// entries of at most 320 characters of printable text (no control characters, line or
	// paragraph separators, or invisible format characters such as U+202E).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=320
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^[^\\p{C}\\p{Zl}\\p{Zp}]*$')",message="contacts: each entry must be printable text: remove control characters (such as newlines, tabs or NUL), line or paragraph separators, and invisible format characters such as bidirectional overrides (U+202E) or zero-width characters"
	Contacts []string `json:"contacts,omitempty"`

	// subjectType is the OpenID Connect subject identifier type: public (the default) or pairwise
	// (which the authorization server must have enabled).
	// +optional
	// +kubebuilder:validation:Enum=public;pairwise
	SubjectType string `json:"subjectType,omitempty"`

	// accessTokenStrategy overrides the server's access token format for this client: jwt or opaque.
	// +optional
	// +kubebuilder:validation:Enum=jwt;opaque
	AccessTokenStrategy string `json:"accessTokenStrategy,omitempty"`

	// tokenLifespans overrides the server's token lifetimes for this client, per grant.
	// +optional
	TokenLifespans *TokenLifespans `json:"tokenLifespans,omitempty"`

	// metadata is free-form JSON stored with the client at the authorization server: an object
	// with at most 256 top-level members and at most 64 KiB as JSON. The API server checks the
	// number of members; the operator checks the size and reports a larger object in the
	// resource's status.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=256
	// +kubebuilder:pruning:PreserveUnknownFields
	Metadata *apiextensionsv1.JSON `json:"metadata,omitempty"`

	// secretName is the name of the Secret, in the resource's namespace, that holds the client's
	// credentials. Unset means the resource's own name. If the Secret already exists with
	// client_id and client_secret (from External Secrets, Sealed Secrets or a person), those
	// credentials are registered as they are and the Secret is never overwritten.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretName must be a valid Secret name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	SecretName string `json:"secretName,omitempty"`

	// requireExistingSecret makes the operator wait for the Secret named by secretName, written by
	// someone else, instead of generating credentials. Until it exists the resource reports
	// Ready=False with reason SecretNotFound. For GitOps set-ups where the Secret arrives later.
	// +optional
	RequireExistingSecret bool `json:"requireExistingSecret,omitempty"`

	// deletionPolicy says what happens to the Hydra client when this resource is deleted:
	// Delete (the default) removes it; Orphan keeps it and its credentials.
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// adoptExistingClient lets the operator take over a Hydra client with this clientID that
	// exists but was not created by this operator. Without it such a client is reported as a
	// ClientIDConflict and left alone. A client that belongs to another OAuth2Client is never taken.
	// +optional
	AdoptExistingClient bool `json:"adoptExistingClient,omitempty"`

	// adoptFrom lets this resource take over the client another controller registered for a
	// resource of the same name in the same namespace, keeping its client ID and secret.
	// HydraMaester: the client ory/hydra-maester registered for its OAuth2Client (hydra.ory.sh)
	// of this name, whose Hydra owner is "<name>/<namespace>"; the operator replaces that owner
	// with its own. A client hydra-maester registered for another name or namespace is never
	// taken. Written by `manager migrate`; see docs/migrate-from-hydra-maester.md.
	// +optional
	AdoptFrom AdoptionSource `json:"adoptFrom,omitempty"`

	// secretTemplate shapes the Secret the operator writes: extra labels and annotations, key
	// names, and extra keys with the authorization server's endpoints.
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`
	// rotation makes the operator rotate the client's credentials on a schedule (period) and
	// lets the oauth2.clientoperator.dev/rotate-requested-at annotation ask for a rotation now.
	// Only credentials the operator writes are rotated: not those of a Secret someone else
	// provides (whoever writes that Secret rotates them), and not a public client's (it has none).
	// See docs/user-guide.md, "Rotating credentials".
	// +optional
	Rotation *Rotation `json:"rotation,omitempty"`
}

// OAuth2Client is an OAuth2 client registered at the authorization server (Ory Hydra), with
// its credentials kept in a Secret in the same namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=oac;oauth2client,categories=oauth2
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Client ID",type=string,JSONPath=`.status.clientID`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Next Rotation",type=string,priority=1,JSONPath=`.status.rotation.nextRotationTime`
// +kubebuilder:printcolumn:name="Issued",type=date,priority=1,JSONPath=`.status.rotation.credentialsIssuedAt`
type OAuth2Client struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired registration.
	// +required
	Spec OAuth2ClientSpec `json:"spec"`

	// status is what the operator last observed. It defaults to observedGeneration 0 so that a
	// resource the operator has not seen yet reads as in progress to kstatus (Flux), not as done.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status OAuth2ClientStatus `json:"status,omitempty"`
}

// OAuth2ClientList is a list of OAuth2Client.
//
// +kubebuilder:object:root=true
type OAuth2ClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OAuth2Client `json:"items"`
}
