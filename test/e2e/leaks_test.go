//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// secretsSeen records every credential the suite handles, so that the leak check after all
// tests can look for them where they must never appear. The recorded values are never printed.
var secretsSeen = &secretRecorder{Leaks: testenv.NewLeaks(), statuses: map[string]string{}}

type secretRecorder struct {
	*testenv.Leaks
	mu       sync.Mutex
	statuses map[string]string // "namespace/name@resourceVersion" -> status JSON
}

// recordSecret remembers the client secrets in a Secret the suite read.
func (r *secretRecorder) recordSecret(s *corev1.Secret) { r.RememberSecret(s) }

// recordStatus keeps a resource's status as the suite saw it: most resources are deleted before
// the leak check runs, so their status is checked from these copies.
func (r *secretRecorder) recordStatus(obj *v1alpha1.OAuth2Client) {
	status, err := json.Marshal(obj.Status)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[obj.Namespace+"/"+obj.Name+"@"+obj.ResourceVersion] = string(status)
}

// checkForLeaks looks for every client secret the suite saw, and the Hydra admin token, in the
// operator's logs, in all Events, in the status of every OAuth2Client and in the operator's
// metrics. It returns one line per finding (never the secret itself), or an error when one of
// the places could not be read, which would make the check pass without looking.
func checkForLeaks(ctx context.Context, adminToken string) (findings []string, err error) {
	if err := recordRemainingSecrets(ctx); err != nil {
		return nil, err
	}
	places, err := leakPlaces(ctx)
	if err != nil {
		return nil, err
	}
	secretsSeen.Remember(adminToken, "the Hydra admin token")
	fmt.Fprintf(os.Stderr, "e2e leak check: %d client secrets and the admin token, searched in %d places\n", secretsSeen.Len()-1, len(places))
	return secretsSeen.Find(places), nil
}

// recordRemainingSecrets records the client secrets of every Secret still in the cluster.
func recordRemainingSecrets(ctx context.Context) error {
	out, err := cp.Kubectl(ctx, "get", "secrets", "--all-namespaces", "-o", "json")
	if err != nil {
		return err
	}
	var list corev1.SecretList
	if err := json.Unmarshal(out, &list); err != nil {
		return err
	}
	for i := range list.Items {
		secretsSeen.recordSecret(&list.Items[i])
	}
	return nil
}

// leakPlaces is the text the operator produced, by a name for the report.
func leakPlaces(ctx context.Context) (map[string]string, error) {
	stacks := map[string]string{}
	// The suite's operator and every operator a test started write operator*.log.
	logs, err := filepath.Glob(filepath.Join(workDir, "operator*.log"))
	if err != nil || len(logs) == 0 {
		return nil, fmt.Errorf("no operator logs in %s: %w", workDir, err)
	}
	for _, path := range logs {
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		stacks["the operator log "+filepath.Base(path)] = string(text)
	}
	for _, resource := range []string{"events", "events.events.k8s.io"} {
		out, err := cp.Kubectl(ctx, "get", resource, "--all-namespaces", "-o", "json")
		if err != nil {
			return nil, err
		}
		stacks["Kubernetes "+resource] = string(out)
	}
	out, err := cp.Kubectl(ctx, "get", "oauth2clients", "--all-namespaces", "-o", "json")
	if err != nil {
		return nil, err
	}
	var list v1alpha1.OAuth2ClientList
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		secretsSeen.recordStatus(&list.Items[i])
	}
	secretsSeen.mu.Lock()
	for key, status := range secretsSeen.statuses {
		stacks["the status of OAuth2Client "+key] = status
	}
	secretsSeen.mu.Unlock()
	metrics, err := scrape(ctx, operator.MetricsURL())
	if err != nil {
		return nil, err
	}
	stacks["the operator's /metrics"] = metrics
	return stacks, nil
}

// scrape reads the operator's metrics, and checks that they are the operator's: an empty or
// foreign page would let a leak through unnoticed.
func scrape(ctx context.Context, url string) (string, error) {
	if url == "" {
		return "", fmt.Errorf("the operator serves no metrics")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "controller_runtime_reconcile_total") {
		return "", fmt.Errorf("GET %s: %d, without controller-runtime's metrics", url, resp.StatusCode)
	}
	return string(body), nil
}
