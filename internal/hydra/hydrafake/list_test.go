package hydrafake

import (
	"net/url"
	"testing"
)

// TestLinkHeader compares with the headers a real Hydra v2.3.0 answered for a database of 7
// clients (the tokens are base64url of {"offset":"<n>","v":2}).
func TestLinkHeader(t *testing.T) {
	const (
		tok0 = "eyJvZmZzZXQiOiIwIiwidiI6Mn0"
		tok1 = "eyJvZmZzZXQiOiIxIiwidiI6Mn0"
		tok2 = "eyJvZmZzZXQiOiIyIiwidiI6Mn0"
		tok3 = "eyJvZmZzZXQiOiIzIiwidiI6Mn0"
		tok4 = "eyJvZmZzZXQiOiI0IiwidiI6Mn0"
		tok6 = "eyJvZmZzZXQiOiI2IiwidiI6Mn0"
	)
	link := func(query, rel string) string { return "</admin/clients?" + query + ">; rel=\"" + rel + "\"" }
	tests := []struct {
		query      string
		wantOffset int
		want       string
	}{
		{"owner=lo&page_size=2", 0,
			link("owner=lo&page_size=2&page_token="+tok2, "next") + "," + link("owner=lo&page_size=2&page_token="+tok6, "last")},
		{"owner=lo&page_size=2&page_token=" + tok2, 2,
			link("owner=lo&page_size=2&page_token="+tok0, "first") + "," + link("owner=lo&page_size=2&page_token="+tok4, "next") + "," +
				link("owner=lo&page_size=2&page_token="+tok0, "prev") + "," + link("owner=lo&page_size=2&page_token="+tok6, "last")},
		{"owner=lo&page_size=2&page_token=" + tok6, 6,
			link("owner=lo&page_size=2&page_token="+tok0, "first") + "," + link("owner=lo&page_size=2&page_token="+tok4, "prev")},
		{"page_size=2&page_token=" + tok3, 2, // rounded down to a whole page
			link("page_size=2&page_token="+tok0, "first") + "," + link("page_size=2&page_token="+tok4, "next") + "," +
				link("page_size=2&page_token="+tok0, "prev") + "," + link("page_size=2&page_token="+tok6, "last")},
		{"page_token=garbage!!&page_size=2", 0,
			link("page_size=2&page_token="+tok2, "next") + "," + link("page_size=2&page_token="+tok6, "last")},
		{"page_size=0", 0, link("page_size=1&page_token="+tok1, "next") + "," + link("page_size=1&page_token="+tok6, "last")},
		{"page_size=abc", 0, link("page_size=7&page_token="+tok0, "first")},
		{"page_size=5000", 0, link("page_size=7&page_token="+tok0, "first")},
	}
	for _, tt := range tests {
		u, err := url.Parse("/admin/clients?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		offset, pageSize := parsePagination(u.Query())
		if offset != tt.wantOffset {
			t.Errorf("%s: offset %d, want %d", tt.query, offset, tt.wantOffset)
		}
		if got := linkHeader(u, 7, offset, pageSize); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.query, got, tt.want)
		}
	}
}
