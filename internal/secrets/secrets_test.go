package secrets

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

func TestNewSecretHasEnoughEntropy(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 43 || seen[s] {
			t.Fatalf("secret %d chars long or repeated", len(s))
		}
		seen[s] = true
	}
}

func TestCredentialsNeverPrintTheSecret(t *testing.T) {
	c := Credentials{ClientID: "id", ClientSecret: "very-secret-value"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, "very-secret-value") {
			t.Fatalf("%s prints the secret: %s", format, out)
		}
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestFingerprint(t *testing.T) {
	a := Credentials{ClientID: "id", ClientSecret: "secret-1"}
	b := Credentials{ClientID: "id", ClientSecret: "secret-2"}
	if first, again := Fingerprint(testKey, "uid", a), Fingerprint(testKey, "uid", a); first != again {
		t.Fatal("not deterministic")
	}
	if Fingerprint(testKey, "uid", a) == Fingerprint(testKey, "uid", b) || Fingerprint(testKey, "uid", a) == Fingerprint(testKey, "other", a) {
		t.Fatal("different credentials or salts give the same fingerprint")
	}
	// Field boundaries matter: ("ab","c") and ("a","bc") must differ.
	if Fingerprint(testKey, "", Credentials{ClientID: "ab", ClientSecret: "c"}) == Fingerprint(testKey, "", Credentials{ClientID: "a", ClientSecret: "bc"}) {
		t.Fatal("fingerprint is ambiguous across field boundaries")
	}
}

// TestFingerprintNeedsTheKey replays the attack of issue 11: a viewer who sees the status
// fingerprint and knows the UID and client ID tries a dictionary of weak secrets. With the
// key the right guess matches; without it (another key, or none) no guess does.
func TestFingerprintNeedsTheKey(t *testing.T) {
	weak := Credentials{ClientID: "id", ClientSecret: "summer24"}
	shown := Fingerprint(testKey, "uid", weak)
	guesses := []string{"password", "123456", "winter23", "summer24", "letmein"}
	for _, attackerKey := range [][]byte{nil, []byte("guessed-key"), []byte("oauth2-client-operator/v1")} {
		for _, g := range guesses {
			if Fingerprint(attackerKey, "uid", Credentials{ClientID: "id", ClientSecret: g}) == shown {
				t.Fatalf("guess %q with key %q matches the fingerprint", g, attackerKey)
			}
		}
	}
	if Fingerprint(testKey, "uid", Credentials{ClientID: "id", ClientSecret: "summer24"}) != shown {
		t.Fatal("the operator itself no longer recognises the credentials")
	}
	key, err := NewFingerprintKey()
	if err != nil || len(key) != FingerprintKeyBytes {
		t.Fatalf("NewFingerprintKey: %d bytes, %v", len(key), err)
	}
}

func TestRender(t *testing.T) {
	ep := EndpointsFromPublicURL("https://auth.example.com/")
	creds := Credentials{ClientID: "id", ClientSecret: "secret"}
	cases := []struct {
		name      string
		creds     Credentials
		template  *v1alpha1.SecretTemplate
		wantKeys  []string
		wantLabel map[string]string
	}{
		{"defaults", creds, nil, []string{"client_id", "client_secret"}, nil},
		{"public client has no secret key", Credentials{ClientID: "id"}, nil, []string{"client_id"}, nil},
		{"custom key names", creds, &v1alpha1.SecretTemplate{ClientIDKey: "ID", ClientSecretKey: "SECRET"}, []string{"ID", "SECRET"}, nil},
		{"endpoints", creds, &v1alpha1.SecretTemplate{IncludeEndpoints: true},
			[]string{"authorization_endpoint", "client_id", "client_secret", "issuer_url", "jwks_uri", "token_endpoint"}, nil},
		{"template labels; managed-by cannot be overridden", creds,
			&v1alpha1.SecretTemplate{Labels: map[string]v1alpha1.LabelValue{"team": "a", v1alpha1.ManagedByLabel: "someone"}},
			[]string{"client_id", "client_secret"}, map[string]string{"team": "a", v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Render(Source{Credentials: tc.creds, Spec: &v1alpha1.OAuth2ClientSpec{SecretTemplate: tc.template}, Endpoints: ep}, testKey)
			var keys []string
			for k := range d.Data {
				keys = append(keys, k)
			}
			if fmt.Sprint(sorted(keys)) != fmt.Sprint(tc.wantKeys) {
				t.Fatalf("keys %v, want %v", sorted(keys), tc.wantKeys)
			}
			for k, v := range tc.wantLabel {
				if d.Labels[k] != v {
					t.Fatalf("label %s=%q, want %q", k, d.Labels[k], v)
				}
			}
			if d.Labels[v1alpha1.ManagedByLabel] != v1alpha1.ManagedByValue || d.Annotations[v1alpha1.CredentialsHashAnnotation] == "" {
				t.Fatal("the managed-by label and the credentials hash must always be set")
			}
		})
	}
	if got := string(Render(Source{Credentials: creds, Spec: &v1alpha1.OAuth2ClientSpec{SecretTemplate: &v1alpha1.SecretTemplate{IncludeEndpoints: true}}, Endpoints: ep}, testKey).Data[TokenEndpointKey]); got != "https://auth.example.com/oauth2/token" {
		t.Fatalf("token endpoint %q", got)
	}
}

func TestNeedsWrite(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "OAuth2Client", Name: "app", UID: "uid-1", Controller: ptr.To(true)}
	creds := Credentials{ClientID: "id", ClientSecret: "secret"}
	desired := Render(Source{Credentials: creds}, testKey)
	current := func(mutate func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Labels:          map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue},
				Annotations:     map[string]string{v1alpha1.CredentialsHashAnnotation: Fingerprint(testKey, "", creds)},
				OwnerReferences: []metav1.OwnerReference{owner},
			},
			Data: map[string][]byte{"client_id": []byte("id"), "client_secret": []byte("secret")},
		}
		mutate(s)
		return s
	}
	cases := []struct {
		name     string
		existing *corev1.Secret
		template *v1alpha1.SecretTemplate
		want     bool
	}{
		{"missing", nil, nil, true},
		{"up to date", current(func(*corev1.Secret) {}), nil, false},
		{"foreign labels, annotations and keys are not a reason", current(func(s *corev1.Secret) {
			s.Labels["argocd.argoproj.io/instance"] = "x"
			s.Annotations["reloader"] = "y"
			s.Data["extra"] = []byte("z")
		}), nil, false},
		{"client_id edited", current(func(s *corev1.Secret) { s.Data["client_id"] = []byte("other") }), nil, true},
		{"key deleted", current(func(s *corev1.Secret) { delete(s.Data, "client_secret") }), nil, true},
		{"managed-by label removed", current(func(s *corev1.Secret) { delete(s.Labels, v1alpha1.ManagedByLabel) }), nil, true},
		{"owner reference removed", current(func(s *corev1.Secret) { s.OwnerReferences = nil }), nil, true},
		{"stale key from an earlier key name", current(func(s *corev1.Secret) { s.Data["ID"] = []byte("id") }),
			&v1alpha1.SecretTemplate{}, false},
		{"leftover secret after switching to a public client", current(func(*corev1.Secret) {}), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsWrite(tc.existing, desired, tc.template, owner); got != tc.want {
				t.Fatalf("NeedsWrite = %v, want %v", got, tc.want)
			}
		})
	}
	public := Render(Source{Credentials: Credentials{ClientID: "id"}}, testKey)
	if !NeedsWrite(current(func(*corev1.Secret) {}), public, nil, owner) {
		t.Fatal("a client_secret left over after switching to a public client must be removed")
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestFindWritten: the secret the operator wrote is found by the credentials-hash annotation
// under whatever key it is, and only that secret.
func TestFindWritten(t *testing.T) {
	key := []byte("fingerprint-key")
	creds := Credentials{ClientID: "shop.svc", ClientSecret: "the-written-secret"}
	written := Render(Source{Credentials: creds}, key)
	secret := func(data map[string]string, annotations map[string]string) *corev1.Secret {
		s := &corev1.Secret{Data: map[string][]byte{}}
		s.Annotations = annotations
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	for _, tc := range []struct {
		name      string
		s         *corev1.Secret
		clientID  string
		key       []byte
		wantKey   string // "": not found
		wantValue string
	}{
		{"under the default key", secret(map[string]string{"client_id": "shop.svc", "client_secret": creds.ClientSecret}, written.Annotations), "shop.svc", key, "client_secret", creds.ClientSecret},
		{"under another key", secret(map[string]string{"client_id": "shop.svc", "password": creds.ClientSecret, "other": "x"}, written.Annotations), "shop.svc", key, "password", creds.ClientSecret},
		{"the key was deleted", secret(map[string]string{"client_id": "shop.svc", "other": "something-else"}, written.Annotations), "shop.svc", key, "", ""},
		{"no annotation", secret(map[string]string{"client_secret": creds.ClientSecret}, nil), "shop.svc", key, "", ""},
		{"another client ID", secret(map[string]string{"client_secret": creds.ClientSecret}, written.Annotations), "shop.other", key, "", ""},
		{"another fingerprint key", secret(map[string]string{"client_secret": creds.ClientSecret}, written.Annotations), "shop.svc", []byte("rotated"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value, k, found := FindWritten(tc.s, tc.clientID, tc.key)
			if found != (tc.wantKey != "") || k != tc.wantKey || value != tc.wantValue {
				t.Fatalf("FindWritten = %q under %q (found %t), want under %q", value, k, found, tc.wantKey)
			}
		})
	}
}
