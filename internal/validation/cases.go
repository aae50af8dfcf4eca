package validation

import (
	"fmt"
	"maps"
	"os"

	"sigs.k8s.io/yaml"
)

// Case is one entry of testdata/cases.yaml: a spec and the refusal it must get (or none).
type Case struct {
	Name    string                 `json:"name"`
	Replace bool                   `json:"replace"`
	Spec    map[string]interface{} `json:"spec"`
	Error   string                 `json:"error"`
}

// LoadCases reads the shared validation cases and returns each case's full spec, the base spec
// merged with (or replaced by) the case's fields. Tests of the unit and integration tiers use it.
func LoadCases(path string) ([]Case, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		Base  map[string]interface{} `json:"base"`
		Cases []Case                 `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(raw, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, c := range file.Cases {
		spec := map[string]interface{}{}
		if !c.Replace {
			maps.Copy(spec, file.Base)
		}
		maps.Copy(spec, c.Spec)
		file.Cases[i].Spec = spec
	}
	return file.Cases, nil
}

// Object wraps a spec into an OAuth2Client object as decoded JSON.
func Object(name string, spec map[string]interface{}) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "oauth2.clientoperator.dev/v1alpha1",
		"kind":       "OAuth2Client",
		"metadata":   map[string]interface{}{"name": name, "namespace": "default"},
		"spec":       spec,
	}
}
