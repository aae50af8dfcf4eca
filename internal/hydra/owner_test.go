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
		{OwnerIn("prod-eu", "shop", "web"), "shop", "web", true},
		{"oauth2-client-operator:shop/web@", "", "", false},
		{"oauth2-client-operator:shop/web@a@b", "", "", false},
		{"oauth2-client-operator:shop/@prod", "", "", false},
		{"oauth2-client-operator:shop@x/web", "", "", false},
	}
	for _, tt := range tests {
		ns, name, ok := ParseOwner(tt.owner)
		if ns != tt.namespace || name != tt.name || ok != tt.ok {
			t.Errorf("ParseOwner(%q) = %q, %q, %v; want %q, %q, %v", tt.owner, ns, name, ok, tt.namespace, tt.name, tt.ok)
		}
	}
}

func TestOwnerMarkInstallation(t *testing.T) {
	if got := OwnerIn("prod-eu", "shop", "web"); got != "oauth2-client-operator:shop/web@prod-eu" {
		t.Errorf("OwnerIn = %q", got)
	}
	tests := []struct {
		mark      string
		belongsTo bool // to shop/web of prod-eu
	}{
		{OwnerIn("prod-eu", "shop", "web"), true},
		{OwnerFor("shop", "web"), true}, // legacy: this installation wrote it before it had a name
		{OwnerIn("staging", "shop", "web"), false},
		{OwnerIn("prod-eu", "shop", "api"), false},
		{OwnerIn("prod-eu", "other", "web"), false},
		{OwnerFor("shop", "api"), false},
	}
	for _, tt := range tests {
		o, ok := ParseOwnerMark(tt.mark)
		if !ok {
			t.Fatalf("ParseOwnerMark(%q) not ok", tt.mark)
		}
		if o.String() != tt.mark {
			t.Errorf("round trip of %q = %q", tt.mark, o.String())
		}
		if got := o.BelongsTo("prod-eu", "shop", "web"); got != tt.belongsTo {
			t.Errorf("%q BelongsTo(prod-eu, shop, web) = %v, want %v", tt.mark, got, tt.belongsTo)
		}
	}
	for _, bad := range []string{"", "Prod", "a/b", "a@b", "-x", "x_y"} {
		if len(ValidInstallation(bad)) == 0 {
			t.Errorf("ValidInstallation(%q) accepted", bad)
		}
	}
	for _, good := range []string{"prod-eu", "0b5f6e1c-3d2a-4c1e-9f1a-2b3c4d5e6f70"} {
		if errs := ValidInstallation(good); len(errs) > 0 {
			t.Errorf("ValidInstallation(%q) = %v", good, errs)
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
