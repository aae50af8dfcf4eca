package hydra

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Hydra's defaults for fields the spec may leave empty. Diff treats an empty value and the
// default as the same, because Hydra stores the default in place of the empty value.
const (
	defaultScope                     = "offline_access offline openid"
	defaultTokenEndpointAuthMethod   = string(v1alpha1.AuthMethodClientSecretBasic)
	defaultSubjectType               = "public"
	defaultUserinfoSignedResponseAlg = "none"
)

// field compares one of Hydra's client fields between the desired and the actual client.
type field struct {
	name  string
	equal func(desired, actual *OAuth2Client) bool
}

// diffFields lists every field the operator manages, sorted by name so that Diff's result is
// sorted. Fields Hydra manages itself (client_id, client_secret, client_secret_expires_at,
// created_at, updated_at, registration_*) and fields this SDK does not know are left out:
// they are not drift. Fields the spec cannot set (request_uris, sector_identifier_uri, ...)
// are in: the operator writes them empty, so a value set by someone else is drift.
var diffFields = sortedFields(append([]field{
	{"access_token_strategy", func(d, a *OAuth2Client) bool {
		return strings.EqualFold(deref(d.AccessTokenStrategy), deref(a.AccessTokenStrategy))
	}},
	{"allowed_cors_origins", func(d, a *OAuth2Client) bool { return sameSet(d.AllowedCorsOrigins, a.AllowedCorsOrigins) }},
	{"audience", func(d, a *OAuth2Client) bool { return sameSet(d.Audience, a.Audience) }},
	{"backchannel_logout_session_required", func(d, a *OAuth2Client) bool {
		return sameBool(d.BackchannelLogoutSessionRequired, a.BackchannelLogoutSessionRequired)
	}},
	{"backchannel_logout_uri", func(d, a *OAuth2Client) bool { return sameString(d.BackchannelLogoutUri, a.BackchannelLogoutUri, "") }},
	{"client_name", func(d, a *OAuth2Client) bool { return sameString(d.ClientName, a.ClientName, "") }},
	{"client_uri", func(d, a *OAuth2Client) bool { return sameString(d.ClientUri, a.ClientUri, "") }},
	{"contacts", func(d, a *OAuth2Client) bool { return sameSet(d.Contacts, a.Contacts) }},
	{"frontchannel_logout_session_required", func(d, a *OAuth2Client) bool {
		return sameBool(d.FrontchannelLogoutSessionRequired, a.FrontchannelLogoutSessionRequired)
	}},
	{"frontchannel_logout_uri", func(d, a *OAuth2Client) bool { return sameString(d.FrontchannelLogoutUri, a.FrontchannelLogoutUri, "") }},
	{"grant_types", func(d, a *OAuth2Client) bool { return sameSet(d.GrantTypes, a.GrantTypes) }},
	{"jwks", func(d, a *OAuth2Client) bool { return sameJSON(d.Jwks, a.Jwks, emptyJWKS) }},
	{"jwks_uri", func(d, a *OAuth2Client) bool { return sameString(d.JwksUri, a.JwksUri, "") }},
	{"logo_uri", func(d, a *OAuth2Client) bool { return sameString(d.LogoUri, a.LogoUri, "") }},
	{"metadata", func(d, a *OAuth2Client) bool { return sameJSON(d.Metadata, a.Metadata, emptyObject) }},
	{"owner", func(d, a *OAuth2Client) bool { return sameString(d.Owner, a.Owner, "") }},
	{"policy_uri", func(d, a *OAuth2Client) bool { return sameString(d.PolicyUri, a.PolicyUri, "") }},
	{"post_logout_redirect_uris", func(d, a *OAuth2Client) bool {
		return sameList(d.PostLogoutRedirectUris, a.PostLogoutRedirectUris)
	}},
	{"redirect_uris", func(d, a *OAuth2Client) bool { return sameList(d.RedirectUris, a.RedirectUris) }},
	{"request_object_signing_alg", func(d, a *OAuth2Client) bool {
		return sameString(d.RequestObjectSigningAlg, a.RequestObjectSigningAlg, "")
	}},
	{"request_uris", func(d, a *OAuth2Client) bool { return sameList(d.RequestUris, a.RequestUris) }},
	{"response_types", func(d, a *OAuth2Client) bool { return sameSet(d.ResponseTypes, a.ResponseTypes) }},
	{"scope", func(d, a *OAuth2Client) bool { return sameScope(d.Scope, a.Scope) }},
	{"sector_identifier_uri", func(d, a *OAuth2Client) bool { return sameString(d.SectorIdentifierUri, a.SectorIdentifierUri, "") }},
	{"skip_consent", func(d, a *OAuth2Client) bool { return sameBool(d.SkipConsent, a.SkipConsent) }},
	{"skip_logout_consent", func(d, a *OAuth2Client) bool { return sameBool(d.SkipLogoutConsent, a.SkipLogoutConsent) }},
	{"subject_type", func(d, a *OAuth2Client) bool { return sameString(d.SubjectType, a.SubjectType, defaultSubjectType) }},
	{"token_endpoint_auth_method", func(d, a *OAuth2Client) bool {
		return sameString(d.TokenEndpointAuthMethod, a.TokenEndpointAuthMethod, defaultTokenEndpointAuthMethod)
	}},
	{"token_endpoint_auth_signing_alg", func(d, a *OAuth2Client) bool {
		return sameString(d.TokenEndpointAuthSigningAlg, a.TokenEndpointAuthSigningAlg, "")
	}},
	{"tos_uri", func(d, a *OAuth2Client) bool { return sameString(d.TosUri, a.TosUri, "") }},
	{"userinfo_signed_response_alg", func(d, a *OAuth2Client) bool {
		return sameString(d.UserinfoSignedResponseAlg, a.UserinfoSignedResponseAlg, defaultUserinfoSignedResponseAlg)
	}},
}, lifespanFields()...))

