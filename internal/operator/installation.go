package operator

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// installationNamespace is the namespace whose UID names the cluster when --cluster-name is
// not set: every cluster has it, it is never deleted, and its UID differs between clusters.
const installationNamespace = "kube-system"

// installation is the name of this cluster in owner marks: --cluster-name, or the UID of the
// kube-system namespace. Two clusters whose operators share an authorization server must have
// different names, and one cluster must keep its name: a changed name makes the operator take
// every client it registered for another cluster's and refuse it (docs/operations.md).
func installation(ctx context.Context, cfg *rest.Config, o Options) (string, error) {
	if o.ClusterName != "" {
		if errs := hydra.ValidInstallation(o.ClusterName); len(errs) > 0 {
			return "", fmt.Errorf("--cluster-name %q: %s", o.ClusterName, strings.Join(errs, "; "))
		}
		return o.ClusterName, nil
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: installationNamespace}, ns); err != nil {
		return "", fmt.Errorf("naming this cluster by the UID of namespace %s (set --cluster-name instead): %w", installationNamespace, err)
	}
	return string(ns.UID), nil
}
