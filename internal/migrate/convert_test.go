package migrate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var defaultOpts = Options{ClientIDKey: DefaultClientIDKey, ClientSecretKey: DefaultClientSecretKey}

// source builds a hydra-maester OAuth2Client shop/web from YAML specs, a later one's fields
// replacing an earlier one's.
func source(t *testing.T, specYAML ...string) *unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{}
	for _, part := range specYAML {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(part), &m); err != nil {
			t.Fatalf("bad test spec: %v", err)
		}
		for k, v := range m {
			spec[k] = v
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "hydra.ory.sh/v1alpha1",
		"kind":       "OAuth2Client",
		"metadata":   map[string]any{"name": "web", "namespace": "shop"},
		"spec":       spec,
	}}
}

// canonical renders YAML or a Go value as JSON with sorted keys, so specs compare exactly.
func canonical(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		var m any
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("bad test YAML: %v", err)
		}
		v = m
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(m)
	return string(data)
}

// base is what every converted resource's spec has besides the mapped fields.
const base = `
grantTypes: [client_credentials]
secretName: web-credentials
requireExistingSecret: true
adoptFrom: HydraMaester
secretTemplate: {clientIDKey: CLIENT_ID, clientSecretKey: CLIENT_SECRET}
`

const baseIn = "grantTypes: [client_credentials]\nsecretName: web-credentials\n"

