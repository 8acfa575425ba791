// Command mediaload measures how a server fans one publisher's media out to
// many subscribers: the classroom SFU, or the bare pion baseline
// (bench/barefanout).
//
// One publisher sends synthetic VP8 video (-fps frames a second of
// -frame-bytes bytes, a keyframe every two seconds and whenever one is asked
// for: about 1.5 Mbps at the defaults) and Opus-shaped audio (80 bytes every
// 20 ms). Then -n subscribers join, -join-parallel at a time (no more are
// started after -join-for, when set: those joined are measured), each counting
// the packets of every track it is sent and the highest sequence number
// (unwrapped). Once every subscriber receives video and audio, and after
// -settle, it measures for -duration:
//
//   - egress: packets received by all subscribers a second (what the server
//     sends, media only, retransmissions and duplicates included);
//   - sequence loss: 1 − distinct packets received / advance of the highest
//     sequence number, summed over subscribers and tracks, over the window
//     only (subscribers whose tracks had not all begun by then are left out
//     and counted as unmeasured);
//   - video frame loss: 1 − frames of which a packet arrived (in any order,
//     retransmissions included) / frames the publisher sent in the same span,
//     known from the RTP timestamps (which a forwarder shifts but does not
//     rewrite): this also counts what a forwarder skips without leaving a
//     hole in the sequence numbers it rewrites; audio loss likewise, by
//     packets;
//   - video stalls: gaps of more than 250 ms between two video packets;
//   - the server's CPU time over the window (utime+stime of -server-pid, from
//     /proc), as a share of one core, per subscriber, and as egress packets
//     per CPU-second; the load generator's own CPU time likewise, and what
//     the rest of the machine used (all cores busy, from /proc/stat, less
//     the two), which shows other work disturbing the run; and how long the
//     load generator's goroutines waited to run (p99 and max), which shows
//     the load generator itself falling behind;
//   - datagrams the kernel dropped over the window because a receive buffer
//     was full: at the server's sockets, at the load generator's, and in the
//     whole system.
//
// Then -ttff more subscribers join one after another, each timed from just
// before it starts to join (client.Dial, or creating the offer) to the moment
// it has received its first complete video keyframe (the packets of one
// timestamp, without a gap, from a keyframe's first through the marked last),
// and it prints p50, p95 and max.
//
// Modes:
//
//	mediaload -mode classroom -server http://127.0.0.1:8080 -server-pid PID -n 100
//	mediaload -mode bare      -server http://127.0.0.1:8090 -server-pid PID -n 100
//
// In classroom mode it creates a lesson (POST /api/lessons), joins the
// teacher with realtime/client, starts the lesson and publishes; students
// join with the students' link. In bare mode publisher and subscribers are
// raw pion peers doing one offer/answer over HTTP (POST /offer). A join is
// timed until the subscriber is connected: in classroom mode until
// client.Dial returns (ICE, DTLS and the events channel open, the lesson's
// catch-up received), in bare mode until the PeerConnection is connected
// (ICE and DTLS). It prints one line of key=value results on standard output
// (-json: one JSON object).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

const (
	// maxJoinFailures is how many subscribers may fail to join before the
	// tool stops joining more and measures those it has.
	maxJoinFailures = 10
	// maxTTFFFailures is how many timed subscribers may fail (to join, or
	// to receive a frame) before the tool stops timing more.
	maxTTFFFailures = 3
	// slowJoin is how long a join may take before it is logged.
	slowJoin = time.Second
	// videoClock and audioClock are the RTP clock rates of VP8 and Opus.
	videoClock = 90000
	audioClock = 48000
)

