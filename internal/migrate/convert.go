// Package migrate converts ory/hydra-maester's OAuth2Client resources (hydra.ory.sh/v1alpha1)
// into this operator's OAuth2Client manifests, for `manager migrate` (issue 19). A converted
// resource keeps its name, namespace, Secret and key names, and asks (spec.adoptFrom) to take
// over the Hydra client hydra-maester registered, so that applications keep their credentials.
//
// Everything here is pure or works on readers and writers, so the conversion is table-tested
// without a cluster; the cluster listing takes a dynamic client, which tests fake.
package migrate

import (
	"fmt"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

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
	handleUnsupported(src, opts, &res)
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
	warnFailedSource(in, &res)
	out.Labels, out.Annotations = copyMeta(in, &res)
	res.Actions = append(res.Actions,
		shareSecretAction(in.GetNamespace(), src.SecretName, in.GetName()),
		deleteOldAction(in.GetNamespace(), src.SecretName, in.GetName()))
	return out, res
}

// warnFailedSource passes on hydra-maester's own error for the resource: a client it failed to
// register, or a Secret it failed to write, leaves nothing for the new resource to take over.
func warnFailedSource(in *unstructured.Unstructured, res *Result) {
	code, _, _ := unstructured.NestedString(in.Object, "status", "reconciliationError", "statusCode")
	if code != "" {
		res.Warnings = append(res.Warnings, "hydra-maester reported "+code+" for it (status.reconciliationError): check that its Secret and Hydra client exist before you apply the new resource")
	}
}

// handleUnsupported refuses a resource with fields our API has no place for or, with
// --drop-unsupported, warns that they are dropped: either way the user learns that adoption
// would remove them from the Hydra client.
func handleUnsupported(src *sourceSpec, opts Options, res *Result) {
	for _, f := range unsupportedFields(src) {
		if opts.DropUnsupported {
			res.Warnings = append(res.Warnings, "dropped "+f+": our API has no field for it; after adoption the operator removes it from the Hydra client")
		} else {
			res.Refusals = append(res.Refusals, "our API has no field for "+f+"; after adoption the operator would remove it from the Hydra client: remove it from the resource, or run with --drop-unsupported to convert without it")
		}
	}
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
