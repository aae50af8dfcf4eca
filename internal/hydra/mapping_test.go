package hydra

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Test keys: an RSA key as many tools export it (with members Hydra drops, and a modulus
// with a leading zero byte that Hydra strips) and a P-256 key.
const (
	testRSAModulus  = "z3SjP-I2VE5S9K4QmfeNhfMEbbnrEiR5Iw4Xv6vNhpDECzP6aVbr7jA9CU4meCbkFpNzFvlLTPJeF98s9WWd4RYkwGW-b3kt8_VjxZSE98Z27rSoQu0VNdgwSDyQacjBV_mz-2BU05a5KQRz_GwfW4ZTcCq08dApCyixLPKGoxQwf5_e8QDNFSiD19M3vrcRB0b27zRcL_Z-lGxLWvd7d0ZNqUUoT5p_35CRBKaRb-j8MKcqgCEA9yq6SVAWJ32uDLiW5GH4Cjz7w3vguO1HTbS7enm2MK9kvEBMxVHyqM6jpYZdA53i_5BxHHB3QUGciprjnvW8NmFY8G9Q_ZBl5Q"
	testRSAModulus0 = "AM90oz_iNlROUvSuEJn3jYXzBG256xIkeSMOF7-rzYaQxAsz-mlW6-4wPQlOJngm5BaTcxb5S0zyXhffLPVlneEWJMBlvm95LfP1Y8WUhPfGdu60qELtFTXYMEg8kGnIwVf5s_tgVNOWuSkEc_xsH1uGU3AqtPHQKQsosSzyhqMUMH-f3vEAzRUog9fTN763EQdG9u80XC_2fpRsS1r3e3dGTalFKE-af9-QkQSmkW_o_DCnKoAhAPcquklQFid9rgy4luRh-Ao8-8N74LjtR020u3p5tjCvZLxATMVR8qjOo6WGXQOd4v-QcRxwd0FBnIqa4571vDZhWPBvUP2QZeU"
	testECX         = "LFEnXQ_w4DJdk3wzMWqdLpXF7-mNJ_wYbirJtMP78vo"
	testECY         = "vLfk7r5WMqIlu9_vA0J-TgVLcvxvjLU58OiN9NfTsXE"
)

var testJWKS = `{"keys":[
  {"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","key_ops":["verify"],"ext":true,"e":"AQAB","n":"` + testRSAModulus0 + `"},
  {"kty":"EC","kid":"ec-1","use":"sig","alg":"ES256","crv":"P-256","x":"` + testECX + `","y":"` + testECY + `"}
]}`

// canonicalTestJWKS is testJWKS as Hydra stores it.
var canonicalTestJWKS = map[string]interface{}{"keys": []interface{}{
	map[string]interface{}{"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "e": "AQAB", "n": testRSAModulus},
	map[string]interface{}{"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256", "x": testECX, "y": testECY},
}}

func rawJSONOf(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

// jwksOf parses a key set the way the API server hands it to the operator.
func jwksOf(s string) *v1alpha1.JSONWebKeySet {
	set := &v1alpha1.JSONWebKeySet{}
	if err := json.Unmarshal([]byte(s), set); err != nil {
		panic(err)
	}
	return set
}

// kitchenSinkSpec sets every field of the spec, including jwks and jwksURI together (which
// the CRD forbids, but the mapping must carry both).
func kitchenSinkSpec() *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		ClientID:   "web-app",
		ClientName: "Web App",
		GrantTypes: []v1alpha1.GrantType{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []v1alpha1.ResponseType{
			"code", "code id_token",
		},
		RedirectURIs:                      []string{"https://app.example.com/callback", "https://app.example.com/cb2"},
		PostLogoutRedirectURIs:            []string{"https://app.example.com/bye"},
		Scopes:                            []string{"openid", "offline_access", "app:read"},
		Audience:                          []string{"https://api.example.com", "https://other.example.com"},
		AllowedCORSOrigins:                []string{"https://app.example.com", "http://localhost:3000"},
		TokenEndpointAuthMethod:           v1alpha1.AuthMethodPrivateKeyJWT,
		JWKSURI:                           "https://app.example.com/jwks.json",
		JWKS:                              jwksOf(testJWKS),
		SkipConsent:                       true,
		SkipLogoutConsent:                 true,
		FrontchannelLogoutURI:             "https://app.example.com/logout/front",
		FrontchannelLogoutSessionRequired: true,
		BackchannelLogoutURI:              "https://app.example.com/logout/back",
		BackchannelLogoutSessionRequired:  true,
		ClientURI:                         "https://app.example.com",
		LogoURI:                           "https://app.example.com/logo.png",
		PolicyURI:                         "https://app.example.com/privacy",
		TosURI:                            "https://app.example.com/tos",
		Contacts:                          []string{"ops@example.com", "dev@example.com"},
		SubjectType:                       "pairwise",
		AccessTokenStrategy:               "jwt",
		TokenLifespans: &v1alpha1.TokenLifespans{
			AuthorizationCodeGrantAccessToken:  "5m",
			AuthorizationCodeGrantIDToken:      "90m",
			AuthorizationCodeGrantRefreshToken: "720h",
			ClientCredentialsGrantAccessToken:  "1h",
			ImplicitGrantAccessToken:           "30s",
			ImplicitGrantIDToken:               "1.5h",
			JWTBearerGrantAccessToken:          "2m30s",
			RefreshTokenGrantAccessToken:       "15m",
			RefreshTokenGrantIDToken:           "45m",
			RefreshTokenGrantRefreshToken:      "1000h",
		},
		Metadata:              rawJSONOf(`{"team":"payments","tier":1,"big":9007199254740993,"nested":{"list":[1,"two",true,null]}}`),
		SecretName:            "web-app-credentials",
		RequireExistingSecret: true,
		DeletionPolicy:        v1alpha1.DeletionPolicyOrphan,
		AdoptExistingClient:   true,
		SecretTemplate:        &v1alpha1.SecretTemplate{ClientIDKey: "id", IncludeEndpoints: true},
	}
}

func ptr[T any](v T) *T { return &v }

func TestDesiredMapsEveryField(t *testing.T) {
	got, err := Desired(kitchenSinkSpec(), "web-app", OwnerFor("shop", "web"))
	if err != nil {
		t.Fatal(err)
	}
	want := &OAuth2Client{
		ClientId:                          ptr("web-app"),
		Owner:                             ptr("oauth2-client-operator:shop/web"),
		ClientName:                        ptr("Web App"),
		GrantTypes:                        []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes:                     []string{"code", "code id_token"},
		RedirectUris:                      []string{"https://app.example.com/callback", "https://app.example.com/cb2"},
		PostLogoutRedirectUris:            []string{"https://app.example.com/bye"},
		Scope:                             ptr("openid offline_access app:read"),
		Audience:                          []string{"https://api.example.com", "https://other.example.com"},
		AllowedCorsOrigins:                []string{"https://app.example.com", "http://localhost:3000"},
		TokenEndpointAuthMethod:           ptr("private_key_jwt"),
		JwksUri:                           ptr("https://app.example.com/jwks.json"),
		Jwks:                              canonicalTestJWKS,
		SkipConsent:                       ptr(true),
		SkipLogoutConsent:                 ptr(true),
		FrontchannelLogoutUri:             ptr("https://app.example.com/logout/front"),
		FrontchannelLogoutSessionRequired: ptr(true),
		BackchannelLogoutUri:              ptr("https://app.example.com/logout/back"),
		BackchannelLogoutSessionRequired:  ptr(true),
		ClientUri:                         ptr("https://app.example.com"),
		LogoUri:                           ptr("https://app.example.com/logo.png"),
		PolicyUri:                         ptr("https://app.example.com/privacy"),
		TosUri:                            ptr("https://app.example.com/tos"),
		Contacts:                          []string{"ops@example.com", "dev@example.com"},
		SubjectType:                       ptr("pairwise"),
		AccessTokenStrategy:               ptr("jwt"),
		AuthorizationCodeGrantAccessTokenLifespan:  ptr("5m0s"),
		AuthorizationCodeGrantIdTokenLifespan:      ptr("1h30m0s"),
		AuthorizationCodeGrantRefreshTokenLifespan: ptr("720h0m0s"),
		ClientCredentialsGrantAccessTokenLifespan:  ptr("1h0m0s"),
		ImplicitGrantAccessTokenLifespan:           ptr("30s"),
		ImplicitGrantIdTokenLifespan:               ptr("1h30m0s"),
		JwtBearerGrantAccessTokenLifespan:          ptr("2m30s"),
		RefreshTokenGrantAccessTokenLifespan:       ptr("15m0s"),
		RefreshTokenGrantIdTokenLifespan:           ptr("45m0s"),
		RefreshTokenGrantRefreshTokenLifespan:      ptr("1000h0m0s"),
		Metadata: map[string]interface{}{
			"team": "payments", "tier": json.Number("1"), "big": json.Number("9007199254740993"),
			"nested": map[string]interface{}{"list": []interface{}{json.Number("1"), "two", true, nil}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		wantJSON, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("Desired:\n%s\nwant:\n%s", gotJSON, wantJSON)
	}
}

// operatorOnly are the spec fields that shape the operator's own work (the Secret, deletion,
// adoption) and have no counterpart in Hydra.
var operatorOnly = map[string]bool{
	"ClientID": true, "SecretName": true, "RequireExistingSecret": true, "DeletionPolicy": true,
	"AdoptExistingClient": true, "SecretTemplate": true,
}

// TestDesiredCoversEverySpecField fails when a field is added to the spec (or to
// TokenLifespans) without being mapped: clearing any mapped field must change the result.
func TestDesiredCoversEverySpecField(t *testing.T) {
	full, err := Desired(kitchenSinkSpec(), "id", "owner")
	if err != nil {
		t.Fatal(err)
	}
	specType := reflect.TypeFor[v1alpha1.OAuth2ClientSpec]()
	for f := range specType.Fields() {
		if operatorOnly[f.Name] {
			continue
		}
		spec := kitchenSinkSpec()
		reflect.ValueOf(spec).Elem().FieldByIndex(f.Index).SetZero()
		checkChanged(t, f.Name, spec, full)
	}
	for f := range reflect.TypeFor[v1alpha1.TokenLifespans]().Fields() {
		spec := kitchenSinkSpec()
		reflect.ValueOf(spec.TokenLifespans).Elem().FieldByIndex(f.Index).SetZero()
		checkChanged(t, "TokenLifespans."+f.Name, spec, full)
	}
}

func checkChanged(t *testing.T, name string, spec *v1alpha1.OAuth2ClientSpec, full *OAuth2Client) {
	t.Helper()
	got, err := Desired(spec, "id", "owner")
	if err != nil {
		t.Fatalf("%s cleared: %v", name, err)
	}
	if reflect.DeepEqual(got, full) {
		t.Errorf("clearing spec.%s does not change Desired: is it mapped?", name)
	}
	if len(Diff(got, full)) == 0 {
		t.Errorf("clearing spec.%s is not reported by Diff", name)
	}
}

func TestDesired(t *testing.T) {
	minimal := func(mutate func(*v1alpha1.OAuth2ClientSpec)) *v1alpha1.OAuth2ClientSpec {
		s := &v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := []struct {
		name    string
		spec    *v1alpha1.OAuth2ClientSpec
		check   func(t *testing.T, c *OAuth2Client)
		wantErr string
	}{{
		name: "minimal spec sets only grant types and the auth method default",
		spec: minimal(nil),
		check: func(t *testing.T, c *OAuth2Client) {
			want := &OAuth2Client{
				ClientId: ptr("id"), Owner: ptr("owner"), GrantTypes: []string{"client_credentials"},
				TokenEndpointAuthMethod: ptr("client_secret_basic"),
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v", c)
			}
		},
	}, {
		name: "explicit auth method none is kept",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.TokenEndpointAuthMethod = v1alpha1.AuthMethodNone }),
		check: func(t *testing.T, c *OAuth2Client) {
			if c.GetTokenEndpointAuthMethod() != "none" {
				t.Errorf("token_endpoint_auth_method = %q", c.GetTokenEndpointAuthMethod())
			}
		},
	}, {
		name: "empty lists and strings are omitted",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.RedirectURIs, s.Scopes, s.Contacts, s.ClientName = []string{}, []string{}, []string{}, ""
			s.TokenLifespans = &v1alpha1.TokenLifespans{}
		}),
		check: func(t *testing.T, c *OAuth2Client) {
			if c.RedirectUris != nil || c.Scope != nil || c.Contacts != nil || c.ClientName != nil ||
				c.AuthorizationCodeGrantAccessTokenLifespan != nil {
				t.Errorf("got %+v", c)
			}
		},
	}, {
		name: "CORS origins are canonicalised like Hydra does",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.AllowedCORSOrigins = []string{"HTTPS://app.example.com/", "http://localhost:3000//", "http://[::1"}
		}),
		check: func(t *testing.T, c *OAuth2Client) {
			want := []string{"https://app.example.com", "http://localhost:3000", "http://[::1"}
			if !slices.Equal(c.AllowedCorsOrigins, want) {
				t.Errorf("allowed_cors_origins = %q, want %q", c.AllowedCorsOrigins, want)
			}
		},
	}, {
		name: "metadata of 64 KiB is accepted",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.Metadata = rawJSONOf(`{"k":"` + strings.Repeat("a", MaxMetadataBytes-len(`{"k":""}`)) + `"}`)
		}),
		check: func(t *testing.T, c *OAuth2Client) {
			if m, ok := c.Metadata.(map[string]any); !ok || len(m) != 1 {
				t.Errorf("metadata = %T", c.Metadata)
			}
		},
	}, {
		name: "metadata over 64 KiB is refused before Hydra sees it",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.Metadata = rawJSONOf(`{"k":"` + strings.Repeat("a", MaxMetadataBytes) + `"}`)
		}),
		wantErr: "at most 65536 (64 KiB)",
	}, {
		name: "metadata null means unset",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.Metadata = rawJSONOf(" null ") }),
		check: func(t *testing.T, c *OAuth2Client) {
			if c.Metadata != nil {
				t.Errorf("metadata = %v", c.Metadata)
			}
		},
	}, {
		name: "jwks without keys is sent as such (private_key_jwt needs the field present)",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.JWKS = jwksOf(`{"keys":[]}`) }),
		check: func(t *testing.T, c *OAuth2Client) {
			if !reflect.DeepEqual(c.Jwks, map[string]interface{}{"keys": []interface{}{}}) {
				t.Errorf("jwks = %#v", c.Jwks)
			}
		},
	}, {
		name:    "invalid metadata JSON",
		spec:    minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.Metadata = rawJSONOf(`{"a":`) }),
		wantErr: "metadata: invalid JSON",
	}, {
		name:    "trailing data after metadata",
		spec:    minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.Metadata = rawJSONOf(`{} {}`) }),
		wantErr: "metadata: invalid JSON",
	}, {
		name:    "metadata that is not an object",
		spec:    minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.Metadata = rawJSONOf(`[1]`) }),
		wantErr: "metadata: must be a JSON object",
	}, {
		name:    "metadata number no float64 can hold",
		spec:    minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.Metadata = rawJSONOf(`{"a":[1e400]}`) }),
		wantErr: "metadata: number 1e400 is out of range",
	}, {
		name:    "jwks with a key of unknown type",
		spec:    minimal(func(s *v1alpha1.OAuth2ClientSpec) { s.JWKS = jwksOf(`{"keys":[{"kty":"XYZ"}]}`) }),
		wantErr: "jwks: ",
	}, {
		name: "lifespan Go cannot parse",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{RefreshTokenGrantIDToken: "5 minutes"}
		}),
		wantErr: "tokenLifespans.refreshTokenGrantIDToken: ",
	}, {
		name: "lifespan that overflows",
		spec: minimal(func(s *v1alpha1.OAuth2ClientSpec) {
			s.TokenLifespans = &v1alpha1.TokenLifespans{ImplicitGrantAccessToken: "9999999999h"}
		}),
		wantErr: "tokenLifespans.implicitGrantAccessToken: ",
	}, {
		name:    "no spec",
		spec:    nil,
		wantErr: "no spec",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Desired(tt.spec, "id", "owner")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ClientSecret != nil {
				t.Error("Desired set a client secret")
			}
			tt.check(t, got)
		})
	}
}

