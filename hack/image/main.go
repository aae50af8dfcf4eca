// Command image builds the operator's container image without a Docker daemon (`make image`):
// the static binary, built with the image's flags, in one layer on an empty base (see
// internal/image), written as an OCI layout and a `docker load` tarball. It prints the digest,
// which is the same for every build of the same commit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run() error {
	img := flag.String("img", "oauth2-client-operator:dev", "Image name and tag, written into the tarball and the layout (IMG)")
	goos := flag.String("goos", "linux", "Operating system of the binary (GOOS)")
	goarch := flag.String("goarch", "amd64", "Architecture of the binary (GOARCH)")
	out := flag.String("out", "dist/image", "Folder for oci/ (an OCI image layout) and image.tar (for docker load)")
	flag.Parse()

	start := time.Now()
	ctx := context.Background()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tag, err := name.NewTag(*img)
	if err != nil {
		return fmt.Errorf("-img %q: %w", *img, err)
	}
	// The time and the revision are read together, before the build, so that a commit made
	// during the build can't give the image one commit's time and another's revision.
	created, err := image.SourceDate(ctx, root)
	if err != nil {
		return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
	}
	labels := image.Labels(image.Source{Revision: image.Revision(ctx, root), Version: tag.TagStr(), Created: created})
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	binPath := filepath.Join(*out, "manager-"+*goos+"-"+*goarch)
	if err := image.BuildBinary(ctx, root, *goos, *goarch, binPath, os.Stderr); err != nil {
		return err
	}
	binary, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	built, err := image.Build(image.Options{
		Binary:  binary,
		OS:      *goos,
		Arch:    *goarch,
		Created: created,
		Labels:  labels,
	})
	if err != nil {
		return err
	}
	w, err := image.Write(built, *out, *img)
	if err != nil {
		return err
	}
	fmt.Printf("image %s (%s/%s, created %s) in %s\n", *img, *goos, *goarch, created.Format(time.RFC3339), time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("  OCI layout: %s\n  tarball:    %s\n  digest:     %s\n", w.OCIDir, w.Tarball, w.Digest)
	if *goarch != runtime.GOARCH || *goos != runtime.GOOS {
		fmt.Println("  (built for another platform than this machine's)")
	}
	return nil
}