// config is what the flags set.
type config struct {
	mode         string
	server       string
	serverPID    int
	n            int
	joinParallel int
	joinTimeout  time.Duration
	joinFor      time.Duration
	flowTimeout  time.Duration
	settle       time.Duration
	duration     time.Duration
	ttff         int
	ttffTimeout  time.Duration
	fps          int
	frameBytes   int
	perfOut      string
	json         bool
	countAt      string
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "classroom", "server under test: classroom, or bare (bench/barefanout)")
	flag.StringVar(&c.server, "server", "http://127.0.0.1:8080", "the server's HTTP base URL")
	flag.IntVar(&c.serverPID, "server-pid", 0, "the server's process id, to measure its CPU time (0: not measured)")
	flag.IntVar(&c.n, "n", 50, "subscribers")
	flag.IntVar(&c.joinParallel, "join-parallel", 4, "subscribers joining at once")
	flag.DurationVar(&c.joinTimeout, "join-timeout", 30*time.Second, "how long one subscriber may take to join")
	flag.DurationVar(&c.joinFor, "join-for", 0, "stop starting joins after this long and measure those that joined (0: until all -n have joined)")
	flag.DurationVar(&c.flowTimeout, "flow-timeout", time.Minute, "how long to wait, after joining, for every subscriber to receive media")
	flag.DurationVar(&c.settle, "settle", 2*time.Second, "pause between every subscriber receiving and the measurement")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measurement window")
	flag.IntVar(&c.ttff, "ttff", 20, "subscribers joining one after another, after the window, to time their first frame")
	flag.DurationVar(&c.ttffTimeout, "ttff-timeout", 10*time.Second, "how long one of them may wait for its first frame")
	flag.IntVar(&c.fps, "fps", 30, "publisher's video frames a second")
	flag.IntVar(&c.frameBytes, "frame-bytes", 6000, "publisher's video frame size")
	flag.StringVar(&c.perfOut, "perf", "", "record the server with perf (perf record -g) during the window, into this file")
	flag.BoolVar(&c.json, "json", false, "print the results as JSON")
	flag.StringVar(&c.countAt, "count-at", "socket", "where subscribers count a track's packets once it has begun: socket (its RTP headers, as the ICE agent reads them), or pion (every packet through SRTP, the interceptors and the track)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c, log, os.Stdout)
	stop()
	if err != nil {
		log.Error("mediaload", "err", err)
		os.Exit(1)
	}
}

// target is a server under test: one publisher, many subscribers.
type target interface {
	publish(ctx context.Context, cam *camera) error
	subscribe(ctx context.Context, i int, rc *receiver) (io.Closer, error)
	close() error
}

// subscriber is one joined subscriber.
type subscriber struct {
	rc     *receiver
	conn   io.Closer
	joined time.Duration // from starting to join to the join returning
}

func run(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) error {
	if c.n < 1 || c.joinParallel < 1 || c.duration <= 0 {
		return errors.New("-n, -join-parallel and -duration must be positive")
	}
	if err := waitForServer(ctx, c.server, 15*time.Second); err != nil {
		return err
	}
	var (
		t    target
		tnet transport.Net // the subscribers' network, tapped (see tap); nil for none
		err  error
	)
	switch c.countAt {
	case "socket":
		if tnet, err = stdnet.NewNet(); err != nil {
			return fmt.Errorf("network: %w", err)
		}
	case "pion":
	default:
		return fmt.Errorf("unknown -count-at %q (socket or pion)", c.countAt)
	}
	switch c.mode {
	case "classroom":
		t, err = newClassroomTarget(ctx, c.server)
	case "bare":
		t, err = newBareTarget(c.server, log)
	default:
		return fmt.Errorf("unknown -mode %q (classroom or bare)", c.mode)
	}
	if err != nil {
		return err
	}
	cam, err := newCamera("teacher", c.fps, c.frameBytes)
	if err != nil {
		return err
	}
	camCtx, stopCam := context.WithCancel(ctx)
	var subs []*subscriber
	defer func() {
		stopCam()
		closeAll(subs)
		if err := t.close(); err != nil {
			log.Warn("close the publisher", "err", err)
		}
		cam.wait()
	}()
	if err := t.publish(ctx, cam); err != nil {
		return err
	}
	cam.start(camCtx)
	log.Info("publishing", "mode", c.mode, "fps", c.fps, "frame_bytes", c.frameBytes)

	joinStart := time.Now()
	serverDrops, loadDrops := drops(c.serverPID)
	subs, failed := join(ctx, t, tnet, c, log)
	res := result{Mode: c.mode, CountAt: c.countAt, N: c.n, Joined: len(subs), JoinFailed: failed, JoinSeconds: time.Since(joinStart).Seconds()}
	serverDrops2, loadDrops2 := drops(c.serverPID)
	res.JoinServerUDPDrops, res.JoinLoadUDPDrops = serverDrops2-serverDrops, loadDrops2-loadDrops
	var joins []time.Duration
	for _, s := range subs {
		joins = append(joins, s.joined)
	}
	res.JoinP50ms, res.JoinP95ms, res.JoinMaxms = percentiles(joins)
	log.Info("joined", "subscribers", len(subs), "failed", failed, "seconds", res.JoinSeconds)
	if len(subs) == 0 {
		return errors.New("no subscriber could join")
	}

	res.Flowing = waitFlowing(ctx, subs, c.flowTimeout)
	log.Info("receiving", "subscribers", res.Flowing, "of", len(subs))
	for _, s := range subs {
		if has, onKey := s.rc.startedOnKeyframe(); has && !onKey {
			res.FirstNotKeyframe++
		}
	}
	if err := sleep(ctx, c.settle); err != nil {
		return err
	}
	if err := measure(ctx, c, subs, cam, &res, log); err != nil {
		return err
	}
	log.Info("measured", "egress_pps", res.EgressPPS, "seq_loss_pct", res.SeqLossPct, "server_cpu_pct", res.ServerCPUPct)

	if c.ttff > 0 {
		timeToFirstFrame(ctx, t, tnet, c, &res, &subs, log)
	}
	res.KeyframesAsked, res.Keyframes = cam.asked.Load(), cam.keyframes.Load()
	return res.print(stdout, c.json)
}

