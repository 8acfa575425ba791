package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100
// on every Linux architecture Go runs on.
const clockTicks = 100

// cpuTime returns the CPU time (user and system, all threads) a process has
// used so far, from /proc/<pid>/stat; pid "self" is this process.
func cpuTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name, in parentheses, may hold spaces: fields are counted
	// from its end. utime and stime are fields 14 and 15 of the line, the
	// 12th and 13th after the name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read CPU time: malformed /proc/%s/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read CPU time: short /proc/%s/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// udpCounters returns the kernel's UDP counters (system-wide, from
// /proc/net/snmp) by name: InErrors, RcvbufErrors, SndbufErrors and the rest.
func udpCounters() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return nil, fmt.Errorf("read UDP counters: %w", err)
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		out := make(map[string]int64, len(names))
		for i, v := range f[1:] {
			if i < len(names) {
				n, _ := strconv.ParseInt(v, 10, 64)
				out[names[i]] = n
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("read UDP counters: no Udp lines in /proc/net/snmp")
}

// busyTime returns the CPU time all cores of the machine have spent on
// anything but idling so far, from /proc/stat: irq, softirq and steal time
// included, as a process's own CPU time includes what the hypervisor stole
// while it ran.
func busyTime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("read CPU time: malformed /proc/stat")
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal ...
	for i, s := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// schedLatencies returns this process's histogram of how long goroutines
// waited to run, from runtime/metrics: a load generator that starves shows
// here, apart from anything the server did.
func schedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// latencyQuantiles returns the q-quantile and the largest value (upper
// bounds of their buckets) of the waits between two histograms of
// schedLatencies, in milliseconds.
func latencyQuantiles(before, after *metrics.Float64Histogram, q float64) (quantile, largest float64) {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return 0, 0
	}
	var total uint64
	counts := make([]uint64, len(after.Counts))
	for i := range counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0, 0
	}
	upper := func(i int) float64 { return 1000 * min(after.Buckets[i+1], math.MaxFloat64) }
	var seen uint64
	quantile = -1
	for i, n := range counts {
		seen += n
		if quantile < 0 && float64(seen) >= q*float64(total) {
			quantile = upper(i)
		}
		if n > 0 {
			largest = upper(i)
		}
	}
	return quantile, largest
}

// udpDrops returns how many datagrams the kernel has dropped so far on
// arrival at the UDP sockets a process holds (its receive buffers were
// full), from the drops column of the process's own /proc/PID/net/udp and
// udp6 (those of its network namespace, which may not be this process's);
// pid "self" is this process. It tells which side of a run lost what the
// system-wide counters only count.
func udpDrops(pid string) (int64, error) {
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		return 0, fmt.Errorf("read UDP drops: %w", err)
	}
	inodes := make(map[string]bool, len(fds))
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var drops int64
	for _, table := range []string{"/proc/" + pid + "/net/udp", "/proc/" + pid + "/net/udp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 13 || !inodes[f[9]] {
				continue
			}
			n, _ := strconv.ParseInt(f[12], 10, 64)
			drops += n
		}
	}
	return drops, nil
}
