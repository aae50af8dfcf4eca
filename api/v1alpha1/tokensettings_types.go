/*
Copyright 2026 The oauth2-client-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// The client's token settings: its public keys (jwks) and the lifespans of the tokens Hydra
// issues to it (tokenLifespans), with the Duration type and rules they use.

package v1alpha1

import apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

// JSONWebKeySet is a JSON Web Key Set (RFC 7517 section 5).
type JSONWebKeySet struct {
	// keys are the client's public JSON Web Keys (RFC 7517 section 4), each an object with at
	// least kty, such as {"kty": "RSA", "kid": "key-1", "use": "sig", "n": "...", "e": "AQAB"}.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Type=object
	Keys []apiextensionsv1.JSON `json:"keys"`
}

// Duration is a token lifespan: a Go duration string such as 30m, 1h or 720h, from 1s to
// 87600h (ten years). The pattern limits each number to five digits, so that no value of the
// maximum length can overflow when parsed; the maximum keeps lifetimes to what a token can
// sensibly have, and the minimum refuses lifespans (0s, 500ms) that make a token expire
// before it can be used. Duration is used only for the lifespans of TokenLifespans.
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') && duration(self) <= duration('87600h')",message="must be a duration such as 15m, 1h30m or 720h (units ns, us, ms, s, m, h), at most 87600h (ten years)"
// +kubebuilder:validation:XValidation:rule="!self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') || duration(self) >= duration('1s')",message="must be at least 1s; a token that expires sooner cannot be used: set a longer lifespan, such as 5m, or leave the field unset for the server's default"
type Duration string

// TokenLifespans overrides token lifetimes for one client. Each value is a Go duration
// (for example 15m or 720h) from 1s to 87600h; unset means the server's default.
type TokenLifespans struct {
	// authorizationCodeGrantAccessToken is the access token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantAccessToken Duration `json:"authorizationCodeGrantAccessToken,omitempty"`
	// authorizationCodeGrantIDToken is the ID token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantIDToken Duration `json:"authorizationCodeGrantIDToken,omitempty"`
	// authorizationCodeGrantRefreshToken is the refresh token lifetime in the authorization-code grant.
	// +optional
	AuthorizationCodeGrantRefreshToken Duration `json:"authorizationCodeGrantRefreshToken,omitempty"`
	// clientCredentialsGrantAccessToken is the access token lifetime in the client-credentials grant.
	// +optional
	ClientCredentialsGrantAccessToken Duration `json:"clientCredentialsGrantAccessToken,omitempty"`
	// implicitGrantAccessToken is the access token lifetime in the implicit grant.
	// +optional
	ImplicitGrantAccessToken Duration `json:"implicitGrantAccessToken,omitempty"`
	// implicitGrantIDToken is the ID token lifetime in the implicit grant.
	// +optional
	ImplicitGrantIDToken Duration `json:"implicitGrantIDToken,omitempty"`
	// jwtBearerGrantAccessToken is the access token lifetime in the JWT-bearer grant.
	// +optional
	JWTBearerGrantAccessToken Duration `json:"jwtBearerGrantAccessToken,omitempty"`
	// refreshTokenGrantAccessToken is the access token lifetime when refreshing.
	// +optional
	RefreshTokenGrantAccessToken Duration `json:"refreshTokenGrantAccessToken,omitempty"`
	// refreshTokenGrantIDToken is the ID token lifetime when refreshing.
	// +optional
	RefreshTokenGrantIDToken Duration `json:"refreshTokenGrantIDToken,omitempty"`
	// refreshTokenGrantRefreshToken is the refresh token lifetime when refreshing.
	// +optional
	RefreshTokenGrantRefreshToken Duration `json:"refreshTokenGrantRefreshToken,omitempty"`
}
