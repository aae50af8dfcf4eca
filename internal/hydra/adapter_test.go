package hydra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// --- Tests against a real Hydra -------------------------------------------------------------

// hydraEnv enables pairwise subject identifiers, so that subject_type can be tested with a
// value other than the default.
var hydraEnv = []string{
	`OIDC_SUBJECT_IDENTIFIERS_SUPPORTED_TYPES=["public","pairwise"]`,
	"OIDC_SUBJECT_IDENTIFIERS_PAIRWISE_SALT=pairwise-salt-for-tests-only",
}

var shared struct {
	once  sync.Once
	hydra *testenv.Hydra
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.hydra != nil {
		shared.hydra.Stop()
	}
	os.Exit(code)
}

func skipWithoutHydra(t *testing.T) {
	t.Helper()
	if os.Getenv("HYDRA_BIN") == "" {
		t.Skip("HYDRA_BIN is not set: these tests need a real Hydra (make test sets it; hack/testbins.sh hydra prints the path)")
	}
}

// sharedHydra is one Hydra for the tests that do not restart it; they use distinct client IDs
// and owners, so they do not see each other's clients.
func sharedHydra(t *testing.T) *testenv.Hydra {
	t.Helper()
	skipWithoutHydra(t)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.hydra, shared.err = testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true, Env: hydraEnv})
	})
	if shared.err != nil {
		t.Fatalf("starting hydra: %v", shared.err)
	}
	return shared.hydra
}

