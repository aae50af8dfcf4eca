package hydra

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// In Kubernetes the admin token and the CA bundle are files mounted from a Secret or a
// ConfigMap, and the kubelet replaces them when the Secret changes. The operator looks at them
// again on every request and re-reads them only when a stat says they may have changed, so that
// a rotated token or CA takes effect with the next request and no restart. Measured on a 2-core
// VM (go test -bench 'Token|Get' ./internal/hydra): the stat costs 3 µs, reading and comparing
// the file 25 µs (only within racyWindow of a change), and a whole request to a server on the
// loopback interface 81 µs with a fixed token and 85 µs with the token file; a real Hydra
// answers in milliseconds.

// fileStamp identifies one version of a file as os.Stat, which follows symlinks, sees it: the
// kubelet's atomic update (a new timestamped directory, then the ..data symlink swapped to it)
// and a writer that renames a new file over the old one both give a new inode; a writer that
// rewrites the file in place changes its modification time or size.
type fileStamp struct {
	info os.FileInfo // nil when the stat failed
}

func statFile(path string) fileStamp {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{info: info}
}

// same reports whether s and o are the same version of the file. Two failed stats count as the
// same, so that a missing file is reported once rather than on every request.
func (s fileStamp) same(o fileStamp) bool {
	if s.info == nil || o.info == nil {
		return s.info == nil && o.info == nil
	}
	return os.SameFile(s.info, o.info) && s.info.ModTime().Equal(o.info.ModTime()) && s.info.Size() == o.info.Size()
}

// racyWindow is how long after a file's modification time its stamp is not trusted alone: a
// rewrite in place within the same tick of the file system's clock (milliseconds on ext4 and
// tmpfs, up to two seconds on others) would leave modification time, size and inode as they
// were. Until the stamp is this old, every look reads the file and compares the content, as git
// does with its "racily clean" index entries.
const racyWindow = 2 * time.Second

// fileValue is the last good value parsed from a file that may change while the operator runs.
// A version of the file that can't be read or parsed keeps the last good value and is logged
// once; the next change is read again.
type fileValue[T any] struct {
	path  string
	what  string // names the file in errors and logs, such as "hydra CA file"
	parse func([]byte) (T, error)
	log   logr.Logger

	mu        sync.Mutex
	stamp     fileStamp
	stampedAt time.Time
	// read is what the file held at the last read: its content, or why it couldn't be read.
	read  readResult
	value T
}

// readResult is one read of a file, compared with the previous read to tell a change.
type readResult struct {
	data []byte
	err  string
}

func (r readResult) equal(o readResult) bool { return r.err == o.err && bytes.Equal(r.data, o.data) }

// newFileValue reads the file at path once. Unlike a later change, a file that can't be read or
// parsed at start is an error, so that a wrong path fails the start-up rather than every
// request; the returned fileValue then holds the zero value, for a caller that accepts that.
func newFileValue[T any](path, what string, parse func([]byte) (T, error), log logr.Logger) (*fileValue[T], error) {
	f := &fileValue[T]{path: path, what: what, parse: parse, log: log}
	v, err := f.load()
	if err == nil {
		f.value = v
	}
	return f, err
}

// load reads and parses the file and records its stamp, taken before the read: a change between
// the two is then seen as a change next time.
func (f *fileValue[T]) load() (T, error) {
	f.stamp, f.stampedAt = statFile(f.path), time.Now()
	data, err := os.ReadFile(f.path)
	f.read = readResult{data: data}
	if err != nil {
		f.read = readResult{err: err.Error()}
		var zero T
		return zero, fmt.Errorf("reading %s: %w", f.what, err)
	}
	v, err := f.parse(data)
	if err != nil {
		return v, fmt.Errorf("%s %s: %w", f.what, f.path, err)
	}
	return v, nil
}

// unchanged reports whether the file is as it was at the last read, from its stamp alone once
// that is older than racyWindow.
func (f *fileValue[T]) unchanged() bool {
	if !statFile(f.path).same(f.stamp) {
		return false
	}
	return f.stamp.info == nil || f.stampedAt.Sub(f.stamp.info.ModTime()) >= racyWindow
}

