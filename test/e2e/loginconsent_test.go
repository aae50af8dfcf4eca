//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// decision is what the user does when Hydra sends the browser to log in and consent.
type decision int

const (
	accept        decision = iota // log in and grant the requested scope and audience
	rejectLogin                   // refuse to log in
	rejectConsent                 // log in, then deny consent
)

// testSubject is the user every accepted login authenticates.
const testSubject = "e2e-user@example.com"

// loginConsent is a minimal login-and-consent app for Hydra (what URLS_LOGIN and URLS_CONSENT
// point to): it accepts or rejects the login and consent challenges through Hydra's admin API,
// as decided per client_id, and redirects the browser to where Hydra says.
type loginConsent struct {
	adminURL string
	http     *http.Client

	mu        sync.Mutex
	decisions map[string]decision // by client_id; accept when absent
}

func newLoginConsent(adminURL string) *loginConsent {
	return &loginConsent{adminURL: adminURL, http: &http.Client{Timeout: 10 * time.Second}, decisions: map[string]decision{}}
}

// decide sets what the user does for one client until the next call.
func (lc *loginConsent) decide(clientID string, d decision) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	lc.decisions[clientID] = d
}

func (lc *loginConsent) decisionFor(clientID string) decision {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.decisions[clientID]
}

func (lc *loginConsent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var redirect string
	var err error
	switch r.URL.Path {
	case "/login":
		redirect, err = lc.login(r.URL.Query().Get("login_challenge"))
	case "/consent":
		redirect, err = lc.consent(r.URL.Query().Get("consent_challenge"))
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "login/consent app: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, redirect, http.StatusFound)
}

type hydraClientRef struct {
	ClientID string `json:"client_id"`
}

func (lc *loginConsent) login(challenge string) (string, error) {
	if challenge == "" {
		return "", fmt.Errorf("no login_challenge")
	}
	q := "?login_challenge=" + url.QueryEscape(challenge)
	var req struct {
		Skip    bool           `json:"skip"`
		Subject string         `json:"subject"`
		Client  hydraClientRef `json:"client"`
	}
	if err := lc.call(http.MethodGet, "/admin/oauth2/auth/requests/login"+q, nil, &req); err != nil {
		return "", err
	}
	if lc.decisionFor(req.Client.ClientID) == rejectLogin {
		return lc.redirect("/admin/oauth2/auth/requests/login/reject"+q, map[string]any{
			"error": "access_denied", "error_description": "The user did not log in.",
		})
	}
	subject := testSubject
	if req.Skip { // Hydra remembered an earlier login: it must be accepted with the same subject
		subject = req.Subject
	}
	return lc.redirect("/admin/oauth2/auth/requests/login/accept"+q, map[string]any{
		"subject": subject, "remember": false,
	})
}

func (lc *loginConsent) consent(challenge string) (string, error) {
	if challenge == "" {
		return "", fmt.Errorf("no consent_challenge")
	}
	q := "?consent_challenge=" + url.QueryEscape(challenge)
	var req struct {
		RequestedScope    []string       `json:"requested_scope"`
		RequestedAudience []string       `json:"requested_access_token_audience"`
		Client            hydraClientRef `json:"client"`
	}
	if err := lc.call(http.MethodGet, "/admin/oauth2/auth/requests/consent"+q, nil, &req); err != nil {
		return "", err
	}
	if lc.decisionFor(req.Client.ClientID) == rejectConsent {
		return lc.redirect("/admin/oauth2/auth/requests/consent/reject"+q, map[string]any{
			"error": "access_denied", "error_description": "The user denied the request.",
		})
	}
	return lc.redirect("/admin/oauth2/auth/requests/consent/accept"+q, map[string]any{
		"grant_scope":                 nonNil(req.RequestedScope),
		"grant_access_token_audience": nonNil(req.RequestedAudience),
		"remember":                    false,
		"session": map[string]any{
			"id_token": map[string]any{"email": testSubject},
		},
	})
}

// redirect PUTs an accept or reject to Hydra and returns where Hydra wants the browser next.
func (lc *loginConsent) redirect(path string, body any) (string, error) {
	var resp struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := lc.call(http.MethodPut, path, body, &resp); err != nil {
		return "", err
	}
	if resp.RedirectTo == "" {
		return "", fmt.Errorf("PUT %s: no redirect_to in the answer", path)
	}
	return resp.RedirectTo, nil
}

func (lc *loginConsent) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, lc.adminURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := lc.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
