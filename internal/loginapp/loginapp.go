// Package loginapp is a login and consent app for Ory Hydra, for local use only: what Hydra's
// urls.login and urls.consent point to in `make run-local` and in the end-to-end tests. It has
// no users and no passwords. Its one page has one button that signs in a fixed local user;
// consent is granted for everything the client requested, without asking. Anyone who can reach
// it can sign in, so it listens on loopback and must never serve a real authorization server.
//
// It talks to Hydra's admin API with plain HTTP (the login and consent endpoints of
// https://www.ory.sh/docs/hydra/reference/api): GET the request by its challenge, PUT accept or
// reject, and send the browser to the redirect_to Hydra answers.
package loginapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"
)

// The user every login signs in, unless App says otherwise.
const (
	DefaultSubject = "local-user"
	DefaultEmail   = "local-user@example.com"
	DefaultName    = "Local User"
)

// ButtonLabel is the text of the page's one button, which signs in the local user.
const ButtonLabel = "Sign in as local user"

// Decision is what the app does with one client's login.
type Decision int

const (
	// Ask shows the page; pressing the button signs in and grants consent.
	Ask Decision = iota
	// Accept signs in and grants consent without showing the page (for tests).
	Accept
	// RejectLogin refuses the login (error access_denied at the redirect_uri).
	RejectLogin
	// RejectConsent signs in, then denies consent.
	RejectConsent
)

// App is an http.Handler serving /login, /consent and / (a short explanation).
type App struct {
	// AdminURL is Hydra's admin API base URL.
	AdminURL string
	// Subject, Email and Name describe the one user; empty means the Default values.
	Subject, Email, Name string
	// Decide chooses, by client_id, what a login does; nil means Ask for every client.
	Decide func(clientID string) Decision
	// HTTP calls the admin API; nil means a client with a 10 second timeout.
	HTTP *http.Client
}

// New returns an App for the Hydra admin API at adminURL that shows its page to every login.
func New(adminURL string) *App { return &App{AdminURL: adminURL} }

func (a *App) subject() string { return or(a.Subject, DefaultSubject) }
func (a *App) email() string   { return or(a.Email, DefaultEmail) }
func (a *App) name() string    { return or(a.Name, DefaultName) }

func (a *App) decide(clientID string) Decision {
	if a.Decide == nil {
		return Ask
	}
	return a.Decide(clientID)
}

func (a *App) httpClient() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// ServeHTTP serves GET /login (the page, or a redirect when no page is needed), POST /login (the
// button), GET /consent (granted at once) and GET / (what this is).
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var err error
	switch {
	case r.URL.Path == "/login" && r.Method == http.MethodGet:
		err = a.showLogin(w, r)
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		err = a.submitLogin(w, r)
	case r.URL.Path == "/consent" && r.Method == http.MethodGet:
		err = a.consent(w, r)
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = pageTmpl.Execute(w, page{Subject: a.subject(), Email: a.email()})
	case r.URL.Path == "/login" || r.URL.Path == "/consent" || r.URL.Path == "/":
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
	if err != nil {
		http.Error(w, "login app: "+err.Error(), http.StatusBadGateway)
	}
}

// loginRequest is the part of Hydra's OAuth2LoginRequest this app reads.
type loginRequest struct {
	Skip           bool      `json:"skip"`
	Subject        string    `json:"subject"`
	RequestedScope []string  `json:"requested_scope"`
	Client         clientRef `json:"client"`
}

type clientRef struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
}

func (a *App) showLogin(w http.ResponseWriter, r *http.Request) error {
	challenge := r.URL.Query().Get("login_challenge")
	if challenge == "" {
		http.Error(w, "no login_challenge: this page is opened by Hydra's /oauth2/auth", http.StatusBadRequest)
		return nil
	}
	req, err := a.loginRequest(r.Context(), challenge)
	if err != nil {
		return err
	}
	// Hydra remembered an earlier login: it must be accepted with the same subject, no page.
	if req.Skip {
		return a.acceptLogin(w, r, challenge, req.Subject)
	}
	switch a.decide(req.Client.ClientID) {
	case Accept, RejectConsent:
		return a.acceptLogin(w, r, challenge, a.subject())
	case RejectLogin:
		return a.rejectLogin(w, r, challenge)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return pageTmpl.Execute(w, page{
		Challenge: challenge,
		Client:    or(req.Client.ClientName, req.Client.ClientID),
		ClientID:  req.Client.ClientID,
		Scopes:    req.RequestedScope,
		Subject:   a.subject(),
		Email:     a.email(),
		Button:    ButtonLabel,
	})
}

func (a *App) submitLogin(w http.ResponseWriter, r *http.Request) error {
	challenge := r.PostFormValue("login_challenge")
	if challenge == "" {
		http.Error(w, "no login_challenge in the form", http.StatusBadRequest)
		return nil
	}
	req, err := a.loginRequest(r.Context(), challenge)
	if err != nil {
		return err
	}
	subject := a.subject()
	if req.Skip {
		subject = req.Subject
	}
	return a.acceptLogin(w, r, challenge, subject)
}

func (a *App) loginRequest(ctx context.Context, challenge string) (loginRequest, error) {
	var req loginRequest
	err := a.call(ctx, http.MethodGet, "/admin/oauth2/auth/requests/login?login_challenge="+url.QueryEscape(challenge), nil, &req)
	return req, err
}

func (a *App) acceptLogin(w http.ResponseWriter, r *http.Request, challenge, subject string) error {
	return a.redirect(w, r, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge),
		map[string]any{"subject": subject, "remember": false})
}