func TestDesiredSharesNoMemoryWithSpec(t *testing.T) {
	spec := kitchenSinkSpec()
	got, err := Desired(spec, "id", "owner")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(got)
	spec.RedirectURIs[0] = "https://evil.example.com"
	spec.GrantTypes[0] = "implicit"
	spec.Metadata.Raw[2] = 'X'
	after, _ := json.Marshal(got)
	if string(before) != string(after) {
		t.Error("changing the spec changed an earlier Desired result")
	}
}

func TestOwner(t *testing.T) {
	if got := OwnerFor("shop", "web"); got != "oauth2-client-operator:shop/web" {
		t.Errorf("OwnerFor = %q", got)
	}
	tests := []struct {
		owner     string
		namespace string
		name      string
		ok        bool
	}{
		{OwnerFor("shop", "web"), "shop", "web", true},
		{OwnerFor("a", "b.c-d"), "a", "b.c-d", true},
		{"", "", "", false},
		{"someone", "", "", false},
		{"shop/web", "", "", false},
		{"oauth2-client-operator:", "", "", false},
		{"oauth2-client-operator:shop", "", "", false},
		{"oauth2-client-operator:/web", "", "", false},
		{"oauth2-client-operator:shop/", "", "", false},
		{"oauth2-client-operator:shop/web/x", "", "", false},
		{"other-operator:shop/web", "", "", false},
	}
	for _, tt := range tests {
		ns, name, ok := ParseOwner(tt.owner)
		if ns != tt.namespace || name != tt.name || ok != tt.ok {
			t.Errorf("ParseOwner(%q) = %q, %q, %v; want %q, %q, %v", tt.owner, ns, name, ok, tt.namespace, tt.name, tt.ok)
		}
	}
}

