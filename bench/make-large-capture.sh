#!/usr/bin/env bash
# make-large-capture.sh -- a large capture of real Linux traffic, for pktlab's benchmarks.
#
# Usage (as root):   bench/make-large-capture.sh OUT.pcap [PACKETS]
#   PACKETS defaults to 600000. The file is about 1.1 kB a packet (0.6-0.7 GB for the
#   default): write it outside the repository (e.g. /tmp/pktlab-large.pcap) and never commit it.
#
# Two network namespaces joined by a veth pair (offloads off, so every frame is MTU-sized and
# carries a real checksum); in them, for as long as tcpdump -c PACKETS needs:
#   * four concurrent curl loops downloading a 16 MiB file from python3 -m http.server, each
#     rate-limited so tcpdump keeps up on a 2-core machine (no frames dropped by the kernel);
#   * DNS queries from dig to pcaps/tools/dns_responder.py;
#   * ICMP echo (ping) every 10 ms.
# Takes under a minute for the default on a 2-core machine and stops by itself after at most
# MAX_SECONDS (default 170) whatever happens, printing packets and bytes at the end.
#
# Safety, as in pcaps/make-captures.sh: only 198.18.0.0/15 addresses, no default route,
# bounded loops, an EXIT trap that kills what it started (by pid) and deletes its namespaces.

set -euo pipefail

if (($# < 1)); then
    echo "usage: $0 OUT.pcap [PACKETS]" >&2
    exit 2
fi
OUT=$1
PACKETS=${2:-600000}
MAX_SECONDS=${MAX_SECONDS:-170}
RATE=${RATE:-12M}      # per download, bytes per second (curl --limit-rate)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DNS_RESPONDER=$HERE/../pcaps/tools/dns_responder.py
SRV=pktlab-big-srv
CLI=pktlab-big-cli

if ((EUID != 0)); then
    echo "make-large-capture: must run as root (it creates network namespaces)" >&2
    exit 1
fi
for tool in ip tcpdump ethtool curl dig ping python3 timeout; do
    command -v "$tool" >/dev/null || { echo "make-large-capture: needs $tool" >&2; exit 1; }
done

PIDS=()
WORK=$(mktemp -d)
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$SRV" 2>/dev/null || true
    ip netns del "$CLI" 2>/dev/null || true
    rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s.%N)
for ns in "$SRV" "$CLI"; do
    ip netns del "$ns" 2>/dev/null || true  # a leftover of an interrupted run of this script
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$SRV" link add veth-bsrv address 02:70:6b:00:10:01 type veth \
    peer name veth-bcli address 02:70:6b:00:10:02 netns "$CLI"
ip netns exec "$SRV" ethtool -K veth-bsrv tx off rx off tso off gso off gro off >/dev/null
ip netns exec "$CLI" ethtool -K veth-bcli tx off rx off tso off gso off gro off >/dev/null
ip -n "$SRV" addr add 198.18.0.1/24 dev veth-bsrv
ip -n "$CLI" addr add 198.18.0.2/24 dev veth-bcli
ip -n "$SRV" link set veth-bsrv up
ip -n "$CLI" link set veth-bcli up

mkdir -p "$WORK/www"
python3 - "$WORK/www/bulk.bin" <<'PY'
import sys
line = b"pktlab large-capture body: a fixed line of text repeated to 16 MiB\n"
with open(sys.argv[1], "wb") as out:
    out.write((line * (16 * 2**20 // len(line) + 1))[:16 * 2**20])
PY

background() {  # background NS CMD...: start a bounded helper and remember its pid
    local ns=$1; shift
    ip netns exec "$ns" timeout "$((MAX_SECONDS + 10))" "$@" >>"$WORK/helpers.log" 2>&1 &
    PIDS+=("$!")
}
background "$SRV" python3 -m http.server 80 --bind 198.18.0.1 --directory "$WORK/www" \
    --protocol HTTP/1.1
background "$SRV" python3 "$DNS_RESPONDER" --address 198.18.0.1 --lifetime "$MAX_SECONDS" \
    --max-queries 100000
for _ in $(seq 50); do
    ip netns exec "$SRV" ss -Hltn "sport = :80" | grep -q . && break
    sleep 0.1
done

ip netns exec "$CLI" timeout "$MAX_SECONDS" tcpdump -i veth-bcli -s 0 -B 65536 -n -Z root \
    -c "$PACKETS" -w "$OUT" 2>"$WORK/tcpdump.log" &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 100); do
    grep -q "listening on" "$WORK/tcpdump.log" && break
    sleep 0.05
done

deadline=$(($(date +%s) + MAX_SECONDS))
# shellcheck disable=SC2016  # the loops below expand their own arguments
for n in 1 2 3 4; do
    background "$CLI" bash -c '
        deadline=$1 rate=$2
        while (($(date +%s) < deadline)); do
            curl -s --http1.1 --limit-rate "$rate" --max-time 60 -o /dev/null \
                http://198.18.0.1/bulk.bin || sleep 0.1
        done' "download-$n" "$deadline" "$RATE"
done
# shellcheck disable=SC2016
background "$CLI" bash -c '
    deadline=$1 i=0
    while (($(date +%s) < deadline)); do
        i=$((i + 1))
        case $((i % 4)) in
            0) q="www.lab.test A" ;; 1) q="web.lab.test AAAA" ;;
            2) q="missing.lab.test A" ;; 3) q="lab.test SOA" ;;
        esac
        dig @198.18.0.1 +tries=1 +time=1 +nocookie $q >/dev/null || true
        sleep 0.02
    done' dns "$deadline"
background "$CLI" ping -n -q -i 0.01 -w "$MAX_SECONDS" 198.18.0.1

wait "$TCPDUMP" || true
elapsed=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" \
    "$started")
grep -E "packets (captured|received|dropped)" "$WORK/tcpdump.log" >&2 || true
captured=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$WORK/tcpdump.log")
bytes=$(stat -c %s "$OUT")
echo "make-large-capture: $OUT: ${captured:-?} packets, $bytes bytes, ${elapsed} s"
if [[ ${captured:-0} -lt $PACKETS ]]; then
    echo "make-large-capture: stopped after $MAX_SECONDS s with fewer packets than asked" >&2
    exit 1
fi
