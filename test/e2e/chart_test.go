//go:build e2e

package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// The chart under test, and how the rows install it: `helm install oauth2-client-operator
// ./charts/oauth2-client-operator -n oauth2-chart-system`, as the README shows.
const (
	chartPath        = "charts/oauth2-client-operator"
	chartRelease     = "oauth2-client-operator"
	chartNamespace   = "oauth2-chart-system"
	chartManagerName = "oauth2-client-operator-controller-manager"
)

// chartRow is one set of values a user might install the chart with, and what the rendered
// objects must show for it, beyond what every row checks (chartProblems).
type chartRow struct {
	name    string
	values  string // a values file, as the user writes it
	release string // empty: chartRelease
	check   func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment)
}

var chartRows = []chartRow{
	{name: "default values", check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
		if got := manager(d).Image; got != "oauth2-client-operator:dev" {
			t.Errorf("image %q, want the chart's appVersion as the tag: oauth2-client-operator:dev", got)
		}
		if r := ptr.Deref(d.Spec.Replicas, 0); r != 1 {
			t.Errorf("replicas %d, want 1", r)
		}
		wantArgs(t, d, "--leader-elect", "--hydra-admin-url=http://hydra-admin.hydra.svc:4445",
			"--hydra-public-url=http://hydra-public.hydra.svc:4444", "--sync-period=10m", "--metrics-bind-address=:8080",
			"--adoption-namespaces=*", "--fingerprint-key-secret=oauth2-client-operator-fingerprint-key")
		noArgWithPrefix(t, d, "--watch-namespaces", "--hydra-admin-token-file", "--client-id-namespaces", "--drift-interval", "--watch-label-selector")
		for _, kind := range []string{"PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"} {
			if n := len(objectsOfKind(objs, kind)); n != 0 {
				t.Errorf("default values render %d %s, want none", n, kind)
			}
		}
		if len(objectsOfKind(objs, "Service")) != 1 {
			t.Error("default values render no metrics Service")
		}
		// The API server of the tests serves MutatingAdmissionPolicy (1.36+), so the policy and
		// its binding are rendered, and the binding names the policy.
		policies, bindings := objectsOfKind(objs, "MutatingAdmissionPolicy"), objectsOfKind(objs, "MutatingAdmissionPolicyBinding")
		if len(policies) != 1 || len(bindings) != 1 {
			t.Fatalf("default values render %d MutatingAdmissionPolicy and %d bindings, want one each", len(policies), len(bindings))
		}
		if name, _, _ := unstructured.NestedString(bindings[0].Object, "spec", "policyName"); name != policies[0].GetName() {
			t.Errorf("the binding names policy %q, not the chart's %q", name, policies[0].GetName())
		}
	}},
	{name: "two replicas with a PodDisruptionBudget", values: "replicaCount: 2\npodDisruptionBudget:\n  enabled: true\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			if r := ptr.Deref(d.Spec.Replicas, 0); r != 2 {
				t.Errorf("replicas %d, want 2", r)
			}
			pdbs := objectsOfKind(objs, "PodDisruptionBudget")
			if len(pdbs) != 1 {
				t.Fatalf("%d PodDisruptionBudgets, want 1", len(pdbs))
			}
			// parseManifests decodes numbers as float64, so compare their text.
			if got, _, _ := unstructured.NestedFieldNoCopy(pdbs[0].Object, "spec", "minAvailable"); fmt.Sprint(got) != "1" {
				t.Errorf("minAvailable %v, want 1", got)
			}
			selects(t, "the PodDisruptionBudget", pdbs[0], []string{"spec", "selector", "matchLabels"}, d.Spec.Template.Labels)
		}},
	{name: "ServiceMonitor", values: "metrics:\n  serviceMonitor:\n    enabled: true\n    interval: 30s\n    labels:\n      release: prometheus\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			monitors, services := objectsOfKind(objs, "ServiceMonitor"), objectsOfKind(objs, "Service")
			if len(monitors) != 1 || len(services) != 1 {
				t.Fatalf("%d ServiceMonitors and %d Services, want 1 each", len(monitors), len(services))
			}
			sm, svc := monitors[0], services[0]
			if sm.GetLabels()["release"] != "prometheus" {
				t.Errorf("the ServiceMonitor lacks the label release=prometheus: %v", sm.GetLabels())
			}
			selects(t, "the ServiceMonitor", sm, []string{"spec", "selector", "matchLabels"}, svc.GetLabels())
			endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
			if len(endpoints) != 1 || len(ports) != 1 {
				t.Fatalf("endpoints %v, Service ports %v", endpoints, ports)
			}
			ep, port := endpoints[0].(map[string]any), ports[0].(map[string]any)
			if ep["port"] != port["name"] || ep["interval"] != "30s" {
				t.Errorf("the ServiceMonitor's endpoint %v does not scrape the Service's port %v every 30s", ep, port)
			}
			selects(t, "the metrics Service", svc, []string{"spec", "selector"}, d.Spec.Template.Labels)
		}},
	{name: "NetworkPolicy", values: "networkPolicy:\n  enabled: true\n  metricsFrom:\n  - namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: monitoring\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			policies := objectsOfKind(objs, "NetworkPolicy")
			if len(policies) != 1 {
				t.Fatalf("%d NetworkPolicies, want 1", len(policies))
			}
			np := policies[0]
			selects(t, "the NetworkPolicy", np, []string{"spec", "podSelector", "matchLabels"}, d.Spec.Template.Labels)
			ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
			if len(ingress) != 1 {
				t.Fatalf("ingress %v, want one rule", ingress)
			}
			rule := ingress[0].(map[string]any)
			from, _ := rule["from"].([]any)
			ports, _ := rule["ports"].([]any)
			if len(from) != 1 || len(ports) != 1 || ports[0].(map[string]any)["port"] != "metrics" {
				t.Errorf("the ingress rule %v does not admit only the metrics port from the monitoring namespace", rule)
			}
		}},
	{name: "namespaced mode", values: "watchNamespaces: [chart-apps, chart-shop]\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			// The finalizer policy reaches only the watched namespaces: elsewhere no operator
			// would remove the finalizer.
			policies := objectsOfKind(objs, "MutatingAdmissionPolicy")
			if len(policies) != 1 {
				t.Fatalf("%d finalizer policies rendered, want 1", len(policies))
			}
			exprs, _, _ := unstructured.NestedSlice(policies[0].Object, "spec", "matchConstraints", "namespaceSelector", "matchExpressions")
			if fmt.Sprint(exprs) != "[map[key:kubernetes.io/metadata.name operator:In values:[chart-apps chart-shop]]]" {
				t.Errorf("the finalizer policy selects namespaces %v, want the watched ones", exprs)
			}
			wantArgs(t, d, "--watch-namespaces=chart-apps,chart-shop")
		}},
	{name: "custom default Hydra with a token and a CA", values: `hydra:
  adminURL: https://hydra-admin.auth.svc:4445
  publicURL: https://auth.example.com
  timeout: 5s
  adminTokenSecret:
    name: hydra-admin-token
    key: bearer
  caConfigMap:
    name: hydra-ca
clientIDNamespaces: "platform,payments=pay-*"
adoptionNamespaces: platform
`, check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
		wantArgs(t, d, "--hydra-admin-url=https://hydra-admin.auth.svc:4445", "--hydra-public-url=https://auth.example.com",
			"--hydra-timeout=5s", "--hydra-admin-token-file=/var/run/secrets/hydra-admin-token/bearer",
			"--hydra-ca-file=/etc/hydra-ca/ca.crt", "--client-id-namespaces=platform,payments=pay-*", "--adoption-namespaces=platform")
		vols := map[string]corev1.Volume{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			vols[v.Name] = v
		}
		if s := vols["hydra-admin-token"].Secret; s == nil || s.SecretName != "hydra-admin-token" || len(s.Items) != 1 || s.Items[0].Key != "bearer" {
			t.Errorf("the token Secret is not mounted as a volume: %+v", vols["hydra-admin-token"])
		}
		if c := vols["hydra-ca"].ConfigMap; c == nil || c.Name != "hydra-ca" {
			t.Errorf("the CA ConfigMap is not mounted as a volume: %+v", vols["hydra-ca"])
		}
		mounts := map[string]string{}
		for _, m := range manager(d).VolumeMounts {
			mounts[m.Name] = m.MountPath
		}
		if mounts["hydra-admin-token"] != "/var/run/secrets/hydra-admin-token" || mounts["hydra-ca"] != "/etc/hydra-ca" {
			t.Errorf("volume mounts %v", mounts)
		}
		// The token is a file only: never in the environment, where `kubectl describe` shows it.
		for _, e := range manager(d).Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				t.Errorf("the environment variable %s reads a Secret", e.Name)
			}
		}
	}},
	{name: "resources periods and log level", values: `resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits: {cpu: "1", memory: 512Mi}
syncPeriod: 1h
driftInterval: 2m
maxConcurrentReconciles: 8
logLevel: debug
leaderElection: {leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 4s}
extraArgs: [--hydra-list-page-size=200]
`, check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
		res := manager(d).Resources
		for what, got := range map[string]string{
			"cpu request": res.Requests.Cpu().String(), "memory request": res.Requests.Memory().String(),
			"cpu limit": res.Limits.Cpu().String(), "memory limit": res.Limits.Memory().String(),
		} {
			if want := map[string]string{"cpu request": "100m", "memory request": "128Mi", "cpu limit": "1", "memory limit": "512Mi"}[what]; got != want {
				t.Errorf("%s %s, want %s", what, got, want)
			}
		}
		wantArgs(t, d, "--sync-period=1h", "--drift-interval=2m", "--max-concurrent-reconciles=8", "--zap-log-level=debug",
			"--leader-election-lease-duration=30s", "--leader-election-renew-deadline=20s", "--leader-election-retry-period=4s",
			"--hydra-list-page-size=200")
	}},
	{name: "image by tag from a private registry", values: "image:\n  repository: registry.example.com:5000/team/oauth2-client-operator\n  tag: v1.2.3\n  pullPolicy: Always\nimagePullSecrets: [{name: regcred}]\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			if got := manager(d).Image; got != "registry.example.com:5000/team/oauth2-client-operator:v1.2.3" {
				t.Errorf("image %q", got)
			}
			if manager(d).ImagePullPolicy != corev1.PullAlways || len(d.Spec.Template.Spec.ImagePullSecrets) != 1 {
				t.Errorf("pull policy %s, pull secrets %v", manager(d).ImagePullPolicy, d.Spec.Template.Spec.ImagePullSecrets)
			}
		}},
	{name: "image by digest", values: "image:\n  tag: v1.2.3\n  digest: sha256:" + strings.Repeat("ab", 32) + "\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			if got, want := manager(d).Image, "oauth2-client-operator@sha256:"+strings.Repeat("ab", 32); got != want {
				t.Errorf("image %q, want the digest to win over the tag: %q", got, want)
			}
		}},
	{name: "metrics off", values: "metrics:\n  enabled: false\n  serviceMonitor:\n    enabled: true\nnetworkPolicy:\n  enabled: true\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			wantArgs(t, d, "--metrics-bind-address=0")
			if n := len(objectsOfKind(objs, "Service")) + len(objectsOfKind(objs, "ServiceMonitor")); n != 0 {
				t.Errorf("metrics off still renders %d Services or ServiceMonitors", n)
			}
			np := objectsOfKind(objs, "NetworkPolicy")
			if ingress, found, _ := unstructured.NestedSlice(np[0].Object, "spec", "ingress"); !found || len(ingress) != 0 {
				t.Errorf("with metrics off the NetworkPolicy should admit nothing, has ingress %v", ingress)
			}
		}},
	{name: "a shard", release: "shard1", values: "watchLabelSelector: oauth2.clientoperator.dev/shard=shard1\nrbac:\n  userRoles: false\nfinalizerPolicy:\n  enabled: false\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			wantArgs(t, d, "--watch-label-selector=oauth2.clientoperator.dev/shard=shard1")
			if n := len(objectsOfKind(objs, "MutatingAdmissionPolicy")); n != 0 {
				t.Errorf("finalizerPolicy.enabled false still renders %d MutatingAdmissionPolicy", n)
			}
		}},
	{name: "another release name without user roles", release: "auth", values: "rbac:\n  userRoles: false\n",
		check: func(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) {
			if d.Name != "auth-oauth2-client-operator-controller-manager" {
				t.Errorf("Deployment %q, want the release name as the prefix", d.Name)
			}
			for _, o := range objectsOfKind(objs, "ClusterRole") {
				if strings.Contains(o.GetName(), "oauth2client-") || strings.Contains(o.GetName(), "authorizationserver-") {
					t.Errorf("rbac.userRoles false still renders %s", o.GetName())
				}
			}
		}},
}

