package validation

import (
	"fmt"
	"maps"
	"os"

	"sigs.k8s.io/yaml"
)

// Case is one entry of a cases file (testdata/*.yaml): a spec and the refusal it must get (or
// none), for the kind the case or its file names (OAuth2Client when neither does).
type Case struct {
	Name    string                 `json:"name"`
	Kind    string                 `json:"kind,omitempty"`
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
		Kind  string                 `json:"kind"`
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
		file.Cases[i].Kind = kindOf(c.Kind, file.Kind)
	}
	return file.Cases, nil
}

// kindOf is the first kind named, from the case, then its file; OAuth2Client by default, so
// that the original cases file needs no kind.
func kindOf(kinds ...string) string {
	for _, k := range kinds {
		if k != "" {
			return k
		}
	}
	return "OAuth2Client"
}

// CRDFiles names, per kind, its CRD's file in config/crd/bases.
var CRDFiles = map[string]string{
	"OAuth2Client":               "oauth2.clientoperator.dev_oauth2clients.yaml",
	"AuthorizationServer":        "oauth2.clientoperator.dev_authorizationservers.yaml",
	"ClusterAuthorizationServer": "oauth2.clientoperator.dev_clusterauthorizationservers.yaml",
}

// Object wraps a spec into an OAuth2Client object as decoded JSON.
func Object(name string, spec map[string]interface{}) map[string]interface{} {
	return ObjectOf("OAuth2Client", name, spec)
}

// ObjectOf wraps a spec into an object of kind as decoded JSON: in namespace default, unless
// the kind is cluster-scoped.
func ObjectOf(kind, name string, spec map[string]interface{}) map[string]interface{} {
	metadata := map[string]interface{}{"name": name}
	if kind != "ClusterAuthorizationServer" {
		metadata["namespace"] = "default"
	}
	return map[string]interface{}{
		"apiVersion": "oauth2.clientoperator.dev/v1alpha1",
		"kind":       kind,
		"metadata":   metadata,
		"spec":       spec,
	}
}
