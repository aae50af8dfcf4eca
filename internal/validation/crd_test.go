package validation

import (
	"math"
	"os"
	"sort"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"
)

// The API server's limits on the estimated cost of the CEL rules when a CRD is created
// (StaticEstimatedCostLimit and StaticEstimatedCRDCostLimit of
// k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation, not imported here because
// that package pulls in most of the API server).
const (
	ruleCostLimit = 10_000_000
	crdCostLimit  = 100_000_000
)

// TestRuleCosts estimates, as the API server does when the CRD is created, the cost of each CEL
// rule times the number of times it can run in one object: a rule over the limit, or rules over
// the total limit, make the CRD fail to install. Every list and map must have a maximum size,
// or the API server assumes as many elements as fit in a request. With -v it logs each cost.
func TestRuleCosts(t *testing.T) {
	for kind, file := range CRDFiles {
		t.Run(kind, func(t *testing.T) { checkRuleCosts(t, "../../config/crd/bases/"+file) })
	}
}

func checkRuleCosts(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crdV1 := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(raw, crdV1); err != nil {
		t.Fatal(err)
	}
	schema := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crdV1.Spec.Versions[0].Schema.OpenAPIV3Schema, schema, nil); err != nil {
		t.Fatal(err)
	}
	structural, err := structuralschema.NewStructural(schema)
	if err != nil {
		t.Fatal(err)
	}
	type ruleCost struct {
		path string
		cost uint64
	}
	var costs []ruleCost
	var total uint64
	// cardinality 0 means unbounded: below a list or map without a maximum size.
	var walk func(s *structuralschema.Structural, path string, cardinality uint64, root bool)
	walk = func(s *structuralschema.Structural, path string, cardinality uint64, root bool) {
		if len(s.XValidations) > 0 {
			if cardinality == 0 {
				t.Errorf("%s: rules below a list or map without a maximum size (MaxItems or MaxProperties)", path)
				cardinality = 1
			}
			results, err := cel.Compile(s, model.SchemaDeclType(s, root), celconfig.PerCallLimit,
				environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()), cel.NewExpressionsEnvLoader())
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for i, r := range results {
				if r.Error != nil {
					t.Errorf("%s: rule %d: %v", path, i, r.Error)
					continue
				}
				c := r.MaxCost * cardinality
				if r.MaxCost != 0 && c/r.MaxCost != cardinality {
					c = math.MaxUint64
				}
				total += min(c, math.MaxUint64-total)
				costs = append(costs, ruleCost{path + ": " + s.XValidations[i].Message, c})
			}
		}
		times := func(limit *int64) uint64 {
			if limit == nil {
				return 0
			}
			return cardinality * uint64(*limit)
		}
		for name, p := range s.Properties {
			walk(&p, path+"."+name, cardinality, false)
		}
		if s.Items != nil {
			walk(s.Items, path+"[]", times(s.ValueValidation.MaxItems), false)
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
			walk(s.AdditionalProperties.Structural, path+"{}", times(s.ValueValidation.MaxProperties), false)
		}
	}
	walk(structural, "", 1, true)
	sort.Slice(costs, func(i, j int) bool { return costs[i].cost > costs[j].cost })
	for _, c := range costs {
		t.Logf("%10d %s", c.cost, c.path)
		if c.cost > ruleCostLimit {
			t.Errorf("%s: estimated cost %d is over the API server's limit of %d per rule", c.path, c.cost, ruleCostLimit)
		}
	}
	t.Logf("%10d total", total)
	if total > crdCostLimit {
		t.Errorf("the estimated cost of all rules, %d, is over the API server's limit of %d per CRD", total, crdCostLimit)
	}
}
