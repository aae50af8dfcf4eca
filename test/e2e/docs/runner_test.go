//go:build e2e

package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The docs test must be able to fail: a block that fails, that succeeds where the guide shows a
// failure, or that hangs, is reported with its line in the guide. This needs no run-local.
func TestDocsRunnerReportsBrokenBlocks(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("export FROM_ENV_FILE=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &runLocal{doc: guide, root: dir, envFile: envFile, blockTimeout: 2 * time.Second}
	shell := func(line, exit int, text string) testenv.DocBlock {
		return testenv.DocBlock{Line: line, Lang: "sh", Kind: testenv.Shell, ExitCode: exit, Text: text}
	}
	for name, tc := range map[string]struct {
		block testenv.DocBlock
		want  string // in the error; empty: no error
	}{
		"passes":                    {shell(10, 0, "test \"$FROM_ENV_FILE\" = yes\necho ok\n"), ""},
		"shows a failure as marked": {shell(10, 1, "false\n"), ""},
		"fails":                     {shell(20, 0, "echo before\nfalse\necho after\n"), "docs/user-guide.md:20: the shell block exited with status 1, want 0"},
		"fails in a pipe":           {shell(20, 0, "false | cat\n"), "exited with status 1, want 0"},
		"unset variable":            {shell(20, 0, "echo \"$NOT_SET\"\n"), "exited with status 1, want 0"},
		"succeeds where the guide shows a failure": {shell(30, 1, "true\n"), "docs/user-guide.md:30: the shell block exited with status 0, want 1"},
		"hangs": {shell(40, 0, "tail -f /dev/null\n"), "docs/user-guide.md:40: the shell block did not end within 2s"},
		// bash's own message names the guide's line: the block starts on the line after the fence.
		"names the guide's line": {shell(50, 0, "true\nno-such-command-here\n"), "line 52: no-such-command-here"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := r.runBlock(tc.block)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s: a hanging block is not stopped", d)
			}
		})
	}
}
