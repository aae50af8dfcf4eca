package testenv

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A private key in a Secret is looked for as a whole and by its key material alone: a log line
// that prints the key without its PEM frame, or only its first line, is a leak too.
func TestLeaksFindsPrivateKeys(t *testing.T) {
	body := "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
	pem := "-----BEGIN PRIVATE KEY-----\n" + body + "\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END PRIVATE KEY-----\n"
	l := NewLeaks()
	l.RememberSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
		Data: map[string][]byte{"private_key": []byte(pem), "key_id": []byte("public-kid"), "client_id": []byte("id")}})
	findings := l.Find(map[string]string{
		"the framed key":  "key=" + pem,
		"the bare key":    "material " + body + " end",
		"the key ID only": "kid public-kid of client id",
	})
	got := strings.Join(findings, "\n")
	if !strings.Contains(got, "the framed key") || !strings.Contains(got, "the bare key") || strings.Contains(got, "key ID") {
		t.Fatalf("findings:\n%s\nwant the framed and the bare key, not the key ID", got)
	}
}