func newClient(t *testing.T, adminURL string) Client {
	t.Helper()
	c, err := New(Options{AdminURL: adminURL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// everyFieldSpec sets every field Hydra accepts together, each to a value other than Hydra's
// default.
func everyFieldSpec() *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		ClientName: "Every Field",
		GrantTypes: []v1alpha1.GrantType{
			"authorization_code", "refresh_token", "client_credentials", "implicit",
			"urn:ietf:params:oauth:grant-type:jwt-bearer",
		},
		ResponseTypes:                     []v1alpha1.ResponseType{"code", "id_token", "token", "code id_token"},
		RedirectURIs:                      []string{"https://app.example.com/callback", "http://localhost:8080/cb", "https://app.example.com/other"},
		PostLogoutRedirectURIs:            []string{"https://app.example.com/logged-out", "http://localhost:8080/bye"},
		Scopes:                            []string{"openid", "offline_access", "app:read", "app:write"},
		Audience:                          []string{"https://api.example.com", "https://other.example.com"},
		AllowedCORSOrigins:                []string{"https://app.example.com", "http://localhost:8080"},
		TokenEndpointAuthMethod:           v1alpha1.AuthMethodPrivateKeyJWT,
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
		AccessTokenStrategy:               "opaque", // Hydra refuses pairwise with jwt access tokens
		TokenLifespans: &v1alpha1.TokenLifespans{
			AuthorizationCodeGrantAccessToken:  "5m",
			AuthorizationCodeGrantIDToken:      "90m",
			AuthorizationCodeGrantRefreshToken: "720h",
			ClientCredentialsGrantAccessToken:  "1h",
			ImplicitGrantAccessToken:           "30s",
			ImplicitGrantIDToken:               "1.5h",
			JWTBearerGrantAccessToken:          "2m30s",
			RefreshTokenGrantAccessToken:       "15m",
			RefreshTokenGrantIDToken:           "0s",
			RefreshTokenGrantRefreshToken:      "1000h",
		},
		Metadata: rawJSONOf(`{"team":"payments","big":9007199254740993,"f":1.0,"e":1e3,"nested":{"b":[1,"two",true,null],"a":{}}}`),
	}
}

// changedSpec differs from everyFieldSpec in every field, and leaves many fields unset so
// that Hydra resets them to its defaults.
func changedSpec() *v1alpha1.OAuth2ClientSpec {
	return &v1alpha1.OAuth2ClientSpec{
		GrantTypes:              []v1alpha1.GrantType{"client_credentials"},
		RedirectURIs:            []string{"https://app.example.com/callback"},
		TokenEndpointAuthMethod: v1alpha1.AuthMethodClientSecretPost,
		JWKSURI:                 "https://app.example.com/.well-known/jwks.json",
		AccessTokenStrategy:     "jwt",
		TokenLifespans:          &v1alpha1.TokenLifespans{ClientCredentialsGrantAccessToken: "10m"},
	}
}

func desired(t *testing.T, spec *v1alpha1.OAuth2ClientSpec, id, owner string) *OAuth2Client {
	t.Helper()
	c, err := Desired(spec, id, owner)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// expectInSync checks that the client Hydra answered, and the client Hydra then serves by
// GET and in a list page, show no drift: the create and update answers carry null lists where
// GET has empty ones, and the drift scanner compares list pages.
func expectInSync(ctx context.Context, t *testing.T, hc Client, want, answer *OAuth2Client) {
	t.Helper()
	if d := Diff(want, answer); len(d) != 0 {
		t.Errorf("drift in Hydra's answer: %v", d)
	}
	got, err := hc.Get(ctx, want.GetClientId())
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(want, got); len(d) != 0 {
		gotJSON, _ := json.Marshal(got)
		t.Errorf("drift after GET: %v\n%s", d, gotJSON)
	}
	var listed bool
	err = hc.List(ctx, want.GetOwner(), 100, func(page []OAuth2Client) error {
		for _, c := range page {
			if c.GetClientId() != want.GetClientId() {
				continue
			}
			listed = true
			if d := Diff(want, &c); len(d) != 0 {
				t.Errorf("drift in a list page: %v", d)
			}
		}
		return nil
	})
	if err != nil || !listed {
		t.Errorf("List by owner: listed %v, %v", listed, err)
	}
}

func TestHydraNoDriftForEveryField(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	id, owner := uniqueID("every"), OwnerFor("ns", "every")

	want := desired(t, everyFieldSpec(), id, owner)
	created, err := hc.Create(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if created.RegistrationAccessToken != nil {
		t.Error("Create returned the registration access token")
	}
	expectInSync(ctx, t, hc, want, created)

	changed := desired(t, changedSpec(), id, owner)
	updated, err := hc.Update(ctx, id, changed)
	if err != nil {
		t.Fatal(err)
	}
	expectInSync(ctx, t, hc, changed, updated)

	// The stored client now differs from the first spec in (nearly) every field.
	got, err := hc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(want, got); len(d) < 30 {
		t.Errorf("Diff against the old spec reports only %v", d)
	}

	updated, err = hc.Update(ctx, id, want)
	if err != nil {
		t.Fatal(err)
	}
	expectInSync(ctx, t, hc, want, updated)
}

func TestHydraNoDriftForMinimalSpecs(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	specs := map[string]*v1alpha1.OAuth2ClientSpec{
		"service": {GrantTypes: []v1alpha1.GrantType{"client_credentials"}},
		"public spa": {
			GrantTypes:              []v1alpha1.GrantType{"authorization_code", "refresh_token"},
			ResponseTypes:           []v1alpha1.ResponseType{"code"},
			RedirectURIs:            []string{"https://spa.example.com/cb"},
			AllowedCORSOrigins:      []string{"https://spa.example.com"},
			TokenEndpointAuthMethod: v1alpha1.AuthMethodNone,
			Scopes:                  []string{"openid"},
			SubjectType:             "public",
		},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			want := desired(t, spec, uniqueID("minimal"), OwnerFor("ns", "minimal"))
			created, err := hc.Create(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			expectInSync(ctx, t, hc, want, created)
			updated, err := hc.Update(ctx, want.GetClientId(), want)
			if err != nil {
				t.Fatal(err)
			}
			expectInSync(ctx, t, hc, want, updated)
		})
	}
}

func TestHydraNoDriftAfterRestart(t *testing.T) {
	skipWithoutHydra(t)
	ctx := testContext(t)
	h, err := testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true, Env: hydraEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	hc := newClient(t, h.AdminURL())
	want := desired(t, everyFieldSpec(), "restart-client", OwnerFor("ns", "restart"))
	if _, err := hc.Create(ctx, want); err != nil {
		t.Fatal(err)
	}

	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// The same client (and its keep-alive connections, now dead) must keep working.
	if _, err := hc.Get(ctx, "restart-client"); !IsNotFound(err) {
		t.Fatalf("Get after restart: %v, want not found (the memory database is gone)", err)
	}
	created, err := hc.Create(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	expectInSync(ctx, t, hc, want, created)
}

// tokenStatus asks the public token endpoint for a client_credentials token with HTTP Basic,
// and returns the status code.
func tokenStatus(t *testing.T, publicURL, id, secret string) int {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"app:read"}}
	req, err := http.NewRequest(http.MethodPost, publicURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == http.StatusOK && body.AccessToken == "" {
		t.Error("token response without access_token")
	}
	return resp.StatusCode
}

func serviceClient(t *testing.T, id, secret string) *OAuth2Client {
	t.Helper()
	c := desired(t, &v1alpha1.OAuth2ClientSpec{
		GrantTypes: []v1alpha1.GrantType{"client_credentials"},
		Scopes:     []string{"app:read"},
	}, id, OwnerFor("ns", id))
	if secret != "" {
		c.ClientSecret = &secret
	}
	return c
}

func TestHydraCredentials(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	id := uniqueID("svc")
	const first, second = "first-secret-0123", "second-secret-4567"

	created, err := hc.Create(ctx, serviceClient(t, id, first))
	if err != nil {
		t.Fatal(err)
	}
	if created.GetClientId() != id || created.GetClientSecret() != first {
		t.Fatalf("created %q with secret %q", created.GetClientId(), created.GetClientSecret())
	}
	if s := tokenStatus(t, h.PublicURL(), id, first); s != http.StatusOK {
		t.Fatalf("token with the chosen secret: %d", s)
	}
	got, err := hc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetClientId() != id || got.ClientSecret != nil {
		t.Errorf("Get returned id %q, secret set: %v", got.GetClientId(), got.ClientSecret != nil)
	}

	_, err = hc.Create(ctx, serviceClient(t, id, "another-secret"))
	if !IsConflict(err) || IsRejected(err) || IsTransient(err) {
		t.Errorf("second Create: %v, want a conflict only", err)
	}

	t.Run("update without a secret keeps it", func(t *testing.T) {
		if _, err := hc.Update(ctx, id, serviceClient(t, id, "")); err != nil {
			t.Fatal(err)
		}
		if s := tokenStatus(t, h.PublicURL(), id, first); s != http.StatusOK {
			t.Errorf("token with the kept secret: %d", s)
		}
	})
	t.Run("update with a secret rotates it", func(t *testing.T) {
		if _, err := hc.Update(ctx, id, serviceClient(t, id, second)); err != nil {
			t.Fatal(err)
		}
		if s := tokenStatus(t, h.PublicURL(), id, first); s != http.StatusUnauthorized {
			t.Errorf("token with the old secret: %d, want 401", s)
		}
		if s := tokenStatus(t, h.PublicURL(), id, second); s != http.StatusOK {
			t.Errorf("token with the new secret: %d", s)
		}
	})
}

func TestHydraDelete(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	id := uniqueID("delete")
	if _, err := hc.Create(ctx, serviceClient(t, id, "")); err != nil {
		t.Fatal(err)
	}
	if err := hc.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err := hc.Get(ctx, id)
	if !IsNotFound(err) || IsRejected(err) || IsTransient(err) {
		t.Errorf("Get after Delete: %v, want not found only", err)
	}
	if err := hc.Delete(ctx, id); !IsNotFound(err) {
		t.Errorf("second Delete: %v, want not found", err)
	}
	if _, err := hc.Update(ctx, id, serviceClient(t, id, "")); !IsNotFound(err) {
		t.Errorf("Update of a missing client: %v, want not found (PUT does not create)", err)
	}
}

func TestHydraRejected(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	id := uniqueID("rejected")
	const secret = "never-in-any-error-0123"
	c := desired(t, &v1alpha1.OAuth2ClientSpec{
		GrantTypes:   []v1alpha1.GrantType{"authorization_code"},
		RedirectURIs: []string{"https://app.example.com/callback#fragment"},
	}, id, "")
	c.ClientSecret = ptr(secret)

	_, err := hc.Create(ctx, c)
	var apiErr *APIError
	if !IsRejected(err) || IsTransient(err) || !errors.As(err, &apiErr) {
		t.Fatalf("Create: %v, want rejected", err)
	}
	if apiErr.Op != "create" || apiErr.StatusCode != http.StatusBadRequest || apiErr.Code != "invalid_redirect_uri" ||
		!strings.Contains(apiErr.Description, "Redirect URIs must not contain fragments (#).") {
		t.Errorf("APIError = %#v", apiErr)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error reveals the secret: %v", err)
	}
	if _, err := hc.Get(ctx, id); !IsNotFound(err) {
		t.Errorf("the rejected client exists: %v", err)
	}

	c.RedirectUris, c.ClientSecret = nil, ptr("short")
	if _, err := hc.Create(ctx, c); !IsRejected(err) || !errors.As(err, &apiErr) || apiErr.Code != "invalid_client_metadata" {
		t.Errorf("Create with a 5-character secret: %v, want rejected as invalid_client_metadata", err)
	}
}

func TestCreateRefusesIDWithSlash(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL).Create(context.Background(), &OAuth2Client{ClientId: ptr("team/app")})
	if !IsRejected(err) || requests.Load() != 0 {
		t.Errorf("Create(team/app): %v after %d requests, want rejected before any request", err, requests.Load())
	}
}

func TestHydraList(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	owner := OwnerFor(uniqueID("ns"), "list")
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("%s-%02d", uniqueID("list"), i)
		want = append(want, id)
		if _, err := hc.Create(ctx, desired(t, &v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}}, id, owner)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := hc.Create(ctx, serviceClient(t, uniqueID("other"), "")); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)

	list := func(pageSize int) (ids []string, sizes []int) {
		t.Helper()
		err := hc.List(ctx, owner, pageSize, func(page []OAuth2Client) error {
			sizes = append(sizes, len(page))
			for _, c := range page {
				if c.GetOwner() != owner {
					t.Errorf("client %s has owner %q", c.GetClientId(), c.GetOwner())
				}
				ids = append(ids, c.GetClientId())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, sizes
	}
	ids, sizes := list(10)
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	if slices.Sort(ids); !slices.Equal(ids, want) {
		t.Errorf("listed %v,\nwant %v", ids, want)
	}
	if ids, sizes := list(0); len(ids) != 25 || len(sizes) != 1 {
		t.Errorf("default page size: %d clients in pages %v", len(ids), sizes)
	}
	if ids, _ := list(25); len(ids) != 25 {
		t.Errorf("page size equal to the count: %d clients", len(ids))
	}

	var all int
	if err := hc.List(ctx, "", 7, func(page []OAuth2Client) error { all += len(page); return nil }); err != nil || all < 28 {
		t.Errorf("List without a filter: %d clients, %v", all, err)
	}
	if err := hc.List(ctx, OwnerFor("nobody", "here"), 10, func([]OAuth2Client) error {
		t.Error("fn called for an owner without clients")
		return nil
	}); err != nil {
		t.Error(err)
	}
	stop := errors.New("stop")
	var calls int
	if err := hc.List(ctx, owner, 10, func([]OAuth2Client) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List returned %v after %d pages, want fn's error after 1", err, calls)
	}
}

func TestHydraMetrics(t *testing.T) {
	h := sharedHydra(t)
	ctx, hc := testContext(t), newClient(t, h.AdminURL())
	before := testutil.ToFloat64(requestsTotal.WithLabelValues("default", "get", "404"))
	if _, err := hc.Get(ctx, uniqueID("missing")); !IsNotFound(err) {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues("default", "get", "404")) - before; got != 1 {
		t.Errorf("requests_total{get,404} grew by %v, want 1", got)
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, n := range []string{"oauth2_client_operator_hydra_requests_total", "oauth2_client_operator_hydra_request_duration_seconds"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s is not registered on controller-runtime's registry", n)
		}
	}
}

// --- Tests against a closed port and a fake server ------------------------------------------

func TestClosedPortIsTransient(t *testing.T) {
	ports, err := testenv.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	hc := newClient(t, "http://127.0.0.1:"+strconv.Itoa(ports[0]))
	before := testutil.ToFloat64(requestsTotal.WithLabelValues("default", "get", "error"))
	_, err = hc.Get(context.Background(), "any")
	if !IsTransient(err) || IsRejected(err) || IsNotFound(err) {
		t.Errorf("Get on a closed port: %v, want transient", err)
	}
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues("default", "get", "error")) - before; got != 1 {
		t.Errorf("requests_total{get,error} grew by %v, want 1", got)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	hc, err := New(Options{AdminURL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hc.Get(context.Background(), "slow")
	if !IsTransient(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get on a stuck server: %v, want a transient deadline error", err)
	}
}

func TestCancelledIsNotTransient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, srv.URL).Get(ctx, "x"); err == nil || IsTransient(err) {
		t.Errorf("Get with a cancelled context: %v, want a non-transient error", err)
	}
}

// fakeAnswer is a canned answer from a fake admin API.
type fakeAnswer struct {
	status      int
	contentType string
	body        string
}

func fakeServer(t *testing.T, answer fakeAnswer, seen chan<- *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r.Clone(context.Background())
		}
		if answer.contentType != "" {
			w.Header().Set("Content-Type", answer.contentType)
		}
		w.WriteHeader(answer.status)
		_, _ = io.WriteString(w, answer.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestErrorAnswers(t *testing.T) {
	const jsonType = "application/json; charset=utf-8"
	tests := []struct {
		name                string
		answer              fakeAnswer
		transient, rejected bool
		code, description   string
	}{
		{"503 with Hydra's body", fakeAnswer{503, jsonType, `{"error":"server_error","error_description":"The database is down."}`}, true, false, "server_error", "The database is down."},
		{"502 from a proxy, HTML", fakeAnswer{502, "text/html", `<html>Bad Gateway</html>`}, true, false, "", ""},
		{"429", fakeAnswer{429, jsonType, `{"error":"too_many_requests"}`}, true, false, "too_many_requests", "too_many_requests"},
		{"400 concurrent update", fakeAnswer{400, jsonType, `{"error":"invalid_request","error_description":"Unable to serialize access due to a concurrent update"}`}, true, false, "invalid_request", "Unable to serialize access due to a concurrent update"},
		{"400 validation", fakeAnswer{400, jsonType, `{"error":"invalid_client_metadata","error_description":"Field client_secret must contain a secret that is at least 6 characters long."}`}, false, true, "invalid_client_metadata", "Field client_secret must contain a secret that is at least 6 characters long."},
		{"401 from a gateway, no body", fakeAnswer{401, "", ""}, true, false, "", ""},
		{"403 with JSON under a plain content type", fakeAnswer{403, "text/plain", `{"error":"forbidden","error_description":"token lacks scope"}`}, true, false, "forbidden", "token lacks scope"},
		{"302 is not followed", fakeAnswer{302, "", ""}, false, false, "", ""},
		{"200 that is not JSON", fakeAnswer{200, jsonType, `<html>`}, true, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeServer(t, tt.answer, nil)
			hc := newClient(t, srv.URL)
			_, createErr := hc.Create(context.Background(), &OAuth2Client{ClientId: ptr("x")})
			// List reads its pages without the SDK (list.go): the same answers must be typed alike.
			listErr := hc.List(context.Background(), "", 10, func([]OAuth2Client) error { return nil })
			for op, err := range map[string]error{"create": createErr, "list": listErr} {
				if err == nil {
					t.Fatalf("%s: no error", op)
				}
				if IsTransient(err) != tt.transient || IsRejected(err) != tt.rejected {
					t.Errorf("%s: %v: transient %v, rejected %v; want %v, %v", op, err, IsTransient(err), IsRejected(err), tt.transient, tt.rejected)
				}
				var apiErr *APIError
				if errors.As(err, &apiErr) {
					if apiErr.Code != tt.code || apiErr.Description != tt.description || apiErr.StatusCode != tt.answer.status || apiErr.Op != op {
						t.Errorf("%s: APIError = %#v", op, apiErr)
					}
				} else if tt.answer.status >= 300 {
					t.Errorf("%s: %v is not an *APIError", op, err)
				}
			}
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	const secret = "super-secret-value-42"
	// A misbehaving server (or proxy) that echoes the request body back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad " + string(body), "error_description": "bad request: " + string(body)})
	}))
	t.Cleanup(srv.Close)
	hc := newClient(t, srv.URL)
	c := &OAuth2Client{ClientId: ptr("x"), ClientSecret: ptr(secret)}
	_, createErr := hc.Create(context.Background(), c)
	_, updateErr := hc.Update(context.Background(), "x", c)
	for _, err := range []error{createErr, updateErr} {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%v is not an *APIError", err)
		}
		if strings.Contains(fmt.Sprintf("%v %#v", err, apiErr), secret) {
			t.Errorf("error reveals the secret: %#v", apiErr)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	seen := make(chan *http.Request, 1)
	srv := fakeServer(t, fakeAnswer{200, "application/json", `{"client_id":"x"}`}, seen)
	hc, err := New(Options{AdminURL: srv.URL + "/", BearerToken: "gateway-token", UserAgent: "test-agent/1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(context.Background(), "a b"); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	if got := r.Header.Get("Authorization"); got != "Bearer gateway-token" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != "test-agent/1" {
		t.Errorf("User-Agent = %q", got)
	}
	if r.URL.EscapedPath() != "/admin/clients/a%20b" {
		t.Errorf("path = %q", r.URL.EscapedPath())
	}
	// List reads its pages without the SDK (list.go), with the same headers.
	listSrv := fakeServer(t, fakeAnswer{200, "application/json", `[]`}, seen)
	lc, err := New(Options{AdminURL: listSrv.URL + "/", BearerToken: "gateway-token", UserAgent: "test-agent/1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.List(context.Background(), "o w/n", 7, func([]OAuth2Client) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r = <-seen
	if r.Header.Get("Authorization") != "Bearer gateway-token" || r.Header.Get("User-Agent") != "test-agent/1" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("list: Authorization %q, User-Agent %q, Accept %q", r.Header.Get("Authorization"), r.Header.Get("User-Agent"), r.Header.Get("Accept"))
	}
	if q := r.URL.Query(); r.URL.Path != "/admin/clients" || q.Get("owner") != "o w/n" || q.Get("page_size") != "7" || q.Has("page_token") {
		t.Errorf("list: %s", r.URL)
	}

	if _, err := newClient(t, srv.URL).Get(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	r = <-seen
	if r.Header.Get("Authorization") != "" || r.Header.Get("User-Agent") != DefaultUserAgent {
		t.Errorf("defaults: Authorization %q, User-Agent %q", r.Header.Get("Authorization"), r.Header.Get("User-Agent"))
	}
}

func TestTLSWithCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"client_id":"x"}`)
	}))
	t.Cleanup(srv.Close)
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	hc, err := New(Options{AdminURL: srv.URL, CABundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(context.Background(), "x"); err != nil {
		t.Errorf("Get over TLS with the CA bundle: %v", err)
	}
	if _, err := newClient(t, srv.URL).Get(context.Background(), "x"); err == nil {
		t.Error("Get over TLS without the CA bundle succeeded")
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not-pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]Options{
		"missing token file":        {AdminURL: "https://hydra", BearerTokenFile: filepath.Join(dir, "missing")},
		"token file is a directory": {AdminURL: "https://hydra", BearerTokenFile: dir},
		"token and token file":      {AdminURL: "https://hydra", BearerToken: "t", BearerTokenFile: notPEM},
		"missing CA file":           {AdminURL: "https://hydra", CAFile: filepath.Join(dir, "missing")},
		"no PEM in the CA file":     {AdminURL: "https://hydra", CAFile: notPEM},
		"CA bundle and CA file":     {AdminURL: "https://hydra", CABundle: []byte("x"), CAFile: notPEM},
		"empty URL":                 {},
		"relative URL":              {AdminURL: "hydra-admin:4445"},
		"other scheme":              {AdminURL: "ftp://hydra"},
		"no host":                   {AdminURL: "http://"},
		"no PEM in CAs":             {AdminURL: "https://hydra", CABundle: []byte("not a certificate")},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestListStopsOnRepeatedToken(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Link", `</admin/clients?page_size=1&page_token=same>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"client_id":"x"}]`)
	}))
	t.Cleanup(srv.Close)
	if err := newClient(t, srv.URL).List(context.Background(), "", 1, func([]OAuth2Client) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (the first page, then the page the token names)", n)
	}
}

// TestListRetriesATransientPage: a page that fails with a transient error is read again (the
// rest of the list is not restarted); other failures, and a page that keeps failing, end List.
func TestListRetriesATransientPage(t *testing.T) {
	const serialize = `{"error":"invalid_request","error_description":"Unable to serialize access due to a concurrent update in another session"}`
	tests := []struct {
		name         string
		secondPage   []fakeAnswer // the answers to the second page's requests, in turn
		wantClients  int
		wantRequests int32
		wantErr      bool
	}{
		{"one concurrent update, then the page", []fakeAnswer{{400, "application/json", serialize}}, 2, 3, false},
		{"a validation error is not retried", []fakeAnswer{{400, "application/json", `{"error":"invalid_request","error_description":"bad page_size"}`}}, 1, 2, true},
		{"down for good: three attempts", []fakeAnswer{{503, "", ""}, {503, "", ""}, {503, "", ""}}, 1, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests, secondPageRequests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Query().Get("page_token") {
				case "":
					w.Header().Set("Link", `</admin/clients?page_size=1&page_token=2>; rel="next"`)
					_, _ = io.WriteString(w, `[{"client_id":"a"}]`)
				case "2":
					if n := int(secondPageRequests.Add(1)); n <= len(tt.secondPage) {
						w.WriteHeader(tt.secondPage[n-1].status)
						_, _ = io.WriteString(w, tt.secondPage[n-1].body)
						return
					}
					_, _ = io.WriteString(w, `[{"client_id":"b"}]`)
				default:
					_, _ = io.WriteString(w, `[]`)
				}
			}))
			t.Cleanup(srv.Close)
			var clients int
			err := newClient(t, srv.URL).List(context.Background(), "", 1, func(page []OAuth2Client) error { clients += len(page); return nil })
			if (err != nil) != tt.wantErr || clients != tt.wantClients || requests.Load() != tt.wantRequests {
				t.Errorf("err %v, %d clients, %d requests; want error %v, %d clients, %d requests", err, clients, requests.Load(), tt.wantErr, tt.wantClients, tt.wantRequests)
			}
		})
	}
}
