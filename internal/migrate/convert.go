// Package migrate converts ory/hydra-maester's OAuth2Client resources (hydra.ory.sh/v1alpha1)
// into this operator's OAuth2Client manifests, for `manager migrate` (issue 19). A converted
// resource keeps its name, namespace, Secret and key names, and asks (spec.adoptFrom) to take
// over the Hydra client hydra-maester registered, so that applications keep their credentials.
//
// Everything here is pure or works on readers and writers, so the conversion is table-tested
// without a cluster; the cluster listing takes a dynamic client, which tests fake.
package migrate

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// SourceGroupVersion is hydra-maester's API group and version.
var SourceGroupVersion = schema.GroupVersion{Group: "hydra.ory.sh", Version: "v1alpha1"}

// SourceGVR is the resource hydra-maester's OAuth2Clients are listed under.
var SourceGVR = SourceGroupVersion.WithResource("oauth2clients")

// SourceKind is the kind of hydra-maester's resource (its list kind is SourceKind+"List").
const SourceKind = "OAuth2Client"

// Default key names of hydra-maester's Secret: it writes CLIENT_ID and CLIENT_SECRET unless its
// CLIENT_ID_KEY and CLIENT_SECRET_KEY environment variables say otherwise.
const (
	DefaultClientIDKey     = "CLIENT_ID"
	DefaultClientSecretKey = "CLIENT_SECRET"
)

// Options shape the conversion.
type Options struct {
	// ClientIDKey and ClientSecretKey are the key names in hydra-maester's Secrets, copied into
	// spec.secretTemplate so that the operator reads (and later writes) the same keys.
	ClientIDKey     string
	ClientSecretKey string
	// DropUnsupported converts a resource that sets fields our API has no place for, without
	// them, instead of refusing it; the result then warns which fields were dropped.
	DropUnsupported bool
}

// secretKeyPattern is the CRD's rule for clientIDKey and clientSecretKey (a valid Secret key).
var secretKeyPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// Validate refuses key names the CRD would refuse, so that a typo in a flag fails the command
// rather than every apply of its output.
func (o Options) Validate() error {
	for _, k := range []struct{ flag, key string }{{"--client-id-key", o.ClientIDKey}, {"--client-secret-key", o.ClientSecretKey}} {
		if len(k.key) > 253 || !secretKeyPattern.MatchString(k.key) || k.key == "." || strings.HasPrefix(k.key, "..") {
			return fmt.Errorf("%s %q is not a valid Secret key: 1 to 253 letters, digits, -, _ and ., not . and not starting with ..", k.flag, k.key)
		}
		if slices.Contains([]string{"issuer_url", "token_endpoint", "authorization_endpoint", "jwks_uri"}, k.key) {
			return fmt.Errorf("%s %s is reserved by this operator for the authorization server's endpoints", k.flag, k.key)
		}
	}
	if o.ClientIDKey == o.ClientSecretKey {
		return fmt.Errorf("--client-id-key and --client-secret-key are both %q: they must name two different keys", o.ClientIDKey)
	}
	return nil
}

// Result is what the conversion of one resource says to the user.
type Result struct {
	Namespace, Name string
	// Refusals, when not empty, say why the resource was not converted and what to do.
	Refusals []string
	// Notes are mappings worth knowing, such as merged scopes.
	Notes []string
	// Warnings name what the converted manifest lost (fields dropped by DropUnsupported).
	Warnings []string
	// Actions are what the user must do for the converted resource to work.
	Actions []string
}

// Refused says whether the resource was left unconverted.
func (r Result) Refused() bool { return len(r.Refusals) > 0 }

// Key is namespace/name, as the report and kubectl write it.
func (r Result) Key() string {
	ns := r.Namespace
	if ns == "" {
		ns = "(no namespace)"
	}
	return ns + "/" + r.Name
}