// asStored returns c as Hydra's GET answers it: defaults filled in, lists and objects empty
// rather than null, server-managed fields set, numbers decoded as float64 by the SDK.
func asStored(t testing.TB, c *OAuth2Client) *OAuth2Client {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var s OAuth2Client
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	orEmpty := func(l *[]string) {
		if *l == nil {
			*l = []string{}
		}
	}
	for _, l := range []*[]string{&s.RedirectUris, &s.GrantTypes, &s.ResponseTypes, &s.Audience, &s.AllowedCorsOrigins, &s.Contacts} {
		orEmpty(l)
	}
	orDefault := func(p **string, def string) {
		if *p == nil || **p == "" {
			*p = &def
		}
	}
	orDefault(&s.Scope, "offline_access offline openid")
	orDefault(&s.SubjectType, "public")
	orDefault(&s.UserinfoSignedResponseAlg, "none")
	orDefault(&s.TokenEndpointAuthMethod, "client_secret_basic")
	if s.Metadata == nil {
		s.Metadata = map[string]interface{}{}
	}
	if s.Jwks == nil {
		s.Jwks = map[string]interface{}{}
	}
	if s.SkipConsent == nil {
		s.SkipConsent = ptr(false)
	}
	now := time.Now()
	s.CreatedAt, s.UpdatedAt = &now, &now
	s.ClientSecret, s.ClientSecretExpiresAt = nil, ptr(int64(0))
	return &s
}

