package image

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Written is where Write put an image.
type Written struct {
	// OCIDir is an OCI image layout (skopeo copy oci:DIR, crane push DIR).
	OCIDir string
	// Tarball is a `docker save` tarball with the tag (docker load -i FILE).
	Tarball string
	// Digest is the image manifest's digest, the one a registry shows after a push.
	Digest v1.Hash
}

// Write writes img under dir as an OCI layout (dir/oci) and a tarball (dir/image.tar), both
// naming it tag. What was there before is replaced, so the layout holds this image only.
func Write(img v1.Image, dir, tag string) (Written, error) {
	ref, err := name.NewTag(tag)
	if err != nil {
		return Written{}, fmt.Errorf("image tag %q: %w", tag, err)
	}
	w := Written{OCIDir: filepath.Join(dir, "oci"), Tarball: filepath.Join(dir, "image.tar")}
	if w.Digest, err = img.Digest(); err != nil {
		return Written{}, err
	}
	if err := os.RemoveAll(w.OCIDir); err != nil {
		return Written{}, err
	}
	p, err := layout.Write(w.OCIDir, empty.Index)
	if err != nil {
		return Written{}, err
	}
	// The ref.name annotation is the tag, which `skopeo copy oci:DIR:TAG` looks up.
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.TagStr(),
	})); err != nil {
		return Written{}, err
	}
	if err := tarball.WriteToFile(w.Tarball, ref, img); err != nil {
		return Written{}, err
	}
	return w, nil
}
