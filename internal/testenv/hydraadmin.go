package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/pagetoken"
)

// ListHydraClients reads every client from Hydra's admin API at base, page by page, decoding
// each into T (the fields a test looks at). It is the test tiers' own reader, independent of the
// operator's adapter so that they measure rather than share its code; only the paging rule
// (pagetoken.Next) is common. It returns the clients and the number of pages read, and
// fails after maxPages pages. userAgent, when set, lets a test proxy tell these reads apart.
func ListHydraClients[T any](ctx context.Context, c *http.Client, base, userAgent string, pageSize, maxPages int) ([]T, int, error) {
	var all []T
	token := ""
	for page := 0; page < maxPages; page++ {
		items, next, err := hydraListPage[T](ctx, c, base, userAgent, pageSize, token)
		if err != nil {
			return nil, page, err
		}
		all = append(all, items...)
		if len(items) == 0 || next == "" || next == token {
			return all, page + 1, nil
		}
		token = next
	}
	return nil, maxPages, fmt.Errorf("hydra list: more than %d pages", maxPages)
}

func hydraListPage[T any](ctx context.Context, c *http.Client, base, userAgent string, pageSize int, token string) ([]T, string, error) {
	q := url.Values{"page_size": {strconv.Itoa(pageSize)}}
	if token != "" {
		q.Set("page_token", token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/admin/clients?"+q.Encode(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("hydra list: HTTP %d: %.300s", resp.StatusCode, data)
	}
	var items []T
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, "", fmt.Errorf("hydra list: decoding a page: %w", err)
	}
	return items, pagetoken.Next(resp.Header.Values("Link")), nil
}