func TestDiffNoDriftForHydraDefaults(t *testing.T) {
	specs := map[string]*v1alpha1.OAuth2ClientSpec{
		"kitchen sink": kitchenSinkSpec(),
		"minimal":      {GrantTypes: []v1alpha1.GrantType{"client_credentials"}},
	}
	for name, spec := range specs {
		desired, err := Desired(spec, "id", "owner")
		if err != nil {
			t.Fatal(err)
		}
		if d := Diff(desired, asStored(t, desired)); len(d) != 0 {
			t.Errorf("%s: drift %v for an untouched client", name, d)
		}
	}
}

// TestDiffNormalisation covers each way Hydra's answer differs from what was sent without
// meaning anything different.
func TestDiffNormalisation(t *testing.T) {
	tests := []struct {
		name            string
		desired, actual func(*OAuth2Client)
	}{
		{"scope empty vs Hydra's default", func(c *OAuth2Client) { c.Scope = nil }, func(c *OAuth2Client) { c.Scope = ptr("offline_access offline openid") }},
		{"scope empty string vs default", func(c *OAuth2Client) { c.Scope = ptr("") }, func(c *OAuth2Client) { c.Scope = ptr("openid offline offline_access") }},
		{"scope in another order", func(c *OAuth2Client) { c.Scope = ptr("a b c") }, func(c *OAuth2Client) { c.Scope = ptr("c a b") }},
		{"scope with extra spaces", func(c *OAuth2Client) { c.Scope = ptr("a b") }, func(c *OAuth2Client) { c.Scope = ptr(" a  b ") }},
		{"token_endpoint_auth_method default", func(c *OAuth2Client) { c.TokenEndpointAuthMethod = nil }, func(c *OAuth2Client) { c.TokenEndpointAuthMethod = ptr("client_secret_basic") }},
		{"token_endpoint_auth_method omitted in answer", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.TokenEndpointAuthMethod = nil }},
		{"subject_type default", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.SubjectType = ptr("public") }},
		{"userinfo_signed_response_alg default", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.UserinfoSignedResponseAlg = ptr("none") }},
		{"lists null vs empty", func(c *OAuth2Client) { c.GrantTypes = nil }, func(c *OAuth2Client) {
			c.RedirectUris, c.PostLogoutRedirectUris, c.GrantTypes, c.ResponseTypes = []string{}, []string{}, []string{}, []string{}
			c.Audience, c.AllowedCorsOrigins, c.Contacts, c.RequestUris = []string{}, []string{}, []string{}, []string{}
		}},
		{"set-like lists in another order", func(c *OAuth2Client) {
			c.GrantTypes, c.ResponseTypes = []string{"authorization_code", "refresh_token"}, []string{"code", "id_token"}
			c.Audience, c.AllowedCorsOrigins, c.Contacts = []string{"a", "b"}, []string{"https://a", "https://b"}, []string{"x@y", "z@y"}
		}, func(c *OAuth2Client) {
			c.GrantTypes, c.ResponseTypes = []string{"refresh_token", "authorization_code"}, []string{"id_token", "code"}
			c.Audience, c.AllowedCorsOrigins, c.Contacts = []string{"b", "a"}, []string{"https://b", "https://a"}, []string{"z@y", "x@y"}
		}},
		{"metadata {} vs null", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.Metadata = map[string]interface{}{} }},
		{"metadata numbers and key order", func(c *OAuth2Client) {
			c.Metadata = map[string]interface{}{"a": json.Number("1.0"), "b": json.Number("1e3"), "c": []interface{}{json.Number("9007199254740993")}}
		}, func(c *OAuth2Client) {
			c.Metadata = map[string]interface{}{"c": []interface{}{float64(9007199254740992)}, "b": float64(1000), "a": float64(1)}
		}},
		{"jwks {} vs null", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.Jwks = map[string]interface{}{} }},
		{"jwks keys null vs null", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.Jwks = map[string]interface{}{"keys": nil} }},
		{"jwks keys empty vs {}", func(c *OAuth2Client) { c.Jwks = map[string]interface{}{"keys": []interface{}{}} }, func(c *OAuth2Client) { c.Jwks = map[string]interface{}{} }},
		{"skip_logout_consent null vs false", func(c *OAuth2Client) {}, func(c *OAuth2Client) { c.SkipLogoutConsent = ptr(false) }},
		{"booleans null vs false", func(c *OAuth2Client) {}, func(c *OAuth2Client) {
			c.SkipConsent, c.FrontchannelLogoutSessionRequired, c.BackchannelLogoutSessionRequired = ptr(false), ptr(false), ptr(false)
		}},
		{"lifespan 5m vs 5m0s", func(c *OAuth2Client) { c.ClientCredentialsGrantAccessTokenLifespan = ptr("5m") }, func(c *OAuth2Client) { c.ClientCredentialsGrantAccessTokenLifespan = ptr("5m0s") }},
		{"lifespan 90m vs 1h30m0s", func(c *OAuth2Client) { c.RefreshTokenGrantRefreshTokenLifespan = ptr("90m") }, func(c *OAuth2Client) { c.RefreshTokenGrantRefreshTokenLifespan = ptr("1h30m0s") }},
		{"access_token_strategy case", func(c *OAuth2Client) { c.AccessTokenStrategy = ptr("jwt") }, func(c *OAuth2Client) { c.AccessTokenStrategy = ptr("JWT") }},
		{"server-managed fields", func(c *OAuth2Client) {}, func(c *OAuth2Client) {
			now := time.Now()
			c.ClientId, c.ClientSecret, c.ClientSecretExpiresAt = ptr("other"), ptr("secret"), ptr(int64(0))
			c.CreatedAt, c.UpdatedAt = &now, &now
			c.RegistrationAccessToken, c.RegistrationClientUri = ptr("token"), ptr("https://hydra/oauth2/register/id")
			c.AdditionalProperties = map[string]interface{}{"future_field": true}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desired, err := Desired(&v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}}, "id", "owner")
			if err != nil {
				t.Fatal(err)
			}
			tt.desired(desired)
			actual := asStored(t, desired)
			tt.actual(actual)
			if d := Diff(desired, actual); len(d) != 0 {
				t.Errorf("Diff = %v, want none", d)
			}
		})
	}
}

