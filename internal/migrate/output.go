package migrate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// manifest is what is written for a converted resource: only the fields a user writes. Marshalled
// from v1alpha1.OAuth2Client directly, the YAML would carry `creationTimestamp: null` and an
// empty status, which `kubectl apply --server-side` would then claim for the applier.
type manifest struct {
	APIVersion string                    `json:"apiVersion"`
	Kind       string                    `json:"kind"`
	Metadata   manifestMeta              `json:"metadata"`
	Spec       v1alpha1.OAuth2ClientSpec `json:"spec"`
}

type manifestMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Marshal renders a converted resource as one YAML document (without the --- separator).
func Marshal(c *v1alpha1.OAuth2Client) ([]byte, error) {
	return yaml.Marshal(manifest{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       "OAuth2Client",
		Metadata: manifestMeta{
			Name:        c.Name,
			Namespace:   c.Namespace,
			Labels:      c.Labels,
			Annotations: c.Annotations,
		},
		Spec: c.Spec,
	})
}

// WriteStream writes the resources as one multi-document YAML stream, each document opened by
// ---, for `kubectl apply -f -`.
func WriteStream(w io.Writer, clients []*v1alpha1.OAuth2Client) error {
	for _, c := range clients {
		data, err := Marshal(c)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}

// WriteDir writes each resource to dir/<namespace>/<name>.yaml, creating the directories, so a
// GitOps repository gets one directory per namespace. An existing file is replaced: a second run
// over the same input writes the same files.
func WriteDir(dir string, clients []*v1alpha1.OAuth2Client) error {
	for _, c := range clients {
		data, err := Marshal(c)
		if err != nil {
			return err
		}
		nsDir := filepath.Join(dir, c.Namespace)
		if err := os.MkdirAll(nsDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(nsDir, c.Name+".yaml"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
