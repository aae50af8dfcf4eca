// Package secrets generates client credentials and renders the Secret that holds them.
// Everything here is pure except the random generator, so "does the Secret need a write?" is a
// table-tested function, as in cert-manager's Certificate-to-Secret path.
package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Default key names in the Secret.
const (
	DefaultClientIDKey     = "client_id"
	DefaultClientSecretKey = "client_secret"
)

// Endpoint keys added when secretTemplate.includeEndpoints is set.
const (
	IssuerURLKey             = "issuer_url"
	TokenEndpointKey         = "token_endpoint"
	AuthorizationEndpointKey = "authorization_endpoint"
	JWKSURIKey               = "jwks_uri"
)

// secretBytes is the entropy of a generated client secret: 256 bits.
const secretBytes = 32

// Credentials are what an application needs to authenticate as the client.
type Credentials struct {
	ClientID     string
	ClientSecret string // empty for clients that authenticate without a secret
	// PrivateKey is the PEM private key a private_key_jwt client signs its assertions with,
	// when the operator generates its keys (rotation strategy KeyRollover); empty otherwise.
	PrivateKey string
}

// String never prints the secret, so credentials can't leak through a log line or %v.
func (c Credentials) String() string { return "Credentials{ClientID:" + c.ClientID + "}" }

// GoString is like String, for %#v.
func (c Credentials) GoString() string { return c.String() }

// NewSecret returns a client secret with 256 bits from crypto/rand, URL-safe base64 (43 chars).
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// FingerprintKeyBytes is the length of a generated fingerprint key: 256 bits.
const FingerprintKeyBytes = 32

// NewFingerprintKey returns a random key for Fingerprint.
func NewFingerprintKey() ([]byte, error) {
	key := make([]byte, FingerprintKeyBytes)
	_, err := rand.Read(key)
	return key, err
}

// Fingerprint identifies a set of credentials without revealing them: a truncated HMAC-SHA-256,
// keyed with the installation's fingerprint key, over a salt (the resource's UID), the client ID
// and the secret. Kept in status to notice that the Secret changed since the credentials were
// last registered at Hydra. The key is what makes it safe to show: an unkeyed hash in a status
// that anyone with read access to OAuth2Clients sees lets them test guesses of a weak secret
// offline; without the key, every guess needs the operator.
func Fingerprint(key []byte, salt string, c Credentials) string {
	h := hmac.New(sha256.New, key)
	parts := []string{"oauth2-client-operator/v1", salt, c.ClientID, c.ClientSecret}
	if c.PrivateKey != "" { // only then, so that the fingerprints of secrets stay what they were
		parts = append(parts, c.PrivateKey)
	}
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Endpoints are the authorization server's public URLs, for secretTemplate.includeEndpoints.
type Endpoints struct {
	Issuer, Token, Authorization, JWKS string
}

// EndpointsFromPublicURL derives Hydra's endpoints from its public base URL.
func EndpointsFromPublicURL(publicURL string) Endpoints {
	if publicURL == "" {
		return Endpoints{}
	}
	base := publicURL
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return Endpoints{
		Issuer:        base,
		Token:         base + "/oauth2/token",
		Authorization: base + "/oauth2/auth",
		JWKS:          base + "/.well-known/jwks.json",
	}
}

// KeyNames returns the Secret keys for the client ID and secret: the format's own, or for format
// Default the template's key names.
func KeyNames(t *v1alpha1.SecretTemplate) (idKey, secretKey string) {
	switch FormatOf(t) {
	case v1alpha1.SecretFormatServiceBinding:
		return BindingClientIDKey, BindingClientSecretKey
	case v1alpha1.SecretFormatOAuth2Proxy:
		return OAuth2ProxyClientIDKey, OAuth2ProxyClientSecretKey
	}
	idKey, secretKey = DefaultClientIDKey, DefaultClientSecretKey
	if t != nil && t.ClientIDKey != "" {
		idKey = t.ClientIDKey
	}
	if t != nil && t.ClientSecretKey != "" {
		secretKey = t.ClientSecretKey
	}
	return idKey, secretKey
}

// Read returns the credentials stored in a Secret under the template's key names.
func Read(s *corev1.Secret, t *v1alpha1.SecretTemplate) Credentials {
	idKey, secretKey := KeyNames(t)
	return Credentials{ClientID: string(s.Data[idKey]), ClientSecret: string(s.Data[secretKey])}
}

// FindWritten returns the client secret the operator last wrote into its Secret, under whatever
// key it is: the credentials-hash annotation fingerprints what was written, so a value under any
// key that, with clientID, matches it is that secret. This is how a renamed
// secretTemplate.clientSecretKey finds the secret under the old name and moves it instead of
// issuing a new one. found is false when no key holds it (the key was deleted: a rotation).
// key is the installation's fingerprint key.
func FindWritten(s *corev1.Secret, clientID string, key []byte) (secret, dataKey string, found bool) {
	recorded := s.Annotations[v1alpha1.CredentialsHashAnnotation]
	if recorded == "" {
		return "", "", false
	}
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		v := string(s.Data[k])
		if hmac.Equal([]byte(Fingerprint(key, "", Credentials{ClientID: clientID, ClientSecret: v})), []byte(recorded)) {
			return v, k, true
		}
	}
	return "", "", false
}