// driftCases change the stored client in one field each, in a way that matters.
var driftCases = []struct {
	field  string
	mutate func(*OAuth2Client)
}{
	{"access_token_strategy", func(c *OAuth2Client) { c.AccessTokenStrategy = ptr("opaque") }},
	{"allowed_cors_origins", func(c *OAuth2Client) { c.AllowedCorsOrigins = []string{"https://app.example.com"} }},
	{"audience", func(c *OAuth2Client) { c.Audience = append(c.Audience, "https://third.example.com") }},
	{"authorization_code_grant_access_token_lifespan", func(c *OAuth2Client) { c.AuthorizationCodeGrantAccessTokenLifespan = ptr("6m0s") }},
	{"authorization_code_grant_id_token_lifespan", func(c *OAuth2Client) { c.AuthorizationCodeGrantIdTokenLifespan = nil }},
	{"authorization_code_grant_refresh_token_lifespan", func(c *OAuth2Client) { c.AuthorizationCodeGrantRefreshTokenLifespan = ptr("0s") }},
	{"backchannel_logout_session_required", func(c *OAuth2Client) { c.BackchannelLogoutSessionRequired = ptr(false) }},
	{"backchannel_logout_uri", func(c *OAuth2Client) { c.BackchannelLogoutUri = nil }},
	{"client_credentials_grant_access_token_lifespan", func(c *OAuth2Client) { c.ClientCredentialsGrantAccessTokenLifespan = ptr("1h0m1s") }},
	{"client_name", func(c *OAuth2Client) { c.ClientName = ptr("Web app") }},
	{"client_uri", func(c *OAuth2Client) { c.ClientUri = ptr("https://app.example.com/") }},
	{"contacts", func(c *OAuth2Client) { c.Contacts = c.Contacts[:1] }},
	{"frontchannel_logout_session_required", func(c *OAuth2Client) { c.FrontchannelLogoutSessionRequired = nil }},
	{"frontchannel_logout_uri", func(c *OAuth2Client) { c.FrontchannelLogoutUri = ptr("https://elsewhere.example.com") }},
	{"grant_types", func(c *OAuth2Client) { c.GrantTypes = []string{"authorization_code", "refresh_token"} }},
	{"implicit_grant_access_token_lifespan", func(c *OAuth2Client) { c.ImplicitGrantAccessTokenLifespan = ptr("31s") }},
	{"implicit_grant_id_token_lifespan", func(c *OAuth2Client) { c.ImplicitGrantIdTokenLifespan = ptr("garbage") }},
	{"jwks", func(c *OAuth2Client) { c.Jwks = map[string]interface{}{} }},
	{"jwks_uri", func(c *OAuth2Client) { c.JwksUri = ptr("https://app.example.com/other.json") }},
	{"jwt_bearer_grant_access_token_lifespan", func(c *OAuth2Client) { c.JwtBearerGrantAccessTokenLifespan = nil }},
	{"logo_uri", func(c *OAuth2Client) { c.LogoUri = ptr("") }},
	{"metadata", func(c *OAuth2Client) { c.Metadata.(map[string]interface{})["tier"] = float64(2) }},
	{"owner", func(c *OAuth2Client) { c.Owner = ptr(OwnerFor("other", "web")) }},
	{"policy_uri", func(c *OAuth2Client) { c.PolicyUri = ptr("http://app.example.com/privacy") }},
	{"post_logout_redirect_uris", func(c *OAuth2Client) { c.PostLogoutRedirectUris = nil }},
	{"redirect_uris", func(c *OAuth2Client) { slices.Reverse(c.RedirectUris) }},
	{"refresh_token_grant_access_token_lifespan", func(c *OAuth2Client) { c.RefreshTokenGrantAccessTokenLifespan = ptr("15m1s") }},
	{"refresh_token_grant_id_token_lifespan", func(c *OAuth2Client) { c.RefreshTokenGrantIdTokenLifespan = ptr("44m") }},
	{"refresh_token_grant_refresh_token_lifespan", func(c *OAuth2Client) { c.RefreshTokenGrantRefreshTokenLifespan = nil }},
	{"request_object_signing_alg", func(c *OAuth2Client) { c.RequestObjectSigningAlg = ptr("RS256") }},
	{"request_uris", func(c *OAuth2Client) { c.RequestUris = []string{"https://app.example.com/request"} }},
	{"response_types", func(c *OAuth2Client) { c.ResponseTypes = []string{"code"} }},
	{"scope", func(c *OAuth2Client) { c.Scope = ptr("openid offline_access") }},
	{"sector_identifier_uri", func(c *OAuth2Client) { c.SectorIdentifierUri = ptr("https://app.example.com/sector.json") }},
	{"skip_consent", func(c *OAuth2Client) { c.SkipConsent = ptr(false) }},
	{"skip_logout_consent", func(c *OAuth2Client) { c.SkipLogoutConsent = nil }},
	{"subject_type", func(c *OAuth2Client) { c.SubjectType = ptr("public") }},
	{"token_endpoint_auth_method", func(c *OAuth2Client) { c.TokenEndpointAuthMethod = ptr("client_secret_basic") }},
	{"token_endpoint_auth_signing_alg", func(c *OAuth2Client) { c.TokenEndpointAuthSigningAlg = ptr("ES256") }},
	{"tos_uri", func(c *OAuth2Client) { c.TosUri = nil }},
	{"userinfo_signed_response_alg", func(c *OAuth2Client) { c.UserinfoSignedResponseAlg = ptr("RS256") }},
}

