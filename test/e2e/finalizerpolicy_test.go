//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFinalizerPolicy installs config/admission's MutatingAdmissionPolicy, as config/default and
// dist/install.yaml do, and creates an OAuth2Client with kubectl: the object the API server
// stores and returns already has the operator's finalizer, before the operator saw it, so the
// operator has no finalizer patch to send. With the policy removed, a new resource is created
// without it, and the operator adds it itself (the fallback for clusters before 1.36).
func TestFinalizerPolicy(t *testing.T) {
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		t.Fatal("KUSTOMIZE is not set: run this suite with `make test-e2e`, which builds the pinned kustomize")
	}
	out, err := exec.Command(kustomize, "build", filepath.Join(moduleRoot, "config", "admission")).Output()
	if err != nil {
		t.Fatalf("kustomize build config/admission: %v", err)
	}
	policy := writeManifest(t, "finalizer-policy.yaml", string(out))
	applyFile(t, policy)
	removed := false
	remove := func() {
		if !removed {
			kubectl(t, "delete", "-f", policy, "--wait=true")
			removed = true
		}
	}
	t.Cleanup(remove)

	ns := "e2e-finalizer-policy"
	newNamespace(t, ns)
	const finalizer = "oauth2.clientoperator.dev/finalizer"
	create := func(name string) string {
		t.Helper()
		path := writeManifest(t, name+".yaml", clientManifest(ns, name, clientSpec{GrantTypes: []string{"client_credentials"}}))
		t.Cleanup(func() { _, _ = cp.Kubectl(t.Context(), "delete", "-f", path, "--wait=false") })
		return kubectl(t, "create", "-f", path, "-o", "jsonpath={.metadata.finalizers}")
	}
	// The policy's binding may take a moment to reach the API server's admission chain.
	var got string
	eventually(t, 30*time.Second, func() error {
		got = create(fmt.Sprintf("with-policy-%d", time.Now().UnixNano()))
		if !strings.Contains(got, finalizer) {
			return fmt.Errorf("created with finalizers %q, want %s from the policy", got, finalizer)
		}
		return nil
	})

	remove()
	eventually(t, 30*time.Second, func() error {
		name := fmt.Sprintf("without-policy-%d", time.Now().UnixNano())
		if got := create(name); strings.Contains(got, finalizer) {
			return fmt.Errorf("created with finalizers %q after the policy was removed", got)
		}
		waitReady(t, ns, name)
		if got := kubectl(t, "-n", ns, "get", "oauth2client", name, "-o", "jsonpath={.metadata.finalizers}"); !strings.Contains(got, finalizer) {
			t.Fatalf("Ready without the policy, but finalizers %q: the operator did not add %s", got, finalizer)
		}
		return nil
	})
}
