//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// TestInstallBundleAppliesCleanly runs `make build-installer` on a copy of config/ and checks
// the dist/install.yaml it writes: the Deployment's restricted security context, resources and
// leader election, read from the parsed objects, and a server-side dry run against the real API
// server, as a new user's `kubectl apply -f dist/install.yaml` would, in a namespace that warns
// about the restricted Pod Security Standard, with warnings as errors.
func TestInstallBundleAppliesCleanly(t *testing.T) {
	const img = "registry.example/oauth2-client-operator:v0.0.0-e2e"
	raw := buildInstaller(t, img)
	objs := parseManifests(t, raw)
	for _, kind := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment"} {
		if len(objectsOfKind(objs, kind)) == 0 {
			t.Errorf("dist/install.yaml has no %s", kind)
		}
	}
	deploy := managerDeployment(t, objs)
	if got := deploy.Spec.Template.Spec.Containers[0].Image; got != img {
		t.Errorf("the Deployment's image is %q, not the IMG given to make build-installer (%q)", got, img)
	}
	for _, p := range deploymentProblems(deploy, objs) {
		t.Error(p)
	}
	t.Run("each check catches a weakened Deployment", func(t *testing.T) {
		for _, m := range deploymentWeakenings {
			weak := deploy.DeepCopy()
			m.weaken(weak)
			if problems := deploymentProblems(weak, objs); !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, m.want) }) {
				t.Errorf("%s: no problem mentioning %q, got %q", m.name, m.want, problems)
			}
		}
	})

	path := writeManifest(t, "install.yaml", string(raw))
	ensureRestrictedNamespace(t, deploy.Namespace)
	// --warnings-as-errors: a deprecated field or a pod-security warning fails the test too.
	out := kubectl(t, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", path)
	for _, want := range []string{"customresourcedefinition.apiextensions.k8s.io/oauth2clients.oauth2.clientoperator.dev", "deployment.apps/oauth2-client-operator-controller-manager"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run did not cover %s:\n%s", want, out)
		}
	}
	t.Run("a pod-security warning fails the dry run", func(t *testing.T) {
		weak := deploy.DeepCopy()
		weak.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
		manifest, err := yaml.Marshal(weak)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = cp.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", writeManifest(t, "weak.yaml", string(manifest)))
		if err == nil || !strings.Contains(err.Error(), "PodSecurity") {
			t.Fatalf("a Deployment that allows privilege escalation passed the dry run: %v", err)
		}
	})
}

// LeaderElectionID is the fixed name of the Lease the operator's replicas compete for
// (operator.LeaderElectionID, documented in docs/); the Lease the namespace's Role lets them take.
const leaderElectionID = "oauth2-client-operator.clientoperator.dev"

