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

// Package v1alpha1 contains the v1alpha1 API of the oauth2.clientoperator.dev group.
// +kubebuilder:object:generate=true
// +groupName=oauth2.clientoperator.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "oauth2.clientoperator.dev", Version: "v1alpha1"}

	// SchemeBuilder adds the types of this API to a scheme. The API package depends only on
	// k8s.io/apimachinery and apiextensions, so that clients can import it cheaply.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &OAuth2Client{}, &OAuth2ClientList{},
		&AuthorizationServer{}, &AuthorizationServerList{},
		&ClusterAuthorizationServer{}, &ClusterAuthorizationServerList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