// sourceSpec is the part of hydra-maester's spec this converter reads, decoded from JSON. Fields
// are kept as the JSON says; what to do with each is decided in Convert.
type sourceSpec struct {
	ClientName                        string                `json:"clientName"`
	GrantTypes                        []string              `json:"grantTypes"`
	ResponseTypes                     []string              `json:"responseTypes"`
	RedirectURIs                      []string              `json:"redirectUris"`
	RequestURIs                       []string              `json:"requestUris"`
	PostLogoutRedirectURIs            []string              `json:"postLogoutRedirectUris"`
	AllowedCORSOrigins                []string              `json:"allowedCorsOrigins"`
	Audience                          []string              `json:"audience"`
	Scope                             string                `json:"scope"`
	ScopeArray                        []string              `json:"scopeArray"`
	SecretName                        string                `json:"secretName"`
	SkipConsent                       bool                  `json:"skipConsent"`
	SkipLogoutConsent                 bool                  `json:"skipLogoutConsent"`
	HydraAdmin                        map[string]any        `json:"hydraAdmin"`
	TokenEndpointAuthMethod           string                `json:"tokenEndpointAuthMethod"`
	TokenLifespans                    map[string]string     `json:"tokenLifespans"`
	Metadata                          *apiextensionsv1.JSON `json:"metadata"`
	JWKSURI                           string                `json:"jwksUri"`
	FrontChannelLogoutSessionRequired bool                  `json:"frontChannelLogoutSessionRequired"`
	FrontChannelLogoutURI             string                `json:"frontChannelLogoutURI"`
	BackChannelLogoutSessionRequired  bool                  `json:"backChannelLogoutSessionRequired"`
	BackChannelLogoutURI              string                `json:"backChannelLogoutURI"`
	DeletionPolicy                    string                `json:"deletionPolicy"`
	LogoURI                           string                `json:"logoUri"`
	AccessTokenStrategy               string                `json:"accessTokenStrategy"`
	ClientSecretExpiresAt             int64                 `json:"clientSecretExpiresAt"`
	ClientURI                         string                `json:"clientUri"`
	Contacts                          []string              `json:"contacts"`
	PolicyURI                         string                `json:"policyUri"`
	RequestObjectSigningAlg           string                `json:"requestObjectSigningAlg"`
	SectorIdentifierURI               string                `json:"sectorIdentifierUri"`
	SubjectType                       string                `json:"subjectType"`
	TokenEndpointAuthSigningAlg       string                `json:"tokenEndpointAuthSigningAlg"`
	TosURI                            string                `json:"tosUri"`
	UserinfoSignedResponseAlg         string                `json:"userinfoSignedResponseAlg"`
}

// knownSpecFields are the JSON names of hydra-maester's spec fields. A field outside this list
// is one this converter does not know what to do with, so the resource is refused rather than
// converted with the field silently lost.
var knownSpecFields = []string{
	"clientName", "grantTypes", "responseTypes", "redirectUris", "requestUris",
	"postLogoutRedirectUris", "allowedCorsOrigins", "audience", "scope", "scopeArray",
	"secretName", "skipConsent", "skipLogoutConsent", "hydraAdmin", "tokenEndpointAuthMethod",
	"tokenLifespans", "metadata", "jwksUri", "frontChannelLogoutSessionRequired",
	"frontChannelLogoutURI", "backChannelLogoutSessionRequired", "backChannelLogoutURI",
	"deletionPolicy", "logoUri", "accessTokenStrategy", "clientSecretExpiresAt", "clientUri",
	"contacts", "policyUri", "requestObjectSigningAlg", "sectorIdentifierUri", "subjectType",
	"tokenEndpointAuthSigningAlg", "tosUri", "userinfoSignedResponseAlg",
}

// Convert turns one hydra-maester OAuth2Client into this operator's OAuth2Client. It returns
// nil and a Result with Refusals when the resource cannot be converted without changing what
// the Hydra client is; the Result's notes, warnings and actions are meant for the user.
func Convert(in *unstructured.Unstructured, opts Options) (*v1alpha1.OAuth2Client, Result) {
	res := Result{Namespace: in.GetNamespace(), Name: in.GetName()}
	if in.GetName() == "" {
		res.Refusals = append(res.Refusals, "metadata.name is not set")
	}
	if in.GetNamespace() == "" {
		res.Refusals = append(res.Refusals, "metadata.namespace is not set: add the namespace the resource lives in (kubectl get -o yaml prints it)")
	}
	rawSpec, _, err := unstructured.NestedMap(in.Object, "spec")
	if err != nil {
		res.Refusals = append(res.Refusals, "spec is not an object: "+err.Error())
		return nil, res
	}
	src, refusals := decodeSpec(rawSpec)
	res.Refusals = append(res.Refusals, refusals...)
	if src == nil {
		return nil, res
	}
	res.Refusals = append(res.Refusals, refuseHydraAdmin(src.HydraAdmin)...)
	res.Refusals = append(res.Refusals, refuseInvalid(src)...)
	dropped := unsupportedFields(src)
	if len(dropped) > 0 {
		if !opts.DropUnsupported {
			for _, f := range dropped {
				res.Refusals = append(res.Refusals, "our API has no field for "+f+"; after adoption the operator would remove it from the Hydra client: remove it from the resource, or run with --drop-unsupported to convert without it")
			}
		} else {
			for _, f := range dropped {
				res.Warnings = append(res.Warnings, "dropped "+f+": our API has no field for it; after adoption the operator removes it from the Hydra client")
			}
		}
	}
	if res.Refused() {
		return nil, res
	}
	out := &v1alpha1.OAuth2Client{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "OAuth2Client"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      in.GetName(),
			Namespace: in.GetNamespace(),
		},
	}
	out.Spec = convertSpec(src, opts, &res)
	out.Labels, out.Annotations = copyMeta(in, &res)
	res.Actions = append(res.Actions,
		shareSecretAction(in.GetNamespace(), src.SecretName, in.GetName()),
		deleteOldAction(in.GetNamespace(), src.SecretName, in.GetName()))
	return out, res
}

