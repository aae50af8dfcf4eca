package secrets

import (
	"testing"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

func TestPrimaryGrantType(t *testing.T) {
	cases := []struct {
		name   string
		grants []v1alpha1.GrantType
		want   string
	}{
		{"authorization code before client credentials", []v1alpha1.GrantType{"client_credentials", "refresh_token", "authorization_code"}, "authorization_code"},
		{"client credentials alone", []v1alpha1.GrantType{"client_credentials"}, "client_credentials"},
		{"device code before jwt-bearer", []v1alpha1.GrantType{"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"}, "urn:ietf:params:oauth:grant-type:device_code"},
		{"implicit only as a last resort", []v1alpha1.GrantType{"implicit", "refresh_token"}, "implicit"},
		{"refresh token is never the registration's grant", []v1alpha1.GrantType{"refresh_token"}, ""},
		{"no grants", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PrimaryGrantType(tc.grants); got != tc.want {
				t.Fatalf("PrimaryGrantType(%v) = %q, want %q", tc.grants, got, tc.want)
			}
		})
	}
}
