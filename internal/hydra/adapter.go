package hydra

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	hydraclient "github.com/ory/hydra-client-go/v2"
)

const (
	// DefaultTimeout bounds one request to the admin API. Hydra answers in milliseconds; a
	// request that takes longer is stuck, and the reconciler is better off retrying.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxIdleConnsPerHost keeps enough connections to Hydra open for the reconciler's
	// workers; Go's default of 2 would make most requests open a new connection.
	DefaultMaxIdleConnsPerHost = 16
	// DefaultUserAgent identifies the operator in Hydra's and gateways' access logs.
	DefaultUserAgent = "oauth2-client-operator"

	// maxPageSize is the largest page Hydra serves; larger requests are capped rather than
	// refused.
	maxPageSize = 1000
)

// Options configures the connection to Hydra's admin API.
type Options struct {
	// AdminURL is the base URL of the admin API, such as http://hydra-admin:4445.
	AdminURL string
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// BearerToken, when set, is sent as "Authorization: Bearer" with every request, for admin
	// APIs behind an authenticating gateway. It is never logged or put into errors.
	BearerToken string
	// BearerTokenFile, when set instead of BearerToken, names a file with the token (surrounding
	// whitespace trimmed). It is re-read when it changes, so that a rotated Secret takes effect
	// without a restart; a change to an empty or unreadable file keeps the last good token. An
	// unreadable file at start is an error of New; an empty one means no token until one is
	// written.
	BearerTokenFile string
	// BasicUsername and BasicPassword, when BasicUsername is set, are sent as HTTP basic
	// authentication to the admin API's host, for gateways that want it; never with a bearer
	// token. The password is never logged or put into errors.
	BasicUsername, BasicPassword string
	// ClientCertificate, when set, is presented in TLS handshakes, for admin APIs that
	// authenticate clients by certificate (mutual TLS).
	ClientCertificate *tls.Certificate
	// CABundle holds PEM certificates to trust for TLS to Hydra, in place of the system's.
	CABundle []byte
	// CAFile, when set instead of CABundle, names a file with the PEM certificates. It is re-read
	// when it changes: connections made after the change verify against the new certificates,
	// and a bundle without a certificate keeps the last good one.
	CAFile string
	// Log receives the errors of re-reading BearerTokenFile and CAFile (never their content) and
	// notes that they were re-read; the zero value discards them.
	Log logr.Logger
	// MaxIdleConnsPerHost is how many idle keep-alive connections to keep; zero means
	// DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
	// UserAgent is sent with every request; empty means DefaultUserAgent.
	UserAgent string
	// Server names the authorization server in the request metrics' server label; empty means
	// "default", the server of the operator's flags.
	Server string
	// WrapTransport, when set, wraps the HTTP transport: the last place a request passes
	// before it leaves the process (the operator's leader-election write fence sits there).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// WrapConn, when set, wraps every connection the transport opens (before TLS): the
	// operator's write fence checks there too, right before bytes leave the process.
	WrapConn func(net.Conn) net.Conn
}

// adapter implements Client with the SDK's OAuth2API on one shared HTTP client, so that all
// reconcilers reuse the same keep-alive connections.
type adapter struct {
	api     hydraclient.OAuth2API
	timeout time.Duration
	// unobserved keeps the calls out of the request metrics, which are about the servers the
	// operator registers clients at: Probe's health checks must not move their alerts.
	unobserved bool
	// server is the metrics' server label.
	server string
	// http and base serve the calls the adapter sends without the SDK (rotate.go, list.go).
	http      *http.Client
	base      string
	userAgent string
}

var _ Client = (*adapter)(nil)

// New returns a Client for the admin API at opts.AdminURL. It does not contact Hydra: the
// operator must start (and report its health) while Hydra is still down.
func New(opts Options) (Client, error) {
	api, err := newAPIClient(opts)
	if err != nil {
		return nil, err
	}
	cfg := api.GetConfig()
	return &adapter{api: api.OAuth2API, timeout: requestTimeout(opts), server: withDefault(opts.Server, "default"),
		http: cfg.HTTPClient, base: cfg.Servers[0].URL, userAgent: cfg.UserAgent}, nil
}

// newAPIClient is the SDK's client of the admin API at opts.AdminURL, with opts' credentials,
// TLS and transport settings; New and Probe share it.
func newAPIClient(opts Options) (*hydraclient.APIClient, error) {
	base, err := baseURL("hydra admin URL", opts.AdminURL)
	if err != nil {
		return nil, err
	}
	httpClient, err := newHTTPClient(opts)
	if err != nil {
		return nil, err
	}
	// Outside WrapTransport, so that the write fence stays the last step before the network.
	if httpClient.Transport, err = withAuthorization(httpClient.Transport, hostOf(base), opts); err != nil {
		return nil, err
	}
	registerMetrics()
	cfg := hydraclient.NewConfiguration()
	cfg.Servers = hydraclient.ServerConfigurations{{URL: base}}
	cfg.HTTPClient = httpClient
	cfg.UserAgent = withDefault(opts.UserAgent, DefaultUserAgent)
	return hydraclient.NewAPIClient(cfg), nil
}

