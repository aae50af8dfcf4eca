package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/migrate"
)

const (
	goodClient = `apiVersion: hydra.ory.sh/v1alpha1
kind: OAuth2Client
metadata: {name: web, namespace: shop}
spec: {grantTypes: [client_credentials], secretName: web-credentials}
`
	refusedClient = `apiVersion: hydra.ory.sh/v1alpha1
kind: OAuth2Client
metadata: {name: legacy, namespace: shop}
spec: {grantTypes: [client_credentials], secretName: legacy, requestUris: [https://r.example]}
`
	otherDoc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
)

type migrateRun struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, stdin string, args ...string) migrateRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runMigrate(args, strings.NewReader(stdin), &stdout, &stderr)
	return migrateRun{code, stdout.String(), stderr.String()}
}

// TestMigrateExitStatus: 0 when all converted, 2 when one was refused (the others still
// written), 1 on errors with nothing written.
func TestMigrateExitStatus(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(file, []byte(goodClient), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		stdoutHas   string // "" means stdout must be empty
		stderrHas   string
	}{
		{"all converted", goodClient, []string{"-f", "-"}, 0, "name: web", "1 converted, 0 refused, 0 other documents ignored"},
		{"--filename and a file", "", []string{"--filename", file}, 0, "name: web", "shop/web: converted"},
		{"one refused", goodClient + "---\n" + refusedClient + "---\n" + otherDoc, []string{"-f", "-"}, 2, "name: web", "1 converted, 1 refused, 1 other documents ignored"},
		{"refused only", refusedClient, []string{"-f", "-"}, 2, "", "shop/legacy: refused: our API has no field for requestUris"},
		{"--drop-unsupported", refusedClient, []string{"-f", "-", "--drop-unsupported"}, 0, "name: legacy", "  warning: dropped requestUris"},
		{"no input", "", nil, 1, "", "give exactly one input: -f/--filename, -n/--namespace or -A/--all-namespaces"},
		{"two inputs", "", []string{"-f", file, "-A"}, 1, "", "give exactly one input"},
		{"namespace and all namespaces", "", []string{"-n", "shop", "--all-namespaces"}, 1, "", "give exactly one input"},
		{"a stray argument", "", []string{"-f", file, "extra"}, 1, "", "unexpected arguments extra"},
		{"an unknown flag", "", []string{"--frobnicate"}, 1, "", "flag provided but not defined: -frobnicate"},
		{"same key names", "", []string{"-f", file, "--client-id-key", "K", "--client-secret-key", "K"}, 1, "", `--client-id-key and --client-secret-key are both "K"`},
		{"an invalid key name", "", []string{"-f", file, "--client-id-key", "client id"}, 1, "", `--client-id-key "client id" is not a valid Secret key`},
		{"--kubeconfig with files", "", []string{"-f", file, "--kubeconfig", "/nonexistent"}, 1, "", "--kubeconfig applies to --namespace and --all-namespaces only"},
		{"a missing file", "", []string{"-f", filepath.Join(dir, "missing.yaml")}, 1, "", "no such file or directory"},
		{"unreadable YAML", goodClient + "---\nkind: [\n", []string{"-f", "-"}, 1, "", "stdin, document 2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			if tc.stdoutHas == "" && r.stdout != "" || !strings.Contains(r.stdout, tc.stdoutHas) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, tc.stdoutHas)
			}
			if !strings.Contains(r.stderr, tc.stderrHas) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tc.stderrHas)
			}
			if tc.code == 2 && strings.Contains(r.stdout, "name: legacy") {
				t.Error("the refused resource was written")
			}
		})
	}
}

