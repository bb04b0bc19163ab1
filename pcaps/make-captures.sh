#!/usr/bin/env bash
# make-captures.sh -- regenerate pktlab's own capture files from real Linux traffic.
#
# Usage (as root):   sudo pcaps/make-captures.sh [NAME ...]
#   NAME is any of: http-get dns-udp arp-icmp tcp-lossy-bulk ipv6-nd (default: all five).
#   PKTLAB_PCAP_DIR=DIR writes the files somewhere else (default: this script's folder).
#
# Every capture is made the same way: fresh network namespaces joined by veth pairs, real
# programs (python3 -m http.server, curl, dig, ping, the kernel's own ARP/ND/ICMP and TCP)
# talking to each other, and tcpdump -s 0 -U -w on one veth end. Nothing leaves the machine:
#   * addresses come only from 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32
#     (RFC 3849 documentation); no namespace has a default route;
#   * every server and helper has a bounded lifetime (timeout / --lifetime), every wait loop
#     a bounded number of tries;
#   * an EXIT trap kills the processes this script started (by pid) and deletes the
#     namespaces it created, which removes their veths too.
# Veth offloads are switched off (ethtool -K ... tx off rx off tso off gso off gro off) so
# the frames carry real checksums and are never larger than the MTU.
#
# Deterministic as far as Linux allows: fixed MAC addresses (so IPv6 link-local addresses are
# fixed too), fixed client ports, a fixed served file, a seeded loss pattern. What stays
# different between runs: timestamps, TCP initial sequence numbers and timestamp offsets,
# DNS query ids, ping ids, HTTP Date headers -- and which frames the lossy bridge sees in
# which order, so the retransmissions of tcp-lossy-bulk differ in detail.
#
# Needs: iproute2, tcpdump, ethtool, curl, dig (bind9-dnsutils), ping (iputils-ping), python3.
# Missing tools are installed with apt-get when it is available.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${PKTLAB_PCAP_DIR:-$HERE}
TOOLS=$HERE/tools
PREFIX=pktlab-cap-          # every namespace this script makes starts with this
ALL=(http-get dns-udp arp-icmp tcp-lossy-bulk ipv6-nd)

NAMESPACES=()
PIDS=()
WORK=""

log() { printf '%s\n' "make-captures: $*" >&2; }

