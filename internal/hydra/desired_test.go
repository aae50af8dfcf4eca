package hydra

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
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

// operatorOnly are the spec fields that shape the operator's own work (which server, the Secret, deletion,
// adoption) and have no counterpart in Hydra.
var operatorOnly = map[string]bool{
	"ClientID": true, "SecretName": true, "RequireExistingSecret": true, "DeletionPolicy": true,
	"AdoptExistingClient": true, "AdoptFrom": true, "SecretTemplate": true, "AuthorizationServerRef": true, "Rotation": true,
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

// serviceSpec is the common case: a client_credentials service with two scopes.
func serviceSpec() *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		GrantTypes: []v1alpha1.GrantType{"client_credentials"},
		Scopes:     []string{"read", "write"},
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

func BenchmarkDesired(b *testing.B) {
	spec := kitchenSinkSpec()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Desired(spec, "web-app", "owner"); err != nil {
			b.Fatal(err)
		}
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