// TestMigrateKeyFlags: --client-id-key and --client-secret-key reach the manifest.
func TestMigrateKeyFlags(t *testing.T) {
	r := runWith(t, goodClient, "-f", "-", "--client-id-key", "id", "--client-secret-key", "secret")
	if r.code != 0 || !strings.Contains(r.stdout, "  secretTemplate:\n    clientIDKey: id\n    clientSecretKey: secret\n") {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// TestMigrateDryRun: no manifests anywhere; the report alone, on stdout.
func TestMigrateDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := runWith(t, goodClient+"---\n"+refusedClient, "-f", "-", "--dry-run", "--output-dir", out)
	if r.code != 2 {
		t.Errorf("exit status %d, want 2", r.code)
	}
	if !strings.HasPrefix(r.stdout, "shop/web: converted\n") || !strings.HasSuffix(r.stdout, "1 converted, 1 refused, 0 other documents ignored\n") ||
		strings.Contains(r.stdout, "apiVersion") {
		t.Errorf("stdout is not the report alone:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--dry-run created %s (%v)", out, err)
	}
}

// TestMigrateOutputDir: files per namespace, nothing on stdout, the report on stderr.
func TestMigrateOutputDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "gitops")
	r := runWith(t, goodClient+"---\n"+refusedClient, "-f", "-", "--output-dir", out)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "shop/web: converted") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "shop", "web.yaml"))
	if err != nil || !strings.HasPrefix(string(data), "apiVersion: oauth2.clientoperator.dev/v1alpha1\nkind: OAuth2Client\n") {
		t.Errorf("shop/web.yaml: %v\n%s", err, data)
	}
	if _, err := os.Stat(filepath.Join(out, "shop", "legacy.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused resource was written (%v)", err)
	}
}

// TestMigrateHelp: --help exits 0 and names the runbook and every input and output flag.
func TestMigrateHelp(t *testing.T) {
	r := runWith(t, "", "--help")
	if r.code != 0 {
		t.Errorf("exit status %d", r.code)
	}
	for _, want := range []string{
		"docs/migrate-from-hydra-maester.md", "\n  -f, --filename PATH\n", "\n  -n, --namespace NS\n", "\n  -A, --all-namespaces\n",
		"\n  --output-dir DIR\n", "\n  --dry-run\n", "\n  --drop-unsupported\n", "\n  --client-id-key KEY\n",
		"\n  --client-secret-key KEY\n", "\n  --kubeconfig FILE\n", "(default CLIENT_ID)", "Exit status: 0",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestMigrateFromCluster: -n and -A list through the dynamic client; a failure to connect is
// exit status 1.
func TestMigrateFromCluster(t *testing.T) {
	var objs []runtime.Object
	for _, ns := range []string{"shop", "billing"} {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(`{"apiVersion":"hydra.ory.sh/v1alpha1","kind":"OAuth2Client","metadata":{"name":"web","namespace":"` + ns + `"},"spec":{"grantTypes":["client_credentials"],"secretName":"s"}}`)); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	var gotKubeconfig string
	fake := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{migrate.SourceGVR: "OAuth2ClientList"}, objs...)
	old := newDynamicClient
	t.Cleanup(func() { newDynamicClient = old })
	newDynamicClient = func(kubeconfig string) (dynamic.Interface, error) {
		gotKubeconfig = kubeconfig
		return fake, nil
	}
	r := runWith(t, "", "-n", "shop", "--kubeconfig", "/tmp/kc", "--dry-run")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "shop/web: converted\n") || strings.Contains(r.stdout, "billing/") ||
		!strings.HasSuffix(r.stdout, "1 converted, 0 refused, 0 other documents ignored\n") || gotKubeconfig != "/tmp/kc" {
		t.Errorf("-n shop: exit %d, kubeconfig %q, report:\n%s%s", r.code, gotKubeconfig, r.stdout, r.stderr)
	}
	r = runWith(t, "", "-A", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "billing/web: converted") || !strings.Contains(r.stdout, "shop/web: converted") {
		t.Errorf("-A: exit %d, report:\n%s%s", r.code, r.stdout, r.stderr)
	}
	fake.PrependReactor("list", "oauth2clients", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("the server could not find the requested resource")
	})
	r = runWith(t, "", "-n", "shop")
	if r.code != 1 || r.stdout != "" || r.stderr != "migrate: listing oauth2clients.hydra.ory.sh: the server could not find the requested resource\n" {
		t.Errorf("listing fails: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	newDynamicClient = func(string) (dynamic.Interface, error) { return nil, errors.New("no configuration has been provided") }
	r = runWith(t, "", "-A")
	if r.code != 1 || r.stderr != "migrate: connecting to the cluster: no configuration has been provided\n" {
		t.Errorf("unreachable cluster: exit %d, stderr %q", r.code, r.stderr)
	}
}
