package hydra

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"slices"

	jose "github.com/go-jose/go-jose/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// WithKeys sets the client's jwks to the public keys the operator generated for it (rotation
// strategy KeyRollover), in the form Hydra stores them, as Desired does for a spec's jwks.
func WithKeys(c *OAuth2Client, set jose.JSONWebKeySet) error {
	raw, err := json.Marshal(set)
	if err != nil {
		return err
	}
	c.Jwks, err = canonicalJWKS(&apiextensionsv1.JSON{Raw: raw})
	return err
}

// HoldsKeys reports whether Hydra's client publishes exactly the keys with these IDs, each
// the key its ID is the thumbprint of: what the drift scanner, which never reads a Secret, can
// check of operator-generated keys from the key IDs in status alone.
func HoldsKeys(actual *OAuth2Client, keyIDs []string) bool {
	raw, err := json.Marshal(actual.Jwks)
	if err != nil {
		return false
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != len(keyIDs) {
		return false
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !keyIDMatches(k) || !slices.Contains(keyIDs, k.KeyID) {
			return false
		}
	}
	return true
}

// keyIDMatches reports whether a JWK's kid is the RFC 7638 thumbprint of its own key, as for
// every key the operator generates: such a key set is identified by its key IDs alone.
func keyIDMatches(jwk jose.JSONWebKey) bool {
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	return err == nil && jwk.KeyID == base64.RawURLEncoding.EncodeToString(thumb)
}
