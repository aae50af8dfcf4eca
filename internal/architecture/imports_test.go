// Package architecture holds the test that keeps the package map of docs/architecture.md true:
// which package of this module may import which. It runs in `make verify` and in the unit tier.
package architecture

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/oauth2-client-operator/oauth2-client-operator"

// mayImport is the package map: each package of the module (a directory relative to the module
// root) and the module packages its non-test code may import. A trailing "/..." stands for a
// directory and everything below it. A package missing here fails the test, so that a new
// package gets a place in the map (and in docs/architecture.md) when it is added.
var mayImport = map[string][]string{
	// The API types: what users write. They depend on nothing of ours.
	"api/v1alpha1": {},
	// Pure logic and adapters, each with one job.
	"internal/secrets":         {"api/v1alpha1"},
	"internal/hydra":           {"api/v1alpha1", "internal/hydra/pagetoken"},
	"internal/hydra/pagetoken": {},
	"internal/hydra/hydrafake": {"internal/hydra"},
	"internal/drift":           {"api/v1alpha1", "internal/clientcache", "internal/hydra"},
	"internal/clientcache":     {"api/v1alpha1"},
	"internal/validation":      {},
	"internal/health":          {},
	// The login and consent app of run-local and the e2e tier: local use only, no users.
	"internal/loginapp": {},
	// manager migrate: hydra-maester's OAuth2Clients into ours (files or a cluster listing).
	"internal/migrate": {"api/v1alpha1"},
	// The reconciler: the only place that decides what to do with an OAuth2Client.
	"controllers": {"api/v1alpha1", "internal/clientcache", "internal/drift", "internal/hydra", "internal/secrets"},
	// The wiring: builds the manager, caches, controllers, scanner and metrics from options.
	"internal/operator": {"api/v1alpha1", "controllers", "internal/clientcache", "internal/drift", "internal/hydra", "internal/secrets"},
	// The binary: flags into internal/operator's options, and manager migrate's into internal/migrate.
	"cmd": {"internal/operator", "internal/hydra", "internal/migrate"},
	// The container image without Docker (make image): the library and its program.
	"internal/image": {},
	"hack/image":     {"internal/image"},
	// Test support and the tools and tiers built on it; production code never imports them.
	"internal/testenv":      {"api/v1alpha1", "internal/hydra/pagetoken"},
	"hack/runlocal":         {"internal/testenv", "internal/loginapp"},
	"test/bench":            {"api/v1alpha1", "internal/testenv"},
	"test/bench/apicost":    {"api/v1alpha1", "internal/testenv"},
	"test/e2e":              {"api/v1alpha1", "internal/testenv", "internal/hydra", "internal/loginapp", "internal/secrets", "internal/image"},
	"test/fault":            {"api/v1alpha1", "internal/testenv", "internal/hydra"},
	"internal/architecture": {},
}

func TestPackageMap(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	imports, err := moduleImports(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 5 {
		t.Fatalf("found only %d packages under %s: the walk is broken", len(imports), root)
	}
	for pkg, deps := range imports {
		allowed, known := mayImport[pkg]
		if !known {
			t.Errorf("package %s is not in the package map: add it to mayImport and docs/architecture.md", pkg)
			continue
		}
		for _, dep := range deps {
			if !slices.ContainsFunc(allowed, func(a string) bool { return covers(a, dep) }) {
				t.Errorf("%s imports %s, which the package map does not allow (docs/architecture.md)", pkg, dep)
			}
		}
	}
}

func covers(allowed, pkg string) bool {
	if base, ok := strings.CutSuffix(allowed, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == allowed
}

// moduleImports maps each package directory of the module to the module packages its
// non-test Go files import (whatever their build tags).
func moduleImports(root string) (map[string][]string, error) {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if dep, ok := strings.CutPrefix(ip, module+"/"); ok && !slices.Contains(out[pkg], dep) {
				out[pkg] = append(out[pkg], path.Clean(dep))
			}
		}
		return nil
	})
	return out, err
}
