package hydrafake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Hydra's page sizes: the default when page_size is missing or not a number, and the cap.
const (
	defaultPageSize = 250
	maxPageSize     = 1000
)

// list answers one page of clients ordered by ID, filtered by owner and client_name (exact
// matches), with Hydra's Link and X-Total-Count headers. Like Hydra, it counts every client
// for the headers, not only those that pass the filter: a filtered list gets a next link past
// its last client and its last page may be empty.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	offset, pageSize := parsePagination(query)
	owner, name := query.Get("owner"), query.Get("client_name")

	f.mu.Lock()
	total := len(f.clients)
	var ids []string
	for id, rec := range f.clients {
		if (owner == "" || rec.owner == owner) && (name == "" || rec.name == name) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	page := make([]json.RawMessage, 0, pageSize)
	for _, id := range ids[min(offset, len(ids)):min(offset+pageSize, len(ids))] {
		page = append(page, f.clients[id].body)
	}
	f.mu.Unlock()

	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("Link", linkHeader(r.URL, total, offset, pageSize))
	writeJSON(w, http.StatusOK, page)
}

// parsePagination reads page_size and page_token as Hydra does: a size out of range is
// clamped, a token that does not decode means the first page, and the offset is rounded down
// to a whole number of pages.
func parsePagination(query url.Values) (offset, pageSize int) {
	pageSize = defaultPageSize
	if n, err := strconv.Atoi(query.Get("page_size")); err == nil {
		pageSize = min(max(n, 1), maxPageSize)
	}
	offset = decodePageToken(query.Get("page_token"))
	return max(offset/pageSize*pageSize, 0), pageSize
}

// Page tokens are Hydra's: base64url (unpadded) of {"offset":"<n>","v":2}.
func encodePageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"offset":"%d","v":2}`, offset))
}

func decodePageToken(token string) int {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0
	}
	var t struct {
		Offset string `json:"offset"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return 0
	}
	n, _ := strconv.Atoi(t.Offset)
	return n
}

// linkHeader builds the Link header as Hydra v2.3.0 does (ory/x pagination.HeaderWithFormatter),
// quirks included: no first link on the first page, a next link when there are no clients at
// all, and a single first link, sized to the total, when everything fits on one page.
func linkHeader(u *url.URL, total, offset, pageSize int) string {
	lastOffset := total / pageSize * pageSize
	if total%pageSize == 0 {
		lastOffset = total - pageSize
	}
	link := func(rel string, size, offset int) string { return pageLink(u, rel, size, offset) }
	switch {
	case offset >= lastOffset && total == 0:
		return join(link("first", pageSize, 0), link("next", pageSize, offset+pageSize), link("prev", pageSize, offset-pageSize))
	case offset >= lastOffset && total <= pageSize:
		return link("first", total, 0)
	case offset >= lastOffset:
		return join(link("first", pageSize, 0), link("prev", pageSize, lastOffset-pageSize))
	case offset < pageSize:
		return join(link("next", pageSize, pageSize), link("last", pageSize, lastOffset))
	}
	return join(link("first", pageSize, 0), link("next", pageSize, offset+pageSize),
		link("prev", pageSize, offset-pageSize), link("last", pageSize, lastOffset))
}

// pageLink is one link of the header: the request's own path and query with page_size and
// page_token replaced.
func pageLink(u *url.URL, rel string, size, offset int) string {
	q := u.Query()
	q.Set("page_size", strconv.Itoa(size))
	q.Set("page_token", encodePageToken(offset))
	target := url.URL{Path: u.Path, RawQuery: q.Encode()}
	return fmt.Sprintf("<%s>; rel=%q", target.String(), rel)
}

func join(links ...string) string { return strings.Join(links, ",") }
