"""Field-by-field comparison of pktlab's dissection with tshark's, frame by frame.

Layers are paired by name and occurrence: the k-th ``ip`` layer pktlab finds outside any ICMP
error pairs with tshark's k-th top-level ``ip``; a header pktlab marks ``quoted`` pairs with the
same-named child of tshark's ``icmp``/``icmpv6`` layer; an IPv6 extension header (a layer of its
own in pktlab) pairs with the child tshark nests under ``ipv6``. Within a pair, every field
pktlab has that tshark also names is compared as the list of its values in wire order, after
:func:`pktlab.oracle.tshark.normalise`. Fields only one side names are not compared: the
``compared`` count says how much was.

:data:`KNOWN_TSHARK_DIFFERENCES` lists the fields where the two legitimately differ, with the
reason; they are counted as skipped, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pktlab.oracle.tshark import TsharkFrame, TsharkLayer, normalise
from pktlab.wire import Layer, Packet

# tshark's name for a field where it differs from pktlab's (a tshark naming quirk).
TSHARK_NAMES = {"ieee8021ad.etype": "ieee8021ah.etype"}

# tshark layer names for pktlab layers, where they differ.
TSHARK_LAYERS = {"ipv6.fragment": "ipv6.fraghdr"}

# Fields tshark puts on whichever layer comes last before the payload (eth.padding lands in
# the innermost VLAN tag's tree): looked up in the whole frame.
FRAME_WIDE = frozenset({"eth.padding", "eth.trailer", "vlan.trailer"})

KNOWN_TSHARK_DIFFERENCES: dict[str, str] = {
    "data.data": "tshark dissects payloads pktlab keeps raw (HTTP, DNS and others), so the "
                 "data layers do not line up",
    "data.len": "see data.data",
    "icmp.unused": "tshark splits the four unused bytes of a time exceeded or destination "
                   "unreachable message around the RFC 4884 length byte into two icmp.unused "
                   "values; pktlab declares one 32-bit icmp.unused and does not decode RFC "
                   "4884 extensions",
}

_SOURCE_ROUTES = ("ip.options.source_route", "ip.options.strict_source_route",
                  "ip.options.route", "ip.options.sroute")


def known_difference(name: str, layer: Layer) -> str | None:
    """Why pktlab and tshark legitimately differ on this field of this layer, if they do."""
    reason = KNOWN_TSHARK_DIFFERENCES.get(name)
    if reason is not None:
        return reason
    if name == "ip.dst" and any(c.name in _SOURCE_ROUTES for c in layer.children):
        return ("with a source route option tshark calls the header's destination ip.cur_rt "
                "and the route's final address ip.dst; pktlab keeps ip.dst for the header "
                "field and also labels the route's final address ip.dst")
    return None

_STATUS = {"not_present": "unverified", "illegal": "bad"}


@dataclass(frozen=True, slots=True)
class Difference:
    """One field on which pktlab and tshark disagree in one frame."""

    frame: int
    layer: str
    field: str
    pktlab: Any
    tshark: Any

    def __str__(self) -> str:
        return (f"frame {self.frame} {self.layer}: {self.field}: pktlab {self.pktlab!r}, "
                f"tshark {self.tshark!r}")


@dataclass
class TsharkComparison:
    """What a comparison found: differences, and how many values were compared or skipped."""

    differences: list[Difference] = field(default_factory=list)
    compared: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    unpaired: list[str] = field(default_factory=list)

    def merge(self, other: TsharkComparison) -> None:
        self.differences.extend(other.differences)
        self.compared += other.compared
        for key, count in other.skipped.items():
            self.skipped[key] = self.skipped.get(key, 0) + count
        self.unpaired.extend(other.unpaired)


def _values(layer: Layer) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, value in layer.all_fields():
        out.setdefault(name, []).append(value)
    return out


def _tshark_value(name: str, text: str) -> Any:
    value = normalise(name, text)
    if name.endswith(".status") and isinstance(value, str):
        return _STATUS.get(value, value)
    return value


def _ours(name: str, value: Any) -> Any:
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def _like(ours: Any, theirs: Any) -> Any:
    """tshark types some address fields as bytes; show them as pktlab does to compare."""
    if isinstance(ours, str) and isinstance(theirs, bytes) and len(theirs) == 6 and ":" in ours:
        return theirs.hex(":")
    return theirs


def _pair_layers(packet: Packet, frame: TsharkFrame) -> list[tuple[Layer, TsharkLayer | None]]:
    seen: dict[str, int] = {}
    quoted_seen: dict[str, int] = {}
    pairs: list[tuple[Layer, TsharkLayer | None]] = []
    error_layer: TsharkLayer | None = None
    for layer in packet.layers:
        name = TSHARK_LAYERS.get(layer.name, layer.name)
        if layer.quoted:
            k = quoted_seen.get(name, 0)
            quoted_seen[name] = k + 1
            match = error_layer.child(name, k) if error_layer is not None else None
            pairs.append((layer, match))
            continue
        k = seen.get(name, 0)
        seen[name] = k + 1
        match = frame.layer(name, k)
        if match is None:
            # IPv6 extension headers are children of tshark's ipv6 layer.
            for parent in frame.layers:
                found = parent.child(name, 0)
                if found is not None:
                    match = parent.child(name, k) or found
                    break
        if layer.name in ("icmp", "icmpv6"):
            error_layer = match
        pairs.append((layer, match))
    return pairs


def compare_frame(packet: Packet, frame: TsharkFrame) -> TsharkComparison:
    """Compare one pktlab packet with tshark's dissection of the same frame."""
    result = TsharkComparison()
    for layer, theirs in _pair_layers(packet, frame):
        if theirs is None:
            if layer.name != "data":
                result.unpaired.append(f"frame {frame.number}: {layer.name}")
            continue
        for name, ours in _values(layer).items():
            tname = TSHARK_NAMES.get(name, name)
            texts = theirs.fields.get(tname)
            if texts is None and name in FRAME_WIDE:
                texts = next((lay.fields[tname] for lay in frame.layers
                              if tname in lay.fields), None)
            if texts is None:
                continue
            if known_difference(name, layer) is not None:
                result.skipped[name] = result.skipped.get(name, 0) + 1
                continue
            mine = [_ours(name, v) for v in ours]
            their_values = [_tshark_value(tname, t) for t in texts]
            if all(v is None for v in their_values):
                continue  # a text-only (FT_NONE) item in tshark: no value to compare
            # A nested layer's fields are also copied into its parent by the adapter, so the
            # parent may list more values than the layer itself: compare the layer's own.
            if len(their_values) > len(mine) and theirs.children:
                own = _own_values(theirs, tname)
                if own is not None:
                    their_values = own
            their_values = [_like(m, t) for m, t in zip(mine, their_values, strict=False)] + \
                their_values[len(mine):]
            if name.endswith(("option_kind", "opt.type")) and mine and mine[-1] == 0:
                # tshark shows every padding byte after an End of Option List as one more
                # EOL; pktlab shows one EOL whose padding follows it.
                while len(their_values) > len(mine) and their_values[-1] == 0:
                    their_values.pop()
            result.compared += 1
            if mine != their_values:
                result.differences.append(
                    Difference(frame.number, layer.name, name, mine, their_values))
    return result


def _own_values(layer: TsharkLayer, name: str) -> list[Any] | None:
    """The values of a field in a layer, less those contributed by nested protocol layers."""
    nested: list[str] = []
    for child in layer.children:
        nested.extend(child.fields.get(name, []))
    values = list(layer.fields.get(name, []))
    for text in nested:
        if text in values:
            values.remove(text)
    return [_tshark_value(name, t) for t in values]


def compare_capture(packets: Iterable[Packet], frames: Iterable[TsharkFrame]) -> TsharkComparison:
    """Compare packets with tshark frames of the same file, in order."""
    total = TsharkComparison()
    for packet, frame in zip(packets, frames, strict=False):
        total.merge(compare_frame(packet, frame))
    return total
