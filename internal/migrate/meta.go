package migrate

import (
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// droppedLabels name the tool that deployed hydra-maester's resource. Copied, they would make
// Helm or Argo CD think the new resource is theirs, and prune or overwrite it.
var droppedLabels = []string{"app.kubernetes.io/managed-by", "app.kubernetes.io/instance"}

// droppedAnnotationPrefixes belong to kubectl (last-applied-configuration), Argo CD and Helm:
// state of the old resource's deployment, wrong on the new one.
var droppedAnnotationPrefixes = []string{"kubectl.kubernetes.io/", "argocd.argoproj.io/", "meta.helm.sh/"}

// copyMeta returns the labels and annotations to carry over and notes what it copied and left.
// Everything else of metadata (uid, resourceVersion, finalizers, owners, managed fields,
// timestamps) belongs to the old object and is never copied.
func copyMeta(in *unstructured.Unstructured, res *Result) (labels, annotations map[string]string) {
	labels, droppedL := filterMap(in.GetLabels(), func(k string) bool { return slices.Contains(droppedLabels, k) })
	annotations, droppedA := filterMap(in.GetAnnotations(), func(k string) bool {
		return slices.ContainsFunc(droppedAnnotationPrefixes, func(p string) bool { return strings.HasPrefix(k, p) })
	})
	noteKeys(res, "labels copied: ", labels)
	noteList(res, "labels not copied (they belong to the tool that deployed the old resource): ", droppedL)
	noteKeys(res, "annotations copied: ", annotations)
	noteList(res, "annotations not copied: ", droppedA)
	return labels, annotations
}

// filterMap splits m into the entries to keep (nil if none) and the sorted keys dropped.
func filterMap(m map[string]string, drop func(string) bool) (map[string]string, []string) {
	var kept map[string]string
	var dropped []string
	for k, v := range m {
		if drop(k) {
			dropped = append(dropped, k)
			continue
		}
		if kept == nil {
			kept = map[string]string{}
		}
		kept[k] = v
	}
	slices.Sort(dropped)
	return kept, dropped
}

func noteKeys(res *Result, prefix string, m map[string]string) {
	noteList(res, prefix, slices.Sorted(maps.Keys(m)))
}

func noteList(res *Result, prefix string, keys []string) {
	if len(keys) > 0 {
		res.Notes = append(res.Notes, prefix+strings.Join(keys, ", "))
	}
}
