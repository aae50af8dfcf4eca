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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AuthorizationServerType names the kind of authorization server behind the admin URL. Only
// Hydra exists today; the field is there so that another backend can be added without a new
// API version.
// +kubebuilder:validation:Enum=Hydra
type AuthorizationServerType string

// AuthorizationServerTypeHydra is Ory Hydra's admin API.
const AuthorizationServerTypeHydra AuthorizationServerType = "Hydra"

// AuthorizationServerKind is the kind of server an OAuth2Client refers to.
// +kubebuilder:validation:Enum=AuthorizationServer;ClusterAuthorizationServer
type AuthorizationServerKind string

// The kinds of authorization server objects.
const (
	AuthorizationServerKindNamespaced AuthorizationServerKind = "AuthorizationServer"
	AuthorizationServerKindCluster    AuthorizationServerKind = "ClusterAuthorizationServer"
)

// AuthorizationServerReference names the server object an OAuth2Client is registered at. It has
// no namespace: an AuthorizationServer is always the one of the OAuth2Client's own namespace,
// so no namespace can use another's server.
type AuthorizationServerReference struct {
	// kind is AuthorizationServer (in this resource's namespace) or ClusterAuthorizationServer.
	// +required
	Kind AuthorizationServerKind `json:"kind"`
	// name of the server object: a DNS subdomain name of at most 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="authorizationServerRef.name must be a valid object name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	Name string `json:"name"`
}

// AuthorizationServerSpec is how the operator reaches one authorization server's admin API.
// AuthorizationServer and ClusterAuthorizationServer share it; the cluster kind adds a
// namespaceSelector.
// +kubebuilder:validation:XValidation:rule="!has(self.auth) || !has(self.auth.clientCertificate) || self.adminURL.startsWith('https://')",message="auth.clientCertificate needs an https adminURL: a client certificate is presented only in a TLS handshake"
type AuthorizationServerSpec struct {
	// type is the kind of server: Hydra (the default and, for now, the only one).
	// +optional
	// +kubebuilder:default=Hydra
	Type AuthorizationServerType `json:"type,omitempty"`

	// adminURL is the base URL of the admin API, such as http://hydra-admin.hydra:4445: an
	// absolute http or https URL with a host, without credentials, query or fragment, of at
	// most 2048 printable ASCII characters. Only administrators create server objects (see the
	// authorizationserver-admin role): the operator sends requests, with credentials, to it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^https?://[!-~]+$') && isURL(self) && url(self).getHostname() != '' && !self.contains('?') && !self.contains('#')",message="adminURL must be an absolute http or https URL with a host and no query or fragment, such as http://hydra-admin.hydra:4445"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[a-zA-Z]+://[^/]*@')",message="adminURL must not carry credentials (user:password@): they would show in kubectl get and in logs; use spec.auth"
	AdminURL string `json:"adminURL"`

	// publicURL is the base URL of the public (OAuth2) API, such as https://auth.example.com,
	// whose discovery document names the endpoints written into Secrets. The same rules as
	// adminURL. Unset: clients of this server get no endpoint keys.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^https?://[!-~]+$') && isURL(self) && url(self).getHostname() != '' && !self.contains('?') && !self.contains('#')",message="publicURL must be an absolute http or https URL with a host and no query or fragment, such as https://auth.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'^[a-zA-Z]+://[^/]*@')",message="publicURL must not carry credentials (user:password@): they would show in kubectl get and in logs; use spec.auth"
	PublicURL string `json:"publicURL,omitempty"`

	// auth is how the operator authenticates to the admin API. Unset: no credentials (an admin
	// API reachable only inside the cluster, behind a network policy).
	// +optional
	Auth *AdminAuth `json:"auth,omitempty"`

	// caBundle is the set of certificates to trust for TLS to the admin and public URLs, in
	// place of the system's. Unset: the system's trust store.
	// +optional
	CABundle *CABundleSource `json:"caBundle,omitempty"`

	// timeout bounds one request to the admin API: a duration such as 10s or 1m, from 1s to
	// 5m. Default 10s.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^([0-9]{1,4}(ms|s|m))+$') && duration(self) >= duration('1s') && duration(self) <= duration('5m')",message="timeout must be a duration from 1s to 5m, such as 10s or 1m30s (units ms, s, m)"
	Timeout string `json:"timeout,omitempty"`

	// rateLimit bounds the requests the operator sends to this server. Unset: no limit beyond
	// the operator's concurrency.
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
}

