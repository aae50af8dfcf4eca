//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/loginapp"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// TestRunLocal is `make run-local` as a user runs it, in a terminal (a pseudo-terminal here, so
// that Ctrl-C is the terminal's, delivered to its foreground process group as when a person
// presses it). It checks what run-local promises: owner references and namespace deletion
// work (kube-controller-manager runs), a resource deleted and re-created with the same name
// gets working credentials, a browser signs in through run-local's own login app, the URLs
// are the ones asked for and stay the same after a restart, and Ctrl-C stops every process it
// started and ends make with status 0.
//
// It runs make with explicit free ports, not the default 4444/4445/3000, so that it can run
// next to a developer's own `make run-local`.
func TestRunLocal(t *testing.T) {
	ports, err := testenv.FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flags := fmt.Sprintf("-dir %s -hydra-public-port=%d -hydra-admin-port=%d -login-port=%d -sync-period=%s",
		dir, ports[0], ports[1], ports[2], syncPeriod)
	wantIssuer := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	wantLogin := fmt.Sprintf("http://127.0.0.1:%d", ports[2])

	rl := startRunLocal(t, flags, filepath.Join(dir, "make-1.log"))
	env := rl.waitUp(t, dir)
	if env["ISSUER"] != wantIssuer || env["HYDRA_PUBLIC_URL"] != wantIssuer || env["LOGIN_APP_URL"] != wantLogin {
		t.Fatalf(".local/env: ISSUER=%q HYDRA_PUBLIC_URL=%q LOGIN_APP_URL=%q, want the ports asked for (%s, %s)",
			env["ISSUER"], env["HYDRA_PUBLIC_URL"], env["LOGIN_APP_URL"], wantIssuer, wantLogin)
	}
	k := runLocalKubectl{kubeconfig: env["KUBECONFIG"], bin: filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")}
	for _, name := range []string{"example-service", "example-spa", "example-webapp", "example-spring", "example-oauth2-proxy"} {
		k.waitReady(t, "default", name)
	}

	t.Run("a deleted resource's Secret is garbage-collected, and the name can be used again", func(t *testing.T) {
		const name = "example-service"
		oldUID := k.run(t, "get", "secret", "-n", "default", name, "-o", "jsonpath={.metadata.uid}")
		if owner := k.run(t, "get", "secret", "-n", "default", name, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"); owner != "OAuth2Client/"+name {
			t.Fatalf("the Secret's owner is %q, want OAuth2Client/%s", owner, name)
		}
		k.run(t, "delete", "oauth2client", "-n", "default", name, "--wait=true", "--timeout=60s")
		eventually(t, time.Minute, func() error {
			uid, err := k.try("get", "secret", "-n", "default", name, "-o", "jsonpath={.metadata.uid}", "--ignore-not-found")
			if err != nil {
				return err
			}
			if uid == oldUID {
				return fmt.Errorf("the Secret %s is still there after its OAuth2Client was deleted", name)
			}
			return nil
		})
		k.run(t, "apply", "-f", filepath.Join(moduleRoot, "config", "samples", "oauth2_v1alpha1_oauth2client.yaml"))
		k.waitReady(t, "default", name)
		id, secret := k.credentials(t, "default", name)
		tok, err := postToken(wantIssuer, id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken == "" {
			t.Fatalf("no access token for the re-created client: %s", tok.Raw)
		}
	})

	t.Run("a namespace with an OAuth2Client is deleted", func(t *testing.T) {
		const ns = "runlocal-e2e"
		k.run(t, "create", "namespace", ns)
		sample, err := os.ReadFile(filepath.Join(moduleRoot, "config", "samples", "oauth2_v1alpha1_oauth2client.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		k.runStdin(t, bytes.ReplaceAll(sample, []byte("namespace: default"), []byte("namespace: "+ns)), "apply", "-f", "-")
		k.waitReady(t, ns, "example-service")
		k.run(t, "delete", "namespace", ns, "--wait=false")
		eventually(t, 2*time.Minute, func() error {
			phase, err := k.try("get", "namespace", ns, "-o", "jsonpath={.status.phase}", "--ignore-not-found")
			if err != nil {
				return err
			}
			if phase != "" {
				return fmt.Errorf("namespace %s is still %s", ns, phase)
			}
			return nil
		})
	})

	t.Run("a browser signs in through the login app", func(t *testing.T) {
		runLocalSignIn(t, k, wantIssuer, wantLogin)
	})

	// Ctrl-C: every process make started is gone, and make exits 0.
	procs := rl.descendants()
	for _, want := range []string{"runlocal", "etcd", "kube-apiserver", "kube-controller-manager", "hydra", "manager"} {
		if !slices.ContainsFunc(procs, func(p proc) bool { return p.name == want }) {
			t.Errorf("no %s among make's descendants %v: the check of what Ctrl-C leaves behind would be blind", want, procs)
		}
	}
	rl.interrupt(t, procs)

	// The same flags again: the URLs a consumer was configured with still answer.
	rl = startRunLocal(t, flags+" -samples=", filepath.Join(dir, "make-2.log"))
	env2 := rl.waitUp(t, dir)
	for _, key := range []string{"ISSUER", "HYDRA_PUBLIC_URL", "HYDRA_ADMIN_URL", "LOGIN_APP_URL"} {
		if env2[key] != env[key] {
			t.Errorf("after a restart %s=%q, before %q", key, env2[key], env[key])
		}
	}
	rl.interrupt(t, rl.descendants())
}

// runLocalSignIn runs the authorization-code flow of the web-app sample in a browser-like client:
// Hydra's /oauth2/auth, the login app's page, its button, consent, and the redirect to the
// application, where it stops; then it redeems the code with the client's credentials.
func runLocalSignIn(t *testing.T, k runLocalKubectl, issuer, loginURL string) {
	const name = "example-webapp"
	redirectURI := k.run(t, "get", "oauth2client", "-n", "default", name, "-o", "jsonpath={.spec.redirectURIs[0]}")
	secretName := k.run(t, "get", "oauth2client", "-n", "default", name, "-o", "jsonpath={.status.secretName}")
	if secretName == "" {
		secretName = k.run(t, "get", "oauth2client", "-n", "default", name, "-o", "jsonpath={.spec.secretName}")
	}
	id, secret := k.credentials(t, "default", secretName)

	issuerURL, _ := url.Parse(issuer)
	login, _ := url.Parse(loginURL)
	jar, _ := cookiejar.New(nil)
	var trail []string
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			trail = append(trail, req.URL.Redacted())
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != issuerURL.Host && req.URL.Host != login.Host {
				return http.ErrUseLastResponse // the application's redirect_uri: never fetched
			}
			return nil
		}}

	state := randomString(24)
	auth := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirectURI},
		"scope": {"openid profile offline_access"}, "state": {state}}
	resp, err := browser.Get(issuer + "/oauth2/auth?" + auth.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	page := readBody(resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != login.Host || resp.Request.URL.Path != "/login" {
		t.Fatalf("the browser did not land on the login app's page: %d at %s (via %v): %.500s", resp.StatusCode, resp.Request.URL.Redacted(), trail, page)
	}
	for _, want := range []string{"LOCAL USE ONLY", "NOT FOR PRODUCTION", loginapp.ButtonLabel} {
		if !strings.Contains(page, want) {
			t.Errorf("the login page does not say %q:\n%s", want, page)
		}
	}
	// The form as a browser submits it: its action, its hidden fields, the button.
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(page)
	if action == nil {
		t.Fatalf("no form on the login page:\n%s", page)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	target, err := resp.Request.URL.Parse(action[1])
	if err != nil {
		t.Fatal(err)
	}
	submitted, err := browser.PostForm(target.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = submitted.Body.Close() }()
	body := readBody(submitted)
	if submitted.StatusCode < 300 || submitted.StatusCode >= 400 {
		t.Fatalf("pressing the button did not end at the redirect_uri: %d at %s (via %v): %.500s", submitted.StatusCode, submitted.Request.URL.Redacted(), trail, body)
	}
	callback, err := submitted.Location()
	if err != nil {
		t.Fatal(err)
	}
	q := callback.Query()
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != redirectURI || q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("redirected to %s with state=%q error=%q %q; want %s with a code and state %q",
			got, q.Get("state"), q.Get("error"), q.Get("error_description"), redirectURI, state)
	}

	tok, err := postToken(issuer, id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("the token response lacks an access, ID or refresh token: %s", tok.Raw)
	}
	claims, err := jwtClaims(tok.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	aud, _ := json.Marshal(claims["aud"])
	if claims["iss"] != issuer || claims["sub"] != loginapp.DefaultSubject || claims["email"] != loginapp.DefaultEmail || !strings.Contains(string(aud), strconv.Quote(id)) {
		t.Errorf("id_token claims iss=%v sub=%v email=%v aud=%s; want %s, %s, %s, [%s]",
			claims["iss"], claims["sub"], claims["email"], aud, issuer, loginapp.DefaultSubject, loginapp.DefaultEmail, id)
	}
}

// ---- run-local on a pseudo-terminal ----------------------------------------------------------

type runLocal struct {
	cmd  *exec.Cmd
	tty  *os.File
	done chan struct{}
	// drained closes when everything the terminal showed has been read (make has exited and the
	// terminal answers EOF): what make printed last may still be unread when done closes.
	drained chan struct{}
	log     *os.File

	mu  sync.Mutex
	out bytes.Buffer // everything the terminal showed
}

// startRunLocal starts `make run-local RUN_LOCAL_FLAGS=flags` in the module on a new
// pseudo-terminal, as its session leader and foreground process group, like a shell would.
func startRunLocal(t *testing.T, flags, logPath string) *runLocal {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "run-local", "RUN_LOCAL_FLAGS="+flags)
	cmd.Dir = moduleRoot
	// Not the make that runs this test: its jobserver and flags do not belong to a new make.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		for _, p := range []string{"MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=", "MAKE_TERMOUT=", "MAKE_TERMERR="} {
			if strings.HasPrefix(kv, p) {
				return true
			}
		}
		return false
	})
	cmd.Env = append(cmd.Env, "TERM=dumb")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatalf("make run-local on a pseudo-terminal: %v", err)
	}
	rl := &runLocal{cmd: cmd, tty: tty, done: make(chan struct{}), drained: make(chan struct{}), log: log}
	go func() {
		defer close(rl.drained)
		// Drained all along: a terminal nobody reads blocks the writers.
		buf := make([]byte, 32<<10)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				rl.mu.Lock()
				rl.out.Write(buf[:n])
				rl.mu.Unlock()
				_, _ = log.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(rl.done) }()
	t.Cleanup(func() {
		select {
		case <-rl.done:
		default: // the test failed before Ctrl-C: stop it, and whatever it started
			procs := rl.descendants()
			_, _ = tty.Write([]byte{3})
			select {
			case <-rl.done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-rl.done
			}
			for _, p := range procs {
				p.kill()
			}
		}
		_ = tty.Close()
		_ = log.Close()
		if t.Failed() {
			dumpFile("make run-local", logPath, 0)
		}
	})
	return rl
}

