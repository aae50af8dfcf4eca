package hydra

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

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
