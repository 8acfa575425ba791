#!/usr/bin/env bash
# How often the classroom server's threads wake while it forwards one
# publisher (~1.5 Mbps VP8 + Opus) to N subscribers: each thread's voluntary
# context switches (it slept: epoll, futex, nanosleep), involuntary ones (it
# was preempted) and CPU, read from /proc over 10 s of the load window. Go's
# sysmon is one of those threads; on a virtual machine each wake-up is a
# costly exit, so a change that moves these numbers can move the server's
# CPU more than its own work explains. The server runs on core 0, the load
# generator (cmd/mediaload) on core 1, as in bench/fanout.sh.
#
# Usage: bench/wakeups.sh [SERVER_BINARY...]
#
# Environment (all optional):
#   N=400            subscribers
#   BIN=             a directory holding mediaload (and the servers, when the
#                    arguments are bare names); without it both are built
#   PORT_BASE=29080  HTTP; +802 media UDP, +398 TURN UDP (MEDIA_PORT=, TURN_PORT=
#                    set them apart)
#   RUNS=1           runs of each server, alternating
#
# With no argument it builds and measures this checkout's server. Prints a
# line a run: the threads' totals and the three busiest threads.
set -euo pipefail

cd "$(dirname "$0")/.."

N=${N:-400}
BIN=${BIN:-}
PORT_BASE=${PORT_BASE:-29080}
RUNS=${RUNS:-1}
host=127.0.0.1
HTTP_PORT=$PORT_BASE
MEDIA_PORT=${MEDIA_PORT:-$((PORT_BASE + 802))}
TURN_PORT=${TURN_PORT:-$((PORT_BASE + 398))}

work=$(mktemp -d)
server_pid= load_pid=
cleanup() {
	local p
	for p in $load_pid $server_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

if [[ $(nproc) -lt 2 ]] || ! command -v taskset >/dev/null; then
	echo "wakeups: needs two cores and taskset (util-linux): the server and the load generator each on one" >&2
	exit 1
fi

gen=$work/mediaload
servers=()
if [[ -n $BIN ]]; then
	gen=$BIN/mediaload
	for s in "${@:-classroom}"; do
		[[ $s == */* ]] || s=$BIN/$s
		servers+=("$s")
	done
else
	go build -o "$work/mediaload" ./cmd/mediaload
	if [[ $# -eq 0 ]]; then
		go build -o "$work/classroom" ./cmd/classroom
		servers=("$work/classroom")
	else
		servers=("$@")
	fi
fi

# threads PID: one line a thread: tid, voluntary and involuntary context
# switches, CPU ticks (user + system).
threads() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "${t##*/} $(awk '/^voluntary_ctxt/ { v = $2 } /^nonvoluntary_ctxt/ { n = $2 } END { print v, n }' "$t/status") \
$(awk '{ print $14 + $15 }' "$t/stat")"
	done 2>/dev/null | sort
}

measure() {
	local bin=$1
	rm -rf "$work/data" && mkdir "$work/data"
	taskset -c 0 env DATABASE_URL= "$bin" serve -addr "$host:$HTTP_PORT" -data "$work/data" -ice-loopback \
		-media-udp-addr "$host:$MEDIA_PORT" -turn-addr "$host:$TURN_PORT" >"$work/server.log" 2>&1 &
	server_pid=$!
	local i
	for i in $(seq 100); do
		curl -sf -o /dev/null "http://$host:$HTTP_PORT/" && break
		sleep 0.1
	done
	taskset -c 1 "$gen" -mode classroom -server "http://$host:$HTTP_PORT" -server-pid "$server_pid" -n "$N" \
		-duration 20s -ttff 0 -json >"$work/result.json" 2>"$work/load.log" &
	load_pid=$!
	# The load generator's window begins 2 s after every subscriber
	# receives; the threads are read 5 s and 15 s after that.
	until grep -q 'msg=receiving' "$work/load.log" 2>/dev/null; do
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.2
	done
	sleep 5
	threads "$server_pid" >"$work/a"
	sleep 10
	threads "$server_pid" >"$work/b"
	local status=0
	wait "$load_pid" || status=$?
	load_pid=
	if ((status != 0)); then
		echo "wakeups: the load generator failed:" >&2
		tail -5 "$work/load.log" >&2
		return 1
	fi
	kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
	server_pid=
	join "$work/a" "$work/b" | awk -v bin="${bin##*/}" -v hz="$(getconf CLK_TCK)" -v res="$(tr -d '\n' <"$work/result.json")" '
		{ v = ($5 - $2) / 10; n = ($6 - $3) / 10; c = ($7 - $4) / 10 * 100 / hz
		  tv += v; tn += n; tc += c; line[NR] = sprintf("%.0f/%.0f/%.0f%%", v, n, c); key[NR] = v + n }
		END {
			match(res, /"server_cpu_pct":[0-9.]+/); cpu = substr(res, RSTART + 17, RLENGTH - 17)
			match(res, /"seq_loss_pct":[0-9.]+/); loss = substr(res, RSTART + 15, RLENGTH - 15)
			printf "%s N=%d: server CPU %.1f %%, loss %s %%; threads: %.0f voluntary and %.0f involuntary switches/s, CPU %.1f %%; busiest (voluntary/involuntary/CPU):",
				bin, '"$N"', cpu, loss, tv, tn, tc
			for (k = 0; k < 3; k++) { best = 0
				for (i in key) if (!(i in used) && (best == 0 || key[i] > key[best])) best = i
				if (best) { used[best] = 1; printf " %s", line[best] } }
			print ""
		}'
}

for r in $(seq "$RUNS"); do
	for s in "${servers[@]}"; do
		measure "$s"
	done
done