func (rl *runLocal) output() string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.out.String()
}

// waitUp waits for the instructions run-local prints once the samples work (the first make
// may build the binaries for minutes), and returns the variables of the env file it wrote.
func (rl *runLocal) waitUp(t *testing.T, dir string) map[string]string {
	t.Helper()
	eventually(t, 10*time.Minute, func() error {
		select {
		case <-rl.done:
			t.Fatalf("make run-local exited: %v", rl.cmd.ProcessState)
		default:
		}
		if !strings.Contains(rl.output(), "Ctrl-C stops everything") {
			return errors.New("make run-local has not printed its instructions")
		}
		return nil
	})
	raw, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	return env
}

// interrupt presses Ctrl-C and checks that make exits 0 within a minute, says no error, and
// leaves none of procs running.
func (rl *runLocal) interrupt(t *testing.T, procs []proc) {
	t.Helper()
	if _, err := rl.tty.Write([]byte{3}); err != nil { // ^C, as the keyboard sends it
		t.Fatal(err)
	}
	deadline := time.After(time.Minute)
	for _, ch := range []chan struct{}{rl.done, rl.drained} {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("make run-local still runs, or its terminal still shows output, a minute after Ctrl-C")
		}
	}
	if code := rl.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("make run-local exited with %d after Ctrl-C (%v), want 0", code, rl.cmd.ProcessState)
	}
	if out := rl.output(); strings.Contains(out, "make: ***") || !strings.Contains(out, "run-local: stopped") {
		t.Errorf("after Ctrl-C make run-local did not stop cleanly; its last output:\n%s", tail(out, 2000))
	}
	for _, p := range procs {
		if p.alive() {
			t.Errorf("%s (pid %d) still runs after make run-local exited", p.name, p.pid)
		}
	}
}

