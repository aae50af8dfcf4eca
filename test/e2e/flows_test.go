//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each test registers its own clients, in its own namespace, with kubectl apply; the
// application side reads the credentials only from the Secret, mounted as files.

const (
	ordersAudience = "https://orders.e2e.test"
	appCallback    = "https://app.e2e.test/callback"
	spaCallback    = "https://spa.e2e.test/callback"
	appScope       = "openid offline_access orders.read"
)

// webApp is a confidential web application that signs users in: authorization code with
// refresh tokens, HTTP Basic at the token endpoint.
func webApp(redirectURIs ...string) clientSpec {
	return clientSpec{
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"},
		RedirectURIs:  redirectURIs,
		Scopes:        []string{"openid", "offline_access", "orders.read", "orders.write"},
		Audience:      []string{ordersAudience},
	}
}

// service is a machine-to-machine client: client_credentials only.
func service(authMethod string, scopes ...string) clientSpec {
	return clientSpec{GrantTypes: []string{"client_credentials"}, Scopes: scopes, TokenEndpointAuthMethod: authMethod}
}

// signIn runs the authorization-code flow for a confidential client and returns the tokens.
func signIn(t *testing.T, c credentials, redirectURI, scope string) tokenResponse {
	t.Helper()
	code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: redirectURI, Scope: scope, Audience: ordersAudience})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := exchangeCode(c, authBasic, code, redirectURI, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ok(); err != nil {
		t.Fatal(err)
	}
	return tok
}

// Flow 1: authorization code with refresh token (RFC 6749 4.1), client_secret_basic.
func TestAuthorizationCodeFlow(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-authcode"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "webapp", webApp(appCallback))
	c := readCredentials(t, mount)
	if c.ClientSecret == "" {
		t.Fatalf("the Secret of a confidential client has no client_secret (keys: %v)", mountedKeys(t, mount))
	}

	// 4.1.1/4.1.2: the browser logs in and consents, and comes back to the registered
	// redirect_uri with a code and the same state (checked by authorizationCode).
	code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: appCallback, Scope: appScope, Audience: ordersAudience})
	if err != nil {
		t.Fatal(err)
	}
	// 4.1.3/4.1.4: the code and the same redirect_uri, with HTTP Basic.
	tok, err := exchangeCode(c, authBasic, code, appCallback, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ok(); err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Errorf("no refresh_token although offline_access was granted: %s", tok)
	}
	if tok.ExpiresIn <= 0 {
		t.Errorf("expires_in = %d, want > 0", tok.ExpiresIn)
	}
	if !strings.EqualFold(tok.TokenType, "bearer") {
		t.Errorf("token_type = %q, want bearer", tok.TokenType)
	}
	if tok.IDToken == "" {
		t.Errorf("no id_token although openid was granted")
	}
	if !sameScopes(tok.Scope, appScope) {
		t.Errorf("granted scope %q, want %q", tok.Scope, appScope)
	}

	in := introspect(t, tok.AccessToken)
	if !in.Active {
		t.Fatalf("introspection: the access token is not active: %+v", in)
	}
	if !sameScopes(in.Scope, appScope) {
		t.Errorf("introspection: scope %q, want %q", in.Scope, appScope)
	}
	if in.ClientID != c.ClientID {
		t.Errorf("introspection: client_id %q, want %q", in.ClientID, c.ClientID)
	}
	if in.Subject != testSubject {
		t.Errorf("introspection: sub %q, want %q", in.Subject, testSubject)
	}
	if !slices.Contains(in.Audience, ordersAudience) {
		t.Errorf("introspection: aud %v does not contain the granted audience %s", in.Audience, ordersAudience)
	}
}

