package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Results are everything one run measured; they are written as JSON.
type Results struct {
	N        int      `json:"n"`
	Date     string   `json:"date"`
	Machine  Machine  `json:"machine"`
	Versions Versions `json:"versions"`
	Settings Settings `json:"settings"`

	Raw                     RawResult          `json:"raw"`
	Converge                PhaseResult        `json:"converge"`
	Idle                    IdleResult         `json:"idle"`
	Update                  PhaseResult        `json:"update"`
	Restart                 *OperatorRun       `json:"restart,omitempty"`
	UnrelatedSecretsSeconds float64            `json:"unrelated_secrets_seconds,omitempty"`
	IdleDefault             *IdleDefaultResult `json:"idle_default_flags,omitempty"`
	RestartWithSecrets      *OperatorRun       `json:"restart_with_unrelated_secrets,omitempty"`
	Delete                  PhaseResult        `json:"delete"`
	Memory                  MemoryResult       `json:"memory"`
	Isolation               *IsolationResult   `json:"server_isolation,omitempty"`
	Profiles                Profiles           `json:"profiles"`
	Targets                 []Target           `json:"targets"`
	// Error is set when the run did not finish; the figures before it are still valid.
	Error string `json:"error,omitempty"`
}

// Settings are the parameters of the run.
type Settings struct {
	OperatorArgs           []string `json:"operator_args"`
	SyncPeriod             string   `json:"sync_period"`
	RestartSyncPeriod      string   `json:"restart_sync_period"`
	IdleWindow             string   `json:"idle_window"`
	Namespaces             int      `json:"namespaces"`
	CreateWorkers          int      `json:"create_workers"`
	RawWorkers             int      `json:"raw_workers"`
	UnrelatedSecrets       int      `json:"unrelated_secrets"`
	UnrelatedNamespaces    int      `json:"unrelated_namespaces"`
	UnrelatedSecretBytes   int      `json:"unrelated_secret_bytes"`
	Hydra                  string   `json:"hydra"`
	HydraPageSizeForChecks int      `json:"hydra_page_size_for_checks"`
	FinalizerPolicy        bool     `json:"finalizer_policy"`
}

// RawResult is the raw path: the harness creating Secrets and Hydra clients itself.
type RawResult struct {
	Seconds        float64    `json:"seconds"`
	PerSecond      float64    `json:"clients_per_second"`
	Workers        int        `json:"workers"`
	CleanupSeconds float64    `json:"cleanup_seconds"`
	Hydra          Counts     `json:"hydra_requests"`
	CPU            CPUSeconds `json:"cpu_seconds"`
}

// PhaseResult is a phase that changes every client (converge, update, delete).
type PhaseResult struct {
	// Seconds runs from the first create/patch/delete until the phase's end condition held.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"clients_per_second"`
	// CreateSeconds is how long the harness took to send its N creates/patches/deletes.
	CreateSeconds float64 `json:"requests_sent_seconds"`
	// RatioToRaw (converge and update) is PerSecond divided by the raw path's.
	RatioToRaw float64 `json:"ratio_to_raw,omitempty"`
	// StatusSeconds (update only) is when every status showed the new generation as Ready.
	StatusSeconds float64 `json:"status_seconds,omitempty"`
	// HydraPolls is how many Hydra lists the harness needed to confirm the outcome.
	HydraPolls int         `json:"hydra_confirm_polls,omitempty"`
	Hydra      Counts      `json:"hydra_requests"`
	API        APIRequests `json:"api_requests"`
	CPU        CPUSeconds  `json:"cpu_seconds"`
}

// IdleResult is the idle window after converging.
type IdleResult struct {
	WindowSeconds     float64     `json:"window_seconds"`
	SyncPeriods       float64     `json:"sync_periods"`
	SettleSeconds     float64     `json:"settle_seconds"`
	Hydra             Counts      `json:"hydra_requests"`
	API               APIRequests `json:"api_requests"`
	HydraReadsPerSync float64     `json:"hydra_reads_per_sync_period"`
	// Scans is how many list scans started in the window (first pages); HydraReadsPerScan is
	// the reads in the window divided by them: the cost of one drift check.
	Scans             int64      `json:"scans"`
	HydraReadsPerScan float64    `json:"hydra_reads_per_scan,omitempty"`
	CPU               CPUSeconds `json:"cpu_seconds"`
}