// proc is a process, identified by its pid and its start time (a reused pid is another one).
type proc struct {
	pid   int
	name  string
	start string
}

func (p proc) String() string { return fmt.Sprintf("%s(%d)", p.name, p.pid) }

func (p proc) alive() bool {
	q, ok := readProc(p.pid)
	return ok && q.start == p.start
}

func (p proc) kill() {
	if p.alive() {
		if pr, err := os.FindProcess(p.pid); err == nil {
			_ = pr.Kill()
		}
	}
}

// readProc reads a process's start time from /proc/<pid>/stat and its program's name from its
// command line; a zombie counts as gone.
func readProc(pid int) (p proc, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	s := string(raw)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return proc{}, false
	}
	fields := strings.Fields(s[closing+1:]) // state ppid pgrp ... starttime is field 22 of stat
	if len(fields) < 20 || fields[0] == "Z" {
		return proc{}, false
	}
	name := s[open+1 : closing] // the kernel's name, cut to 15 characters
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmdline) > 0 {
		name = filepath.Base(string(bytes.SplitN(cmdline, []byte{0}, 2)[0]))
	}
	return proc{pid: pid, name: name, start: fields[19]}, true
}

func parentOf(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// descendants lists every running process below make (whatever process group it moved to).
func (rl *runLocal) descendants() []proc {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		children[parentOf(pid)] = append(children[parentOf(pid)], pid)
	}
	var out []proc
	queue := []int{rl.cmd.Process.Pid}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if p, ok := readProc(c); ok {
				out = append(out, p)
			}
			queue = append(queue, c)
		}
	}
	return out
}