// chartRefusals are values the chart must refuse, each with a piece of the message the user
// reads: values.schema.json, or the template's own checks.
var chartRefusals = []struct{ name, values, want string }{
	{"no replicas", "replicaCount: 0\n", "replicaCount"},
	{"a misspelt key", "replicas: 2\n", "replicas"},
	{"a sync period that is no duration", "syncPeriod: ten minutes\n", "syncPeriod"},
	{"a digest that is no digest", "image:\n  digest: latest\n", "digest"},
	{"an admin URL without a scheme", "hydra:\n  adminURL: hydra-admin:4445\n", "adminURL"},
	{"a namespace that is no name", "watchNamespaces: [Apps_1]\n", "watchNamespaces"},
	{"resources without limits", "resources:\n  limits: null\n", "limits"},
	{"an unknown log level", "logLevel: verbose\n", "logLevel"},
	{"an extra arg that is no flag", "extraArgs: [leader-elect]\n", "extraArgs"},
	{"a PodDisruptionBudget with one replica", "podDisruptionBudget:\n  enabled: true\n", "every node drain"},
	{"a PodDisruptionBudget that keeps every replica", "replicaCount: 2\npodDisruptionBudget:\n  enabled: true\n  minAvailable: 2\n", "every node drain"},
}

// TestChart renders the Helm chart with the Helm SDK, as `helm install` does (values.schema.json
// included), for the default values and each row of chartRows; lints it; checks the rendered
// objects (the restricted Pod Security Standard, resources and leader election as the install
// bundle, and RBAC equal to config/rbac's); and applies them with a server-side dry run to the
// real API server, with warnings as errors, in a namespace that warns about the restricted
// standard.
func TestChart(t *testing.T) {
	ch := loadChart(t)
	kube := serverKubeVersion(t)
	installServiceMonitorCRD(t)
	ensureRestrictedNamespace(t, chartNamespace)

	for _, row := range chartRows {
		t.Run(row.name, func(t *testing.T) {
			lintChart(t, row.values, kube)
			manifest, err := renderChart(ch, cmp.Or(row.release, chartRelease), row.values, kube)
			if err != nil {
				t.Fatalf("rendering: %v", err)
			}
			objs := parseManifests(t, []byte(manifest))
			d := managerDeployment(t, objs)
			for _, p := range chartProblems(t, objs, d) {
				t.Error(p)
			}
			row.check(t, objs, d)
			if w := watchNamespaces(d); len(w) > 0 {
				ensureNamespaces(t, w...)
			}
			dryRunApply(t, manifest, len(objs))
		})
	}

	t.Run("refused values", func(t *testing.T) {
		for _, r := range chartRefusals {
			_, err := renderChart(ch, chartRelease, r.values, kube)
			if err == nil || !strings.Contains(err.Error(), r.want) {
				t.Errorf("%s: want an error mentioning %q, got %v", r.name, r.want, err)
			}
		}
	})

	t.Run("weakened security values fail the checks and the dry run", func(t *testing.T) {
		for _, w := range []struct{ name, values, want string }{
			{"privilege escalation", "securityContext:\n  allowPrivilegeEscalation: true\n", "allowPrivilegeEscalation"},
			{"no seccomp profile", "securityContext:\n  seccompProfile: null\npodSecurityContext:\n  seccompProfile: null\n", "seccompProfile"},
			{"capabilities kept", "securityContext:\n  capabilities: null\n", "capabilities"},
			{"root allowed", "securityContext:\n  runAsNonRoot: null\npodSecurityContext:\n  runAsNonRoot: false\n", "runAsNonRoot"},
		} {
			manifest, err := renderChart(ch, chartRelease, w.values, kube)
			if err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			objs := parseManifests(t, []byte(manifest))
			if problems := chartProblems(t, objs, managerDeployment(t, objs)); !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w.want) }) {
				t.Errorf("%s: no problem mentioning %q, got %q", w.name, w.want, problems)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, err = cp.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", writeManifest(t, "weak.yaml", manifest))
			cancel()
			if err == nil || !strings.Contains(err.Error(), "PodSecurity") {
				t.Errorf("%s: the dry run did not fail with a PodSecurity warning: %v", w.name, err)
			}
		}
	})

	t.Run("a manager role that differs from config/rbac is caught", func(t *testing.T) {
		tampered := *ch
		tampered.Files = nil
		for _, f := range ch.Files {
			if f.Name == "files/manager-role.yaml" {
				f = &common.File{Name: f.Name, ModTime: f.ModTime, Data: bytes.Replace(f.Data, []byte("  - patch\n"), nil, 1)}
			}
			tampered.Files = append(tampered.Files, f)
		}
		for _, values := range []string{"", "watchNamespaces: [chart-apps]\n"} {
			manifest, err := renderChart(&tampered, chartRelease, values, kube)
			if err != nil {
				t.Fatal(err)
			}
			objs := parseManifests(t, []byte(manifest))
			if problems := managerRBACProblems(t, objs, managerDeployment(t, objs)); !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "config/rbac") }) {
				t.Errorf("values %q: a manager role without a verb passed, problems %q", values, problems)
			}
		}
	})
}

