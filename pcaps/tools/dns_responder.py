"""A tiny authoritative DNS responder for the test zone ``lab.test.``, used to make dns-udp.pcap.

It answers A, AAAA, CNAME, NS and SOA queries over UDP from a fixed in-memory zone, compresses
every name it writes (RFC 1035 section 4.1.4) so the capture exercises compression pointers,
follows CNAME chains inside the zone, answers NXDOMAIN with the SOA in the authority section
(RFC 2308), REFUSED outside the zone, and echoes an EDNS(0) OPT record when the query has one.

Standard library only. It serves at most ``--max-queries`` queries or ``--lifetime`` seconds,
whichever comes first, so it can never outlive the script that started it.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time

ZONE = "lab.test."
TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_AAAA, TYPE_OPT = 1, 2, 5, 6, 28, 41
CLASS_IN = 1
TTL = 300

# name -> list of (type, rdata description); names are lower case and fully qualified.
RECORDS: dict[str, list[tuple[int, object]]] = {
    "lab.test.": [
        (TYPE_SOA, ("ns.lab.test.", "hostmaster.lab.test.", 2024010101, 3600, 600, 86400, 60)),
        (TYPE_NS, "ns.lab.test."),
    ],
    "ns.lab.test.": [(TYPE_A, "198.18.0.1"), (TYPE_AAAA, "2001:db8::53")],
    "web.lab.test.": [
        (TYPE_A, "198.18.0.10"),
        (TYPE_A, "198.18.0.11"),
        (TYPE_AAAA, "2001:db8::10"),
    ],
    "www.lab.test.": [(TYPE_CNAME, "web.lab.test.")],
    "alias.lab.test.": [(TYPE_CNAME, "www.lab.test.")],
    "a-rather-long-label-to-see-compression-pay-off.deep.sub.lab.test.": [
        (TYPE_A, "198.18.0.99"),
    ],
}


class Message:
    """Builds a DNS message, compressing names against every suffix written so far."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets: dict[str, int] = {}

    def name(self, name: str) -> None:
        labels = [label for label in name.rstrip(".").split(".") if label]
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            offset = self.offsets.get(suffix)
            if offset is not None:
                self.data += struct.pack("!H", 0xC000 | offset)
                return
            if len(self.data) < 0x4000:  # a pointer has 14 bits
                self.offsets[suffix] = len(self.data)
            raw = labels[i].encode("ascii")
            self.data += bytes([len(raw)]) + raw
        self.data += b"\x00"

    def record(self, owner: str, rtype: int, rdata: object) -> None:
        self.name(owner)
        self.data += struct.pack("!HHI", rtype, CLASS_IN, TTL)
        length_at = len(self.data)
        self.data += b"\x00\x00"
        start = len(self.data)
        if rtype == TYPE_A:
            self.data += socket.inet_pton(socket.AF_INET, str(rdata))
        elif rtype == TYPE_AAAA:
            self.data += socket.inet_pton(socket.AF_INET6, str(rdata))
        elif rtype in (TYPE_CNAME, TYPE_NS):
            self.name(str(rdata))
        elif rtype == TYPE_SOA:
            assert isinstance(rdata, tuple)
            self.name(str(rdata[0]))  # primary name server
            self.name(str(rdata[1]))  # responsible mailbox
            self.data += struct.pack("!IIIII", *rdata[2:])  # serial and timers
        struct.pack_into("!H", self.data, length_at, len(self.data) - start)


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """Read a possibly compressed name; returns (name with original case, offset after it)."""
    labels: list[str] = []
    end = -1
    for _ in range(128):  # bounded: a pointer loop cannot hang the responder
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length == 0:
            return ".".join(labels) + ".", (end if end >= 0 else offset + 1)
        labels.append(data[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    raise ValueError("name too long or looping")


def answer(query: bytes) -> bytes | None:
    if len(query) < 12:
        return None
    qid, flags, qdcount, _an, _ns, arcount = struct.unpack("!6H", query[:12])
    if flags & 0x8000 or qdcount != 1:
        return None
    qname, at = read_name(query, 12)
    qtype, qclass = struct.unpack("!HH", query[at:at + 4])
    at += 4
    edns = False
    for _ in range(arcount):  # look for an OPT record; ignore the rest
        _name, at = read_name(query, at)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", query[at:at + 10])
        at += 10 + rdlen
        edns = edns or rtype == TYPE_OPT

    key = qname.lower()
    answers: list[tuple[str, int, object]] = []
    authority: list[tuple[str, int, object]] = []
    in_zone = key == ZONE or key.endswith("." + ZONE)
    rcode = 0
    owner_name = qname
    if not in_zone:
        rcode = 5  # REFUSED: not authoritative
    else:
        for _ in range(8):  # follow in-zone CNAME chains, bounded
            records = RECORDS.get(key)
            if records is None:
                if not answers:
                    rcode = 3  # NXDOMAIN
                authority.append((ZONE, TYPE_SOA, RECORDS[ZONE][0][1]))
                break
            matching = [(owner_name, t, r) for t, r in records if t == qtype]
            if matching:
                answers += matching
                break
            cname = [r for t, r in records if t == TYPE_CNAME]
            if cname and qtype != TYPE_CNAME:
                answers.append((owner_name, TYPE_CNAME, cname[0]))
                owner_name = key = str(cname[0])
                continue
            authority.append((ZONE, TYPE_SOA, RECORDS[ZONE][0][1]))  # NODATA
            break

    msg = Message()
    response_flags = 0x8000 | (flags & 0x7900) | (0x0400 if in_zone else 0) | rcode
    msg.data += struct.pack("!6H", qid, response_flags, 1, len(answers), len(authority),
                            1 if edns else 0)
    msg.name(qname)
    msg.data += struct.pack("!HH", qtype, qclass)
    for owner, rtype, rdata in answers + authority:
        msg.record(owner, rtype, rdata)
    if edns:
        msg.data += b"\x00" + struct.pack("!HHIH", TYPE_OPT, 1232, 0, 0)
    return bytes(msg.data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="198.18.0.1")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--lifetime", type=float, default=30.0, help="seconds before exiting")
    parser.add_argument("--max-queries", type=int, default=1000)
    args = parser.parse_args()

    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.address, args.port))
    deadline = time.monotonic() + args.lifetime
    served = 0
    print(f"dns_responder: serving {ZONE} on {args.address}#{args.port}", flush=True)
    while served < args.max_queries:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            query, peer = sock.recvfrom(4096)
        except TimeoutError:
            break
        try:
            reply = answer(query)
        except (ValueError, struct.error, IndexError):
            reply = None  # a garbled query is dropped, as a real server would
        if reply is not None:
            sock.sendto(reply, peer)
        served += 1
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