// ---- kubectl against run-local's cluster -------------------------------------------------------

type runLocalKubectl struct{ kubeconfig, bin string }

func (k runLocalKubectl) try(args ...string) (string, error) {
	return k.tryStdin(nil, args...)
}

func (k runLocalKubectl) tryStdin(stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig=" + k.kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (k runLocalKubectl) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := k.try(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (k runLocalKubectl) runStdin(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	out, err := k.tryStdin(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitReady waits for Ready=True, and fails at once on Stalled=True.
func (k runLocalKubectl) waitReady(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 2*time.Minute, func() error {
		out, err := k.try("get", "oauth2client", "-n", ns, name, "-o",
			`jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason} {end}`)
		if err != nil {
			return err
		}
		if strings.Contains(out, "Stalled=True") {
			t.Fatalf("%s/%s is stalled: %s", ns, name, out)
		}
		if !strings.Contains(out, "Ready=True") {
			return fmt.Errorf("%s/%s is not Ready: %s", ns, name, out)
		}
		return nil
	})
}

// credentials reads client_id and client_secret from a Secret; the secret is never printed.
func (k runLocalKubectl) credentials(t *testing.T, ns, secret string) (id, clientSecret string) {
	t.Helper()
	decode := func(key string) string {
		b, err := base64.StdEncoding.DecodeString(k.run(t, "get", "secret", "-n", ns, secret, "-o", "jsonpath={.data."+key+"}"))
		if err != nil {
			t.Fatalf("Secret %s/%s key %s: %v", ns, secret, key, err)
		}
		return string(b)
	}
	return decode("client_id"), decode("client_secret")
}

// ---- OAuth2 -----------------------------------------------------------------------------------

type runLocalToken struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Raw          string `json:"-"` // the answer without its tokens, for messages
}

// postToken calls the token endpoint with HTTP Basic client authentication (RFC 6749 2.3.1).
func postToken(issuer, id, secret string, form url.Values) (runLocalToken, error) {
	req, err := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return runLocalToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return runLocalToken{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw := readBody(resp)
	var tok runLocalToken
	if resp.StatusCode != http.StatusOK {
		return tok, fmt.Errorf("token endpoint: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal([]byte(raw), &tok); err != nil {
		return tok, fmt.Errorf("token endpoint: %w", err)
	}
	tok.Raw = fmt.Sprintf("%d, access token: %t, id_token: %t, refresh token: %t", resp.StatusCode, tok.AccessToken != "", tok.IDToken != "", tok.RefreshToken != "")
	return tok, nil
}

// jwtClaims decodes a JWT's payload. The signature is Hydra's business here; the claims are
// what a consumer reads.
func jwtClaims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the id_token is not a JWT (%d parts)", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("the id_token's payload: %w", err)
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}

// readBody reads at most 256 KiB of a body; the caller closes it.
func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	return string(b)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
