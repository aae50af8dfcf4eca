package secrets

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// springBindingKeys are the keys of an oauth2 binding that Spring Cloud Bindings reads
// (SpringSecurityOAuth2BindingsPropertiesProcessor), with the specification's reserved type and
// provider. A key the ServiceBinding format writes outside this list would be ignored by Spring.
var springBindingKeys = []string{"type", "provider", "client-id", "client-secret", "client-authentication-method",
	"authorization-grant-type", "authorization-grant-types", "redirect-uri", "redirect-uris", "scope", "client-name",
	"issuer-uri", "authorization-uri", "token-uri", "user-info-uri", "user-info-authentication-method", "jwk-set-uri",
	"user-name-attribute"}

func webAppSpec(format v1alpha1.SecretFormat) *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		ClientName:   "Shop",
		GrantTypes:   []v1alpha1.GrantType{"refresh_token", "authorization_code"},
		RedirectURIs: []string{"https://shop.example.com/login/oauth2/code/shop", "https://shop.example.com/other"},
		Scopes:       []string{"openid", "email", "offline_access"},
		SecretTemplate: &v1alpha1.SecretTemplate{
			Format: format,
			Labels: map[string]v1alpha1.LabelValue{"team": "shop"},
		},
	}
}

func TestRenderFormats(t *testing.T) {
	ep := EndpointsFromPublicURL("https://auth.example.com")
	creds := Credentials{ClientID: "shop.web", ClientSecret: "s3cret-value"}
	service := &v1alpha1.OAuth2ClientSpec{
		GrantTypes:              []v1alpha1.GrantType{"client_credentials"},
		TokenEndpointAuthMethod: v1alpha1.AuthMethodClientSecretPost,
		SecretTemplate: &v1alpha1.SecretTemplate{Format: v1alpha1.SecretFormatServiceBinding,
			ServiceBinding: &v1alpha1.ServiceBindingOptions{Provider: "corp-sso"}},
	}
	cases := []struct {
		name     string
		src      Source
		wantType corev1.SecretType
		want     map[string]string
	}{
		{"ServiceBinding web app", Source{Credentials: creds, Spec: webAppSpec(v1alpha1.SecretFormatServiceBinding), Endpoints: ep},
			"servicebinding.io/oauth2", map[string]string{
				"type": "oauth2", "provider": "hydra", "client-id": "shop.web", "client-secret": "s3cret-value",
				"client-name": "Shop", "client-authentication-method": "client_secret_basic",
				"authorization-grant-type": "authorization_code", "redirect-uri": "https://shop.example.com/login/oauth2/code/shop",
				"scope": "openid,email,offline_access", "issuer-uri": "https://auth.example.com",
				"token-uri": "https://auth.example.com/oauth2/token", "authorization-uri": "https://auth.example.com/oauth2/auth",
				"jwk-set-uri": "https://auth.example.com/.well-known/jwks.json",
			}},
		{"ServiceBinding service: provider, auth method, no empty keys", Source{Credentials: creds, Spec: service},
			"servicebinding.io/oauth2", map[string]string{
				"type": "oauth2", "provider": "corp-sso", "client-id": "shop.web", "client-secret": "s3cret-value",
				"client-authentication-method": "client_secret_post", "authorization-grant-type": "client_credentials",
			}},
		{"OAuth2Proxy", Source{Credentials: creds, Spec: webAppSpec(v1alpha1.SecretFormatOAuth2Proxy), Endpoints: ep, CookieSecret: "cookie"},
			corev1.SecretTypeOpaque, map[string]string{
				"OAUTH2_PROXY_CLIENT_ID": "shop.web", "OAUTH2_PROXY_CLIENT_SECRET": "s3cret-value",
				"OAUTH2_PROXY_COOKIE_SECRET": "cookie", "OAUTH2_PROXY_PROVIDER": "oidc",
				"OAUTH2_PROXY_OIDC_ISSUER_URL": "https://auth.example.com",
				"OAUTH2_PROXY_REDIRECT_URL":    "https://shop.example.com/login/oauth2/code/shop",
				"OAUTH2_PROXY_SCOPE":           "openid email offline_access",
			}},
		{"Default ignores the format-only fields", Source{Credentials: creds, Spec: webAppSpec(""), Endpoints: ep, CookieSecret: "cookie"},
			corev1.SecretTypeOpaque, map[string]string{"client_id": "shop.web", "client_secret": "s3cret-value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Render(tc.src, testKey)
			if d.Type != tc.wantType {
				t.Errorf("type %q, want %q", d.Type, tc.wantType)
			}
			got := map[string]string{}
			for k, v := range d.Data {
				got[k] = string(v)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("data\n got %v\nwant %v", got, tc.want)
			}
			if d.Labels["team"] != "shop" && tc.src.Spec.SecretTemplate.Labels != nil {
				t.Errorf("template labels lost: %v", d.Labels)
			}
			if FormatOf(tc.src.Spec.SecretTemplate) == v1alpha1.SecretFormatServiceBinding {
				for k := range got {
					if !slices.Contains(springBindingKeys, k) {
						t.Errorf("key %q is not one Spring Cloud Bindings reads", k)
					}
				}
			}
			// The client ID and secret are where Read finds them, so provided Secrets, key moves
			// and releases work the same in every format.
			if r := Read(&corev1.Secret{Data: d.Data}, tc.src.Spec.SecretTemplate); r != tc.src.Credentials {
				t.Errorf("Read gives %v, want %v", r, tc.src.Credentials)
			}
		})
	}
}

