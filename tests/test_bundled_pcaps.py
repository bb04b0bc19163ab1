"""pktlab's own captures in pcaps/: clean real traffic that dissects, rebuilds and matches tshark.

The files are made by pcaps/make-captures.sh from real Linux traffic in network namespaces
(see pcaps/README.md). These tests pin down what the README promises: every frame dissects
without an error and with verified checksums (offloads were off, so the checksums are real),
every frame rebuilds byte for byte from its fields, each file holds the protocol events its
README names, and tshark agrees that nothing in them is malformed or has a bad checksum.

The events are read from layers and fields only (never from a DNS or HTTP dissector), so the
tests keep passing when those dissectors arrive and claim the payloads.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from oracles import require_tshark

from pktlab.capture import open_capture
from pktlab.wire import Packet, Severity, dissect, rebuild

PCAPS = Path(__file__).resolve().parents[1] / "pcaps"
SMALL = 50_000
CLIENT_V4 = ("198.18.0.2", "198.18.1.2")


@dataclass(frozen=True)
class Bundled:
    name: str
    frames: int  # at least this many frames
    max_bytes: int
    events: frozenset[str]  # what the README says the file shows; see events() for the names
    absent: frozenset[str] = frozenset()  # what it must not show


BUNDLED = [
    Bundled("http-get.pcap", 10, SMALL, frozenset({
        "tcp syn", "tcp syn-ack", "tcp ack", "client payload starts GET ",
        "server payload starts HTTP/1.1 200", "tcp fin from client", "tcp fin from server",
    }), frozenset({"tcp gap before a segment", "tcp retransmitted sequence number"})),
    Bundled("dns-udp.pcap", 22, SMALL, frozenset({
        "udp to port 53", "udp from port 53", "dns answers match query ids",
        "dns name compression", "dns rcode 3", "dns rcode 5",
    })),
    Bundled("arp-icmp.pcap", 14, SMALL, frozenset({
        "arp request", "arp reply", "icmp echo request", "icmp echo reply",
        "icmp port unreachable", "icmp time exceeded", "icmp quotes ip",
    })),
    Bundled("tcp-lossy-bulk.pcap", 250, 1_000_000, frozenset({
        "tcp syn", "tcp syn-ack", "tcp fin from client", "tcp fin from server",
        "tcp gap before a segment", "tcp retransmitted sequence number", "tcp sack blocks",
        "tcp full-size segments",
        "server payload starts HTTP/1.1 200",
    })),
    Bundled("ipv6-nd.pcap", 10, SMALL, frozenset({
        "icmpv6 neighbor solicitation", "icmpv6 neighbor advertisement",
        "icmpv6 router advertisement", "icmpv6 echo request", "icmpv6 echo reply",
        "icmpv6 mldv2 report", "ipv6 hop-by-hop options",
    })),
]
IDS = [b.name for b in BUNDLED]

ICMP_EVENTS = {(8, 0): "icmp echo request", (0, 0): "icmp echo reply",
               (3, 3): "icmp port unreachable", (11, 0): "icmp time exceeded"}
ICMPV6_EVENTS = {135: "icmpv6 neighbor solicitation", 136: "icmpv6 neighbor advertisement",
                 134: "icmpv6 router advertisement", 128: "icmpv6 echo request",
                 129: "icmpv6 echo reply", 143: "icmpv6 mldv2 report"}


def packets(path: Path) -> list[tuple[bytes, Packet]]:
    with open_capture(path) as reader:
        return [(r.data, dissect(r.data, r.linktype, orig_len=r.orig_len, strict=True))
                for r in reader]


def transport_payload(packet: Packet, name: str) -> bytes:
    """The bytes after a TCP or UDP header, whichever layer (data, dns, http) claims them."""
    layer = packet.layer(name, quoted=False)
    assert layer is not None
    start = layer.offset + layer.length
    size = layer["tcp.len"] if name == "tcp" else layer["udp.length"] - 8
    return packet.data[start:start + size]


def dns_facts(payload: bytes, facts: set[str], ids: Counter[tuple[int, bool]]) -> None:
    """DNS header facts from raw UDP payload bytes (the DNS dissector comes later)."""
    if len(payload) < 12:
        return
    qid = int.from_bytes(payload[:2], "big")
    response = bool(payload[2] & 0x80)
    ids[(qid, response)] += 1
    if response:
        facts.add(f"dns rcode {payload[3] & 0x0F}")
        # A pointer to offset 12 (the question name) is how every compressed answer starts.
        if b"\xc0\x0c" in payload[12:]:
            facts.add("dns name compression")


def before(a: int, b: int) -> bool:
    """Sequence number a comes before b, in 32-bit serial arithmetic (RFC 1982)."""
    return a != b and (b - a) % 2**32 < 2**31


def events(path: Path) -> set[str]:
    """Protocol events found in a capture, named as in the BUNDLED table."""
    facts: set[str] = set()
    next_seq: dict[tuple[str, int], int] = {}  # per sender: highest sequence number sent + 1
    dns_ids: Counter[tuple[int, bool]] = Counter()
    for _data, packet in packets(path):
        arp = packet.layer("arp")
        if arp is not None:
            facts.add({1: "arp request", 2: "arp reply"}.get(arp["arp.opcode"], "arp other"))
        icmp = packet.layer("icmp", quoted=False)
        if icmp is not None:
            facts.add(ICMP_EVENTS.get((icmp["icmp.type"], icmp["icmp.code"]), "icmp other"))
            if packet.layer("ip", quoted=True) is not None:
                facts.add("icmp quotes ip")
        icmpv6 = packet.layer("icmpv6", quoted=False)
        if icmpv6 is not None:
            facts.add(ICMPV6_EVENTS.get(icmpv6["icmpv6.type"], "icmpv6 other"))
        if packet.layer("ipv6.hopopts") is not None:
            facts.add("ipv6 hop-by-hop options")
        tcp = packet.layer("tcp", quoted=False)
        if tcp is not None:
            syn, ack, fin = tcp["tcp.flags.syn"], tcp["tcp.flags.ack"], tcp["tcp.flags.fin"]
            from_client = packet["ip.src"] in CLIENT_V4
            payload = transport_payload(packet, "tcp")
            if syn:
                facts.add("tcp syn-ack" if ack else "tcp syn")
            elif ack and not fin and not payload:
                facts.add("tcp ack")
            if fin:
                facts.add("tcp fin from client" if from_client else "tcp fin from server")
            if payload:
                side = "client" if from_client else "server"
                for start in (b"GET ", b"HTTP/1.1 200"):
                    if payload.startswith(start):
                        facts.add(f"{side} payload starts {start.decode()}")
                sender = (packet["ip.src"], tcp["tcp.srcport"])
                seq, end = tcp["tcp.seq"], (tcp["tcp.seq"] + len(payload)) % 2**32
                highest = next_seq.get(sender, seq)
                if before(seq, highest):
                    # Captured at the receiver, a lost segment is never seen: its retransmission
                    # shows as data that starts below what the sender had already sent.
                    facts.add("tcp retransmitted sequence number")
                elif seq != highest:
                    facts.add("tcp gap before a segment")
                if not before(end, highest):
                    next_seq[sender] = end
                if len(packet.data) == 1514:
                    facts.add("tcp full-size segments")
            if packet.all("tcp.options.sack_le"):
                facts.add("tcp sack blocks")
        udp = packet.layer("udp", quoted=False)
        if udp is not None:
            if udp["udp.dstport"] == 53:
                facts.add("udp to port 53")
            if udp["udp.srcport"] == 53:
                facts.add("udp from port 53")
                dns_facts(transport_payload(packet, "udp"), facts, dns_ids)
            elif udp["udp.dstport"] == 53:
                dns_facts(transport_payload(packet, "udp"), facts, dns_ids)
    queries = {qid for qid, response in dns_ids if not response}
    answers = {qid for qid, response in dns_ids if response}
    if queries and queries == answers:
        facts.add("dns answers match query ids")
    return facts


def test_every_bundled_capture_is_listed_and_described() -> None:
    on_disk = sorted(p.name for p in PCAPS.glob("*.pcap*"))
    assert on_disk == sorted(IDS)
    readme = (PCAPS / "README.md").read_text()
    assert [name for name in IDS if name not in readme] == []


@pytest.mark.parametrize("bundled", BUNDLED, ids=IDS)
def test_bundled_capture_is_small_and_opens_as_ethernet(bundled: Bundled) -> None:
    path = PCAPS / bundled.name
    assert path.stat().st_size <= bundled.max_bytes
    with open_capture(path) as reader:
        records = list(reader)
    assert len(records) >= bundled.frames
    assert {r.linktype for r in records} == {1}
    assert all(r.orig_len == len(r.data) for r in records), "captured with -s 0: nothing cut"


@pytest.mark.parametrize("bundled", BUNDLED, ids=IDS)
def test_bundled_capture_dissects_without_errors_and_with_good_checksums(
        bundled: Bundled) -> None:
    errors: list[str] = []
    statuses: Counter[str] = Counter()
    for number, (_data, packet) in enumerate(packets(PCAPS / bundled.name), 1):
        assert not packet.malformed, f"frame {number}: {packet.summary()}"
        errors += [f"frame {number}: {p.message}" for _, p in packet.all_problems()
                   if p.severity is Severity.ERROR]
        for layer in packet.layers:
            if layer.quoted:
                continue  # a quoted datagram may be cut short: its checksum is not verifiable
            statuses.update(value for name, value in layer.all_fields()
                            if name.endswith("checksum.status"))
    assert errors == []
    assert set(statuses) <= {"good"}, statuses


@pytest.mark.parametrize("bundled", BUNDLED, ids=IDS)
def test_bundled_capture_rebuilds_byte_for_byte(bundled: Bundled) -> None:
    different = [number for number, (data, packet) in enumerate(packets(PCAPS / bundled.name), 1)
                 if rebuild(packet) != data]
    assert different == []


@pytest.mark.parametrize("bundled", BUNDLED, ids=IDS)
def test_bundled_capture_shows_what_its_readme_says(bundled: Bundled) -> None:
    found = events(PCAPS / bundled.name)
    assert sorted(bundled.events - found) == []
    assert sorted(bundled.absent & found) == []


@pytest.mark.oracle
@pytest.mark.parametrize("bundled", BUNDLED, ids=IDS)
def test_tshark_finds_nothing_malformed_or_badly_checksummed(bundled: Bundled) -> None:
    tshark = require_tshark()
    path = str(PCAPS / bundled.name)
    checks = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
              "-o", "udp.check_checksum:TRUE"]
    flagged = subprocess.run(
        [tshark, "-n", "-r", path, *checks, "-Y",
         "_ws.malformed || _ws.expert.severity == error || ip.checksum.status==0"
         " || tcp.checksum.status==0 || udp.checksum.status==0"],
        capture_output=True, text=True, timeout=120, check=True)
    assert flagged.stdout == ""
    numbers = subprocess.run([tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number"],
                             capture_output=True, text=True, timeout=120, check=True)
    assert len(numbers.stdout.split()) == len(packets(PCAPS / bundled.name))