// Desired is the content the operator wants in a Secret it manages.
type Desired struct {
	Type        corev1.SecretType
	Data        map[string][]byte
	Labels      map[string]string
	Annotations map[string]string
}

// Source is what a managed Secret is rendered from.
type Source struct {
	Credentials Credentials
	// Spec is the resource's spec: its secretTemplate, and for format ServiceBinding the grant
	// types, scopes and redirect URIs that go into the binding. nil is an empty spec.
	Spec      *v1alpha1.OAuth2ClientSpec
	Endpoints Endpoints
	// CookieSecret is oauth2-proxy's cookie secret, for format OAuth2Proxy only: the one the
	// Secret holds (KeepCookieSecret), so that sessions survive, or a new one.
	CookieSecret string
	// IssuedAt is when the credentials were issued (zero: not recorded), and RotationRequest
	// the rotate-requested-at value whose rotation issued them: annotations written in the same
	// write as the credentials, so that no crash separates them.
	IssuedAt        time.Time
	RotationRequest string
	// PendingSecret is the fresh secret of a rotation with strategy AlternatingClients, saved
	// under PendingSecretKey before the standby client is registered with it; PreviousClientID
	// and PreviousValidUntil name the client the last such rotation switched from.
	PendingSecret      string
	PreviousClientID   string
	PreviousValidUntil time.Time
	// PendingPrivateKey and PreviousPublicKey are the state of a rotation with strategy
	// KeyRollover: the key about to replace Credentials.PrivateKey (PEM), and the public key
	// (a JWK) of the one the last rotation replaced, valid until PreviousValidUntil.
	PendingPrivateKey string
	PreviousPublicKey string
	// SecretKeptAtServer: the server keeps the secret switched from working until
	// PreviousValidUntil (rotation strategy ServerRotation).
	SecretKeptAtServer bool
}

// PendingSecretKey holds the secret a rotation with strategy AlternatingClients is about to
// switch the Secret to, for the moment between its generation and the switch; consumers ignore it.
const PendingSecretKey = "pending_client_secret"

func (src Source) spec() *v1alpha1.OAuth2ClientSpec {
	if src.Spec == nil {
		return &v1alpha1.OAuth2ClientSpec{}
	}
	return src.Spec
}

// Render computes the managed Secret's content. The resource's own labels and annotations are
// never copied: Argo CD's tracking label on the resource would otherwise make Argo CD prune the
// Secret. key is the installation's fingerprint key, for the credentials-hash annotation.
func Render(src Source, key []byte) Desired {
	c, t := src.Credentials, src.spec().SecretTemplate
	format := FormatOf(t)
	idKey, secretKey := KeyNames(t)
	d := Desired{
		Type:        secretType(format),
		Data:        map[string][]byte{idKey: []byte(c.ClientID)},
		Labels:      map[string]string{},
		Annotations: map[string]string{},
	}
	if c.ClientSecret != "" {
		d.Data[secretKey] = []byte(c.ClientSecret)
	}
	if c.PrivateKey != "" {
		d.Data[PrivateKeyKey] = []byte(c.PrivateKey)
		if jwk, err := PublicJWK(c.PrivateKey); err == nil {
			d.Data[KeyIDKey] = []byte(jwk.KeyID)
		}
	}
	if t != nil {
		for k, v := range t.Labels {
			d.Labels[k] = string(v)
		}
		maps.Copy(d.Annotations, t.Annotations)
	}
	var extra map[string]string
	switch {
	case format == v1alpha1.SecretFormatServiceBinding:
		extra = serviceBindingData(src)
	case format == v1alpha1.SecretFormatOAuth2Proxy:
		extra = oauth2ProxyData(src)
	case t != nil && t.IncludeEndpoints:
		ep := src.Endpoints
		extra = map[string]string{IssuerURLKey: ep.Issuer, TokenEndpointKey: ep.Token,
			AuthorizationEndpointKey: ep.Authorization, JWKSURIKey: ep.JWKS}
	}
	for k, v := range extra {
		if v != "" {
			d.Data[k] = []byte(v)
		}
	}
	// Set last, so a template can't override what the operator relies on.
	d.Labels[v1alpha1.ManagedByLabel] = v1alpha1.ManagedByValue
	d.Annotations[v1alpha1.CredentialsHashAnnotation] = Fingerprint(key, "", c)
	renderRotationState(src, d)
	return d
}

