package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc (100 on every Linux the harness
// supports).
const clockTicks = 100

// cpuSnapshot is the CPU time used so far by the harness, each process it started (by role),
// and the whole machine.
type cpuSnapshot struct {
	at          time.Time
	procs       map[int]procCPU // by pid
	machineBusy float64         // seconds, all CPUs, every process on the machine
}

type procCPU struct {
	role    string
	seconds float64
}

// CPUSeconds is CPU time used during a phase, in seconds, by role: operator, kube-apiserver,
// etcd, hydra, harness; "others" is everything else on the machine (such as other builds),
// "machine" the total, to compare with wall time x nproc, and "wall" the time between the
// two readings.
type CPUSeconds map[string]float64

// takeCPU reads the CPU times of the harness and its child processes from /proc.
func takeCPU(operatorPid int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), procs: map[int]procCPU{}}
	self := os.Getpid()
	if sec, _, ok := readProcStat(self); ok {
		s.procs[self] = procCPU{role: "harness", seconds: sec}
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || pid == self {
			continue
		}
		sec, comm, ok := readProcStatParent(pid, self)
		if !ok {
			continue
		}
		role := comm
		switch {
		case pid == operatorPid:
			role = "operator"
		case strings.HasPrefix(comm, "kube-apiserver"):
			role = "kube-apiserver"
		case comm == "etcd":
			role = "etcd"
		case comm == "hydra":
			role = "hydra"
		}
		s.procs[pid] = procCPU{role: role, seconds: sec}
	}
	s.machineBusy = machineBusySeconds()
	return s
}

// since returns the CPU time used between earlier and s, by role.
func (s cpuSnapshot) since(earlier cpuSnapshot) CPUSeconds {
	out := CPUSeconds{}
	ours := 0.0
	for pid, p := range s.procs {
		d := p.seconds - earlier.procs[pid].seconds // a process started since counts in full
		out[p.role] += d
		ours += d
	}
	machine := s.machineBusy - earlier.machineBusy
	out["machine"] = machine
	out["others"] = max(0, machine-ours)
	out["wall"] = s.at.Sub(earlier.at).Seconds()
	return out
}

// readProcStat returns a process's user+system CPU seconds and its command name.
func readProcStat(pid int) (seconds float64, comm string, ok bool) {
	sec, comm, _, ok := parseProcStat(pid)
	return sec, comm, ok
}

// readProcStatParent is readProcStat for a process whose parent is ppid only.
func readProcStatParent(pid, ppid int) (float64, string, bool) {
	sec, comm, parent, ok := parseProcStat(pid)
	if !ok || parent != ppid {
		return 0, "", false
	}
	return sec, comm, true
}

func parseProcStat(pid int) (seconds float64, comm string, ppid int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", 0, false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, "", 0, false
	}
	comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	// After the command: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, "", 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks, comm, ppid, true
}

// machineBusySeconds is the CPU time of every CPU not idle, from /proc/stat.
func machineBusySeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	// user nice system idle iowait irq softirq steal ...: busy is user, nice, system, irq and
	// softirq (guest time is already in user and nice; steal was not ours to use).
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7} {
		if i < len(f) {
			x, _ := strconv.ParseFloat(f[i], 64)
			busy += x
		}
	}
	return busy / clockTicks
}

// cpuText renders CPU seconds in a fixed order.
func cpuText(c CPUSeconds, nproc int) string {
	if len(c) == 0 {
		return ""
	}
	var parts []string
	for _, k := range []string{"operator", "kube-apiserver", "etcd", "hydra", "harness", "others"} {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, c[k]))
	}
	for k, v := range c {
		switch k {
		case "operator", "kube-apiserver", "etcd", "hydra", "harness", "others", "machine", "wall":
		default:
			parts = append(parts, fmt.Sprintf("%s %.1f", k, v))
		}
	}
	s := strings.Join(parts, ", ")
	if wall := c["wall"]; wall > 0 && nproc > 0 {
		s += fmt.Sprintf(" (machine %.1f of %.1f CPU-s available, %.0f%%)", c["machine"], wall*float64(nproc), 100*c["machine"]/(wall*float64(nproc)))
	}
	return s
}
