//go:build integration

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestServiceBindingSecretGetsATokenAsSpringWould reads a ServiceBinding Secret the way a Spring
// Boot application with Spring Cloud Bindings would: token-uri, client-id, client-secret and
// client-authentication-method from the binding, nothing from the test's own knowledge of Hydra,
// and obtains a token with them.
func TestServiceBindingSecretGetsATokenAsSpringWould(t *testing.T) {
	ns := newNamespace(t, "binding")
	obj := serviceClient(ns, "orders")
	obj.Spec.TokenEndpointAuthMethod = v1alpha1.AuthMethodClientSecretPost
	obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{Format: v1alpha1.SecretFormatServiceBinding,
		ServiceBinding: &v1alpha1.ServiceBindingOptions{Provider: "corp-sso"}}
	create(t, obj)
	waitReady(t, ns, "orders")

	s := getSecret(t, ns, "orders")
	binding := map[string]string{}
	for k, v := range s.Data {
		binding[k] = string(v)
	}
	rememberSecret(binding["client-secret"])
	if s.Type != "servicebinding.io/oauth2" || binding["type"] != "oauth2" || binding["provider"] != "corp-sso" {
		t.Fatalf("Secret type %q with type=%q provider=%q: not an oauth2 binding Spring would take", s.Type, binding["type"], binding["provider"])
	}
	if binding["authorization-grant-type"] != "client_credentials" || binding["scope"] != "read,write" ||
		binding["issuer-uri"] != hydraProc.PublicURL() {
		t.Fatalf("registration keys: grant %q, scope %q, issuer %q", binding["authorization-grant-type"], binding["scope"], binding["issuer-uri"])
	}
	if err := bindingToken(binding); err != nil {
		t.Fatal(err)
	}
}

// bindingToken requests a client_credentials token as Spring Security would build the request
// from a binding: at token-uri, with the scopes and the client authentication method it names.
func bindingToken(b map[string]string) error {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.ReplaceAll(b["scope"], ",", " ")}}
	switch b["client-authentication-method"] {
	case "client_secret_post":
		form.Set("client_id", b["client-id"])
		form.Set("client_secret", b["client-secret"])
	case "client_secret_basic":
	default:
		return fmt.Errorf("client-authentication-method %q", b["client-authentication-method"])
	}
	req, err := http.NewRequest(http.MethodPost, b["token-uri"], strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b["client-authentication-method"] == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(b["client-id"]), url.QueryEscape(b["client-secret"]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		return fmt.Errorf("token request with the binding's credentials at %s: %d %s", b["token-uri"], resp.StatusCode, body)
	}
	return nil
}

// TestOAuth2ProxySecretKeepsItsCookieSecret: the OAuth2Proxy Secret's credentials obtain a
// token, and its cookie secret, which oauth2-proxy's sessions depend on, stays the same when
// the client secret is rotated by deleting its key, while the new secret is registered.
func TestOAuth2ProxySecretKeepsItsCookieSecret(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "proxy-format")
	obj := serviceClient(ns, "proxy")
	obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{Format: v1alpha1.SecretFormatOAuth2Proxy}
	create(t, obj)
	waitReady(t, ns, "proxy")

	s := getSecret(t, ns, "proxy")
	id, secret, cookie := string(s.Data["OAUTH2_PROXY_CLIENT_ID"]), string(s.Data["OAUTH2_PROXY_CLIENT_SECRET"]), string(s.Data["OAUTH2_PROXY_COOKIE_SECRET"])
	rememberSecret(secret)
	rememberSecret(cookie)
	if string(s.Data["OAUTH2_PROXY_OIDC_ISSUER_URL"]) != hydraProc.PublicURL() || string(s.Data["OAUTH2_PROXY_PROVIDER"]) != "oidc" {
		t.Fatalf("issuer %q, provider %q", s.Data["OAUTH2_PROXY_OIDC_ISSUER_URL"], s.Data["OAUTH2_PROXY_PROVIDER"])
	}
	if err := tokenFor(id, secret, "read"); err != nil {
		t.Fatal(err)
	}

	patch := []byte(`[{"op":"remove","path":"/data/OAUTH2_PROXY_CLIENT_SECRET"}]`)
	if err := k8s.Patch(ctx, s, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		t.Fatal(err)
	}
	var fresh string
	eventually(t, 30*time.Second, func() error {
		fresh = string(getSecret(t, ns, "proxy").Data["OAUTH2_PROXY_CLIENT_SECRET"])
		if fresh == "" || fresh == secret {
			return fmt.Errorf("no new client secret yet")
		}
		return tokenFor(id, fresh, "read")
	})
	rememberSecret(fresh)
	if got := string(getSecret(t, ns, "proxy").Data["OAUTH2_PROXY_COOKIE_SECRET"]); got != cookie {
		t.Fatal("rotating the client secret replaced the cookie secret: every oauth2-proxy session would end")
	}
}

// TestSecretFormatIsImmutable: the API server refuses a change of format with the message that
// says what to do instead.
func TestSecretFormatIsImmutable(t *testing.T) {
	ns := newNamespace(t, "format-immutable")
	obj := serviceClient(ns, "svc")
	create(t, obj)
	patch := []byte(`{"spec":{"secretTemplate":{"format":"ServiceBinding"}}}`)
	err := k8s.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch), client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "secretTemplate.format cannot be changed") {
		t.Fatalf("changing the format: %v", err)
	}
}
