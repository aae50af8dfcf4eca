package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Profiles names the profile files a run saved in its log folder, to read with
// `go tool pprof -top FILE`: they show where the API server's CPU time and the operator's
// memory go, which the figures alone do not.
type Profiles struct {
	// APIServerCPU is the kube-apiserver's CPU profile over the first APIServerSeconds of
	// converge.
	APIServerCPU     string  `json:"apiserver_cpu,omitempty"`
	APIServerSeconds float64 `json:"apiserver_seconds,omitempty"`
	// OperatorHeap is the operator's heap profile when converge ended (in use and allocated).
	OperatorHeap string `json:"operator_heap,omitempty"`
	// Errors are the profiles that could not be taken; the run goes on without them.
	Errors []string `json:"errors,omitempty"`
}

// apiServerProfileSeconds is how long the API server is profiled from the start of converge:
// a tenth of the clients' worth of seconds, within 5 s and 30 s, so that the window holds the
// busy part of converge at any N.
func apiServerProfileSeconds(n int) int { return min(30, max(5, n/100)) }

// profileAPIServer takes the API server's CPU profile for seconds and saves it in the log
// folder; it runs beside converge and records an error instead of failing the run.
func (b *bench) profileAPIServer(ctx context.Context, seconds int) {
	path := filepath.Join(b.logDir, "kube-apiserver-converge.pprof")
	err := func() error {
		cs, err := kubernetes.NewForConfig(b.cp.Config)
		if err != nil {
			return err
		}
		raw, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", fmt.Sprint(seconds)).
			Timeout(time.Duration(seconds+30) * time.Second).DoRaw(ctx)
		if err != nil {
			return err
		}
		return os.WriteFile(path, raw, 0o644)
	}()
	if err != nil {
		b.res.Profiles.Errors = append(b.res.Profiles.Errors, "kube-apiserver CPU: "+err.Error())
		return
	}
	b.res.Profiles.APIServerCPU, b.res.Profiles.APIServerSeconds = path, float64(seconds)
}

// profileOperatorHeap saves the running operator's heap profile in the log folder as name.
func (b *bench) profileOperatorHeap(ctx context.Context, name string) {
	path := filepath.Join(b.logDir, name)
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.pprof+"heap", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		return os.WriteFile(path, raw, 0o644)
	}()
	if err != nil {
		b.res.Profiles.Errors = append(b.res.Profiles.Errors, "operator heap: "+err.Error())
		return
	}
	b.res.Profiles.OperatorHeap = path
}