// AdminAuth is one way to authenticate to the admin API: set exactly one of its fields.
// +kubebuilder:validation:XValidation:rule="[has(self.bearerToken), has(self.basic), has(self.clientCertificate)].filter(x, x).size() == 1",message="auth: set exactly one of bearerToken, basic or clientCertificate"
type AdminAuth struct {
	// bearerToken sends "Authorization: Bearer <token>", the token read from a Secret key.
	// +optional
	BearerToken *BearerTokenAuth `json:"bearerToken,omitempty"`
	// basic sends HTTP basic authentication with the username and password keys of a Secret.
	// +optional
	Basic *BasicAuth `json:"basic,omitempty"`
	// clientCertificate presents the certificate and key of a kubernetes.io/tls Secret (tls.crt,
	// tls.key) in the TLS handshake; adminURL must then be https.
	// +optional
	ClientCertificate *ClientCertificateAuth `json:"clientCertificate,omitempty"`
}

// BearerTokenAuth names the Secret key that holds the bearer token.
type BearerTokenAuth struct {
	// secretKeyRef is the Secret and key of the token. For an AuthorizationServer the Secret is
	// in the server's namespace; for a ClusterAuthorizationServer, in the operator's namespace.
	// +required
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// BasicAuth names the Secret with the username and password.
type BasicAuth struct {
	// secretRef is a Secret with the keys username and password (as a kubernetes.io/basic-auth
	// Secret has). Where it lives: as for bearerToken.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// ClientCertificateAuth names the kubernetes.io/tls Secret with the client certificate.
type ClientCertificateAuth struct {
	// secretRef is a kubernetes.io/tls Secret (keys tls.crt and tls.key). Where it lives: as
	// for bearerToken.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// CABundleSource is one source of PEM certificates: set exactly one of its fields.
// +kubebuilder:validation:XValidation:rule="[has(self.inline), has(self.secretKeyRef), has(self.configMapKeyRef)].filter(x, x).size() == 1",message="caBundle: set exactly one of inline, secretKeyRef or configMapKeyRef"
type CABundleSource struct {
	// inline is the PEM certificates themselves, at most 64 KiB.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:XValidation:rule="self.contains('-----BEGIN CERTIFICATE-----')",message="caBundle.inline must hold PEM certificates (-----BEGIN CERTIFICATE-----)"
	Inline string `json:"inline,omitempty"`
	// secretKeyRef is a Secret key holding the PEM certificates. Where it lives: as for
	// auth.bearerToken.
	// +optional
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
	// configMapKeyRef is a ConfigMap key holding the PEM certificates, in the same namespace a
	// Secret would be.
	// +optional
	ConfigMapKeyRef *ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
}

// LocalObjectReference names an object in the namespace the referring kind reads from.
type LocalObjectReference struct {
	// name of the object: a DNS subdomain name of at most 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid object name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	Name string `json:"name"`
}

// SecretKeySelector names one key of a Secret.
type SecretKeySelector struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid Secret name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	Name string `json:"name"`
	// key in the Secret's data: letters, digits, -, _ and ., at most 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$')",message="key must be a valid Secret key: letters, digits, -, _ and ."
	Key string `json:"key"`
}

// ConfigMapKeySelector names one key of a ConfigMap.
type ConfigMapKeySelector struct {
	// name of the ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid ConfigMap name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	Name string `json:"name"`
	// key in the ConfigMap's data: letters, digits, -, _ and ., at most 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[-._a-zA-Z0-9]+$')",message="key must be a valid ConfigMap key: letters, digits, -, _ and ."
	Key string `json:"key"`
}

// RateLimit is a token bucket for requests to one server.
// +kubebuilder:validation:XValidation:rule="!has(self.burst) || self.burst >= self.qps",message="rateLimit.burst must be at least rateLimit.qps"
type RateLimit struct {
	// qps is the sustained rate of requests per second, 1 to 1000.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	QPS int32 `json:"qps"`
	// burst is how many requests may go at once above qps, 1 to 2000; at least qps.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2000
	Burst int32 `json:"burst,omitempty"`
}

// ClusterAuthorizationServerSpec is an AuthorizationServerSpec that serves the namespaces its
// namespaceSelector selects.
type ClusterAuthorizationServerSpec struct {
	AuthorizationServerSpec `json:",inline"`

	// namespaceSelector selects the namespaces whose OAuth2Clients may use this server, by
	// their labels. Unset or empty selects none: an administrator opts namespaces in.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// AuthorizationServerStatus is what the operator last saw of the server.
type AuthorizationServerStatus struct {
	// observedGeneration is the generation of the spec the last check used.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the admin API answered, accepted the credentials and told its
	// version), Reconciling (the server could not be checked and is retried; present only
	// while true) and Stalled (the configuration is wrong, such as refused credentials;
	// present only while true).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// version is the version the server reported at the last successful check.
	// +optional
	Version string `json:"version,omitempty"`

	// lastCheckTime is when the server was last checked, successfully or not.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`

	// lastHandledRequestedAt echoes the value of the oauth2.clientoperator.dev/requested-at
	// annotation that was last handled: change it to have the server checked now.
	// +optional
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`
}

// AuthorizationServer is an authorization server's admin API for the OAuth2Clients of its own
// namespace, with the credentials and trust to reach it, and its health in status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=authzserver,categories=oauth2
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.adminURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AuthorizationServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is how to reach the server.
	// +required
	Spec AuthorizationServerSpec `json:"spec"`

	// status is what the operator last saw. It defaults to observedGeneration 0 so that a
	// server the operator has not checked yet reads as in progress to kstatus.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status AuthorizationServerStatus `json:"status,omitempty"`
}

// AuthorizationServerList is a list of AuthorizationServer.
//
// +kubebuilder:object:root=true
type AuthorizationServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AuthorizationServer `json:"items"`
}

// ClusterAuthorizationServer is an authorization server's admin API for the OAuth2Clients of
// the namespaces its namespaceSelector selects. The Secrets it references are read from the
// operator's namespace, never a tenant's.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cauthzserver,categories=oauth2
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.adminURL`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterAuthorizationServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is how to reach the server and which namespaces it serves.
	// +required
	Spec ClusterAuthorizationServerSpec `json:"spec"`

	// status is what the operator last saw; see AuthorizationServer's.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status AuthorizationServerStatus `json:"status,omitempty"`
}

// ClusterAuthorizationServerList is a list of ClusterAuthorizationServer.
//
// +kubebuilder:object:root=true
type ClusterAuthorizationServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterAuthorizationServer `json:"items"`
}

// ServerSpec is the spec both server kinds share, so that one controller handles both.
func (s *AuthorizationServer) ServerSpec() *AuthorizationServerSpec { return &s.Spec }

// ServerStatus is the status both server kinds share.
func (s *AuthorizationServer) ServerStatus() *AuthorizationServerStatus { return &s.Status }

// ServerSpec is the spec both server kinds share, so that one controller handles both.
func (s *ClusterAuthorizationServer) ServerSpec() *AuthorizationServerSpec {
	return &s.Spec.AuthorizationServerSpec
}

// ServerStatus is the status both server kinds share.
func (s *ClusterAuthorizationServer) ServerStatus() *AuthorizationServerStatus { return &s.Status }
