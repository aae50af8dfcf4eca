package testenv

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarkdownBlocks(t *testing.T) {
	doc := "# Title\n" + // 1
		"\n" + // 2
		"```yaml\n" + // 3
		"kind: A\n" + // 4
		"```\n" + // 5
		"- a list item:\n" + // 6
		"  ```sh\n" + // 7
		"  echo one\n" + // 8
		"    echo indented\n" + // 9
		"  ```\n" + // 10
		"````console\n" + // 11
		"$ cat x\n" + // 12
		"```\n" + // 13
		"````\n" + // 14
		"```bash exit=1\n" + // 15
		"false\n" + // 16
		"```\n" + // 17
		"~~~yaml norun needs External Secrets\n" + // 18
		"kind: ExternalSecret\n" + // 19
		"~~~\n" + // 20
		"```shell background\n" + // 21
		"server\n" + // 22
		"```\n" // 23
	got, err := MarkdownBlocks(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []DocBlock{
		{Line: 3, Lang: "yaml", Kind: Apply, Text: "kind: A\n"},
		{Line: 7, Lang: "sh", Kind: Shell, Text: "echo one\n  echo indented\n"},
		{Line: 11, Lang: "console", Kind: Transcript, Text: "$ cat x\n```\n"},
		{Line: 15, Lang: "bash", Kind: Shell, ExitCode: 1, Text: "false\n"},
		{Line: 18, Lang: "yaml", Kind: NotRun, Reason: "needs External Secrets", Text: "kind: ExternalSecret\n"},
		{Line: 21, Lang: "shell", Kind: Shell, Background: true, Text: "server\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// Each of these would let the docs test skip an example silently, so each is refused with the
// line of the block.
func TestMarkdownBlocksRefusals(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"unclosed":              {"text\n```sh\necho\n", "line 2: the code block is never closed"},
		"unclosed by shorter":   {"````sh\necho\n```\n", "line 1: the code block is never closed"},
		"no language":           {"```\necho\n```\n", "line 1: a code block needs a language"},
		"unknown language":      {"a\n```go\nx\n```\n", `line 2: the docs test cannot run a "go" block`},
		"unknown attribute":     {"```sh skip\nx\n```\n", `line 1: unknown attribute "skip"`},
		"norun without reason":  {"```yaml norun\nx\n```\n", "line 1: norun needs a reason"},
		"exit on yaml":          {"```yaml exit=1\nx\n```\n", "line 1: exit=N applies only to shell blocks"},
		"background on console": {"```console background\nx\n```\n", "line 1: background applies only to shell blocks"},
		"exit not a number":     {"```sh exit=x\nx\n```\n", `line 1: "exit=x" is not an exit status`},
		"exit out of range":     {"```sh exit=256\nx\n```\n", `line 1: "exit=256" is not an exit status`},
		"second block unclosed": {"```sh\na\n```\n\n```yaml\nb\n", "line 5: the code block is never closed"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := MarkdownBlocks(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The user guide is what the docs test runs (test/e2e/docs); this checks, without any binaries,
// that it parses and that it has the examples the test relies on: a wait that ends Ready and one
// that ends Stalled.
func TestUserGuideBlocks(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "docs", "user-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	blocks, err := MarkdownBlocks(f)
	if err != nil {
		t.Fatalf("docs/user-guide.md: %v", err)
	}
	count := map[DocBlockKind]int{}
	failing := 0
	for _, b := range blocks {
		count[b.Kind]++
		if b.ExitCode != 0 {
			failing++
		}
	}
	if count[Apply] < 5 || count[Shell] < 5 {
		t.Errorf("only %d yaml and %d shell blocks: the extractor misses blocks", count[Apply], count[Shell])
	}
	if failing == 0 {
		t.Error("no shell block is marked exit=N: the guide must show how a wait ends on a Stalled resource")
	}
	// Exclusions stay rare: each one is an example no test proves.
	if count[NotRun] > 2 {
		t.Errorf("%d blocks are marked norun; at most 2 are expected (CONTRIBUTING.md)", count[NotRun])
	}
}

// The migration runbook is what TestDocsMigrateFromHydraMaester runs; this checks, without any
// binaries, that it parses, has only blocks that test can run (shell) or skips (transcripts),
// and keeps the steps that protect credentials.
func TestMigrationRunbookBlocks(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "docs", "migrate-from-hydra-maester.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	blocks, err := MarkdownBlocks(f)
	if err != nil {
		t.Fatalf("docs/migrate-from-hydra-maester.md: %v", err)
	}
	var shell strings.Builder
	for _, b := range blocks {
		switch {
		case b.Kind == Shell && !b.Background && b.ExitCode == 0:
			shell.WriteString(b.Text)
		case b.Kind == Transcript:
		default:
			t.Errorf("line %d: a %s block; the migration test runs only plain shell blocks and skips transcripts", b.Line, b.Kind)
		}
	}
	for _, step := range []string{
		"scale deployment hydra-maester --replicas=0",
		"bin/manager migrate --all-namespaces --dry-run",
		"oauth2.clientoperator.dev/client=",
		`"finalizers":null`,
		"--cascade=orphan",
		"kubectl delete crd oauth2clients.hydra.ory.sh",
	} {
		if !strings.Contains(shell.String(), step) {
			t.Errorf("no shell block runs %q", step)
		}
	}
}
