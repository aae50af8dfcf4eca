package image

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Source is what the labels say about where the image comes from.
type Source struct {
	// Revision is the commit (git rev-parse HEAD); empty when not built from a git checkout.
	Revision string
	// Version is the image's version, the tag of IMG for `make image`.
	Version string
	// Created is the source's time (SourceDate).
	Created time.Time
}

// Labels are the org.opencontainers.image annotation keys as config labels. There is no
// licenses label: the repository has no license file to name.
func Labels(s Source) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "oauth2-client-operator",
		"org.opencontainers.image.description": "Kubernetes operator that registers OAuth2Client resources as Ory Hydra clients and writes their credentials into Secrets",
		"org.opencontainers.image.source":      "https://github.com/oauth2-client-operator/oauth2-client-operator",
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.created":     s.Created.UTC().Format(time.RFC3339),
	}
	if s.Revision != "" {
		l["org.opencontainers.image.revision"] = s.Revision
	}
	return l
}

// SourceDate is the time the image claims: SOURCE_DATE_EPOCH when set (the reproducible-builds
// convention), else the commit time of HEAD in dir, else the Unix epoch. Never the clock, which
// would change the digest on every build.
func SourceDate(ctx context.Context, dir string) (time.Time, error) {
	if v, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	out, err := git(ctx, dir, "log", "-1", "--format=%ct")
	if err != nil {
		return time.Unix(0, 0).UTC(), nil //nolint:nilerr // not a git checkout: the epoch, as documented
	}
	secs, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0).UTC(), nil
}

// Revision is the commit of HEAD in dir, or "" when dir is not a git checkout.
func Revision(ctx context.Context, dir string) string {
	out, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return ""
	}
	return out
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}
