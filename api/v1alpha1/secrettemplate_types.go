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

// The shape of the credentials Secret: spec.secretTemplate and its formats, apart from the rest
// of the schema because the Secret is the operator's output, not the registration at the server.

package v1alpha1

// LabelValue is the value of a label on the Secret, with the API server's rules for label
// values, so that a template the API server would refuse is refused when it is applied.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.matches(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')",message="labels: each value must be empty or at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit"
type LabelValue string

// SecretTemplate shapes the Secret that holds the client's credentials.
//
// +kubebuilder:validation:XValidation:rule="(has(self.clientIDKey) ? self.clientIDKey : 'client_id') != (has(self.clientSecretKey) ? self.clientSecretKey : 'client_secret')",message="clientIDKey and clientSecretKey must name different Secret keys (unset, they are client_id and client_secret): the client ID and the secret cannot share one key"
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format == 'Default' || !(has(self.clientIDKey) || has(self.clientSecretKey))",message="clientIDKey and clientSecretKey apply to format Default only: the ServiceBinding and OAuth2Proxy formats use the key names their consumers read; remove them or use format Default"
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format == 'Default' || !has(self.includeEndpoints) || !self.includeEndpoints",message="includeEndpoints applies to format Default only: the ServiceBinding and OAuth2Proxy formats always include the endpoints their consumers read; remove it"
// +kubebuilder:validation:XValidation:rule="!has(self.serviceBinding) || (has(self.format) && self.format == 'ServiceBinding')",message="serviceBinding applies to format ServiceBinding only; set format: ServiceBinding or remove serviceBinding"
type SecretTemplate struct {
	// labels to put on the Secret. The resource's own labels are never copied. At most 64.
	// Each key is a valid label key: an optional prefix, a DNS subdomain of at most 253
	// characters followed by /, then a name of at most 63 characters made of letters, digits,
	// -, _ and ., starting and ending with a letter or digit (team, example.com/team). Keys with
	// the prefix oauth2.clientoperator.dev/ are reserved for the operator. Each value is at most
	// 63 characters: empty, or letters, digits, -, _ and ., starting and ending with a letter or
	// digit.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 317 && (!k.contains('/') || k.indexOf('/') <= 253) && k.matches(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="labels: each key must be a valid label key: an optional DNS subdomain prefix of at most 253 characters and a /, then a name of at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit, such as team or example.com/team"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('oauth2.clientoperator.dev/'))",message="labels: keys with the prefix oauth2.clientoperator.dev/ are reserved for the operator; use a prefix of your own, such as example.com/"
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// annotations to put on the Secret. The resource's own annotations are never copied. At
	// most 64. Each key follows the rules of label keys: an optional DNS subdomain prefix of at
	// most 253 characters and a /, then a name of at most 63 characters (team,
	// example.com/owner); the prefix oauth2.clientoperator.dev/ is reserved for the operator.
	// Each value is at most 4096 characters, a limit of this operator (the API server allows
	// more).
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 317 && (!k.contains('/') || k.indexOf('/') <= 253) && k.matches(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="annotations: each key must be a valid annotation key: an optional DNS subdomain prefix of at most 253 characters and a /, then a name of at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit, such as owner or example.com/owner"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('oauth2.clientoperator.dev/'))",message="annotations: keys with the prefix oauth2.clientoperator.dev/ are reserved for the operator; use a prefix of your own, such as example.com/"
	// +kubebuilder:validation:XValidation:rule="self.all(k, self[k].size() <= 4096)",message="annotations: each value must be at most 4096 characters"
	Annotations map[string]string `json:"annotations,omitempty"`

	// clientIDKey is the Secret key that holds the client ID. Unset means client_id. It must be
	// a valid Secret key (1 to 253 letters, digits, -, _ and ., not . and not starting with ..),
	// differ from clientSecretKey, and not be one of the endpoint keys issuer_url,
	// token_endpoint, authorization_endpoint and jwks_uri, which are reserved whether or not
	// includeEndpoints is set.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$') && self != '.' && !self.startsWith('..')",message="clientIDKey must be a valid Secret key: 1 to 253 letters, digits, -, _ and . only, not . and not starting with .., such as client_id or OAUTH2_CLIENT_ID"
	// +kubebuilder:validation:XValidation:rule="!(self in ['issuer_url', 'token_endpoint', 'authorization_endpoint', 'jwks_uri'])",message="clientIDKey must not be issuer_url, token_endpoint, authorization_endpoint or jwks_uri: those keys are reserved for the authorization server's endpoints (see includeEndpoints); choose another key, such as client_id"
	ClientIDKey string `json:"clientIDKey,omitempty"`

	// clientSecretKey is the Secret key that holds the client secret. Unset means
	// client_secret. It must be a valid Secret key (1 to 253 letters, digits, -, _ and ., not .
	// and not starting with ..), differ from clientIDKey, and not be one of the endpoint keys
	// issuer_url, token_endpoint, authorization_endpoint and jwks_uri, which are reserved
	// whether or not includeEndpoints is set.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$') && self != '.' && !self.startsWith('..')",message="clientSecretKey must be a valid Secret key: 1 to 253 letters, digits, -, _ and . only, not . and not starting with .., such as client_secret or OAUTH2_CLIENT_SECRET"
	// +kubebuilder:validation:XValidation:rule="!(self in ['issuer_url', 'token_endpoint', 'authorization_endpoint', 'jwks_uri'])",message="clientSecretKey must not be issuer_url, token_endpoint, authorization_endpoint or jwks_uri: those keys are reserved for the authorization server's endpoints (see includeEndpoints); choose another key, such as client_secret"
	ClientSecretKey string `json:"clientSecretKey,omitempty"`

	// includeEndpoints adds the keys issuer_url, token_endpoint, authorization_endpoint and
	// jwks_uri with the authorization server's public endpoints. Format Default only: the other
	// formats always include the endpoints their consumers read.
	// +optional
	IncludeEndpoints bool `json:"includeEndpoints,omitempty"`

	// format is the Secret's layout. Default: client_id and client_secret in an Opaque Secret.
	// ServiceBinding: a servicebinding.io/oauth2 Secret that Spring Boot applications read
	// through Spring Cloud Bindings (client-id, client-secret, issuer-uri, token-uri, ...).
	// OAuth2Proxy: OAUTH2_PROXY_* variables and a generated cookie secret for oauth2-proxy's
	// envFrom. It cannot be changed after creation (a Secret's type is immutable).
	// +optional
	// +kubebuilder:default=Default
	Format SecretFormat `json:"format,omitempty"`

	// serviceBinding shapes a Secret of format ServiceBinding.
	// +optional
	ServiceBinding *ServiceBindingOptions `json:"serviceBinding,omitempty"`
}

