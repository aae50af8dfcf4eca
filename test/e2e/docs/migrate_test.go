//go:build e2e

package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// runbook is the migration runbook. TestDocsMigrateFromHydraMaester runs its blocks in order, as
// written, on a cluster the test first gives the state hydra-maester leaves: so the runbook's
// commands are the ones the test runs.
const runbook = "docs/migrate-from-hydra-maester.md"

var maesterGVK = schema.GroupVersionKind{Group: "hydra.ory.sh", Version: "v1alpha1", Kind: "OAuth2Client"}

// maesterClient is one hydra-maester resource of the test, with the client hydra-maester would
// have registered for it and the Secret it would have written (or the user provided).
type maesterClient struct {
	namespace, name, secretName string
	spec                        map[string]any
	// providedID is set for a Secret the user wrote before hydra-maester registered the client
	// (no ownerReference, an ID of the user's choice); otherwise Hydra generated ID and secret
	// and hydra-maester wrote the Secret with an ownerReference to its resource.
	providedID string
	authMethod string // how the token loop authenticates: client_secret_basic or client_secret_post

	id, createdAt string // filled in when the client is registered
}

func maesterClients() []*maesterClient {
	return []*maesterClient{{
		namespace: "shop", name: "web", secretName: "web-oauth2", authMethod: "client_secret_basic",
		spec: map[string]any{
			"clientName":    "Web shop",
			"grantTypes":    []any{"authorization_code", "refresh_token", "client_credentials"},
			"responseTypes": []any{"code"},
			"redirectUris":  []any{"https://web.example.com/callback"},
			"scopeArray":    []any{"orders.read"},
			"scope":         "openid offline",
			"metadata":      map[string]any{"team": "web"},
		},
	}, {
		namespace: "shop", name: "reports", secretName: "reports-oauth2", authMethod: "client_secret_basic",
		spec: map[string]any{
			"grantTypes":     []any{"client_credentials"},
			"scopeArray":     []any{"reports.read"},
			"audience":       []any{"https://api.example.com"},
			"deletionPolicy": "orphan",
			"tokenLifespans": map[string]any{"client_credentials_grant_access_token_lifespan": "30m"},
		},
	}, {
		namespace: "payments", name: "ledger", secretName: "ledger-credentials", authMethod: "client_secret_post",
		providedID: "payments-ledger",
		spec: map[string]any{
			"grantTypes":              []any{"client_credentials"},
			"scope":                   "ledger.write",
			"tokenEndpointAuthMethod": "client_secret_post",
		},
	}}
}

func TestDocsMigrateFromHydraMaester(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	blocks := readGuide(t, filepath.Join(root, runbook))
	env := startRunLocal(t, root)
	env.doc = runbook
	k8s := env.client(t)
	adminURL, publicURL := env.hydraURLs(t)

	clients := maesterClients()
	env.buildHydraMaesterState(t, k8s, adminURL, clients)

	// Applications keep asking for tokens with what their Secrets hold, from before the first
	// step to after the last.
	loop := startTokenLoop(k8s, publicURL, clients)
	outputs := map[string]string{}
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", runbook, b.Line)
		switch {
		case b.Kind == testenv.Transcript:
			continue
		case b.Kind == testenv.NotRun || b.Background:
			t.Fatalf("%s: the runbook has a block the test cannot run as written (%s)", where, b.Kind)
		}
		start := time.Now()
		out, err := env.runBlock(b)
		outputs[where] = out
		if err != nil {
			loop.stop()
			env.fail(t, "%v", err)
		}
		t.Logf("%s: %s block, exit status %d as expected, %s", where, b.Kind, b.ExitCode, time.Since(start).Round(time.Millisecond))
	}
	ok, failed, firstFailure := loop.stop()
	t.Logf("token requests during the migration: %d succeeded, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d token requests failed during the migration; the first: %s", failed, firstFailure)
	}
	if ok < 50 {
		t.Errorf("only %d token requests succeeded: the loop did not run through the migration", ok)
	}

	checkClientsKept(t, adminURL, clients)
	checkHydraMaesterGone(t, k8s, clients)
	checkDriftRepaired(t, adminURL, clients[1])
	if found := env.secretsIn(t, outputs); len(found) > 0 {
		t.Errorf("the runbook's blocks print secrets: %s", strings.Join(found, "; "))
	}
}

