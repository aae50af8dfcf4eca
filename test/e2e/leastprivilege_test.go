//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	hydramap "github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The identity config/default gives the operator (kustomize's namePrefix included).
const (
	installNamespace      = "oauth2-client-operator-system"
	installServiceAccount = "oauth2-client-operator-controller-manager"
	// The cluster-wide role and binding of config/default, which config/namespaced removes.
	clusterRoleName        = "oauth2-client-operator-manager-role"
	clusterRoleBindingName = "oauth2-client-operator-manager-rolebinding"
)

// The operator, run as its ServiceAccount with only the RBAC that `kustomize build
// config/default` installs, registers a client whose Secret obtains a token, and removes it
// again when the resource is deleted. A rule missing from the generated role shows up as a
// client that never becomes Ready or a Forbidden error in the operator's log.
func TestLeastPrivilegeClusterMode(t *testing.T) {
	pauseSuiteOperator(t)
	applyBundle(t, kustomizeBuild(t, "default"))
	t.Cleanup(func() { deleteClusterRBAC(t); deleteFinalizerPolicy(t) })
	logPath := startServiceAccountOperator(t, "cluster")

	const ns = "e2e-lp-cluster"
	newNamespace(t, ns)
	manifest, mount := deployClient(t, ns, "billing", service("", "billing.read"))
	c := readCredentials(t, mount)
	if tok, err := clientCredentials(c, authBasic, "billing.read"); err != nil || tok.ok() != nil {
		t.Fatalf("client_credentials with the Secret the operator wrote: %v %v", err, tok)
	}
	// The Lease has the fixed name that config/rbac's leader-election Role is written for.
	if holder := kubectl(t, "get", "lease", "-n", installNamespace, leaderElectionID, "-o", "jsonpath={.spec.holderIdentity}"); holder == "" {
		t.Errorf("the leader-election Lease %s/%s has no holder", installNamespace, leaderElectionID)
	}

	kubectl(t, "delete", "--wait=true", "--timeout=60s", "-f", manifest)
	eventually(t, 30*time.Second, func() error { return hydraClientGone(c.ClientID) })
	assertNoForbidden(t, logPath)
}

// Namespaced mode (config/namespaced): the operator watches a list of namespaces, each with a
// Role, and has no cluster-wide access to Secrets. A resource in a watched namespace becomes
// Ready; one in a namespace outside the list is never touched.
func TestLeastPrivilegeNamespacedMode(t *testing.T) {
	pauseSuiteOperator(t)
	// A ClusterRoleBinding left from the cluster-mode test would grant what this test must
	// show is missing.
	deleteClusterRBAC(t)

	const watchedFromBundle, watchedExtra, unwatched = "apps", "e2e-lp-watched", "e2e-lp-unwatched"
	bundle := namespacedBundleFor(t, watchedExtra)
	if !strings.Contains(string(bundle), "--watch-namespaces="+watchedFromBundle+"\n") {
		t.Fatalf("config/namespaced no longer watches %q; update this test", watchedFromBundle)
	}
	// The finalizer policy is cluster-wide; here it would hold the unwatched namespace's
	// resources forever on deletion.
	if strings.Contains(string(bundle), "MutatingAdmissionPolicy") {
		t.Fatal("config/namespaced installs the cluster-wide finalizer policy")
	}
	for _, ns := range []string{watchedFromBundle, watchedExtra, unwatched} {
		newNamespace(t, ns)
	}
	applyBundle(t, bundle)

	user, groups := testenv.ServiceAccountUser(installNamespace, installServiceAccount)
	as := []string{"--as=" + user, "--as-group=" + groups[0], "--as-group=" + groups[1]}
	// The positive control: impersonation works and the Role grants Secrets where it should.
	kubectl(t, append(as, "get", "secrets", "-n", watchedExtra)...)
	for _, args := range [][]string{
		{"get", "secrets", "--all-namespaces"},
		{"get", "secrets", "-n", unwatched},
		{"get", "oauth2clients", "--all-namespaces"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := cp.Kubectl(ctx, append(as, args...)...)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Errorf("kubectl %s as the operator's ServiceAccount: want Forbidden, got %v: %s", strings.Join(args, " "), err, out)
		}
	}
	if out, _ := cp.Kubectl(context.Background(), append(as, "auth", "can-i", "list", "secrets", "--all-namespaces")...); strings.TrimSpace(string(out)) != "no" {
		t.Errorf("SubjectAccessReview: the ServiceAccount may list Secrets cluster-wide: %q", out)
	}

	logPath := startServiceAccountOperator(t, "namespaced", "--watch-namespaces="+watchedFromBundle+","+watchedExtra)

	// The unwatched resource is created first, so it has existed at least as long as the
	// watched ones when they are Ready.
	ignored := writeManifest(t, "ignored.yaml", clientManifest(unwatched, "ignored", service("", "x.read")))
	applyFile(t, ignored)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Before the suite's operator comes back, which watches every namespace.
		if _, err := cp.Kubectl(ctx, "delete", "--ignore-not-found", "--wait=true", "--timeout=45s", "-f", ignored); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	var watchedIDs []string
	for _, ns := range []string{watchedFromBundle, watchedExtra} {
		_, mount := deployClient(t, ns, "lp-client", service("", "x.read"))
		c := readCredentials(t, mount)
		if tok, err := clientCredentials(c, authBasic, "x.read"); err != nil || tok.ok() != nil {
			t.Fatalf("namespace %s: client_credentials: %v %v", ns, err, tok)
		}
		watchedIDs = append(watchedIDs, ns+"/lp-client")
	}

	// Absence cannot be waited for, only observed: after the watched resources were Ready, look
	// for two more sync periods (every resource the operator watches is reconciled at least
	// once per period) and fail at the first sign that the operator touched the unwatched one.
	observe := 2 * mustDuration(t, syncPeriod)
	consistently(t, observe, func() error { return untouched(unwatched, "ignored") })
	// The same Hydra listing finds the watched clients, so a miss is not a broken search.
	owners, err := hydraOwners()
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range watchedIDs {
		if !owners[owner] {
			t.Errorf("Hydra has no client owned by %s", owner)
		}
	}
	if owners[unwatched+"/ignored"] {
		t.Errorf("Hydra has a client for the resource in the unwatched namespace %s", unwatched)
	}
	assertNoForbidden(t, logPath)
}