// Flow 2: what the authorization-code flow must refuse.
func TestAuthorizationCodeRefusals(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-authcode-refusals"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "webapp", webApp(appCallback))
	c := readCredentials(t, mount)

	t.Run("code used twice", func(t *testing.T) {
		code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: appCallback, Scope: appScope})
		if err != nil {
			t.Fatal(err)
		}
		first, err := exchangeCode(c, authBasic, code, appCallback, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := first.ok(); err != nil {
			t.Fatal(err)
		}
		second, err := exchangeCode(c, authBasic, code, appCallback, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := second.refused(http.StatusBadRequest, "invalid_grant"); err != nil {
			t.Fatalf("second use of a code: %v", err)
		}
		// RFC 6749 4.1.2: the tokens issued for a code used twice should be revoked.
		if in := introspect(t, first.AccessToken); in.Active {
			t.Errorf("the access token issued for a reused code is still active")
		}
	})

	t.Run("unregistered redirect_uri", func(t *testing.T) {
		const evil = "https://evil.e2e.test/callback"
		params, _ := codeRequest{ClientID: c.ClientID, RedirectURI: evil, Scope: appScope}.params()
		b := newBrowser()
		res, err := b.authorize(params)
		if err != nil {
			t.Fatal(err)
		}
		if res.Callback != nil {
			t.Fatalf("Hydra redirected to %s for an unregistered redirect_uri", res.Callback)
		}
		trail := strings.Join(append(b.visited, res.URL), " ")
		if !strings.Contains(trail, "error=invalid_request") {
			t.Errorf("no invalid_request error; the browser went through %s and ended with %d: %.300s", trail, res.Status, res.Body)
		}
		if strings.Contains(trail, loginHost) {
			t.Errorf("the user was asked to log in for an unregistered redirect_uri: %s", trail)
		}
	})

	t.Run("wrong client_secret", func(t *testing.T) {
		code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: appCallback, Scope: appScope})
		if err != nil {
			t.Fatal(err)
		}
		wrong := c
		wrong.ClientSecret = c.ClientSecret + "x"
		tok, err := exchangeCode(wrong, authBasic, code, appCallback, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.refused(http.StatusUnauthorized, "invalid_client"); err != nil {
			t.Fatalf("wrong client_secret: %v", err)
		}
		// The right secret still redeems the code: the failed attempt did not consume it.
		tok, err = exchangeCode(c, authBasic, code, appCallback, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.ok(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a code redeemed with another redirect_uri", func(t *testing.T) {
		code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: appCallback, Scope: appScope})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := exchangeCode(c, authBasic, code, "https://app.e2e.test/other", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.refused(http.StatusBadRequest, "invalid_grant"); err != nil {
			t.Fatalf("redirect_uri differing from the authorization request: %v", err)
		}
	})

	for _, tc := range []struct {
		name string
		d    decision
	}{{"user denies consent", rejectConsent}, {"user does not log in", rejectLogin}} {
		t.Run(tc.name, func(t *testing.T) {
			users.decide(c.ClientID, tc.d)
			defer users.decide(c.ClientID, accept)
			params, state := codeRequest{ClientID: c.ClientID, RedirectURI: appCallback, Scope: appScope}.params()
			res, err := newBrowser().authorize(params)
			if err != nil {
				t.Fatal(err)
			}
			if res.Callback == nil {
				t.Fatalf("the browser did not come back to the redirect_uri: ended at %s with %d", res.URL, res.Status)
			}
			q := res.Callback.Query()
			if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("code") != "" {
				t.Errorf("want error=access_denied with the same state and no code at the redirect_uri, got %s", res.Callback)
			}
		})
	}
}

// Flow 3: the refresh_token grant (RFC 6749 6).
func TestRefreshTokenGrant(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-refresh"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "webapp", webApp(appCallback))
	c := readCredentials(t, mount)
	first := signIn(t, c, appCallback, appScope)
	if first.RefreshToken == "" {
		t.Fatalf("no refresh token: %s", first)
	}
	refresh := func(refreshToken, scope string) tokenResponse {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return mustToken(t, c, authBasic, form)
	}

	// RFC 6749 6: "The requested scope MUST NOT include any scope not originally granted".
	// Asking for more, even a scope the client may request, must not yield it: Hydra v2.3.0
	// (fosite v0.49.0) ignores the scope parameter of a refresh request and grants the
	// original scope again; a server that answers invalid_scope instead is fine too.
	current := first
	wider := refresh(first.RefreshToken, appScope+" orders.write")
	switch {
	case wider.refused(http.StatusBadRequest, "invalid_scope") == nil:
	case wider.ok() == nil:
		if !sameScopes(wider.Scope, appScope) {
			t.Errorf("refresh with a wider scope granted %q, more than the original %q", wider.Scope, appScope)
		}
		if in := introspect(t, wider.AccessToken); !sameScopes(in.Scope, appScope) {
			t.Errorf("refresh with a wider scope: the token has scope %q, more than the original %q", in.Scope, appScope)
		}
		current = wider // the refresh token was used and rotated
	default:
		t.Fatalf("refresh with a wider scope: want invalid_scope or the original scope, got %s", wider)
	}

	next := refresh(current.RefreshToken, "")
	if err := next.ok(); err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == current.AccessToken {
		t.Error("the refreshed access token is the old one")
	}
	if next.RefreshToken == "" || next.RefreshToken == current.RefreshToken {
		t.Errorf("want a new refresh token, got %q", next.RefreshToken)
	}
	if next.ExpiresIn <= 0 {
		t.Errorf("expires_in = %d", next.ExpiresIn)
	}
	in := introspect(t, next.AccessToken)
	if !in.Active || !sameScopes(in.Scope, appScope) || in.ClientID != c.ClientID {
		t.Errorf("introspection of the refreshed token: %+v, want active with scope %q", in, appScope)
	}

	// The new refresh token works in turn; a used one does not (rotation, RFC 6749 10.4).
	last := refresh(next.RefreshToken, "")
	if err := last.ok(); err != nil {
		t.Fatal(err)
	}
	if err := refresh(current.RefreshToken, "").refused(http.StatusBadRequest, "invalid_grant"); err != nil {
		t.Errorf("reusing a refresh token that was already used: %v", err)
	}
}