// TestChartCRDsAreConfigCRDs checks that the chart's crds/ holds exactly the CRDs of
// config/crd/bases, byte for byte; `make manifests` copies them.
func TestChartCRDsAreConfigCRDs(t *testing.T) {
	config, chartCRDs := filepath.Join(moduleRoot, "config", "crd", "bases"), filepath.Join(moduleRoot, chartPath, "crds")
	for _, p := range crdDifferences(t, config, chartCRDs) {
		t.Error(p, "(run make manifests)")
	}
	t.Run("a difference is caught", func(t *testing.T) {
		for name, tamper := range map[string]func(dir string){
			"an edited CRD": func(dir string) {
				path := filepath.Join(dir, "oauth2.clientoperator.dev_oauth2clients.yaml")
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, bytes.Replace(raw, []byte("maxLength: 256"), []byte("maxLength: 257"), 1), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			"a stale CRD": func(dir string) {
				if err := os.WriteFile(filepath.Join(dir, "old.yaml"), []byte("---\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			"a missing CRD": func(dir string) {
				if err := os.Remove(filepath.Join(dir, "oauth2.clientoperator.dev_oauth2clients.yaml")); err != nil {
					t.Fatal(err)
				}
			},
		} {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(chartCRDs)); err != nil {
				t.Fatal(err)
			}
			tamper(dir)
			if len(crdDifferences(t, config, dir)) == 0 {
				t.Errorf("%s: no difference reported", name)
			}
		}
	})
}

// crdDifferences lists the files that differ between two folders of CRDs.
func crdDifferences(t *testing.T, want, got string) []string {
	t.Helper()
	read := func(dir string) map[string][]byte {
		files := map[string][]byte{}
		paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if files[filepath.Base(p)], err = os.ReadFile(p); err != nil {
				t.Fatal(err)
			}
		}
		return files
	}
	wantFiles, gotFiles := read(want), read(got)
	if len(wantFiles) == 0 {
		t.Fatalf("no CRDs in %s", want)
	}
	var diffs []string
	for name, w := range wantFiles {
		g, ok := gotFiles[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s is missing from %s", name, got))
		case !bytes.Equal(w, g):
			diffs = append(diffs, fmt.Sprintf("%s in %s differs from %s", name, got, want))
		}
	}
	for name := range gotFiles {
		if _, ok := wantFiles[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s in %s is not in %s", name, got, want))
		}
	}
	return diffs
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(filepath.Join(moduleRoot, chartPath))
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return ch
}

// serverKubeVersion is the test API server's version, for the chart's kubeVersion constraint and
// .Capabilities, as `helm install` would learn it from the cluster.
func serverKubeVersion(t *testing.T) *common.KubeVersion {
	t.Helper()
	var v struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, "version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	kv, err := common.ParseKubeVersion(v.ServerVersion.GitVersion)
	if err != nil {
		t.Fatalf("the server's version %q: %v", v.ServerVersion.GitVersion, err)
	}
	return kv
}

// renderChart renders the chart as `helm install --dry-run=client --include-crds -f values`
// does: values merged over values.yaml and checked against values.schema.json, CRDs from crds/
// first. It parses the values itself because Helm's merge consumes the map it is given (a null
// that removes a default is deleted from it), so a map can't serve two calls.
func renderChart(ch *chart.Chart, releaseName, values string, kube *common.KubeVersion) (string, error) {
	vals, err := common.ReadValues([]byte(values))
	if err != nil {
		return "", fmt.Errorf("values %q: %w", values, err)
	}
	install := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = releaseName
	install.Namespace = chartNamespace
	install.IncludeCRDs = true
	install.KubeVersion = kube
	// Offered as the cluster's, as a cluster with the Prometheus Operator would; the chart does
	// not need it, but must not depend on its absence either. MutatingAdmissionPolicy, as
	// `helm install` learns from the tests' API server (1.36+), which serves it.
	install.APIVersions = common.VersionSet{"monitoring.coreos.com/v1", "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"}
	r, err := install.Run(ch, vals)
	if err != nil {
		return "", err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return "", fmt.Errorf("install returned a %T", r)
	}
	return rel.Manifest, nil
}

// lintChart runs `helm lint --strict -f values`: warnings fail too.
func lintChart(t *testing.T, values string, kube *common.KubeVersion) {
	t.Helper()
	vals, err := common.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("values %q: %v", values, err)
	}
	lint := action.NewLint()
	lint.Strict = true
	lint.Namespace = chartNamespace
	lint.KubeVersion = kube
	result := lint.Run([]string{filepath.Join(moduleRoot, chartPath)}, vals)
	for _, m := range result.Messages {
		t.Logf("helm lint: %s", m)
	}
	for _, err := range result.Errors {
		t.Errorf("helm lint: %v", err)
	}
	if result.TotalChartsLinted != 1 {
		t.Errorf("helm lint linted %d charts, want 1", result.TotalChartsLinted)
	}
}

