package hydra

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// TestDiscoverUsesTheAdvertisedIssuer runs a real Hydra whose issuer differs from the address
// the operator reaches it by, as behind an ingress: the endpoints must be the advertised ones.
func TestDiscoverUsesTheAdvertisedIssuer(t *testing.T) {
	skipWithoutHydra(t)
	ctx := testContext(t)
	const issuer = "https://login.example.test/tenant-a"
	h, err := testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true, Env: []string{"URLS_SELF_ISSUER=" + issuer}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)

	got, err := Discover(ctx, h.PublicURL()+"/", Options{BearerToken: "never-sent-to-the-public-api"})
	if err != nil {
		t.Fatal(err)
	}
	want := PublicEndpoints{
		Issuer:        issuer,
		Token:         issuer + "/oauth2/token",
		Authorization: issuer + "/oauth2/auth",
		JWKS:          issuer + "/.well-known/jwks.json",
	}
	if got != want {
		t.Errorf("Discover = %+v, want %+v", got, want)
	}
}

func TestDiscoverFailures(t *testing.T) {
	var sawAuthorization bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuthorization = sawAuthorization || r.Header.Get("Authorization") != ""
		switch r.URL.Path {
		case "/incomplete/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer":"https://x"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	for name, url := range map[string]string{
		"not a URL":           "login.example.test",
		"no discovery":        srv.URL + "/none",
		"incomplete document": srv.URL + "/incomplete",
		"nothing listening":   "http://127.0.0.1:1",
	} {
		if ep, err := Discover(context.Background(), url, Options{BearerToken: "admin-token"}); err == nil {
			t.Errorf("%s: Discover = %+v, want an error", name, ep)
		}
	}
	if sawAuthorization {
		t.Error("the admin bearer token was sent to the public API")
	}
}