// Flow 4: client_credentials (RFC 6749 4.4).
func TestClientCredentialsGrant(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-client-credentials"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "inventory", service("", "inventory.read", "inventory.write"))
	c := readCredentials(t, mount)

	for _, scope := range []string{"inventory.read", "inventory.read inventory.write"} {
		tok, err := clientCredentials(c, authBasic, scope)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.ok(); err != nil {
			t.Fatalf("scope %q: %v", scope, err)
		}
		if tok.RefreshToken != "" {
			t.Errorf("client_credentials issued a refresh token (RFC 6749 4.4.3 says it should not)")
		}
		in := introspect(t, tok.AccessToken)
		if !in.Active || !sameScopes(in.Scope, scope) || in.ClientID != c.ClientID {
			t.Errorf("introspection: %+v, want active with scope %q for %s", in, scope, c.ClientID)
		}
	}
	for _, scope := range []string{"inventory.admin", "inventory.read inventory.admin"} {
		tok, err := clientCredentials(c, authBasic, scope)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.refused(http.StatusBadRequest, "invalid_scope"); err != nil {
			t.Errorf("scope %q, which the client lacks: %v", scope, err)
		}
	}
}

// Flow 5: a public client (tokenEndpointAuthMethod none) with PKCE S256 (RFC 7636).
func TestPublicClientWithPKCE(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-public"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "spa", clientSpec{
		GrantTypes:              []string{"authorization_code"},
		ResponseTypes:           []string{"code"},
		RedirectURIs:            []string{spaCallback},
		Scopes:                  []string{"openid", "orders.read"},
		TokenEndpointAuthMethod: "none",
	})
	if keys := mountedKeys(t, mount); !slices.Equal(keys, []string{"client_id"}) {
		t.Fatalf("the Secret of a public client has keys %v, want only client_id", keys)
	}
	c := readCredentials(t, mount)
	const scope = "openid orders.read"

	newCode := func(challenge string) string {
		t.Helper()
		code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: spaCallback, Scope: scope, CodeChallenge: challenge})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	verifier, challenge := pkce()
	tok, err := exchangeCode(c, authNone, newCode(challenge), spaCallback, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ok(); err != nil {
		t.Fatalf("exchange with the right code_verifier and no secret: %v", err)
	}
	if in := introspect(t, tok.AccessToken); !in.Active || !sameScopes(in.Scope, scope) || in.ClientID != c.ClientID {
		t.Errorf("introspection: %+v", in)
	}

	other, _ := pkce()
	tok, err = exchangeCode(c, authNone, newCode(challenge), spaCallback, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.refused(http.StatusBadRequest, "invalid_grant"); err != nil {
		t.Errorf("exchange with a wrong code_verifier: %v", err)
	}

	tok, err = exchangeCode(c, authNone, newCode(challenge), spaCallback, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.refused(http.StatusBadRequest, "invalid_grant"); err != nil {
		t.Errorf("exchange without the code_verifier: %v", err)
	}
}

// Flow 6: client_secret_post (RFC 6749 2.3.1) works for a client registered with it and is
// refused for a client_secret_basic client.
func TestClientSecretPost(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-secret-post"
	newNamespace(t, ns)
	_, postMount := deployClient(t, ns, "post-client", service("client_secret_post", "reports.read"))
	_, basicMount := deployClient(t, ns, "basic-client", service("client_secret_basic", "reports.read"))
	post, basic := readCredentials(t, postMount), readCredentials(t, basicMount)

	check := func(name string, c credentials, style authStyle, wantOK bool) {
		t.Helper()
		tok, err := clientCredentials(c, style, "reports.read")
		if err != nil {
			t.Fatal(err)
		}
		if wantOK {
			err = tok.ok()
		} else {
			err = tok.refused(http.StatusUnauthorized, "invalid_client")
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	check("client_secret_post client, credentials in the form", post, authPost, true)
	check("client_secret_basic client, credentials in the form", basic, authPost, false)
	check("client_secret_basic client, HTTP Basic", basic, authBasic, true)
	check("client_secret_post client, HTTP Basic", post, authBasic, false)
}

// Flow 7: a changed redirectURIs list, applied with kubectl, reaches Hydra.
func TestRedirectURIChange(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-redirects"
	const oldURI, newURI = "https://app.e2e.test/callback-v1", "https://app.e2e.test/callback-v2"
	newNamespace(t, ns)
	manifest, mount := deployClient(t, ns, "webapp", webApp(oldURI))
	c := readCredentials(t, mount)
	signIn(t, c, oldURI, appScope)

	// Edit the manifest and apply it again, the way a user does.
	if err := writeFile(manifest, clientManifest(ns, "webapp", webApp(newURI))); err != nil {
		t.Fatal(err)
	}
	applyFile(t, manifest)

	eventually(t, time.Minute, func() error {
		params, _ := codeRequest{ClientID: c.ClientID, RedirectURI: oldURI, Scope: appScope}.params()
		res, err := newBrowser().authorize(params)
		if err != nil {
			return err
		}
		if res.Callback != nil {
			return fmt.Errorf("the removed redirect_uri %s is still accepted", oldURI)
		}
		code, err := authorizationCode(codeRequest{ClientID: c.ClientID, RedirectURI: newURI, Scope: appScope})
		if err != nil {
			return fmt.Errorf("the new redirect_uri: %w", err)
		}
		tok, err := exchangeCode(c, authBasic, code, newURI, "")
		if err != nil {
			return err
		}
		return tok.ok()
	})
	// The credentials did not change with the spec.
	if again := readCredentials(t, mountSecret(t, ns, "webapp")); again != c {
		t.Errorf("the credentials changed when the redirect URIs did")
	}
}

// Flow 8: Hydra loses its database; the operator registers the client again with the
// credentials in the Secret, which the application keeps using unchanged.
func TestHydraRestartRestoresClient(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-restart"
	newNamespace(t, ns)
	_, mount := deployClient(t, ns, "worker", service("", "jobs.run"))
	c := readCredentials(t, mount)
	if tok, err := clientCredentials(c, authBasic, "jobs.run"); err != nil || tok.ok() != nil {
		t.Fatalf("before the restart: %v %v", err, tok)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := hydra.Restart(ctx); err != nil {
		t.Fatalf("restarting hydra: %v", err)
	}
	if tok, err := clientCredentials(c, authBasic, "jobs.run"); err == nil && tok.ok() == nil {
		t.Log("the client already worked right after the restart")
	} else {
		t.Logf("right after the restart (empty database): %v %v", err, tok)
	}

	// The application still has its mounted files; nothing touches the Secret.
	eventually(t, 90*time.Second, func() error {
		tok, err := clientCredentials(c, authBasic, "jobs.run")
		if err != nil {
			return err
		}
		return tok.ok()
	})
	if again := readCredentials(t, mountSecret(t, ns, "worker")); again != c {
		t.Errorf("the Secret's credentials changed; the operator should have registered the existing ones again")
	}
}

// Flow 9: deleting the resource with kubectl removes the client from Hydra.
func TestDeleteRevokesClient(t *testing.T) {
	dumpLogsOnFailure(t)
	const ns = "e2e-delete"
	newNamespace(t, ns)
	manifest, mount := deployClient(t, ns, "worker", service("", "jobs.run"))
	c := readCredentials(t, mount)
	if tok, err := clientCredentials(c, authBasic, "jobs.run"); err != nil || tok.ok() != nil {
		t.Fatalf("before the delete: %v %v", err, tok)
	}

	t.Logf("kubectl delete -f %s: %s", filepath.Base(manifest), strings.TrimSpace(kubectl(t, "delete", "--wait=true", "--timeout=60s", "-f", manifest)))
	eventually(t, time.Minute, func() error {
		tok, err := clientCredentials(c, authBasic, "jobs.run")
		if err != nil {
			return err
		}
		return tok.refused(http.StatusUnauthorized, "invalid_client")
	})
	resp, err := http.Get(hydra.AdminURL() + "/admin/clients/" + url.PathEscape(c.ClientID))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /admin/clients/%s after the delete: %d, want 404", c.ClientID, resp.StatusCode)
	}
}

// The sample that `make run-local` applies works as its comments say.
func TestSampleServiceClient(t *testing.T) {
	dumpLogsOnFailure(t)
	sample := filepath.Join(moduleRoot, "config", "samples", "oauth2_v1alpha1_oauth2client.yaml")
	applyFile(t, sample)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := cp.Kubectl(ctx, "delete", "--ignore-not-found", "--wait=true", "--timeout=45s", "-f", sample); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	waitReady(t, "default", "example-service")
	c := readCredentials(t, mountSecret(t, "default", "example-service"))
	tok, err := clientCredentials(c, authBasic, "read")
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ok(); err != nil {
		t.Fatal(err)
	}
}
