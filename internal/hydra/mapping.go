package hydra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// ownerPrefix marks the owner values this operator writes. A client whose owner does not
// start with it was created by someone else and is never taken over silently.
const ownerPrefix = "oauth2-client-operator:"

// Hydra's defaults for fields the spec may leave empty. Diff treats an empty value and the
// default as the same, because Hydra stores the default in place of the empty value.
const (
	defaultScope                     = "offline_access offline openid"
	defaultTokenEndpointAuthMethod   = string(v1alpha1.AuthMethodClientSecretBasic)
	defaultSubjectType               = "public"
	defaultUserinfoSignedResponseAlg = "none"
)

// OwnerFor returns the owner Hydra stores for the client of the OAuth2Client namespace/name.
// It tells the operator, when it finds a client, whether the client is its own, someone
// else's, or another resource's; and it lets List find every client of this operator.
func OwnerFor(namespace, name string) string {
	return ownerPrefix + namespace + "/" + name
}

// ParseOwner is the inverse of OwnerFor. ok is false for owners this operator did not write,
// so that a client created by hand or by another tool is never mistaken for a managed one.
func ParseOwner(owner string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(owner, ownerPrefix)
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, "/")
	if !found || namespace == "" || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return namespace, name, true
}

// Desired returns the client Hydra should hold for spec. It is what the operator sends with
// Create and Update, and what Diff compares the stored client with; so it sets every field the
// operator manages, and sets it the way Hydra will store it (durations and CORS origins in
// Hydra's canonical form, jwks as Hydra re-encodes it) to keep Diff free of false drift.
// It never sets a secret: the caller adds one when it means to set or rotate it.
// The result shares no memory with spec, and the same input always gives the same output.
func Desired(spec *v1alpha1.OAuth2ClientSpec, clientID, owner string) (*OAuth2Client, error) {
	if spec == nil {
		return nil, errors.New("no spec")
	}
	c := &OAuth2Client{
		ClientId:                          optString(clientID),
		Owner:                             optString(owner),
		ClientName:                        optString(spec.ClientName),
		GrantTypes:                        stringList(spec.GrantTypes),
		ResponseTypes:                     stringList(spec.ResponseTypes),
		RedirectUris:                      stringList(spec.RedirectURIs),
		PostLogoutRedirectUris:            stringList(spec.PostLogoutRedirectURIs),
		Scope:                             optString(strings.Join(spec.Scopes, " ")),
		Audience:                          stringList(spec.Audience),
		AllowedCorsOrigins:                canonicalOrigins(spec.AllowedCORSOrigins),
		TokenEndpointAuthMethod:           optString(tokenEndpointAuthMethod(spec.TokenEndpointAuthMethod)),
		JwksUri:                           optString(spec.JWKSURI),
		SkipConsent:                       optBool(spec.SkipConsent),
		SkipLogoutConsent:                 optBool(spec.SkipLogoutConsent),
		FrontchannelLogoutUri:             optString(spec.FrontchannelLogoutURI),
		FrontchannelLogoutSessionRequired: optBool(spec.FrontchannelLogoutSessionRequired),
		BackchannelLogoutUri:              optString(spec.BackchannelLogoutURI),
		BackchannelLogoutSessionRequired:  optBool(spec.BackchannelLogoutSessionRequired),
		ClientUri:                         optString(spec.ClientURI),
		LogoUri:                           optString(spec.LogoURI),
		PolicyUri:                         optString(spec.PolicyURI),
		TosUri:                            optString(spec.TosURI),
		Contacts:                          stringList(spec.Contacts),
		SubjectType:                       optString(spec.SubjectType),
		AccessTokenStrategy:               optString(spec.AccessTokenStrategy),
	}
	if err := setLifespans(c, spec.TokenLifespans); err != nil {
		return nil, err
	}
	var err error
	if c.Jwks, err = canonicalJWKS(jwksJSON(spec.JWKS)); err != nil {
		return nil, err
	}
	if raw := rawJSON(spec.Metadata); len(raw) > MaxMetadataBytes {
		// The CRD bounds metadata's top-level keys but can't measure nested JSON (CEL has no
		// way to), so the size limit is enforced here, before anything reaches Hydra.
		return nil, fmt.Errorf("spec.metadata is %d bytes as JSON; at most %d (64 KiB) are accepted", len(raw), MaxMetadataBytes)
	}
	if c.Metadata, err = decodeObject("metadata", rawJSON(spec.Metadata)); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxMetadataBytes is the largest spec.metadata, as JSON, sent to Hydra: far above what client
// metadata needs, far below what would let one resource bloat Hydra's database or every list.
const MaxMetadataBytes = 64 << 10

func tokenEndpointAuthMethod(m v1alpha1.TokenEndpointAuthMethod) string {
	if m == "" {
		return defaultTokenEndpointAuthMethod
	}
	return string(m)
}

// optString maps the spec's "unset" (empty) to an omitted field, which is what Hydra
// treats as unset too.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optBool(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// stringList copies a spec list so that the result never aliases the spec. Empty lists
// become nil: Hydra stores an omitted list and an empty one alike.
func stringList[S ~string](in []S) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// canonicalOrigins rewrites CORS origins exactly as Hydra's validator does before it stores
// them (url.Parse, trailing slashes dropped, re-encoded), so that the stored list equals the
// desired one. Origins that do not parse are passed on for Hydra to reject.
func canonicalOrigins(origins []string) []string {
	out := stringList(origins)
	for i, o := range out {
		u, err := url.Parse(o)
		if err != nil {
			continue
		}
		u.Path = strings.TrimRight(u.Path, "/")
		out[i] = u.String()
	}
	return out
}

// lifespan links one of the spec's token lifespans to the Hydra field that holds it.
type lifespan struct {
	json  string
	spec  string
	from  func(*v1alpha1.TokenLifespans) v1alpha1.Duration
	field func(*OAuth2Client) **string
}

var lifespans = []lifespan{
	{"authorization_code_grant_access_token_lifespan", "authorizationCodeGrantAccessToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.AuthorizationCodeGrantAccessToken },
		func(c *OAuth2Client) **string { return &c.AuthorizationCodeGrantAccessTokenLifespan }},
	{"authorization_code_grant_id_token_lifespan", "authorizationCodeGrantIDToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.AuthorizationCodeGrantIDToken },
		func(c *OAuth2Client) **string { return &c.AuthorizationCodeGrantIdTokenLifespan }},
	{"authorization_code_grant_refresh_token_lifespan", "authorizationCodeGrantRefreshToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.AuthorizationCodeGrantRefreshToken },
		func(c *OAuth2Client) **string { return &c.AuthorizationCodeGrantRefreshTokenLifespan }},
	{"client_credentials_grant_access_token_lifespan", "clientCredentialsGrantAccessToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.ClientCredentialsGrantAccessToken },
		func(c *OAuth2Client) **string { return &c.ClientCredentialsGrantAccessTokenLifespan }},
	{"implicit_grant_access_token_lifespan", "implicitGrantAccessToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.ImplicitGrantAccessToken },
		func(c *OAuth2Client) **string { return &c.ImplicitGrantAccessTokenLifespan }},
	{"implicit_grant_id_token_lifespan", "implicitGrantIDToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.ImplicitGrantIDToken },
		func(c *OAuth2Client) **string { return &c.ImplicitGrantIdTokenLifespan }},
	{"jwt_bearer_grant_access_token_lifespan", "jwtBearerGrantAccessToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.JWTBearerGrantAccessToken },
		func(c *OAuth2Client) **string { return &c.JwtBearerGrantAccessTokenLifespan }},
	{"refresh_token_grant_access_token_lifespan", "refreshTokenGrantAccessToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.RefreshTokenGrantAccessToken },
		func(c *OAuth2Client) **string { return &c.RefreshTokenGrantAccessTokenLifespan }},
	{"refresh_token_grant_id_token_lifespan", "refreshTokenGrantIDToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.RefreshTokenGrantIDToken },
		func(c *OAuth2Client) **string { return &c.RefreshTokenGrantIdTokenLifespan }},
	{"refresh_token_grant_refresh_token_lifespan", "refreshTokenGrantRefreshToken",
		func(l *v1alpha1.TokenLifespans) v1alpha1.Duration { return l.RefreshTokenGrantRefreshToken },
		func(c *OAuth2Client) **string { return &c.RefreshTokenGrantRefreshTokenLifespan }},
}

// setLifespans writes each lifespan the way Hydra prints it back (time.Duration.String, so
// 5m becomes 5m0s). A value Go cannot parse is an error here rather than a 400 from Hydra, so
// that it names the spec field.
func setLifespans(c *OAuth2Client, l *v1alpha1.TokenLifespans) error {
	if l == nil {
		return nil
	}
	for _, ls := range lifespans {
		v := ls.from(l)
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(string(v))
		if err != nil {
			return fmt.Errorf("tokenLifespans.%s: %w", ls.spec, err)
		}
		*ls.field(c) = optString(d.String())
	}
	return nil
}

func rawJSON(j *apiextensionsv1.JSON) []byte {
	if j == nil {
		return nil
	}
	return j.Raw
}

// jwksJSON is the key set as the JSON object Hydra takes; nil when unset.
func jwksJSON(set *v1alpha1.JSONWebKeySet) *apiextensionsv1.JSON {
	if set == nil {
		return nil
	}
	raw, err := json.Marshal(set)
	if err != nil {
		// Keys are raw JSON from the API server; marshalling can't fail for them. Surface
		// anything else as invalid JSON when canonicalJWKS decodes it.
		raw = []byte("{")
	}
	return &apiextensionsv1.JSON{Raw: raw}
}

// canonicalJWKS returns the key set as Hydra will store it. Hydra parses jwks with go-jose
// and writes it back re-encoded: members it does not know (key_ops, ext, ...) are dropped and
// key material is re-encoded. Sending that form in the first place keeps Diff exact; parsing
// here also reports a broken key set against the spec field.
func canonicalJWKS(j *apiextensionsv1.JSON) (interface{}, error) {
	obj, err := decodeObject("jwks", rawJSON(j))
	if err != nil || obj == nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(j.Raw, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	canonical, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return decodeObject("jwks", canonical)
}

// decodeObject decodes a JSON object for the SDK's interface{} fields. Numbers stay
// json.Number so that integers beyond float64's precision reach Hydra unchanged; numbers no
// float64 can hold are refused, because the SDK could never decode the client again. JSON
// null means unset.
func decodeObject(field string, raw []byte) (interface{}, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", field, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: invalid JSON: data after the top-level value", field)
	}
	if v == nil {
		return nil, nil
	}
	if _, ok := v.(map[string]interface{}); !ok {
		return nil, fmt.Errorf("%s: must be a JSON object", field)
	}
	if err := checkNumbers(v); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

func checkNumbers(v interface{}) error {
	switch v := v.(type) {
	case json.Number:
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return fmt.Errorf("number %s is out of range", v)
		}
	case map[string]interface{}:
		for _, e := range v {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case []interface{}:
		for _, e := range v {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

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