// renderRotationState writes the issue time and the state of a rotation under way into d.
func renderRotationState(src Source, d Desired) {
	setIf := func(m map[string]string, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if !src.IssuedAt.IsZero() {
		d.Annotations[v1alpha1.CredentialsIssuedAtAnnotation] = src.IssuedAt.UTC().Format(time.RFC3339)
	}
	setIf(d.Annotations, v1alpha1.RotationRequestAnnotation, src.RotationRequest)
	setIf(d.Annotations, v1alpha1.PreviousClientIDAnnotation, src.PreviousClientID)
	for k, v := range map[string]string{PendingSecretKey: src.PendingSecret, PendingPrivateKeyKey: src.PendingPrivateKey, PreviousPublicKeyKey: src.PreviousPublicKey} {
		if v != "" {
			d.Data[k] = []byte(v)
		}
	}
	if src.PreviousClientID != "" || src.PreviousPublicKey != "" || src.SecretKeptAtServer {
		d.Annotations[v1alpha1.PreviousValidUntilAnnotation] = src.PreviousValidUntil.UTC().Format(time.RFC3339)
	}
}

// operatorKeys are keys the operator may have written before; a managed Secret that still has
// one the desired content lacks needs a write to remove it (server-side apply drops it).
func operatorKeys(t *v1alpha1.SecretTemplate) []string {
	idKey, secretKey := KeyNames(t)
	return append([]string{idKey, secretKey, DefaultClientIDKey, DefaultClientSecretKey, PendingSecretKey,
		PrivateKeyKey, KeyIDKey, PendingPrivateKeyKey, PreviousPublicKeyKey}, formatKeys(FormatOf(t))...)
}

// NeedsWrite reports whether the existing managed Secret differs from the desired content or
// lacks the controller reference, so that a reconcile with nothing to do writes nothing.
// Labels, annotations and keys others added are not a reason to write: they survive apply.
func NeedsWrite(existing *corev1.Secret, d Desired, t *v1alpha1.SecretTemplate, owner metav1.OwnerReference) bool {
	if existing == nil || typeOrOpaque(existing.Type) != d.Type {
		// A type that differs can't be changed by a write; the write's refusal says so.
		return true
	}
	for k, v := range d.Data {
		if string(existing.Data[k]) != string(v) {
			return true
		}
	}
	for _, k := range operatorKeys(t) {
		if _, want := d.Data[k]; !want {
			if _, has := existing.Data[k]; has {
				return true
			}
		}
	}
	for k, v := range d.Labels {
		if existing.Labels[k] != v {
			return true
		}
	}
	for k, v := range d.Annotations {
		if existing.Annotations[k] != v {
			return true
		}
	}
	return !slices.ContainsFunc(existing.OwnerReferences, func(r metav1.OwnerReference) bool {
		return r.UID == owner.UID && r.Controller != nil && *r.Controller
	})
}

// ApplyConfiguration is the server-side apply request for the managed Secret. owner is nil when
// the Secret is being released (deletionPolicy Orphan), so that it outlives the resource.
func ApplyConfiguration(namespace, name string, d Desired, owner *metav1.OwnerReference) *corev1ac.SecretApplyConfiguration {
	ac := corev1ac.Secret(name, namespace).
		WithType(d.Type).
		WithLabels(d.Labels).
		WithAnnotations(d.Annotations).
		WithData(d.Data)
	if owner != nil {
		ac.WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(owner.APIVersion).WithKind(owner.Kind).WithName(owner.Name).WithUID(owner.UID).
			WithController(true).WithBlockOwnerDeletion(true))
	}
	return ac
}

// Object is the Secret ApplyConfiguration describes, for a create: the same type, labels,
// annotations, data and controller reference.
func Object(namespace, name string, d Desired, owner *metav1.OwnerReference) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: d.Labels, Annotations: d.Annotations},
		Type:       d.Type,
		Data:       d.Data,
	}
	if owner != nil {
		ref := *owner
		ref.Controller, ref.BlockOwnerDeletion = ptr.To(true), ptr.To(true)
		s.OwnerReferences = []metav1.OwnerReference{ref}
	}
	return s
}

// typeOrOpaque is a Secret's type as the API server defaults it.
func typeOrOpaque(t corev1.SecretType) corev1.SecretType {
	if t == "" {
		return corev1.SecretTypeOpaque
	}
	return t
}