// TestConvertMapping has one row per row of the mapping: hydra-maester's field in, ours out.
func TestConvertMapping(t *testing.T) {
	v := crdValidator(t)
	for _, tc := range []struct {
		name, in, want string
		opts           *Options
		notes          []string // notes besides the requireExistingSecret and key ones, exactly
	}{
		{name: "minimal", in: "", want: ""},
		{name: "clientName", in: "clientName: Web Shop", want: "clientName: Web Shop"},
		{name: "grantTypes", in: "grantTypes: [authorization_code, refresh_token]", want: "grantTypes: [authorization_code, refresh_token]"},
		{
			name: "responseTypes", in: "grantTypes: [authorization_code]\nresponseTypes: [code, id_token]",
			want: "grantTypes: [authorization_code]\nresponseTypes: [code, id_token]",
		},
		{name: "redirectUris", in: "redirectUris: [https://a.example/cb, https://b.example/cb]", want: "redirectURIs: [https://a.example/cb, https://b.example/cb]"},
		{name: "postLogoutRedirectUris", in: "postLogoutRedirectUris: [https://a.example/bye]", want: "postLogoutRedirectURIs: [https://a.example/bye]"},
		{name: "allowedCorsOrigins", in: "allowedCorsOrigins: [https://a.example]", want: "allowedCORSOrigins: [https://a.example]"},
		{name: "audience", in: "audience: [https://api.example]", want: "audience: [https://api.example]"},
		{name: "scopeArray only", in: "scopeArray: [openid, email]", want: "scopes: [openid, email]"},
		{name: "scope only", in: "scope: 'openid  offline '", want: "scopes: [openid, offline]", notes: []string{"scope split into scopes: openid offline"}},
		{
			name: "scope and scopeArray merged, array first, duplicates removed", in: "scopeArray: [openid, profile, openid]\nscope: email openid",
			want:  "scopes: [openid, profile, email]",
			notes: []string{"scope and scopeArray merged into scopes: openid profile email", "duplicate scopes removed: openid"},
		},
		{name: "empty scope string", in: "scope: ' '", want: ""},
		{name: "skipConsent", in: "skipConsent: true", want: "skipConsent: true"},
		{name: "skipLogoutConsent", in: "skipLogoutConsent: true", want: "skipLogoutConsent: true"},
		{name: "tokenEndpointAuthMethod", in: "tokenEndpointAuthMethod: client_secret_post", want: "tokenEndpointAuthMethod: client_secret_post"},
		{name: "metadata", in: "metadata: {tier: gold, n: 3, nested: {a: [1, 2]}}", want: "metadata: {tier: gold, n: 3, nested: {a: [1, 2]}}"},
		{name: "metadata empty", in: "metadata: {}", want: ""},
		{name: "metadata null", in: "metadata: null", want: ""},
		{name: "jwksUri", in: "jwksUri: https://a.example/jwks.json", want: "jwksURI: https://a.example/jwks.json"},
		{name: "frontChannelLogoutURI", in: "frontChannelLogoutURI: https://a.example/fl", want: "frontchannelLogoutURI: https://a.example/fl"},
		{name: "frontChannelLogoutSessionRequired", in: "frontChannelLogoutSessionRequired: true", want: "frontchannelLogoutSessionRequired: true"},
		{name: "backChannelLogoutURI", in: "backChannelLogoutURI: https://a.example/bl", want: "backchannelLogoutURI: https://a.example/bl"},
		{name: "backChannelLogoutSessionRequired", in: "backChannelLogoutSessionRequired: true", want: "backchannelLogoutSessionRequired: true"},
		{name: "clientUri", in: "clientUri: https://a.example/", want: "clientURI: https://a.example/"},
		{name: "logoUri", in: "logoUri: https://a.example/logo.png", want: "logoURI: https://a.example/logo.png"},
		{name: "policyUri", in: "policyUri: https://a.example/privacy", want: "policyURI: https://a.example/privacy"},
		{name: "tosUri", in: "tosUri: https://a.example/tos", want: "tosURI: https://a.example/tos"},
		{name: "contacts", in: "contacts: [ops@example.com]", want: "contacts: [ops@example.com]"},
		{name: "subjectType", in: "subjectType: pairwise", want: "subjectType: pairwise"},
		{name: "accessTokenStrategy", in: "accessTokenStrategy: jwt", want: "accessTokenStrategy: jwt"},
		{
			name: "tokenLifespans, every key",
			in: `tokenLifespans:
  authorization_code_grant_access_token_lifespan: 1h
  authorization_code_grant_id_token_lifespan: 2h
  authorization_code_grant_refresh_token_lifespan: 720h
  client_credentials_grant_access_token_lifespan: 30m
  implicit_grant_access_token_lifespan: 5m
  implicit_grant_id_token_lifespan: 6m
  jwt_bearer_grant_access_token_lifespan: 7m
  refresh_token_grant_access_token_lifespan: 8m
  refresh_token_grant_id_token_lifespan: 9m
  refresh_token_grant_refresh_token_lifespan: 1h30m`,
			want: `tokenLifespans:
  authorizationCodeGrantAccessToken: 1h
  authorizationCodeGrantIDToken: 2h
  authorizationCodeGrantRefreshToken: 720h
  clientCredentialsGrantAccessToken: 30m
  implicitGrantAccessToken: 5m
  implicitGrantIDToken: 6m
  jwtBearerGrantAccessToken: 7m
  refreshTokenGrantAccessToken: 8m
  refreshTokenGrantIDToken: 9m
  refreshTokenGrantRefreshToken: 1h30m`,
		},
		{name: "tokenLifespans empty", in: "tokenLifespans: {}", want: ""},
		{name: "deletionPolicy delete", in: "deletionPolicy: delete", want: "deletionPolicy: Delete", notes: []string{"deletionPolicy delete -> Delete"}},
		{name: "deletionPolicy orphan", in: "deletionPolicy: orphan", want: "deletionPolicy: Orphan", notes: []string{"deletionPolicy orphan -> Orphan"}},
		{name: "hydraAdmin empty", in: "hydraAdmin: {}", want: ""},
		{name: "hydraAdmin zero values", in: "hydraAdmin: {url: '', port: 0}", want: ""},
		{name: "clientSecretExpiresAt zero", in: "clientSecretExpiresAt: 0", want: ""},
		{
			name: "key names from the flags", in: "", opts: &Options{ClientIDKey: "id", ClientSecretKey: "secret"},
			want: "secretTemplate: {clientIDKey: id, clientSecretKey: secret}",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := defaultOpts
			if tc.opts != nil {
				opts = *tc.opts
			}
			got, res := Convert(source(t, baseIn, tc.in), opts)
			if res.Refused() {
				t.Fatalf("refused: %v", res.Refusals)
			}
			want := map[string]any{}
			for _, part := range []string{base, tc.want} {
				m := map[string]any{}
				if err := yaml.Unmarshal([]byte(part), &m); err != nil {
					t.Fatal(err)
				}
				for k, v := range m {
					want[k] = v
				}
			}
			if g, w := canonical(t, got.Spec), canonical(t, want); g != w {
				t.Errorf("spec:\n got %s\nwant %s", g, w)
			}
			if errs := v.Validate(context.Background(), manifestObject(t, got), nil); len(errs) > 0 {
				t.Errorf("the API server would refuse the manifest: %v", errs.ToAggregate())
			}
			if got.Spec.ClientID != "" {
				t.Errorf("clientID set to %q; the ID must come from the Secret", got.Spec.ClientID)
			}
			wantNotes := append(append([]string{}, tc.notes...),
				"secretTemplate keys "+opts.ClientIDKey+" and "+opts.ClientSecretKey+" (hydra-maester's; other names: --client-id-key, --client-secret-key)",
				"requireExistingSecret: true: the operator waits for Secret web-credentials and never replaces it with new credentials")
			if g, w := strings.Join(res.Notes, "\n"), strings.Join(wantNotes, "\n"); g != w {
				t.Errorf("notes:\n%s\nwant:\n%s", g, w)
			}
			wantActions := []string{
				"share Secret shop/web-credentials with the new resource: kubectl annotate secret -n shop web-credentials oauth2.clientoperator.dev/client=web",
				"delete the old shop/web (hydra.ory.sh) only as docs/migrate-from-hydra-maester.md says: Secret web-credentials may be owned by it and is garbage-collected with it unless deleted with --cascade=orphan, and hydra-maester deletes the Hydra client when it goes",
			}
			if !slices.Equal(res.Actions, wantActions) {
				t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(res.Actions, "\n"), strings.Join(wantActions, "\n"))
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
		})
	}
}

