package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestCrash is the short form of crashload: the real server binary, killed
// with SIGKILL while a teacher and students write and resend, on the
// embedded store and on PostgreSQL (crash-restarted too when
// CLASSROOM_TEST_PG_RESTART says how); every acknowledged command is in the
// log once at its seq, no refused one is, the log has no gap, the export's
// hash is the fold's, every client converged to it, and no one is left
// present.
func TestCrash(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "classroom")
	if out, err := exec.Command("go", "build", "-o", bin, "classroom/cmd/classroom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) {
		crash(t, config{Binary: bin, Students: 4, Kills: 3})
	})
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
		}
		cfg := config{Binary: bin, Students: 4, Kills: 2, DatabaseURL: url, PGRestart: os.Getenv("CLASSROOM_TEST_PG_RESTART")}
		if cfg.PGRestart == "" {
			t.Log("CLASSROOM_TEST_PG_RESTART is not set: the database restart is not exercised")
		} else {
			cfg.PGRestarts = 1
		}
		crash(t, cfg)
	})
}

func crash(t *testing.T, cfg config) {
	cfg.Dir = t.TempDir()
	cfg.Every = 2 * time.Second
	cfg.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := runLoad(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, serverLog(cfg))
	}
	t.Logf("\n%s", rep)
	if rep.Acknowledged < 50 || len(rep.Recovery["kill"]) != cfg.Kills || len(rep.Recovery["postgres restart"]) != cfg.PGRestarts {
		t.Errorf("too little happened to prove anything: %d acknowledged, recoveries %v", rep.Acknowledged, rep.Recovery)
	}
	if rep.failures() > 0 {
		t.Errorf("the promise was broken\nserver log:\n%s", serverLog(cfg))
	}
}

func serverLog(cfg config) string {
	b, _ := os.ReadFile(filepath.Join(cfg.Dir, "server.log"))
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	return string(b)
}