// withAuthorization wraps next to send opts' bearer token or basic credentials to host, when
// there are any; both at once is an error.
func withAuthorization(next http.RoundTripper, host string, opts Options) (http.RoundTripper, error) {
	token, err := tokenSource(opts)
	if err != nil {
		return nil, err
	}
	switch {
	case token != nil && opts.BasicUsername != "":
		return nil, errors.New("hydra options: a bearer token and basic credentials are both set")
	case token != nil:
		return &bearerTransport{next: next, host: host, token: token}, nil
	case opts.BasicUsername != "":
		return &basicTransport{next: next, host: host, username: opts.BasicUsername, password: opts.BasicPassword}, nil
	}
	return next, nil
}

// tokenSource returns the current bearer token, from opts.BearerTokenFile or opts.BearerToken;
// nil when there is none.
func tokenSource(opts Options) (func() string, error) {
	switch {
	case opts.BearerTokenFile != "" && opts.BearerToken != "":
		return nil, errors.New("hydra options: BearerToken and BearerTokenFile are both set")
	case opts.BearerTokenFile != "":
		f, err := newTokenFile(opts.BearerTokenFile, opts.Log)
		if err != nil {
			return nil, err
		}
		return func() string { token, _ := f.current(); return token }, nil
	case opts.BearerToken != "":
		return func() string { return opts.BearerToken }, nil
	}
	return nil, nil
}

// hostOf is the host[:port] of base, which baseURL checked.
func hostOf(base string) string {
	u, _ := url.Parse(base)
	return u.Host
}

