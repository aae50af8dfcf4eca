package testenv

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DocBlock is one fenced code block of a Markdown document, as the docs test runs it. The
// conventions (CONTRIBUTING.md, "Examples in the docs") are read from the info string after the
// opening fence: its first word is the language, the other words are attributes.
type DocBlock struct {
	Line int    // 1-based line of the opening fence, so a failure names the place in the document
	Lang string // the info string's first word: yaml, sh, console, ...
	// Kind says what the docs test does with the block.
	Kind DocBlockKind
	// ExitCode is the exit status a shell block is expected to end with: 0 unless the block is
	// marked exit=N, for examples that show a failure (a wait that returns on Stalled).
	ExitCode int
	// Background marks a shell block that starts a server and keeps running, as a reader runs it
	// in a second terminal: the docs test starts it, goes on with the next block, and stops it at
	// the end. It fails if the block exits before then.
	Background bool
	// Reason is why a block marked norun is not run; it must be given.
	Reason string
	Text   string // the content, without the fences and without the fence's indentation
}

// DocBlockKind is what the docs test does with a block.
type DocBlockKind int

const (
	// Apply is a yaml block, applied with kubectl apply.
	Apply DocBlockKind = iota
	// Shell is an sh, bash or shell block, run with bash -euo pipefail (see ExitCode, Background).
	Shell
	// Transcript is a console block: a command and its output as a reader would see them; it
	// shows, and is not run.
	Transcript
	// NotRun is a block marked norun, with a reason: it needs something run-local does not have.
	NotRun
)

func (k DocBlockKind) String() string {
	switch k {
	case Apply:
		return "yaml"
	case Shell:
		return "shell"
	case Transcript:
		return "console"
	case NotRun:
		return "norun"
	}
	return "unknown"
}

// MarkdownBlocks returns the fenced code blocks of a Markdown document in order. It refuses,
// naming the line, what the docs test could otherwise skip silently: an unclosed fence, a block
// without a language or in a language it cannot run, an unknown attribute, and norun without a
// reason.
func MarkdownBlocks(r io.Reader) ([]DocBlock, error) {
	var (
		blocks []DocBlock
		open   *DocBlock
		fence  string // the opening fence's backticks or tildes, which the closing fence repeats
		indent int    // the opening fence's indentation, removed from the content (list items)
		body   []string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if open != nil {
			if isClosingFence(trimmed, fence) {
				open.Text = strings.Join(body, "\n") + "\n"
				blocks = append(blocks, *open)
				open, body = nil, nil
				continue
			}
			body = append(body, dedent(line, indent))
			continue
		}
		marker := fenceMarker(trimmed)
		if marker == "" {
			continue
		}
		b, err := parseInfo(n, strings.TrimSpace(trimmed[len(marker):]))
		if err != nil {
			return nil, err
		}
		open, fence, indent = &b, marker, len(line)-len(trimmed)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if open != nil {
		return nil, fmt.Errorf("line %d: the code block is never closed", open.Line)
	}
	return blocks, nil
}

// fenceMarker returns the run of three or more backticks or tildes that opens a fenced block.
func fenceMarker(s string) string {
	for _, c := range []string{"`", "~"} {
		if strings.HasPrefix(s, c+c+c) {
			return s[:len(s)-len(strings.TrimLeft(s, c))]
		}
	}
	return ""
}

func isClosingFence(s, fence string) bool {
	s = strings.TrimRight(s, " \t")
	return strings.HasPrefix(s, fence) && strings.Trim(s, fence[:1]) == ""
}

// dedent removes up to n leading spaces: the content of a block inside a list item is indented
// like its fence.
func dedent(line string, n int) string {
	i := 0
	for i < n && i < len(line) && line[i] == ' ' {
		i++
	}
	return line[i:]
}

func parseInfo(line int, info string) (DocBlock, error) {
	b := DocBlock{Line: line}
	words := strings.Fields(info)
	if len(words) == 0 {
		return b, fmt.Errorf("line %d: a code block needs a language (yaml, sh or console)", line)
	}
	b.Lang = words[0]
	switch b.Lang {
	case "yaml":
		b.Kind = Apply
	case "sh", "bash", "shell":
		b.Kind = Shell
	case "console":
		b.Kind = Transcript
	default:
		return b, fmt.Errorf("line %d: the docs test cannot run a %q block: use yaml, sh or console (CONTRIBUTING.md)", line, b.Lang)
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "norun":
			b.Reason = strings.Join(words[i+1:], " ")
			if b.Reason == "" {
				return b, fmt.Errorf("line %d: norun needs a reason after it: what the block needs that run-local lacks", line)
			}
			b.Kind = NotRun
			return b, nil
		case w == "background":
			if b.Kind != Shell {
				return b, fmt.Errorf("line %d: background applies only to shell blocks", line)
			}
			b.Background = true
		case strings.HasPrefix(w, "exit="):
			code, err := strconv.Atoi(strings.TrimPrefix(w, "exit="))
			if err != nil || code < 0 || code > 255 {
				return b, fmt.Errorf("line %d: %q is not an exit status", line, w)
			}
			if b.Kind != Shell {
				return b, fmt.Errorf("line %d: exit=N applies only to shell blocks", line)
			}
			b.ExitCode = code
		default:
			return b, fmt.Errorf("line %d: unknown attribute %q after the language: only exit=N, background and norun are known", line, w)
		}
	}
	return b, nil
}
