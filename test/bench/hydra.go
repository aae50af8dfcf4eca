package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// hydraAdmin is the harness's own minimal client of Hydra's admin API. It is independent of
// the operator's adapter so that the harness measures, not shares, the operator's code.
type hydraAdmin struct {
	base string
	http *http.Client
}

func newHydraAdmin(base string, conns int) *hydraAdmin {
	return &hydraAdmin{base: strings.TrimSuffix(base, "/"), http: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
		},
	}}
}

// hydraClient is the part of Hydra's client representation the harness reads and writes.
type hydraClient struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	Owner                   string   `json:"owner,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
}

// reply is what the harness keeps of a Hydra response; the body is already read and closed.
type reply struct {
	status int
	header http.Header
}

func (h *hydraAdmin) do(ctx context.Context, method, path string, body any, want int) (*reply, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", harnessUserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	r := &reply{status: resp.StatusCode, header: resp.Header}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return r, nil, err
	}
	if resp.StatusCode != want {
		return r, data, fmt.Errorf("hydra %s %s: HTTP %d: %s", method, path, resp.StatusCode, truncate(string(data), 300))
	}
	return r, data, nil
}

// Create registers a client (POST /admin/clients).
func (h *hydraAdmin) Create(ctx context.Context, c hydraClient) error {
	_, _, err := h.do(ctx, http.MethodPost, "/admin/clients", c, http.StatusCreated)
	return err
}

// Delete removes a client; a missing one is not an error.
func (h *hydraAdmin) Delete(ctx context.Context, id string) error {
	r, _, err := h.do(ctx, http.MethodDelete, "/admin/clients/"+url.PathEscape(id), nil, http.StatusNoContent)
	if r != nil && r.status == http.StatusNotFound {
		return nil
	}
	return err
}

// List returns every client, reading pages of pageSize (Hydra allows at most 1000). It reads
// at most maxPages pages.
func (h *hydraAdmin) List(ctx context.Context, pageSize, maxPages int) ([]hydraClient, int, error) {
	return testenv.ListHydraClients[hydraClient](ctx, h.http, h.base, harnessUserAgent, pageSize, maxPages)
}

// newSecret returns a random client secret (32 URL-safe characters).
func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