func (a *App) rejectLogin(w http.ResponseWriter, r *http.Request, challenge string) error {
	return a.redirect(w, r, "/admin/oauth2/auth/requests/login/reject?login_challenge="+url.QueryEscape(challenge),
		map[string]any{"error": "access_denied", "error_description": "The user did not log in."})
}

// consent grants every requested scope and audience, and puts the user's email and name in the
// ID token (the claims OIDC consumers such as oauth2-proxy read), unless Decide says to deny.
func (a *App) consent(w http.ResponseWriter, r *http.Request) error {
	challenge := r.URL.Query().Get("consent_challenge")
	if challenge == "" {
		http.Error(w, "no consent_challenge: this page is opened by Hydra", http.StatusBadRequest)
		return nil
	}
	q := "?consent_challenge=" + url.QueryEscape(challenge)
	var req struct {
		RequestedScope    []string  `json:"requested_scope"`
		RequestedAudience []string  `json:"requested_access_token_audience"`
		Client            clientRef `json:"client"`
	}
	if err := a.call(r.Context(), http.MethodGet, "/admin/oauth2/auth/requests/consent"+q, nil, &req); err != nil {
		return err
	}
	if a.decide(req.Client.ClientID) == RejectConsent {
		return a.redirect(w, r, "/admin/oauth2/auth/requests/consent/reject"+q, map[string]any{
			"error": "access_denied", "error_description": "The user denied the request.",
		})
	}
	return a.redirect(w, r, "/admin/oauth2/auth/requests/consent/accept"+q, map[string]any{
		"grant_scope":                 nonNil(req.RequestedScope),
		"grant_access_token_audience": nonNil(req.RequestedAudience),
		"remember":                    false,
		"session": map[string]any{
			"id_token": map[string]any{
				"email":              a.email(),
				"email_verified":     true, // oauth2-proxy refuses an unverified email by default
				"name":               a.name(),
				"preferred_username": a.subject(),
			},
		},
	})
}

// redirect PUTs an accept or reject to Hydra and sends the browser where Hydra answers.
func (a *App) redirect(w http.ResponseWriter, r *http.Request, path string, body any) error {
	var resp struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := a.call(r.Context(), http.MethodPut, path, body, &resp); err != nil {
		return err
	}
	if resp.RedirectTo == "" {
		return fmt.Errorf("PUT %s: no redirect_to in Hydra's answer", path)
	}
	// 303 turns the button's POST into a GET at Hydra.
	http.Redirect(w, r, resp.RedirectTo, http.StatusSeeOther)
	return nil
}

func (a *App) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.AdminURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		// Hydra's error body names the problem (an expired or used challenge, say); it holds
		// no secret.
		return fmt.Errorf("%s %s: %d %s", method, stripQuery(path), resp.StatusCode, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return errors.Join(fmt.Errorf("%s %s: reading the answer", method, stripQuery(path)), err)
	}
	return nil
}

func stripQuery(path string) string {
	if u, err := url.Parse(path); err == nil {
		return u.Path
	}
	return path
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type page struct {
	Challenge, Client, ClientID string
	Scopes                      []string
	Subject, Email, Button      string
}

// pageTmpl is the login page (with a challenge) and the explanation at / (without one).
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local login – not for production</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
.banner { background: #b00020; color: #fff; font-weight: bold; padding: .75rem 1rem; border-radius: .25rem; }
button { font-size: 1.1rem; padding: .6rem 1.2rem; cursor: pointer; }
code { background: #eee; padding: 0 .2rem; }
</style>
</head>
<body>
<p class="banner" role="alert">LOCAL USE ONLY — NOT FOR PRODUCTION. Anyone who can open this page can sign in.</p>
{{- if .Challenge}}
<h1>Sign in to {{.Client}}</h1>
<p>Client <code>{{.ClientID}}</code> asks for the scopes:
{{- range .Scopes}} <code>{{.}}</code>{{else}} none{{end}}.</p>
<p>The button signs you in as <code>{{.Subject}}</code> (<code>{{.Email}}</code>) and grants every requested scope.</p>
<form method="post" action="/login">
<input type="hidden" name="login_challenge" value="{{.Challenge}}">
<button type="submit">{{.Button}}</button>
</form>
{{- else}}
<h1>Local login and consent app</h1>
<p>This is the login app of <code>make run-local</code>. Hydra sends the browser here when an
application starts a login at its <code>/oauth2/auth</code> endpoint; it signs in the fixed user
<code>{{.Subject}}</code> (<code>{{.Email}}</code>) with one button and grants what the application
requested.</p>
{{- end}}
</body>
</html>
`))
