package secrets

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewCookieSecretIsWhatOAuth2ProxyAccepts(t *testing.T) {
	seen := map[string]bool{}
	for range 64 {
		s, err := NewCookieSecret()
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(s, "+/=") {
			t.Fatalf("cookie secret %q has +, / or =: oauth2-proxy would take the string itself as a 43-byte key", s)
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("cookie secret decodes to %d bytes (err %v), want 32", len(b), err)
		}
		if seen[s] {
			t.Fatal("two cookie secrets are equal")
		}
		seen[s] = true
	}
}

func TestKeepCookieSecret(t *testing.T) {
	kept, err := NewCookieSecret()
	if err != nil {
		t.Fatal(err)
	}
	// 0xfb 0xff encodes to +/ in standard base64, which oauth2-proxy does not decode.
	std := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:32])
	cases := []struct {
		name, existing string
		keep           bool
	}{
		{"a generated secret is kept", kept, true},
		{"padded URL-safe base64 of 32 bytes is kept", base64.URLEncoding.EncodeToString(make([]byte, 32)), true},
		{"URL-safe base64 of 16 bytes is kept", base64.RawURLEncoding.EncodeToString(make([]byte, 16)), true},
		{"URL-safe base64 of 24 bytes is kept", base64.RawURLEncoding.EncodeToString(make([]byte, 24)), true},
		{"missing", "", false},
		{"standard base64 with + and /", std, false},
		{"URL-safe base64 of 20 bytes", base64.RawURLEncoding.EncodeToString(make([]byte, 20)), false},
		{"a 32-character password", "correct horse battery staple!!!!", false},
		{"not base64", strings.Repeat("!", 43), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KeepCookieSecret(tc.existing)
			if err != nil {
				t.Fatal(err)
			}
			if (got == tc.existing) != tc.keep {
				t.Fatalf("KeepCookieSecret kept the existing value: %v, want %v", got == tc.existing, tc.keep)
			}
			if !validCookieSecret(got) {
				t.Fatalf("KeepCookieSecret returned an unusable secret")
			}
		})
	}
}
