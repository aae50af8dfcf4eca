//go:build e2e

// Package docs holds the docs test: it runs the examples of docs/user-guide.md, in order and as
// written, on the environment `make run-local` gives a reader, and signs in through oauth2-proxy
// as the guide's walkthrough tells a reader to do in a browser. It is its own package, so that
// it runs hack/runlocal itself instead of sharing the e2e suite's processes. The conventions for
// code blocks are in CONTRIBUTING.md ("Examples in the docs").
package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

const (
	guide = "docs/user-guide.md"
	// blockTimeout bounds one block. The guide's waits use --timeout=2m, so a wait that does not
	// return on its own (on a Stalled resource, say) fails the test instead of passing late.
	blockTimeout = 90 * time.Second
	// proxyURL is where the guide's oauth2-proxy listens (--http-address) and what its
	// OAuth2Client registers as redirect URI.
	proxyURL = "http://127.0.0.1:4180"
)

func TestDocsUserGuide(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	blocks := readGuide(t, filepath.Join(root, guide))
	// The walkthrough's oauth2-proxy listens on a fixed port. Another server there (a reader's
	// oauth2-proxy, left running) would answer the test's browser in its place.
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(proxyURL, "http://"), time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("something already listens on %s, where the guide's oauth2-proxy must: stop it first", proxyURL)
	}
	env := startRunLocal(t, root)

	outputs := map[string]string{} // every block's output by its place, checked for secrets at the end
	proxyStarted := false
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", guide, b.Line)
		switch {
		case b.Kind == testenv.Transcript:
			continue
		case b.Kind == testenv.NotRun:
			t.Logf("%s: not run (%s)", where, b.Reason)
			continue
		case b.Kind == testenv.Shell && b.Background:
			env.startBackground(t, where, b)
			proxyStarted = proxyStarted || strings.Contains(b.Text, strings.TrimPrefix(proxyURL, "http://"))
			continue
		}
		start := time.Now()
		out, err := env.runBlock(b)
		outputs[where] = out
		if err != nil {
			env.fail(t, "%v", err)
		}
		t.Logf("%s: %s block, exit status %d as expected, %s", where, b.Kind, b.ExitCode, time.Since(start).Round(time.Millisecond))
	}

	if !proxyStarted {
		t.Fatalf("%s starts no oauth2-proxy on %s in a background block: the login walkthrough is missing", guide, proxyURL)
	}
	// What the guide tells the reader to do in a browser.
	env.signInThroughProxy(t)
	for _, b := range env.background {
		outputs[b.where] = b.out.String()
	}

	// Every example that should end Ready does: the waits in the guide prove some, this proves
	// the rest (such as the examples without a wait of their own).
	testenv.Eventually(t, time.Minute, func() error {
		out, _, err := env.run(0, `kubectl get oauth2clients -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}{"\n"}{end}'`, "", 30*time.Second)
		if err != nil {
			return err
		}
		var notReady []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) < 2 || f[1] != "True" {
				notReady = append(notReady, line)
			}
		}
		if len(notReady) > 0 {
			return fmt.Errorf("not Ready after the guide ran: %s", strings.Join(notReady, "; "))
		}
		return nil
	})

	// The house rule: no secret in what a reader sees.
	if found := env.secretsIn(t, outputs); len(found) > 0 {
		t.Errorf("the guide's blocks print secrets: %s", strings.Join(found, "; "))
	}
}

// readGuide reads the blocks of a document run by a docs test.
func readGuide(t *testing.T, path string) []testenv.DocBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	blocks, err := testenv.MarkdownBlocks(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return blocks
}

// runLocal is a running hack/runlocal, as `make run-local` starts it, and what the blocks run
// with: its env file and the module root as working directory.
type runLocal struct {
	// doc is the document whose blocks run, for the messages that name a block's line.
	doc                         string
	root, dir, envFile, logPath string
	blockTimeout                time.Duration
	cmd                         *exec.Cmd
	exited                      chan struct{}
	background                  []*background
}

type background struct {
	where  string
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
}

