package operator

import (
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// internShared makes the strings that repeat across cached objects share one copy each: the
// decoder gives every object its own copy of its namespace, of each label and annotation key,
// of each label value, of its owner's API version and kind, of its finalizers and Secret data
// keys, and of the grant types, scopes and condition words of an OAuth2Client; and a Secret
// labelled only as the operator's gets the one shared map of that label. At N=10,000
// those copies were a tenth of the operator's live heap. Strings unique to one object (names,
// UIDs, annotation values, condition messages, secrets) are left alone: a shared copy of them
// would cost an entry in the table of shared strings and save nothing.
//
// Only the cached copy changes, and only which memory holds the same bytes: readers of the
// cache get deep copies, and Go strings are immutable.
func internShared(obj metav1.Object) {
	obj.SetNamespace(intern(obj.GetNamespace()))
	if l := obj.GetLabels(); l != nil {
		if len(l) == 1 && l[v1alpha1.ManagedByLabel] == v1alpha1.ManagedByValue {
			obj.SetLabels(managedLabels) // most Secrets: one map for all instead of one each
		} else {
			obj.SetLabels(internMap(l, true))
		}
	}
	if a := obj.GetAnnotations(); a != nil {
		obj.SetAnnotations(internMap(a, false))
	}
	internSlice(obj.GetFinalizers())
	refs := obj.GetOwnerReferences() // a typed object's own slice: changed in place
	for i := range refs {
		refs[i].APIVersion, refs[i].Kind = intern(refs[i].APIVersion), intern(refs[i].Kind)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		o.Type = corev1.SecretType(intern(string(o.Type)))
		if o.Data != nil {
			data := make(map[string][]byte, len(o.Data))
			for k, v := range o.Data {
				data[intern(k)] = v
			}
			o.Data = data
		}
	case *v1alpha1.OAuth2Client:
		o.APIVersion, o.Kind = intern(o.APIVersion), intern(o.Kind)
		for i := range o.Spec.GrantTypes {
			o.Spec.GrantTypes[i] = v1alpha1.GrantType(intern(string(o.Spec.GrantTypes[i])))
		}
		internSlice(o.Spec.Scopes)
		for i := range o.Status.Conditions {
			c := &o.Status.Conditions[i]
			c.Type, c.Reason = intern(c.Type), intern(c.Reason)
			c.Status = metav1.ConditionStatus(intern(string(c.Status)))
		}
	}
}

// managedLabels is the label set of a Secret the operator writes without template labels,
// shared by all such Secrets in the cache. Like every cached object, it must not be modified.
var managedLabels = map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}

// intern returns the shared copy of s.
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

func internSlice(s []string) {
	for i := range s {
		s[i] = intern(s[i])
	}
}

// internMap returns m with shared keys, and shared values too when values is set. It builds a
// new map: the decoded one is garbage right after, so the cache keeps only the new one.
func internMap(m map[string]string, values bool) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if values {
			v = intern(v)
		}
		out[intern(k)] = v
	}
	return out
}
