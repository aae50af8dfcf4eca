//go:build fault

package fault

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metricSample is one line of the Prometheus text format.
type metricSample struct {
	name   string
	labels string // the raw label set, such as code="error",operation="create"
	value  float64
}

// scrapeMetrics reads an operator's metrics endpoint (plain HTTP).
func scrapeMetrics(ctx context.Context, url string) ([]metricSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics %s: HTTP %d", url, resp.StatusCode)
	}
	var out []metricSample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s metricSample
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			end := strings.LastIndexByte(line, '}')
			if end < i {
				continue
			}
			s.name, s.labels, rest = line[:i], line[i+1:end], line[end+1:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			s.name, rest = line[:i], line[i:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		if s.value, err = strconv.ParseFloat(fields[0], 64); err != nil {
			continue
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// metricSum adds up the samples of a metric whose label set contains every one of labels
// (each written as key="value").
func metricSum(samples []metricSample, name string, labels ...string) float64 {
	var sum float64
	for _, s := range samples {
		if s.name != name {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(s.labels, l) {
				match = false
				break
			}
		}
		if match {
			sum += s.value
		}
	}
	return sum
}
