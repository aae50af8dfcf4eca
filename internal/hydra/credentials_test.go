package hydra

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// --- Files as they change under a running operator ------------------------------------------

// writeRenamed replaces the file at path by writing a new file beside it and renaming it over:
// readers see the old or the new content, never a partial one.
func writeRenamed(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// kubeletDir lays a file out as the kubelet mounts a Secret or ConfigMap volume: name is a
// symlink to ..data/name, ..data a symlink to a timestamped directory; an update writes a new
// timestamped directory, renames a new symlink over ..data and removes the old directory (the
// kubelet's AtomicWriter).
type kubeletDir struct {
	dir     string
	version int
}

func (k *kubeletDir) write(t testing.TB, name, content string) string {
	t.Helper()
	k.version++
	ts := fmt.Sprintf("..2026_12_05_12_00_00.%09d", k.version)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(k.dir, ts), 0o755))
	must(os.WriteFile(filepath.Join(k.dir, ts, name), []byte(content), 0o600))
	data := filepath.Join(k.dir, "..data")
	old, _ := os.Readlink(data)
	must(os.Symlink(ts, data+"_tmp"))
	must(os.Rename(data+"_tmp", data))
	path := filepath.Join(k.dir, name)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		must(os.Symlink(filepath.Join("..data", name), path))
	}
	if old != "" {
		must(os.RemoveAll(filepath.Join(k.dir, old)))
	}
	return path
}

// rotation is one way a file is replaced: write puts content into the file and returns its path.
type rotation struct {
	name  string
	write func(t *testing.T, content string) string
}

// rotations are the ways a mounted token or CA bundle changes, each in a fresh directory.
func rotations(t *testing.T, file string) []rotation {
	renamed := filepath.Join(t.TempDir(), file)
	inPlace := filepath.Join(t.TempDir(), file)
	sameTick := filepath.Join(t.TempDir(), file)
	kubelet := &kubeletDir{dir: t.TempDir()}
	return []rotation{
		{"a new file renamed over the old", func(t *testing.T, content string) string {
			writeRenamed(t, renamed, content)
			return renamed
		}},
		{"the kubelet's ..data symlink swap", func(t *testing.T, content string) string {
			return kubelet.write(t, file, content)
		}},
		{"rewritten in place", func(t *testing.T, content string) string {
			if err := os.WriteFile(inPlace, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return inPlace
		}},
		{"rewritten in place within the same clock tick", func(t *testing.T, content string) string {
			// The modification time is put back, as a file system with a coarse clock would
			// leave it: with content of the same length, nothing a stat returns changes.
			info, statErr := os.Stat(sameTick)
			if err := os.WriteFile(sameTick, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if statErr == nil {
				if err := os.Chtimes(sameTick, time.Time{}, info.ModTime()); err != nil {
					t.Fatal(err)
				}
			}
			return sameTick
		}},
	}
}

// recordingSink is a logr sink that keeps every line, to count errors and look for secrets.
type recordingSink struct {
	mu     sync.Mutex
	errors int
	lines  []string
}

func (s *recordingSink) Init(logr.RuntimeInfo)          {}
func (s *recordingSink) Enabled(int) bool               { return true }
func (s *recordingSink) WithName(string) logr.LogSink   { return s }
func (s *recordingSink) WithValues(...any) logr.LogSink { return s }
func (s *recordingSink) Info(_ int, msg string, kv ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, fmt.Sprint(msg, kv))
}
func (s *recordingSink) Error(err error, msg string, kv ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	s.lines = append(s.lines, fmt.Sprint(err, msg, kv))
}

func (s *recordingSink) errorCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// mustNotMention fails t when a logged line holds one of secrets.
func (s *recordingSink) mustNotMention(t *testing.T, secrets ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range s.lines {
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("a log line holds the token %q: %s", secret, line)
			}
		}
	}
}

// --- The bearer token ----------------------------------------------------------------------

// tokenServer answers a client only when it sends the bearer token in want, and keeps the
// Authorization header of every request it sees.
type tokenServer struct {
	*httptest.Server
	want atomic.Pointer[string]
	mu   sync.Mutex
	seen []string
}

func newTokenServer(t *testing.T, want string) *tokenServer {
	s := &tokenServer{}
	s.want.Store(&want)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+*s.want.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"request_unauthorized"}`)
			return
		}
		_, _ = io.WriteString(w, `{"client_id":"x"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// requireOnly sets the token the server accepts from now on.
func (s *tokenServer) requireOnly(token string) { s.want.Store(&token) }

// sentSince is the Authorization headers of the requests after the first n.
func (s *tokenServer) sentSince(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen[n:]...)
}