// baseURL checks that raw, named what in errors, is an absolute http(s) URL and drops
// trailing slashes, so that the SDK's paths can be appended.
func baseURL(what, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%s %q: must be an absolute http or https URL", what, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// newHTTPClient is the client for requests to Hydra: its TLS settings, keep-alive connections
// and opts.WrapTransport, without the bearer token (New adds it; Discover must not send it).
func newHTTPClient(opts Options) (*http.Client, error) {
	rt, err := baseTransport(opts)
	if err != nil {
		return nil, err
	}
	if opts.WrapTransport != nil {
		rt = opts.WrapTransport(rt)
	}
	return &http.Client{
		Transport: rt,
		// The admin API does not redirect. A redirect comes from something in between (a
		// login page, http to https) and following it would turn a write into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// baseTransport is the transport to Hydra, trusting opts.CAFile or opts.CABundle when set.
func baseTransport(opts Options) (http.RoundTripper, error) {
	build := func(tlsConfig *tls.Config) *http.Transport {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = opts.MaxIdleConnsPerHost
		if transport.MaxIdleConnsPerHost <= 0 {
			transport.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		}
		transport.MaxIdleConns = max(transport.MaxIdleConns, transport.MaxIdleConnsPerHost)
		transport.TLSClientConfig = withClientCertificate(tlsConfig, opts.ClientCertificate)
		if wrap := opts.WrapConn; wrap != nil {
			dial := transport.DialContext
			transport.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
				c, err := dial(ctx, network, address)
				if err != nil {
					return nil, err
				}
				return wrap(c), nil
			}
		}
		return transport
	}
	switch {
	case opts.CAFile != "" && len(opts.CABundle) > 0:
		return nil, errors.New("hydra options: CABundle and CAFile are both set")
	case opts.CAFile != "":
		ca, err := newFileValue(opts.CAFile, "hydra CA file", parseCABundle, opts.Log)
		if err != nil {
			return nil, err
		}
		return newCAFileTransport(ca, build), nil
	case len(opts.CABundle) > 0:
		pool, err := parseCABundle(opts.CABundle)
		if err != nil {
			return nil, fmt.Errorf("hydra CA bundle: %w", err)
		}
		return build(tlsConfig(pool)), nil
	}
	return build(nil), nil
}

// requestTimeout is opts.Timeout, or DefaultTimeout when unset.
func requestTimeout(opts Options) time.Duration {
	if opts.Timeout <= 0 {
		return DefaultTimeout
	}
	return opts.Timeout
}

func withDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// call runs one SDK request with the per-request timeout, records it in the metrics and
// converts its error. secret is redacted from whatever Hydra answers.
func call[T any](ctx context.Context, a *adapter, op, secret string,
	do func(ctx context.Context) (T, *http.Response, error)) (T, *http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	start := time.Now()
	out, resp, err := do(ctx)
	if !a.unobserved {
		observe(a.server, op, resp, time.Since(start))
	}
	return out, resp, errorFor(op, resp, err, secret)
}

// Get implements Client.
func (a *adapter) Get(ctx context.Context, id string) (*OAuth2Client, error) {
	if id == "" {
		return nil, errors.New("hydra get: empty client ID")
	}
	c, _, err := call(ctx, a, "get", "", func(ctx context.Context) (*OAuth2Client, *http.Response, error) {
		return a.api.GetOAuth2Client(ctx, id).Execute()
	})
	return c, err
}

// Create implements Client.
func (a *adapter) Create(ctx context.Context, c *OAuth2Client) (*OAuth2Client, error) {
	if err := checkNewID(c.GetClientId()); err != nil {
		return nil, err
	}
	out, _, err := call(ctx, a, "create", c.GetClientSecret(), func(ctx context.Context) (*OAuth2Client, *http.Response, error) {
		return a.api.CreateOAuth2Client(ctx).OAuth2Client(*c).Execute()
	})
	return withoutRegistrationToken(out), err
}

// withoutRegistrationToken drops the registration access token Hydra returns with a new
// client. It is a credential for the dynamic client registration endpoint, which the operator
// never uses; dropping it keeps it out of anything that logs or stores the returned client.
func withoutRegistrationToken(c *OAuth2Client) *OAuth2Client {
	if c != nil {
		c.RegistrationAccessToken = nil
	}
	return c
}

// checkNewID refuses client IDs Hydra would store but could never find again: every path
// with the ID escaped answers 404, so the client would be lost for good. The refusal looks
// like Hydra's own 400 for an invalid field, so that callers handle it the same way.
func checkNewID(id string) error {
	if strings.Contains(id, "/") {
		return &APIError{Op: "create", StatusCode: http.StatusBadRequest, Code: "invalid_client_id",
			Description: fmt.Sprintf("client ID %q contains '/': Hydra would store it but could never read, update or delete it", id)}
	}
	return nil
}

// Update implements Client.
func (a *adapter) Update(ctx context.Context, id string, c *OAuth2Client) (*OAuth2Client, error) {
	if id == "" {
		return nil, errors.New("hydra update: empty client ID")
	}
	out, _, err := call(ctx, a, "update", c.GetClientSecret(), func(ctx context.Context) (*OAuth2Client, *http.Response, error) {
		return a.api.SetOAuth2Client(ctx, id).OAuth2Client(*c).Execute()
	})
	return withoutRegistrationToken(out), err
}

// Delete implements Client.
func (a *adapter) Delete(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("hydra delete: empty client ID")
	}
	_, _, err := call(ctx, a, "delete", "", func(ctx context.Context) (struct{}, *http.Response, error) {
		resp, err := a.api.DeleteOAuth2Client(ctx, id).Execute()
		return struct{}{}, resp, err
	})
	return err
}

// List implements Client. Hydra's page token is an offset into the clients ordered by ID, so
// clients created or deleted while List runs can make it skip or repeat one; callers that
// act on absence (garbage collection) should confirm with Get.
func (a *adapter) List(ctx context.Context, ownerFilter string, pageSize int, fn func(page []OAuth2Client) error) error {
	token := ""
	for {
		page, next, err := a.listPageWithRetries(ctx, ownerFilter, pageSize, token)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			// Hydra offers a next link even after the last client.
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if next == "" || next == token {
			return nil
		}
		token = next
	}
}

// pageAttempts is how often List reads a page that fails with a transient error before it
// gives up, and pageRetryWait the wait before the first retry (doubled each time). Hydra's
// SQL databases refuse a read that overlaps a write with "400 Unable to serialize access due
// to a concurrent update", which is over in milliseconds; without a retry one such answer
// ended the whole drift scan, and the next interval read every page again.
const (
	pageAttempts  = 3
	pageRetryWait = 100 * time.Millisecond
)

// listPageWithRetries is listPage, read again after a transient failure (pageAttempts).
func (a *adapter) listPageWithRetries(ctx context.Context, owner string, pageSize int, token string) ([]OAuth2Client, string, error) {
	wait := pageRetryWait
	for attempt := 1; ; attempt++ {
		page, next, err := a.listPage(ctx, owner, pageSize, token)
		if err == nil || attempt == pageAttempts || !IsTransient(err) {
			return page, next, err
		}
		select {
		case <-ctx.Done():
			return nil, "", err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// statusLabel is the code label of the request metrics: the HTTP status, or "error" when no
// answer arrived.
func statusLabel(resp *http.Response) string {
	if resp == nil {
		return "error"
	}
	return strconv.Itoa(resp.StatusCode)
}