// drops returns the datagrams dropped so far at the server's sockets and at
// this process's, or zeros where they cannot be read.
func drops(serverPID int) (server, load int64) {
	if serverPID > 0 {
		server, _ = udpDrops(strconv.Itoa(serverPID))
	}
	load, _ = udpDrops("self")
	return server, load
}

// waitForServer waits until the server accepts TCP connections.
func waitForServer(ctx context.Context, base string, limit time.Duration) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("server URL: %w", err)
	}
	deadline := time.Now().Add(limit)
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", u.Host)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server at %s does not answer: %w", u.Host, err)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// join joins c.n subscribers, c.joinParallel at a time, and returns those
// that joined and how many failed. It stops early after maxJoinFailures, or
// when c.joinFor has passed (joins under way then still finish).
func join(ctx context.Context, t target, tnet transport.Net, c config, log *slog.Logger) ([]*subscriber, int) {
	begin := time.Now()
	var (
		mu     sync.Mutex
		subs   []*subscriber
		failed int
		next   int
		wg     sync.WaitGroup
	)
	for range c.joinParallel {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= c.n || failed >= maxJoinFailures || ctx.Err() != nil ||
					(c.joinFor > 0 && time.Since(begin) > c.joinFor)
				mu.Unlock()
				if stop {
					return
				}
				start := time.Now()
				rc := newReceiver(start, tnet)
				jctx, cancel := context.WithTimeout(ctx, c.joinTimeout)
				conn, err := t.subscribe(jctx, i, rc)
				cancel()
				mu.Lock()
				if err != nil {
					failed++
					packet, _ := rc.firstFrameAfter()
					log.Warn("a subscriber could not join", "i", i, "after", time.Since(start), "err", err,
						"video_arrived_after", packet)
				} else {
					joined := time.Since(start)
					if joined > slowJoin {
						log.Info("slow join", "i", i, "started", start.Format("15:04:05.000000"), "took", joined)
					}
					subs = append(subs, &subscriber{rc: rc, conn: conn, joined: joined})
					if len(subs)%50 == 0 {
						log.Info("joining", "joined", len(subs), "of", c.n)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return subs, failed
}

// waitFlowing waits until every subscriber receives video and audio, or the
// limit passes, and returns how many do.
func waitFlowing(ctx context.Context, subs []*subscriber, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		now := time.Now()
		n := 0
		for _, s := range subs {
			if s.rc.flowing(now) {
				n++
			}
		}
		if n == len(subs) || now.After(deadline) || sleep(ctx, 200*time.Millisecond) != nil {
			return n
		}
	}
}

// mark is what measure reads at each end of its window.
type mark struct {
	at           time.Time
	rx           []counts // by subscriber
	sent         int64
	server, load time.Duration
	busy         time.Duration // the whole machine's
	udp          map[string]int64
	sched        *metrics.Float64Histogram
	// Datagrams dropped at the server's and the load generator's own
	// sockets.
	serverDrops, loadDrops int64
	// RTP datagrams counted at the subscribers' sockets and handed to
	// pion, and sequence numbers asked for again there.
	tapped, passed, nacked int64
}

// takeMark reads the counters of the subscribers, the camera, the server's
// process, this process and the machine.
func takeMark(c config, subs []*subscriber, cam *camera) (mark, error) {
	m := mark{at: time.Now(), sent: cam.sent(), sched: schedLatencies()}
	for _, s := range subs {
		m.rx = append(m.rx, s.rc.counts())
		if tp := s.rc.tap; tp != nil {
			m.tapped, m.passed, m.nacked = m.tapped+tp.counted.Load(), m.passed+tp.passed.Load(), m.nacked+tp.nacked.Load()
		}
	}
	var err error
	if c.serverPID > 0 {
		if m.server, err = cpuTime(strconv.Itoa(c.serverPID)); err != nil {
			return m, err
		}
		if m.serverDrops, err = udpDrops(strconv.Itoa(c.serverPID)); err != nil {
			return m, err
		}
	}
	if m.loadDrops, err = udpDrops("self"); err != nil {
		return m, err
	}
	if m.load, err = cpuTime("self"); err != nil {
		return m, err
	}
	if m.busy, err = busyTime(); err != nil {
		return m, err
	}
	m.udp, err = udpCounters()
	return m, err
}

// startPerf records the server's CPU profile with perf over the window,
// when asked to; nil when not, or when perf cannot start.
func startPerf(ctx context.Context, c config, log *slog.Logger) *exec.Cmd {
	if c.perfOut == "" || c.serverPID <= 0 {
		return nil
	}
	perf := exec.CommandContext(ctx, "perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(c.serverPID),
		"-o", c.perfOut, "--", "sleep", strconv.Itoa(int(c.duration.Seconds())))
	perf.Stderr = os.Stderr
	if err := perf.Start(); err != nil {
		log.Warn("perf", "err", err)
		return nil
	}
	return perf
}

// measure runs the measurement window.
func measure(ctx context.Context, c config, subs []*subscriber, cam *camera, res *result, log *slog.Logger) error {
	perf := startPerf(ctx, c, log)
	start, err := takeMark(c, subs, cam)
	if err != nil {
		return err
	}
	if err := sleep(ctx, c.duration); err != nil {
		return err
	}
	end, err := takeMark(c, subs, cam)
	if err != nil {
		return err
	}
	if perf != nil {
		if err := perf.Wait(); err != nil {
			log.Warn("perf", "err", err)
		}
	}
	secs := end.at.Sub(start.at).Seconds()
	// Sum over the subscribers whose tracks had all begun by the start.
	var d counts
	for i, e := range end.rx {
		if st := start.rx[i]; st.tracks > 0 && st.tracks == e.tracks {
			e.sub(st)
			d.add(e)
		} else {
			res.Unmeasured++
		}
	}
	rx := d.packets + d.dups
	res.WindowSeconds = secs
	res.EgressPPS = float64(rx) / secs
	res.Duplicates = d.dups
	if d.highest > 0 {
		res.SeqLossPct = 100 * (1 - float64(d.packets)/float64(d.highest))
	}
	if want := float64(d.videoTS) / (videoClock / float64(c.fps)); want > 0 {
		res.VideoFrameLossPct = 100 * (1 - float64(d.videoFrames)/want)
	}
	if want := float64(d.audioTS) / (audioClock * audioFrame.Seconds()); want > 0 {
		res.AudioLossPct = 100 * (1 - float64(d.audioPackets)/want)
	}
	if tapped, all := end.tapped-start.tapped, end.tapped-start.tapped+end.passed-start.passed; all > 0 {
		res.CountedAtSocketPct = 100 * float64(tapped) / float64(all)
	}
	res.NACKedAtSocket = end.nacked - start.nacked
	res.PublisherPPS = float64(end.sent-start.sent) / secs
	res.Stalls = d.stalls
	res.LoadCPUPct = 100 * (end.load - start.load).Seconds() / secs
	res.MachineCPUPct = 100 * (end.busy - start.busy).Seconds() / secs
	res.OtherCPUPct = res.MachineCPUPct - res.LoadCPUPct
	if c.serverPID > 0 {
		cpu := (end.server - start.server).Seconds()
		res.ServerCPUPct = 100 * cpu / secs
		res.OtherCPUPct -= res.ServerCPUPct
		res.ServerCPUPctPerSub = res.ServerCPUPct / float64(len(subs))
		if cpu > 0 {
			res.PktsPerServerCPUSecond = float64(rx) / cpu
		}
	}
	res.LoadSchedP99ms, res.LoadSchedMaxms = latencyQuantiles(start.sched, end.sched, 0.99)
	res.ServerUDPDrops = end.serverDrops - start.serverDrops
	res.LoadUDPDrops = end.loadDrops - start.loadDrops
	res.UDPRcvbufErrors = end.udp["RcvbufErrors"] - start.udp["RcvbufErrors"]
	res.UDPInErrors = end.udp["InErrors"] - start.udp["InErrors"]
	res.UDPSndbufErrors = end.udp["SndbufErrors"] - start.udp["SndbufErrors"]
	return nil
}

// timeToFirstFrame joins c.ttff subscribers one after another and times
// each from the start of its join to its first complete keyframe. They stay
// joined, in subs, until the end.
func timeToFirstFrame(ctx context.Context, t target, tnet transport.Net, c config, res *result, subs *[]*subscriber, log *slog.Logger) {
	var frames, packets, joins []time.Duration
	for i := range c.ttff {
		start := time.Now()
		rc := newReceiver(start, tnet)
		jctx, cancel := context.WithTimeout(ctx, c.joinTimeout)
		conn, err := t.subscribe(jctx, c.n+i, rc)
		cancel()
		if err != nil {
			res.TTFFFailed++
			packet, _ := rc.firstFrameAfter()
			log.Warn("a timed subscriber could not join", "i", i, "err", err, "video_arrived_after", packet)
			if res.TTFFFailed >= maxTTFFFailures {
				log.Warn("too many failures: no more timed joins")
				break
			}
			continue
		}
		joined := time.Since(start)
		*subs = append(*subs, &subscriber{rc: rc, conn: conn, joined: joined})
		wait := time.NewTimer(c.ttffTimeout)
		select {
		case <-rc.framed:
		case <-wait.C:
		case <-ctx.Done():
		}
		wait.Stop()
		packet, frame := rc.firstFrameAfter()
		if frame == 0 {
			res.TTFFFailed++
			log.Warn("no complete keyframe", "i", i, "wait", c.ttffTimeout, "first_packet", packet)
			if res.TTFFFailed >= maxTTFFFailures {
				log.Warn("too many failures: no more timed joins")
				break
			}
			continue
		}
		frames, packets, joins = append(frames, frame), append(packets, packet), append(joins, joined)
		kv := []any{"i", i, "joined_ms", ms(joined), "first_packet_ms", ms(packet), "first_frame_ms", ms(frame)}
		if rc.tap != nil {
			kv = append(kv, rc.tap.stepsAfter(start)...)
		}
		log.Info("timed join", kv...)
	}
	res.TTFFCount = len(frames)
	res.TTFFP50ms, res.TTFFP95ms, res.TTFFMaxms = percentiles(frames)
	res.TTFFPacketP50ms, _, _ = percentiles(packets)
	res.TTFFJoinP50ms, _, _ = percentiles(joins)
}

// closeAll closes every subscriber, all at once.
func closeAll(subs []*subscriber) {
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() { s.conn.Close() })
	}
	wg.Wait()
}

