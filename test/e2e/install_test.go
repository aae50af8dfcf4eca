//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInstallBundleAppliesCleanly renders the one-file install (what `make build-installer`
// writes to dist/install.yaml) and has the real API server validate every object in it with a
// server-side dry run, as a new user's `kubectl apply -f dist/install.yaml` would.
func TestInstallBundleAppliesCleanly(t *testing.T) {
	bundle := kustomizeBuild(t, "default")
	for _, kind := range []string{"kind: CustomResourceDefinition", "kind: Deployment", "kind: ClusterRole", "kind: ServiceAccount", "readOnlyRootFilesystem: true", "runAsNonRoot: true"} {
		if !strings.Contains(string(bundle), kind) {
			t.Fatalf("the install bundle lacks %q", kind)
		}
	}
	path := writeManifest(t, "install.yaml", string(bundle))
	ensureNamespaces(t, "oauth2-client-operator-system")
	// --warnings-as-errors: a deprecated field or a pod-security warning fails the test too.
	out := kubectl(t, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", path)
	for _, want := range []string{"customresourcedefinition.apiextensions.k8s.io/oauth2clients.oauth2.clientoperator.dev", "deployment.apps/oauth2-client-operator-controller-manager"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run did not cover %s:\n%s", want, out)
		}
	}
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
	ensureNamespaces(t, "oauth2-client-operator-system", "apps")
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
