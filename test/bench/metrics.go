package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// ---- the operator's Prometheus endpoint ------------------------------------------------------

// scrape is one reading of the operator's metrics endpoint.
type scrape = testenv.Metrics

// scrapeMetrics reads the operator's metrics endpoint (plain HTTP).
func scrapeMetrics(ctx context.Context, url string) (scrape, error) {
	return testenv.ScrapeMetrics(ctx, url)
}

// APIRequests are the operator's requests to the Kubernetes API server by HTTP method
// (client-go's rest_client_requests_total).
type APIRequests map[string]int64

func apiRequests(m scrape) APIRequests {
	out := APIRequests{}
	for _, s := range m {
		if s.Name == "rest_client_requests_total" {
			out[s.Labels["method"]] += int64(s.Value)
		}
	}
	return out
}

// Writes is the number of POST, PUT, PATCH and DELETE requests.
func (a APIRequests) Writes() int64 {
	return a["POST"] + a["PUT"] + a["PATCH"] + a["DELETE"]
}

// Sub returns a minus an earlier reading.
func (a APIRequests) Sub(earlier APIRequests) APIRequests {
	out := APIRequests{}
	for k, v := range a {
		if d := v - earlier[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// ---- process memory ------------------------------------------------------------------------

// Memory is a process's resident memory: peak (VmHWM) and current (VmRSS), in KiB.
type Memory struct {
	Phase   string `json:"phase"`
	VMHWMKB int64  `json:"vm_hwm_kib"`
	VMRSSKB int64  `json:"vm_rss_kib"`
}

func readMemory(pid int, phase string) (Memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	m := Memory{Phase: phase}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, _ := strconv.ParseInt(fields[0], 10, 64)
		switch name {
		case "VmHWM":
			m.VMHWMKB = v
		case "VmRSS":
			m.VMRSSKB = v
		}
	}
	if m.VMHWMKB == 0 {
		return m, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	return m, nil
}

// ---- machine and versions ----------------------------------------------------------------

// Machine describes where the benchmark ran.
type Machine struct {
	NProc      int    `json:"nproc"`
	CPUModel   string `json:"cpu_model"`
	MemTotalMB int64  `json:"mem_total_mib"`
	Kernel     string `json:"kernel"`
	LoadStart  string `json:"loadavg_start"`
	LoadEnd    string `json:"loadavg_end"`
}

func describeMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), LoadStart: loadAvg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemTotalMB = kb / 1024
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// loadAvg is the first three fields of /proc/loadavg (1, 5 and 15 minutes).
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Versions are the versions of everything measured.
type Versions struct {
	HarnessGo         string `json:"harness_go"`
	OperatorGo        string `json:"operator_go"`
	OperatorRevision  string `json:"operator_revision,omitempty"`
	ControllerRuntime string `json:"controller_runtime,omitempty"`
	ClientGo          string `json:"client_go,omitempty"`
	Hydra             string `json:"hydra"`
	Kubernetes        string `json:"kubernetes"`
}

// binaryVersions reads the Go version, VCS revision and key module versions from the
// operator binary's build information.
func binaryVersions(bin string, v *Versions) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		v.OperatorGo = "unknown (" + err.Error() + ")"
		return
	}
	v.OperatorGo = info.GoVersion
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += " (modified)"
		}
		v.OperatorRevision = rev
	}
	for _, d := range info.Deps {
		switch d.Path {
		case "sigs.k8s.io/controller-runtime":
			v.ControllerRuntime = d.Version
		case "k8s.io/client-go":
			v.ClientGo = d.Version
		}
	}
}

// gitRevision describes the source tree at root: the commit, and "+ changes" when files
// differ from it. It is what the operator was built from when the harness built it, and most
// likely so when bin/manager came from `make bench`.
func gitRevision(ctx context.Context, root string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(rev))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		s += " + uncommitted changes"
	}
	return s + " (source tree)"
}

// hydraVersion runs `hydra version` and returns its Version line.
func hydraVersion(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Version" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
