package v1alpha1

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
