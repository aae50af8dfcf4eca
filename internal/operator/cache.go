package operator

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
)

// cacheOptions caches only the Secrets the operator manages (selected by label), so memory does
// not grow with the Secrets of the rest of the cluster, and limits every cache to the watched
// namespaces when there is a list. A shard (non-nil selector) caches, and so reconciles, only
// the OAuth2Clients its selector matches.
func cacheOptions(watchNamespaces []string, shard labels.Selector) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue})
	opts := cache.Options{
		ByObject:         map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: managed}},
		DefaultTransform: slimForCache,
	}
	if shard != nil {
		opts.ByObject[&v1alpha1.OAuth2Client{}] = cache.ByObject{Label: shard}
	}
	if len(watchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, n := range watchNamespaces {
			opts.DefaultNamespaces[n] = cache.Config{}
		}
	}
	return opts
}

// slimForCache drops what the operator never reads from objects before they enter the cache:
// managedFields, often the largest part of an object (all but createdMarks), and the copy of
// the whole manifest that client-side `kubectl apply` keeps in an annotation; and it shares
// the strings that repeat across objects (internShared). Nothing is written back from these
// copies except through patches computed between two of them, so the dropped fields are never
// touched at the API server.
func slimForCache(in any) (any, error) {
	if obj, err := meta.Accessor(in); err == nil {
		if obj.GetManagedFields() != nil {
			obj.SetManagedFields(createdMarks(obj.GetManagedFields()))
		}
		if a := obj.GetAnnotations(); a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				delete(a, corev1.LastAppliedConfigAnnotation)
				obj.SetAnnotations(a)
			}
		}
		internShared(obj)
	}
	return in, nil
}

// createdMarks is what the cache keeps of managedFields: the manager and operation of the
// operator's Update entry, which a Secret the operator created carries until its first apply
// takes the fields over (controllers' takeOverCreatedFields reads the rest then); nil otherwise.
func createdMarks(fields []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	for _, m := range fields {
		if m.Manager == controllers.FieldManager && m.Operation == metav1.ManagedFieldsOperationUpdate && m.Subresource == "" {
			return []metav1.ManagedFieldsEntry{{Manager: m.Manager, Operation: m.Operation}}
		}
	}
	return nil
}