func (s *tokenServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// getN makes n requests and fails t on the first error.
func getN(t *testing.T, hc Client, n int) {
	t.Helper()
	for i := range n {
		if _, err := hc.Get(context.Background(), "x"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
}

// onlyToken fails t unless every header in sent is "Bearer "+token.
func onlyToken(t *testing.T, sent []string, token string) {
	t.Helper()
	if len(sent) == 0 {
		t.Fatal("no request reached the server")
	}
	for i, h := range sent {
		if h != "Bearer "+token {
			t.Errorf("request %d sent %q, want the token %q", i+1, h, token)
		}
	}
}

// A rotated token is sent from the first request after the change, and the old one never again.
func TestTokenFileRotation(t *testing.T) {
	for _, rot := range rotations(t, "token") {
		t.Run(rot.name, func(t *testing.T) {
			const tokenA, tokenB = "token-a-0123456789", "token-b-9876543210"
			srv := newTokenServer(t, tokenA)
			sink := &recordingSink{}
			hc, err := New(Options{AdminURL: srv.URL, BearerTokenFile: rot.write(t, tokenA+"\n"), Log: logr.New(sink)})
			if err != nil {
				t.Fatal(err)
			}
			getN(t, hc, 2)

			rot.write(t, tokenB+"\n")
			srv.requireOnly(tokenB)
			before := srv.requests()
			getN(t, hc, 3)
			onlyToken(t, srv.sentSince(before), tokenB)
			if n := sink.errorCount(); n != 0 {
				t.Errorf("%d errors logged for a good rotation", n)
			}
			sink.mustNotMention(t, tokenA, tokenB)
		})
	}
}

// A change to a file without a usable token keeps the last good token and logs one error, and
// the next good token is used.
func TestTokenFileBadChangeKeepsLastToken(t *testing.T) {
	const tokenA, tokenC = "token-a-0123456789", "token-c-5555555555"
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"empty", func(t *testing.T, path string) { writeRenamed(t, path, "") }},
		{"only whitespace", func(t *testing.T, path string) { writeRenamed(t, path, " \n\t\n") }},
		{"a control character", func(t *testing.T, path string) { writeRenamed(t, path, "token-\x00-b") }},
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"unreadable: a directory", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			writeRenamed(t, path, tokenA)
			srv := newTokenServer(t, tokenA)
			sink := &recordingSink{}
			hc, err := New(Options{AdminURL: srv.URL, BearerTokenFile: path, Log: logr.New(sink)})
			if err != nil {
				t.Fatal(err)
			}
			getN(t, hc, 1)

			tc.change(t, path)
			before := srv.requests()
			getN(t, hc, 3)
			onlyToken(t, srv.sentSince(before), tokenA)
			if n := sink.errorCount(); n != 1 {
				t.Errorf("%d errors logged for one bad change, want 1", n)
			}

			if err := os.RemoveAll(path); err != nil {
				t.Fatal(err)
			}
			writeRenamed(t, path, tokenC)
			srv.requireOnly(tokenC)
			before = srv.requests()
			getN(t, hc, 2)
			onlyToken(t, srv.sentSince(before), tokenC)
			sink.mustNotMention(t, tokenA, tokenC, "token-\x00-b")
		})
	}
}

