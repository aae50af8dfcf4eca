package operator

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// fingerprintKeyField is the key of the fingerprint-key Secret that holds the key.
const fingerprintKeyField = "key"

// serviceAccountNamespaceFile names the pod's namespace inside a cluster.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// operatorNamespace is where the operator keeps its own state: --operator-namespace (the pod's
// namespace in the shipped Deployment), else the pod's namespace read from its service account,
// else the leader-election namespace, else default (a local run).
func operatorNamespace(o Options) string {
	if o.OperatorNamespace != "" {
		return o.OperatorNamespace
	}
	if ns, err := os.ReadFile(serviceAccountNamespaceFile); err == nil && strings.TrimSpace(string(ns)) != "" {
		return strings.TrimSpace(string(ns))
	}
	if o.LeaderElectionNamespace != "" {
		return o.LeaderElectionNamespace
	}
	return "default"
}

// loadFingerprintKey reads the installation's fingerprint key from its Secret, creating the
// Secret with a random key the first time. Replicas starting together may both try to create
// it; the loser reads the winner's. The key is never logged.
func loadFingerprintKey(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespace, name string) ([]byte, error) {
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ensureFingerprintKey(ctx, c, client.ObjectKey{Namespace: namespace, Name: name})
}

func ensureFingerprintKey(ctx context.Context, c client.Client, key client.ObjectKey) ([]byte, error) {
	s := &corev1.Secret{}
	err := c.Get(ctx, key, s)
	if apierrors.IsNotFound(err) {
		s, err = createFingerprintKey(ctx, c, key)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the fingerprint key, Secret %s (flags --operator-namespace, --fingerprint-key-secret): %w", key, err)
	}
	k := s.Data[fingerprintKeyField]
	if len(k) < secrets.FingerprintKeyBytes {
		return nil, fmt.Errorf("the fingerprint key, Secret %s, needs a key %q of at least %d bytes", key, fingerprintKeyField, secrets.FingerprintKeyBytes)
	}
	return k, nil
}

func createFingerprintKey(ctx context.Context, c client.Client, key client.ObjectKey) (*corev1.Secret, error) {
	k, err := secrets.NewFingerprintKey()
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: key.Namespace, Name: key.Name,
			Annotations: map[string]string{"oauth2.clientoperator.dev/purpose": "Keys the credentials fingerprints in OAuth2Client status. " +
				"Replacing it makes every client register its secret at the authorization server once more."},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{fingerprintKeyField: k},
	}
	err = c.Create(ctx, s)
	if apierrors.IsAlreadyExists(err) {
		err = c.Get(ctx, key, s)
	}
	return s, err
}
