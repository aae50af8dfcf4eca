package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func TestNamespaceList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil: no restriction
	}{
		{"", nil},
		{"*", nil},
		{" * ", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , ,b", []string{"a", "b"}},
		{",,", nil},
		{"a,*", nil}, // a wildcard anywhere lifts the restriction, rather than being a namespace
		{"*,a", nil},
		{"team-*", []string{"team-*"}}, // a pattern is passed on as it is
	} {
		got := namespaceList(tc.in)
		if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("namespaceList(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestClientIDRules(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"*":                     "*",
		" a , ,b=b.* ":          "a|b=b.*",
		"platform-*=shared-*,x": "platform-*=shared-*|x",
	} {
		if got := strings.Join(clientIDRules(in), "|"); got != want {
			t.Errorf("clientIDRules(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestErrorLinesCarryNoStackTrace: at the default setting an error line is one line; zap's
// production default would add a stack trace to it. --zap-devel and an explicit
// --zap-stacktrace-level still get them.
func TestErrorLinesCarryNoStackTrace(t *testing.T) {
	errorLevel := zapcore.ErrorLevel
	for _, tc := range []struct {
		name      string
		opts      zap.Options
		wantStack bool
	}{
		{"default", zap.Options{}, false},
		{"--zap-devel", zap.Options{Development: true}, true},
		{"--zap-stacktrace-level=error", zap.Options{StacktraceLevel: errorLevel}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.opts.DestWriter = &out
			newLogger(tc.opts).Error(errors.New("hydra: 503"), "Reconcile failed; retrying with backoff", "reason", "HydraUnavailable")
			text := out.String()
			if !strings.Contains(text, "Reconcile failed") {
				t.Fatalf("the line is missing: %q", text)
			}
			if hasStack := strings.Contains(text, "goroutine") || strings.Contains(text, "main_test.go:") ||
				strings.Contains(text, "stacktrace") || strings.Count(strings.TrimSpace(text), "\n") > 0; hasStack != tc.wantStack {
				t.Errorf("stack trace: %v, want %v:\n%s", hasStack, tc.wantStack, text)
			}
		})
	}
}
