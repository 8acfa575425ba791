#!/usr/bin/env bash
# Fan-out of one publisher (~1.5 Mbps VP8 + Opus) to N subscribers: the
# classroom SFU (classroom serve) against bare pion (bench/barefanout), each
# driven by cmd/mediaload, for every N in the same run. Prints the machine,
# every run's raw result line and markdown tables.
#
# Usage: bench/fanout.sh
#
# Environment (all optional):
#   NS="50 100 200 400 800"  subscriber counts (800 saturates one server core)
#   DURATION=20s         measurement window of each run
#   TTFF=20              subscribers timed to their first frame after each window
#   JOIN_PARALLEL=4      subscribers joining at once
#   FRAME_BYTES=6000     the publisher's video frame size (mediaload -frame-bytes); pion's
#                        packetizer cuts a frame into packets of 1,184 bytes and a
#                        shorter last one (6000: five, and one of 80 bytes); a multiple
#                        of 1,184 (7104: six) gives packets of one size, as libwebrtc's
#                        packetizer, which splits a frame about equally, nearly does
#   JOIN_FOR=            when set (e.g. 180s), no join starts after that long and
#                        those joined are measured (mediaload -join-for), so that
#                        a large N fits a measurement window and still reports
#                        who joined
#   PROFILE_N=           when set (e.g. 200), one more classroom run with that many
#                        subscribers, recorded with perf; prints its top functions
#   PORT_BASE=28080      HTTP of classroom, +10 bare, +802 classroom media UDP,
#                        +398 classroom TURN UDP
#   MEDIA_PORT=, TURN_PORT=  the classroom's media and TURN UDP ports, when not
#                        PORT_BASE's (to keep all four in a narrow range)
#   LOGS=                when set, a directory the servers' and load generator's
#                        logs are copied to at the end (and the profile with its binary)
#   COUNT_AT=socket      where subscribers count a track once it has begun: socket
#                        (RTP headers as read from the socket, so that the load
#                        generator costs less than the server) or pion (every
#                        packet through pion's receive path); see mediaload -count-at
#   BEFORE=              when set, a git revision (e.g. HEAD~3) whose classroom server
#                        also runs at every N, as "before": a change measured against
#                        its parent in the same run, driven by that revision's own
#                        load generator (the protocol may have changed between them)
#   BIN=                 when set, a directory of binaries built beforehand (classroom,
#                        mediaload, barefanout, and with BEFORE classroom-before and
#                        mediaload-before): nothing is built, so that a measurement
#                        window on a shared machine measures only
#   PIN=1                0: server and load generator both unpinned, free to run on
#                        every core (the kernel places their threads), instead of
#                        server on core 0 and load generator on core 1
#   OTHER_WORK=0         k > 0: "other work on the machine": k CPU-bound processes
#                        (bash busy loops, `while :; do :; done`, nice 0 like the
#                        server) started just before each run's load generator and
#                        killed when it ends, so that they compete through the
#                        joins, the window and the timed joins; pinned runs pin
#                        loop i to core i mod the cores (k = 2: one on each core),
#                        unpinned runs leave them unpinned
#   BARE=1               0: no bare pion runs (they take a window's time at large N)
#   SERVER_GOMAXPROCS=   when set, the classroom servers' GOMAXPROCS (Go's default is
#                        the cores the process may run on: 1 pinned, 2 unpinned here)
#   NET=lo               lo: server and load generator talk over loopback, where the
#                        kernel delivers a datagram into the receiver's socket in the
#                        sender's softirq, so the server's CPU time includes the
#                        receivers' kernel work. veth: the load generator runs in a
#                        network namespace of its own, joined to the server's by a
#                        veth pair, each end's receive processing steered to that
#                        end's core (VETH_STEER), so that it runs there and is charged
#                        there, as on a network. Needs root and ip (iproute2); the
#                        namespace and the pair are deleted on exit
#   VETH_STEER=napi      with NET=veth, how: napi (needs ethtool): each end's queue is
#                        polled by a NAPI thread pinned to its core; the load
#                        generator's keeps polling every VETH_POLL_US while packets
#                        come, as a network card's interrupt moderation does, so the
#                        server only queues the packet (the server's is woken by the
#                        load generator: it receives little); rps: receive packet
#                        steering, which sends
#                        the other core an interrupt from the sender's core for
#                        nearly every datagram (in a VM a costly exit, charged to the
#                        sender)
#   VETH_POLL_US=50      with VETH_STEER=napi, the load generator's NAPI thread's
#                        polling interval
#   VETH_NET=198.51.100  with NET=veth, the /24 whose .1 is the server's end of the
#                        pair and .2 the load generator's
#
# The server runs on core 0 and the load generator on core 1 (taskset), so
# that a server's CPU share is a share of one core. Without taskset, or with
# fewer than two cores, both run unpinned and the script says so.
set -euo pipefail