// pauseSuiteOperator stops the suite's operator, which runs with administrator rights and
// watches every namespace, so that the operator a test starts is the only one acting; the
// suite's operator starts again when the test ends.
func pauseSuiteOperator(t *testing.T) {
	t.Helper()
	operator.Stop()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		op, err := testenv.StartOperator(ctx, operatorOpts)
		if err != nil {
			// TestMain fails the run too: operator stays the stopped process.
			t.Errorf("restarting the suite's operator: %v", err)
			return
		}
		operator = op
	})
}

// startServiceAccountOperator runs the operator binary with a kubeconfig that impersonates the
// installed ServiceAccount, with leader election on as config/manager runs it. It returns the
// path of its log, which the leak check at the end of the suite reads too.
func startServiceAccountOperator(t *testing.T, name string, args ...string) string {
	t.Helper()
	user, groups := testenv.ServiceAccountUser(installNamespace, installServiceAccount)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := cp.WriteImpersonatingKubeconfig(kubeconfig, user, groups); err != nil {
		t.Fatal(err)
	}
	_, logPath := startLoggedOperator(t, name, "operator as ServiceAccount", testenv.OperatorOptions{
		Bin:            managerBin,
		Kubeconfig:     kubeconfig,
		HydraAdminURL:  hydra.AdminURL(),
		HydraPublicURL: hydra.PublicURL(),
		Args: append([]string{
			"--sync-period=" + syncPeriod, "--zap-encoder=console",
			// The suite's operator does not elect, so this Lease is this process's alone.
			"--leader-elect", "--leader-election-namespace=" + installNamespace,
			"--hydra-admin-token-file=" + adminTokenFile,
		}, args...),
		Env: operatorOpts.Env,
	})
	return logPath
}

// applyBundle applies rendered manifests as an administrator installing the operator would.
func applyBundle(t *testing.T, bundle []byte) {
	t.Helper()
	path := writeManifest(t, "bundle.yaml", string(bundle))
	kubectl(t, "apply", "--server-side", "--force-conflicts", "-f", path)
}