// client is a direct client of run-local's API server, with no cache, as a mounted Secret is
// read fresh by the kubelet.
func (r *runLocal) client(t *testing.T) client.Client {
	t.Helper()
	// The client logs nothing the test needs; without a logger, controller-runtime complains.
	ctrllog.SetLogger(logr.Discard())
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hydraURLs are Hydra's admin and public URLs, as run-local's env file gives them to a reader.
func (r *runLocal) hydraURLs(t *testing.T) (admin, public string) {
	t.Helper()
	out, code, err := r.run(0, `echo "$HYDRA_ADMIN_URL $HYDRA_PUBLIC_URL"`, "", 10*time.Second)
	f := strings.Fields(out)
	if err != nil || code != 0 || len(f) != 2 {
		t.Fatalf("reading Hydra's URLs from run-local's env file: %q, %v", out, err)
	}
	return f[0], f[1]
}

// buildHydraMaesterState gives the cluster and Hydra what a running hydra-maester leaves: its
// CRD and Deployment, its resources with its finalizer, a Hydra client for each marked
// "<name>/<namespace>", and each client's Secret with the keys CLIENT_ID and CLIENT_SECRET.
func (r *runLocal) buildHydraMaesterState(t *testing.T, k8s client.Client, adminURL string, clients []*maesterClient) {
	t.Helper()
	ctx := context.Background()
	crd := filepath.Join(r.root, "test/e2e/docs/testdata/hydra-maester-crd.yaml")
	setup := fmt.Sprintf(`kubectl apply --server-side -f %q
kubectl wait --for=condition=Established crd/oauth2clients.hydra.ory.sh --timeout=30s
for ns in hydra-system shop payments; do kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -; done
kubectl -n hydra-system create deployment hydra-maester --image=oryd/hydra-maester:v0.0.38 --replicas=1
`, crd)
	if out, code, err := r.run(0, setup, "", time.Minute); err != nil || code != 0 {
		t.Fatalf("installing hydra-maester's CRD and Deployment: exit %d, %v\n%s", code, err, out)
	}
	for _, c := range clients {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(maesterGVK)
		obj.SetNamespace(c.namespace)
		obj.SetName(c.name)
		obj.SetFinalizers([]string{"finalizer.ory.hydra.sh"})
		spec := map[string]any{"secretName": c.secretName}
		for k, v := range c.spec {
			spec[k] = v
		}
		obj.Object["spec"] = spec
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("creating hydra-maester's %s/%s: %v", c.namespace, c.name, err)
		}
		secret := registerAsHydraMaester(t, adminURL, c)
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: c.namespace, Name: c.secretName},
			Data:       map[string][]byte{"CLIENT_ID": []byte(c.id), "CLIENT_SECRET": []byte(secret)},
		}
		if c.providedID == "" {
			// hydra-maester's own Secret: owned by its resource, without controller: true.
			s.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: maesterGVK.GroupVersion().String(), Kind: maesterGVK.Kind, Name: c.name, UID: obj.GetUID(),
			}}
		}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatalf("creating Secret %s/%s: %v", c.namespace, c.secretName, err)
		}
	}
}

// registerAsHydraMaester registers the client as hydra-maester does: its spec in Hydra's terms,
// owner "<name>/<namespace>", and Hydra's generated ID and secret unless the user provided them.
// It returns the secret.
func registerAsHydraMaester(t *testing.T, adminURL string, c *maesterClient) string {
	t.Helper()
	body := map[string]any{"owner": c.name + "/" + c.namespace, "grant_types": c.spec["grantTypes"]}
	if v, ok := c.spec["responseTypes"]; ok {
		body["response_types"] = v
	}
	if v, ok := c.spec["redirectUris"]; ok {
		body["redirect_uris"] = v
	}
	if v, ok := c.spec["audience"]; ok {
		body["audience"] = v
	}
	if v, ok := c.spec["metadata"]; ok {
		body["metadata"] = v
	}
	if v, ok := c.spec["tokenEndpointAuthMethod"]; ok {
		body["token_endpoint_auth_method"] = v
	}
	var scopes []string
	if v, ok := c.spec["scopeArray"].([]any); ok {
		for _, s := range v {
			scopes = append(scopes, s.(string))
		}
	}
	if v, ok := c.spec["scope"].(string); ok {
		scopes = append(scopes, v)
	}
	body["scope"] = strings.Join(scopes, " ")
	secret := ""
	if c.providedID != "" {
		secret = "provided-secret-of-" + c.name + "-0123456789"
		body["client_id"], body["client_secret"] = c.providedID, secret
	}
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		CreatedAt    string `json:"created_at"`
	}
	adminJSON(t, http.MethodPost, adminURL+"/admin/clients", body, http.StatusCreated, &created)
	c.id, c.createdAt = created.ClientID, created.CreatedAt
	if secret == "" {
		secret = created.ClientSecret
	}
	if c.id == "" || secret == "" || c.createdAt == "" {
		t.Fatalf("Hydra's answer to registering %s/%s lacks the ID, secret or creation time", c.namespace, c.name)
	}
	return secret
}

// adminJSON sends a request to Hydra's admin API and decodes its answer into out.
func adminJSON(t *testing.T, method, u string, body any, want int, out any) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", method, u, resp.StatusCode, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
	}
}

// tokenLoop asks for client_credentials tokens for every client, each time with the credentials
// its Secret holds at that moment, as an application that re-reads its mounted Secret does.
type tokenLoop struct {
	ok, failed   atomic.Int64
	firstFailure atomic.Value
	done         chan struct{}
	wg           sync.WaitGroup
}

