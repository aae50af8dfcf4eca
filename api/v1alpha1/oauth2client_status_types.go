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

// The status of an OAuth2Client: what the operator last observed and did.

package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// OAuth2ClientStatus is what the operator last observed and did.
type OAuth2ClientStatus struct {
	// observedGeneration is the generation of the spec the operator last finished with: either
	// fully applied to the authorization server and the Secret (Ready=True), or refused for good
	// (Stalled=True). While it is behind metadata.generation, the operator is still working.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the client is registered as specified and the Secret holds working
	// credentials), Reconciling (work is in progress; present only while true) and Stalled (the
	// operator cannot make progress without a change to the spec or the environment; present
	// only while true).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// clientID is the client_id registered at the authorization server.
	// +optional
	ClientID string `json:"clientID,omitempty"`

	// secretName is the Secret that holds the client's credentials.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// credentialsFingerprint identifies the credentials last registered at the authorization
	// server: an HMAC-SHA-256, truncated, keyed with a per-installation key that only the
	// operator holds, over the client ID and the secret (salted with the resource's UID). It
	// lets the operator notice a changed Secret, and cannot be used to guess the secret without
	// that key.
	// +optional
	CredentialsFingerprint string `json:"credentialsFingerprint,omitempty"`

	// lastHandledRequestedAt echoes the value of the oauth2.clientoperator.dev/requested-at
	// annotation that was last handled.
	// +optional
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`
	// rotation tells when the credentials were issued and rotated, and when they rotate next.
	// +optional
	Rotation *RotationStatus `json:"rotation,omitempty"`
}