// IdleDefaultResult is the operator with its default flags, idle: the cost of the default drift
// interval.
type IdleDefaultResult struct {
	Args []string `json:"args"`
	// StartToIdleSeconds is from the start until the quiet before the window.
	StartToIdleSeconds float64     `json:"start_to_idle_seconds"`
	WindowSeconds      float64     `json:"window_seconds"`
	Hydra              Counts      `json:"hydra_requests"`
	API                APIRequests `json:"api_requests"`
	// Scans started in the window (first list pages); ScanIntervalSeconds is the window divided
	// by them, and HydraRequestsPerScan every Hydra request divided by them.
	Scans                int64   `json:"scans"`
	ScanIntervalSeconds  float64 `json:"scan_interval_seconds,omitempty"`
	HydraRequestsPerScan float64 `json:"hydra_requests_per_scan,omitempty"`
	HydraPerMinute       float64 `json:"hydra_requests_per_minute"`
	// OperatorCorePercent and HydraCorePercent are CPU seconds over the window, as a
	// percentage of one core.
	OperatorCorePercent float64    `json:"operator_cpu_percent_of_one_core"`
	HydraCorePercent    float64    `json:"hydra_cpu_percent_of_one_core"`
	CPU                 CPUSeconds `json:"cpu_seconds"`
}

// OperatorRun is one start of the operator after a SIGTERM, with nothing to change.
type OperatorRun struct {
	Phase            string   `json:"phase"`
	Args             []string `json:"args"`
	ShutdownSeconds  float64  `json:"shutdown_seconds"`
	PreviousExit     string   `json:"previous_exit,omitempty"`
	ReadySeconds     float64  `json:"ready_seconds"`
	IdleAfterSeconds float64  `json:"idle_after_seconds"`
	Reconciles       int64    `json:"reconciles"`
	// Hydra counts requests from the start until idle; API is every request of the process.
	Hydra  Counts      `json:"hydra_requests"`
	API    APIRequests `json:"api_requests"`
	CPU    CPUSeconds  `json:"cpu_seconds"`
	Memory Memory      `json:"memory"`
}

// MemoryResult are the operator's memory readings, each with the phase it was taken in.
type MemoryResult struct {
	Converge           Memory `json:"converge"`
	Restart            Memory `json:"restart"`
	RestartWithSecrets Memory `json:"restart_with_unrelated_secrets"`
	// Ratio is VmHWM with the unrelated Secrets over VmHWM without, both at a restart.
	Ratio float64 `json:"vm_hwm_ratio"`
}

// Target is one of the goals in docs/performance.md and whether this run met it.
type Target struct {
	Name   string `json:"name"`
	Goal   string `json:"goal"`
	Value  string `json:"value"`
	Result string `json:"result"` // PASS, FAIL, n/a
}

// few is the slack allowed over ceil(N/500) for periodic and restart reads.
const few = 5

