// Command classroom runs the online classroom server.
//
// Usage:
//
//	classroom [serve] [flags]   run the server (the default)
//	classroom migrate [flags]   apply database migrations and exit
//
// Every flag has an environment variable; see "classroom help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"classroom/eventstore"
	"classroom/web"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags and environment set.
type config struct {
	addr        string
	databaseURL string
	dataDir     string
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", env("CLASSROOM_ADDR", ":8080"), "address to serve HTTP on (CLASSROOM_ADDR)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL connection string; empty for the embedded store (DATABASE_URL)")
	fs.StringVar(&c.dataDir, "data", env("CLASSROOM_DATA", "classroom-data"), "directory of the embedded store (CLASSROOM_DATA)")
}

func (c *config) store(log *slog.Logger) eventstore.Config {
	return eventstore.Config{DatabaseURL: c.databaseURL, DataDir: c.dataDir, Logger: log}
}

// describe names the store without revealing a password.
func (c *config) describe() string {
	if c.databaseURL == "" {
		return "embedded SQLite in " + c.dataDir
	}
	if u, err := url.Parse(c.databaseURL); err == nil && u.Host != "" {
		return "PostgreSQL at " + u.Redacted()
	}
	return "PostgreSQL"
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// run is main with its exits as return values: 0 on success, 1 on failure,
// 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var c config
	fs := flag.NewFlagSet("classroom "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	switch cmd {
	case "serve", "migrate":
	case "help":
		fmt.Fprintln(stdout, "usage: classroom [serve|migrate|help] [flags]")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	default:
		fmt.Fprintf(stderr, "classroom: unknown command %q (try: classroom help)\n", cmd)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "classroom %s: unexpected arguments %q\n", cmd, fs.Args())
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if cmd == "migrate" {
		err = migrate(ctx, &c, log, stdout)
	} else {
		err = serve(ctx, &c, log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "classroom %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, c *config, log *slog.Logger, stdout io.Writer) error {
	applied, err := eventstore.Migrate(ctx, c.store(log))
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s: up to date\n", c.describe())
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(stdout, "%s: applied migration %d\n", c.describe(), v)
	}
	return nil
}

func serve(ctx context.Context, c *config, log *slog.Logger) error {
	log.Info("opening the event store", "store", c.describe())
	store, err := eventstore.Open(ctx, c.store(log))
	if err != nil {
		return err
	}
	defer func() {
		// Close commits the appends still queued before it returns.
		if err := store.Close(); err != nil {
			log.Error("close the event store", "err", err)
		}
		log.Info("event store closed")
	}()

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           web.NewHandler(store, log, nil),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Warn("serving plain HTTP: for loopback and development only, not for real lessons", "addr", ln.Addr().String())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down the HTTP server: %w", err)
	}
	<-done
	return nil
}