// SecretFormat is the layout of the credentials Secret: which keys it has and its type. Each
// format other than Default is what one kind of consumer reads as it is, without a mapping of
// key names in the application's manifests.
// +kubebuilder:validation:Enum=Default;ServiceBinding;OAuth2Proxy
type SecretFormat string

const (
	// SecretFormatDefault is an Opaque Secret with client_id and client_secret (renamed by
	// clientIDKey and clientSecretKey), and the endpoint keys with includeEndpoints.
	SecretFormatDefault SecretFormat = "Default"
	// SecretFormatServiceBinding is a Service Binding (servicebinding.io) Secret of type
	// servicebinding.io/oauth2 with the keys Spring Cloud Bindings maps to a Spring Security
	// OAuth2 client registration.
	SecretFormatServiceBinding SecretFormat = "ServiceBinding"
	// SecretFormatOAuth2Proxy is an Opaque Secret of OAUTH2_PROXY_* variables for oauth2-proxy's
	// envFrom, with a generated cookie secret.
	SecretFormatOAuth2Proxy SecretFormat = "OAuth2Proxy"
)

// ServiceBindingOptions shapes a Secret of format ServiceBinding.
type ServiceBindingOptions struct {
	// provider is the binding's provider key: Spring Cloud Bindings names the Spring Security
	// provider after it (spring.security.oauth2.client.provider.<provider>.issuer-uri) and skips
	// a binding without one. Unset means hydra. Lowercase letters, digits and -, at most 63.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="serviceBinding.provider must be 1 to 63 lowercase letters, digits and -, starting and ending with a letter or digit, such as hydra"
	Provider string `json:"provider,omitempty"`
}
