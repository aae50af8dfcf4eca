package migrate

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// listPageSize keeps one response small on a cluster with many clients.
const listPageSize = 500

// ListFromCluster lists hydra-maester's OAuth2Clients in namespace ("" for all namespaces),
// page by page. It reads nothing else: not the CRD, and no Secrets.
func ListFromCluster(ctx context.Context, client dynamic.Interface, namespace string) (Input, error) {
	var in Input
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := client.Resource(SourceGVR).Namespace(namespace).List(ctx, opts)
		if apierrors.IsNotFound(err) {
			// The API server's own words, "the server could not find the requested resource",
			// don't say which resource: say it, since this is usually the wrong cluster.
			return in, fmt.Errorf("hydra-maester's CRD (%s) is not installed in this cluster (is this the right kubeconfig context?)", SourceGVR.GroupResource())
		}
		if err != nil {
			return in, err
		}
		for i := range list.Items {
			item := &list.Items[i]
			if item.GetKind() == "" { // some servers leave the kind of list items out
				item.SetGroupVersionKind(SourceGroupVersion.WithKind(SourceKind))
			}
			in.add(item)
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return in, nil
		}
	}
}
