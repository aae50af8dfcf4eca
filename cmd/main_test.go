package main

import (
	"slices"
	"strings"
	"testing"
)

func TestNamespaceList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil: no restriction
	}{
		{"", nil},
		{"*", nil},
		{" * ", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , ,b", []string{"a", "b"}},
		{",,", nil},
		{"a,*", nil}, // a wildcard anywhere lifts the restriction, rather than being a namespace
		{"*,a", nil},
		{"team-*", []string{"team-*"}}, // a pattern is passed on as it is
	} {
		got := namespaceList(tc.in)
		if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("namespaceList(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestClientIDRules(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"*":                     "*",
		" a , ,b=b.* ":          "a|b=b.*",
		"platform-*=shared-*,x": "platform-*=shared-*|x",
	} {
		if got := strings.Join(clientIDRules(in), "|"); got != want {
			t.Errorf("clientIDRules(%q) = %q, want %q", in, got, want)
		}
	}
}
