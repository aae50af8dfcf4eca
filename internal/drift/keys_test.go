package drift

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// A client whose keys the operator generates (KeyRollover) matches when its jwks holds exactly
// the keys status names: the scanner has no Secret to compute them from.
func TestMatchesGeneratedKeys(t *testing.T) {
	current, previous, stranger := publicKey(t), publicKey(t), publicKey(t)
	rolling := func(currentKID, previousKID string) *v1alpha1.OAuth2Client {
		obj := settled("signer", "id-signer")
		obj.Spec.TokenEndpointAuthMethod = "private_key_jwt"
		obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyKeyRollover}
		obj.Status.Rotation = &v1alpha1.RotationStatus{CurrentKeyID: currentKID, PreviousKeyID: previousKID}
		return obj
	}
	publishing := func(obj *v1alpha1.OAuth2Client, keys ...jose.JSONWebKey) *hydra.OAuth2Client {
		c := atHydra(t, obj)
		if err := hydra.WithKeys(&c, jose.JSONWebKeySet{Keys: keys}); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	changedScope := func(c *hydra.OAuth2Client) *hydra.OAuth2Client { c.SetScope("everything"); return c }
	cases := []struct {
		name   string
		obj    *v1alpha1.OAuth2Client
		actual func(*v1alpha1.OAuth2Client) *hydra.OAuth2Client
		want   bool
	}{
		{"the current key", rolling(current.KeyID, ""), func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, current) }, true},
		{"both keys in the grace period", rolling(current.KeyID, previous.KeyID),
			func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, previous, current) }, true},
		{"the previous key retired at the server before status says so", rolling(current.KeyID, previous.KeyID),
			func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, current) }, false},
		{"a key added at the server", rolling(current.KeyID, ""),
			func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, current, stranger) }, false},
		{"the keys replaced at the server", rolling(current.KeyID, ""),
			func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, stranger) }, false},
		{"keys not recorded yet", rolling("", ""), func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return publishing(o, current) }, false},
		{"the right keys, another field changed", rolling(current.KeyID, ""),
			func(o *v1alpha1.OAuth2Client) *hydra.OAuth2Client { return changedScope(publishing(o, current)) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matches("", c.obj, c.actual(c.obj)); got != c.want {
				t.Errorf("matches = %v; want %v", got, c.want)
			}
		})
	}
}

func publicKey(t *testing.T) jose.JSONWebKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "RS256", Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return jwk
}
