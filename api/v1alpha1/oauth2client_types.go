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
// +kubebuilder:validation:XValidation:rule="!has(self.tokenEndpointAuthMethod) || self.tokenEndpointAuthMethod != 'private_key_jwt' || has(self.jwksURI) || has(self.jwks)",message="tokenEndpointAuthMethod private_key_jwt needs the client's public keys: set jwksURI or jwks"
// +kubebuilder:validation:XValidation:rule="!(has(self.jwksURI) && has(self.jwks))",message="set either jwksURI or jwks, not both"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.clientID) == has(self.clientID) && (!has(self.clientID) || self.clientID == oldSelf.clientID)",message="clientID is immutable: it cannot be added, changed or removed once the resource exists; create a new resource instead"
// +kubebuilder:validation:XValidation:rule="!has(self.responseTypes) || !self.responseTypes.exists(r, r.contains('code')) || (has(self.grantTypes) && 'authorization_code' in self.grantTypes)",message="responseTypes containing code need authorization_code in grantTypes"
type OAuth2ClientSpec struct {
	// clientID is the OAuth2 client_id to register. Leave it unset to let the operator choose one
	// (the resource's UID). Set it to keep a client's identity when the resource is deleted and
	// re-created, or moved to another cluster. Immutable once set. Letters, digits and `.`, `_`,
	// `~`, `-` only (Hydra stores IDs with `/` but can never read them back).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[A-Za-z0-9._~-]+$')",message="clientID may contain only letters, digits and the characters . _ ~ - (Hydra stores IDs with / or other characters but cannot read them back)"
	ClientID string `json:"clientID,omitempty"`

	// clientName is a human-readable name shown to users on the consent screen.
	// +optional
	// +kubebuilder:validation:MaxLength=256
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
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="isURL(self) && url(self).getScheme() != '' && url(self).getHostname() != ''",message="redirectURIs: each entry must be an absolute URI with a scheme and a host, such as https://app.example.com/callback"
	// +kubebuilder:validation:items:XValidation:rule="!self.contains('#')",message="redirectURIs: an entry must not contain a fragment (#); RFC 6749 section 3.1.2 forbids it"
	RedirectURIs []string `json:"redirectURIs,omitempty"`

	// postLogoutRedirectURIs are the absolute URIs the browser may be sent to after logout.
	// Each must share scheme, host and port with one of the redirectURIs.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="isURL(self) && url(self).getScheme() != '' && url(self).getHostname() != ''",message="postLogoutRedirectURIs: each entry must be an absolute URI with a scheme and a host"
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

	// audience lists the audiences the client may request for its access tokens.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	Audience []string `json:"audience,omitempty"`

	// allowedCORSOrigins are the origins (scheme://host[:port], no path) allowed to call the
	// token endpoint from a browser, for single-page applications.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches(r'^https?://[^/?#]+$')",message="allowedCORSOrigins: each entry must be an origin, http(s)://host[:port] with no path, query or trailing slash, such as https://app.example.com"
	AllowedCORSOrigins []string `json:"allowedCORSOrigins,omitempty"`

	// tokenEndpointAuthMethod is how the client authenticates at the token endpoint.
	// Unset means client_secret_basic. Use none for public clients (PKCE, no secret) and
	// private_key_jwt together with jwksURI or jwks.
	// +optional
	TokenEndpointAuthMethod TokenEndpointAuthMethod `json:"tokenEndpointAuthMethod,omitempty"`

	// jwksURI is the URL of the client's JSON Web Key Set, for private_key_jwt.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="jwksURI must be an absolute http or https URL, such as https://app.example.com/"
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
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() != '' && url(self).getHostname() != ''",message="frontchannelLogoutURI must be an absolute URI"
	FrontchannelLogoutURI string `json:"frontchannelLogoutURI,omitempty"`

	// frontchannelLogoutSessionRequired asks the server to add iss and sid to frontchannelLogoutURI.
	// +optional
	FrontchannelLogoutSessionRequired bool `json:"frontchannelLogoutSessionRequired,omitempty"`

	// backchannelLogoutURI receives a logout token from the authorization server at logout.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() != '' && url(self).getHostname() != ''",message="backchannelLogoutURI must be an absolute URI"
	BackchannelLogoutURI string `json:"backchannelLogoutURI,omitempty"`

	// backchannelLogoutSessionRequired asks the server to include sid in the logout token.
	// +optional
	BackchannelLogoutSessionRequired bool `json:"backchannelLogoutSessionRequired,omitempty"`

	// clientURI is the home page of the client, shown on the consent screen.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="clientURI must be an absolute http or https URL, such as https://app.example.com/"
	ClientURI string `json:"clientURI,omitempty"`

	// logoURI is the client's logo, shown on the consent screen.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="logoURI must be an absolute http or https URL, such as https://app.example.com/"
	LogoURI string `json:"logoURI,omitempty"`

	// policyURI is the client's privacy policy.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="policyURI must be an absolute http or https URL, such as https://app.example.com/"
	PolicyURI string `json:"policyURI,omitempty"`

	// tosURI is the client's terms of service.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="tosURI must be an absolute http or https URL, such as https://app.example.com/"
	TosURI string `json:"tosURI,omitempty"`

	// contacts are e-mail addresses of the people responsible for the client.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=320
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

	// metadata is free-form JSON stored with the client at the authorization server.
	// +optional
	// +kubebuilder:validation:Type=object
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

	// secretTemplate shapes the Secret the operator writes: extra labels and annotations, key
	// names, and extra keys with the authorization server's endpoints.
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`
}

// JSONWebKeySet is a JSON Web Key Set (RFC 7517 section 5).
type JSONWebKeySet struct {
	// keys are the client's public JSON Web Keys (RFC 7517 section 4), each an object with at
	// least kty, such as {"kty": "RSA", "kid": "key-1", "use": "sig", "n": "...", "e": "AQAB"}.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Type=object
	Keys []apiextensionsv1.JSON `json:"keys"`
}

// Duration is a Go duration string such as 30m, 1h or 720h, at most 87600h (ten years).
// The pattern limits each number to five digits, so that no value of the maximum length can
// overflow when parsed; the maximum keeps lifetimes to what a token can sensibly have.
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') && duration(self) <= duration('87600h')",message="must be a duration such as 15m, 1h30m or 720h (units ns, us, ms, s, m, h), at most 87600h (ten years)"
type Duration string

// TokenLifespans overrides token lifetimes for one client. Each value is a Go duration
// (for example 15m or 720h); unset means the server's default.
type TokenLifespans struct {
	// authorizationCodeGrantAccessToken is the access token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantAccessToken Duration `json:"authorizationCodeGrantAccessToken,omitempty"`
	// authorizationCodeGrantIDToken is the ID token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantIDToken Duration `json:"authorizationCodeGrantIDToken,omitempty"`
	// authorizationCodeGrantRefreshToken is the refresh token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantRefreshToken Duration `json:"authorizationCodeGrantRefreshToken,omitempty"`
	// clientCredentialsGrantAccessToken is the access token lifetime in the client-credentials grant.
	// +optional
	ClientCredentialsGrantAccessToken Duration `json:"clientCredentialsGrantAccessToken,omitempty"`
	// implicitGrantAccessToken is the access token lifetime in the implicit grant.
	// +optional
	ImplicitGrantAccessToken Duration `json:"implicitGrantAccessToken,omitempty"`
	// implicitGrantIDToken is the ID token lifetime in the implicit grant.
	// +optional
	ImplicitGrantIDToken Duration `json:"implicitGrantIDToken,omitempty"`
	// jwtBearerGrantAccessToken is the access token lifetime in the JWT-bearer grant.
	// +optional
	JWTBearerGrantAccessToken Duration `json:"jwtBearerGrantAccessToken,omitempty"`
	// refreshTokenGrantAccessToken is the access token lifetime when refreshing.
	// +optional
	RefreshTokenGrantAccessToken Duration `json:"refreshTokenGrantAccessToken,omitempty"`
	// refreshTokenGrantIDToken is the ID token lifetime when refreshing.
	// +optional
	RefreshTokenGrantIDToken Duration `json:"refreshTokenGrantIDToken,omitempty"`
	// refreshTokenGrantRefreshToken is the refresh token lifetime when refreshing.
	// +optional
	RefreshTokenGrantRefreshToken Duration `json:"refreshTokenGrantRefreshToken,omitempty"`
}

// SecretTemplate shapes the Secret that holds the client's credentials.
type SecretTemplate struct {
	// labels to put on the Secret. The resource's own labels are never copied.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations to put on the Secret. The resource's own annotations are never copied.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// clientIDKey is the Secret key that holds the client ID. Unset means client_id.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$')",message="clientIDKey must be a valid Secret key: letters, digits, -, _ and . only"
	ClientIDKey string `json:"clientIDKey,omitempty"`

	// clientSecretKey is the Secret key that holds the client secret. Unset means client_secret.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$')",message="clientSecretKey must be a valid Secret key: letters, digits, -, _ and . only"
	ClientSecretKey string `json:"clientSecretKey,omitempty"`

	// includeEndpoints adds the keys issuer_url, token_endpoint, authorization_endpoint and
	// jwks_uri with the authorization server's public endpoints.
	// +optional
	IncludeEndpoints bool `json:"includeEndpoints,omitempty"`
}

// OAuth2ClientStatus is what the operator last observed and did.
type OAuth2ClientStatus struct {
	// observedGeneration is the generation of the spec the operator last finished with: either
	// fully applied to the authorization server and the Secret (Ready=True), or refused for good
	// (Stalled=True). While it is behind metadata.generation, the operator is still working.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the client is registered as specified and the Secret holds working
	// credentials), Reconciling (work is in progress; present only while true) and Stalled (the
	// operator cannot make progress without a change to the spec or the environment; present
	// only while true).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// clientID is the client_id registered at the authorization server.
	// +optional
	ClientID string `json:"clientID,omitempty"`

	// secretName is the Secret that holds the client's credentials.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// credentialsFingerprint identifies the credentials last registered at the authorization
	// server: a truncated SHA-256 over the client ID, the secret and the resource's UID. It lets
	// the operator notice a changed Secret without keeping the secret anywhere but the Secret.
	// +optional
	CredentialsFingerprint string `json:"credentialsFingerprint,omitempty"`

	// lastHandledRequestedAt echoes the value of the oauth2.clientoperator.dev/requested-at
	// annotation that was last handled.
	// +optional
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`
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
