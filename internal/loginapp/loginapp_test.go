package loginapp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeAdmin answers the login and consent endpoints of Hydra's admin API and records the
// bodies of the accept and reject calls.
type fakeAdmin struct {
	login   map[string]any
	consent map[string]any

	mu  sync.Mutex
	put map[string]map[string]any // path -> body
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/admin/oauth2/auth/requests/login":
		_ = json.NewEncoder(w).Encode(f.login)
	case r.Method == http.MethodGet && r.URL.Path == "/admin/oauth2/auth/requests/consent":
		_ = json.NewEncoder(w).Encode(f.consent)
	case r.Method == http.MethodPut:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.put[r.URL.Path] = body
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"redirect_to": "http://hydra.test/next" + r.URL.Path})
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusTeapot)
	}
}

func (f *fakeAdmin) body(path string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.put[path]
}

func newFake(t *testing.T) (*fakeAdmin, *httptest.Server) {
	f := &fakeAdmin{
		login: map[string]any{"skip": false, "requested_scope": []string{"openid", "email"},
			"client": map[string]any{"client_id": "c1", "client_name": "<Shop>"}},
		consent: map[string]any{"requested_scope": []string{"openid", "email"},
			"requested_access_token_audience": []string{"orders"}, "client": map[string]any{"client_id": "c1"}},
		put: map[string]map[string]any{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// answer is what the app answered one request.
type answer struct {
	StatusCode int
	Location   string
	Body       string
}

func do(t *testing.T, app http.Handler, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	return answer{StatusCode: rec.Code, Location: rec.Header().Get("Location"), Body: rec.Body.String()}
}

func TestLoginPageThenButton(t *testing.T) {
	f, srv := newFake(t)
	app := New(srv.URL)

	resp := do(t, app, httptest.NewRequest(http.MethodGet, "/login?login_challenge=ch%26x", nil))
	page := resp.Body
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{"LOCAL USE ONLY — NOT FOR PRODUCTION", ButtonLabel, `value="ch&amp;x"`, "&lt;Shop&gt;", "<code>email</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the login page lacks %q:\n%s", want, page)
		}
	}
	if f.body("/admin/oauth2/auth/requests/login/accept") != nil {
		t.Fatal("showing the page accepted the login already")
	}

	form := url.Values{"login_challenge": {"ch&x"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp = do(t, app, req)
	if resp.StatusCode != http.StatusSeeOther || resp.Location != "http://hydra.test/next/admin/oauth2/auth/requests/login/accept" {
		t.Fatalf("POST /login: %d to %q", resp.StatusCode, resp.Location)
	}
	if got := f.body("/admin/oauth2/auth/requests/login/accept")["subject"]; got != DefaultSubject {
		t.Errorf("accepted subject %v, want %s", got, DefaultSubject)
	}
}

func TestConsentGrantsWhatWasRequested(t *testing.T) {
	f, srv := newFake(t)
	resp := do(t, New(srv.URL), httptest.NewRequest(http.MethodGet, "/consent?consent_challenge=c", nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /consent: %d", resp.StatusCode)
	}
	b := f.body("/admin/oauth2/auth/requests/consent/accept")
	if got, _ := json.Marshal(b["grant_scope"]); string(got) != `["openid","email"]` {
		t.Errorf("grant_scope %s", got)
	}
	if got, _ := json.Marshal(b["grant_access_token_audience"]); string(got) != `["orders"]` {
		t.Errorf("grant_access_token_audience %s", got)
	}
	idToken := b["session"].(map[string]any)["id_token"].(map[string]any)
	if idToken["email"] != DefaultEmail || idToken["email_verified"] != true {
		t.Errorf("id_token claims %v", idToken)
	}
}

func TestDecisions(t *testing.T) {
	for _, tc := range []struct {
		d        Decision
		loginPut string
	}{
		{Accept, "/admin/oauth2/auth/requests/login/accept"},
		{RejectConsent, "/admin/oauth2/auth/requests/login/accept"},
		{RejectLogin, "/admin/oauth2/auth/requests/login/reject"},
	} {
		f, srv := newFake(t)
		app := &App{AdminURL: srv.URL, Subject: "someone", Decide: func(string) Decision { return tc.d }}
		resp := do(t, app, httptest.NewRequest(http.MethodGet, "/login?login_challenge=x", nil))
		if resp.StatusCode != http.StatusSeeOther || f.body(tc.loginPut) == nil {
			t.Errorf("decision %d: GET /login answered %d, want a redirect after PUT %s", tc.d, resp.StatusCode, tc.loginPut)
		}
		_ = do(t, app, httptest.NewRequest(http.MethodGet, "/consent?consent_challenge=x", nil))
		rejected := f.body("/admin/oauth2/auth/requests/consent/reject") != nil
		if rejected != (tc.d == RejectConsent) {
			t.Errorf("decision %d: consent rejected = %v", tc.d, rejected)
		}
	}
}

func TestRememberedLoginKeepsItsSubject(t *testing.T) {
	f, srv := newFake(t)
	f.login["skip"], f.login["subject"] = true, "earlier-user"
	resp := do(t, New(srv.URL), httptest.NewRequest(http.MethodGet, "/login?login_challenge=x", nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /login with skip: %d, want a redirect without the page", resp.StatusCode)
	}
	if got := f.body("/admin/oauth2/auth/requests/login/accept")["subject"]; got != "earlier-user" {
		t.Errorf("accepted subject %v, want the remembered one", got)
	}
}

func TestHydraErrorIsShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"Not Found"}`, http.StatusNotFound)
	}))
	defer srv.Close()
	resp := do(t, New(srv.URL), httptest.NewRequest(http.MethodGet, "/login?login_challenge=x", nil))
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(resp.Body, "404") {
		t.Errorf("an unknown challenge: %d %s", resp.StatusCode, resp.Body)
	}
}
