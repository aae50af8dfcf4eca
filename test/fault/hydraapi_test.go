//go:build fault

package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// hydraAdmin is the tests' own minimal reader of Hydra's admin API, talking to Hydra directly
// (never through a test proxy, whose counts are the operator's alone).
type hydraAdmin struct {
	base string
	http *http.Client
}

func newHydraAdmin(base string) *hydraAdmin {
	return &hydraAdmin{base: strings.TrimSuffix(base, "/"), http: &http.Client{Timeout: 15 * time.Second}}
}

// hydraClient is the part of Hydra's client representation the tests look at.
type hydraClient struct {
	ClientID   string   `json:"client_id"`
	Owner      string   `json:"owner"`
	Scope      string   `json:"scope"`
	GrantTypes []string `json:"grant_types"`
}

// list returns every client at Hydra, reading pages of 500.
func (h *hydraAdmin) list(ctx context.Context) ([]hydraClient, error) {
	all, _, err := testenv.ListHydraClients[hydraClient](ctx, h.http, h.base, "", 500, 1000)
	return all, err
}

// tokenClient asks Hydra's public token endpoint for tokens.
var tokenClient = &http.Client{Timeout: 15 * time.Second}

// clientCredentialsToken requests an access token with the client_credentials grant and HTTP
// Basic authentication (RFC 6749 4.4 and 2.3.1); nil means Hydra issued one.
func clientCredentialsToken(ctx context.Context, publicURL, clientID, clientSecret string) error {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(publicURL, "/")+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	resp, err := tokenClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.Unmarshal(data, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return fmt.Errorf("token for %s: HTTP %d %s", clientID, resp.StatusCode, strconv.Quote(out.Error))
	}
	return nil
}
