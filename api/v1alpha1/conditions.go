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

package v1alpha1

// Condition types, following the kstatus conventions: Ready is always present; Reconciling and
// Stalled are present only while they are true.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Condition reasons. docs/troubleshooting.md has one entry for each: what it means, what to do.
const (
	// ReasonReconciled: the Hydra client matches the spec and the Secret holds its credentials.
	ReasonReconciled = "Reconciled"
	// ReasonProgressing: the operator is creating or updating the client.
	ReasonProgressing = "Progressing"
	// ReasonAuthorizationServerUnavailable: the authorization server (Hydra) could not be
	// reached, did not answer in time, answered 5xx, or refused the operator's own credentials
	// (401, 403); retried with backoff. The message names the server and the cause and stays the
	// same from one retry to the next, so a long outage makes no status writes.
	ReasonAuthorizationServerUnavailable = "AuthorizationServerUnavailable"
	// ReasonHydraUnavailable is what operator versions before AuthorizationServerUnavailable
	// wrote for the same case; resources keep it until their next pass.
	//
	// Deprecated: the operator no longer sets it; match ReasonAuthorizationServerUnavailable.
	ReasonHydraUnavailable = "HydraUnavailable"
	// ReasonHydraRejected: Hydra refused the client as specified (4xx); fix the spec.
	ReasonHydraRejected = "HydraRejected"
	// ReasonRotationUnsupported: spec.rotation.strategy is ServerRotation and the authorization
	// server has no secret rotation endpoint (Hydra up to v2.3.0); choose another strategy.
	ReasonRotationUnsupported = "RotationUnsupported"
	// ReasonClientIDConflict: the client ID belongs to another resource or was not created by
	// this operator (and adoptExistingClient is not set).
	ReasonClientIDConflict = "ClientIDConflict"
	// ReasonSecretNotFound: requireExistingSecret is set and the Secret does not exist yet.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretInvalid: the Secret exists but lacks a key the client needs, or its client ID
	// differs from spec.clientID.
	ReasonSecretInvalid = "SecretInvalid"
	// ReasonNamespaceNotAllowed: the operator's policy forbids this namespace to set clientID or
	// to adopt existing clients.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonDeleting: the resource is being deleted and the Hydra client is being removed.
	ReasonDeleting = "Deleting"
	// ReasonSecretNotShared: the Secret named by spec.secretName was not written by the operator
	// and does not name this resource in its oauth2.clientoperator.dev/client annotation (or
	// label), so the operator does not read it.
	ReasonSecretNotShared = "SecretNotShared"
	// ReasonAuthorizationServerNotFound: spec.authorizationServerRef names a server object that
	// does not exist (yet); the operator waits for it.
	ReasonAuthorizationServerNotFound = "AuthorizationServerNotFound"
	// ReasonAuthorizationServerNotReady: the server spec.authorizationServerRef names could not
	// be used in this pass: its credentials could not be read yet, or it was unavailable or
	// refused the operator's credentials. The message names the server and the cause; the
	// server's own status says more. Retried with backoff, and at once when the server turns
	// Ready. (AuthorizationServerUnavailable is the same for the default server, which has no
	// object of its own.)
	ReasonAuthorizationServerNotReady = "AuthorizationServerNotReady"
)

// Condition reasons of AuthorizationServer and ClusterAuthorizationServer. SecretNotFound and
// SecretInvalid above serve them too: a referenced Secret is missing (the operator waits for
// it), or lacks a key or holds no usable certificate (fix the Secret).
const (
	// ReasonReachable: the admin API answered, accepted the operator's credentials and told its
	// version (status.version).
	ReasonReachable = "Reachable"
	// ReasonUnauthorized: the admin API (or a gateway in front of it) refused the credentials
	// with 401 or 403: fix spec.auth or the Secret it names. Checked again on the interval.
	ReasonUnauthorized = "Unauthorized"
	// ReasonUnreachable: no connection, no answer in time, or a 5xx answer; retried with backoff.
	// The message names the URL and the cause and stays the same from one retry to the next.
	ReasonUnreachable = "Unreachable"
	// ReasonConfigMapNotFound: the ConfigMap named by spec.caBundle.configMapKeyRef does not
	// exist (yet); the operator waits for it.
	ReasonConfigMapNotFound = "ConfigMapNotFound"
	// ReasonInUse: the server is being deleted and OAuth2Clients still refer to it; it goes once
	// they are deleted, so that their clients at the server are deleted too.
	ReasonInUse = "InUse"
)

// Annotations and labels the operator reads or writes.
const (
	// RequestedAtAnnotation triggers an immediate full reconcile when its value changes; the
	// value handled last is echoed in status.lastHandledRequestedAt.
	RequestedAtAnnotation = "oauth2.clientoperator.dev/requested-at"
	// ManagedByLabel marks Secrets written by the operator; only those are cached and watched.
	ManagedByLabel = "oauth2.clientoperator.dev/managed-by"
	// ManagedByValue is the value of ManagedByLabel.
	ManagedByValue = "oauth2-client-operator"
	// CredentialsHashAnnotation on the Secret changes whenever the credentials change, so a
	// Deployment can copy it into its pod template to roll on rotation.
	CredentialsHashAnnotation = "oauth2.clientoperator.dev/credentials-hash"
	// ClientAnnotation, on a Secret the operator did not write, names the one OAuth2Client in the
	// same namespace that may take its credentials (the Secret's owner opts in; as an annotation
	// or, for names of at most 63 characters, a label). Without it the operator never reads the
	// Secret's data, so a resource can't be used to read a Secret its author can't read.
	ClientAnnotation = "oauth2.clientoperator.dev/client"
	// ReleasedByAnnotation is written on a Secret released by deletionPolicy Orphan and names the
	// resource that released it; only a resource of that name may take the Secret over.
	ReleasedByAnnotation = "oauth2.clientoperator.dev/released-by"
	// FinalizerName guards deletion of the Hydra client.
	FinalizerName = "oauth2.clientoperator.dev/finalizer"
)