// buildInstaller runs the Makefile's build-installer recipe with IMG=img in a temporary folder
// holding a copy of config/, so the checkout stays untouched (the recipe edits
// config/manager/kustomization.yaml), and returns the dist/install.yaml it wrote. The
// manifests prerequisite is skipped: config/ is already generated, and `make verify` checks it
// is current.
func buildInstaller(t *testing.T, img string) []byte {
	t.Helper()
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		t.Fatal("KUSTOMIZE is not set: run this suite with `make test-e2e`, which builds the pinned kustomize")
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "config"), os.DirFS(filepath.Join(moduleRoot, "config"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-f", filepath.Join(moduleRoot, "Makefile"), "-C", dir,
		"-o", "manifests", "build-installer", "IMG="+img, "KUSTOMIZE="+kustomize)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-installer: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// parseManifests decodes a multi-document YAML file.
func parseManifests(t *testing.T, raw []byte) []unstructured.Unstructured {
	t.Helper()
	var objs []unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var obj unstructured.Unstructured
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("parsing the install bundle: %v", err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func objectsOfKind(objs []unstructured.Unstructured, kind string) []unstructured.Unstructured {
	var out []unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// managerDeployment is the bundle's one Deployment.
func managerDeployment(t *testing.T, objs []unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	deployments := objectsOfKind(objs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("the bundle has %d Deployments, want 1", len(deployments))
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(deployments[0].Object, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		t.Fatal("the Deployment has no containers")
	}
	return &d
}

// deploymentProblems lists where the Deployment falls short of the restricted Pod Security
// Standard as this project ships it, of resource requests and limits, or of leader election
// with the Lease the bundle's Role grants.
func deploymentProblems(d *appsv1.Deployment, objs []unstructured.Unstructured) []string {
	var problems []string
	pod := d.Spec.Template.Spec
	podSC := pod.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	for _, c := range append(append([]corev1.Container(nil), pod.InitContainers...), pod.Containers...) {
		problems = append(problems, containerProblems(c, podSC)...)
	}
	return append(problems, leaderElectionProblems(d, objs)...)
}

func containerProblems(c corev1.Container, podSC *corev1.PodSecurityContext) []string {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("container %s: ", c.Name)+fmt.Sprintf(format, args...))
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	// The container's setting wins over the pod's.
	runAsNonRoot, seccomp := podSC.RunAsNonRoot, podSC.SeccompProfile
	if sc.RunAsNonRoot != nil {
		runAsNonRoot = sc.RunAsNonRoot
	}
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	if !ptr.Deref(runAsNonRoot, false) {
		fail("runAsNonRoot is not true")
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail("seccompProfile is not RuntimeDefault: %v", seccomp)
	}
	if !ptr.Deref(sc.ReadOnlyRootFilesystem, false) {
		fail("readOnlyRootFilesystem is not true")
	}
	if ptr.Deref(sc.AllowPrivilegeEscalation, true) {
		fail("allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		fail("capabilities do not drop ALL and add none: %v", sc.Capabilities)
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		for what, list := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
			if q, ok := list[name]; !ok || q.IsZero() {
				fail("resources %s %s missing", what, name)
			}
		}
	}
	return problems
}

// leaderElectionProblems checks that the manager container elects a leader (flag or
// LEADER_ELECT, the flag winning), keeps the Lease in its own namespace, and that the bundle
// lets its ServiceAccount take that Lease there.
func leaderElectionProblems(d *appsv1.Deployment, objs []unstructured.Unstructured) []string {
	c := d.Spec.Template.Spec.Containers[0]
	enabled, leaseNS := false, d.Namespace
	for _, e := range c.Env {
		switch e.Name {
		case "LEADER_ELECT":
			enabled, _ = strconv.ParseBool(e.Value)
		case "LEADER_ELECTION_NAMESPACE":
			leaseNS = e.Value
		}
	}
	for _, arg := range c.Args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch {
		case name == "leader-elect" && !hasValue:
			enabled = true
		case name == "leader-elect":
			enabled, _ = strconv.ParseBool(value)
		case name == "leader-election-namespace":
			leaseNS = value
		}
	}
	var problems []string
	if !enabled {
		problems = append(problems, "leader election is off (no --leader-elect)")
	}
	if leaseNS != d.Namespace {
		problems = append(problems, fmt.Sprintf("the leader-election Lease is in %q, not the operator's namespace %q", leaseNS, d.Namespace))
	}
	if !mayTakeLease(objs, d.Namespace, d.Spec.Template.Spec.ServiceAccountName) {
		problems = append(problems, fmt.Sprintf("no Role binds ServiceAccount %s to get, create and update the leader-election Lease in %s", d.Spec.Template.Spec.ServiceAccountName, d.Namespace))
	}
	return problems
}

// mayTakeLease reports whether a RoleBinding in ns gives ServiceAccount ns/sa a Role in ns that
// allows what client-go's LeaseLock does: get, create and update Leases.
func mayTakeLease(objs []unstructured.Unstructured, ns, sa string) bool {
	roles := map[string]rbacv1.Role{}
	for _, o := range objectsOfKind(objs, "Role") {
		var r rbacv1.Role
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r) == nil && r.Namespace == ns {
			roles[r.Name] = r
		}
	}
	for _, o := range objectsOfKind(objs, "RoleBinding") {
		var b rbacv1.RoleBinding
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b) != nil || b.Namespace != ns || b.RoleRef.Kind != "Role" {
			continue
		}
		if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == ns
		}) {
			continue
		}
		for _, rule := range roles[b.RoleRef.Name].Rules {
			if slices.Contains(rule.APIGroups, "coordination.k8s.io") && slices.Contains(rule.Resources, "leases") &&
				(len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, leaderElectionID)) &&
				slices.Contains(rule.Verbs, "get") && slices.Contains(rule.Verbs, "create") && slices.Contains(rule.Verbs, "update") {
				return true
			}
		}
	}
	return false
}

