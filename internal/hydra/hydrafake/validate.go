package hydrafake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	hydraclient "github.com/ory/hydra-client-go/v2"
)

// request is a client as sent with POST or PUT, with what validation needs to know about its
// key set.
type request struct {
	*hydraclient.OAuth2Client
	// hasJWKS is Hydra's "jwks is set": the field was sent and not null.
	hasJWKS bool
	keys    []jose.JSONWebKey
}

// decodeClient reads a client the way Hydra's JSON decoding does: fields Hydra does not know
// and fields it manages itself are dropped, metadata is kept byte for byte (numbers beyond
// float64 included), jwks is parsed by go-jose and stored re-encoded, lifespans are parsed and
// stored as time.Duration prints them. Whatever Hydra fails to decode is a 400 here too.
func decodeClient(r *http.Request) (*request, *apiError) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, malformed(err.Error())
	}
	c := &hydraclient.OAuth2Client{}
	if err := json.Unmarshal(body, c); err != nil {
		return nil, malformed(err.Error())
	}
	var raw struct {
		Metadata json.RawMessage `json:"metadata"`
		JWKS     json.RawMessage `json:"jwks"`
	}
	_ = json.Unmarshal(body, &raw) // the body decoded above; raw messages take any value
	c.AdditionalProperties = nil
	c.RegistrationAccessToken, c.RegistrationClientUri = nil, nil
	c.CreatedAt, c.UpdatedAt = nil, nil
	c.Metadata = metadataOf(raw.Metadata)
	req := &request{OAuth2Client: c}
	if apiErr := req.setJWKS(raw.JWKS); apiErr != nil {
		return nil, apiErr
	}
	if apiErr := canonicalLifespans(c); apiErr != nil {
		return nil, apiErr
	}
	return req, nil
}

// metadataOf is metadata as Hydra stores it: as sent, or {} when not sent.
func metadataOf(raw json.RawMessage) any {
	if raw == nil {
		return json.RawMessage("{}")
	}
	return raw
}

// setJWKS parses the key set with go-jose, whose encoding drops members it does not know
// (key_ops, ext) and re-encodes key material. A set sent without "keys" is stored as {}, and
// so is one not sent at all.
func (req *request) setJWKS(raw json.RawMessage) *apiError {
	req.Jwks = json.RawMessage("{}")
	if raw == nil || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	req.hasJWKS = true
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return malformed(err.Error())
	}
	if _, ok := members["keys"]; !ok {
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return malformed(err.Error())
	}
	canonical, err := json.Marshal(set)
	if err != nil {
		return malformed(err.Error())
	}
	req.keys, req.Jwks = set.Keys, json.RawMessage(canonical)
	return nil
}

// canonicalLifespans parses each token lifespan and stores it as time.Duration.String, as
// Hydra does (5m becomes 5m0s). An empty string does not parse, in Hydra either.
func canonicalLifespans(c *hydraclient.OAuth2Client) *apiError {
	for _, field := range []**string{
		&c.AuthorizationCodeGrantAccessTokenLifespan, &c.AuthorizationCodeGrantIdTokenLifespan,
		&c.AuthorizationCodeGrantRefreshTokenLifespan, &c.ClientCredentialsGrantAccessTokenLifespan,
		&c.ImplicitGrantAccessTokenLifespan, &c.ImplicitGrantIdTokenLifespan,
		&c.JwtBearerGrantAccessTokenLifespan, &c.RefreshTokenGrantAccessTokenLifespan,
		&c.RefreshTokenGrantIdTokenLifespan, &c.RefreshTokenGrantRefreshTokenLifespan,
	} {
		if *field == nil {
			continue
		}
		d, err := time.ParseDuration(**field)
		if err != nil {
			// Hydra's message is Go's, quoted with single quotes.
			return malformed(strings.ReplaceAll(err.Error(), `"`, "'"))
		}
		canonical := d.String()
		*field = &canonical
	}
	return nil
}

// validate applies the rules of Hydra's client validator (client/validator.go) that need no
// network, in the same order and with the same messages, and fills in Hydra's defaults. Left
// out: sector_identifier_uri, which Hydra fetches and the fake stores unchecked, and the
// private-IP check of jwks_uri and backchannel_logout_uri, which is off by default.
func validate(req *request) *apiError {
	for _, check := range []func(*request) *apiError{
		checkAuthMethod, checkJWKS, checkSecret, checkCORSOrigins, checkUserinfoAlg,
		checkRedirectURIs, checkSubjectType, checkPostLogoutRedirectURIs, checkAccessTokenStrategy,
	} {
		if apiErr := check(req); apiErr != nil {
			return apiErr
		}
	}
	setDefaults(req.OAuth2Client)
	return nil
}

// signingAlgs are the algorithms Hydra accepts for private_key_jwt.
var signingAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

func checkAuthMethod(req *request) *apiError {
	if req.GetTokenEndpointAuthMethod() != "private_key_jwt" {
		return nil
	}
	if req.GetJwksUri() == "" && !req.hasJWKS {
		return invalidMetadata("When token_endpoint_auth_method is 'private_key_jwt', either jwks or jwks_uri must be set.")
	}
	if alg := req.GetTokenEndpointAuthSigningAlg(); alg != "" && !slices.Contains(signingAlgs, alg) {
		return invalidMetadata("Only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 and ES512 are supported as algorithms for private key authentication.")
	}
	return nil
}

