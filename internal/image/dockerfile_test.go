package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDockerfileMatchesImage keeps the Dockerfile, which stays for users with Docker, equivalent
// to `make image`: its final stage runs the same binary path as the same user with the same
// entrypoint and working directory, and its builder builds that binary with the same flags.
func TestDockerfileMatchesImage(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dockerfileProblems(string(raw)) {
		t.Error(p)
	}
	// Each check can fail: a Dockerfile that drifted in one way is caught.
	drifts := []struct{ name, from, to, want string }{
		{"root user", "USER 65532:65532", "USER 0:0", "USER"},
		{"another entrypoint", `ENTRYPOINT ["/manager"]`, `ENTRYPOINT ["/bin/manager"]`, "ENTRYPOINT"},
		{"a flag dropped", "-buildvcs=false ", "", "go build flags"},
		{"cgo", "CGO_ENABLED=0", "CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"binary elsewhere", "/workspace/manager /manager", "/workspace/manager /usr/bin/manager", "COPY"},
	}
	for _, d := range drifts {
		if !strings.Contains(string(raw), d.from) {
			t.Errorf("%s: the Dockerfile has no %q to change; update the test", d.name, d.from)
			continue
		}
		problems := dockerfileProblems(strings.Replace(string(raw), d.from, d.to, 1))
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, d.want) }) {
			t.Errorf("%s: no problem mentioning %q, got %q", d.name, d.want, problems)
		}
	}
}

// dockerfileProblems compares a Dockerfile's builder and final stages with the image's
// constants and GoBuildFlags.
func dockerfileProblems(dockerfile string) []string {
	stages := dockerStages(dockerfile)
	if len(stages) < 2 {
		return []string{fmt.Sprintf("want a builder and a final stage, found %d stages", len(stages))}
	}
	var problems []string
	final := stages[len(stages)-1]
	if got := final.last("USER"); got != User {
		problems = append(problems, fmt.Sprintf("the final stage's USER is %q, the image's %q", got, User))
	}
	if got := final.last("WORKDIR"); got != WorkingDir {
		problems = append(problems, fmt.Sprintf("the final stage's WORKDIR is %q, the image's %q", got, WorkingDir))
	}
	var entrypoint []string
	if err := json.Unmarshal([]byte(final.last("ENTRYPOINT")), &entrypoint); err != nil || !slices.Equal(entrypoint, []string{BinaryPath}) {
		problems = append(problems, fmt.Sprintf("the final stage's ENTRYPOINT is %q, the image's [%q] (exec form)", final.last("ENTRYPOINT"), BinaryPath))
	}
	if copied := final.last("COPY"); !strings.HasSuffix(copied, " "+BinaryPath) {
		problems = append(problems, fmt.Sprintf("the final stage's COPY puts the binary at %q, not %s", copied, BinaryPath))
	}
	return append(problems, goBuildProblems(stages[0])...)
}

func goBuildProblems(builder dockerStage) []string {
	for _, run := range builder.all("RUN") {
		words := shellWords(run)
		i := slices.Index(words, "go")
		if i < 0 || i+1 >= len(words) || words[i+1] != "build" {
			continue
		}
		var problems []string
		for _, env := range GoBuildEnv() {
			if !slices.Contains(words[:i], env) {
				problems = append(problems, fmt.Sprintf("the builder's go build runs without %s", env))
			}
		}
		o := slices.Index(words, "-o")
		if o < 0 {
			return append(problems, "the builder's go build has no -o")
		}
		if got := words[i+2 : o]; !slices.Equal(got, GoBuildFlags()) {
			problems = append(problems, fmt.Sprintf("the builder's go build flags are %q, the image's %q", got, GoBuildFlags()))
		}
		return problems
	}
	return []string{"the builder stage has no RUN with go build"}
}

type dockerStage struct{ instructions [][2]string } // keyword, rest of the line

func (s dockerStage) all(keyword string) []string {
	var out []string
	for _, in := range s.instructions {
		if in[0] == keyword {
			out = append(out, in[1])
		}
	}
	return out
}

func (s dockerStage) last(keyword string) string {
	all := s.all(keyword)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// dockerStages splits a Dockerfile into stages of instructions, joining continued lines and
// dropping comments.
func dockerStages(dockerfile string) []dockerStage {
	var stages []dockerStage
	var logical strings.Builder
	for _, line := range strings.Split(dockerfile, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			logical.WriteString(cont + " ")
			continue
		}
		logical.WriteString(trimmed)
		keyword, rest, _ := strings.Cut(strings.TrimSpace(logical.String()), " ")
		logical.Reset()
		keyword = strings.ToUpper(keyword)
		switch {
		case keyword == "":
		case keyword == "FROM":
			stages = append(stages, dockerStage{})
		case len(stages) > 0:
			last := &stages[len(stages)-1]
			last.instructions = append(last.instructions, [2]string{keyword, strings.TrimSpace(rest)})
		}
	}
	return stages
}

// shellWords splits a command line into words as a shell would for the simple cases a
// Dockerfile's RUN uses here: blanks separate words, double or single quotes group them.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