func TestDiffDetectsEachChange(t *testing.T) {
	covered := map[string]bool{}
	for _, tt := range driftCases {
		covered[tt.field] = true
		t.Run(tt.field, func(t *testing.T) {
			desired, err := Desired(kitchenSinkSpec(), "id", "owner")
			if err != nil {
				t.Fatal(err)
			}
			actual := asStored(t, desired)
			tt.mutate(actual)
			if d := Diff(desired, actual); !slices.Equal(d, []string{tt.field}) {
				t.Errorf("Diff = %v, want [%s]", d, tt.field)
			}
		})
	}
	for _, f := range diffFields {
		if !covered[f.name] {
			t.Errorf("no drift case for %s", f.name)
		}
	}
}

func TestDiffMoreCases(t *testing.T) {
	base := func() *OAuth2Client {
		c, err := Desired(&v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}}, "id", "owner")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name            string
		desired, actual func(*OAuth2Client)
		want            []string
	}{
		{"desired default scope, stored something else", func(*OAuth2Client) {}, func(c *OAuth2Client) { c.Scope = ptr("openid") }, []string{"scope"}},
		{"desired scope, stored the default", func(c *OAuth2Client) { c.Scope = ptr("openid") }, func(c *OAuth2Client) { c.Scope = ptr(defaultScope) }, []string{"scope"}},
		{"desired lifespan, none stored", func(c *OAuth2Client) { c.ImplicitGrantIdTokenLifespan = ptr("1h0m0s") }, func(c *OAuth2Client) { c.ImplicitGrantIdTokenLifespan = nil }, []string{"implicit_grant_id_token_lifespan"}},
		{"no lifespan desired, 0s stored", func(*OAuth2Client) {}, func(c *OAuth2Client) { c.ImplicitGrantIdTokenLifespan = ptr("0s") }, []string{"implicit_grant_id_token_lifespan"}},
		{"set with a member swapped", func(c *OAuth2Client) { c.Audience = []string{"a", "b"} }, func(c *OAuth2Client) { c.Audience = []string{"a", "c"} }, []string{"audience"}},
		{"redirect URIs in another order", func(c *OAuth2Client) { c.RedirectUris = []string{"https://a/cb", "https://b/cb"} }, func(c *OAuth2Client) { c.RedirectUris = []string{"https://b/cb", "https://a/cb"} }, []string{"redirect_uris"}},
		{"post-logout URIs in another order", func(c *OAuth2Client) { c.PostLogoutRedirectUris = []string{"https://a/", "https://b/"} }, func(c *OAuth2Client) { c.PostLogoutRedirectUris = []string{"https://b/", "https://a/"} }, []string{"post_logout_redirect_uris"}},
		{"metadata added by hand", func(*OAuth2Client) {}, func(c *OAuth2Client) { c.Metadata = map[string]interface{}{"x": 1.0} }, []string{"metadata"}},
		{"metadata of another type", func(c *OAuth2Client) { c.Metadata = map[string]interface{}{"x": "1"} }, func(c *OAuth2Client) { c.Metadata = map[string]interface{}{"x": 1.0} }, []string{"metadata"}},
		{"several fields, sorted", func(*OAuth2Client) {}, func(c *OAuth2Client) {
			c.TosUri, c.ClientName, c.Audience = ptr("https://t"), ptr("n"), []string{"a"}
		}, []string{"audience", "client_name", "tos_uri"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desired := base()
			tt.desired(desired)
			actual := asStored(t, desired)
			tt.actual(actual)
			if d := Diff(desired, actual); !slices.Equal(d, tt.want) {
				t.Errorf("Diff = %v, want %v", d, tt.want)
			}
		})
	}
}

