package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sample is what the machine and the server had counted at one moment.
type sample struct {
	at                                   time.Time
	server, load, busy                   time.Duration // CPU time
	appends, appendSeconds, appendEvents float64       // the server's /metrics
	udpDrops                             int64
	serverDrops, loadDrops               int64         // at the sockets of the server's process and of this one
	serverWait, loadWait                 time.Duration // time their threads waited for a CPU, ready to run
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func measure(cfg config) (sample, error) {
	s := sample{at: time.Now()}
	var err error
	if cfg.serverPID > 0 {
		if s.server, err = processCPU(strconv.Itoa(cfg.serverPID)); err != nil {
			return s, err
		}
	}
	if s.load, err = processCPU("self"); err != nil {
		return s, err
	}
	if s.busy, err = machineBusy(); err != nil {
		return s, err
	}
	if s.udpDrops, err = udpRcvbufErrors(); err != nil {
		return s, err
	}
	if cfg.serverPID > 0 {
		if s.serverDrops, err = socketDrops(strconv.Itoa(cfg.serverPID)); err != nil {
			return s, err
		}
	}
	if s.loadDrops, err = socketDrops(strconv.Itoa(os.Getpid())); err != nil {
		return s, err
	}
	if cfg.serverPID > 0 {
		s.serverWait = runQueueWait(strconv.Itoa(cfg.serverPID))
	}
	s.loadWait = runQueueWait(strconv.Itoa(os.Getpid()))
	err = serverMetrics(cfg.server, &s)
	return s, err
}

// runQueueWait returns how long the threads of process pid have waited,
// ready to run, for a CPU (the second field of each thread's schedstat);
// threads that ended are not counted.
func runQueueWait(pid string) time.Duration {
	tasks, _ := os.ReadDir("/proc/" + pid + "/task")
	var wait time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/schedstat")
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			wait += time.Duration(n)
		}
	}
	return wait
}

// socketDrops returns the datagrams the kernel dropped at the open UDP
// sockets of process pid (the drops column of /proc/net/udp and udp6).
func socketDrops(pid string) (int64, error) {
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var drops int64
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
			if len(f) >= 13 && inodes[f[9]] {
				n, _ := strconv.ParseInt(f[12], 10, 64)
				drops += n
			}
		}
	}
	return drops, nil
}

// processCPU returns the user and system CPU time of process pid.
func processCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: unreadable CPU times", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// machineBusy returns the CPU time all cores spent on anything but idling.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * clockTick, nil
}

// udpRcvbufErrors returns the datagrams the kernel dropped because a UDP
// socket's receive buffer was full, since boot.
func udpRcvbufErrors() (int64, error) {
	f, err := os.Open("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, name := range names {
			if name == "RcvbufErrors" && i < len(fields) {
				return strconv.ParseInt(fields[i], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/net/snmp: no Udp RcvbufErrors")
}

// serverMetrics reads the server's append counts from its /metrics.
func serverMetrics(base string, s *sample) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	resp, err := http.Get(u.JoinPath("/metrics").String())
	if err != nil {
		return fmt.Errorf("the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the server's metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var to *float64
		switch name {
		case "classroom_append_seconds_count":
			to = &s.appends
		case "classroom_append_seconds_sum":
			to = &s.appendSeconds
		case "classroom_events_appended_total":
			to = &s.appendEvents
		default:
			continue
		}
		if *to, err = strconv.ParseFloat(value, 64); err != nil {
			return fmt.Errorf("the server's metrics: %s: %w", name, err)
		}
	}
	return sc.Err()
}

// result is one class size's figures.
type result struct {
	Students     int     `json:"students"`
	Parts        int     `json:"parts"`
	Acked        int     `json:"acked"`
	EventsPerSec float64 `json:"events_per_s"`
	FanoutP50    float64 `json:"fanout_p50_ms"`
	FanoutP95    float64 `json:"fanout_p95_ms"`
	FanoutP99    float64 `json:"fanout_p99_ms"`
	FanoutMax    float64 `json:"fanout_max_ms"`
	CommitP50    float64 `json:"commit_p50_ms"`
	CommitP99    float64 `json:"commit_p99_ms"`
	Refused      int     `json:"refused"`
	ServerCores  float64 `json:"server_cores"`
	LoadCores    float64 `json:"load_cores"`
	ServerWait   float64 `json:"server_wait_cores"`
	LoadWait     float64 `json:"load_wait_cores"`
	OtherCores   float64 `json:"other_cores"`
	Appends      float64 `json:"appends"`
	Batch        float64 `json:"batch"`
	AppendMs     float64 `json:"append_ms"`
	UDPDrops     int64   `json:"udp_drops"`
	ServerDrops  int64   `json:"server_udp_drops"`
	LoadDrops    int64   `json:"load_udp_drops"`
	Hash         string  `json:"hash"`
}

func (r result) String() string {
	return fmt.Sprintf("students=%d parts=%d events/s=%.0f fanout-ms p50=%.1f p95=%.1f p99=%.1f max=%.1f commit-ms p50=%.1f p99=%.1f refused=%d server-cores=%.2f server-wait-cores=%.2f load-cores=%.2f load-wait-cores=%.2f other-cores=%.2f appends=%.0f batch=%.1f append-ms=%.1f udp-drops=%d server-drops=%d load-drops=%d",
		r.Students, r.Parts, r.EventsPerSec, r.FanoutP50, r.FanoutP95, r.FanoutP99, r.FanoutMax, r.CommitP50, r.CommitP99,
		r.Refused, r.ServerCores, r.ServerWait, r.LoadCores, r.LoadWait, r.OtherCores, r.Appends, r.Batch, r.AppendMs, r.UDPDrops, r.ServerDrops, r.LoadDrops)
}

// summarize computes a class's figures from its boards and the samples
// taken before and after the drawing.
func summarize(boards []*board, n int, drew time.Duration, before, after sample, hash string) result {
	r := result{Students: n, Hash: hash}
	var commits []time.Duration
	acked := 0
	for _, b := range boards[1:] {
		r.Parts += b.parts
		acked += len(b.acked)
		commits = append(commits, b.commits...)
		for _, k := range b.refused {
			r.Refused += k
		}
	}
	r.Acked = acked
	r.EventsPerSec = float64(acked) / drew.Seconds()
	lags := fanout(boards)
	r.FanoutP50, r.FanoutP95, r.FanoutP99 = ms(quantile(lags, .5)), ms(quantile(lags, .95)), ms(quantile(lags, .99))
	if len(lags) > 0 {
		r.FanoutMax = ms(lags[len(lags)-1])
	}
	slices.Sort(commits)
	r.CommitP50, r.CommitP99 = ms(quantile(commits, .5)), ms(quantile(commits, .99))
	span := after.at.Sub(before.at).Seconds()
	r.ServerCores = (after.server - before.server).Seconds() / span
	r.LoadCores = (after.load - before.load).Seconds() / span
	r.OtherCores = (after.busy-before.busy).Seconds()/span - r.ServerCores - r.LoadCores
	r.ServerWait = (after.serverWait - before.serverWait).Seconds() / span
	r.LoadWait = (after.loadWait - before.loadWait).Seconds() / span
	r.Appends = after.appends - before.appends
	if r.Appends > 0 {
		r.Batch = (after.appendEvents - before.appendEvents) / r.Appends
		r.AppendMs = 1000 * (after.appendSeconds - before.appendSeconds) / r.Appends
	}
	r.UDPDrops = after.udpDrops - before.udpDrops
	r.ServerDrops, r.LoadDrops = after.serverDrops-before.serverDrops, after.loadDrops-before.loadDrops
	return r
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