func (b *bench) evaluateTargets() {
	r := &b.res
	r.Settings = Settings{
		OperatorArgs: r.Settings.OperatorArgs, SyncPeriod: b.cfg.syncPeriod.String(), RestartSyncPeriod: b.cfg.restartSyncPeriod.String(),
		IdleWindow: b.cfg.idleWindow.String(), Namespaces: b.cfg.namespaces, CreateWorkers: b.cfg.createWorkers, RawWorkers: b.cfg.rawWorkers,
		UnrelatedSecrets: b.cfg.unrelatedSecrets, UnrelatedNamespaces: b.cfg.unrelatedNS, UnrelatedSecretBytes: b.cfg.unrelatedBytes,
		Hydra: "memory DSN, default PBKDF2 hashing", HydraPageSizeForChecks: pageSize, FinalizerPolicy: b.cfg.finalizerPolicy,
	}
	pages := ceilDiv(r.N, 500) + few
	var t []Target
	add := func(name, goal, value string, ok, known bool) {
		res := "n/a"
		if known {
			res = "FAIL"
			if ok {
				res = "PASS"
			}
		}
		t = append(t, Target{Name: name, Goal: goal, Value: value, Result: res})
	}
	add("converge vs raw", ">= 0.5", fmt.Sprintf("%.2f", r.Converge.RatioToRaw), r.Converge.RatioToRaw >= 0.5, r.Converge.RatioToRaw > 0)
	apiMs := apiServerMsPerClient(r.Converge.CPU, r.N)
	add("converge: kube-apiserver CPU per client", "<= 6 ms", fmt.Sprintf("%.1f ms", apiMs), apiMs <= 6, apiMs > 0)
	add("update vs raw", ">= 0.6", fmt.Sprintf("%.2f", r.Update.RatioToRaw), r.Update.RatioToRaw >= 0.6, r.Update.RatioToRaw > 0)
	idleKnown := r.Idle.WindowSeconds > 0
	add("idle: Hydra writes", "0", fmt.Sprint(r.Idle.Hydra.Writes()), r.Idle.Hydra.Writes() == 0, idleKnown)
	add("idle: API writes", "0", fmt.Sprint(r.Idle.API.Writes()), r.Idle.API.Writes() == 0, idleKnown)
	// One drift check is one scan when the operator lists; without scans, it is one sync
	// period's worth of reads.
	perCheck, how := r.Idle.HydraReadsPerSync, "per sync period"
	if r.Idle.Scans > 0 {
		perCheck, how = r.Idle.HydraReadsPerScan, "per scan"
	}
	add("drift check: Hydra reads "+how, fmt.Sprintf("<= ceil(N/500)+%d = %d", few, pages),
		fmt.Sprintf("%.1f", perCheck), perCheck <= float64(pages), idleKnown)
	for _, run := range []*OperatorRun{r.Restart, r.RestartWithSecrets} {
		if run == nil {
			continue
		}
		w := run.Hydra.Writes() + run.API.Writes()
		add(run.Phase+": writes (Hydra + API)", "0", fmt.Sprint(w), w == 0, true)
		add(run.Phase+": Hydra reads", fmt.Sprintf("<= ceil(N/500)+%d = %d", few, pages), fmt.Sprint(run.Hydra.Reads()), run.Hydra.Reads() <= int64(pages), true)
	}
	if d := r.IdleDefault; d != nil && d.WindowSeconds > 0 {
		w := d.Hydra.Writes() + d.API.Writes()
		add("idle with default flags: writes (Hydra + API)", "0", fmt.Sprint(w), w == 0, true)
		scanPages := ceilDiv(r.N, 500) + 1
		add("idle with default flags: Hydra requests per scan", fmt.Sprintf("<= ceil(N/500)+1 = %d", scanPages),
			fmt.Sprintf("%.1f", d.HydraRequestsPerScan), d.Scans > 0 && d.HydraRequestsPerScan <= float64(scanPages), true)
		add("idle with default flags: operator CPU", "< 5% of one core", fmt.Sprintf("%.2f%%", d.OperatorCorePercent), d.OperatorCorePercent < 5, true)
	}
	add("memory: VmHWM with / without unrelated Secrets (restart)", "<= 1.1", fmt.Sprintf("%.2f", r.Memory.Ratio), r.Memory.Ratio <= 1.1, r.Memory.Ratio > 0)
	worst := max(r.Memory.Converge.VMHWMKB, r.Memory.Restart.VMHWMKB, r.Memory.RestartWithSecrets.VMHWMKB)
	add("memory: largest VmHWM at N=10000", "< 120 MiB", mib(worst), worst < 120*1024, r.N >= 10000 && worst > 0)
	if i := r.Isolation; i != nil {
		add("server isolation: B with A hanging / with A answering", "<= 1.10", fmt.Sprintf("%.2f", i.Ratio), i.Ratio <= 1.10, true)
	}
	r.Targets = t
}

