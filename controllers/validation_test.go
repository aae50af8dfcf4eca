package controllers

import (
	"context"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestValidationAtApplyTime sends one invalid manifest per schema or CEL rule to the real API
// server (server-side dry run, as `kubectl apply --dry-run=server` would) and expects it refused
// with a message a user can act on; and a valid manifest of each kind accepted.
func TestValidationAtApplyTime(t *testing.T) {
	ns := newNamespace(t, "validation")
	web := func(mutate func(*v1alpha1.OAuth2ClientSpec)) *v1alpha1.OAuth2Client {
		obj := &v1alpha1.OAuth2Client{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "v-"},
			Spec: v1alpha1.OAuth2ClientSpec{
				GrantTypes:    []v1alpha1.GrantType{"authorization_code", "refresh_token"},
				ResponseTypes: []v1alpha1.ResponseType{"code"},
				RedirectURIs:  []string{"https://app.example.com/callback"},
				Scopes:        []string{"openid", "offline_access"},
			},
		}
		mutate(&obj.Spec)
		return obj
	}
	cases := []struct {
		name    string
		mutate  func(*v1alpha1.OAuth2ClientSpec)
		wantErr string // empty: accepted
	}{
		{"valid web app", func(*v1alpha1.OAuth2ClientSpec) {}, ""},
		{"valid service", func(s *v1alpha1.OAuth2ClientSpec) {
			*s = v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}, Scopes: []string{"read"}}
		}, ""},
		{"valid public PKCE client", func(s *v1alpha1.OAuth2ClientSpec) { s.TokenEndpointAuthMethod = "none" }, ""},
		{"valid private_key_jwt", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenEndpointAuthMethod = "private_key_jwt"
			s.JWKSURI = "https://app.example.com/jwks.json"
		}, ""},
		{"valid lifespans and metadata", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{AuthorizationCodeGrantAccessToken: "15m", RefreshTokenGrantRefreshToken: "720h"}
			s.Metadata = &apiextensionsv1.JSON{Raw: []byte(`{"team":"payments","tier":1}`)}
		}, ""},
		{"relative redirect URI", func(s *v1alpha1.OAuth2ClientSpec) { s.RedirectURIs = []string{"/callback"} },
			"must be an absolute URI"},
		{"redirect URI with fragment", func(s *v1alpha1.OAuth2ClientSpec) { s.RedirectURIs = []string{"https://app.example.com/cb#x"} },
			"must not contain a fragment"},
		{"scope with a space", func(s *v1alpha1.OAuth2ClientSpec) { s.Scopes = []string{"read write"} },
			"spec.scopes[0]"},
		{"empty scope", func(s *v1alpha1.OAuth2ClientSpec) { s.Scopes = []string{""} },
			"spec.scopes[0]"},
		{"unknown grant type", func(s *v1alpha1.OAuth2ClientSpec) { s.GrantTypes = []v1alpha1.GrantType{"password"} },
			"Unsupported value: \"password\""},
		{"no grant types", func(s *v1alpha1.OAuth2ClientSpec) { s.GrantTypes = nil },
			"spec.grantTypes"},
		{"unknown response type", func(s *v1alpha1.OAuth2ClientSpec) { s.ResponseTypes = []v1alpha1.ResponseType{"magic"} },
			"Unsupported value: \"magic\""},
		{"refresh_token alone", func(s *v1alpha1.OAuth2ClientSpec) {
			s.GrantTypes = []v1alpha1.GrantType{"client_credentials", "refresh_token"}
			s.ResponseTypes = nil
		}, "refresh_token needs authorization_code"},
		{"none with client_credentials", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenEndpointAuthMethod = "none"
			s.GrantTypes = []v1alpha1.GrantType{"authorization_code", "client_credentials"}
		}, "client_credentials cannot be used with tokenEndpointAuthMethod none"},
		{"private_key_jwt without keys", func(s *v1alpha1.OAuth2ClientSpec) { s.TokenEndpointAuthMethod = "private_key_jwt" },
			"private_key_jwt needs the client's public keys"},
		{"unknown auth method", func(s *v1alpha1.OAuth2ClientSpec) { s.TokenEndpointAuthMethod = "client_secret_jwt" },
			"Unsupported value: \"client_secret_jwt\""},
		{"clientID with slash", func(s *v1alpha1.OAuth2ClientSpec) { s.ClientID = "team/app" },
			"spec.clientID"},
		{"clientID too long", func(s *v1alpha1.OAuth2ClientSpec) { s.ClientID = strings.Repeat("a", 129) },
			"spec.clientID"},
		{"duration that does not parse", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{AuthorizationCodeGrantAccessToken: "15 minutes"}
		}, "authorizationCodeGrantAccessToken"},
		{"code response type without authorization_code", func(s *v1alpha1.OAuth2ClientSpec) {
			s.GrantTypes = []v1alpha1.GrantType{"client_credentials"}
		}, "responseTypes containing code need authorization_code"},
		{"CORS origin with a path", func(s *v1alpha1.OAuth2ClientSpec) { s.AllowedCORSOrigins = []string{"https://app.example.com/x"} },
			"spec.allowedCORSOrigins[0]"},
		{"invalid secret name", func(s *v1alpha1.OAuth2ClientSpec) { s.SecretName = "Not_A_Name" },
			"spec.secretName"},
		{"unknown deletion policy", func(s *v1alpha1.OAuth2ClientSpec) { s.DeletionPolicy = "Keep" },
			"Unsupported value: \"Keep\""},
		{"jwks that is not a key set", func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenEndpointAuthMethod = "private_key_jwt"
			s.JWKS = &apiextensionsv1.JSON{Raw: []byte(`{"kty":"RSA"}`)}
		}, "jwks must be a JSON Web Key Set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(context.Background(), web(tc.mutate), client.DryRunAll)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("a valid manifest was refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted; want refusal with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("refused with %q; want a message containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestClientIDIsImmutable checks the transition rule: clientID can't be changed, added or removed.
func TestClientIDIsImmutable(t *testing.T) {
	ns := newNamespace(t, "immutable")
	fixed := serviceClient(ns, "fixed")
	fixed.Spec.ClientID = "fixed-" + ns
	create(t, fixed)
	loose := serviceClient(ns, "loose")
	create(t, loose)
	cases := []struct {
		obj   *v1alpha1.OAuth2Client
		patch string
	}{
		{fixed, `{"spec":{"clientID":"other"}}`},
		{fixed, `{"spec":{"clientID":null}}`},
		{loose, `{"spec":{"clientID":"added-later"}}`},
	}
	for _, tc := range cases {
		err := k8s.Patch(context.Background(), tc.obj.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch)), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "clientID is immutable") {
			t.Fatalf("%s %s: %v", tc.obj.Name, tc.patch, err)
		}
	}
}