// decodeSpec reads hydra-maester's spec: unknown fields and fields of the wrong type refuse the
// resource (a nil spec), so that nothing is converted half-understood.
func decodeSpec(raw map[string]any) (*sourceSpec, []string) {
	if raw == nil {
		return nil, []string{"spec is not set"}
	}
	var refusals []string
	if unknown := unknownKeys(raw, knownSpecFields); len(unknown) > 0 {
		refusals = append(refusals, "unknown spec fields "+strings.Join(unknown, ", ")+": this converter does not know how to carry them over; remove them, or convert the resource by hand")
	}
	if tl, ok := raw["tokenLifespans"].(map[string]any); ok {
		if unknown := unknownKeys(tl, slices.Collect(maps.Keys(lifespanFields))); len(unknown) > 0 {
			refusals = append(refusals, "unknown tokenLifespans fields "+strings.Join(unknown, ", ")+": remove them, or convert the resource by hand")
		}
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, append(refusals, "spec cannot be read: "+err.Error())
	}
	src := &sourceSpec{}
	if err := json.Unmarshal(data, src); err != nil {
		return nil, append(refusals, "spec is not a valid hydra-maester spec: "+err.Error())
	}
	return src, refusals
}

// unknownKeys returns the keys of m not in known, sorted.
func unknownKeys(m map[string]any, known []string) []string {
	var out []string
	for k := range m {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// refuseHydraAdmin refuses a resource whose spec.hydraAdmin names a Hydra: hydra-maester could
// serve clients of several Hydras, this operator serves the one its flags name, so converting it
// could adopt (or create) the client at the wrong server.
func refuseHydraAdmin(admin map[string]any) []string {
	var set []string
	for k, v := range admin {
		if v != nil && v != "" && v != int64(0) && v != float64(0) {
			set = append(set, k)
		}
	}
	if len(set) == 0 {
		return nil
	}
	slices.Sort(set)
	return []string{"hydraAdmin (" + strings.Join(set, ", ") + ") points at another Hydra; this operator serves the one Hydra its flags name: keep the resource with hydra-maester for now, or remove hydraAdmin if it names that same Hydra"}
}

// refuseInvalid refuses values the manifest could not carry: a Secret name is needed to keep the
// credentials, and a deletion policy must be one of the two both projects know.
func refuseInvalid(src *sourceSpec) []string {
	var out []string
	if src.SecretName == "" {
		out = append(out, "spec.secretName is not set: hydra-maester requires it and the credentials to keep live there; set it to the Secret hydra-maester wrote")
	}
	switch src.DeletionPolicy {
	case "", "delete", "orphan":
	default:
		out = append(out, fmt.Sprintf("deletionPolicy %q is neither delete nor orphan: set one of them", src.DeletionPolicy))
	}
	if m := metadata(src.Metadata); m != nil && !strings.HasPrefix(strings.TrimSpace(string(m.Raw)), "{") {
		out = append(out, "metadata is not an object: our API stores an object; wrap the value in one")
	}
	if len(src.GrantTypes) == 0 {
		out = append(out, "grantTypes is empty: our API requires at least one grant type; set the grant types the client uses")
	}
	return out
}

// unsupportedFields names the set fields our API has no place for. After adoption the operator
// makes the Hydra client match the resource, so such a field would be removed at Hydra.
func unsupportedFields(src *sourceSpec) []string {
	var out []string
	if len(src.RequestURIs) > 0 {
		out = append(out, "requestUris")
	}
	for _, f := range []struct{ name, value string }{
		{"requestObjectSigningAlg", src.RequestObjectSigningAlg},
		{"sectorIdentifierUri", src.SectorIdentifierURI},
		{"tokenEndpointAuthSigningAlg", src.TokenEndpointAuthSigningAlg},
		{"userinfoSignedResponseAlg", src.UserinfoSignedResponseAlg},
	} {
		if f.value != "" {
			out = append(out, f.name)
		}
	}
	if src.ClientSecretExpiresAt != 0 {
		out = append(out, "clientSecretExpiresAt")
	}
	return out
}

// convertSpec maps the fields one to one (see the table in the package's tests) and adds what
// migration needs: the Secret is required to exist (so a missing one is waited for, never
// replaced by new credentials), its key names are kept, and adoption is asked for.
func convertSpec(src *sourceSpec, opts Options, res *Result) v1alpha1.OAuth2ClientSpec {
	spec := v1alpha1.OAuth2ClientSpec{
		ClientName:                        src.ClientName,
		GrantTypes:                        typed[v1alpha1.GrantType](src.GrantTypes),
		ResponseTypes:                     typed[v1alpha1.ResponseType](src.ResponseTypes),
		RedirectURIs:                      src.RedirectURIs,
		PostLogoutRedirectURIs:            src.PostLogoutRedirectURIs,
		AllowedCORSOrigins:                src.AllowedCORSOrigins,
		Audience:                          src.Audience,
		Scopes:                            mergeScopes(src, res),
		SkipConsent:                       src.SkipConsent,
		SkipLogoutConsent:                 src.SkipLogoutConsent,
		TokenEndpointAuthMethod:           v1alpha1.TokenEndpointAuthMethod(src.TokenEndpointAuthMethod),
		Metadata:                          metadata(src.Metadata),
		JWKSURI:                           src.JWKSURI,
		FrontchannelLogoutURI:             src.FrontChannelLogoutURI,
		FrontchannelLogoutSessionRequired: src.FrontChannelLogoutSessionRequired,
		BackchannelLogoutURI:              src.BackChannelLogoutURI,
		BackchannelLogoutSessionRequired:  src.BackChannelLogoutSessionRequired,
		ClientURI:                         src.ClientURI,
		LogoURI:                           src.LogoURI,
		PolicyURI:                         src.PolicyURI,
		TosURI:                            src.TosURI,
		Contacts:                          src.Contacts,
		SubjectType:                       src.SubjectType,
		AccessTokenStrategy:               src.AccessTokenStrategy,
		TokenLifespans:                    lifespans(src.TokenLifespans),
		DeletionPolicy:                    deletionPolicy(src.DeletionPolicy, res),
		SecretName:                        src.SecretName,
		RequireExistingSecret:             true,
		AdoptFrom:                         v1alpha1.AdoptFromHydraMaester,
		SecretTemplate: &v1alpha1.SecretTemplate{
			ClientIDKey:     opts.ClientIDKey,
			ClientSecretKey: opts.ClientSecretKey,
		},
	}
	res.Notes = append(res.Notes,
		"secretTemplate keys "+opts.ClientIDKey+" and "+opts.ClientSecretKey+" (hydra-maester's; other names: --client-id-key, --client-secret-key)",
		"requireExistingSecret: true: the operator waits for Secret "+src.SecretName+" and never replaces it with new credentials")
	return spec
}

// typed converts a list of strings to a list of one of the API's string types.
func typed[T ~string](in []string) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, s := range in {
		out[i] = T(s)
	}
	return out
}

// mergeScopes builds scopes as hydra-maester sent them to Hydra: scopeArray first, then the
// deprecated space-separated scope, without duplicates, in order.
func mergeScopes(src *sourceSpec, res *Result) []string {
	var out, dups []string
	for _, s := range slices.Concat(src.ScopeArray, strings.Fields(src.Scope)) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		} else if !slices.Contains(dups, s) {
			dups = append(dups, s)
		}
	}
	joined := strings.Join(out, " ")
	switch {
	case len(src.ScopeArray) > 0 && strings.TrimSpace(src.Scope) != "":
		res.Notes = append(res.Notes, "scope and scopeArray merged into scopes: "+joined)
	case strings.TrimSpace(src.Scope) != "":
		res.Notes = append(res.Notes, "scope split into scopes: "+joined)
	}
	if len(dups) > 0 {
		res.Notes = append(res.Notes, "duplicate scopes removed: "+strings.Join(dups, " "))
	}
	return out
}

