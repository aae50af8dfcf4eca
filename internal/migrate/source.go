package migrate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SourceGroupVersion is hydra-maester's API group and version.
var SourceGroupVersion = schema.GroupVersion{Group: "hydra.ory.sh", Version: "v1alpha1"}

// SourceGVR is the resource hydra-maester's OAuth2Clients are listed under.
var SourceGVR = SourceGroupVersion.WithResource("oauth2clients")

// SourceKind is the kind of hydra-maester's resource (its list kind is SourceKind+"List").
const SourceKind = "OAuth2Client"

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
