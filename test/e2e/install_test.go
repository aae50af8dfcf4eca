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
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		t.Fatal("KUSTOMIZE is not set: run this suite with `make test-e2e`, which builds the pinned kustomize")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kustomize, "build", filepath.Join(moduleRoot, "config", "default"))
	bundle, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	for _, kind := range []string{"kind: CustomResourceDefinition", "kind: Deployment", "kind: ClusterRole", "kind: ServiceAccount", "readOnlyRootFilesystem: true", "runAsNonRoot: true"} {
		if !strings.Contains(string(bundle), kind) {
			t.Fatalf("the install bundle lacks %q", kind)
		}
	}
	path := writeManifest(t, "install.yaml", string(bundle))
	// The namespace has to exist for a dry run of the namespaced objects in it.
	applyFile(t, writeManifest(t, "install-namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: oauth2-client-operator-system\n"))
	// --warnings-as-errors: a deprecated field or a pod-security warning fails the test too.
	out := kubectl(t, "apply", "--server-side", "--dry-run=server", "--warnings-as-errors", "-f", path)
	for _, want := range []string{"customresourcedefinition.apiextensions.k8s.io/oauth2clients.oauth2.clientoperator.dev", "deployment.apps/oauth2-client-operator-controller-manager"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run did not cover %s:\n%s", want, out)
		}
	}
}
