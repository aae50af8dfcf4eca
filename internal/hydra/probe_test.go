package hydra

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// adminAPI answers /version and /admin/clients like Hydra's admin API, but only to requests
// that authorized decides to let through; the others get 401 with a body that echoes the
// Authorization header, as a careless gateway might.
func adminAPI(t *testing.T, authorized func(*http.Request) bool) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !authorized(r) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"unauthorized","error_description":"refused `+r.Header.Get("Authorization")+`"}`)
			return
		}
		switch r.URL.Path {
		case "/version":
			_, _ = io.WriteString(w, `{"version":"v2.3.0"}`)
		case "/admin/clients":
			_, _ = io.WriteString(w, `[]`)
		default:
			http.NotFound(w, r)
		}
	})
}

// Each way to authenticate reaches the server: right credentials give the version, wrong ones
// an error IsUnauthorized recognises, which never contains the token or password sent.
func TestProbeAuthentication(t *testing.T) {
	bearer := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer right-token" }
	basic := func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == "admin" && p == "right-password"
	}
	// A gateway that lets /version through but guards the clients.
	clientsOnly := func(r *http.Request) bool { return r.URL.Path == "/version" || bearer(r) }
	for _, tc := range []struct {
		name         string
		authorized   func(*http.Request) bool
		opts         Options
		unauthorized bool
		secret       string
	}{
		{"bearer token", bearer, Options{BearerToken: "right-token"}, false, ""},
		{"wrong bearer token", bearer, Options{BearerToken: "wrong-token"}, true, "wrong-token"},
		{"no credentials", bearer, Options{}, true, ""},
		{"basic", basic, Options{BasicUsername: "admin", BasicPassword: "right-password"}, false, ""},
		{"wrong basic password", basic, Options{BasicUsername: "admin", BasicPassword: "wrong-password"}, true, "wrong-password"},
		{"wrong basic password, as the header carries it", basic, Options{BasicUsername: "admin", BasicPassword: "wrong-password"}, true, "YWRtaW46d3JvbmctcGFzc3dvcmQ="},
		{"open /version, wrong token for clients", clientsOnly, Options{BearerToken: "wrong-token"}, true, "wrong-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(adminAPI(t, tc.authorized))
			defer srv.Close()
			tc.opts.AdminURL = srv.URL
			version, err := Probe(context.Background(), tc.opts)
			switch {
			case tc.unauthorized && !IsUnauthorized(err):
				t.Fatalf("want an unauthorized error, got version %q, error %v", version, err)
			case !tc.unauthorized && (err != nil || version != "v2.3.0"):
				t.Fatalf("want version v2.3.0, got %q, %v", version, err)
			case tc.secret != "" && strings.Contains(err.Error(), tc.secret):
				t.Fatalf("the error reveals the credential: %v", err)
			}
		})
	}
}

// A server that is down is unreachable, not unauthorized, so that the caller retries.
func TestProbeUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := Probe(context.Background(), Options{AdminURL: url})
	if cause, _ := Availability(err); cause != CauseUnreachable {
		t.Fatalf("cause %q for %v; want %q", cause, err, CauseUnreachable)
	}
}

// A bearer token and basic credentials together are refused: which one the server wants is
// not for the adapter to guess.
func TestBearerAndBasicTogether(t *testing.T) {
	_, err := New(Options{AdminURL: "http://hydra-admin:4445", BearerToken: "t", BasicUsername: "u"})
	if err == nil {
		t.Fatal("accepted a bearer token and basic credentials together")
	}
}

// Basic credentials go only to the admin API's host, and leave the caller's request alone.
func TestBasicTransportOnlyToTheAdminHost(t *testing.T) {
	var got []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})
	rt := &basicTransport{next: next, host: "hydra-admin:4445", username: "u", password: "p"}
	for _, tc := range []struct{ url, want string }{
		{"http://hydra-admin:4445/admin/clients", "Basic dTpw"},
		{"http://login.example.com/admin/clients", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got[len(got)-1] != tc.want || req.Header.Get("Authorization") != "" {
			t.Errorf("%s: sent %q, want %q (caller's request: %q)", tc.url, got[len(got)-1], tc.want, req.Header.Get("Authorization"))
		}
	}
}

// A server that requires a client certificate signed by its CA accepts the probe with
// ClientCertificate set, and refuses it without.
func TestProbeClientCertificate(t *testing.T) {
	ca := newTestCA(t, "test CA")
	clientCA := newTestCA(t, "client CA")
	clients := x509.NewCertPool()
	clients.AddCert(clientCA.cert)
	srv := httptest.NewUnstartedServer(adminAPI(t, func(*http.Request) bool { return true }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*ca.serverCert(t)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the first probe's handshake fails
	srv.StartTLS()
	defer srv.Close()
	opts := Options{AdminURL: srv.URL, CABundle: []byte(ca.pem)}
	if _, err := Probe(context.Background(), opts); err == nil {
		t.Fatal("the server accepted a probe without a client certificate: the test proves nothing")
	}
	opts.ClientCertificate = clientCA.clientCert(t)
	if version, err := Probe(context.Background(), opts); err != nil || version != "v2.3.0" {
		t.Fatalf("with a client certificate: %q, %v", version, err)
	}
}

// clientCert is a client certificate that ca signed.
func (ca *testCA) clientCert(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "oauth2-client-operator"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Probe's requests stay out of the request metrics: a broken server object must not move the
// error rate of the operator's own Hydra.
func TestProbeIsNotCounted(t *testing.T) {
	srv := httptest.NewServer(adminAPI(t, func(*http.Request) bool { return false }))
	defer srv.Close()
	registerMetrics()
	if _, err := Probe(context.Background(), Options{AdminURL: srv.URL}); !IsUnauthorized(err) {
		t.Fatalf("want unauthorized, got %v", err)
	}
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues("default", "version", "401")); got != 0 {
		t.Fatalf("%v probe requests counted", got)
	}
}
