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

// Credential rotation: spec.rotation, status.rotation and the annotations that go with them.

package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// RotationStrategy is how the operator replaces a client's credentials.
// +kubebuilder:validation:Enum=Replace;AlternatingClients;KeyRollover;ServerRotation
type RotationStrategy string

const (
	// RotationStrategyReplace gives the client a new secret and registers it at the
	// authorization server, where the old secret stops working at once.
	RotationStrategyReplace RotationStrategy = "Replace"
	// RotationStrategyAlternatingClients keeps two clients at the authorization server, the
	// client ID and the client ID with AlternateClientIDSuffix, and switches the Secret from one
	// to the other, each time with a fresh secret; the one switched from stays valid for the
	// grace period.
	RotationStrategyAlternatingClients RotationStrategy = "AlternatingClients"
	// RotationStrategyKeyRollover is for private_key_jwt clients whose keys the operator
	// generates: the private key is in the Secret, the public keys are the client's jwks at the
	// authorization server. A rotation publishes a new key before the Secret switches to it,
	// and the key switched from stays valid for the grace period.
	RotationStrategyKeyRollover RotationStrategy = "KeyRollover"
	// RotationStrategyServerRotation uses the authorization server's own secret rotation
	// endpoint, which keeps the secret switched from working for the grace period. Hydra has it
	// only after v2.3.0; a server without it stalls the resource with reason RotationUnsupported.
	RotationStrategyServerRotation RotationStrategy = "ServerRotation"
)

// AlternateClientIDSuffix makes the second client ID of strategy AlternatingClients.
const AlternateClientIDSuffix = "-alt"

// GracePeriod is how long replaced credentials keep working: a Go duration from 2m to 168h.
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') && duration(self) <= duration('168h')",message="gracePeriod must be a duration such as 10m or 1h, at most 168h"
// +kubebuilder:validation:XValidation:rule="!self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') || duration(self) >= duration('2m')",message="gracePeriod must be at least 2m: the kubelet refreshes a mounted Secret up to about two minutes after it changes (its sync period plus its cache TTL), and consumers must read the new credentials before the old ones stop working"
type GracePeriod string

// RotationPeriod is how often credentials are rotated: a Go duration such as 720h, from 1h to
// 87600h (ten years).
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:XValidation:rule="self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') && duration(self) <= duration('87600h')",message="period must be a duration such as 720h or 2160h (units s, m, h), at most 87600h (ten years)"
// +kubebuilder:validation:XValidation:rule="!self.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') || duration(self) >= duration('1h')",message="period must be at least 1h: credentials rotated more often cannot reach every consumer before they change again; for a one-off rotation, set the oauth2.clientoperator.dev/rotate-requested-at annotation instead"
type RotationPeriod string

// RestartTargetKind is a kind of workload the operator may restart after a rotation.
// +kubebuilder:validation:Enum=Deployment;StatefulSet
type RestartTargetKind string

const (
	// RestartTargetDeployment is an apps/v1 Deployment.
	RestartTargetDeployment RestartTargetKind = "Deployment"
	// RestartTargetStatefulSet is an apps/v1 StatefulSet.
	RestartTargetStatefulSet RestartTargetKind = "StatefulSet"
)

// RestartTarget names a workload in the resource's namespace that reads the credentials only
// at start (from environment variables, say) and so has to restart to use new ones.
type RestartTarget struct {
	// kind is Deployment or StatefulSet.
	// +required
	Kind RestartTargetKind `json:"kind"`
	// name is the workload's name, in this resource's namespace. The workload must opt in: it
	// carries the annotation oauth2.clientoperator.dev/restart-on-rotation with this
	// OAuth2Client's name, so that editing an OAuth2Client never lets anyone restart a workload
	// its owners did not offer.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid object name: lower-case letters, digits, - and ., starting and ending with a letter or digit"
	Name string `json:"name"`
}

// Rotation says how and when the operator rotates the client's credentials.
// +kubebuilder:validation:XValidation:rule="!has(self.gracePeriod) || self.strategy != 'Replace'",message="gracePeriod applies to strategies AlternatingClients, KeyRollover and ServerRotation: with Replace the old secret stops working at once"
// +kubebuilder:validation:XValidation:rule="!has(self.period) || !has(self.gracePeriod) || !self.period.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') || !self.gracePeriod.matches(r'^([0-9]{1,5}(\\.[0-9]{1,9})?(ns|us|ms|s|m|h))+$') || duration(self.period) > duration(self.gracePeriod)",message="period must be longer than gracePeriod: a rotation starts only after the credentials it replaced have been retired"
type Rotation struct {
	// strategy is how credentials are rotated. Replace: a new secret on the same client,
	// registered at the authorization server right after it is written to the Secret; the old
	// secret stops working at once, so consumers fail until they read the new one (a mounted
	// Secret volume is refreshed by the kubelet within about a minute; environment variables
	// only when the pod restarts: list such workloads in restartTargets). AlternatingClients
	// (client_credentials clients only): two clients at the authorization server, the client
	// ID and the client ID with the suffix -alt; a rotation gives the one not in use a fresh
	// secret, registers it, and only then switches the Secret to it, while the one switched
	// from keeps working for gracePeriod: no token request fails for a consumer that reads the
	// Secret again within gracePeriod.
	// +required
	Strategy RotationStrategy `json:"strategy"`
	// period is how long credentials are used before the operator rotates them, counted from
	// when they were issued, such as 720h for 30 days. At least 1h. Unset: the operator rotates
	// only when asked to, with the oauth2.clientoperator.dev/rotate-requested-at annotation.
	// +optional
	Period RotationPeriod `json:"period,omitempty"`
	// gracePeriod is how long the client (AlternatingClients), key (KeyRollover) or secret
	// (ServerRotation) switched from keeps working after a rotation, after which the operator
	// ends it at the authorization server: at least 2m, longer than it takes every consumer to read the new credentials
	// (a mounted Secret: about two minutes; environment variables: until the pods restart).
	// Default 10m.
	// +optional
	GracePeriod GracePeriod `json:"gracePeriod,omitempty"`
	// restartTargets are Deployments and StatefulSets of this namespace that the operator
	// restarts (as kubectl rollout restart does, through an annotation on the pod template) once
	// the authorization server accepts new credentials. Each must carry the annotation
	// oauth2.clientoperator.dev/restart-on-rotation with this OAuth2Client's name.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	RestartTargets []RestartTarget `json:"restartTargets,omitempty"`
}