cd "$(dirname "$0")/.."

NS=${NS:-"50 100 200 400 800"}
DURATION=${DURATION:-20s}
TTFF=${TTFF:-20}
JOIN_PARALLEL=${JOIN_PARALLEL:-4}
JOIN_FOR=${JOIN_FOR:-}
FRAME_BYTES=${FRAME_BYTES:-6000}
PROFILE_N=${PROFILE_N:-}
PORT_BASE=${PORT_BASE:-28080}
LOGS=${LOGS:-}
BEFORE=${BEFORE:-}
BIN=${BIN:-}
COUNT_AT=${COUNT_AT:-socket}
servers="classroom bare"
HTTP_PORT=$PORT_BASE
BARE_PORT=$((PORT_BASE + 10))
MEDIA_PORT=${MEDIA_PORT:-$((PORT_BASE + 802))}
TURN_PORT=${TURN_PORT:-$((PORT_BASE + 398))}

server_pid=

# --- NET: the network between server and load generator ---
NET=${NET:-lo}
VETH_NET=${VETH_NET:-198.51.100}
VETH_STEER=${VETH_STEER:-napi}
VETH_POLL_US=${VETH_POLL_US:-50}
host=127.0.0.1 # the server's address, as the load generator reaches it
load_ns=()     # the command prefix that runs the load generator in its namespace
netns= veth_server= veth_load=
# net_down deletes the namespace and the veth pair, if made (the namespace
# takes its end of the pair with it).
net_down() {
	[[ -n $veth_server ]] && ip link del "$veth_server" 2>/dev/null
	[[ -n $netns ]] && ip netns del "$netns" 2>/dev/null
	netns= veth_server=
	return 0
}
# net_up makes the load generator's namespace and the veth pair (NET=veth).
# rps CORE_MASK DEVICE [NS]: receive processing of DEVICE's queue on the
# cores of the mask.
rps() {
	local q=/sys/class/net/$2/queues/rx-0/rps_cpus
	if [[ -n ${3:-} ]]; then
		ip netns exec "$3" sh -c "echo $1 >$q"
	else
		echo "$1" >"$q"
	fi
}
# napi CORE POLL_US DEVICE [NS]: DEVICE's queue polled by a NAPI thread on
# CORE; with POLL_US > 0 it goes on polling every POLL_US while packets keep
# coming (napi_defer_hard_irqs), so that the sender does not wake it, else
# the sender wakes it for each batch. GRO on gives veth's receiving end a
# NAPI queue, and UDP GRO forwarding lets the peer's UDP datagrams use it
# (without it a sender with TSO hands them to the sending core's backlog);
# it merges nothing for a local socket that did not ask for GRO.
napi() {
	local in=() defer=0
	[[ -n ${4:-} ]] && in=(ip netns exec "$4")
	[[ $2 -gt 0 ]] && defer=1000
	"${in[@]}" ethtool -K "$3" gro on rx-udp-gro-forwarding on >/dev/null
	"${in[@]}" sh -c "echo 1 >/sys/class/net/$3/threaded &&
		echo $defer >/sys/class/net/$3/napi_defer_hard_irqs &&
		echo $(($2 * 1000)) >/sys/class/net/$3/gro_flush_timeout"
	local pid
	for pid in $(ps -eo pid=,comm= | awk -v c="napi/$3" 'index($2, c) == 1 { print $1 }'); do
		taskset -pc "$1" "$pid" >/dev/null
		printf 'fanout: NAPI thread %s of %s: %s\n' "$pid" "$3" "$(taskset -pc "$pid" | sed 's/.*: //') (cores)" >&2
	done
}
net_up() {
	netns=fanout-$$
	veth_server=fo$$s
	veth_load=fo$$l
	host=$VETH_NET.1
	ip netns add "$netns"
	ip link add "$veth_server" type veth peer name "$veth_load" netns "$netns"
	ip addr add "$host/24" dev "$veth_server"
	ip link set "$veth_server" up
	ip -n "$netns" addr add "$VETH_NET.2/24" dev "$veth_load"
	ip -n "$netns" link set "$veth_load" up
	ip -n "$netns" link set lo up
	load_ns=(ip netns exec "$netns")
}
case $NET in
lo) ;;
veth)
	if [[ $(id -u) != 0 ]] || ! command -v ip >/dev/null; then
		printf 'fanout: NET=veth needs root and ip (iproute2)\n' >&2
		exit 1
	fi
	case $VETH_STEER in
	napi | rps) ;;
	*)
		printf 'fanout: VETH_STEER=%s: napi or rps\n' "$VETH_STEER" >&2
		exit 1
		;;
	esac
	# Unpinned runs (PIN=0, read below) steer nothing, so need no ethtool.
	if [[ ${PIN:-1} != 0 && $VETH_STEER == napi ]] && ! command -v ethtool >/dev/null; then
		printf 'fanout: VETH_STEER=napi needs ethtool (or VETH_STEER=rps, or PIN=0)\n' >&2
		exit 1
	fi
	;;