// deploymentWeakenings each undo one property deploymentProblems requires; every one must be
// reported, so no check there is dead.
var deploymentWeakenings = []struct {
	name   string
	want   string // in the problem reported
	weaken func(*appsv1.Deployment)
}{
	{"runAsNonRoot false on the container", "runAsNonRoot", func(d *appsv1.Deployment) { manager(d).SecurityContext.RunAsNonRoot = ptr.To(false) }},
	{"runAsNonRoot on neither pod nor container", "runAsNonRoot", func(d *appsv1.Deployment) {
		manager(d).SecurityContext.RunAsNonRoot = nil
		d.Spec.Template.Spec.SecurityContext.RunAsNonRoot = nil
	}},
	{"readOnlyRootFilesystem false", "readOnlyRootFilesystem", func(d *appsv1.Deployment) { manager(d).SecurityContext.ReadOnlyRootFilesystem = ptr.To(false) }},
	{"readOnlyRootFilesystem unset", "readOnlyRootFilesystem", func(d *appsv1.Deployment) { manager(d).SecurityContext.ReadOnlyRootFilesystem = nil }},
	{"allowPrivilegeEscalation true", "allowPrivilegeEscalation", func(d *appsv1.Deployment) { manager(d).SecurityContext.AllowPrivilegeEscalation = ptr.To(true) }},
	{"allowPrivilegeEscalation unset", "allowPrivilegeEscalation", func(d *appsv1.Deployment) { manager(d).SecurityContext.AllowPrivilegeEscalation = nil }},
	{"capabilities not dropped", "capabilities", func(d *appsv1.Deployment) { manager(d).SecurityContext.Capabilities.Drop = nil }},
	{"a capability added", "capabilities", func(d *appsv1.Deployment) {
		manager(d).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
	}},
	{"seccomp Unconfined on the container", "seccompProfile", func(d *appsv1.Deployment) {
		manager(d).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	}},
	{"seccomp on neither pod nor container", "seccompProfile", func(d *appsv1.Deployment) {
		manager(d).SecurityContext.SeccompProfile = nil
		d.Spec.Template.Spec.SecurityContext.SeccompProfile = nil
	}},
	{"an init container without a security context", "container init", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: manager(d).Resources}}
	}},
	{"no cpu request", "requests cpu", func(d *appsv1.Deployment) { delete(manager(d).Resources.Requests, corev1.ResourceCPU) }},
	{"no memory request", "requests memory", func(d *appsv1.Deployment) { delete(manager(d).Resources.Requests, corev1.ResourceMemory) }},
	{"no cpu limit", "limits cpu", func(d *appsv1.Deployment) { delete(manager(d).Resources.Limits, corev1.ResourceCPU) }},
	{"no memory limit", "limits memory", func(d *appsv1.Deployment) { delete(manager(d).Resources.Limits, corev1.ResourceMemory) }},
	{"no --leader-elect", "leader election is off", func(d *appsv1.Deployment) {
		manager(d).Args = slices.DeleteFunc(manager(d).Args, func(a string) bool { return strings.HasPrefix(a, "--leader-elect") })
	}},
	{"--leader-elect=false last", "leader election is off", func(d *appsv1.Deployment) {
		manager(d).Args = append(manager(d).Args, "--leader-elect=false")
	}},
	{"the Lease in another namespace", "Lease is in", func(d *appsv1.Deployment) {
		manager(d).Env = append(manager(d).Env, corev1.EnvVar{Name: "LEADER_ELECTION_NAMESPACE", Value: "kube-system"})
	}},
	{"another ServiceAccount", "no Role binds", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ServiceAccountName = "default" }},
}

func manager(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }

// ensureRestrictedNamespace creates the namespace with Pod Security admission in warn mode for
// the restricted standard. Admission checks a Deployment's pod template only in warn and audit
// modes (enforce applies to pods, which a dry run never creates), and the dry run does not
// apply the bundle's own Namespace labels, so without this label a template that breaks the
// standard would pass silently.
func ensureRestrictedNamespace(t *testing.T, name string) {
	t.Helper()
	applyFile(t, writeManifest(t, "ns-"+name+".yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+name+
		"\n  labels:\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/warn-version: latest\n"))
}

// TestNamespacedBundleHasNoClusterWideAccess renders config/namespaced: the operator's rules
// become a Role in the watched namespace, and nothing grants it Secrets cluster-wide.
func TestNamespacedBundleHasNoClusterWideAccess(t *testing.T) {
	bundle := string(kustomizeBuild(t, "namespaced"))
	for _, doc := range strings.Split(bundle, "\n---\n") {
		if strings.Contains(doc, "kind: ClusterRole\n") && strings.Contains(doc, "- secrets") {
			t.Fatalf("a ClusterRole grants Secrets in namespaced mode:\n%s", doc)
		}
	}
	if !strings.Contains(bundle, "--watch-namespaces=apps") || !strings.Contains(bundle, "kind: Role\n") {
		t.Fatal("the namespaced bundle lacks the namespace list or the Role")
	}
	ensureRestrictedNamespace(t, installNamespace)
	ensureNamespaces(t, "apps")
	path := writeManifest(t, "install-namespaced.yaml", bundle)
	kubectl(t, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", path)
}

func kustomizeBuild(t *testing.T, overlay string) []byte {
	t.Helper()
	return kustomizeBuildDir(t, filepath.Join(moduleRoot, "config", overlay))
}

// kustomizeBuildDir runs `kustomize build dir` with further flags.
func kustomizeBuildDir(t *testing.T, dir string, flags ...string) []byte {
	t.Helper()
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		t.Fatal("KUSTOMIZE is not set: run this suite with `make test-e2e`, which builds the pinned kustomize")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kustomize, append([]string{"build", dir}, flags...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v: %s", dir, err, stderr.String())
	}
	return out
}

// ensureNamespaces creates namespaces, so a dry run of the objects in them can succeed.
func ensureNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		applyFile(t, writeManifest(t, "ns-"+n+".yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+n+"\n"))
	}
}
