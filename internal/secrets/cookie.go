package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// CookieSecretBytes is the size of a generated oauth2-proxy cookie secret: 32 bytes, an AES-256
// key. oauth2-proxy v7 (pkg/encryption SecretBytes and pkg/validation validateCookieSecret)
// accepts 16, 24 or 32 bytes after decoding.
const CookieSecretBytes = 32

// NewCookieSecret returns a cookie secret for oauth2-proxy: 32 bytes from crypto/rand in
// unpadded URL-safe base64 (43 characters). URL-safe because oauth2-proxy decodes the value with
// base64.RawURLEncoding and, when that fails, takes the string itself as the key: standard
// base64 with + or / would become a 44-byte key, which it refuses at startup.
func NewCookieSecret() (string, error) {
	b := make([]byte, CookieSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// KeepCookieSecret returns existing when oauth2-proxy would decode it to an AES key, and a new
// one otherwise. The cookie secret encrypts oauth2-proxy's sessions, so changing it logs every
// user out: a value read back from the Secret is kept across reconciles, operator restarts and
// rotations of the client secret, and only a missing or unusable one is replaced (deleting the
// key from the Secret is how to rotate it). A key a user wrote in is kept if it is URL-safe
// base64 of 16, 24 or 32 bytes; a string that oauth2-proxy would only take as the key itself
// (such as a 32-character password with spaces) is replaced, as it is not a random key.
func KeepCookieSecret(existing string) (string, error) {
	if validCookieSecret(existing) {
		return existing, nil
	}
	return NewCookieSecret()
}

// validCookieSecret reports whether s decodes, as oauth2-proxy decodes it (padding trimmed,
// then unpadded URL-safe base64), to an AES key: 16, 24 or 32 bytes.
func validCookieSecret(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return err == nil && (len(b) == 16 || len(b) == 24 || len(b) == 32)
}