// deleteFinalizerPolicy removes config/default's finalizer policy, as switching to namespaced
// mode must (docs/operations.md), and waits until the API server no longer applies it: a
// server-side dry run of a create runs the admission chain without storing anything.
func deleteFinalizerPolicy(t *testing.T) {
	t.Helper()
	kubectl(t, "delete", "--ignore-not-found", "mutatingadmissionpolicybinding", "oauth2-client-operator-finalizer-policy-binding")
	kubectl(t, "delete", "--ignore-not-found", "mutatingadmissionpolicy", "oauth2-client-operator-finalizer-policy")
	probe := writeManifest(t, "probe.yaml", clientManifest("default", "finalizer-policy-probe", clientSpec{GrantTypes: []string{"client_credentials"}}))
	eventually(t, 30*time.Second, func() error {
		if got := kubectl(t, "create", "--dry-run=server", "-f", probe, "-o", "jsonpath={.metadata.finalizers}"); got != "" {
			return fmt.Errorf("a new OAuth2Client still gets finalizers %q", got)
		}
		return nil
	})
}

func deleteClusterRBAC(t *testing.T) {
	t.Helper()
	kubectl(t, "delete", "--ignore-not-found", "clusterrolebinding", clusterRoleBindingName)
	kubectl(t, "delete", "--ignore-not-found", "clusterrole", clusterRoleName)
}

// namespacedBundleFor renders config/namespaced plus one more copy of its watched/ folder for
// namespace extra, the way its comments tell users to watch several namespaces.
func namespacedBundleFor(t *testing.T, extra string) []byte {
	t.Helper()
	dir := t.TempDir()
	second := filepath.Join(dir, "second")
	if err := os.MkdirAll(second, 0o755); err != nil {
		t.Fatal(err)
	}
	// kustomize takes only relative paths to other kustomizations.
	rel := func(from string, elem ...string) string {
		p, err := filepath.Rel(from, filepath.Join(append([]string{moduleRoot, "config"}, elem...)...))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
	if err := writeFile(filepath.Join(second, "kustomization.yaml"), kustomization+"namespace: "+extra+"\nresources:\n- "+rel(second, "namespaced", "watched")+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, "kustomization.yaml"), kustomization+"resources:\n- "+rel(dir, "namespaced")+"\n- second\n"); err != nil {
		t.Fatal(err)
	}
	return kustomizeBuildDir(t, dir, "--load-restrictor=LoadRestrictionsNone")
}

// untouched is nil while the operator has left no trace on the resource namespace/name: no
// status, no finalizer and no Secret.
func untouched(ns, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := cp.Kubectl(ctx, "get", "oauth2client", "-n", ns, name, "-o", "json")
	if err != nil {
		return err
	}
	var obj v1alpha1.OAuth2Client
	if err := json.Unmarshal(out, &obj); err != nil {
		return err
	}
	if len(obj.Finalizers) > 0 || len(obj.Status.Conditions) > 0 || obj.Status.ClientID != "" {
		return fmt.Errorf("the operator touched %s/%s: finalizers %v, status %+v", ns, name, obj.Finalizers, obj.Status)
	}
	if _, err := getSecret(ns, name); err == nil {
		return fmt.Errorf("the operator wrote a Secret for %s/%s", ns, name)
	} else if !strings.Contains(err.Error(), "NotFound") {
		return err
	}
	return nil
}

// hydraOwners lists every client at Hydra, page by page, and returns the set of the resources
// (namespace/name) that the operator's owner marks name.
func hydraOwners() (map[string]bool, error) {
	page, _, err := testenv.ListHydraClients[struct {
		Owner string `json:"owner"`
	}](context.Background(), http.DefaultClient, hydra.AdminURL(), "", 500, 1000)
	if err != nil {
		return nil, err
	}
	owners := map[string]bool{}
	for _, c := range page {
		if ns, name, ok := hydramap.ParseOwner(c.Owner); ok {
			owners[ns+"/"+name] = true
		}
	}
	return owners, nil
}

// hydraClientGone is nil once Hydra answers 404 for the client.
func hydraClientGone(clientID string) error {
	resp, err := http.Get(hydra.AdminURL() + "/admin/clients/" + url.PathEscape(clientID))
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("GET /admin/clients/%s: %d, want 404", clientID, resp.StatusCode)
	}
	return nil
}

// assertNoForbidden fails the test if the API server refused the operator anything: a denied
// event or lease update does not stop reconciles, so it shows only in the log.
func assertNoForbidden(t *testing.T, logPath string) {
	t.Helper()
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("the operator was refused a request: %s", line)
		}
	}
	if !strings.Contains(strings.ToLower(string(log)), "successfully acquired lease") {
		t.Errorf("the operator never logged that it acquired the leader-election lease")
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
