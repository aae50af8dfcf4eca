package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// GoBuildFlags are the flags of the image's `go build`, shared with the Dockerfile's builder stage
// (TestDockerfileMatchesImage compares them): no local paths (-trimpath), no VCS stamp that a
// dirty tree or a missing .git would change (-buildvcs=false), no symbol tables, and no build
// ID, which would otherwise differ between toolchains' caches. The binary is static
// (GoBuildEnv), as an image without libc needs.
func GoBuildFlags() []string {
	return []string{"-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}
}

// GoBuildEnv is the environment of the image's `go build` besides GOOS and GOARCH.
func GoBuildEnv() []string { return []string{"CGO_ENABLED=0"} }

// BuildBinary builds ./cmd of the module in moduleRoot for goos/goarch with GoBuildFlags into
// out. Compiler output goes to log (nil discards it).
func BuildBinary(ctx context.Context, moduleRoot, goos, goarch, out string, log io.Writer) error {
	args := append(append([]string{"build"}, GoBuildFlags()...), "-o", out, "./cmd")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(append(os.Environ(), GoBuildEnv()...), "GOOS="+goos, "GOARCH="+goarch)
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %v: %w", args, err)
	}
	return nil
}