func TestNeedsWriteFormats(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "OAuth2Client", Name: "app", UID: "uid-1", Controller: ptr.To(true)}
	creds := Credentials{ClientID: "id", ClientSecret: "secret"}
	ep := EndpointsFromPublicURL("https://auth.example.com")
	render := func(spec *v1alpha1.OAuth2ClientSpec, cookie string) Desired {
		return Render(Source{Credentials: creds, Spec: spec, Endpoints: ep, CookieSecret: cookie}, testKey)
	}
	written := func(d Desired, mutate func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Labels: d.Labels, Annotations: d.Annotations, OwnerReferences: []metav1.OwnerReference{owner}},
			Type:       d.Type, Data: maps.Clone(d.Data),
		}
		mutate(s)
		return s
	}
	binding, proxy := webAppSpec(v1alpha1.SecretFormatServiceBinding), webAppSpec(v1alpha1.SecretFormatOAuth2Proxy)
	fewerScopes := webAppSpec(v1alpha1.SecretFormatServiceBinding)
	fewerScopes.Scopes = nil
	cases := []struct {
		name     string
		existing *corev1.Secret
		desired  Desired
		template *v1alpha1.SecretTemplate
		want     bool
	}{
		{"binding up to date", written(render(binding, ""), func(*corev1.Secret) {}), render(binding, ""), binding.SecretTemplate, false},
		{"an Opaque Secret where a binding should be", written(render(binding, ""), func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque }),
			render(binding, ""), binding.SecretTemplate, true},
		{"scopes removed: the scope key goes", written(render(binding, ""), func(*corev1.Secret) {}), render(fewerScopes, ""), binding.SecretTemplate, true},
		{"provider edited in the Secret", written(render(binding, ""), func(s *corev1.Secret) { s.Data["provider"] = []byte("x") }),
			render(binding, ""), binding.SecretTemplate, true},
		{"proxy with its cookie secret kept", written(render(proxy, "c1"), func(*corev1.Secret) {}), render(proxy, "c1"), proxy.SecretTemplate, false},
		{"proxy cookie secret deleted", written(render(proxy, "c1"), func(s *corev1.Secret) { delete(s.Data, OAuth2ProxyCookieSecretKey) }),
			render(proxy, "c2"), proxy.SecretTemplate, true},
		{"a type the API server left empty is Opaque", written(render(proxy, "c1"), func(s *corev1.Secret) { s.Type = "" }),
			render(proxy, "c1"), proxy.SecretTemplate, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsWrite(tc.existing, tc.desired, tc.template, owner); got != tc.want {
				t.Fatalf("NeedsWrite = %v, want %v", got, tc.want)
			}
		})
	}
}
