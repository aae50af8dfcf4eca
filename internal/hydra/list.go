package hydra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/pagetoken"
)

// listedClient decodes one client of a list page. It is OAuth2Client without the SDK's
// UnmarshalJSON, which decodes every client twice, the second time into a map of all its
// fields to keep those the SDK does not know (AdditionalProperties, which the operator never
// reads). The drift scan reads every client at Hydra on every interval; on a page of 500
// clients the SDK's decoding allocates twice the bytes and 2.7 times the objects of this one
// and takes 3 times as long (BenchmarkListPageDecode), and at 10,000 clients that garbage set
// the operator's peak memory.
type listedClient OAuth2Client

// listPage reads one page of GET /admin/clients on the SDK's HTTP client (same TLS, credentials
// and write fence), with the same timeout, metrics and error typing as the SDK's calls, and
// decodes the clients one by one from the answer as it arrives.
func (a *adapter) listPage(ctx context.Context, owner string, pageSize int, token string) ([]OAuth2Client, string, error) {
	query := url.Values{}
	if pageSize > 0 {
		query.Set("page_size", strconv.Itoa(min(pageSize, maxPageSize)))
	}
	if token != "" {
		query.Set("page_token", token)
	}
	if owner != "" {
		query.Set("owner", owner)
	}
	page, resp, err := call(ctx, a, "list", "", func(ctx context.Context) ([]OAuth2Client, *http.Response, error) { //nolint:bodyclose // the closure closes it; call reads only the status
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/admin/clients?"+query.Encode(), nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", a.userAgent)
		resp, err := a.http.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode >= 300 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			return nil, resp, &answerError{body: body}
		}
		page, err := decodePage(resp.Body)
		return page, resp, err
	})
	if err != nil {
		return nil, "", err
	}
	return page, pagetoken.Next(resp.Header.Values("Link")), nil
}

// decodePage decodes a JSON array of clients, one element at a time, so that the answer is
// never held whole; null or an empty array is an empty page.
func decodePage(r io.Reader) ([]OAuth2Client, error) {
	dec := json.NewDecoder(r)
	start, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if start == nil {
		return nil, nil
	}
	if start != json.Delim('[') {
		return nil, fmt.Errorf("a list of clients should be a JSON array, not %v", start)
	}
	var page []OAuth2Client
	for dec.More() {
		var c listedClient
		if err := dec.Decode(&c); err != nil {
			return nil, err
		}
		page = append(page, OAuth2Client(c))
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return page, nil
}

// answerError is a non-2xx answer to a request the adapter sends without the SDK; errorFor
// reads Hydra's error from its body as it does from the SDK's errors.
type answerError struct{ body []byte }

func (e *answerError) Error() string { return "unexpected answer" }
