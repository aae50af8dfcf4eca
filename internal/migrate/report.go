package migrate

import (
	"fmt"
	"io"
	"strings"
)

// WriteReport writes one block per resource, then the summary line. A converted resource's
// block lists notes, warnings (prefixed "warning:") and actions (prefixed "to do:"); a refused
// one has its reasons, the first on the header line.
func WriteReport(w io.Writer, results []Result, ignored int) error {
	var b strings.Builder
	converted, refused := 0, 0
	for _, r := range results {
		if r.Refused() {
			refused++
			fmt.Fprintf(&b, "%s: refused: %s\n", r.Key(), r.Refusals[0])
			for _, more := range r.Refusals[1:] {
				fmt.Fprintf(&b, "  also: %s\n", more)
			}
			continue
		}
		converted++
		fmt.Fprintf(&b, "%s: converted\n", r.Key())
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
		for _, n := range r.Warnings {
			fmt.Fprintf(&b, "  warning: %s\n", n)
		}
		for _, n := range r.Actions {
			fmt.Fprintf(&b, "  to do: %s\n", n)
		}
	}
	fmt.Fprintf(&b, "%d converted, %d refused, %d other documents ignored\n", converted, refused, ignored)
	_, err := io.WriteString(w, b.String())
	return err
}
