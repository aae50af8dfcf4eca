package controllers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// serverCredentials is what a server's spec references, as read from its Secrets and
// ConfigMap. It never leaves the pass that read it: nothing of it is logged or stored.
type serverCredentials struct {
	token              string
	username, password string
	certPEM, keyPEM    []byte
	ca                 []byte
}

// readServerCredentials reads what spec references from namespace, with the uncached reader:
// the operator caches only the Secrets it writes, and a server's Secrets are few and read once
// per check. A missing object is a wait (the Secret may arrive with the next sync of a GitOps
// tool); a missing key is stalled (someone has to fix the Secret).
func readServerCredentials(ctx context.Context, r client.Reader, namespace string, spec *v1alpha1.AuthorizationServerSpec) (serverCredentials, error) {
	var c serverCredentials
	var err error
	if a := spec.Auth; a != nil {
		switch {
		case a.BearerToken != nil:
			var token []byte
			token, err = secretKey(ctx, r, namespace, a.BearerToken.SecretKeyRef.Name, a.BearerToken.SecretKeyRef.Key)
			c.token = strings.TrimSpace(string(token))
		case a.Basic != nil:
			var data map[string][]byte
			data, err = secretKeys(ctx, r, namespace, a.Basic.SecretRef.Name, corev1.BasicAuthUsernameKey, corev1.BasicAuthPasswordKey)
			c.username, c.password = string(data[corev1.BasicAuthUsernameKey]), string(data[corev1.BasicAuthPasswordKey])
		case a.ClientCertificate != nil:
			var data map[string][]byte
			data, err = secretKeys(ctx, r, namespace, a.ClientCertificate.SecretRef.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
			c.certPEM, c.keyPEM = data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey]
		}
		if err != nil {
			return c, err
		}
	}
	c.ca, err = readCABundle(ctx, r, namespace, spec.CABundle)
	return c, err
}

// readCABundle is the PEM the CA bundle source holds; nil without a source.
func readCABundle(ctx context.Context, r client.Reader, namespace string, src *v1alpha1.CABundleSource) ([]byte, error) {
	switch {
	case src == nil:
		return nil, nil
	case src.Inline != "":
		return []byte(src.Inline), nil
	case src.SecretKeyRef != nil:
		return secretKey(ctx, r, namespace, src.SecretKeyRef.Name, src.SecretKeyRef.Key)
	case src.ConfigMapKeyRef != nil:
		cm := &corev1.ConfigMap{}
		ref := src.ConfigMapKeyRef
		if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, cm); err != nil {
			if isGone(err) {
				return nil, &waitingError{reason: v1alpha1.ReasonConfigMapNotFound,
					message: fmt.Sprintf("ConfigMap %s/%s (caBundle.configMapKeyRef) does not exist", namespace, ref.Name)}
			}
			return nil, err
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return []byte(v), nil
		}
		return nil, stalled(v1alpha1.ReasonSecretInvalid, "ConfigMap %s/%s has no key %q (caBundle.configMapKeyRef)", namespace, ref.Name, ref.Key)
	}
	return nil, nil
}

// secretKey is one key of a Secret.
func secretKey(ctx context.Context, r client.Reader, namespace, name, key string) ([]byte, error) {
	data, err := secretKeys(ctx, r, namespace, name, key)
	return data[key], err
}

// secretKeys reads the Secret and checks that it has every key; errors name the Secret and the
// keys, never a value.
func secretKeys(ctx context.Context, r client.Reader, namespace, name string, keys ...string) (map[string][]byte, error) {
	s := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s); err != nil {
		if isGone(err) {
			return nil, &waitingError{reason: v1alpha1.ReasonSecretNotFound,
				message: fmt.Sprintf("Secret %s/%s does not exist", namespace, name)}
		}
		return nil, err
	}
	for _, k := range keys {
		if len(s.Data[k]) == 0 {
			return nil, stalled(v1alpha1.ReasonSecretInvalid, "Secret %s/%s has no key %q, or it is empty", namespace, name, k)
		}
	}
	return s.Data, nil
}

// serverOptions maps a server's spec and what it references to the admin client's options.
// An unusable certificate or CA is stalled: the operator can't repair either.
func serverOptions(spec *v1alpha1.AuthorizationServerSpec, c serverCredentials) (hydra.Options, error) {
	opts := hydra.Options{
		AdminURL: spec.AdminURL, Timeout: serverTimeout(spec.Timeout),
		BearerToken: c.token, BasicUsername: c.username, BasicPassword: c.password,
		CABundle: c.ca, UserAgent: hydra.DefaultUserAgent,
		// One connection: a check runs every minute or so, not a reconciler's workers.
		MaxIdleConnsPerHost: 1,
	}
	if len(c.certPEM) > 0 {
		cert, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
		if err != nil {
			// tls's message says which PEM block failed, never the key.
			return opts, stalled(v1alpha1.ReasonSecretInvalid, "the client certificate Secret holds no usable certificate and key: %v", err)
		}
		opts.ClientCertificate = &cert
	}
	if len(c.ca) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.ca) {
		return opts, stalled(v1alpha1.ReasonSecretInvalid, "the CA bundle (spec.caBundle) holds no PEM certificate")
	}
	return opts, nil
}

// serverTimeout is spec.timeout, which the CRD checks; the adapter's default if it is unset.
func serverTimeout(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return hydra.DefaultTimeout
	}
	return d
}
