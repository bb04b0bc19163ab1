"""A user-space Ethernet bridge that drops a seeded fraction of TCP data frames one way.

This kernel has no netem qdisc, so tcp-lossy-bulk.pcap gets its packet loss from this script
instead: it runs in a middle network namespace between two veth ends, reads every frame that
arrives on each with an AF_PACKET raw socket and writes it out of the other, and drops a
seeded random share of the IPv4 TCP frames that carry payload in one direction. ARP, pure ACKs,
SYNs and FINs without data are never dropped, so the connection always gets established and
torn down and only the data needs repairing -- by the real Linux TCP stacks at either end.

Standard library only. It exits after ``--lifetime`` seconds, or earlier on SIGTERM/SIGINT,
and prints what it forwarded and dropped.
"""

from __future__ import annotations

import argparse
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # sll_pkttype of frames this host sends: our own writes, never forward them
ETHERTYPE_IPV4 = 0x0800
IPPROTO_TCP = 6


def tcp_payload_length(frame: bytes) -> int:
    """Bytes of TCP payload in an untagged Ethernet/IPv4 frame, or 0 for anything else."""
    if len(frame) < 14 + 20 or int.from_bytes(frame[12:14], "big") != ETHERTYPE_IPV4:
        return 0
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != IPPROTO_TCP or len(ip) < ihl + 20:
        return 0
    total = int.from_bytes(ip[2:4], "big")
    tcp_header = (ip[ihl + 12] >> 4) * 4
    return max(0, total - ihl - tcp_header)


def open_port(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((name, 0))
    sock.setblocking(False)
    return sock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("left", help="interface on the sender's side")
    parser.add_argument("right", help="interface on the receiver's side")
    parser.add_argument("--loss", type=float, default=0.03,
                        help="share of left-to-right TCP data frames dropped")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()

    stop = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    chance = random.Random(args.seed)
    left, right = open_port(args.left), open_port(args.right)
    peer = {left: right, right: left}
    forwarded = dropped = 0
    deadline = time.monotonic() + args.lifetime
    print(f"lossy_bridge: {args.left} <-> {args.right}, dropping {args.loss:.1%} of "
          f"{args.left}->{args.right} TCP data (seed {args.seed})", flush=True)
    while not stop:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            ready, _, _ = select.select([left, right], [], [], min(remaining, 0.5))
        except InterruptedError:
            continue
        for sock in ready:
            for _ in range(64):  # drain a burst, bounded so the other side is not starved
                try:
                    frame, address = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue
                if (sock is left and tcp_payload_length(frame) > 0
                        and chance.random() < args.loss):
                    dropped += 1
                    continue
                try:
                    peer[sock].send(frame)
                    forwarded += 1
                except OSError:
                    dropped += 1  # the far end went away or its queue is full: a loss too
    left.close()
    right.close()
    print(f"lossy_bridge: forwarded {forwarded}, dropped {dropped}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