func startTokenLoop(k8s client.Client, publicURL string, clients []*maesterClient) *tokenLoop {
	l := &tokenLoop{done: make(chan struct{})}
	httpClient := &http.Client{Timeout: 10 * time.Second}
	for _, c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-l.done:
					return
				case <-tick.C:
				}
				if err := requestToken(k8s, httpClient, publicURL, c); err != nil {
					l.failed.Add(1)
					l.firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s/%s at %s: %v", c.namespace, c.name, time.Now().Format(time.TimeOnly), err))
				} else {
					l.ok.Add(1)
				}
			}
		}()
	}
	return l
}

// stop ends the loop and returns its counts; it may be called more than once.
func (l *tokenLoop) stop() (ok, failed int64, firstFailure string) {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
	first, _ := l.firstFailure.Load().(string)
	return l.ok.Load(), l.failed.Load(), first
}

// requestToken reads the client's Secret and asks Hydra for a token with it. Its errors never
// carry the secret.
func requestToken(k8s client.Client, httpClient *http.Client, publicURL string, c *maesterClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: c.namespace, Name: c.secretName}, s); err != nil {
		return fmt.Errorf("reading its Secret: %w", err)
	}
	id, secret := string(s.Data["CLIENT_ID"]), string(s.Data["CLIENT_SECRET"])
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.authMethod == "client_secret_post" {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.authMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var answer struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != http.StatusOK || answer.AccessToken == "" {
		return fmt.Errorf("token endpoint answered %d %s", resp.StatusCode, answer.Error)
	}
	return nil
}

// hydraClient is what the checks read of a client at Hydra.
type hydraClient struct {
	ClientID  string `json:"client_id"`
	Owner     string `json:"owner"`
	Scope     string `json:"scope"`
	CreatedAt string `json:"created_at"`
}

func getHydraClient(t *testing.T, adminURL, id string) hydraClient {
	t.Helper()
	var c hydraClient
	adminJSON(t, http.MethodGet, adminURL+"/admin/clients/"+url.PathEscape(id), nil, http.StatusOK, &c)
	return c
}

// checkClientsKept: every client is still at Hydra under its ID, never re-created (the same
// creation time), and now carries this operator's mark.
func checkClientsKept(t *testing.T, adminURL string, clients []*maesterClient) {
	t.Helper()
	for _, c := range clients {
		got := getHydraClient(t, adminURL, c.id)
		if got.CreatedAt != c.createdAt {
			t.Errorf("%s/%s: client %s was re-created at Hydra (created %s, before %s)", c.namespace, c.name, c.id, got.CreatedAt, c.createdAt)
		}
		// Followed by this cluster's name: run-local leaves it to kube-system's UID.
		if want := "oauth2-client-operator:" + c.namespace + "/" + c.name + "@"; !strings.HasPrefix(got.Owner, want) || len(got.Owner) == len(want) {
			t.Errorf("%s/%s: client %s has owner %q, want %q and the cluster's name", c.namespace, c.name, c.id, got.Owner, want)
		}
	}
}

// checkHydraMaesterGone: no hydra.ory.sh resource or CRD is left, and every Secret is still
// there, with no ownerReference left that the garbage collector could follow.
func checkHydraMaesterGone(t *testing.T, k8s client.Client, clients []*maesterClient) {
	t.Helper()
	ctx := context.Background()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(maesterGVK.GroupVersion().WithKind("OAuth2ClientList"))
	if err := k8s.List(ctx, list); err == nil {
		t.Errorf("hydra.ory.sh OAuth2Clients are still served (%d left): the CRD was not removed", len(list.Items))
	}
	for _, c := range clients {
		s := &corev1.Secret{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: c.namespace, Name: c.secretName}, s)
		switch {
		case apierrors.IsNotFound(err):
			t.Errorf("Secret %s/%s is gone", c.namespace, c.secretName)
		case err != nil:
			t.Error(err)
		case len(s.OwnerReferences) > 0:
			t.Errorf("Secret %s/%s still has ownerReferences %+v", c.namespace, c.secretName, s.OwnerReferences)
		}
	}
}

// checkDriftRepaired: a change made at Hydra to a migrated client is reverted, as for any
// client of the operator.
func checkDriftRepaired(t *testing.T, adminURL string, c *maesterClient) {
	t.Helper()
	want := getHydraClient(t, adminURL, c.id).Scope
	patch := []map[string]any{{"op": "replace", "path": "/scope", "value": want + " admin"}}
	adminJSON(t, http.MethodPatch, adminURL+"/admin/clients/"+url.PathEscape(c.id), patch, http.StatusOK, nil)
	testenv.Eventually(t, 2*time.Minute, func() error {
		if got := getHydraClient(t, adminURL, c.id).Scope; got != want {
			return fmt.Errorf("%s/%s: scope at Hydra is %q, want %q restored", c.namespace, c.name, got, want)
		}
		return nil
	})
}
