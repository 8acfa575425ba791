// Command classroom runs the online classroom server, migrates its database,
// and exports and imports lessons. It is wiring only: it reads flags and the
// environment, opens the store, the live server and the HTTP handler, and
// hands files to lessonlog and deletions to retention; it must never hold a lesson rule, an export
// format or an HTTP handler of its own.
//
// Usage:
//
//	classroom [serve] [flags]   run the server (the default)
//	classroom migrate [flags]   apply database migrations and exit
//	classroom export -lesson ID -format F -o PATH   export a lesson
//	classroom import -i PATH    import an exported lesson
//	classroom lti add|rotate-key|urls [flags]   register an LTI platform, rotate the tool's key, print the URLs platforms need
//	classroom delete -lesson ID delete an ended lesson and its recordings
//	classroom video -lesson ID -token T [-start] [-o PATH]   start, follow and fetch a lesson's video
//
// Every flag has an environment variable; see "classroom help".
package main

import (
	"context"
	"crypto/tls"
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
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"classroom/eventstore"
	"classroom/lessonvideo"
	"classroom/media/turn"
	"classroom/realtime"
	"classroom/realtime/protocol"
	"classroom/realtime/token"
	"classroom/retention"
	"classroom/web"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags and environment set.
type config struct {
	addr             string
	databaseURL      string
	dataDir          string
	tokenKeyFile     string
	allowedOrigins   string
	publicIP         string
	iceLoopback      bool
	mediaUDPAddr     string
	turnAddr         string
	turnTCPAddr      string
	turnSecretFile   string
	turnTTL          time.Duration
	turnPrivate      bool
	turnShare        bool
	tlsCert          string
	tlsKey           string
	acmeDomains      string
	acmeEmail        string
	acmeDirectory    string
	httpAddr         string
	recordingsDir    string
	writeTimeout     time.Duration
	publicURL        string
	ltiPlatformsFile string
	ltiKeysFile      string
	frameAncestors   string
	signinFile       string
	nodeID           string
	nodeAddr         string
	nodeAdvertise    string
	leaseTTL         time.Duration
	maxSubscribers   int
	nodePublicURL    string
	retention        string
	maxViewers       int
	videosDir        string
	videoRenders     int
	videoFormats     string
	videoThreads     int
	operatorKey      string
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", env("CLASSROOM_ADDR", ":8080"), "address to serve HTTP on (CLASSROOM_ADDR)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL connection string; empty for the embedded store (DATABASE_URL)")
	fs.StringVar(&c.dataDir, "data", env("CLASSROOM_DATA", "classroom-data"), "directory of the embedded store and of generated keys (CLASSROOM_DATA)")
	fs.StringVar(&c.tokenKeyFile, "token-key-file", env("CLASSROOM_TOKEN_KEY_FILE", ""),
		"file holding the key that signs join links, created when missing; every server of a school must share it (CLASSROOM_TOKEN_KEY_FILE; default DATA/token.key)")
	fs.StringVar(&c.allowedOrigins, "allowed-origins", env("CLASSROOM_ALLOWED_ORIGINS", ""),
		"comma-separated origins besides the server's own whose pages may join lessons, or * (CLASSROOM_ALLOWED_ORIGINS)")
	fs.StringVar(&c.publicIP, "public-ip", env("CLASSROOM_PUBLIC_IP", ""),
		"public address to announce for WebRTC when the server is behind 1:1 NAT (CLASSROOM_PUBLIC_IP)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("CLASSROOM_TLS_CERT", ""), "certificate file (PEM) to serve HTTPS with, reloaded when it changes (CLASSROOM_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", env("CLASSROOM_TLS_KEY", ""), "key file (PEM) of -tls-cert (CLASSROOM_TLS_KEY)")
	fs.StringVar(&c.acmeDomains, "acme-domains", env("CLASSROOM_ACME_DOMAINS", ""),
		"comma-separated domain names to obtain and renew certificates for over ACME (Let's Encrypt) (CLASSROOM_ACME_DOMAINS)")
	fs.StringVar(&c.acmeEmail, "acme-email", env("CLASSROOM_ACME_EMAIL", ""), "contact address given to the ACME CA (CLASSROOM_ACME_EMAIL)")
	fs.StringVar(&c.acmeDirectory, "acme-directory", env("CLASSROOM_ACME_DIRECTORY", ""),
		"ACME directory URL; empty for Let's Encrypt (CLASSROOM_ACME_DIRECTORY)")
	fs.StringVar(&c.httpAddr, "http-addr", env("CLASSROOM_HTTP_ADDR", ":80"),
		"with ACME, where plain HTTP answers challenges and redirects to HTTPS (CLASSROOM_HTTP_ADDR)")
	fs.BoolVar(&c.iceLoopback, "ice-loopback", env("CLASSROOM_ICE_LOOPBACK", "") != "",
		"gather loopback ICE candidates, for clients on this very machine: development and tests (CLASSROOM_ICE_LOOPBACK)")
	fs.StringVar(&c.mediaUDPAddr, "media-udp-addr", env("CLASSROOM_MEDIA_UDP_ADDR", ":7882"),
		"the one UDP address all audio, video and data channels go through; empty for a port per connection (CLASSROOM_MEDIA_UDP_ADDR)")
	fs.StringVar(&c.turnAddr, "turn-addr", env("CLASSROOM_TURN_ADDR", ":3478"),
		"UDP address of the embedded STUN/TURN relay; empty to run none (CLASSROOM_TURN_ADDR)")
	fs.StringVar(&c.turnTCPAddr, "turn-tcp-addr", env("CLASSROOM_TURN_TCP_ADDR", ""),
		"also serve TURN over TCP on this address, for networks that block UDP (CLASSROOM_TURN_TCP_ADDR)")
	fs.StringVar(&c.turnSecretFile, "turn-secret-file", env("CLASSROOM_TURN_SECRET_FILE", ""),
		"shared secret of TURN credentials; generated in the data directory when absent (CLASSROOM_TURN_SECRET_FILE)")
	fs.DurationVar(&c.turnTTL, "turn-ttl", envDuration("CLASSROOM_TURN_TTL", 10*time.Minute),
		"how long the TURN credentials handed to a participant stay valid (CLASSROOM_TURN_TTL)")
	fs.BoolVar(&c.turnPrivate, "turn-allow-private", env("CLASSROOM_TURN_ALLOW_PRIVATE", "") != "",
		"let the relay reach private and link-local addresses: for a server on a school's own network (CLASSROOM_TURN_ALLOW_PRIVATE)")
	fs.BoolVar(&c.turnShare, "turn-share-port", env("CLASSROOM_TURN_SHARE_PORT", "on") != "off",
		"serve TURN on the HTTP(S) port too (TURN over TLS with HTTPS), for networks that let nothing out but HTTPS; with the relay only (CLASSROOM_TURN_SHARE_PORT=off to stop)")
	fs.StringVar(&c.recordingsDir, "recordings-dir", env("CLASSROOM_RECORDINGS_DIR", ""),
		"directory of recorded lesson media; empty means DATA/recordings (CLASSROOM_RECORDINGS_DIR)")
	fs.StringVar(&c.operatorKey, "operator-key", env("CLASSROOM_OPERATOR_KEY", ""),
		"the operator's secret, which lists every lesson (GET /api/lessons, the home page opened as /#operator=KEY); empty: no one lists them (CLASSROOM_OPERATOR_KEY)")
	fs.StringVar(&c.nodeID, "node-id", env("CLASSROOM_NODE_ID", ""),
		"with PostgreSQL, this server's name among the nodes sharing the database, unique among those running; empty for HOSTNAME-PORT, the host's name and -addr's port (CLASSROOM_NODE_ID)")
	fs.StringVar(&c.nodeAddr, "node-addr", env("CLASSROOM_NODE_ADDR", "127.0.0.1:0"),
		"with PostgreSQL, the internal address other nodes reach this one on, for the lessons it decides; the default serves nodes on this machine only (CLASSROOM_NODE_ADDR)")
	fs.StringVar(&c.nodeAdvertise, "node-advertise", env("CLASSROOM_NODE_ADVERTISE", ""),
		"the base URL other nodes use for -node-addr (http://10.0.0.5:8444); empty for -node-addr itself, or this host's name when it listens on every interface (CLASSROOM_NODE_ADVERTISE)")
	fs.DurationVar(&c.leaseTTL, "lease-ttl", envDuration("CLASSROOM_LEASE_TTL", 3*time.Second),
		"with PostgreSQL, how long a node keeps deciding a lesson without renewing its lease: the longest a lesson waits for the successor of a node that is paused or cut off from the database (a killed node's lessons are taken at once) (CLASSROOM_LEASE_TTL)")
	fs.StringVar(&c.videosDir, "videos-dir", env("CLASSROOM_VIDEOS_DIR", ""),
		"directory of lessons' rendered videos; empty means DATA/videos (CLASSROOM_VIDEOS_DIR)")
	fs.IntVar(&c.videoRenders, "video-renders", envInt("CLASSROOM_VIDEO_RENDERS", 1),
		"how many lessons' videos render at once, in the background at the lowest priority; 0 renders none (CLASSROOM_VIDEO_RENDERS)")
	fs.StringVar(&c.videoFormats, "video-formats", env("CLASSROOM_VIDEO_FORMATS", "mp4"),
		"the formats rendered when a recording ends, comma-separated: mp4 (H.264, AAC), webm (VP9, Opus); a teacher can ask for either any time (CLASSROOM_VIDEO_FORMATS)")
	fs.IntVar(&c.videoThreads, "video-threads", envInt("CLASSROOM_VIDEO_THREADS", 1),
		"threads a render's ffmpeg uses; 1 leaves the other cores to live lessons, -1 lets ffmpeg take a thread per core (CLASSROOM_VIDEO_THREADS)")
	fs.DurationVar(&c.writeTimeout, "write-timeout", envDuration("CLASSROOM_WRITE_TIMEOUT", 30*time.Second),
		"how long an HTTP response may take to write; downloads (recordings, exports, states) only each write (CLASSROOM_WRITE_TIMEOUT)")
	fs.StringVar(&c.retention, "retention", env("CLASSROOM_RETENTION", ""),
		"delete lessons this long after they ended, their logs, decks and recordings (90d, or a duration); empty keeps them (CLASSROOM_RETENTION)")
	fs.StringVar(&c.publicURL, "public-url", env("CLASSROOM_PUBLIC_URL", ""),
		"the server's public URL (https://classroom.school.example); the LTI 1.3 tool is served only with it (CLASSROOM_PUBLIC_URL)")
	fs.StringVar(&c.ltiPlatformsFile, "lti-platforms", env("CLASSROOM_LTI_PLATFORMS", ""),
		"JSON file of the registered LTI platforms, written by \"classroom lti add\" (CLASSROOM_LTI_PLATFORMS; default DATA/lti-platforms.json)")
	fs.StringVar(&c.ltiKeysFile, "lti-keys", env("CLASSROOM_LTI_KEYS", ""),
		"file of the LTI tool's private keys, created when missing; every server of a school must share it (CLASSROOM_LTI_KEYS; default DATA/lti-keys.json)")
	fs.StringVar(&c.frameAncestors, "frame-ancestors", env("CLASSROOM_FRAME_ANCESTORS", ""),
		"comma-separated origins that may show the lesson page in a frame; default the LTI platforms' issuers (CLASSROOM_FRAME_ANCESTORS)")
	fs.StringVar(&c.signinFile, "signin-config", env("CLASSROOM_SIGNIN_CONFIG", ""),
		"JSON file of the OpenID Connect providers teachers and operators sign in with; none when it does not exist (CLASSROOM_SIGNIN_CONFIG; default DATA/signin.json)")
	fs.IntVar(&c.maxSubscribers, "max-subscribers", envInt("CLASSROOM_MAX_SUBSCRIBERS", 0),
		"how many participants this node serves at once; one more is sent to another node with room (see -node-public-url), or refused; 0 for no limit (CLASSROOM_MAX_SUBSCRIBERS)")
	fs.StringVar(&c.nodePublicURL, "node-public-url", env("CLASSROOM_NODE_PUBLIC_URL", ""),
		"with PostgreSQL, the base URL participants reach this very node by (https://n1.class.example.org), to which full nodes send participants; empty: no node sends any here (CLASSROOM_NODE_PUBLIC_URL)")
	fs.IntVar(&c.maxViewers, "max-viewers", envInt("CLASSROOM_MAX_VIEWERS", realtime.DefaultMaxViewers),
		"WHEP viewers one lesson admits (CLASSROOM_MAX_VIEWERS)")
}

// envInt is env for integers; an unparsable value falls back to def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// envDuration is env for durations; an unparsable value falls back to def.
func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func (c *config) turnSecret() string {
	if c.turnSecretFile != "" {
		return c.turnSecretFile
	}
	return filepath.Join(c.dataDir, "turn.key")
}

// relayIP is the address the TURN relay announces: the configured public
// IP, else the host's first global IPv4 address, else loopback when the
// server is for this machine only.
func (c *config) relayIP() (string, error) {
	if c.publicIP != "" {
		return c.publicIP, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("list the host's addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String(), nil
		}
	}
	if c.iceLoopback {
		return "127.0.0.1", nil
	}
	return "", errors.New("the host has no IPv4 address to relay on: set -public-ip")
}

// lessonFiles are where the server keeps lessons' files beside the store,
// which deleting a lesson removes too.
func (c *config) lessonFiles() retention.Files {
	return retention.Files{Recordings: c.recordings(), Videos: c.videos()}
}

func (c *config) videos() string {
	if c.videosDir != "" {
		return c.videosDir
	}
	return filepath.Join(c.dataDir, "videos")
}

func (c *config) recordings() string {
	if c.recordingsDir != "" {
		return c.recordingsDir
	}
	return filepath.Join(c.dataDir, "recordings")
}

func (c *config) keyFile() string {
	if c.tokenKeyFile != "" {
		return c.tokenKeyFile
	}
	return filepath.Join(c.dataDir, "token.key")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
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
	var x transfer
	var l ltiFlags
	var deleteID string
	var v videoClient
	switch cmd {
	case "serve", "migrate":
	case "delete":
		fs.StringVar(&deleteID, "lesson", "", "the id of the ended lesson to delete, with its recordings")
	case "lti":
		if len(args) == 0 {
			fmt.Fprintln(stderr, "usage: classroom lti add|rotate-key|urls [flags]")
			return 2
		}
		l.sub, args = args[0], args[1:]
		l.flags(fs)
	case "export", "import":
		x.flags(fs, cmd)
	case "video":
		fs = flag.NewFlagSet("classroom video", flag.ContinueOnError) // a client: the server's flags do not apply
		fs.SetOutput(stderr)
		v.flags(fs)
	case "help":
		fmt.Fprintln(stdout, "usage: classroom [serve|migrate|export|import|delete|lti|video|help] [flags]")
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
	} else if cmd == "lti" {
		err = l.run(&c, stdout)
	} else if cmd == "export" || cmd == "import" {
		err = x.run(ctx, cmd, &c, log, os.Stdin, stdout, stderr)
	} else if cmd == "delete" {
		err = deleteLesson(ctx, &c, log, deleteID, stdout)
	} else if cmd == "video" {
		err = v.run(ctx, stdout, stderr)
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

// startRelay starts the embedded STUN/TURN relay; shared, when not nil, is
// the HTTP(S) port it shares.
func (c *config) startRelay(log *slog.Logger, shared *web.PortShare) (*turn.Relay, error) {
	secret, err := token.LoadOrCreateKey(c.turnSecret())
	if err != nil {
		return nil, fmt.Errorf("TURN secret: %w", err)
	}
	ip, err := c.relayIP()
	if err != nil {
		return nil, fmt.Errorf("TURN relay: %w", err)
	}
	cfg := turn.RelayConfig{UDPAddr: c.turnAddr, TCPAddr: c.turnTCPAddr, PublicIP: ip,
		Secret: secret, TTL: c.turnTTL, AllowLoopback: c.iceLoopback, AllowPrivate: c.turnPrivate, Logger: log}
	if shared != nil {
		cfg.Shared, cfg.SharedPort, cfg.SharedTLS = shared.TURN(), shared.Addr().(*net.TCPAddr).Port, shared.TLS()
	}
	relay, err := turn.NewRelay(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("TURN relay", "addr", relay.Addr().String(), "relays_on", ip, "tcp", c.turnTCPAddr)
	return relay, nil
}

// deleteLesson deletes an ended lesson for real (retention.Delete).
func deleteLesson(ctx context.Context, c *config, log *slog.Logger, lessonID string, stdout io.Writer) error {
	id, err := uuid.Parse(lessonID)
	if err != nil {
		return fmt.Errorf("-lesson %q is not a lesson id", lessonID)
	}
	store, err := eventstore.Open(ctx, c.store(log))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := retention.Delete(ctx, store, c.lessonFiles(), id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted lesson %s\n", id)
	return nil
}

func serve(ctx context.Context, c *config, log *slog.Logger) error {
	keep, err := retention.Parse(c.retention)
	if err != nil {
		return fmt.Errorf("-retention: %w", err)
	}
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
	if keep > 0 {
		// Ended lessons older than the retention are deleted now and then
		// hourly; the loop ends before the store closes.
		keepCtx, stopKeeping := context.WithCancel(ctx)
		var keeping sync.WaitGroup
		keeping.Go(func() { retention.Keep(keepCtx, log, store, c.lessonFiles(), keep, time.Now) })
		defer keeping.Wait()
		defer stopKeeping()
	}

	key, err := token.LoadOrCreateKey(c.keyFile())
	if err != nil {
		return err
	}
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var publicIPs []string
	if c.publicIP != "" {
		publicIPs = []string{c.publicIP}
	}
	tlsConfig, challenges, err := web.ServerTLS(web.TLSOptions{CertFile: c.tlsCert, KeyFile: c.tlsKey,
		ACMEDomains: splitList(c.acmeDomains), ACMEEmail: c.acmeEmail, ACMEDirectory: c.acmeDirectory,
		ACMECacheDir: filepath.Join(c.dataDir, "acme")})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	var shared *web.PortShare
	switch {
	case c.turnAddr != "" && c.turnShare:
		// The relay's TURN clients and the browsers share the one port, so
		// that a network letting nothing out but HTTPS reaches the relay.
		shared = web.SharePort(ln, tlsConfig, log)
		defer shared.Close()
		ln = shared.HTTP()
	case tlsConfig != nil:
		ln = tls.NewListener(ln, tlsConfig)
	}
	defer ln.Close()

	var iceServers func(host, participant string) []protocol.ICEServer
	if c.turnAddr != "" {
		relay, err := c.startRelay(log, shared)
		if err != nil {
			return err
		}
		defer relay.Close()
		iceServers = func(host, participant string) []protocol.ICEServer {
			var out []protocol.ICEServer
			for _, s := range relay.ICEServers(host, participant) {
				out = append(out, protocol.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
			}
			return out
		}
	}
	var node *node
	if pg, ok := store.(*eventstore.Postgres); ok {
		if node, err = c.joinCluster(pg, key, log); err != nil {
			return err
		}
		defer node.leave(log) // after the live server closed: it hands its lessons over first
	}
	live, err := realtime.New(realtime.Config{Store: store, Tokens: tokens, Logger: log, Metrics: registry,
		AllowedOrigins: splitList(c.allowedOrigins), NAT1To1IPs: publicIPs, Loopback: c.iceLoopback,
		MediaUDPAddr: c.mediaUDPAddr, ICEServers: iceServers, RecordingsDir: c.recordings(), Cluster: node.cluster(),
		MaxSubscribers: c.maxSubscribers})
	if err != nil {
		return err
	}
	if node != nil {
		node.serve(live, log)
	}
	if a := live.MediaAddr(); a != nil {
		log.Info("media on one UDP port", "addr", a.String())
	}
	defer live.Close() // before the store closes: rooms store their last leaves

	if challenges != nil {
		httpLn, err := net.Listen("tcp", c.httpAddr)
		if err != nil {
			return fmt.Errorf("listen for ACME challenges: %w", err)
		}
		challengeSrv := &http.Server{Handler: challenges, ReadHeaderTimeout: 10 * time.Second}
		go challengeSrv.Serve(httpLn)
		defer challengeSrv.Close()
	}
	// The pages' words, read once for whichever of the two needs them.
	words := sync.OnceValues(web.Catalogues)
	ltiTool, frameAncestors, err := c.ltiTool(store, tokens, words, log)
	if err != nil {
		return err
	}
	signIn, err := c.signIn(key, words, log)
	if err != nil {
		return err
	}
	webConfig := web.Config{Store: store, Tokens: tokens, Live: live, Logger: log, Recordings: c.recordings(),
		Metrics: promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), FrameAncestors: frameAncestors, SignIn: signIn, OperatorKey: c.operatorKey,
		Streams: realtime.NewStreams(live, realtime.StreamsConfig{MaxViewers: c.maxViewers})}
	ltiRoutes(ltiTool, &webConfig)
	var videos *lessonvideo.Renderer
	if c.videoRenders > 0 {
		decks, _ := store.(eventstore.Decks)
		videos, err = lessonvideo.NewRenderer(lessonvideo.RendererConfig{
			Source: lessonvideo.Source{Store: store, Decks: decks, Recordings: c.recordings()},
			Dir:    c.videos(), Parallel: c.videoRenders, Logger: log,
			Formats: strings.Split(c.videoFormats, ","), Options: lessonvideo.Options{Threads: c.videoThreads}})
		if err != nil {
			return err
		}
		renderCtx, stopRenders := context.WithCancel(ctx)
		rendersDone := make(chan struct{})
		go func() { videos.Run(renderCtx); close(rendersDone) }()
		defer func() { stopRenders(); <-rendersDone }() // before the store closes
	}
	webConfig.Videos = videos
	srv := &http.Server{
		Handler:           web.NewHandler(webConfig),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      c.writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if tlsConfig == nil {
		log.Warn("serving plain HTTP: for loopback and development only, not for real lessons", "addr", ln.Addr().String())
	} else {
		log.Info("serving HTTPS", "addr", ln.Addr().String())
	}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	node.drain(log)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Shutdown does not wait for hijacked connections (the WebSockets);
	// closing the live server ends them.
	srv.RegisterOnShutdown(func() { live.Close() })
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down the HTTP server: %w", err)
	}
	<-done
	return nil
}