// An empty token file at start sends no token, as before the file was re-read; a token written
// later is sent.
func TestTokenFileEmptyAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeRenamed(t, path, "\n")
	srv := newTokenServer(t, "")
	hc, err := New(Options{AdminURL: srv.URL, BearerTokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(context.Background(), "x"); !IsUnauthorized(err) {
		t.Fatalf("Get with no token: %v, want the server's 401", err)
	}
	if sent := srv.sentSince(0); len(sent) != 1 || sent[0] != "" {
		t.Fatalf("sent %q, want no Authorization header", sent)
	}
	writeRenamed(t, path, "token-late")
	srv.requireOnly("token-late")
	getN(t, hc, 1)
}

// The token goes only to the admin API's host, even if something made the client ask another.
func TestBearerTransportOnlyToTheAdminHost(t *testing.T) {
	var got []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})
	rt := &bearerTransport{next: next, host: "hydra-admin:4445", token: func() string { return "t" }}
	for _, tc := range []struct{ url, want string }{
		{"http://hydra-admin:4445/admin/clients", "Bearer t"},
		{"http://HYDRA-ADMIN:4445/admin/clients", "Bearer t"},
		{"http://hydra-admin:4446/admin/clients", ""},
		{"http://login.example.com/admin/clients", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got[len(got)-1] != tc.want {
			t.Errorf("%s: Authorization %q, want %q", tc.url, got[len(got)-1], tc.want)
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("%s: the caller's request was changed", tc.url)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (fn roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return fn(r) }

// --- The CA bundle -------------------------------------------------------------------------

// testCA is a certificate authority that issues server certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// serverCert is a certificate for 127.0.0.1 that ca signed.
func (ca *testCA) serverCert(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hydra-admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsServer presents whichever certificate it was last given and counts its handshakes (a
// request that needs one came on a new connection) and its closed connections.
type tlsServer struct {
	*httptest.Server
	cert       atomic.Pointer[tls.Certificate]
	handshakes atomic.Int32
	closed     atomic.Int32
}

// newTLSServer starts a server that presents cert and answers with handler; nil answers every
// request with a client.
func newTLSServer(t *testing.T, cert *tls.Certificate, handler http.Handler) *tlsServer {
	s := &tlsServer{}
	s.cert.Store(cert)
	if handler == nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"client_id":"x"}`)
		})
	}
	s.Server = httptest.NewUnstartedServer(handler)
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the tests make fail
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			s.closed.Add(1)
		}
	}
	// Per handshake, so that a swapped certificate is presented on the next connection.
	s.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		s.handshakes.Add(1)
		return &tls.Config{Certificates: []tls.Certificate{*s.cert.Load()}}, nil
	}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// present makes new connections get cert and closes the open ones.
func (s *tlsServer) present(cert *tls.Certificate) {
	s.cert.Store(cert)
	s.CloseClientConnections()
}

// waitFor polls cond until it holds, and fails t if it doesn't within five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("waited 5s for %s", what)
		case <-tick.C:
		}
	}
}

func isUnknownAuthority(err error) bool {
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &unknown)
}

// A rotated CA is trusted from the next request, on a new connection (the ones verified against
// the old pool are closed), and the old CA no longer is.
func TestCAFileRotation(t *testing.T) {
	for _, rot := range rotations(t, "ca.crt") {
		t.Run(rot.name, func(t *testing.T) {
			ca1, ca2 := newTestCA(t, "ca1"), newTestCA(t, "ca2")
			cert1 := ca1.serverCert(t)
			srv := newTLSServer(t, cert1, nil)
			sink := &recordingSink{}
			hc, err := New(Options{AdminURL: srv.URL, CAFile: rot.write(t, ca1.pem), Log: logr.New(sink)})
			if err != nil {
				t.Fatal(err)
			}
			getN(t, hc, 2)
			if n := srv.handshakes.Load(); n != 1 {
				t.Fatalf("%d handshakes for two requests, want 1: the test needs a keep-alive connection", n)
			}

			// The server's open connection stays: only the client can tell it is outdated.
			srv.cert.Store(ca2.serverCert(t))
			rot.write(t, ca2.pem)
			getN(t, hc, 2)
			if n := srv.handshakes.Load(); n != 2 {
				t.Errorf("%d handshakes after the CA changed, want 2: the connection verified against the old CA was used", n)
			}
			// The client closes the old connection rather than leave it idle; the server sees it
			// close a moment later.
			waitFor(t, "the connection verified against the old CA to be closed", func() bool { return srv.closed.Load() >= 1 })

			srv.present(cert1)
			if _, err := hc.Get(context.Background(), "x"); !isUnknownAuthority(err) {
				t.Errorf("Get from a server with a certificate of the old CA: %v, want an unknown authority", err)
			}
			if n := sink.errorCount(); n != 0 {
				t.Errorf("%d errors logged for a good rotation", n)
			}
		})
	}
}

// A change to a file without a certificate keeps the last good pool and logs one error, and the
// next good bundle is used.
func TestCAFileBadChangeKeepsLastPool(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"not PEM", func(t *testing.T, path string) { writeRenamed(t, path, "not a certificate\n") }},
		{"empty", func(t *testing.T, path string) { writeRenamed(t, path, "") }},
		{"a broken certificate", func(t *testing.T, path string) {
			writeRenamed(t, path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
		}},
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca1, ca2 := newTestCA(t, "ca1"), newTestCA(t, "ca2")
			srv := newTLSServer(t, ca1.serverCert(t), nil)
			path := filepath.Join(t.TempDir(), "ca.crt")
			writeRenamed(t, path, ca1.pem)
			sink := &recordingSink{}
			hc, err := New(Options{AdminURL: srv.URL, CAFile: path, Log: logr.New(sink)})
			if err != nil {
				t.Fatal(err)
			}
			getN(t, hc, 1)

			tc.change(t, path)
			for range 2 {
				// A new connection each time, verified against the pool the client kept.
				srv.present(ca1.serverCert(t))
				getN(t, hc, 1)
			}
			if n := sink.errorCount(); n != 1 {
				t.Errorf("%d errors logged for one bad change, want 1", n)
			}

			writeRenamed(t, path, ca2.pem)
			srv.present(ca2.serverCert(t))
			getN(t, hc, 1)
		})
	}
}

// --- Both at once, under load ----------------------------------------------------------------

// Requests from several goroutines while both files change, for the race detector: every request
// succeeds (the server accepts every token and both CAs are trusted throughout), and the
// requests after the last change send the last token.
func TestFilesChangeUnderConcurrentRequests(t *testing.T) {
	ca1, ca2 := newTestCA(t, "ca1"), newTestCA(t, "ca2")
	var lastAuth atomic.Pointer[string]
	srv := newTLSServer(t, ca1.serverCert(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		lastAuth.Store(&auth)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"client_id":"x"}`)
	}))
	dir := t.TempDir()
	tokenFile, caFile := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	writeRenamed(t, tokenFile, "token-0")
	writeRenamed(t, caFile, ca1.pem+ca2.pem)
	hc, err := New(Options{AdminURL: srv.URL, BearerTokenFile: tokenFile, CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := hc.Get(context.Background(), "x"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 1; i <= 20; i++ {
		writeRenamed(t, tokenFile, fmt.Sprintf("token-%d", i))
		// The same CAs in the other order: a new file with new content each time.
		if i%2 == 1 {
			writeRenamed(t, caFile, ca2.pem+ca1.pem)
		} else {
			writeRenamed(t, caFile, ca1.pem+ca2.pem)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a request while the files changed: %v", err)
	}
	getN(t, hc, 1)
	if got := *lastAuth.Load(); got != "Bearer token-20" {
		t.Errorf("after the last change the client sent %q, want the last token", got)
	}
}

// --- What it costs -------------------------------------------------------------------------

// BenchmarkTokenUnchanged is the cost each request pays to look for a changed token file: a
// stat once the file is older than racyWindow, and a read and comparison within it.
func BenchmarkTokenUnchanged(b *testing.B) {
	for _, layout := range []string{"plain file", "kubelet symlinks"} {
		for _, age := range []time.Duration{time.Minute, 0} {
			b.Run(fmt.Sprintf("%s, written %s ago", layout, age), func(b *testing.B) {
				path := benchTokenFile(b, layout)
				mtime := time.Now().Add(-age)
				if err := os.Chtimes(path, mtime, mtime); err != nil {
					b.Fatal(err)
				}
				f, err := newTokenFile(path, logr.Discard())
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if token, _ := f.current(); token == "" {
						b.Fatal("no token")
					}
				}
			})
		}
	}
}

// BenchmarkTokenReadEachTime is the alternative of reading the file on every request.
func BenchmarkTokenReadEachTime(b *testing.B) {
	path := benchTokenFile(b, "kubelet symlinks")
	for b.Loop() {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parseToken(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet is a request to a server on the loopback interface, far faster than a real
// Hydra: with a token fixed at start, and from a file that is checked on every request.
func BenchmarkGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"client_id":"x"}`)
	}))
	b.Cleanup(srv.Close)
	path := benchTokenFile(b, "kubelet symlinks")
	for name, opts := range map[string]Options{
		"static token": {AdminURL: srv.URL, BearerToken: "token-0123456789"},
		"token file":   {AdminURL: srv.URL, BearerTokenFile: path},
	} {
		b.Run(name, func(b *testing.B) {
			hc, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := hc.Get(context.Background(), "x"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchTokenFile(b *testing.B, layout string) string {
	b.Helper()
	if layout == "plain file" {
		path := filepath.Join(b.TempDir(), "token")
		if err := os.WriteFile(path, []byte("token-0123456789\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		return path
	}
	return (&kubeletDir{dir: b.TempDir()}).write(b, "token", "token-0123456789\n")
}
