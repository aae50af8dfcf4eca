//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// ---- waiting ----------------------------------------------------------------------------

// eventually and consistently poll with a deadline (internal/testenv).
var eventually, consistently = testenv.Eventually, testenv.Consistently

// ---- logs -------------------------------------------------------------------------------

// dumpLogsOnFailure prints the part of the operator's and Hydra's logs written during the
// test when the test fails.
func dumpLogsOnFailure(t *testing.T) {
	t.Helper()
	opStart, hydraStart := fileSize(operatorLogPath), fileSize(hydraLogPath)
	t.Cleanup(func() {
		if t.Failed() {
			dumpFile("operator ("+t.Name()+")", operatorLogPath, opStart)
			dumpFile("hydra ("+t.Name()+")", hydraLogPath, hydraStart)
		}
	})
}

func fileSize(path string) int64 {
	if fi, err := os.Stat(path); err == nil {
		return fi.Size()
	}
	return 0
}

// dumpFile writes a file from offset to standard error, at most its last 256 KiB.
func dumpFile(what, path string, offset int64) {
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	const limit = 256 << 10
	if size := fileSize(path); size-offset > limit {
		offset = size - limit
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return
	}
	fmt.Fprintf(os.Stderr, "----- %s log -----\n", what)
	_, _ = io.Copy(os.Stderr, f)
	fmt.Fprintf(os.Stderr, "----- end of %s log -----\n", what)
}

