#!/usr/bin/env bash
# Two classroom servers measured at the same time: for each pair A:B of
# directories of binaries (as bench/fanout.sh's BIN: classroom, mediaload,
# barefanout), A's server and B's each forward one publisher to N
# subscribers of their own load generator, both windows running together;
# the servers share core 0 and the load generators core 1 (bench/fanout.sh
# pins each so). Whatever slows the machine within a window (the host's
# clock, its other guests) then slows both alike, where two runs one after
# the other can differ by a third on this kind of machine; so a difference
# of a few percent between two builds shows in a few pairs. Run a pair
# both ways round (A:B, then B:A): the two positions are not quite alike
# (their ports, which starts first); and A:A shows the method's own spread.
#
# Usage: bench/together.sh A:B [A:B...]
#
# Environment (all optional):
#   N=200                subscribers of each server
#   DURATION=20s         measurement window
#   PORT_BASE=28080      A's HTTP; A's media UDP and TURN UDP are MEDIA_PORT and
#   MEDIA_PORT=, TURN_PORT=  TURN_PORT, by default PORT_BASE+802 and +398; B's
#                        three are A's + 20
#   LOGS=                a directory each run's whole bench/fanout.sh output goes to
#
# Prints a line a pair: each side's packets per server CPU-second, loss and
# stalls, and B's figure over A's.
set -euo pipefail

cd "$(dirname "$0")/.."

N=${N:-200}
DURATION=${DURATION:-20s}
PORT_BASE=${PORT_BASE:-28080}
MEDIA_PORT=${MEDIA_PORT:-$((PORT_BASE + 802))}
TURN_PORT=${TURN_PORT:-$((PORT_BASE + 398))}
LOGS=${LOGS:-}

if [[ $# -eq 0 ]]; then
	echo "usage: bench/together.sh A:B [A:B...] (directories of binaries)" >&2
	exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# field NAME FILE: the value of NAME= in the run's result line.
field() { grep -m1 -oE "(^| )$1=[^ ]+" "$2" | cut -d= -f2; }

echo "# bench/together.sh: N=$N, window $DURATION, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC"
i=0
for pair in "$@"; do
	i=$((i + 1))
	a=${pair%%:*} b=${pair#*:}
	env BIN="$a" NS="$N" DURATION="$DURATION" TTFF=0 BARE=0 PORT_BASE="$PORT_BASE" MEDIA_PORT="$MEDIA_PORT" \
		TURN_PORT="$TURN_PORT" bench/fanout.sh >"$work/a$i" 2>&1 &
	pa=$!
	env BIN="$b" NS="$N" DURATION="$DURATION" TTFF=0 BARE=0 PORT_BASE=$((PORT_BASE + 20)) \
		MEDIA_PORT=$((MEDIA_PORT + 20)) TURN_PORT=$((TURN_PORT + 20)) bench/fanout.sh >"$work/b$i" 2>&1 &
	pb=$!
	wait "$pa" "$pb" || true
	if [[ -n $LOGS ]]; then
		mkdir -p "$LOGS"
		cp "$work/a$i" "$LOGS/pair$i-a.txt"
		cp "$work/b$i" "$LOGS/pair$i-b.txt"
	fi
	ka=$(field pkts_per_server_cpu_s "$work/a$i" || true)
	kb=$(field pkts_per_server_cpu_s "$work/b$i" || true)
	printf 'pair %d  A %s: %s pkt/CPU-s, loss %s %%, stalls %s  B %s: %s pkt/CPU-s, loss %s %%, stalls %s  B/A %s\n' "$i" \
		"$a" "${ka:-failed}" "$(field seq_loss_pct "$work/a$i" || true)" "$(field stalls "$work/a$i" || true)" \
		"$b" "${kb:-failed}" "$(field seq_loss_pct "$work/b$i" || true)" "$(field stalls "$work/b$i" || true)" \
		"$(if [[ -n $ka && -n $kb ]]; then awk -v a="$ka" -v b="$kb" 'BEGIN { printf "%.3f", b / a }'; else echo -; fi)"
done
