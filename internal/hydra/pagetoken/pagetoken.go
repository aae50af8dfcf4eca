// Package pagetoken reads the page token of the next page from the Link headers of Hydra's
// admin API (RFC 8288). It is its own package, importing nothing of this module, so that the
// operator's adapter and the test tiers' own readers of the admin API share one paging rule.
package pagetoken

import (
	"net/url"
	"strings"
)

// Next returns the page_token of the rel="next" link in Link headers, or "" when there is none.
func Next(links []string) string {
	for _, header := range links {
		for _, link := range strings.Split(header, ",") {
			target, params, ok := strings.Cut(link, ";")
			if !ok || !hasRelNext(params) {
				continue
			}
			target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
			if u, err := url.Parse(target); err == nil {
				return u.Query().Get("page_token")
			}
		}
	}
	return ""
}

func hasRelNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}