// chartProblems checks what every installation needs: the Deployment as deploymentProblems
// requires of the install bundle, every namespaced object in a namespace, and the operator's
// RBAC.
func chartProblems(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) []string {
	t.Helper()
	problems := deploymentProblems(d, objs)
	if d.Namespace != chartNamespace {
		problems = append(problems, fmt.Sprintf("the Deployment is in %q, not the release's namespace", d.Namespace))
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
		default:
			if o.GetNamespace() == "" {
				problems = append(problems, fmt.Sprintf("%s %s has no namespace: `kubectl apply` would put it in the current one", o.GetKind(), o.GetName()))
			}
		}
	}
	return append(problems, managerRBACProblems(t, objs, d)...)
}

// managerRBACProblems checks that the chart grants the operator's ServiceAccount exactly the
// rules controller-gen generated into config/rbac/manager/role.yaml: cluster-wide, or with
// --watch-namespaces a Role in each watched namespace and nothing cluster-wide; that the
// fingerprint-key Role names the Secret the operator is told to use; and that the helper roles
// for people are config/rbac's.
func managerRBACProblems(t *testing.T, objs []unstructured.Unstructured, d *appsv1.Deployment) []string {
	t.Helper()
	want := configRules(t, "manager/role.yaml")
	sa, ns := d.Spec.Template.Spec.ServiceAccountName, d.Namespace
	bindsSA := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == ns
		})
	}
	var problems []string
	// grants collects, per namespace ("" for cluster-wide), the rules bound to the operator.
	grants := map[string][][]rbacv1.PolicyRule{}
	clusterRoles := map[string]rbacv1.ClusterRole{}
	for _, o := range objectsOfKind(objs, "ClusterRole") {
		var r rbacv1.ClusterRole
		convert(t, o, &r)
		clusterRoles[r.Name] = r
	}
	// The cluster identity role (get on namespace kube-system alone) is bound in every mode and
	// checked on its own below: config/rbac/cluster_identity_role.yaml's rules, nothing more.
	identity := configRules(t, "cluster_identity_role.yaml")
	identityBound := false
	for _, o := range objectsOfKind(objs, "ClusterRoleBinding") {
		var b rbacv1.ClusterRoleBinding
		convert(t, o, &b)
		if !bindsSA(b.Subjects) {
			continue
		}
		if rules := clusterRoles[b.RoleRef.Name].Rules; strings.HasSuffix(b.RoleRef.Name, "-cluster-identity-role") {
			identityBound = true
			if !reflect.DeepEqual(rules, identity) {
				problems = append(problems, fmt.Sprintf("the cluster identity role grants %v, not config/rbac/cluster_identity_role.yaml's %v", rules, identity))
			}
		} else {
			grants[""] = append(grants[""], rules)
		}
	}
	if !identityBound && !slices.ContainsFunc(manager(d).Args, func(a string) bool { return strings.HasPrefix(a, "--cluster-name=") }) {
		problems = append(problems, "without --cluster-name the operator reads namespace kube-system, but no cluster identity role is bound to it")
	}
	roles := map[string]rbacv1.Role{}
	for _, o := range objectsOfKind(objs, "Role") {
		var r rbacv1.Role
		convert(t, o, &r)
		roles[r.Namespace+"/"+r.Name] = r
	}
	for _, o := range objectsOfKind(objs, "RoleBinding") {
		var b rbacv1.RoleBinding
		convert(t, o, &b)
		if bindsSA(b.Subjects) && b.Namespace != ns {
			grants[b.Namespace] = append(grants[b.Namespace], roles[b.Namespace+"/"+b.RoleRef.Name].Rules)
		}
	}
	// Where the manager's rules must be granted, and only there.
	where := watchNamespaces(d)
	if len(where) == 0 {
		where = []string{""}
	}
	for scope, rules := range grants {
		if !slices.Contains(where, scope) {
			problems = append(problems, fmt.Sprintf("the operator is granted %v in %q, outside its watched namespaces %q", rules, scope, where))
		}
	}
	for _, scope := range where {
		if got := grants[scope]; len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			problems = append(problems, fmt.Sprintf("the operator's rules in %q are %v, not config/rbac/manager/role.yaml's %v", scope, got, want))
		}
	}

	// The fingerprint key: get on exactly the Secret named by --fingerprint-key-secret.
	key := "oauth2-client-operator-fingerprint-key"
	for _, a := range manager(d).Args {
		if v, ok := strings.CutPrefix(a, "--fingerprint-key-secret="); ok {
			key = v
		}
	}
	if !slices.ContainsFunc(objectsOfKind(objs, "Role"), func(o unstructured.Unstructured) bool {
		var r rbacv1.Role
		convert(t, o, &r)
		return r.Namespace == ns && slices.ContainsFunc(r.Rules, func(p rbacv1.PolicyRule) bool {
			return slices.Equal(p.Resources, []string{"secrets"}) && slices.Equal(p.ResourceNames, []string{key}) && slices.Contains(p.Verbs, "get")
		})
	}) {
		problems = append(problems, fmt.Sprintf("no Role in %s lets the operator get its fingerprint key Secret %s", ns, key))
	}

	for _, helper := range []string{"oauth2client-editor-role", "oauth2client-viewer-role", "authorizationserver-admin-role"} {
		for name, r := range clusterRoles {
			if strings.HasSuffix(name, "-"+helper) && !reflect.DeepEqual(r.Rules, configRules(t, strings.ReplaceAll(helper, "-", "_")+".yaml")) {
				problems = append(problems, fmt.Sprintf("ClusterRole %s's rules differ from config/rbac/%s.yaml's", name, helper))
			}
		}
	}
	return problems
}

