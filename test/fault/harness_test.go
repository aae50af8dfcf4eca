//go:build fault

package fault

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// pollInterval is how often the tests look at the state they wait for.
const pollInterval = 250 * time.Millisecond

// env is one test's world: its own etcd and kube-apiserver, its own Hydra (in-memory, fast
// hashing), a namespace, and the operator processes it starts. Everything is stopped when the
// test ends, also when it fails; the logs are printed (in part) when it fails.
type env struct {
	t     *testing.T
	ctx   context.Context // the test's deadline
	name  string          // the name in the FAULT line
	ns    string
	dir   string // logs, kubeconfig, certificates
	cp    *controlPlane
	k8s   client.Client
	hydra *testenv.Hydra
	admin *hydraAdmin // Hydra's admin API, directly

	mu         sync.Mutex
	logs       []*os.File
	nOperators int
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// setup starts the control plane and Hydra for one test, bounded by timeout.
func setup(t *testing.T, name string, timeout time.Duration) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	dir, err := os.MkdirTemp("", "oauth2-fault-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, name: name, ns: "fault-" + name, dir: dir}
	t.Cleanup(e.closeLogs) // last: after every process has stopped

	begin := time.Now()
	if e.cp, err = startControlPlane(filepath.Join(dir, "controlplane"), e.logFile("controlplane")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.cp.stop(); err != nil {
			t.Logf("stopping the control plane: %v", err)
		}
	})
	if e.k8s, err = client.New(e.cp.cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	if err := e.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	if e.hydra, err = testenv.StartHydra(ctx, testenv.HydraOptions{Bin: hydraBinary, FastHashing: true, Log: e.logFile("hydra"),
		DatabaseDir: filepath.Join(dir, "hydra")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.hydra.Stop)
	e.admin = newHydraAdmin(e.hydra.AdminURL())
	t.Logf("control plane and Hydra up in %s (logs in %s)", time.Since(begin).Round(100*time.Millisecond), dir)
	return e
}

// logFile creates a log file in the test's folder; closed (and printed on failure) at the end.
func (e *env) logFile(name string) *os.File {
	f, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.logs = append(e.logs, f)
	e.mu.Unlock()
	return f
}

func (e *env) closeLogs() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.logs {
		if e.t.Failed() {
			lines := 120
			if strings.HasSuffix(f.Name(), "controlplane.log") {
				lines = 30
			}
			e.t.Logf("----- last %d lines of %s -----\n%s", lines, filepath.Base(f.Name()), tail(f.Name(), lines))
		}
		_ = f.Close()
	}
	if keepLogs || e.t.Failed() {
		e.t.Logf("logs kept in %s", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

// countInLog counts the lines of a log file that contain s.
func (e *env) countInLog(name, s string) int {
	data, err := os.ReadFile(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// secretsInLogs counts the client secrets (those in the snapshot's Secrets and extra) that
// appear anywhere in the operator's log files: the operator must never log a secret, also not on
// its error paths. The logs must name at least one client ID, or the check would prove nothing.
func (e *env) secretsInLogs(s *snapshot, extra ...string) int {
	files, _ := filepath.Glob(filepath.Join(e.dir, "operator*.log"))
	var logs strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			e.t.Errorf("reading %s: %v", f, err)
			continue
		}
		logs.Write(data)
	}
	text := logs.String()
	named := false
	for _, obj := range s.resources {
		named = named || (obj.Status.ClientID != "" && strings.Contains(text, obj.Status.ClientID))
	}
	if !named {
		e.t.Errorf("the operator's logs name no client ID; the check for secrets in them is broken")
	}
	n := 0
	for _, v := range append(s.clientSecrets(), extra...) {
		if v != "" && strings.Contains(text, v) {
			n++
		}
	}
	return n
}

// clientSecrets lists the client_secret values of a snapshot's Secrets.
func (s *snapshot) clientSecrets() []string {
	var out []string
	for _, sec := range s.secrets {
		if v := string(sec.Data["client_secret"]); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 4*n {
			lines = lines[len(lines)-n:]
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---- the operator -----------------------------------------------------------------------------

// operatorOptions configures one operator process.
type operatorOptions struct {
	// HydraAdminURL defaults to the test's Hydra.
	HydraAdminURL string
	// Args come after the defaults (--watch-namespaces, --sync-period=5s, console logs) and so
	// override them.
	Args []string
	// Metrics serves the metrics endpoint on a free loopback port.
	Metrics bool
	// Log is the name of the log file; default "operator". Several processes may share one.
	Log string
	// Kubeconfig defaults to the administrator's; another user's makes the audit log name that
	// user for this process's API writes.
	Kubeconfig string
}

// operatorProc is a running operator process.
type operatorProc struct {
	*testenv.Operator
	metricsURL string
	started    time.Time
}

// startOperator starts the operator binary and waits until /readyz answers. The process is
// killed when the test ends.
func (e *env) startOperator(opts operatorOptions) *operatorProc {
	e.t.Helper()
	if opts.HydraAdminURL == "" {
		opts.HydraAdminURL = e.hydra.AdminURL()
	}
	if opts.Log == "" {
		opts.Log = "operator"
	}
	if opts.Kubeconfig == "" {
		opts.Kubeconfig = e.cp.kubeconfig
	}
	args := []string{"--watch-namespaces=" + e.ns, "--sync-period=5s", "--zap-encoder=console", "--zap-time-encoding=iso8601"}
	p := &operatorProc{}
	if opts.Metrics {
		ports, err := testenv.FreePorts(1)
		if err != nil {
			e.t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		args = append(args, "--metrics-bind-address="+addr) // overrides the launcher's =0
		p.metricsURL = "http://" + addr + "/metrics"
	}
	args = append(args, opts.Args...)
	log := e.sharedLog(opts.Log)
	e.mu.Lock()
	e.nOperators++
	n := e.nOperators
	e.mu.Unlock()
	fmt.Fprintf(log, "===== %s operator #%d: %s\n", time.Now().Format(time.RFC3339Nano), n, strings.Join(args, " "))
	var err error
	p.Operator, err = testenv.StartOperator(e.ctx, testenv.OperatorOptions{
		Bin:            managerBin,
		Kubeconfig:     opts.Kubeconfig,
		HydraAdminURL:  opts.HydraAdminURL,
		HydraPublicURL: e.hydra.PublicURL(),
		Args:           args,
		Log:            log,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	p.started = time.Now()
	e.t.Cleanup(p.kill)
	return p
}

func (e *env) sharedLog(name string) *os.File {
	e.mu.Lock()
	for _, f := range e.logs {
		if filepath.Base(f.Name()) == name+".log" {
			e.mu.Unlock()
			return f
		}
	}
	e.mu.Unlock()
	return e.logFile(name)
}

// kill sends SIGKILL to the operator process (no shutdown, no lease release) and waits for it
// to exit. Safe to call again.
func (p *operatorProc) kill() {
	select {
	case <-p.Done():
		return
	default:
	}
	_ = syscall.Kill(p.Pid(), syscall.SIGKILL)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.Done()
	}
}

// exited reports whether the process has ended (it should only when the test kills it).
func (p *operatorProc) exited() bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// ---- resources --------------------------------------------------------------------------------

// serviceClient is a machine-to-machine OAuth2Client: client_credentials, secret in a Secret
// named like the resource.
func serviceClient(ns, name string, scopes ...string) *v1alpha1.OAuth2Client {
	return &v1alpha1.OAuth2Client{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.OAuth2ClientSpec{
			GrantTypes: []v1alpha1.GrantType{"client_credentials"},
			Scopes:     scopes,
		},
	}
}

func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%03d", prefix, i))
	}
	return out
}

// creator creates resources in the background, each retried until it exists (the API server
// may be away), and counts its progress.
type creator struct {
	created atomic.Int64
	done    chan struct{}
	err     error
}

func (e *env) startCreating(objs []*v1alpha1.OAuth2Client, workers int) *creator {
	c := &creator{done: make(chan struct{})}
	work := make(chan *v1alpha1.OAuth2Client)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range work {
				if err := e.createRetrying(obj); err != nil {
					mu.Lock()
					c.err = errors.Join(c.err, err)
					mu.Unlock()
					continue
				}
				c.created.Add(1)
			}
		}()
	}
	go func() {
		defer close(c.done)
		for _, obj := range objs {
			select {
			case work <- obj:
			case <-e.ctx.Done():
			}
		}
		close(work)
		wg.Wait()
	}()
	return c
}

// wait waits until every resource was created (or the test's deadline passed).
func (c *creator) wait() error {
	<-c.done
	return c.err
}

// createRetrying creates obj, retrying errors (such as a restarting API server) until the
// test's deadline. An AlreadyExists after a retry means an earlier attempt went through.
func (e *env) createRetrying(obj client.Object) error {
	for attempt := 0; ; attempt++ {
		err := e.k8s.Create(e.ctx, obj.DeepCopyObject().(client.Object))
		if err == nil || (attempt > 0 && apierrors.IsAlreadyExists(err)) {
			return nil
		}
		if apierrors.IsAlreadyExists(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			return fmt.Errorf("creating %s: %w", obj.GetName(), err)
		}
		select {
		case <-e.ctx.Done():
			return fmt.Errorf("creating %s: %w (last error: %w)", obj.GetName(), e.ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

// retrying calls fn until it returns nil or a conflict-free error that is not transient, or
// the test's deadline passes. Conflicts are counted.
func (e *env) retrying(fn func() error) (conflicts int, err error) {
	for {
		err = fn()
		switch {
		case err == nil:
			return conflicts, nil
		case apierrors.IsConflict(err):
			conflicts++
			continue
		case apierrors.IsNotFound(err) || apierrors.IsInvalid(err):
			return conflicts, err
		}
		select {
		case <-e.ctx.Done():
			return conflicts, fmt.Errorf("%w (last error: %w)", e.ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

// ---- the observed state -----------------------------------------------------------------------

// snapshot is the state of the namespace and of Hydra at one moment.
type snapshot struct {
	resources map[string]*v1alpha1.OAuth2Client
	secrets   map[string]*corev1.Secret
	hydra     []hydraClient
}

func (e *env) snapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{resources: map[string]*v1alpha1.OAuth2Client{}, secrets: map[string]*corev1.Secret{}}
	list := &v1alpha1.OAuth2ClientList{}
	if err := e.k8s.List(ctx, list, client.InNamespace(e.ns)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		s.resources[list.Items[i].Name] = &list.Items[i]
	}
	secrets := &corev1.SecretList{}
	if err := e.k8s.List(ctx, secrets, client.InNamespace(e.ns)); err != nil {
		return nil, err
	}
	for i := range secrets.Items {
		s.secrets[secrets.Items[i].Name] = &secrets.Items[i]
	}
	var err error
	s.hydra, err = e.admin.list(ctx)
	return s, err
}

// isReady: Ready=True for the current generation, with a client ID, not being deleted.
func isReady(obj *v1alpha1.OAuth2Client) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	return obj.DeletionTimestamp.IsZero() && c != nil && c.Status == metav1.ConditionTrue &&
		c.ObservedGeneration == obj.Generation && obj.Status.ObservedGeneration == obj.Generation &&
		obj.Status.ClientID != ""
}

// tally counts what matters in a snapshot.
type tally struct {
	Resources  int // OAuth2Clients in the namespace, including ones being deleted
	Ready      int // Ready for their current generation
	Deleting   int // with a deletion timestamp (the finalizer not yet removed)
	Missing    int // not being deleted, and Hydra has no client with status.clientID owned by it
	Duplicates int // Hydra clients beyond the first with the same owner
	Orphans    int // Hydra clients owned by a resource that does not exist
	Unowned    int // Hydra clients without the operator's owner mark
	Stale      int // Hydra's scopes differ from spec.scopes
}

func (t tally) String() string {
	return fmt.Sprintf("resources=%d ready=%d deleting=%d missing=%d duplicates=%d orphans=%d unowned=%d stale=%d",
		t.Resources, t.Ready, t.Deleting, t.Missing, t.Duplicates, t.Orphans, t.Unowned, t.Stale)
}

// converged: want resources, all Ready, each with exactly its own client at Hydra as specified,
// and nothing else at Hydra.
func (t tally) converged(want int) bool {
	return t.Resources == want && t.Ready == want && t.Deleting == 0 && t.Missing == 0 &&
		t.Duplicates == 0 && t.Orphans == 0 && t.Unowned == 0 && t.Stale == 0
}

func (s *snapshot) tally() tally {
	t := tally{Resources: len(s.resources)}
	byOwner := map[string][]hydraClient{}
	for _, c := range s.hydra {
		ns, name, ok := hydra.ParseOwner(c.Owner)
		if !ok {
			t.Unowned++
			continue
		}
		byOwner[ns+"/"+name] = append(byOwner[ns+"/"+name], c)
	}
	for owner, clients := range byOwner {
		t.Duplicates += len(clients) - 1
		_, name, _ := strings.Cut(owner, "/")
		if obj := s.resources[name]; obj == nil || owner != obj.Namespace+"/"+obj.Name {
			t.Orphans += len(clients)
		}
	}
	for _, obj := range s.resources {
		if isReady(obj) {
			t.Ready++
		}
		if !obj.DeletionTimestamp.IsZero() {
			t.Deleting++
			continue
		}
		var found *hydraClient
		for i, c := range byOwner[obj.Namespace+"/"+obj.Name] {
			if c.ClientID == obj.Status.ClientID && obj.Status.ClientID != "" {
				found = &byOwner[obj.Namespace+"/"+obj.Name][i]
			}
		}
		if found == nil {
			t.Missing++
			continue
		}
		if len(obj.Spec.Scopes) > 0 && !sameWords(strings.Fields(found.Scope), obj.Spec.Scopes) {
			t.Stale++
		}
	}
	return t
}

func sameWords(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// waitConverged polls until the namespace holds want converged resources (see tally.converged)
// and returns the time from since until then, or an error with the last tally at the deadline.
func (e *env) waitConverged(since time.Time, want int, timeout time.Duration) (time.Duration, *snapshot, error) {
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	var last tally
	var lastSnap *snapshot
	var lastErr error
	for {
		s, err := e.snapshot(ctx)
		if err == nil {
			last, lastSnap, lastErr = s.tally(), s, nil
			if last.converged(want) {
				return time.Since(since), s, nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return time.Since(since), lastSnap, fmt.Errorf("not converged within %s: want %d resources; %s (last error: %s)", timeout, want, last, fmt.Sprint(lastErr))
		case <-time.After(pollInterval):
		}
	}
}

// credentials reads client_id and client_secret from the resource's Secret.
func (s *snapshot) credentials(obj *v1alpha1.OAuth2Client) (id, secret string, err error) {
	name := obj.Status.SecretName
	if name == "" {
		name = obj.Name
	}
	sec := s.secrets[name]
	if sec == nil {
		return "", "", fmt.Errorf("%s: no Secret %s", obj.Name, name)
	}
	id, secret = string(sec.Data["client_id"]), string(sec.Data["client_secret"])
	if id == "" || secret == "" {
		return id, secret, fmt.Errorf("%s: Secret %s lacks client_id or client_secret", obj.Name, name)
	}
	if id != obj.Status.ClientID {
		return id, secret, fmt.Errorf("%s: Secret holds client ID %s, status %s", obj.Name, id, obj.Status.ClientID)
	}
	return id, secret, nil
}

// checkTokens asks Hydra for a client_credentials token with the credentials in each
// resource's Secret, and returns how many failed, with the first few errors.
func (e *env) checkTokens(s *snapshot, which []string) (failed int, errs []string) {
	work := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				obj := s.resources[name]
				var err error
				if obj == nil {
					err = fmt.Errorf("%s: no such resource", name)
				} else if id, secret, cerr := s.credentials(obj); cerr != nil {
					err = cerr
				} else {
					err = clientCredentialsToken(e.ctx, e.hydra.PublicURL(), id, secret)
				}
				if err != nil {
					mu.Lock()
					failed++
					if len(errs) < 5 {
						errs = append(errs, err.Error())
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range which {
		work <- name
	}
	close(work)
	wg.Wait()
	return failed, errs
}

// liveNames lists the resources of a snapshot that are not being deleted, sorted.
func (s *snapshot) liveNames() []string {
	var out []string
	for name, obj := range s.resources {
		if obj.DeletionTimestamp.IsZero() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ---- reporting --------------------------------------------------------------------------------

// report logs the test's one-line outcome in the format the lead quotes:
//
//	FAULT <name>: converge=<dur> lost=<n> duplicates=<n> key=value ...
//
// converge is "none" when the test did not converge (convergeErr != nil).
func (e *env) report(converge time.Duration, convergeErr error, lost, duplicates int, extra ...string) {
	e.t.Helper()
	c := roundDuration(converge).String()
	if convergeErr != nil {
		c = "none(>" + c + ")"
	}
	line := fmt.Sprintf("FAULT %s: converge=%s lost=%d duplicates=%d", e.name, c, lost, duplicates)
	if len(extra) > 0 {
		line += " " + strings.Join(extra, " ")
	}
	e.t.Log(line)
}

func kv(key string, value any) string {
	if d, ok := value.(time.Duration); ok {
		value = roundDuration(d)
	}
	return fmt.Sprintf("%s=%v", key, value)
}

// roundDuration keeps two or three significant digits: 1.23s, 45.6s, 2m3.4s.
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// faultDelay waits d: a deliberate delay that is itself the fault (an outage's length, the
// moment a process is killed), never a wait for an outcome. It returns early when the test's
// deadline passes.
func (e *env) faultDelay(d time.Duration) {
	select {
	case <-time.After(d):
	case <-e.ctx.Done():
	}
}

// waitFor polls cond until it is true or timeout passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s (last error: %s)", what, timeout, fmt.Sprint(lastErr))
		case <-time.After(pollInterval / 2):
		}
	}
}

// readyCount counts the namespace's Ready resources (from the API server).
func (e *env) readyCount() (int, error) {
	list := &v1alpha1.OAuth2ClientList{}
	if err := e.k8s.List(e.ctx, list, client.InNamespace(e.ns)); err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		if isReady(&list.Items[i]) {
			n++
		}
	}
	return n, nil
}

func metaOf(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