// current returns the file's value, re-reading the file first when it changed since the last
// look; changed reports whether it returns a new value. The same content (the kubelet rewrites
// every key of a Secret when one changes) or the same error is no change.
func (f *fileValue[T]) current() (value T, changed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unchanged() {
		return f.value, false
	}
	last := f.read
	v, err := f.load()
	if f.read.equal(last) {
		return f.value, false
	}
	if err != nil {
		// The error names the file and what is wrong with it, never its content.
		f.log.Error(err, "Keeping the last good value: the file changed but can't be used", "what", f.what, "file", f.path)
		return f.value, false
	}
	f.log.Info("Re-read a changed file", "what", f.what, "file", f.path)
	f.value = v
	return v, true
}

// errEmptyToken is a token file with nothing but whitespace in it.
var errEmptyToken = errors.New("is empty")

// parseToken is the token in a token file: its content without surrounding whitespace (an editor
// or kubectl adds a final newline). It refuses an empty token and one an HTTP header can't carry;
// the error never holds the token.
func parseToken(data []byte) (string, error) {
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", errEmptyToken
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("holds a control character, which an HTTP header can't carry")
	}
	return token, nil
}

// newTokenFile reads the bearer token in path. An empty file at start means no token, as it did
// before the file was re-read, and a token written later is used; an empty file after a change
// keeps the last good token.
func newTokenFile(path string, log logr.Logger) (*fileValue[string], error) {
	f, err := newFileValue(path, "hydra admin token file", parseToken, log)
	if err != nil && !errors.Is(err, errEmptyToken) {
		return nil, err
	}
	return f, nil
}

// parseCABundle is the pool of the PEM certificates in data.
func parseCABundle(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// bearerTransport puts the current token into each request to the admin API's host. A transport
// rather than the SDK's default header, which is fixed when the client is built, so that a
// rotated token is sent with the next request. The client follows no redirects (newHTTPClient),
// and the host check keeps the token from any other host all the same.
type bearerTransport struct {
	next  http.RoundTripper
	host  string
	token func() string
}

// RoundTrip implements http.RoundTripper.
func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token := t.token()
	if token == "" || !strings.EqualFold(req.URL.Host, t.host) {
		return t.next.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given.
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+token)
	return t.next.RoundTrip(req)
}

// basicTransport sends HTTP basic credentials with each request to the admin API's host, as
// bearerTransport sends a token.
type basicTransport struct {
	next               http.RoundTripper
	host               string
	username, password string
}

// RoundTrip implements http.RoundTripper.
func (t *basicTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, t.host) {
		return t.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.SetBasicAuth(t.username, t.password)
	return t.next.RoundTrip(req)
}

// withClientCertificate is cfg (nil: the defaults) presenting cert in handshakes; cfg itself
// when cert is nil. The caller's cfg is not changed, since CA-file rotation rebuilds from it.
func withClientCertificate(cfg *tls.Config, cert *tls.Certificate) *tls.Config {
	if cert == nil {
		return cfg
	}
	if cfg == nil {
		cfg = tlsConfig(nil)
	} else {
		cfg = cfg.Clone()
	}
	cfg.Certificates = []tls.Certificate{*cert}
	return cfg
}

// caFileTransport sends requests through a transport that trusts the CA bundle last read from a
// file. When the bundle changes it builds a new transport and closes the old one's idle
// connections, so that every connection after the change verifies against the new pool, with
// Go's own verification. A request in flight during the change finishes on its old connection,
// which then idles in the old transport until its idle timeout closes it; nothing uses it again.
type caFileTransport struct {
	ca    *fileValue[*x509.CertPool]
	build func(*tls.Config) *http.Transport

	mu sync.Mutex
	tr *http.Transport
}

// newCAFileTransport starts with the pool ca read at start; ca is not shared yet.
func newCAFileTransport(ca *fileValue[*x509.CertPool], build func(*tls.Config) *http.Transport) *caFileTransport {
	return &caFileTransport{ca: ca, build: build, tr: build(tlsConfig(ca.value))}
}

// tlsConfig trusts pool, in place of the system's roots.
func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// transport is the transport for the CA bundle as the file holds it now.
func (t *caFileTransport) transport() *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pool, changed := t.ca.current(); changed {
		old := t.tr
		t.tr = t.build(tlsConfig(pool))
		old.CloseIdleConnections()
	}
	return t.tr
}

// RoundTrip implements http.RoundTripper.
func (t *caFileTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.transport().RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the current transport.
func (t *caFileTransport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tr.CloseIdleConnections()
}
