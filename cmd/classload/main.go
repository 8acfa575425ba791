// Command classload measures how a running classroom server keeps every
// board of a lesson in step while its students draw at once. The students
// run in this process, the server in its own (classroom serve), so that the
// server's cost is measured apart from its clients'.
//
// For each class size of -students it creates a lesson (POST /api/lessons),
// joins the teacher, who starts the lesson and lets everyone draw, then the
// students, -join-parallel at a time, each a realtime/client (a pion peer)
// that folds every event as the page does, speaking the protocol's version
// -version (from 3 on, the server sends events messages compressed; 2 is
// JSON text throughout) (the students share the decoding
// of the messages they all receive alike, client.Batches, and ask for
// -read-buffer bytes of receive buffer for their sockets, so that the tool's
// own work does not limit what it measures). Once every board holds the whole
// log, every student draws for -duration as the browser's board does: a
// stroke lasts 0.5–2 s, with a pause of 0.2–1 s before the next; while the
// pen is down the student sends a stroke.drawn part every 1/30 s carrying
// the points drawn since the last one (5–10 points a slot), with
// client.Post, without waiting for the previous part's ack (the board
// pipelines them too). Then it waits until every board holds the last
// event, checks that every board's state hash is the same and that no
// client saw a gap, and prints one line of key=value results per class
// size (-json: one JSON object):
//
//   - fanout p50/p95/p99/max ms: a part's send to the moment the last of the
//     other participants (the teacher and every other student) applied it;
//   - commit p50/p99 ms: a part's send to its ack, at its sender;
//   - events/s: parts acknowledged a second, from the first part sent to
//     the last answer (the span of the figures below too);
//   - refused: commands refused (rate limits included);
//   - server-cores, load-cores, other-cores: CPU time a second of the
//     server's process (-server-pid, from /proc), of this process, and of
//     the rest of the machine (busy time from /proc/stat less both);
//   - server-wait-cores, load-wait-cores: time the server's threads and this
//     process's waited, ready to run, for a CPU, a second (schedstat): above
//     0, other processes held them back;
//   - appends, batch, append-ms: the server's appends, their events on
//     average and their time on average (its /metrics);
//   - udp-drops: datagrams the kernel dropped for full receive buffers, in
//     the whole system (/proc/net/snmp, RcvbufErrors); server-drops and
//     load-drops: those of them at the server's sockets and at this
//     process's (the drops column of /proc/net/udp).
//
// For example:
//
//	classroom serve -addr 127.0.0.1:8080 -ice-loopback &
//	classload -server http://127.0.0.1:8080 -server-pid $! -students 10,30,60
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"classroom/realtime/protocol"
)

func main() {
	var cfg config
	var sizes string
	flag.StringVar(&cfg.server, "server", "http://127.0.0.1:8080", "the classroom server's base URL")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "the server's process id, for its CPU time (0: not measured)")
	flag.StringVar(&sizes, "students", "60", "class sizes to run, comma-separated, each in a lesson of its own")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the students draw")
	flag.IntVar(&cfg.joinParallel, "join-parallel", 4, "students joining at the same time")
	flag.IntVar(&cfg.readBuffer, "read-buffer", 4<<20, "receive buffer in bytes each student's UDP socket asks for (0: the system's default)")
	flag.IntVar(&cfg.version, "version", protocol.Version, "the protocol version the clients speak: from protocol.Compressed on they take compressed events messages, below it every message is JSON text")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write this process's CPU profile of the drawing to this file (for several class sizes, the size is appended to the name)")
	asJSON := flag.Bool("json", false, "print each result as a JSON object")
	flag.Parse()
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "classload: -students: %q is not a class size\n", f)
			os.Exit(2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		res, err := runClass(ctx, cfg, n)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "classload: %d students: %v\n", n, err)
			os.Exit(1)
		}
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		} else {
			fmt.Println(res)
		}
	}
}

// config is what a run measures against.
type config struct {
	server       string
	serverPID    int
	duration     time.Duration
	joinParallel int
	readBuffer   int
	cpuProfile   string
	version      int
}
