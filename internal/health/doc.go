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

// Package health holds the tests that pin down what an OAuth2Client's status means to the tools
// that judge resource health from outside the operator: Argo CD, through the Lua health check in
// config/argocd/health.lua, and Flux (kustomize-controller) and kubectl-style waiters, through
// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus). The tests run both against the same resource
// states, so the two keep agreeing with each other and with the conditions the controller sets.
//
// The package has no code of its own; it exists for its tests.
package health