// apiServerMsPerClient is the kube-apiserver's CPU time in a phase, in milliseconds per client.
func apiServerMsPerClient(cpu CPUSeconds, n int) float64 {
	if n == 0 {
		return 0
	}
	return cpu["kube-apiserver"] * 1000 / float64(n)
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// countsText is Hydra requests by class divided by per (1 for totals, N for per client).
func countsText(c Counts, per float64) string {
	var parts []string
	for _, k := range classes {
		if v := c.ByClass[k]; v != 0 || k == classGet || k == classList || k == classPost || k == classPut || k == classDelete {
			parts = append(parts, k+" "+num(float64(v)/per))
		}
	}
	s := strings.Join(parts, ", ")
	if per == 1 && c.ListStarts > 0 {
		s += fmt.Sprintf(" (%d list %s)", c.ListStarts, plural(c.ListStarts, "scan", "scans"))
	}
	if len(c.NotOK) > 0 {
		keys := make([]string, 0, len(c.NotOK))
		for k := range c.NotOK {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var errs []string
		for _, k := range keys {
			errs = append(errs, k+": "+num(float64(c.NotOK[k])/per))
		}
		s += "; not 2xx: " + strings.Join(errs, ", ")
	}
	return s
}

// apiText is the operator's API requests by method divided by per; writes first.
func apiText(a APIRequests, per float64) string {
	if len(a) == 0 {
		return "none"
	}
	order := map[string]int{"POST": 0, "PUT": 1, "PATCH": 2, "DELETE": 3, "GET": 4}
	for k := range a {
		if _, ok := order[k]; !ok {
			order[k] = 5
		}
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, oj := order[keys[i]], order[keys[j]]
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	var writes, reads []string
	for _, k := range keys {
		part := k + " " + num(float64(a[k])/per)
		if order[k] < 4 {
			writes = append(writes, part)
		} else {
			reads = append(reads, part)
		}
	}
	s := "writes " + num(float64(a.Writes())/per)
	if len(writes) > 0 {
		s += " (" + strings.Join(writes, ", ") + ")"
	}
	if len(reads) > 0 {
		s += "; reads " + strings.Join(reads, ", ")
	}
	return s
}

func num(v float64) string {
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v < 0.1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func runtimeVersion() string { return runtime.Version() }

// markdown renders the results as the table docs/performance.md shows.
func (b *bench) markdown() string {
	r := &b.res
	n := float64(r.N)
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format+"\n", args...) }
	w("## Benchmark, N=%d (%s)", r.N, r.Date)
	w("")
	w("- Machine: %d × %s, %d MiB memory, kernel %s; load average (1/5/15 min) %s at the start, %s at the end",
		r.Machine.NProc, r.Machine.CPUModel, r.Machine.MemTotalMB, r.Machine.Kernel, r.Machine.LoadStart, r.Machine.LoadEnd)
	w("- Versions: operator built with %s (revision %s, controller-runtime %s, client-go %s); harness %s; Hydra %s (%s); Kubernetes %s (envtest: etcd + kube-apiserver)",
		r.Versions.OperatorGo, orDash(r.Versions.OperatorRevision), orDash(r.Versions.ControllerRuntime), orDash(r.Versions.ClientGo),
		r.Versions.HarnessGo, r.Versions.Hydra, r.Settings.Hydra, r.Versions.Kubernetes)
	w("- Operator flags (besides kubeconfig, Hydra URLs, probes): `%s`; after the restarts `--sync-period=%s --drift-interval=%[2]s`; in the idle phase with default flags neither",
		displayArgs(r.Settings.OperatorArgs), r.Settings.RestartSyncPeriod)
	w("- Harness: %d namespaces, %d workers creating/patching/deleting, raw path on %d workers; idle window %s; finalizer policy installed: %v",
		r.Settings.Namespaces, r.Settings.CreateWorkers, r.Settings.RawWorkers, r.Settings.IdleWindow, r.Settings.FinalizerPolicy)
	if r.Error != "" {
		w("- **Run incomplete:** %s", r.Error)
	}
	w("")
	w("| Phase | Figure | Value |")
	w("|---|---|---|")
	if r.Raw.Seconds > 0 {
		w("| raw | Secret create + Hydra create, %d workers | **%.0f clients/s** (%.1f s) |", r.Raw.Workers, r.Raw.PerSecond, r.Raw.Seconds)
		w("| raw | CPU seconds | %s |", cpuText(r.Raw.CPU, r.Machine.NProc))
		w("| raw | kube-apiserver CPU per client | %.1f ms |", apiServerMsPerClient(r.Raw.CPU, r.N))
	}
	if r.Converge.Seconds > 0 {
		c := r.Converge
		w("| converge | first create → all Ready with Secrets | **%.0f clients/s** (%.1f s; creates sent in %.1f s) |", c.PerSecond, c.Seconds, c.CreateSeconds)
		w("| converge | operator / raw | **%.2f** |", c.RatioToRaw)
		w("| converge | Hydra requests per client | %s |", countsText(c.Hydra, n))
		w("| converge | API requests per client | %s |", apiText(c.API, n))
		w("| converge | CPU seconds | %s |", cpuText(c.CPU, r.Machine.NProc))
		w("| converge | kube-apiserver CPU per client | **%.1f ms** |", apiServerMsPerClient(c.CPU, r.N))
	}
	if r.Idle.WindowSeconds > 0 {
		i := r.Idle
		w("| idle | window | %.1f s = %.2f sync periods (after %.1f s without writes) |", i.WindowSeconds, i.SyncPeriods, i.SettleSeconds)
		w("| idle | Hydra requests in the window | %s |", countsText(i.Hydra, 1))
		if i.Scans > 0 {
			w("| idle | drift check: Hydra reads per scan | **%.1f** (%d %s in the window) |", i.HydraReadsPerScan, i.Scans, plural(i.Scans, "scan", "scans"))
		}
		w("| idle | Hydra reads per sync period | %.1f |", i.HydraReadsPerSync)
		w("| idle | API requests in the window | %s |", apiText(i.API, 1))
		w("| idle | CPU seconds | %s |", cpuText(i.CPU, r.Machine.NProc))
	}
	if r.Update.Seconds > 0 {
		u := r.Update
		w("| update | first patch → Hydra holds the new scope for all | **%.0f clients/s** (%.1f s; statuses Ready after %.1f s) |", u.PerSecond, u.Seconds, u.StatusSeconds)
		w("| update | Hydra requests per client | %s |", countsText(u.Hydra, n))
		w("| update | API requests per client | %s |", apiText(u.API, n))
		w("| update | CPU seconds | %s |", cpuText(u.CPU, r.Machine.NProc))
		w("| update | operator / raw | **%.2f** |", u.RatioToRaw)
		w("| update | kube-apiserver CPU per client | %.1f ms |", apiServerMsPerClient(u.CPU, r.N))
	}
	for _, run := range []*OperatorRun{r.Restart, r.RestartWithSecrets} {
		if run == nil {
			continue
		}
		w("| %s | SIGTERM → exit; start → ready; start → idle | %.1f s; %.1f s; %.1f s (%d reconciles) |", run.Phase, run.ShutdownSeconds, run.ReadySeconds, run.IdleAfterSeconds, run.Reconciles)
		w("| %s | Hydra requests until idle | %s |", run.Phase, countsText(run.Hydra, 1))
		w("| %s | API requests until idle | %s |", run.Phase, apiText(run.API, 1))
		w("| %s | CPU seconds, start → idle detected | %s |", run.Phase, cpuText(run.CPU, r.Machine.NProc))
	}
	if d := r.IdleDefault; d != nil && d.WindowSeconds > 0 {
		w("| idle, default flags | window | %.1f s, %d %s (one every %.1f s) after the restart was idle (%.1f s after its start); flags `%s` |",
			d.WindowSeconds, d.Scans, plural(d.Scans, "scan", "scans"), d.ScanIntervalSeconds, d.StartToIdleSeconds, displayArgs(d.Args))
		w("| idle, default flags | Hydra requests | **%.1f per minute**; %.1f per scan; in the window %s |", d.HydraPerMinute, d.HydraRequestsPerScan, countsText(d.Hydra, 1))
		w("| idle, default flags | API requests in the window | %s |", apiText(d.API, 1))
		w("| idle, default flags | operator CPU | **%.2f%% of one core** (Hydra %.2f%%) |", d.OperatorCorePercent, d.HydraCorePercent)
		w("| idle, default flags | CPU seconds | %s |", cpuText(d.CPU, r.Machine.NProc))
	}
	if r.UnrelatedSecretsSeconds > 0 {
		w("| unrelated Secrets | %d × %d bytes in %d namespaces, created while the operator was stopped | %.1f s |", r.Settings.UnrelatedSecrets, r.Settings.UnrelatedSecretBytes, r.Settings.UnrelatedNamespaces, r.UnrelatedSecretsSeconds)
	}
	if r.Delete.Seconds > 0 {
		d := r.Delete
		w("| delete | first delete → Hydra has none and no OAuth2Client is left | **%.0f clients/s** (%.1f s) |", d.PerSecond, d.Seconds)
		w("| delete | Hydra requests per client | %s |", countsText(d.Hydra, n))
		w("| delete | API requests per client | %s |", apiText(d.API, n))
		w("| delete | CPU seconds | %s |", cpuText(d.CPU, r.Machine.NProc))
		w("| delete | kube-apiserver CPU per client | %.1f ms |", apiServerMsPerClient(d.CPU, r.N))
	}
	if i := r.Isolation; i != nil {
		w("| server isolation | %d clients of server B Ready, with %d new clients of server A (timeout %s) alongside: A answering; A hanging | %.2f s; %.2f s |",
			i.Clients, i.Clients, i.ATimeout, i.BaselineSeconds, i.HangingSeconds)
		w("| server isolation | B with A hanging / B with A answering | **%.2f** |", i.Ratio)
	}
	for _, m := range []Memory{r.Memory.Converge, r.Memory.Restart, r.Memory.RestartWithSecrets} {
		if m.VMHWMKB > 0 {
			w("| memory | %s | VmHWM **%s**, VmRSS %s |", m.Phase, mib(m.VMHWMKB), mib(m.VMRSSKB))
		}
	}
	if p := r.Profiles; p.APIServerCPU != "" {
		w("| profiles | kube-apiserver CPU, first %.0f s of converge (`go tool pprof -top`) | `%s` |", p.APIServerSeconds, filepath.Base(p.APIServerCPU))
	}
	if p := r.Profiles; p.OperatorHeap != "" {
		w("| profiles | operator heap when converge ended | `%s` |", filepath.Base(p.OperatorHeap))
	}
	for _, e := range r.Profiles.Errors {
		w("| profiles | not taken | %s |", e)
	}
	w("")
	w("| Target | Goal | Measured | Result |")
	w("|---|---|---|---|")
	for _, t := range r.Targets {
		w("| %s | %s | %s | %s |", t.Name, t.Goal, t.Value, t.Result)
	}
	return sb.String()
}

// displayArgs shows the operator's flags without the metrics and pprof ports, which change
// every run.
func displayArgs(args []string) string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		for _, flag := range []string{"--metrics-bind-address", "--pprof-bind-address"} {
			if strings.HasPrefix(a, flag+"=127.0.0.1:") {
				a = flag + "=127.0.0.1:<free port>"
			}
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (b *bench) writeJSON() error {
	data, err := json.MarshalIndent(b.res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(b.outPath, append(data, '\n'), 0o644)
}
