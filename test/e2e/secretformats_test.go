//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// TestOAuth2ProxyFormatKeysAreOAuth2ProxyVariables holds the OAuth2Proxy format's keys to the
// real oauth2-proxy: each OAUTH2_PROXY_X must be the variable of a flag --x that the pinned
// oauth2-proxy has, or oauth2-proxy would ignore it and fall back to its default (for the scope,
// silently: a login without offline_access still works, without refresh tokens). The docs test
// signs in through oauth2-proxy configured by this format alone.
func TestOAuth2ProxyFormatKeysAreOAuth2ProxyVariables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "hack/testbins.sh", "oauth2-proxy")
	build.Dir = moduleRoot
	path, err := build.Output()
	if err != nil {
		t.Fatalf("hack/testbins.sh oauth2-proxy: %v", err)
	}
	// oauth2-proxy prints its flags with --help; its exit status is pflag's business, the
	// listing is what counts.
	help, err := exec.CommandContext(ctx, strings.TrimSpace(string(path)), "--help").CombinedOutput()
	if !strings.Contains(string(help), "--http-address") {
		t.Fatalf("oauth2-proxy --help lists no flags (%v):\n%s", err, help)
	}
	for _, key := range []string{secrets.OAuth2ProxyClientIDKey, secrets.OAuth2ProxyClientSecretKey, secrets.OAuth2ProxyCookieSecretKey,
		secrets.OAuth2ProxyIssuerURLKey, secrets.OAuth2ProxyProviderKey, secrets.OAuth2ProxyRedirectURLKey, secrets.OAuth2ProxyScopeKey} {
		flag := "--" + strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(key, "OAUTH2_PROXY_")), "_", "-")
		if !strings.Contains(string(help), flag+" ") && !strings.Contains(string(help), flag+"\n") {
			t.Errorf("%s: oauth2-proxy has no flag %s, so it does not read this variable", key, flag)
		}
	}
}