func lifespanFields() []field {
	out := make([]field, len(lifespans))
	for i, ls := range lifespans {
		out[i] = field{ls.json, func(d, a *OAuth2Client) bool { return sameDuration(*ls.field(d), *ls.field(a)) }}
	}
	return out
}

func sortedFields(fs []field) []field {
	slices.SortFunc(fs, func(a, b field) int { return strings.Compare(a.name, b.name) })
	return fs
}

// Diff returns the sorted JSON names of the fields in which actual, as Hydra returned it,
// differs from desired, as Desired built it. Hydra fills in defaults and re-encodes some
// values; Diff treats those as equal so that a client nobody touched reports no drift:
//   - an empty value and Hydra's default (scope, token_endpoint_auth_method, subject_type,
//     userinfo_signed_response_alg); null, false and absent booleans; null and empty lists;
//   - lists the spec declares as sets (scope, grant_types, response_types, audience,
//     allowed_cors_origins, contacts) in any order: they mean the same to Hydra, and
//     reordering a manifest should not cause a write. Redirect URIs keep their order, as the
//     spec treats them as an ordered list;
//   - durations by value (5m and 5m0s); metadata and jwks as JSON values, with {} (and a key
//     set without keys) equal to null.
//
// An empty result means Hydra holds the client as desired.
func Diff(desired, actual *OAuth2Client) []string {
	if desired == nil {
		desired = &OAuth2Client{}
	}
	if actual == nil {
		actual = &OAuth2Client{}
	}
	var out []string
	for _, f := range diffFields {
		if !f.equal(desired, actual) {
			out = append(out, f.name)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func sameString(d, a *string, def string) bool {
	ds, as := deref(d), deref(a)
	if ds == "" {
		ds = def
	}
	if as == "" {
		as = def
	}
	return ds == as
}

func sameBool(d, a *bool) bool { return deref(d) == deref(a) }

func sameList(d, a []string) bool { return slices.Equal(d, a) }

// sameSet compares as sets: order and repetitions do not count.
func sameSet(d, a []string) bool {
	if len(d) == 0 || len(a) == 0 {
		return len(d) == len(a)
	}
	return slices.Equal(sortedUnique(d), sortedUnique(a))
}

func sortedUnique(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

// sameScope compares scopes as sets of space-separated words, as Hydra itself reads them
// (strings.Fields); Hydra keeps the string in the order it was sent. An empty scope means
// Hydra's default, which Hydra stores in its place.
func sameScope(d, a *string) bool {
	return sameSet(scopeWords(d), scopeWords(a))
}

func scopeWords(s *string) []string {
	words := strings.Fields(deref(s))
	if len(words) == 0 {
		return strings.Fields(defaultScope)
	}
	return words
}

// sameDuration compares lifespans by value: Hydra stores nanoseconds and prints them with
// time.Duration.String. Strings that do not parse are compared as they are.
func sameDuration(d, a *string) bool {
	ds, as := deref(d), deref(a)
	if ds == as {
		return true
	}
	dd, derr := time.ParseDuration(ds)
	ad, aerr := time.ParseDuration(as)
	return derr == nil && aerr == nil && dd == ad
}

// sameJSON compares two JSON values by meaning: both go through encoding/json, so key order,
// json.Number against float64 and formatting do not count. isEmpty says which values stand
// for "not set".
func sameJSON(d, a interface{}, isEmpty func(interface{}) bool) bool {
	dn, derr := normalJSON(d)
	an, aerr := normalJSON(a)
	if derr != nil || aerr != nil {
		return false
	}
	if isEmpty(dn) && isEmpty(an) {
		return true
	}
	return reflect.DeepEqual(dn, an)
}

func normalJSON(v interface{}) (interface{}, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(b, &out)
	return out, err
}

// emptyObject: Hydra stores {} for metadata that was not sent.
func emptyObject(v interface{}) bool {
	m, ok := v.(map[string]interface{})
	return v == nil || ok && len(m) == 0
}

// emptyJWKS: a key set without keys, in any of the forms Hydra writes it ({}, or keys null
// or empty).
func emptyJWKS(v interface{}) bool {
	if emptyObject(v) {
		return true
	}
	m, ok := v.(map[string]interface{})
	if !ok || len(m) != 1 {
		return false
	}
	keys, found := m["keys"]
	list, isList := keys.([]interface{})
	return found && (keys == nil || isList && len(list) == 0)
}