// RotationStatus is what the operator knows of the client's current credentials and their
// rotation. It holds times and names only, never anything derived from a secret.
type RotationStatus struct {
	// credentialsIssuedAt is when the current credentials were issued: generated by the
	// operator, or first seen after someone wrote a new secret into the Secret.
	// +optional
	CredentialsIssuedAt *metav1.Time `json:"credentialsIssuedAt,omitempty"`
	// lastRotationTime is when the operator last rotated the credentials.
	// +optional
	LastRotationTime *metav1.Time `json:"lastRotationTime,omitempty"`
	// nextRotationTime is when the operator rotates them next: credentialsIssuedAt plus
	// spec.rotation.period. Unset without a period.
	// +optional
	NextRotationTime *metav1.Time `json:"nextRotationTime,omitempty"`
	// previousClientID is the client the Secret was switched from by the last rotation with
	// strategy AlternatingClients, which keeps working until previousValidUntil.
	// +optional
	PreviousClientID string `json:"previousClientID,omitempty"`
	// previousValidUntil is when the operator deletes previousClientID, the key
	// previousKeyID, or (ServerRotation) the secret switched from, at the server.
	// +optional
	PreviousValidUntil *metav1.Time `json:"previousValidUntil,omitempty"`
	// currentKeyID is the key ID (kid) of the private key in the Secret, with strategy
	// KeyRollover: the RFC 7638 thumbprint of its public key, which the server publishes anyway.
	// +optional
	CurrentKeyID string `json:"currentKeyID,omitempty"`
	// previousKeyID is the key the last rotation with strategy KeyRollover switched from, which
	// keeps working until previousValidUntil.
	// +optional
	PreviousKeyID string `json:"previousKeyID,omitempty"`
	// lastHandledRequest echoes the value of the oauth2.clientoperator.dev/rotate-requested-at
	// annotation that was last handled.
	// +optional
	LastHandledRequest string `json:"lastHandledRequest,omitempty"`
}

// Annotations of rotation.
const (
	// RotateRequestedAtAnnotation on an OAuth2Client asks for one rotation now when its value
	// changes (any value; a timestamp is the convention, as for requested-at); the value handled
	// last is echoed in status.rotation.lastHandledRequest.
	RotateRequestedAtAnnotation = "oauth2.clientoperator.dev/rotate-requested-at"
	// CredentialsIssuedAtAnnotation on the operator's Secret is when its credentials were issued
	// (RFC 3339). It is written in the same write as the credentials, so a crash can't separate
	// them, and the schedule counts from it.
	CredentialsIssuedAtAnnotation = "oauth2.clientoperator.dev/credentials-issued-at"
	// RotationRequestAnnotation on the operator's Secret is the rotate-requested-at value whose
	// rotation issued its credentials: written with them, so a request is carried out once.
	RotationRequestAnnotation = "oauth2.clientoperator.dev/rotation-request"
	// PreviousClientIDAnnotation and PreviousValidUntilAnnotation on the operator's Secret name
	// the client a rotation with strategy AlternatingClients switched from and when it is
	// retired; written with the switch.
	PreviousClientIDAnnotation   = "oauth2.clientoperator.dev/previous-client-id"
	PreviousValidUntilAnnotation = "oauth2.clientoperator.dev/previous-valid-until"
	// RestartOnRotationAnnotation on a Deployment or StatefulSet names the OAuth2Client whose
	// rotations may restart it (spec.rotation.restartTargets).
	RestartOnRotationAnnotation = "oauth2.clientoperator.dev/restart-on-rotation"
	// RestartedAtAnnotation is set on a restart target's pod template to the issue time of the
	// credentials it restarts for; the change rolls the workload, as kubectl rollout restart's
	// kubectl.kubernetes.io/restartedAt does.
	RestartedAtAnnotation = "oauth2.clientoperator.dev/restarted-for-credentials-issued-at"
)
