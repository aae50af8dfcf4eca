package hydra

import "testing"

func TestOwner(t *testing.T) {
	if got := OwnerFor("shop", "web"); got != "oauth2-client-operator:shop/web" {
		t.Errorf("OwnerFor = %q", got)
	}
	tests := []struct {
		owner     string
		namespace string
		name      string
		ok        bool
	}{
		{OwnerFor("shop", "web"), "shop", "web", true},
		{OwnerFor("a", "b.c-d"), "a", "b.c-d", true},
		{"", "", "", false},
		{"someone", "", "", false},
		{"shop/web", "", "", false},
		{"oauth2-client-operator:", "", "", false},
		{"oauth2-client-operator:shop", "", "", false},
		{"oauth2-client-operator:/web", "", "", false},
		{"oauth2-client-operator:shop/", "", "", false},
		{"oauth2-client-operator:shop/web/x", "", "", false},
		{"other-operator:shop/web", "", "", false},
	}
	for _, tt := range tests {
		ns, name, ok := ParseOwner(tt.owner)
		if ns != tt.namespace || name != tt.name || ok != tt.ok {
			t.Errorf("ParseOwner(%q) = %q, %q, %v; want %q, %q, %v", tt.owner, ns, name, ok, tt.namespace, tt.name, tt.ok)
		}
	}
}

func TestParseHydraMaesterOwner(t *testing.T) {
	tests := []struct {
		owner     string
		namespace string
		name      string
		ok        bool
	}{
		{"web/shop", "shop", "web", true},
		{"web.v2/shop-eu", "shop-eu", "web.v2", true},
		{"", "", "", false},
		{"web", "", "", false},
		{"web/", "", "", false},
		{"/shop", "", "", false},
		{"web/shop/x", "", "", false},            // a namespace cannot contain '/'
		{"web/shop.eu", "", "", false},           // nor a dot
		{"Web/shop", "", "", false},              // names are lower-case
		{"team app/shop", "", "", false},         // written by hand
		{OwnerFor("shop", "web"), "", "", false}, // ours, not hydra-maester's
		{"https://example.com/x", "", "", false},
	}
	for _, tt := range tests {
		ns, name, ok := ParseHydraMaesterOwner(tt.owner)
		if ns != tt.namespace || name != tt.name || ok != tt.ok {
			t.Errorf("ParseHydraMaesterOwner(%q) = %q, %q, %v; want %q, %q, %v", tt.owner, ns, name, ok, tt.namespace, tt.name, tt.ok)
		}
	}
}
