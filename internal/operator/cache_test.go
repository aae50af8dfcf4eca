package operator

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
)

// TestCacheOptions: the informers watch only the listed namespaces (all when there is no
// list), and the Secret cache holds only the Secrets the operator manages.
func TestCacheOptions(t *testing.T) {
	for _, tc := range []struct {
		watch []string // as cmd/ parses --watch-namespaces; nil: all
		want  []string // the cache's namespaces; nil: all
	}{
		{nil, nil},
		{[]string{"team-a"}, []string{"team-a"}},
		{[]string{"team-a", "team-b"}, []string{"team-a", "team-b"}},
	} {
		opts := cacheOptions(tc.watch, nil)
		got := slices.Sorted(maps.Keys(opts.DefaultNamespaces))
		if !slices.Equal(got, tc.want) || (opts.DefaultNamespaces == nil) != (tc.want == nil) {
			t.Errorf("--watch-namespaces=%v: the cache watches %v, want %v (nil: all)", tc.watch, got, tc.want)
		}
		if len(opts.ByObject) != 1 {
			t.Fatalf("--watch-namespaces=%v: %d per-type cache settings, want only the Secrets'", tc.watch, len(opts.ByObject))
		}
		for obj, byObject := range opts.ByObject {
			if _, ok := obj.(*corev1.Secret); !ok {
				t.Fatalf("a per-type cache setting for %T, want only *corev1.Secret", obj)
			}
			managed := labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}
			if byObject.Label == nil || !byObject.Label.Matches(managed) || byObject.Label.Matches(labels.Set{}) {
				t.Errorf("the Secret cache selects %v; it must select exactly the managed Secrets", byObject.Label)
			}
		}
		if opts.DefaultTransform == nil {
			t.Errorf("no transform: cached objects keep managedFields")
		}
	}
}

func TestSlimForCache(t *testing.T) {
	obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name:          "s",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"big":"copy"}`, "keep": "me"},
		Labels:        map[string]string{"keep": "me"},
	}}
	out, err := slimForCache(obj)
	if err != nil {
		t.Fatal(err)
	}
	slim := out.(*corev1.Secret)
	if slim.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", slim.ManagedFields)
	}
	if _, ok := slim.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("the last-applied copy kept")
	}
	if slim.Annotations["keep"] != "me" || slim.Labels["keep"] != "me" || slim.Name != "s" {
		t.Errorf("other metadata lost: %+v", slim.ObjectMeta)
	}
}

// A Secret the operator created keeps, in the cache, the mark that its fields are held by a
// create (controllers' takeOverCreatedFields runs before the first apply), without the fields.
func TestSlimForCacheKeepsTheCreatedMark(t *testing.T) {
	fields := metav1.NewFieldsV1(`{"f:data":{"f:client_id":{}}}`)
	for _, tc := range []struct {
		name   string
		fields []metav1.ManagedFieldsEntry
		marked bool
	}{
		{"created by the operator", []metav1.ManagedFieldsEntry{
			{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fields},
			{Manager: controllers.FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: fields}}, true},
		{"applied by the operator", []metav1.ManagedFieldsEntry{
			{Manager: controllers.FieldManager, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: fields}}, false},
		{"the operator's status update", []metav1.ManagedFieldsEntry{
			{Manager: controllers.FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: fields}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := slimForCache(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", ManagedFields: tc.fields}})
			kept := out.(*corev1.Secret).ManagedFields
			want := []metav1.ManagedFieldsEntry(nil)
			if tc.marked {
				want = []metav1.ManagedFieldsEntry{{Manager: controllers.FieldManager, Operation: metav1.ManagedFieldsOperationUpdate}}
			}
			if !slices.EqualFunc(kept, want, func(a, b metav1.ManagedFieldsEntry) bool {
				return a.Manager == b.Manager && a.Operation == b.Operation && a.FieldsV1 == nil
			}) {
				t.Errorf("kept %+v, want %+v", kept, want)
			}
		})
	}
}
