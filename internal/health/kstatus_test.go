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

package health

import (
	"testing"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// TestKstatus checks what kstatus (used by Flux's kustomize-controller health checks, by
// "kubectl wait"-style tools and by cli-utils' applier) computes for each OAuth2Client state.
func TestKstatus(t *testing.T) {
	for _, tc := range healthCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := status.Compute(tc.fixture.object(t))
			if err != nil {
				t.Fatalf("status.Compute: %v", err)
			}
			if got := res.Status.String(); got != tc.kstatus {
				t.Errorf("kstatus = %s (%q), want %s", got, res.Message, tc.kstatus)
			}
			if res.Status == status.FailedStatus {
				// Flux shows the Stalled condition's message, as Argo CD does.
				var stalled string
				for _, c := range tc.fixture.conditions {
					if c.Type == v1alpha1.ConditionStalled {
						stalled = c.Message
					}
				}
				if res.Message != stalled {
					t.Errorf("kstatus message = %q, want the Stalled message %q", res.Message, stalled)
				}
			}
		})
	}
}

// TestKstatusAgreesWithArgoCD pins down where the two tools agree, so that a change to one
// mapping that is not made to the other shows up. Current must mean Healthy, Failed must mean
// Degraded; the only tolerated differences are the cases kstatus cannot decide from the object
// (named in healthCases) and deletion, which Argo CD decides before running the script.
func TestKstatusAgreesWithArgoCD(t *testing.T) {
	tolerated := map[string]bool{
		"new object without status (kstatus cannot tell and says Current)":                 true,
		"status written without observedGeneration":                                        true,
		"observed but no conditions yet":                                                   true,
		"Ready=False SecretInvalid without Stalled (kstatus cannot tell it is a dead end)": true,
		"deleting": true,
	}
	want := map[string]string{
		ksCurrent:    argoHealthy,
		ksInProgress: argoProgressing,
		ksFailed:     argoDegraded,
	}
	for _, tc := range healthCases {
		if tolerated[tc.name] {
			continue
		}
		if want[tc.kstatus] != tc.argoStatus {
			t.Errorf("%s: kstatus %s but Argo CD %s", tc.name, tc.kstatus, tc.argoStatus)
		}
	}
}
