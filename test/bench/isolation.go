package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// IsolationResult is the server isolation phase: how long the clients of server B take to
// converge while server A answers, and while A hangs, each time with as many new clients of A
// created alongside. The ratio is the cost of A's outage to B's clients.
type IsolationResult struct {
	Clients         int     `json:"clients"`
	ATimeout        string  `json:"a_timeout"`
	BaselineSeconds float64 `json:"baseline_seconds"`
	HangingSeconds  float64 `json:"hanging_seconds"`
	Ratio           float64 `json:"ratio"`
}

const (
	isolationNamespace = "isolation"
	// isolationTimeout is server A's spec.timeout: how long a request to the hanging A holds
	// a worker before A's circuit opens.
	isolationTimeout = "5s"
)

// serverIsolation runs last, on the operator of the last restart: two AuthorizationServers in
// front of the bench's Hydra, A through a proxy that can hang and B straight to it. A warm-up
// round opens both servers' connections; then B's clients converge once while A answers and once
// while A hangs, each round creating min(N, 200) clients of each server at the same moment.
func (b *bench) serverIsolation(ctx context.Context) error {
	m := min(b.cfg.n, 200)
	proxyA, err := startHangingProxy(b.hydra.AdminURL())
	if err != nil {
		return err
	}
	defer proxyA.Close()
	if err := b.createNamespaces(ctx, []string{isolationNamespace}); err != nil {
		return err
	}
	for _, s := range []struct{ name, adminURL string }{{"a", proxyA.URL()}, {"b", b.hydra.AdminURL()}} {
		server := &v1alpha1.AuthorizationServer{
			ObjectMeta: metav1.ObjectMeta{Namespace: isolationNamespace, Name: s.name},
			Spec:       v1alpha1.AuthorizationServerSpec{Type: "Hydra", AdminURL: s.adminURL, PublicURL: b.hydra.PublicURL(), Timeout: isolationTimeout},
		}
		if err := b.k8s.Create(ctx, server); err != nil {
			return fmt.Errorf("creating server %s: %w", s.name, err)
		}
	}
	round := func(label string) (float64, error) {
		start := time.Now()
		err := parallel(ctx, b.cfg.createWorkers, 2*m, func(ctx context.Context, i int) error {
			server := []string{"a", "b"}[i%2]
			obj := &v1alpha1.OAuth2Client{
				ObjectMeta: metav1.ObjectMeta{Namespace: isolationNamespace, Name: fmt.Sprintf("%s-%s-%04d", label, server, i/2)},
				Spec: v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"},
					AuthorizationServerRef: &v1alpha1.AuthorizationServerReference{Kind: v1alpha1.AuthorizationServerKindNamespaced, Name: server}},
			}
			return retry(ctx, 5, func() error { return b.k8s.Create(ctx, obj) })
		})
		if err != nil {
			return 0, fmt.Errorf("%s: creating: %w", label, err)
		}
		prefix := isolationNamespace + "/" + label + "-b-"
		if err := b.waitUntil(ctx, "server isolation: "+label, b.cfg.phaseTimeout, pollInterval, func() string { return b.tracker.progressOf(prefix).String() }, func() (bool, error) {
			p := b.tracker.progressOf(prefix)
			return p.Present == m && p.Done == m, nil
		}); err != nil {
			return 0, err
		}
		seconds := b.tracker.progressOf(prefix).LastDone.Sub(start).Seconds()
		logf("server isolation: %s: B's %d clients Ready in %.2fs", label, m, seconds)
		return seconds, nil
	}
	if _, err := round("warm"); err != nil {
		return err
	}
	baseline, err := round("calm")
	if err != nil {
		return err
	}
	proxyA.hanging.Store(true)
	hanging, err := round("hang")
	if err != nil {
		return err
	}
	b.res.Isolation = &IsolationResult{Clients: m, ATimeout: isolationTimeout, BaselineSeconds: baseline, HangingSeconds: hanging, Ratio: hanging / baseline}
	return b.confirmIsolation(ctx, m)
}

// confirmIsolation checks that the hanging round measured what it claims: A's clients of that
// round are not Ready (A did hang), B's are.
func (b *bench) confirmIsolation(ctx context.Context, m int) error {
	var list v1alpha1.OAuth2ClientList
	if err := b.k8s.List(ctx, &list, client.InNamespace(isolationNamespace)); err != nil {
		return err
	}
	readyA := 0
	for _, obj := range list.Items {
		if strings.HasPrefix(obj.Name, "hang-a-") && meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionReady) {
			readyA++
		}
	}
	if readyA > 0 {
		return fmt.Errorf("server isolation: %d of A's %d clients became Ready while A hung: the proxy did not hang", readyA, m)
	}
	return nil
}

// hangingProxy forwards to Hydra's admin API until hanging is set; then it holds every request
// until the client gives up, as a server that accepts connections but never answers.
type hangingProxy struct {
	hanging  atomic.Bool
	listener net.Listener
	server   *http.Server
}

func startHangingProxy(target string) (*hangingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &hangingProxy{listener: l}
	forward := httputil.NewSingleHostReverseProxy(u)
	p.server = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.hanging.Load() {
			<-r.Context().Done()
			return
		}
		forward.ServeHTTP(w, r)
	})}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

func (p *hangingProxy) URL() string { return "http://" + p.listener.Addr().String() }

func (p *hangingProxy) Close() { _ = p.server.Close() }