// TestConvertRefusals: each resource the converter cannot carry over faithfully is refused, with
// every reason (one refusal per line of the want list, matched by its beginning).
func TestConvertRefusals(t *testing.T) {
	hydraAdmin := "hydraAdmin (%s) points at another Hydra; this operator serves the one Hydra its flags name: keep the resource with hydra-maester for now, or remove hydraAdmin if it names that same Hydra"
	unsupported := "our API has no field for %s; after adoption the operator would remove it from the Hydra client: remove it from the resource, or run with --drop-unsupported to convert without it"
	for _, tc := range []struct {
		name, spec string
		noNS       bool
		want       []string
	}{
		{name: "hydraAdmin url", spec: baseIn + "hydraAdmin: {url: http://hydra-admin.other}", want: []string{sprintf(hydraAdmin, "url")}},
		{name: "hydraAdmin port", spec: baseIn + "hydraAdmin: {port: 4445}", want: []string{sprintf(hydraAdmin, "port")}},
		{name: "hydraAdmin endpoint", spec: baseIn + "hydraAdmin: {endpoint: /clients}", want: []string{sprintf(hydraAdmin, "endpoint")}},
		{name: "hydraAdmin forwardedProto", spec: baseIn + "hydraAdmin: {forwardedProto: https}", want: []string{sprintf(hydraAdmin, "forwardedProto")}},
		{name: "hydraAdmin all", spec: baseIn + "hydraAdmin: {url: http://h, port: 1, endpoint: /c, forwardedProto: https}", want: []string{sprintf(hydraAdmin, "endpoint, forwardedProto, port, url")}},
		{name: "requestUris", spec: baseIn + "requestUris: [https://a.example/req]", want: []string{sprintf(unsupported, "requestUris")}},
		{name: "requestObjectSigningAlg", spec: baseIn + "requestObjectSigningAlg: RS256", want: []string{sprintf(unsupported, "requestObjectSigningAlg")}},
		{name: "sectorIdentifierUri", spec: baseIn + "sectorIdentifierUri: https://a.example/s.json", want: []string{sprintf(unsupported, "sectorIdentifierUri")}},
		{name: "tokenEndpointAuthSigningAlg", spec: baseIn + "tokenEndpointAuthSigningAlg: RS256", want: []string{sprintf(unsupported, "tokenEndpointAuthSigningAlg")}},
		{name: "userinfoSignedResponseAlg", spec: baseIn + "userinfoSignedResponseAlg: RS256", want: []string{sprintf(unsupported, "userinfoSignedResponseAlg")}},
		{name: "clientSecretExpiresAt", spec: baseIn + "clientSecretExpiresAt: 1700000000", want: []string{sprintf(unsupported, "clientSecretExpiresAt")}},
		{
			name: "two unsupported fields", spec: baseIn + "requestUris: [https://a.example/req]\nuserinfoSignedResponseAlg: RS256",
			want: []string{sprintf(unsupported, "requestUris"), sprintf(unsupported, "userinfoSignedResponseAlg")},
		},
		{
			name: "unknown fields", spec: baseIn + "frobnicate: true\nallowedCORSOrigins: [https://a.example]",
			want: []string{"unknown spec fields allowedCORSOrigins, frobnicate: this converter does not know how to carry them over; remove them, or convert the resource by hand"},
		},
		{
			name: "unknown tokenLifespans field", spec: baseIn + "tokenLifespans: {device_grant_lifespan: 1h}",
			want: []string{"unknown tokenLifespans fields device_grant_lifespan: remove them, or convert the resource by hand"},
		},
		{name: "deletionPolicy other", spec: baseIn + "deletionPolicy: Keep", want: []string{`deletionPolicy "Keep" is neither delete nor orphan: set one of them`}},
		{name: "deletionPolicy capitalised", spec: baseIn + "deletionPolicy: Orphan", want: []string{`deletionPolicy "Orphan" is neither delete nor orphan: set one of them`}},
		{name: "no secretName", spec: "grantTypes: [client_credentials]", want: []string{"spec.secretName is not set: hydra-maester requires it and the credentials to keep live there; set it to the Secret hydra-maester wrote"}},
		{name: "no grantTypes", spec: "secretName: s", want: []string{"grantTypes is empty: our API requires at least one grant type; set the grant types the client uses"}},
		{name: "metadata not an object", spec: baseIn + "metadata: [1]", want: []string{"metadata is not an object: our API stores an object; wrap the value in one"}},
		{name: "a field of the wrong type", spec: baseIn + "skipConsent: yes please", want: []string{"spec is not a valid hydra-maester spec: "}},
		{name: "no spec", spec: "", want: []string{"spec is not set"}},
		{
			name: "no namespace", spec: baseIn, noNS: true,
			want: []string{"metadata.namespace is not set: add the namespace the resource lives in (kubectl get -o yaml prints it)"},
		},
		{
			name: "several reasons at once", spec: "hydraAdmin: {url: http://h}\nsectorIdentifierUri: https://s\ndeletionPolicy: never\nextra: 1",
			want: []string{
				"unknown spec fields extra:", sprintf(hydraAdmin, "url"), "spec.secretName is not set", `deletionPolicy "never"`,
				"grantTypes is empty", sprintf(unsupported, "sectorIdentifierUri"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := source(t, tc.spec)
			if tc.spec == "" {
				unstructured.RemoveNestedField(in.Object, "spec")
			}
			if tc.noNS {
				in.SetNamespace("")
			}
			got, res := Convert(in, defaultOpts)
			if got != nil {
				t.Errorf("a refused resource was converted: %+v", got.Spec)
			}
			if len(res.Refusals) != len(tc.want) {
				t.Fatalf("refusals:\n%s\nwant %d:\n%s", strings.Join(res.Refusals, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(res.Refusals[i], w) {
					t.Errorf("refusal %d:\n got %s\nwant %s...", i, res.Refusals[i], w)
				}
			}
			if len(res.Actions) != 0 {
				t.Errorf("a refused resource has actions: %q", res.Actions)
			}
		})
	}
}

func sprintf(format, arg string) string { return strings.Replace(format, "%s", arg, 1) }

// TestDropUnsupported: with --drop-unsupported the fields go, each with a warning, and the rest
// is converted; refusals for other reasons stay.
func TestDropUnsupported(t *testing.T) {
	opts := defaultOpts
	opts.DropUnsupported = true
	got, res := Convert(source(t, baseIn+`clientName: Web
requestUris: [https://a.example/req]
requestObjectSigningAlg: RS256
sectorIdentifierUri: https://a.example/s.json
tokenEndpointAuthSigningAlg: RS256
userinfoSignedResponseAlg: RS256
clientSecretExpiresAt: 1700000000`), opts)
	if res.Refused() {
		t.Fatalf("refused: %v", res.Refusals)
	}
	if g, w := canonical(t, got.Spec), canonical(t, base+"clientName: Web"); g != w {
		t.Errorf("spec:\n got %s\nwant %s", g, w)
	}
	var want []string
	for _, f := range []string{"requestUris", "requestObjectSigningAlg", "sectorIdentifierUri", "tokenEndpointAuthSigningAlg", "userinfoSignedResponseAlg", "clientSecretExpiresAt"} {
		want = append(want, "dropped "+f+": our API has no field for it; after adoption the operator removes it from the Hydra client")
	}
	if g, w := strings.Join(res.Warnings, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("warnings:\n%s\nwant:\n%s", g, w)
	}

	_, res = Convert(source(t, baseIn+"requestUris: [https://a.example/req]\nhydraAdmin: {url: http://h}"), opts)
	if len(res.Refusals) != 1 || !strings.HasPrefix(res.Refusals[0], "hydraAdmin (url) points at another Hydra") {
		t.Errorf("--drop-unsupported must not lift the hydraAdmin refusal: %q", res.Refusals)
	}
}

// TestConvertMetadata: only labels and annotations are carried over, without the ones of the
// tools that deployed the old resource; the old object's identity and state never are.
func TestConvertMetadata(t *testing.T) {
	in := source(t, baseIn)
	in.Object["metadata"] = map[string]any{
		"name": "web", "namespace": "shop",
		"uid": "1b4e28ba", "resourceVersion": "42", "generation": int64(3),
		"creationTimestamp": "2025-01-01T00:00:00Z",
		"finalizers":        []any{"finalizer.ory.hydra.sh"},
		"ownerReferences":   []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u"}},
		"managedFields":     []any{map[string]any{"manager": "kubectl", "operation": "Apply"}},
		"labels": map[string]any{
			"app": "web", "team": "shop",
			"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "shop-release",
			"app.kubernetes.io/name": "web",
		},
		"annotations": map[string]any{
			"example.com/owner": "ops",
			"kubectl.kubernetes.io/last-applied-configuration": "{}",
			"argocd.argoproj.io/tracking-id":                   "shop:hydra.ory.sh/OAuth2Client:shop/web",
			"meta.helm.sh/release-name":                        "shop-release",
			"meta.helm.sh/release-namespace":                   "shop",
		},
	}
	in.Object["status"] = map[string]any{"observedGeneration": int64(3)}
	got, res := Convert(in, defaultOpts)
	if res.Refused() {
		t.Fatal(res.Refusals)
	}
	if g, w := canonical(t, got.ObjectMeta), canonical(t, `
name: web
namespace: shop
labels: {app: web, team: shop, app.kubernetes.io/name: web}
annotations: {example.com/owner: ops}`); g != w {
		t.Errorf("metadata:\n got %s\nwant %s", g, w)
	}
	if g := canonical(t, got.Status); g != "{}" {
		t.Errorf("status copied: %s", g)
	}
	wantNotes := []string{
		"labels copied: app, app.kubernetes.io/name, team",
		"labels not copied (they belong to the tool that deployed the old resource): app.kubernetes.io/instance, app.kubernetes.io/managed-by",
		"annotations copied: example.com/owner",
		"annotations not copied: argocd.argoproj.io/tracking-id, kubectl.kubernetes.io/last-applied-configuration, meta.helm.sh/release-name, meta.helm.sh/release-namespace",
	}
	if g, w := strings.Join(res.Notes[len(res.Notes)-4:], "\n"), strings.Join(wantNotes, "\n"); g != w {
		t.Errorf("notes:\n%s\nwant:\n%s", g, w)
	}
}

// TestConvertWarnsOfAFailedSource: hydra-maester's own error is passed on; an empty one is not.
func TestConvertWarnsOfAFailedSource(t *testing.T) {
	in := source(t, baseIn)
	in.Object["status"] = map[string]any{"reconciliationError": map[string]any{"statusCode": "CLIENT_REGISTRATION_FAILED", "description": "409 Conflict"}}
	_, res := Convert(in, defaultOpts)
	want := []string{"hydra-maester reported CLIENT_REGISTRATION_FAILED for it (status.reconciliationError): check that its Secret and Hydra client exist before you apply the new resource"}
	if !slices.Equal(res.Warnings, want) {
		t.Errorf("warnings: %q, want %q", res.Warnings, want)
	}
	in.Object["status"] = map[string]any{"reconciliationError": map[string]any{}}
	if _, res := Convert(in, defaultOpts); len(res.Warnings) != 0 {
		t.Errorf("warnings for an empty reconciliationError: %q", res.Warnings)
	}
}

// TestConvertAllRefusesDuplicates: the same resource read twice is converted once.
func TestConvertAllRefusesDuplicates(t *testing.T) {
	a, b := source(t, baseIn), source(t, baseIn+"clientName: other")
	clients, results := ConvertAll(Input{Resources: []*unstructured.Unstructured{a, b}}, defaultOpts)
	if len(clients) != 1 || clients[0].Spec.ClientName != "" {
		t.Fatalf("converted %d, want the first only", len(clients))
	}
	if len(results) != 2 || results[0].Refused() || !results[1].Refused() ||
		results[1].Refusals[0] != "given more than once: only the first one read is used" {
		t.Errorf("results: %+v", results)
	}
}

// TestOptionsValidate: the key flags follow the CRD's rules for secretTemplate's keys.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		id, secret, want string // want "" means valid
	}{
		{DefaultClientIDKey, DefaultClientSecretKey, ""},
		{"client-id.v2", "client_secret", ""},
		{"", "s", `--client-id-key "" is not a valid Secret key`},
		{"id", "a b", `--client-secret-key "a b" is not a valid Secret key`},
		{".", "s", `--client-id-key "." is not a valid Secret key`},
		{"..x", "s", `--client-id-key "..x" is not a valid Secret key`},
		{strings.Repeat("k", 254), "s", `--client-id-key "` + strings.Repeat("k", 254) + `" is not a valid Secret key`},
		{"id", "jwks_uri", "--client-secret-key jwks_uri is reserved"},
		{"same", "same", `--client-id-key and --client-secret-key are both "same"`},
	} {
		err := Options{ClientIDKey: tc.id, ClientSecretKey: tc.secret}.Validate()
		if (err == nil) != (tc.want == "") || err != nil && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate(%q, %q) = %v, want %q", tc.id, tc.secret, err, tc.want)
		}
	}
}
