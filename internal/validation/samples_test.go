package validation

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSamplesAreValid runs every manifest of config/samples, including the server samples that
// run-local doesn't apply, through its kind's CRD: a sample users copy must be accepted.
func TestSamplesAreValid(t *testing.T) {
	validators := map[string]*Validator{}
	n := 0
	err := filepath.WalkDir("../../config/samples", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		kind, _ := obj["kind"].(string)
		if _, known := CRDFiles[kind]; !known {
			t.Errorf("%s: kind %q has no CRD here", path, kind)
			return nil
		}
		if validators[kind] == nil {
			validators[kind] = newValidatorFor(t, kind)
		}
		n++
		if errs := validators[kind].Validate(context.Background(), roundTrip(t, obj), nil); len(errs) > 0 {
			t.Errorf("%s: refused: %v", path, errs.ToAggregate())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if validators["AuthorizationServer"] == nil || validators["ClusterAuthorizationServer"] == nil || n < 7 {
		t.Fatalf("found %d samples, not one of each kind: the walk is broken", n)
	}
}
