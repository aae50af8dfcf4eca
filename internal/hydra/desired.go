package hydra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

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