cleanup() {
    local pid ns
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    NAMESPACES=()
    if [[ -n $WORK && -d $WORK ]]; then
        rm -rf -- "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_tools() {
    local missing=() pair
    for pair in ip:iproute2 tcpdump:tcpdump ethtool:ethtool curl:curl dig:bind9-dnsutils \
                ping:iputils-ping timeout:coreutils python3:python3; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || { log "missing: ${missing[*]}"; exit 1; }
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

# --- namespaces and links ----------------------------------------------------------------

# ns_add NAME [ipv6]: a namespace with loopback up; IPv6 off unless asked for, so the IPv4
# captures carry no MLD or router solicitations.
ns_add() {
    local ns=$PREFIX$1
    ip netns del "$ns" 2>/dev/null || true  # a leftover of an interrupted run of this script
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    if [[ ${2:-} == ipv6 ]]; then
        # No DAD (no delay before addresses work) and no router solicitations at random times.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
    else
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
            net.ipv6.conf.all.disable_ipv6=1
    fi
}

# veth NS1 IF1 MAC1 NS2 IF2 MAC2: a veth pair between two namespaces, offloads off, up.
veth() {
    local ns1=$PREFIX$1 if1=$2 mac1=$3 ns2=$PREFIX$4 if2=$5 mac2=$6 ns ifname pair
    ip -n "$ns1" link add "$if1" address "$mac1" type veth \
        peer name "$if2" address "$mac2" netns "$ns2"
    for pair in "$ns1:$if1" "$ns2:$if2"; do
        ns=${pair%%:*} ifname=${pair#*:}
        ip netns exec "$ns" ethtool -K "$ifname" tx off rx off tso off gso off gro off \
            >/dev/null 2>&1 || true
        ip -n "$ns" link set "$ifname" up
    done
}

in_ns() { local ns=$PREFIX$1; shift; ip netns exec "$ns" "$@"; }

# background NS CMD...: run a command in a namespace in the background and remember its pid.
background() {
    local ns=$PREFIX$1; shift
    ip netns exec "$ns" "$@" >>"$WORK/background.log" 2>&1 &
    PIDS+=("$!")
}

# wait_listen NS PROTO PORT: up to 5 s for a socket to listen (no traffic sent to find out).
wait_listen() {
    local flag=-ltn i
    [[ $2 == udp ]] && flag=-lun
    for i in $(seq 50); do
        if in_ns "$1" ss -H "$flag" "sport = :$3" | grep -q .; then return 0; fi
        sleep 0.1
    done
    log "nothing listening on $2 port $3 in $1"
    exit 1
}

# --- capturing ---------------------------------------------------------------------------

CAPTURE_PID=""
CAPTURE_TMP=""
CAPTURE_FILE=""

# capture_start NS IF FILE [FILTER...]: tcpdump on one veth end, returns once it listens.
capture_start() {
    local ns=$1 ifname=$2 i
    CAPTURE_FILE=$3
    shift 3
    CAPTURE_TMP=$WORK/$(basename "$CAPTURE_FILE")
    # Started directly, not through a shell function, so $! is tcpdump itself.
    ip netns exec "$PREFIX$ns" tcpdump -i "$ifname" -s 0 -U --immediate-mode -n -Z root -w "$CAPTURE_TMP" "$@" \
        2>"$CAPTURE_TMP.log" &
    CAPTURE_PID=$!
    PIDS+=("$CAPTURE_PID")
    for i in $(seq 100); do
        grep -q "listening on" "$CAPTURE_TMP.log" 2>/dev/null && return 0
        sleep 0.05
    done
    log "tcpdump did not start: $(cat "$CAPTURE_TMP.log")"
    exit 1
}

# capture_stop: let the last frames arrive, stop tcpdump, move the file into place.
capture_stop() {
    sleep "${1:-0.5}"
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" 2>/dev/null || true
    mv -f -- "$CAPTURE_TMP" "$CAPTURE_FILE"
    chmod 0644 "$CAPTURE_FILE"
    log "$(basename "$CAPTURE_FILE"): $(tcpdump -n -r "$CAPTURE_FILE" 2>/dev/null | wc -l) frames, $(stat -c %s "$CAPTURE_FILE") bytes"
}

# end_scenario: stop what the scenario started and delete its namespaces.
end_scenario() { cleanup; WORK=$(mktemp -d); }

# --- the scenarios -----------------------------------------------------------------------

# Two hosts on one link: server 198.18.0.1 and client 198.18.0.2.
two_hosts() {
    ns_add srv "${1:-}"
    ns_add cli "${1:-}"
    veth srv veth-srv 02:70:6b:00:00:01 cli veth-cli 02:70:6b:00:00:02
}

http_get() {
    two_hosts
    in_ns srv ip addr add 198.18.0.1/24 dev veth-srv
    in_ns cli ip addr add 198.18.0.2/24 dev veth-cli
    mkdir -p "$WORK/www"
    {
        echo "pktlab test page"
        echo
        for i in $(seq 1 8); do
            echo "line $i: this file is served by python3 -m http.server to curl in a netns"
        done
    } >"$WORK/www/pktlab.txt"
    background srv timeout 20 python3 -m http.server 80 --bind 198.18.0.1 \
        --directory "$WORK/www" --protocol HTTP/1.1
    wait_listen srv tcp 80
    capture_start cli veth-cli "$OUT/http-get.pcap" tcp port 80
    in_ns cli curl -sS --http1.1 --local-port 40080 --max-time 10 -o /dev/null \
        http://198.18.0.1/pktlab.txt
    capture_stop
    end_scenario
}

dns_udp() {
    two_hosts
    in_ns srv ip addr add 198.18.0.1/24 dev veth-srv
    in_ns cli ip addr add 198.18.0.2/24 dev veth-cli
    background srv timeout 30 python3 "$TOOLS/dns_responder.py" --address 198.18.0.1 \
        --lifetime 25 --max-queries 50
    wait_listen srv udp 53
    capture_start cli veth-cli "$OUT/dns-udp.pcap" udp port 53
    local port=40053 query
    # name type [dig options]: each query from its own fixed client port.
    while read -r query; do
        # shellcheck disable=SC2086  # the options are meant to split
        in_ns cli dig @198.18.0.1 -b "198.18.0.2#$port" +tries=1 +time=2 +nocookie \
            $query >/dev/null || true
        port=$((port + 1))
    done <<'QUERIES'
www.lab.test A
www.lab.test AAAA
alias.lab.test A
web.lab.test A +noedns
lab.test NS
lab.test SOA
a-rather-long-label-to-see-compression-pay-off.deep.sub.lab.test A
WwW.LaB.TeSt A
missing.lab.test A
web.lab.test CNAME
example.org A +norecurse
QUERIES
    capture_stop
    end_scenario
}

arp_icmp() {
    # a (198.18.1.2) -- r (198.18.1.1 | 198.18.2.1, forwarding) -- b (198.18.2.2)
    ns_add a
    ns_add r
    ns_add b
    veth a veth-a 02:70:6b:00:01:02 r veth-ra 02:70:6b:00:01:01
    veth r veth-rb 02:70:6b:00:02:01 b veth-b 02:70:6b:00:02:02
    in_ns a ip addr add 198.18.1.2/24 dev veth-a
    in_ns r ip addr add 198.18.1.1/24 dev veth-ra
    in_ns r ip addr add 198.18.2.1/24 dev veth-rb
    in_ns b ip addr add 198.18.2.2/24 dev veth-b
    in_ns a ip route add 198.18.2.0/24 via 198.18.1.1   # specific routes only, no default
    in_ns b ip route add 198.18.1.0/24 via 198.18.2.1
    in_ns r sysctl -qw net.ipv4.ip_forward=1
    local ns
    for ns in a r b; do in_ns "$ns" ip neigh flush all; done
    capture_start a veth-a "$OUT/arp-icmp.pcap"
    # 1. ARP resolution of the router, then three echoes on the link.
    in_ns a ping -n -c 3 -i 0.2 -W 1 198.18.1.1 >/dev/null
    # 2. A UDP datagram to a closed port: ICMP destination unreachable, port unreachable.
    in_ns a python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.1.2", 40000))
s.sendto(b"pktlab probe to a closed port", ("198.18.1.1", 33434))
s.settimeout(1)
try:
    s.recv(100)
except OSError:
    pass
'
    sleep 0.2
    # 3. TTL 1 through the router: ICMP time exceeded in transit.
    in_ns a ping -n -c 1 -t 1 -W 1 198.18.2.2 >/dev/null || true
    # 4. Two routed echoes to the host behind the router (replies arrive with TTL 63).
    in_ns a ping -n -c 2 -i 0.2 -W 1 198.18.2.2 >/dev/null
    capture_stop
    end_scenario
}

tcp_lossy_bulk() {
    # snd (198.18.0.1, HTTP server) -- mid (lossy_bridge.py, no addresses) -- rcv (198.18.0.2)
    ns_add snd
    ns_add mid
    ns_add rcv
    veth snd veth-s 02:70:6b:00:03:01 mid veth-ms 02:70:6b:00:03:11
    veth mid veth-mr 02:70:6b:00:03:12 rcv veth-r 02:70:6b:00:03:02
    in_ns mid ip link set veth-ms promisc on
    in_ns mid ip link set veth-mr promisc on
    in_ns snd ip addr add 198.18.0.1/24 dev veth-s
    in_ns rcv ip addr add 198.18.0.2/24 dev veth-r
    mkdir -p "$WORK/www"
    python3 - "$WORK/www/bulk.bin" <<'PY'
import sys
# 300,000 bytes of fixed text: the same payload on every run.
lines = b"".join(b"pktlab bulk transfer line %06d of a fixed 300 kB body\n" % n
                 for n in range(6000))
open(sys.argv[1], "wb").write(lines[:300_000])
PY
    background mid timeout 40 python3 "$TOOLS/lossy_bridge.py" veth-ms veth-mr \
        --loss 0.03 --seed 3 --lifetime 35
    local bridge=$!
    background snd timeout 40 python3 -m http.server 80 --bind 198.18.0.1 \
        --directory "$WORK/www" --protocol HTTP/1.1
    wait_listen snd tcp 80
    sleep 0.3  # the bridge's sockets are bound by now (it prints once they are)
    capture_start rcv veth-r "$OUT/tcp-lossy-bulk.pcap" tcp port 80
    in_ns rcv curl -sS --http1.1 --local-port 40081 --max-time 30 -o /dev/null \
        http://198.18.0.1/bulk.bin
    capture_stop 1
    kill -TERM "$bridge" 2>/dev/null || true
    wait "$bridge" 2>/dev/null || true
    log "$(grep -h 'lossy_bridge: forwarded' "$WORK/background.log" || true)"
    end_scenario
}

ipv6_nd() {
    two_hosts ipv6
    # Let link-local setup and its MLD reports finish before capturing (about 2 s).
    sleep 2.5
    capture_start cli veth-cli "$OUT/ipv6-nd.pcap" ip6
    # Global addresses added while capturing: the kernel joins their solicited-node groups
    # and says so in MLDv2 reports (with a hop-by-hop Router Alert option).
    in_ns srv ip -6 addr add 2001:db8::1/64 dev veth-srv nodad
    in_ns cli ip -6 addr add 2001:db8::2/64 dev veth-cli nodad
    sleep 0.3
    # A router advertisement from the server's link-local address (router lifetime 0).
    in_ns srv python3 "$TOOLS/ra_sender.py" veth-srv --count 1
    sleep 0.2
    in_ns srv ip -6 neigh flush all
    in_ns cli ip -6 neigh flush all
    # Neighbour solicitation and advertisement, then ICMPv6 echo.
    in_ns srv ping -6 -n -c 3 -i 0.2 -W 1 2001:db8::2 >/dev/null
    capture_stop 1.5
    end_scenario
}

main() {
    if ((EUID != 0)); then
        log "must run as root (it creates network namespaces)"
        exit 1
    fi
    need_tools
    local names=("$@") name
    ((${#names[@]})) || names=("${ALL[@]}")
    for name in "${names[@]}"; do
        case $name in
            http-get | dns-udp | arp-icmp | tcp-lossy-bulk | ipv6-nd) ;;
            *) log "unknown capture $name (known: ${ALL[*]})"; exit 2 ;;
        esac
    done
    mkdir -p "$OUT"
    WORK=$(mktemp -d)
    for name in "${names[@]}"; do
        log "making $name.pcap"
        "${name//-/_}"
    done
}

main "$@"