// metadata keeps a non-empty metadata object; null and {} mean none.
func metadata(m *apiextensionsv1.JSON) *apiextensionsv1.JSON {
	if m == nil {
		return nil
	}
	switch strings.TrimSpace(string(m.Raw)) {
	case "", "null", "{}":
		return nil
	}
	return &apiextensionsv1.JSON{Raw: m.Raw}
}

// lifespanFields maps hydra-maester's snake_case token lifespan keys to setters of ours.
var lifespanFields = map[string]func(*v1alpha1.TokenLifespans, v1alpha1.Duration){
	"authorization_code_grant_access_token_lifespan":  func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.AuthorizationCodeGrantAccessToken = d },
	"authorization_code_grant_id_token_lifespan":      func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.AuthorizationCodeGrantIDToken = d },
	"authorization_code_grant_refresh_token_lifespan": func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.AuthorizationCodeGrantRefreshToken = d },
	"client_credentials_grant_access_token_lifespan":  func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.ClientCredentialsGrantAccessToken = d },
	"implicit_grant_access_token_lifespan":            func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.ImplicitGrantAccessToken = d },
	"implicit_grant_id_token_lifespan":                func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.ImplicitGrantIDToken = d },
	"jwt_bearer_grant_access_token_lifespan":          func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.JWTBearerGrantAccessToken = d },
	"refresh_token_grant_access_token_lifespan":       func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.RefreshTokenGrantAccessToken = d },
	"refresh_token_grant_id_token_lifespan":           func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.RefreshTokenGrantIDToken = d },
	"refresh_token_grant_refresh_token_lifespan":      func(t *v1alpha1.TokenLifespans, d v1alpha1.Duration) { t.RefreshTokenGrantRefreshToken = d },
}