func TestDiffNil(t *testing.T) {
	if d := Diff(nil, nil); len(d) != 0 {
		t.Errorf("Diff(nil, nil) = %v", d)
	}
	desired, _ := Desired(kitchenSinkSpec(), "id", "owner")
	if d := Diff(desired, nil); len(d) == 0 {
		t.Error("Diff(desired, nil) reports no drift")
	}
}

func TestDiffFieldsSortedAndUnique(t *testing.T) {
	names := make([]string, len(diffFields))
	for i, f := range diffFields {
		names[i] = f.name
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("diffFields are not sorted and unique: %v", names)
	}
}

// fuzzSpec builds a spec from fuzzer input: list fields are split on newlines.
func fuzzSpec(name, scopes, uris, lifespan, method, subject, cors string, metadata, jwks []byte, flags uint8) *v1alpha1.OAuth2ClientSpec {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	spec := &v1alpha1.OAuth2ClientSpec{
		ClientName:                        name,
		GrantTypes:                        []v1alpha1.GrantType{"authorization_code", v1alpha1.GrantType(name)},
		ResponseTypes:                     []v1alpha1.ResponseType{v1alpha1.ResponseType(subject)},
		Scopes:                            lines(scopes),
		RedirectURIs:                      lines(uris),
		PostLogoutRedirectURIs:            lines(cors),
		AllowedCORSOrigins:                lines(cors),
		Audience:                          lines(uris),
		Contacts:                          lines(scopes),
		TokenEndpointAuthMethod:           v1alpha1.TokenEndpointAuthMethod(method),
		SubjectType:                       subject,
		AccessTokenStrategy:               method,
		SkipConsent:                       flags&1 != 0,
		SkipLogoutConsent:                 flags&2 != 0,
		FrontchannelLogoutSessionRequired: flags&4 != 0,
		BackchannelLogoutSessionRequired:  flags&8 != 0,
		FrontchannelLogoutURI:             uris,
		TokenLifespans: &v1alpha1.TokenLifespans{
			ClientCredentialsGrantAccessToken: v1alpha1.Duration(lifespan),
			RefreshTokenGrantIDToken:          v1alpha1.Duration(lifespan),
		},
	}
	if flags&16 != 0 {
		spec.Metadata = &apiextensionsv1.JSON{Raw: metadata}
	}
	if set := (&v1alpha1.JSONWebKeySet{}); flags&32 != 0 && json.Unmarshal(jwks, set) == nil {
		spec.JWKS = set
	}
	return spec
}