// configRules reads the rules of a role in config/rbac.
func configRules(t *testing.T, file string) []rbacv1.PolicyRule {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(moduleRoot, "config", "rbac", file))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &role); err != nil || len(role.Rules) == 0 {
		t.Fatalf("config/rbac/%s: no rules (%v)", file, err)
	}
	return role.Rules
}

func convert(t *testing.T, o unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

// watchNamespaces is the --watch-namespaces the operator is started with.
func watchNamespaces(d *appsv1.Deployment) []string {
	var namespaces []string
	for _, a := range manager(d).Args {
		if v, ok := strings.CutPrefix(a, "--watch-namespaces="); ok {
			namespaces = strings.Split(v, ",")
		}
	}
	return namespaces
}

func wantArgs(t *testing.T, d *appsv1.Deployment, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(manager(d).Args, w) {
			t.Errorf("the operator's args lack %s: %q", w, manager(d).Args)
		}
	}
}

func noArgWithPrefix(t *testing.T, d *appsv1.Deployment, prefixes ...string) {
	t.Helper()
	for _, a := range manager(d).Args {
		for _, p := range prefixes {
			if strings.HasPrefix(a, p) {
				t.Errorf("unexpected arg %s", a)
			}
		}
	}
}

// selects checks that the label selector at path in o matches the labels.
func selects(t *testing.T, what string, o unstructured.Unstructured, path []string, labels map[string]string) {
	t.Helper()
	selector, found, err := unstructured.NestedStringMap(o.Object, path...)
	if err != nil || !found || len(selector) == 0 {
		t.Errorf("%s has no selector at %v: %v", what, path, err)
		return
	}
	for k, v := range selector {
		if labels[k] != v {
			t.Errorf("%s selects %s=%s, which the labels %v lack", what, k, v, labels)
		}
	}
}

