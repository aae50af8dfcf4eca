package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// startStaging starts a second Hydra, "staging", for the user guide's walkthrough of one cluster
// with two authorization servers. Its admin API is reached only through a gateway that wants a
// bearer token, as in a hardened installation, so the walkthrough shows admin authentication
// too. It serves client_credentials only: the login app signs in at the first Hydra.
func (e *localEnv) startStaging(ctx context.Context) error {
	say("starting a second Hydra (staging), its admin API behind a bearer-token gateway")
	stagingLog, err := e.logFile("hydra-staging.log")
	if err != nil {
		return err
	}
	if e.staging, err = testenv.StartHydra(ctx, testenv.HydraOptions{Bin: e.c.hydra, Log: stagingLog}); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.staging.Stop)
	if e.stagingToken, err = randomToken(); err != nil {
		return err
	}
	gateway, err := newBearerGateway(e.staging.AdminURL(), e.stagingToken)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.stagingAdminURL = "http://" + l.Addr().String()
	srv := &http.Server{Handler: gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	e.cleanups = append(e.cleanups, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	})
	return nil
}

// newBearerGateway forwards to target the requests that carry "Authorization: Bearer <token>"
// and answers 401 to the others.
func newBearerGateway(target, token string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hydra-admin"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	}), nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeEnvFile writes what a reader sources to use the environment. The staging token is the
// admin credential a platform's administrator would hand out; it is in this file (mode 0600),
// for the walkthrough's Secret, and nowhere else.
func (e *localEnv) writeEnvFile(context.Context) error {
	envText := fmt.Sprintf("export KUBECONFIG=%s\nexport HYDRA_ADMIN_URL=%s\nexport HYDRA_PUBLIC_URL=%s\nexport ISSUER=%s\nexport LOGIN_APP_URL=%s\n"+
		"export STAGING_ADMIN_URL=%s\nexport STAGING_PUBLIC_URL=%s\nexport STAGING_ADMIN_TOKEN=%s\nexport PATH=%s:$PATH\n",
		shellQuote(e.kubeconfig), e.hydra.AdminURL(), e.hydra.PublicURL(), shellQuote(e.issuer), e.loginURL,
		e.stagingAdminURL, e.staging.PublicURL(), e.stagingToken, shellQuote(filepath.Dir(e.cp.KubectlPath)))
	return os.WriteFile(e.envFile, []byte(envText), 0o600)
}
