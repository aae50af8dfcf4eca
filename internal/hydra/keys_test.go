package hydra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"

	jose "github.com/go-jose/go-jose/v3"
)

// thumbprinted is a fresh RSA key as the operator publishes generated keys: kid = its RFC 7638
// thumbprint. The private half is returned too, for a case that publishes it by mistake.
func thumbprinted(t *testing.T) (public, private jose.JSONWebKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	private = jose.JSONWebKey{Key: key, Algorithm: "RS256", Use: "sig"}
	thumb, err := private.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	private.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return private.Public(), private
}

func TestHoldsKeys(t *testing.T) {
	a, aPrivate := thumbprinted(t)
	b, _ := thumbprinted(t)
	renamed := b
	renamed.KeyID = a.KeyID // b's key under a's ID
	holding := func(keys ...jose.JSONWebKey) *OAuth2Client {
		c := &OAuth2Client{}
		if err := WithKeys(c, jose.JSONWebKeySet{Keys: keys}); err != nil {
			t.Fatal(err)
		}
		return asStored(t, c)
	}
	cases := []struct {
		name   string
		actual *OAuth2Client
		kids   []string
		want   bool
	}{
		{"the one key", holding(a), []string{a.KeyID}, true},
		{"both keys during a grace period", holding(b, a), []string{a.KeyID, b.KeyID}, true},
		{"a key missing", holding(a), []string{a.KeyID, b.KeyID}, false},
		{"a key too many", holding(a, b), []string{a.KeyID}, false},
		{"another key", holding(b), []string{a.KeyID}, false},
		{"another key under the expected ID", holding(renamed), []string{a.KeyID}, false},
		{"the private key published", holding(aPrivate), []string{a.KeyID}, false},
		{"no keys", &OAuth2Client{}, []string{a.KeyID}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := HoldsKeys(c.actual, c.kids); got != c.want {
				t.Errorf("HoldsKeys = %v; want %v", got, c.want)
			}
		})
	}
}