// lockedBuffer collects a background block's output, which the test reads while exec's copying
// goroutine still writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startRunLocal(t *testing.T, root string) *runLocal {
	t.Helper()
	assets, hydraBin := os.Getenv("KUBEBUILDER_ASSETS"), os.Getenv("HYDRA_BIN")
	if assets == "" || hydraBin == "" {
		t.Fatal("the docs test needs KUBEBUILDER_ASSETS and HYDRA_BIN: run it with `make test-e2e`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work := t.TempDir()
	bins := filepath.Join(work, "bin")
	manager := filepath.Join(bins, "manager")
	if err := testenv.BuildOperator(ctx, root, manager, nil); err != nil {
		t.Fatal(err)
	}
	runlocal := filepath.Join(bins, "runlocal")
	if out, err := goCmd(ctx, root, "build", "-o", runlocal, "./hack/runlocal"); err != nil {
		t.Fatalf("building hack/runlocal: %v\n%s", err, out)
	}
	// The walkthrough calls hack/testbins.sh oauth2-proxy; build it now (a no-op when cached),
	// so that a first build's minutes do not count against a block's time.
	build := exec.CommandContext(ctx, "hack/testbins.sh", "oauth2-proxy")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("hack/testbins.sh oauth2-proxy: %v\n%s", err, out)
	}

	r := &runLocal{doc: guide, root: root, dir: filepath.Join(work, "runlocal"), blockTimeout: blockTimeout, exited: make(chan struct{})}
	r.envFile = filepath.Join(r.dir, "env")
	r.logPath = filepath.Join(work, "runlocal.log")
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(runlocal, "-dir", r.dir, "-manager", manager, "-assets", assets, "-hydra", hydraBin)
	r.cmd.Dir = root
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	// Its own process group: the test stops it with SIGINT, as Ctrl-C does.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); _ = logFile.Close(); close(r.exited) }()
	t.Cleanup(func() { r.stop(t) })

	// run-local is ready for a reader once it has written the env file and the operator has
	// made its samples Ready.
	testenv.Eventually(t, 3*time.Minute, func() error {
		select {
		case <-r.exited:
			r.fail(t, "run-local exited while starting: %v", r.cmd.ProcessState)
		default:
		}
		if _, err := os.Stat(r.envFile); err != nil {
			return err
		}
		out, _, err := r.run(0, `kubectl get oauth2clients -n default -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'`, "", 30*time.Second)
		if err != nil {
			return err
		}
		if statuses := strings.Fields(out); len(statuses) == 0 || strings.Count(out, "True") != len(statuses) {
			return fmt.Errorf("the samples are not all Ready yet: %q", out)
		}
		return nil
	})
	return r
}

// stop stops the background blocks and then run-local, with SIGINT, as a reader's Ctrl-C does.
func (r *runLocal) stop(t *testing.T) {
	for _, b := range r.background {
		stopGroup(b.cmd, b.exited)
	}
	_ = syscall.Kill(r.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-r.exited:
		if code := r.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("run-local exited with status %d on SIGINT, want 0; its log:\n%s", code, tail(r.logPath))
		}
	case <-time.After(time.Minute):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.exited
		t.Errorf("run-local did not stop within a minute of SIGINT; its log:\n%s", tail(r.logPath))
	}
}

