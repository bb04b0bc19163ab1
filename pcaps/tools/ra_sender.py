"""Send IPv6 Router Advertisements (RFC 4861 section 4.2) from a link-local address.

Used by make-captures.sh so ipv6-nd.pcap shows a real RA next to neighbour solicitation and
advertisement. The advertisement says "I am not a default router" (router lifetime 0), so the
receiving host adds no default route; it carries the source link-layer address, MTU and an
on-link prefix-information option for 2001:db8::/64 (autonomous flag clear: no SLAAC address).

The kernel fills in the ICMPv6 checksum of a raw IPPROTO_ICMPV6 socket (RFC 3542 section 3.1).
Standard library only; sends ``--count`` advertisements and exits.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
from pathlib import Path

ND_ROUTER_ADVERT = 134


def link_local(interface: str) -> str:
    """The interface's fe80:: address, from /proc/net/if_inet6 (no external tools needed)."""
    for line in Path("/proc/net/if_inet6").read_text().splitlines():
        address, _index, _plen, scope, _flags, name = line.split()
        if name == interface and scope == "20":
            return ":".join(address[i:i + 4] for i in range(0, 32, 4))
    raise SystemExit(f"ra_sender: {interface} has no link-local address")


def advertisement(mac: bytes, mtu: int, prefix: str, prefix_length: int) -> bytes:
    header = struct.pack("!BBHBBHII", ND_ROUTER_ADVERT, 0, 0, 64, 0, 0, 0, 0)
    # cur hop limit 64, flags M=O=0, router lifetime 0, reachable time and retrans timer unset
    slla = struct.pack("!BB", 1, 1) + mac
    mtu_option = struct.pack("!BBHI", 5, 1, 0, mtu)
    prefix_option = struct.pack("!BBBBIII", 3, 4, prefix_length, 0x80, 86400, 14400, 0)
    prefix_option += socket.inet_pton(socket.AF_INET6, prefix)
    return header + slla + mtu_option + prefix_option


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("interface")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--prefix", default="2001:db8::")
    args = parser.parse_args()

    sysfs = Path("/sys/class/net") / args.interface
    mac = bytes.fromhex(sysfs.joinpath("address").read_text().strip().replace(":", ""))
    mtu = int(sysfs.joinpath("mtu").read_text())
    index = socket.if_nametoindex(args.interface)
    message = advertisement(mac, mtu, args.prefix, 64)

    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    sock.bind((link_local(args.interface), 0, 0, index))
    for n in range(max(0, min(args.count, 10))):
        if n:
            time.sleep(args.interval)
        sock.sendto(message, ("ff02::1", 0, 0, index))
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