// percentiles returns the median, the 95th percentile and the maximum, in
// milliseconds (nearest rank), or zeros for no samples.
func percentiles(d []time.Duration) (p50, p95, maxMS float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		return float64(s[max(i, 0)]) / float64(time.Millisecond)
	}
	return rank(0.50), rank(0.95), float64(s[len(s)-1]) / float64(time.Millisecond)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// result is what one run measured.
type result struct {
	Mode                   string  `json:"mode"`
	CountAt                string  `json:"count_at"`
	N                      int     `json:"n"`
	Joined                 int     `json:"joined"`
	JoinFailed             int     `json:"join_failed"`
	JoinSeconds            float64 `json:"join_s"`
	JoinP50ms              float64 `json:"join_p50_ms"`
	JoinP95ms              float64 `json:"join_p95_ms"`
	JoinMaxms              float64 `json:"join_max_ms"`
	JoinServerUDPDrops     int64   `json:"join_server_udp_drops"`
	JoinLoadUDPDrops       int64   `json:"join_load_udp_drops"`
	Flowing                int     `json:"flowing"`
	Unmeasured             int     `json:"unmeasured"`
	FirstNotKeyframe       int     `json:"first_not_keyframe"`
	WindowSeconds          float64 `json:"window_s"`
	PublisherPPS           float64 `json:"publisher_pps"`
	EgressPPS              float64 `json:"egress_pps"`
	SeqLossPct             float64 `json:"seq_loss_pct"`
	VideoFrameLossPct      float64 `json:"video_frame_loss_pct"`
	AudioLossPct           float64 `json:"audio_loss_pct"`
	Duplicates             int64   `json:"duplicates"`
	Stalls                 int64   `json:"stalls"`
	CountedAtSocketPct     float64 `json:"counted_at_socket_pct"`
	NACKedAtSocket         int64   `json:"nacked_at_socket"`
	ServerCPUPct           float64 `json:"server_cpu_pct"`
	ServerCPUPctPerSub     float64 `json:"server_cpu_pct_per_sub"`
	PktsPerServerCPUSecond float64 `json:"pkts_per_server_cpu_s"`
	LoadCPUPct             float64 `json:"load_cpu_pct"`
	MachineCPUPct          float64 `json:"machine_cpu_pct"`
	OtherCPUPct            float64 `json:"other_cpu_pct"`
	LoadSchedP99ms         float64 `json:"load_sched_p99_ms"`
	LoadSchedMaxms         float64 `json:"load_sched_max_ms"`
	ServerUDPDrops         int64   `json:"server_udp_drops"`
	LoadUDPDrops           int64   `json:"load_udp_drops"`
	UDPRcvbufErrors        int64   `json:"udp_rcvbuf_errors"`
	UDPInErrors            int64   `json:"udp_in_errors"`
	UDPSndbufErrors        int64   `json:"udp_sndbuf_errors"`
	TTFFCount              int     `json:"ttff_n"`
	TTFFFailed             int     `json:"ttff_failed"`
	TTFFP50ms              float64 `json:"ttff_p50_ms"`
	TTFFP95ms              float64 `json:"ttff_p95_ms"`
	TTFFMaxms              float64 `json:"ttff_max_ms"`
	TTFFPacketP50ms        float64 `json:"ttff_first_packet_p50_ms"`
	TTFFJoinP50ms          float64 `json:"ttff_join_p50_ms"`
	KeyframesAsked         int64   `json:"keyframes_asked"`
	Keyframes              int64   `json:"keyframes_sent"`
}

// print writes the result as one line of key=value pairs, in the order of
// the struct, or as one JSON object.
func (r *result) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	v := reflect.ValueOf(r).Elem()
	var line strings.Builder
	for i := range v.NumField() {
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0])
		line.WriteByte('=')
		switch f := v.Field(i); f.Kind() {
		case reflect.Float64:
			line.WriteString(formatFloat(f.Float()))
		default:
			fmt.Fprint(&line, f.Interface())
		}
	}
	_, err := fmt.Fprintln(w, line.String())
	return err
}

// formatFloat keeps three decimals of small figures and none of large ones.
func formatFloat(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
}