// dryRunApply applies the manifest with a server-side dry run, warnings as errors, and checks
// that the server took every object.
func dryRunApply(t *testing.T, manifest string, objects int) {
	t.Helper()
	out := kubectl(t, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", writeManifest(t, "chart.yaml", manifest))
	if n := strings.Count(out, "serverside-applied (server dry run)"); n != objects {
		t.Errorf("the dry run applied %d of %d objects:\n%s", n, objects, out)
	}
}

// installServiceMonitorCRD installs a minimal CRD for the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1), which the test API server lacks, so that the chart's ServiceMonitor
// goes through the dry run like every other object. The schema accepts any spec: the
// ServiceMonitor's fields are checked by the row that enables it.
func installServiceMonitorCRD(t *testing.T) {
	t.Helper()
	const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names:
    kind: ServiceMonitor
    listKind: ServiceMonitorList
    plural: servicemonitors
    singular: servicemonitor
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`
	kubectl(t, "apply", "--server-side", "-f", writeManifest(t, "servicemonitor-crd.yaml", crd))
	kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/servicemonitors.monitoring.coreos.com")
	t.Cleanup(func() {
		kubectl(t, "delete", "--ignore-not-found", "--wait=false", "crd/servicemonitors.monitoring.coreos.com")
	})
}

// TestChartValuesAreDocumented checks that values.yaml documents every top-level value: a
// comment right above the key, in its block's first line, or above the group of keys it
// starts (keys on consecutive lines, such as podAnnotations and podLabels); and that
// values.schema.json describes each of them, so none escapes the schema's checks.
func TestChartValuesAreDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(moduleRoot, chartPath, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range undocumentedValues(string(raw)) {
		t.Errorf("values.yaml: %s has no comment", key)
	}
	t.Run("an undocumented value is caught", func(t *testing.T) {
		if got := undocumentedValues("# documented\na: 1\nb: 2\n\nc: 3\nd:\n  # documented\n  e: 1\n"); !slices.Equal(got, []string{"c"}) {
			t.Errorf("undocumented %q, want [c]", got)
		}
	})

	var values map[string]any
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	schemaRaw, err := os.ReadFile(filepath.Join(moduleRoot, chartPath, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schemaRaw, &schema); err != nil {
		t.Fatal(err)
	}
	for key := range values {
		if _, ok := schema.Properties[key]; !ok {
			t.Errorf("values.schema.json does not describe %s", key)
		}
	}
	for key := range schema.Properties {
		if _, ok := values[key]; !ok {
			t.Errorf("values.schema.json describes %s, which values.yaml lacks", key)
		}
	}
}

// undocumentedValues lists the top-level keys of a values file that no comment describes.
func undocumentedValues(values string) []string {
	lines := strings.Split(values, "\n")
	var missing []string
	// Whether the line before is a top-level key that is documented: a key right after it
	// belongs to its group (podAnnotations, podLabels).
	groupDocumented := false
	for i, line := range lines {
		isKey := line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '-' && strings.Contains(line, ":")
		if !isKey {
			groupDocumented = false
			continue
		}
		above := i > 0 && strings.HasPrefix(lines[i-1], "#")
		firstChild := i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "#")
		groupDocumented = above || firstChild || groupDocumented
		if !groupDocumented {
			missing = append(missing, strings.SplitN(line, ":", 2)[0])
		}
	}
	return missing
}