// lifespans copies each set lifespan, value unchanged (both projects take Go durations); none
// set means nil, so the manifest has no empty tokenLifespans.
func lifespans(in map[string]string) *v1alpha1.TokenLifespans {
	out := &v1alpha1.TokenLifespans{}
	set := false
	for k, v := range in {
		if setter, ok := lifespanFields[k]; ok && v != "" {
			setter(out, v1alpha1.Duration(v))
			set = true
		}
	}
	if !set {
		return nil
	}
	return out
}

// deletionPolicy maps hydra-maester's lower-case policy to ours; unset stays unset (both
// default to deleting the client).
func deletionPolicy(p string, res *Result) v1alpha1.DeletionPolicy {
	var out v1alpha1.DeletionPolicy
	switch p {
	case "delete":
		out = v1alpha1.DeletionPolicyDelete
	case "orphan":
		out = v1alpha1.DeletionPolicyOrphan
	default:
		return ""
	}
	res.Notes = append(res.Notes, "deletionPolicy "+p+" -> "+string(out))
	return out
}

// shareSecretAction is the command that lets the new resource use hydra-maester's Secret: the
// operator uses a Secret it did not write only if the Secret names the resource.
func shareSecretAction(namespace, secret, name string) string {
	return fmt.Sprintf("share Secret %s/%s with the new resource: kubectl annotate secret -n %s %s %s=%s",
		namespace, secret, namespace, secret, v1alpha1.ClientAnnotation, name)
}

// deleteOldAction warns about the old resource: hydra-maester puts an ownerReference to it on
// the Secret it creates, so deleting it with the default cascade garbage-collects the
// credentials, and a running hydra-maester deletes the Hydra client when it goes.
func deleteOldAction(namespace, secret, name string) string {
	return fmt.Sprintf("delete the old %s/%s (hydra.ory.sh) only as docs/migrate-from-hydra-maester.md says: Secret %s may be owned by it and is garbage-collected with it unless deleted with --cascade=orphan, and hydra-maester deletes the Hydra client when it goes",
		namespace, name, secret)
}

// ConvertAll converts every resource read, in order. A second resource of the same namespace and
// name (the same object given twice, say by a file and a directory) is refused, so that one
// output file is never written twice with different content.
func ConvertAll(in Input, opts Options) ([]*v1alpha1.OAuth2Client, []Result) {
	var clients []*v1alpha1.OAuth2Client
	var results []Result
	seen := map[string]bool{}
	for _, u := range in.Resources {
		c, res := Convert(u, opts)
		if key := res.Key(); seen[key] && u.GetName() != "" {
			res = Result{Namespace: res.Namespace, Name: res.Name, Refusals: []string{"given more than once: only the first one read is used"}}
			c = nil
		} else {
			seen[key] = true
		}
		if c != nil {
			clients = append(clients, c)
		}
		results = append(results, res)
	}
	return clients, results
}