// stopGroup ends a process group started by the test: SIGTERM, then SIGKILL.
func stopGroup(cmd *exec.Cmd, exited <-chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// runBlock runs a yaml or shell block and returns its output, and an error naming the block's
// line when it did not end with the exit status the guide gives it (0 unless exit=N), or did not
// end within blockTimeout.
func (r *runLocal) runBlock(b testenv.DocBlock) (string, error) {
	where := fmt.Sprintf("%s:%d", r.doc, b.Line)
	script, stdin := b.Text, ""
	if b.Kind == testenv.Apply {
		script, stdin = "kubectl apply -f -\n", b.Text
	}
	out, code, err := r.run(b.Line, script, stdin, r.blockTimeout)
	if err != nil {
		return out, fmt.Errorf("%s: the %s block did not end within %s (a wait that never returns?): %w; its output:\n%s", where, b.Kind, r.blockTimeout, err, out)
	}
	if code != b.ExitCode {
		return out, fmt.Errorf("%s: the %s block exited with status %d, want %d; its output:\n%s", where, b.Kind, code, b.ExitCode, out)
	}
	return out, nil
}

// script writes a block as a bash script that first reads run-local's env file, as a reader
// does with `source .local/env`. Its lines are padded so that bash's own error messages
// ("line N: ...") give the line in the guide.
func (r *runLocal) script(line int, text string) (string, error) {
	f, err := os.CreateTemp("", "user-guide-*.sh")
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	body := fmt.Sprintf("source %q\n", r.envFile)
	if pad := line - strings.Count(body, "\n"); pad > 0 {
		body += strings.Repeat("\n", pad)
	}
	_, err = f.WriteString(body + text)
	return f.Name(), err
}

// run runs script like a reader's shell in the clone (bash -euo pipefail) and returns its
// combined output and exit status; err is set only when it did not finish within timeout.
func (r *runLocal) run(line int, script, stdin string, timeout time.Duration) (string, int, error) {
	path, err := r.script(line, script)
	if err != nil {
		return "", -1, err
	}
	defer func() { _ = os.Remove(path) }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", path)
	cmd.Dir = r.root
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that a timeout also ends what the block started (kubectl wait).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return out.String(), -1, ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// startBackground starts a block that keeps running, as a reader runs it in a second terminal.
func (r *runLocal) startBackground(t *testing.T, where string, b testenv.DocBlock) {
	t.Helper()
	path, err := r.script(b.Line, b.Text)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(path) })
	bg := &background{where: where, out: &lockedBuffer{}, exited: make(chan struct{})}
	bg.cmd = exec.Command("bash", "-euo", "pipefail", path)
	bg.cmd.Dir = r.root
	bg.cmd.Stdout, bg.cmd.Stderr = bg.out, bg.out
	bg.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := bg.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	go func() { _ = bg.cmd.Wait(); close(bg.exited) }()
	r.background = append(r.background, bg)
	t.Logf("%s: background shell block started", where)
}

// checkBackground fails the test when a background block ended: the guide still needs it.
func (r *runLocal) checkBackground(t *testing.T) {
	t.Helper()
	for _, b := range r.background {
		select {
		case <-b.exited:
			r.fail(t, "%s: the background block exited (%v) while the guide still needs it; its output:\n%s", b.where, b.cmd.ProcessState, b.out.String())
		default:
		}
	}
}

// signInThroughProxy does what the walkthrough asks of the reader's browser: open oauth2-proxy,
// follow it to Hydra and run-local's login page, press the page's button, and land back at
// oauth2-proxy signed in, where the upstream answers.
func (r *runLocal) signInThroughProxy(t *testing.T) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 15 * time.Second}

	testenv.Eventually(t, time.Minute, func() error {
		r.checkBackground(t)
		resp, err := browser.Get(proxyURL + "/ping")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /ping: %s", resp.Status)
		}
		return nil
	})

	page, err := get(browser, proxyURL+"/")
	if err != nil {
		r.fail(t, "opening %s: %v", proxyURL, err)
	}
	// Each page with a form is one press of a button (login, and consent if it asks); a few at
	// most, so that a page that loops fails.
	for presses := 0; page.url.Host != "127.0.0.1:4180"; presses++ {
		if presses == 3 {
			r.fail(t, "still not back at oauth2-proxy after %d pages with a button; last page %s:\n%s", presses, page.url.Redacted(), page.body)
		}
		if page.status != http.StatusOK {
			r.fail(t, "%s answered %d, want the login page:\n%s", page.url.Redacted(), page.status, page.body)
		}
		action, form, err := pressButton(page)
		if err != nil {
			r.fail(t, "%s: %v:\n%s", page.url.Redacted(), err, page.body)
		}
		if page, err = post(browser, action, form); err != nil {
			r.fail(t, "submitting the form of %s: %v", action, err)
		}
	}
	if page.status != http.StatusOK || !strings.Contains(page.body, "Authenticated") {
		r.fail(t, "back at oauth2-proxy (%s), it answered %d, want 200 from the upstream:\n%s", page.url.Path, page.status, page.body)
	}
	// The session oauth2-proxy made: the user and the email from Hydra's ID token.
	info, err := get(browser, proxyURL+"/oauth2/userinfo")
	if err != nil {
		r.fail(t, "GET /oauth2/userinfo: %v", err)
	}
	var user struct{ User, Email string }
	if err := json.Unmarshal([]byte(info.body), &user); err != nil || info.status != http.StatusOK || user.Email == "" {
		r.fail(t, "GET /oauth2/userinfo answered %d %q (%v), want the signed-in user's email", info.status, info.body, err)
	}
	t.Logf("signed in through oauth2-proxy as %s (%s)", user.User, user.Email)
}

