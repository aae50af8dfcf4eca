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
