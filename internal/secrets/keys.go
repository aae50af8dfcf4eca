package secrets

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v3"
)

// Keys of a Secret whose client authenticates with private_key_jwt and keys the operator
// generates (rotation strategy KeyRollover).
const (
	// PrivateKeyKey holds the private key the client signs its assertions with: PKCS #8, PEM.
	PrivateKeyKey = "private_key"
	// KeyIDKey holds that key's ID, the kid header a client assertion must carry.
	KeyIDKey = "key_id"
	// PendingPrivateKeyKey holds the key a rotation is about to switch to, from its generation
	// until the server holds its public key; consumers ignore it.
	PendingPrivateKeyKey = "pending_private_key"
	// PreviousPublicKeyKey holds the public key (a JWK) of the key the last rotation switched
	// from, which the server keeps accepting until the grace period ends.
	PreviousPublicKeyKey = "previous_public_key"
)

// SigningAlgorithm is the algorithm of generated keys: RS256, the default of Hydra's
// token_endpoint_auth_signing_alg and the one every JWT library signs with.
const SigningAlgorithm = "RS256"

// rsaKeyBits is the size of a generated RSA key.
const rsaKeyBits = 2048

// NewPrivateKey returns a fresh RSA key as PKCS #8 PEM.
func NewPrivateKey() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// PublicJWK is the public half of a PEM private key as the JWK the server is given: alg RS256,
// use sig, and as kid the key's RFC 7638 thumbprint, so that a key ID names exactly one key
// and anyone holding the public key can check that it does. Errors never quote the PEM.
func PublicJWK(privatePEM string) (jose.JSONWebKey, error) {
	block, _ := pem.Decode([]byte(privatePEM))
	if block == nil {
		return jose.JSONWebKey{}, errors.New("no PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return jose.JSONWebKey{}, errors.New("not a PKCS #8 or PKCS #1 private key")
		}
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return jose.JSONWebKey{}, fmt.Errorf("a %T, not an RSA key", parsed)
	}
	if key.N.BitLen() < rsaKeyBits {
		return jose.JSONWebKey{}, fmt.Errorf("an RSA key of %d bits; at least %d are needed", key.N.BitLen(), rsaKeyBits)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: SigningAlgorithm, Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return jwk, nil
}

// ParsePublicJWK reads a public JWK as PublicJWK writes it (PreviousPublicKeyKey).
func ParsePublicJWK(raw string) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(raw), &jwk); err != nil {
		return jose.JSONWebKey{}, err
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return jose.JSONWebKey{}, errors.New("not a valid public key")
	}
	return jwk, nil
}

// KeySet is the public keys the server is to accept, sorted by key ID so that the same keys
// always make the same set; keys with the same ID appear once.
func KeySet(keys ...jose.JSONWebKey) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		if !slices.ContainsFunc(set.Keys, func(have jose.JSONWebKey) bool { return have.KeyID == k.KeyID }) {
			set.Keys = append(set.Keys, k.Public())
		}
	}
	slices.SortFunc(set.Keys, func(a, b jose.JSONWebKey) int { return strings.Compare(a.KeyID, b.KeyID) })
	return set
}

// KeyIDs are the key IDs of a key set, in its order.
func KeyIDs(set jose.JSONWebKeySet) []string {
	ids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		ids[i] = k.KeyID
	}
	return ids
}
