package operator

import (
	"context"
	"strings"
	"testing"
)

// A --cluster-name is used as given when it is a DNS label, and refused with the flag's name
// otherwise: it goes into Hydra's owner field, where '/' or '@' would make marks ambiguous.
func TestInstallationFromFlag(t *testing.T) {
	got, err := installation(context.Background(), nil, Options{ClusterName: "prod-eu"})
	if err != nil || got != "prod-eu" {
		t.Fatalf("installation = %q, %v", got, err)
	}
	for _, bad := range []string{"Prod", "prod/eu", "prod@eu", "-prod", strings.Repeat("a", 64)} {
		if _, err := installation(context.Background(), nil, Options{ClusterName: bad}); err == nil || !strings.Contains(err.Error(), "--cluster-name") {
			t.Errorf("--cluster-name %q: %v", bad, err)
		}
	}
}