// ---- kubectl and manifests ----------------------------------------------------------------

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := cp.Kubectl(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// clientSpec is the part of an OAuth2Client manifest these tests vary.
type clientSpec struct {
	GrantTypes              []string
	ResponseTypes           []string
	RedirectURIs            []string
	Scopes                  []string
	Audience                []string
	TokenEndpointAuthMethod string
	SecretName              string
}

// clientManifest is an OAuth2Client as a user writes it.
func clientManifest(ns, name string, s clientSpec) string {
	spec := map[string]any{"grantTypes": s.GrantTypes}
	set := func(key string, v []string) {
		if len(v) > 0 {
			spec[key] = v
		}
	}
	set("responseTypes", s.ResponseTypes)
	set("redirectURIs", s.RedirectURIs)
	set("scopes", s.Scopes)
	set("audience", s.Audience)
	if s.TokenEndpointAuthMethod != "" {
		spec["tokenEndpointAuthMethod"] = s.TokenEndpointAuthMethod
	}
	if s.SecretName != "" {
		spec["secretName"] = s.SecretName
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion": "oauth2.clientoperator.dev/v1alpha1",
		"kind":       "OAuth2Client",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       spec,
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// writeManifest writes a manifest file in the test's temporary folder and returns its path.
func writeManifest(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// applyFile runs `kubectl apply -f file`.
func applyFile(t *testing.T, path string) {
	t.Helper()
	t.Logf("kubectl apply -f %s: %s", filepath.Base(path), strings.TrimSpace(kubectl(t, "apply", "-f", path)))
}

// newNamespace applies a Namespace manifest. Namespaces are not deleted: envtest runs no
// namespace controller, so a deleted namespace would stay Terminating.
func newNamespace(t *testing.T, ns string) {
	t.Helper()
	applyFile(t, writeManifest(t, "namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns)))
}

// deployClient applies an OAuth2Client manifest with kubectl, waits until it is Ready, and
// mounts its Secret the way a volume would. The resource is deleted when the test ends.
// It returns the manifest's path and the mounted folder.
func deployClient(t *testing.T, ns, name string, s clientSpec) (manifest string, mount string) {
	t.Helper()
	manifest = writeManifest(t, name+".yaml", clientManifest(ns, name, s))
	applyFile(t, manifest)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := cp.Kubectl(ctx, "delete", "--ignore-not-found", "--wait=true", "--timeout=45s", "-n", ns, "oauth2client", name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	waitReady(t, ns, name)
	secretName := s.SecretName
	if secretName == "" {
		secretName = name
	}
	return manifest, mountSecret(t, ns, secretName)
}

// waitReady waits with kubectl until the resource's Ready condition is True (for its current
// generation, which kubectl wait checks when the condition carries observedGeneration).
func waitReady(t *testing.T, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := cp.Kubectl(ctx, "wait", "--for=condition=Ready", "--timeout=90s", "-n", ns, "oauth2client/"+name, "-o", "json")
	if err != nil {
		status, _ := cp.Kubectl(ctx, "get", "-n", ns, "oauth2client", name, "-o", "yaml")
		t.Fatalf("%v\n%s", err, status)
	}
	var obj v1alpha1.OAuth2Client
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatalf("kubectl wait -o json: %v: %s", err, out)
	}
	secretsSeen.recordStatus(&obj)
}

// getSecret reads a Secret with kubectl.
func getSecret(ns, name string) (*corev1.Secret, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := cp.Kubectl(ctx, "get", "secret", "-n", ns, name, "-o", "json")
	if err != nil {
		return nil, err
	}
	var s corev1.Secret
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, err
	}
	secretsSeen.recordSecret(&s)
	return &s, nil
}

// mountSecret writes the Secret's keys as files into a new folder, the way kubelet mounts a
// Secret volume, and returns the folder. The application side reads only these files.
func mountSecret(t *testing.T, ns, name string) string {
	t.Helper()
	var secret *corev1.Secret
	eventually(t, 30*time.Second, func() error {
		var err error
		secret, err = getSecret(ns, name)
		return err
	})
	dir := t.TempDir()
	for key, value := range secret.Data {
		if err := os.WriteFile(filepath.Join(dir, key), value, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// credentials is what an application reads from its mounted Secret.
type credentials struct {
	ClientID     string
	ClientSecret string // empty for public clients
}

// readCredentials reads client_id and, when present, client_secret from a mounted Secret.
func readCredentials(t *testing.T, dir string) credentials {
	t.Helper()
	id, err := os.ReadFile(filepath.Join(dir, "client_id"))
	if err != nil {
		t.Fatalf("reading the mounted client_id: %v", err)
	}
	c := credentials{ClientID: string(id)}
	if secret, err := os.ReadFile(filepath.Join(dir, "client_secret")); err == nil {
		c.ClientSecret = string(secret)
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if c.ClientID == "" {
		t.Fatal("the mounted client_id is empty")
	}
	return c
}

// mountedKeys lists the files of a mounted Secret.
func mountedKeys(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Name())
	}
	return keys
}

// ---- the token endpoint and introspection ---------------------------------------------------

// authStyle is how a client authenticates at the token endpoint.
type authStyle int

const (
	authBasic authStyle = iota // client_secret_basic: HTTP Basic
	authPost                   // client_secret_post: client_id and client_secret in the form
	authNone                   // public client: client_id in the form, no secret
)

// tokenResponse is the token endpoint's answer, successful (RFC 6749 5.1) or not (5.2).
type tokenResponse struct {
	Status           int    `json:"-"`
	Raw              string `json:"-"`
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (r tokenResponse) String() string { return fmt.Sprintf("%d %s", r.Status, r.Raw) }

// ok is nil for a successful token response with an access token.
func (r tokenResponse) ok() error {
	if r.Status != http.StatusOK || r.AccessToken == "" {
		return fmt.Errorf("token request failed: %s", r)
	}
	return nil
}

// refused is nil when the token endpoint answered status with the OAuth2 error code wantErr.
func (r tokenResponse) refused(status int, wantErr string) error {
	if r.Status != status || r.Error != wantErr {
		return fmt.Errorf("want %d %s, got %s", status, wantErr, r)
	}
	return nil
}

// token POSTs a token request to Hydra's /oauth2/token.
func token(c credentials, style authStyle, form url.Values) (tokenResponse, error) {
	form = cloneValues(form)
	switch style {
	case authPost:
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	case authNone:
		form.Set("client_id", c.ClientID)
	}
	req, err := http.NewRequest(http.MethodPost, hydra.PublicURL()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if style == authBasic {
		// RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return tokenResponse{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	out := tokenResponse{Status: resp.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("token endpoint answered %d with no JSON: %s", resp.StatusCode, raw)
	}
	return out, nil
}

// mustToken is token that fails the test on a transport error (not on an OAuth2 error).
func mustToken(t *testing.T, c credentials, style authStyle, form url.Values) tokenResponse {
	t.Helper()
	r, err := token(c, style, form)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clientCredentials requests a token with the client_credentials grant (RFC 6749 4.4).
func clientCredentials(c credentials, style authStyle, scope string) (tokenResponse, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return token(c, style, form)
}

// introspection is Hydra's answer at /admin/oauth2/introspect (RFC 7662).
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	TokenUse  string   `json:"token_use"`
	ExpiresAt int64    `json:"exp"`
}

func introspect(t *testing.T, tok string) introspection {
	t.Helper()
	resp, err := http.PostForm(hydra.AdminURL()+"/admin/oauth2/introspect", url.Values{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d %s", resp.StatusCode, raw)
	}
	var out introspection
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("introspection: %v: %s", err, raw)
	}
	return out
}

// sameScopes compares space-separated scope strings as sets.
func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// ---- the browser --------------------------------------------------------------------------

// browser is a user agent with its own cookies. It follows redirects between Hydra and the
// login-and-consent app and stops at the first redirect anywhere else: the application's
// redirect_uri, which is never fetched.
type browser struct {
	client  *http.Client
	visited []string
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &browser{}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.visited = append(b.visited, req.URL.String())
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != hydraPublicHost && req.URL.Host != loginHost {
				return http.ErrUseLastResponse // the application's redirect_uri: not fetched
			}
			return nil
		},
	}
	return b
}

// authResult is where an authorization request ended.
type authResult struct {
	// Callback is the redirect to the application (its redirect_uri with code and state, or
	// error); nil when the browser never left Hydra and the login app.
	Callback *url.URL
	// Status, URL and Body describe the last page otherwise (Hydra's error page, say).
	Status int
	URL    string
	Body   string
}

// authorize opens Hydra's /oauth2/auth with params and follows the redirects.
func (b *browser) authorize(params url.Values) (authResult, error) {
	b.visited = nil
	resp, err := b.client.Get(hydra.PublicURL() + "/oauth2/auth?" + params.Encode())
	if err != nil {
		return authResult{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res := authResult{Status: resp.StatusCode, URL: resp.Request.URL.String(), Body: string(body)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return res, err
		}
		res.Callback = loc
	}
	return res, nil
}

// codeRequest is an authorization request with response_type=code (RFC 6749 4.1.1).
type codeRequest struct {
	ClientID, RedirectURI, Scope, Audience string
	CodeChallenge                          string // PKCE S256 (RFC 7636), optional
}

// params builds the request with a fresh random state, which it returns too.
func (r codeRequest) params() (url.Values, string) {
	state := randomString(24)
	p := url.Values{
		"response_type": {"code"},
		"client_id":     {r.ClientID},
		"redirect_uri":  {r.RedirectURI},
		"scope":         {r.Scope},
		"state":         {state},
	}
	if r.Audience != "" {
		p.Set("audience", r.Audience)
	}
	if r.CodeChallenge != "" {
		p.Set("code_challenge", r.CodeChallenge)
		p.Set("code_challenge_method", "S256")
	}
	return p, state
}

// authorizationCode runs an authorization request in a fresh browser, checks that it ends at
// the redirect_uri with a code and the same state, and returns the code.
func authorizationCode(r codeRequest) (string, error) {
	b := newBrowser()
	params, state := r.params()
	res, err := b.authorize(params)
	if err != nil {
		return "", err
	}
	if res.Callback == nil {
		return "", fmt.Errorf("the browser did not reach the redirect_uri; it ended at %s with %d: %.300s", res.URL, res.Status, res.Body)
	}
	cb := res.Callback
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != r.RedirectURI {
		return "", fmt.Errorf("redirected to %s, not to the redirect_uri %s", cb, r.RedirectURI)
	}
	q := cb.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("the redirect_uri got error=%s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", fmt.Errorf("state %q came back as %q", state, q.Get("state"))
	}
	if q.Get("code") == "" {
		return "", fmt.Errorf("no code in %s", cb)
	}
	return q.Get("code"), nil
}

// exchangeCode redeems an authorization code at the token endpoint (RFC 6749 4.1.3).
func exchangeCode(c credentials, style authStyle, code, redirectURI, verifier string) (tokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return token(c, style, form)
}

// pkce returns a code verifier and its S256 challenge (RFC 7636 4.1, 4.2).
func pkce() (verifier, challenge string) {
	verifier = randomString(48)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// startLoggedOperator starts an operator of the test's own with its log in
// workDir/operator-<name>.log, stops it when the test ends, and prints the log, titled what,
// when the start or the test fails. It returns the operator and the log's path.
func startLoggedOperator(t *testing.T, name, what string, opts testenv.OperatorOptions) (*testenv.Operator, string) {
	t.Helper()
	logPath := filepath.Join(workDir, "operator-"+name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = logFile
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	op, err := testenv.StartOperator(ctx, opts)
	if err != nil {
		_ = logFile.Close()
		dumpFile(what, logPath, 0)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		op.Stop()
		_ = logFile.Close()
		if t.Failed() {
			dumpFile(what+" ("+t.Name()+")", logPath, 0)
		}
	})
	return op, logPath
}
