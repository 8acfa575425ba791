// Command crashload checks the classroom's core promise under faults:
// nothing acknowledged is lost, nothing refused is stored, and a resend is
// answered with the original seq. It runs the classroom server as a
// process, a teacher and students writing through it over real WebRTC data
// channels (realtime/client) as the page does (strokes in parts, chat,
// hands, resends of acknowledged commands, reconnecting and resending what
// was not answered), and kills the server with SIGKILL and crash-restarts
// PostgreSQL while they write. Then it reads the lesson's export and
// reports: acknowledged, lost, duplicated, refused-but-stored, ghosts, and
// the recovery time (fault to first new acknowledgement) per kind of fault.
// It exits 1 when anything that must be zero is not.
//
//	go run ./cmd/crashload -students 30 -kills 20 -pg-restarts 5 \
//	    -database-url "$DATABASE_URL" -pg-restart 'pg_ctl -D … restart -m immediate'
//	go run ./cmd/crashload -students 30 -kills 20   # the embedded SQLite store
//
// The test of this package runs a short form of it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.Students, "students", 30, "students writing besides the teacher")
	flag.IntVar(&cfg.Kills, "kills", 20, "kill -9 of the server, each followed by a restart")
	flag.IntVar(&cfg.PGRestarts, "pg-restarts", 0, "crash-restarts of PostgreSQL (needs -database-url and -pg-restart)")
	flag.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL connection string; empty for the embedded SQLite store")
	flag.StringVar(&cfg.PGRestart, "pg-restart", os.Getenv("CLASSROOM_TEST_PG_RESTART"), "shell command that crash-restarts PostgreSQL (CLASSROOM_TEST_PG_RESTART)")
	flag.DurationVar(&cfg.Every, "every", 3*time.Second, "time between two faults")
	flag.StringVar(&cfg.Binary, "classroom", "", "the classroom binary; empty builds ./cmd/classroom")
	flag.Parse()
	if cfg.PGRestarts > 0 && (cfg.DatabaseURL == "" || cfg.PGRestart == "") {
		fmt.Fprintln(os.Stderr, "crashload: -pg-restarts needs -database-url and -pg-restart")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "crashload")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashload:", err)
		os.Exit(1)
	}
	cfg.Dir = dir
	cfg.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	if cfg.Binary == "" {
		cfg.Binary = filepath.Join(dir, "classroom")
		if out, err := exec.Command("go", "build", "-o", cfg.Binary, "classroom/cmd/classroom").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "crashload: go build: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	rep, err := runLoad(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashload: %v (server log in %s)\n", err, filepath.Join(dir, "server.log"))
		os.Exit(1)
	}
	fmt.Print(rep)
	if rep.failures() > 0 {
		fmt.Fprintf(os.Stderr, "crashload: the promise was broken (server log in %s)\n", filepath.Join(dir, "server.log"))
		os.Exit(1)
	}
	os.RemoveAll(dir)
}