*)
	printf 'fanout: NET=%s: lo or veth\n' "$NET" >&2
	exit 1
	;;
esac
# A signal (a measurement window's timeout) ends the script through its
# EXIT trap, which deletes the namespace.
trap 'exit 143' TERM
trap 'exit 130' INT
# netrx prints each core's NET_RX softirqs so far (/proc/softirqs), space-separated.
netrx() { awk '$1 == "NET_RX:" { $1 = ""; print substr($0, 2) }' /proc/softirqs; }
# --- end of NET ---

cleanup() {
	if declare -F other_work_stop >/dev/null; then
		other_work_stop
	fi
	net_down
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $LOGS ]]; then
		mkdir -p "$LOGS"
		cp "$work"/*.log "$LOGS"/ 2>/dev/null || true
		cp "$work"/perf.data "$work"/classroom "$LOGS"/ 2>/dev/null || true
	fi
	rm -rf "$work"
}
# The work directory is made once the options are checked: an early exit
# leaves nothing behind.
work=$(mktemp -d)
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

# Pinning.
server_pin=()
load_pin=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
	server_pin=(taskset -c 0)
	load_pin=(taskset -c 1)
	pinning="server on core 0, load generator on core 1 (taskset)"
elif ! command -v taskset >/dev/null; then
	pinning="unpinned: taskset (util-linux) is not installed"
else
	pinning="unpinned: fewer than two cores"
fi

# Unpinned runs, other work and no bare pion (PIN, OTHER_WORK, BARE).
PIN=${PIN:-1}
OTHER_WORK=${OTHER_WORK:-0}
BARE=${BARE:-1}
if [[ $PIN == 0 ]]; then
	server_pin=()
	load_pin=()
	pinning="unpinned (PIN=0): server and load generator free on all $(nproc) cores"
fi
# other_work_start starts OTHER_WORK busy loops; other_work_stop ends them.
# Their ids go to a file, since load runs in a subshell and cleanup must
# find them too.
other_work_start() {
	local i
	for ((i = 0; i < OTHER_WORK; i++)); do
		if [[ ${#server_pin[@]} -gt 0 ]]; then
			taskset -c $((i % $(nproc))) bash -c 'while :; do :; done' >/dev/null 2>&1 &
		else
			bash -c 'while :; do :; done' >/dev/null 2>&1 &
		fi
		echo $! >>"$work/other.pids"
	done
}
other_work_stop() {
	local p
	[[ -f $work/other.pids ]] || return 0
	while read -r p; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done <"$work/other.pids"
	rm -f "$work/other.pids"
}
SERVER_GOMAXPROCS=${SERVER_GOMAXPROCS:-}
if [[ -n $SERVER_GOMAXPROCS ]]; then
	pinning+="; classroom servers at GOMAXPROCS=$SERVER_GOMAXPROCS"
fi
if [[ $OTHER_WORK -gt 0 ]]; then
	pinning+="; other work: $OTHER_WORK busy loops at nice 0 during each run's load"
fi
say "fanout: $pinning"

# --- NET=veth: set up, receive processing on each end's own core ---
net_desc="loopback (the receivers' kernel work is charged to the sender's core)"
if [[ $NET == veth ]]; then
	net_up
	if [[ ${#server_pin[@]} -eq 0 ]]; then
		net_desc="veth pair to a namespace of the load generator's ($host), receive processing not steered (unpinned)"
	elif [[ $VETH_STEER == rps ]]; then
		rps 1 "$veth_server"        # the server's receive processing on core 0
		rps 2 "$veth_load" "$netns" # the load generator's on core 1
		net_desc="veth pair to a namespace of the load generator's ($host), RPS: server's end on core 0, load generator's on core 1"
	else
		# The server receives about a datagram for 40 it sends (the
		# publisher's, RTCP): its end's thread is woken for them, not
		# polling on the server's core.
		napi 0 0 "$veth_server"
		napi 1 "$VETH_POLL_US" "$veth_load" "$netns"
		net_desc="veth pair to a namespace of the load generator's ($host), threaded NAPI: the load generator's end on core 1 polling every $VETH_POLL_US µs, the server's end on core 0 woken by the sender"
	fi
fi
say "fanout: network: $net_desc"
# --- end of NET=veth ---

revision=
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
	revision="commit $(git rev-parse --short HEAD)"
	if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
		revision+=" with uncommitted changes"
	fi
fi
if [[ -n $BIN ]]; then
	# Nothing is built: the binaries are whatever revision built them.
	revision="binaries in $BIN (built beforehand; this checkout is not necessarily their source)"
	say "fanout: binaries from $BIN"
	for b in classroom mediaload barefanout; do
		cp "$BIN/$b" "$work/$b"
	done
else
	say "fanout: building into $work"
	go build -o "$work/classroom" ./cmd/classroom
	go build -o "$work/mediaload" ./cmd/mediaload
	go build -o "$work/barefanout" ./bench/barefanout
fi
if [[ -n $BEFORE ]]; then
	before_rev=$(git rev-parse --short "$BEFORE")
	if [[ -n $BIN ]]; then
		say "fanout: the classroom server of $before_rev as \"before\", from $BIN"
		cp "$BIN/classroom-before" "$BIN/mediaload-before" "$work/"
	else
		say "fanout: building the classroom server of $before_rev as \"before\""
		mkdir "$work/before-src"
		git archive "$before_rev" | tar -x -C "$work/before-src"
		# Its own load generator drives it: the protocol may have changed since.
		(cd "$work/before-src" && go build -o "$work/classroom-before" ./cmd/classroom &&
			go build -o "$work/mediaload-before" ./cmd/mediaload)
		rm -rf "$work/before-src"
	fi
	servers="classroom before bare"
fi

# port_free reports whether nothing listens on a TCP or UDP port of 127.0.0.1.
port_free() {
	local proto=$1 port=$2
	if command -v ss >/dev/null; then
		! ss -Hln --"$proto" "sport = :$port" | grep -q .
	elif [[ $proto == tcp ]]; then
		! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
	else
		true
	fi
}
for p in "tcp $HTTP_PORT" "tcp $BARE_PORT" "udp $MEDIA_PORT" "udp $TURN_PORT"; do
	# shellcheck disable=SC2086
	if ! port_free $p; then
		say "fanout: port $p is in use; set PORT_BASE to another range"
		exit 1
	fi
done

# stop_server ends the running server: SIGTERM, then SIGKILL after 30 s.
stop_server() {
	[[ -n $server_pid ]] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		say "fanout: server $server_pid did not stop in 30 s; killing it"
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# start_server NAME PORT COMMAND...: starts a server in the background, pinned,
# logging to $work/NAME.log, and waits for its HTTP port.
start_server() {
	local name=$1 port=$2
	shift 2
	"${server_pin[@]}" "$@" >"$work/$name.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			say "fanout: $name exited at start:"
			tail -5 "$work/$name.log" >&2
			return 1
		fi
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	say "fanout: $name does not listen on $port"
	return 1
}

# load NAME MODE PORT N [EXTRA...]: runs the load generator against the running
# server; its result line goes to stdout, its log to $work/load-NAME-N.log.
load() {
	local name=$1 mode=$2 port=$3 n=$4 gen=$work/mediaload
	shift 4
	if [[ $name == before ]]; then
		gen=$work/mediaload-before
	fi
	if [[ -n $JOIN_FOR ]]; then
		set -- -join-for "$JOIN_FOR" "$@"
	fi
	local rx0 rx1 status=0
	other_work_start
	rx0=$(netrx)
	"${load_ns[@]}" "${load_pin[@]}" "$gen" -mode "$mode" -server "http://$host:$port" -server-pid "$server_pid" \
		-n "$n" -duration "$DURATION" -ttff "$TTFF" -join-parallel "$JOIN_PARALLEL" -count-at "$COUNT_AT" -frame-bytes "$FRAME_BYTES" "$@" 2>"$work/load-$name-$n.log" || status=$?
	rx1=$(netrx)
	other_work_stop
	# load runs in a subshell ($(...)): the figures go to a file.
	awk -v a="$rx0" -v b="$rx1" 'BEGIN { n = split(a, x); split(b, y)
		for (i = 1; i <= n; i++) printf "%scpu%d %d", (i > 1 ? ", " : ""), i - 1, y[i] - x[i] }' >"$work/netrx-$name-$n"
	return $status
}

# problems NAME: counts the warnings and errors in a server's log, by message.
problems() {
	grep -E 'level=(WARN|ERROR)|ERROR:|WARNING:|panic' "$work/$1.log" |
		grep -v 'serving plain HTTP' |
		sed -E 's/^time=[^ ]+ //; s/[0-9]{4}\/[0-9]{2}\/[0-9]{2} [0-9:.]+ //; s/(ufrag |lesson=|participant=)[^ ]+/\1…/g' |
		sort | uniq -c | sort -rn | head -5 || true
}

declare -A results
# run_classroom N [EXTRA...]: the classroom server of this tree; run_before N:
# that of $BEFORE. Their results are keyed classroom-N and before-N.
run_classroom() { run_server classroom "$work/classroom" "$@"; }
run_before() { run_server before "$work/classroom-before" "$@"; }
run_server() {
	local name=$1 bin=$2 n=$3
	shift 3
	rm -rf "$work/data"
	mkdir "$work/data"
	start_server "$name-$n" "$HTTP_PORT" env DATABASE_URL= ${SERVER_GOMAXPROCS:+GOMAXPROCS=$SERVER_GOMAXPROCS} "$bin" serve -addr "$host:$HTTP_PORT" \
		-data "$work/data" -ice-loopback -media-udp-addr "$host:$MEDIA_PORT" -turn-addr "$host:$TURN_PORT" ||
		return 1
	local line
	if line=$(load "$name" classroom "$HTTP_PORT" "$n" "$@"); then
		results[$name-$n]=$line
		say "$line"
	else
		say "fanout: $name N=$n failed:"
		tail -5 "$work/load-$name-$n.log" >&2
		results[$name-$n]="failed"
	fi
	stop_server
}
run_bare() {
	local n=$1
	start_server "bare-$n" "$BARE_PORT" "$work/barefanout" -addr "$host:$BARE_PORT" || return 1
	local line
	if line=$(load bare bare "$BARE_PORT" "$n"); then
		results[bare-$n]=$line
		say "$line"
	else
		say "fanout: bare N=$n failed:"
		tail -5 "$work/load-bare-$n.log" >&2
		results[bare-$n]="failed"
	fi
	stop_server
}

if [[ $BARE == 0 ]]; then
	servers=${servers% bare}
fi
start=$(date +%s)
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $NS; do
	say "fanout: N=$n classroom"
	run_classroom "$n" || results[classroom-$n]="failed"
	if [[ -n $BEFORE ]]; then
		say "fanout: N=$n classroom before ($before_rev)"
		run_before "$n" || results[before-$n]="failed"
	fi
	if [[ $BARE != 0 ]]; then
		say "fanout: N=$n bare pion"
		run_bare "$n" || results[bare-$n]="failed"
	fi
done

# field KEY LINE: the value of KEY in a result line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# rows prints a table's rows, one a run of each server at each N: N, the
# server, then what the function $2 prints for the run's result line and N,
# or "failed" and empty cells, $1 columns in all.
rows() {
	local columns=$1 row=$2 n s line name
	for n in $NS; do
		for s in $servers; do
			line=${results[$s-$n]:-failed}
			name=$s
			[[ $s == bare ]] && name="bare pion"
			[[ $s == before ]] && name="classroom $before_rev"
			if [[ $line == failed ]]; then
				echo "| $n | $name | failed |$(printf ' |%.0s' $(seq $((columns - 3))))"
				continue
			fi
			echo "| $n | $name | $("$row" "$line" "$n")"
		done
	done
}

# throughput_row, loss_row and join_row RESULT N: a run's cells in each table.
throughput_row() {
	echo "$(field joined "$1")/$2 | $(field egress_pps "$1") | $(field server_cpu_pct "$1") |" \
		"$(field pkts_per_server_cpu_s "$1") | $(field server_cpu_pct_per_sub "$1") | $(field load_cpu_pct "$1") |" \
		"$(field other_cpu_pct "$1") |"
}
loss_row() {
	echo "$(field seq_loss_pct "$1") | $(field video_frame_loss_pct "$1") | $(field audio_loss_pct "$1") |" \
		"$(field stalls "$1") | $(field server_udp_drops "$1") / $(field load_udp_drops "$1") |" \
		"$(field load_sched_p99_ms "$1") / $(field load_sched_max_ms "$1") | $(field counted_at_socket_pct "$1") / $(field nacked_at_socket "$1") |"
}
join_row() {
	echo "$(field join_p50_ms "$1") / $(field join_p95_ms "$1") / $(field join_max_ms "$1") |" \
		"$(field join_server_udp_drops "$1") / $(field join_load_udp_drops "$1") |" \
		"$(field ttff_n "$1")/$TTFF | $(field ttff_p50_ms "$1") | $(field ttff_p95_ms "$1") | $(field ttff_max_ms "$1") |" \
		"$(field ttff_first_packet_p50_ms "$1") | $(field ttff_join_p50_ms "$1") | $(field first_not_keyframe "$1") |"
}

echo "## Machine"
echo
echo "- cores: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); kernel $(uname -r)"
echo "- $(go version | cut -d' ' -f3-); pion/webrtc $(go list -m -f '{{.Version}}' github.com/pion/webrtc/v4)"
if [[ -n $revision ]]; then
	echo "- code: $revision"
fi
if [[ -n $BEFORE ]]; then
	if [[ -n $BIN ]]; then
		echo "- \"before\": $BIN/classroom-before, said to be commit $before_rev (BEFORE)"
	else
		echo "- \"before\": the classroom server of commit $before_rev"
	fi
fi
echo "- subscribers count their tracks at the $COUNT_AT once begun (mediaload -count-at); video frames of $FRAME_BYTES bytes"
echo "- $pinning; window $DURATION; $TTFF timed joins after each window${JOIN_FOR:+; joins started for $JOIN_FOR at most}; $(($(date +%s) - start)) s in all"
echo "- load average before the runs: $loadavg_before (other work on the machine shows here)"
echo "- network: $net_desc"
echo
echo "## Raw results"
echo
for n in $NS; do
	for s in $servers; do
		echo "    $s ${results[$s-$n]:-failed}"
	done
done
echo
echo "## Fan-out: throughput and CPU"
echo
echo "| N | server | joined | egress pkt/s | server CPU % | pkt per server CPU-s | server CPU per subscriber (% of a core) | load CPU % | other CPU % |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
rows 9 throughput_row
echo
echo "## Fan-out: loss"
echo
echo "| N | server | seq loss % | video frames lost % | audio lost % | video stalls > 250 ms | datagrams dropped at server / load sockets | load goroutine wait p99 / max ms | packets counted at the socket % / asked again there |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
rows 9 loss_row
echo
echo "## Joining, and time to first frame"
echo
echo "The N subscribers join $JOIN_PARALLEL at a time; then $TTFF more join one after another, with N present, and are timed"
echo "from the start of their join to their first complete keyframe."
echo
echo "| N | server | N joins p50 / p95 / max ms | dropped at server / load sockets while joining | timed | first frame p50 ms | p95 ms | max ms | first packet p50 ms | join call p50 ms | first video packet not a keyframe (of N) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
rows 11 join_row
echo
echo "## Receive processing per core (NET_RX softirqs during each run's load, /proc/softirqs)"
echo
for n in $NS; do
	for s in $servers; do
		echo "    $s N=$n: $(cat "$work/netrx-$s-$n" 2>/dev/null)"
	done
done
echo
echo "## Warnings and errors in the servers' logs"
echo
for n in $NS; do
	for s in $servers; do
		[[ -f $work/$s-$n.log ]] || continue
		p=$(problems "$s-$n")
		if [[ -n $p ]]; then
			printf '%s N=%s:\n%s\n' "$s" "$n" "$p"
		fi
	done
done

if [[ -n $PROFILE_N ]]; then
	echo
	echo "## CPU profile of the classroom server, N=$PROFILE_N"
	echo
	if command -v perf >/dev/null; then
		run_classroom "$PROFILE_N" -ttff 0 -perf "$work/perf.data" || true
		echo "    ${results[classroom-$PROFILE_N]:-failed}"
		echo "    NET_RX softirqs per core: $(cat "$work/netrx-classroom-$PROFILE_N" 2>/dev/null)"
		echo
		if [[ -f $work/perf.data ]]; then
			# awk reads perf's whole output: head would end the pipe early and
			# fail the pipeline.
			echo "Self time, top 30:"
			echo
			perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
				awk '/^ +[0-9]/ && n++ < 30 { print "    " $0 }'
			echo
			echo "Time with callees, top 40:"
			echo
			perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
				awk '/^ +[0-9]/ && n++ < 40 { print "    " $0 }'
		fi
	else
		echo "perf is not installed: no profile."
	fi
fi
