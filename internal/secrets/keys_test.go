package secrets

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

func TestPublicJWK(t *testing.T) {
	private, err := NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := PublicJWK(private)
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if jwk.KeyID != base64.RawURLEncoding.EncodeToString(thumb) || jwk.Algorithm != "RS256" || jwk.Use != "sig" {
		t.Fatalf("kid %q alg %q use %q; want the RFC 7638 thumbprint, RS256, sig", jwk.KeyID, jwk.Algorithm, jwk.Use)
	}
	raw, err := jwk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, privatePart := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
		if strings.Contains(string(raw), privatePart) {
			t.Fatalf("the public JWK holds the private member %s: %s", privatePart, raw)
		}
	}
	back, err := ParsePublicJWK(string(raw))
	if err != nil || back.KeyID != jwk.KeyID {
		t.Fatalf("ParsePublicJWK(PublicJWK) = %q, %v", back.KeyID, err)
	}
	if again, _ := PublicJWK(private); again.KeyID != jwk.KeyID {
		t.Fatal("the key ID of a key changes")
	}
	other, _ := NewPrivateKey()
	if o, _ := PublicJWK(other); o.KeyID == jwk.KeyID {
		t.Fatal("two keys have one key ID")
	}
}

func TestPublicJWKRefusesKeysItCannotUse(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakDER, _ := x509.MarshalPKCS8PrivateKey(weak)
	weakPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: weakDER}))
	garbage := "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END PRIVATE KEY-----\n"
	for name, private := range map[string]string{"empty": "", "not PEM": "secret-material", "not a key": garbage, "1024 bits": weakPEM} {
		t.Run(name, func(t *testing.T) {
			_, err := PublicJWK(private)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), "secret-material") {
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
	if _, err := ParsePublicJWK(`{"kty":"RSA"}`); err == nil {
		t.Error("ParsePublicJWK accepted an incomplete key")
	}
}

func TestKeySet(t *testing.T) {
	a, b := newJWK(t), newJWK(t)
	set := KeySet(b, a, b)
	want := []string{a.KeyID, b.KeyID}
	slices.Sort(want)
	if !slices.Equal(KeyIDs(set), want) {
		t.Fatalf("KeySet(b, a, b) = %v; want %v, each once, sorted", KeyIDs(set), want)
	}
	if !slices.Equal(KeyIDs(KeySet(a, b)), KeyIDs(KeySet(b, a))) {
		t.Fatal("the same keys make different sets")
	}
}

func newJWK(t *testing.T) jose.JSONWebKey {
	t.Helper()
	private, err := NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := PublicJWK(private)
	if err != nil {
		t.Fatal(err)
	}
	return jwk
}

// A Secret of a KeyRollover client: the private key with its ID, and the rotation state.
func TestRenderGeneratedKeys(t *testing.T) {
	current, _ := NewPrivateKey()
	pending, _ := NewPrivateKey()
	previous, _ := newJWK(t).MarshalJSON()
	until := time.Date(2026, 3, 1, 13, 10, 0, 0, time.UTC)
	src := Source{Credentials: Credentials{ClientID: "id", PrivateKey: current}, Spec: &v1alpha1.OAuth2ClientSpec{},
		PendingPrivateKey: pending, PreviousPublicKey: string(previous), PreviousValidUntil: until}
	d := Render(src, testKey)
	jwk, _ := PublicJWK(current)
	if string(d.Data[PrivateKeyKey]) != current || string(d.Data[KeyIDKey]) != jwk.KeyID || d.Data[DefaultClientSecretKey] != nil {
		t.Fatalf("keys %v; want private_key and its key_id, no client_secret", sorted(keysOf(d.Data)))
	}
	if string(d.Data[PendingPrivateKeyKey]) != pending || string(d.Data[PreviousPublicKeyKey]) != string(previous) ||
		d.Annotations[v1alpha1.PreviousValidUntilAnnotation] != "2026-03-01T13:10:00Z" {
		t.Fatal("the rotation state is not in the Secret")
	}
	rekeyed := src
	rekeyed.Credentials.PrivateKey = pending
	if Render(rekeyed, testKey).Annotations[v1alpha1.CredentialsHashAnnotation] == d.Annotations[v1alpha1.CredentialsHashAnnotation] {
		t.Fatal("a new key leaves the credentials hash as it was")
	}
	// Without a key the fingerprint of a secret is what it was before keys existed (computed then).
	plain := Credentials{ClientID: "id", ClientSecret: "secret"}
	if Fingerprint(testKey, "uid", plain) != "702352be1b04e748cdd293b0a4f80954" {
		t.Errorf("the fingerprint of a client secret changed: %s", Fingerprint(testKey, "uid", plain))
	}
}

func keysOf(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