type page struct {
	url    *url.URL
	status int
	body   string
}

func get(c *http.Client, u string) (page, error) {
	resp, err := c.Get(u)
	if err != nil {
		return page{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	return read(resp)
}

func post(c *http.Client, u string, form url.Values) (page, error) {
	resp, err := c.PostForm(u, form)
	if err != nil {
		return page{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	return read(resp)
}

// read reads the page a request ended on, after the redirects the client followed.
func read(resp *http.Response) (page, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(body)}, err
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b[^>]*>.*?</form>`)
	actionRe = regexp.MustCompile(`(?i)\baction="([^"]*)"`)
	inputRe  = regexp.MustCompile(`(?i)<(?:input|button)\b[^>]*>`)
	nameRe   = regexp.MustCompile(`(?i)\bname="([^"]*)"`)
	valueRe  = regexp.MustCompile(`(?i)\bvalue="([^"]*)"`)
	typeRe   = regexp.MustCompile(`(?i)\btype="([^"]*)"`)
)

// pressButton reads the page's one form, as a browser submits it when its (first) button is
// pressed: the hidden fields and the button's own name and value.
func pressButton(p page) (string, url.Values, error) {
	forms := formRe.FindAllString(p.body, -1)
	if len(forms) == 0 {
		return "", nil, errors.New("no form on the page")
	}
	form := forms[0]
	action := p.url.String()
	if m := actionRe.FindStringSubmatch(form); m != nil {
		ref, err := url.Parse(htmlUnescape(m[1]))
		if err != nil {
			return "", nil, err
		}
		action = p.url.ResolveReference(ref).String()
	}
	values := url.Values{}
	pressed := false
	for _, field := range inputRe.FindAllString(form, -1) {
		name := nameRe.FindStringSubmatch(field)
		if name == nil {
			continue
		}
		value := ""
		if m := valueRe.FindStringSubmatch(field); m != nil {
			value = htmlUnescape(m[1])
		}
		kind := "submit" // a button without a type submits
		if m := typeRe.FindStringSubmatch(field); m != nil {
			kind = strings.ToLower(m[1])
		}
		isButton := strings.HasPrefix(strings.ToLower(field), "<button") || kind == "submit"
		if isButton {
			if pressed || kind != "submit" {
				continue // only the pressed button is sent
			}
			pressed = true
		}
		values.Add(name[1], value)
	}
	return action, values, nil
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`, "&#39;", "'").Replace(s)
}

// secretsIn returns where any client secret in the cluster appears in the outputs.
func (r *runLocal) secretsIn(t *testing.T, outputs map[string]string) []string {
	t.Helper()
	out, code, err := r.run(0, "kubectl get secrets -A -o json", "", 30*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("listing the Secrets: %v (exit status %d)", err, code)
	}
	var list corev1.SecretList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	leaks := testenv.NewLeaks()
	for i := range list.Items {
		leaks.RememberSecret(&list.Items[i])
	}
	return leaks.Find(outputs)
}

// fail ends the test with the message and the tail of run-local's log (the operator's log is
// in it), which is where the reason for a block's failure usually is.
func (r *runLocal) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf(format+"\n--- run-local's log (tail):\n%s", append(args, tail(r.logPath))...)
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}