func checkJWKS(req *request) *apiError {
	if req.GetJwksUri() != "" && req.hasJWKS {
		return invalidMetadata("Fields jwks and jwks_uri can not both be set, you must choose one.")
	}
	for _, k := range req.keys {
		if !k.Valid() {
			return invalidMetadata("Invalid JSON web key in set.")
		}
	}
	return nil
}

func checkSecret(req *request) *apiError {
	if s := req.GetClientSecret(); s != "" && len(s) < 6 {
		return invalidMetadata("Field client_secret must contain a secret that is at least 6 characters long.")
	}
	return nil
}

// checkCORSOrigins also rewrites each origin as Hydra stores it (trailing slashes dropped).
func checkCORSOrigins(req *request) *apiError {
	for i, origin := range req.AllowedCorsOrigins {
		u, err := url.Parse(origin)
		switch {
		case err != nil:
			return invalidMetadata(fmt.Sprintf("Origin URL %s from allowed_cors_origins could not be parsed: %s", origin, err))
		case u.Scheme != "https" && u.Scheme != "http":
			return invalidMetadata(fmt.Sprintf("Origin URL %s must use https:// or http:// as HTTP scheme.", origin))
		case u.User != nil && u.User.String() != "":
			return invalidMetadata(fmt.Sprintf("Origin URL %s has HTTP user and/or password set which is not allowed.", origin))
		}
		u.Path = strings.TrimRight(u.Path, "/")
		if len(u.Path)+len(u.RawQuery)+len(u.Fragment) > 0 {
			return invalidMetadata(fmt.Sprintf("Origin URL %s must have an empty path, query, and fragment but one of the parts is not empty.", origin))
		}
		req.AllowedCorsOrigins[i] = u.String()
	}
	return nil
}

func checkUserinfoAlg(req *request) *apiError {
	if alg := req.GetUserinfoSignedResponseAlg(); alg != "" && alg != "none" && alg != "RS256" {
		return invalidMetadata("Field userinfo_signed_response_alg can either be 'none' or 'RS256'.")
	}
	return nil
}

func checkRedirectURIs(req *request) *apiError {
	for _, uri := range req.RedirectUris {
		if _, err := url.ParseRequestURI(uri); err != nil {
			return invalidRedirectURI("Unable to parse redirect URL: " + uri)
		}
		if strings.Contains(uri, "#") {
			return invalidRedirectURI("Redirect URIs must not contain fragments (#).")
		}
	}
	return nil
}

// checkSubjectType accepts what a Hydra configured with the subject types public and pairwise
// accepts (the contract test's Hydra is): pairwise only with opaque access tokens.
func checkSubjectType(req *request) *apiError {
	supported := []string{"public", "pairwise"}
	if strings.EqualFold(req.GetAccessTokenStrategy(), "jwt") {
		supported = []string{"public"}
	}
	if st := req.GetSubjectType(); st != "" && !slices.Contains(supported, st) {
		return invalidMetadata(fmt.Sprintf("Subject type %s is not supported by server, only %v are allowed.", st, supported))
	}
	return nil
}

// checkPostLogoutRedirectURIs requires each post-logout URI to share scheme, host and port
// with one of the redirect URIs.
func checkPostLogoutRedirectURIs(req *request) *apiError {
	for _, uri := range req.PostLogoutRedirectUris {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return invalidMetadata("Unable to parse post_logout_redirect_uri: " + uri)
		}
		if !slices.ContainsFunc(req.RedirectUris, func(r string) bool { return sameOrigin(r, u) }) {
			return invalidMetadata(fmt.Sprintf(`post_logout_redirect_uri '%s' must match the domain, port, scheme of at least one of the registered redirect URIs but did not'`, uri))
		}
	}
	return nil
}

func sameOrigin(redirectURI string, u *url.URL) bool {
	r, err := url.ParseRequestURI(redirectURI)
	return err == nil && r.Hostname() == u.Hostname() && r.Port() == u.Port() && r.Scheme == u.Scheme
}

func checkAccessTokenStrategy(req *request) *apiError {
	s := req.GetAccessTokenStrategy()
	if s == "" {
		return nil
	}
	if s = strings.ToLower(s); s != "jwt" && s != "opaque" {
		return invalidMetadata("invalid access token strategy: expected one of [jwt, opaque] but got " + req.GetAccessTokenStrategy())
	}
	req.SetAccessTokenStrategy(s)
	return nil
}

// setDefaults fills in what Hydra stores for fields sent empty.
func setDefaults(c *hydraclient.OAuth2Client) {
	orDefault := func(p **string, def string) {
		if *p == nil || **p == "" {
			*p = &def
		}
	}
	orDefault(&c.TokenEndpointAuthMethod, "client_secret_basic")
	orDefault(&c.Scope, "offline_access offline openid")
	orDefault(&c.UserinfoSignedResponseAlg, "none")
	orDefault(&c.SubjectType, "public")
	c.SetClientSecretExpiresAt(0)
	if c.SkipConsent == nil {
		c.SetSkipConsent(false)
	}
}

// metadataPreamble is how Hydra begins every invalid_client_metadata description.
const metadataPreamble = "The value of one of the Client Metadata fields is invalid and the server has rejected this " +
	"request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a " +
	"Client's Metadata. "

func invalidMetadata(hint string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_client_metadata", description: metadataPreamble + hint}
}

func invalidRedirectURI(hint string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_redirect_uri",
		description: "The value of one or more redirect_uris is invalid. " + hint}
}

// malformed is Hydra's answer to a body it cannot decode.
func malformed(reason string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "The request was malformed or contained invalid parameters",
		description: "Unable to decode the request body: " + reason}
}