func FuzzDesiredDiff(f *testing.F) {
	f.Add("Web App", "openid\noffline_access", "https://a.example.com/cb", "5m", "", "", "https://a.example.com", []byte(`{"a":1}`), []byte(testJWKS), uint8(0xff))
	f.Add("", "", "", "", "none", "public", "", []byte(`null`), []byte(`{}`), uint8(0x30))
	f.Add("x", "a b\nb", "/relative\n/relative", "1.5h", "private_key_jwt", "pairwise", "HTTPS://A/", []byte(`{"n":9007199254740993,"f":1e308,"s":"\u00e9"}`), []byte(`{"keys":[]}`), uint8(0x35))
	f.Add("é", " ", "\n", "0s", "client_secret_post", "x", "http://[::1", []byte(`{"a":{"b":[1.0,-0,1E2]}}`), []byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`), uint8(0x3a))
	f.Fuzz(func(t *testing.T, name, scopes, uris, lifespan, method, subject, cors string, metadata, jwks []byte, flags uint8) {
		for _, s := range []string{name, scopes, uris, lifespan, method, subject, cors} {
			if !utf8.ValidString(s) {
				t.Skip("Kubernetes objects hold valid UTF-8 only")
			}
		}
		spec := fuzzSpec(name, scopes, uris, lifespan, method, subject, cors, metadata, jwks, flags)
		desired, err := Desired(spec, name, OwnerFor("ns", name))
		if err != nil {
			return
		}
		if d := Diff(desired, desired); len(d) != 0 {
			t.Fatalf("Diff(Desired, Desired) = %v", d)
		}
		again, err := Desired(spec, name, OwnerFor("ns", name))
		if err != nil || !reflect.DeepEqual(desired, again) {
			t.Fatalf("Desired is not stable: %v", err)
		}
		wire, err := json.Marshal(desired)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back OAuth2Client
		if err := json.Unmarshal(wire, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", wire, err)
		}
		if d := Diff(desired, &back); len(d) != 0 {
			t.Fatalf("drift %v after a JSON round trip of %s", d, wire)
		}
		if d := Diff(desired, asStored(t, desired)); len(d) != 0 {
			t.Fatalf("drift %v against Hydra's defaults", d)
		}
	})
}

// FuzzDiffArbitrary compares a desired client with whatever Hydra might answer: a client decoded
// from arbitrary JSON. Diff must not panic, must find no drift between a client and itself, and
// must give the same answer every time (the reconciler acts on it).
func FuzzDiffArbitrary(f *testing.F) {
	for _, spec := range []*v1alpha1.OAuth2ClientSpec{serviceSpec(), kitchenSinkSpec()} {
		desired, err := Desired(spec, "svc", OwnerFor("ns", "svc"))
		if err != nil {
			f.Fatal(err)
		}
		stored, err := json.Marshal(asStored(f, desired))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stored)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"scope":"  ","grant_types":null,"metadata":{"n":1e308},"jwks":{"keys":null},"client_credentials_grant_access_token_lifespan":"1h0m0s"}`))
	f.Add([]byte(`{"metadata":[1,"x",null],"jwks":"keys","redirect_uris":["b","a","a"],"skip_consent":true,"client_secret_expires_at":-1}`))
	desired, err := Desired(kitchenSinkSpec(), "web-app", OwnerFor("ns", "web-app"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var actual OAuth2Client
		if json.Unmarshal(raw, &actual) != nil {
			return
		}
		if d := Diff(&actual, &actual); len(d) != 0 {
			t.Fatalf("Diff(x, x) = %v for %s", d, raw)
		}
		first := Diff(desired, &actual)
		if again := Diff(desired, &actual); !slices.Equal(first, again) {
			t.Fatalf("Diff is not deterministic: %v, then %v for %s", first, again, raw)
		}
		_ = Diff(&actual, desired) // the other way round must not panic either
	})
}

func BenchmarkDesired(b *testing.B) {
	spec := kitchenSinkSpec()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Desired(spec, "web-app", "owner"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	desired, err := Desired(kitchenSinkSpec(), "web-app", "owner")
	if err != nil {
		b.Fatal(err)
	}
	actual := asStored(b, desired)
	b.ReportAllocs()
	for b.Loop() {
		if d := Diff(desired, actual); len(d) != 0 {
			b.Fatal(d)
		}
	}
}

// serviceSpec is the common case: a client_credentials service with two scopes.
func serviceSpec() *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		GrantTypes: []v1alpha1.GrantType{"client_credentials"},
		Scopes:     []string{"read", "write"},
	}
}

func BenchmarkDesiredService(b *testing.B) {
	spec := serviceSpec()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Desired(spec, "svc", "owner"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiffService(b *testing.B) {
	desired, err := Desired(serviceSpec(), "svc", "owner")
	if err != nil {
		b.Fatal(err)
	}
	actual := asStored(b, desired)
	b.ReportAllocs()
	for b.Loop() {
		if d := Diff(desired, actual); len(d) != 0 {
			b.Fatal(d)
		}
	}
}

// BenchmarkBaselineMarshal is the baseline for the two above: encoding the same client as the
// JSON body the SDK sends to Hydra, work every request does anyway. docs/performance.md reports
// Desired and Diff as multiples of it.
func BenchmarkBaselineMarshal(b *testing.B) {
	for _, tc := range []struct {
		name string
		spec *v1alpha1.OAuth2ClientSpec
	}{{"service", serviceSpec()}, {"kitchen-sink", kitchenSinkSpec()}} {
		desired, err := Desired(tc.spec, "svc", "owner")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(desired); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
