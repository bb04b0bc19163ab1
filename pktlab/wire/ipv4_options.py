"""IPv4 options (RFC 791 section 3.1; router alert RFC 2113; stream identifier and security
RFC 791; MTU probe and reply RFC 1063; traceroute RFC 1393): declarations and the codec.

The type byte is itself three fields (copy flag, class, number), declared as sub-fields so the
breakdown shows them. Building keywords are the short names (``ptr``, ``flag``, ``overflow``,
``ra``, ...), as in ``ip(options=[("ts", {"flag": 1, "items": [("192.0.2.1", 0)]})])``.
Lengths count the whole option, as in TCP. Layer and field names are Wireshark's: a route
option's addresses are ``ip.rec_rt`` before the pointer (already used), ``ip.empty_rt``
(record route) or ``ip.src_rt`` (source routes) from the pointer on, and the last address of
a source route is the final destination, ``ip.dst``. The route and time stamp pointers default
to their first slot (4 and 5) when building.

Pointer sanity follows RFC 791 section 3.1: a route pointer is at least 4 and points at the
start of an address slot (4, 8, 12, ...); a time stamp pointer is at least 5 and points at the
start of a slot of 4 (flag 0) or 8 (flags 1 and 3) bytes; a pointer one past the length means
the option is full, anything further is wrong. Security, extended and commercial security and
options pktlab does not know are kept raw (``<layer>.data``) and built from their data:
``("security", bytes(9))``, ``(158, b"ab")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pktlab.wire._model import Field, Header, Kind, enum_field, flag, uint
from pktlab.wire._options import OptionCodec, OptionKind
from pktlab.wire._packet import Layer

OPTION_NAMES = {
    0: "End of Options List", 1: "No-Operation", 7: "Record Route", 11: "MTU Probe",
    12: "MTU Reply", 25: "Quick-Start", 68: "Time Stamp", 82: "Traceroute", 130: "Security",
    131: "Loose Source Route", 133: "Extended Security", 134: "Commercial Security",
    136: "Stream Identifier", 137: "Strict Source Route", 148: "Router Alert",
    149: "Selective Directed Broadcast",
}

# Wireshark's names for the class and number parts of the type byte (RFC 791, IANA registry).
CLASS_NAMES = {0: "Control", 1: "Reserved for future use", 2: "Debugging and measurement",
               3: "Reserved for future use"}
NUMBER_NAMES = {
    0: "End of Option List (EOL)", 1: "No-Operation (NOP)", 2: "Security",
    3: "Loose source route", 4: "Time stamp", 5: "Extended security",
    6: "Commercial IP security option", 7: "Record route", 8: "Stream identifier",
    9: "Strict source route", 10: "Experimental Measurement", 11: "MTU probe", 12: "MTU Reply",
    13: "Experimental Flow Control", 14: "Experimental Access Control", 15: "Ask Estrin",
    16: "IMI Traffic Descriptor", 17: "Extended Internet Protocol", 18: "Traceroute",
    19: "Address Extension", 20: "Router Alert", 21: "Selective Directed Broadcast",
    22: "Unassigned", 23: "Dynamic Packet State", 24: "Upstream Multicast Packet",
    25: "Quick-Start", 30: "RFC 3692-style experiment",
}
TIMESTAMP_FLAGS = {0: "Time stamps only", 1: "Time stamp and address",
                   3: "Time stamps for prespecified addresses"}


def _type_fields() -> list[Field]:
    return [
        enum_field("ip.opt.type", 0, 8, "Option type", OPTION_NAMES),
        flag("ip.opt.type.copy", 0, "Copied into every fragment"),
        enum_field("ip.opt.type.class", 1, 2,
                   "Option class: 0 control, 2 debugging and measurement", CLASS_NAMES),
        enum_field("ip.opt.type.number", 3, 5, "Option number", NUMBER_NAMES),
    ]


def _option(layer: str, title: str, *more: Field, one_byte: bool = False) -> Header:
    fields = _type_fields()
    if not one_byte:
        fields.append(uint("ip.opt.len", 8, 8, "Option length in bytes, type and length included"))
    fields.extend(more)
    return Header(layer, f"IP Option - {title}", fields, reference="RFC 791 section 3.1")


def _route(layer: str, title: str) -> Header:
    return _option(layer, title, uint("ip.opt.ptr", 16, 8,
                                      "Pointer: 1-based offset of the next address slot",
                                      aliases=("ptr",)))


def _address(name: str, title: str, meaning: str, *aliases: str) -> Header:
    return Header("ip.options.address", title,
                  [Field(name, 0, 32, Kind.IPV4, meaning, aliases=aliases)],
                  reference="RFC 791 section 3.1")


# How an address of a route option is shown depends on where it lies relative to the pointer,
# as in Wireshark. Parsing relabels each address with one of these declarations; building
# reads them through the alias-carrying repeat declarations, so every label builds.
RECORDED = _address("ip.rec_rt", "Recorded route address",
                    "An address already recorded (or already visited, in a source route)")
EMPTY = _address("ip.empty_rt", "Empty route slot", "A slot still free for a router to record")
SOURCE = _address("ip.src_rt", "Source route address", "A router still to visit")
FINAL = _address("ip.dst", "Final destination", "The source route's final destination")
RECORD_ROUTE_ITEM = _address("ip.rec_rt", "Recorded route address",
                             "A recorded router address", "ip.empty_rt")
SOURCE_ROUTE_ITEM = _address("ip.src_rt", "Source route address",
                             "A router address on the source route", "ip.rec_rt", "ip.dst")
TIMESTAMP_ONLY = Header("ip.options.timestamp.item", "Time stamp",
                        [uint("ip.opt.time_stamp", 0, 32, "Milliseconds since midnight UT",
                              aliases=("time_stamp",))],
                        reference="RFC 791 section 3.1")
TIMESTAMP_ADDR = Header("ip.options.timestamp.item", "Address and time stamp", [
    Field("ip.opt.time_stamp_addr", 0, 32, Kind.IPV4, "Address of the router that stamped",
          aliases=("address",)),
    uint("ip.opt.time_stamp", 32, 32, "Milliseconds since midnight UT", aliases=("time_stamp",)),
], reference="RFC 791 section 3.1")

EOL = _option("ip.options.eol", "End of Options List (EOL)", one_byte=True)
NOP = _option("ip.options.nop", "No-Operation (NOP)", one_byte=True)
RECORD_ROUTE = _route("ip.options.record_route", "Record Route")
LOOSE_ROUTE = _route("ip.options.route", "Loose Source Route")
STRICT_ROUTE = _route("ip.options.source_route", "Strict Source Route")
TIMESTAMP = _option(
    "ip.options.timestamp", "Time Stamp",
    uint("ip.opt.ptr", 16, 8, "Pointer: 1-based offset of the next free slot",
         aliases=("ptr",)),
    uint("ip.opt.overflow", 24, 4, "Routers that could not stamp for lack of room",
         aliases=("overflow",)),
    enum_field("ip.opt.flag", 28, 4,
               "0 time stamps only, 1 address and time stamp, 3 prespecified addresses",
               TIMESTAMP_FLAGS, hex=True, aliases=("flag",)),
)
ROUTER_ALERT = _option("ip.options.routeralert", "Router Alert",
                       uint("ip.opt.ra", 16, 16, "0: routers should examine this packet",
                            aliases=("ra",)))
STREAM_ID = _option("ip.options.sid", "Stream ID",
                    uint("ip.opt.sid", 16, 16, "SATNET stream identifier (obsolete)",
                         aliases=("sid",)))
MTU_PROBE = _option("ip.options.mtu_probe", "MTU Probe",
                    uint("ip.opt.mtu", 16, 16, "MTU being probed (RFC 1063, obsolete)",
                         aliases=("mtu",)))
MTU_REPLY = _option("ip.options.mtu_reply", "MTU Reply",
                    uint("ip.opt.mtu", 16, 16, "Smallest MTU seen (RFC 1063, obsolete)",
                         aliases=("mtu",)))
TRACEROUTE = _option(
    "ip.options.traceroute", "Traceroute",
    uint("ip.opt.id_number", 16, 16, "ID number chosen by the originator",
         aliases=("id_number",)),
    uint("ip.opt.ohc", 32, 16, "Outbound hop count", aliases=("ohc",)),
    uint("ip.opt.rhc", 48, 16, "Return hop count", aliases=("rhc",)),
    Field("ip.opt.originator", 64, 32, Kind.IPV4, "Originator IP address",
          aliases=("originator",)),
)
# Kept raw: their contents depend on national and commercial labelling schemes.
SECURITY = _option("ip.options.security", "Security")
EXT_SECURITY = _option("ip.options.ext_security", "Extended Security")
CIPSO = _option("ip.options.cipso", "Commercial Security")
UNKNOWN = _option("ip.options.unknown", "Unknown")


def _relabel_route(layer: Layer) -> None:
    """Give each address its Wireshark name by its place relative to the pointer."""
    fields = layer._fields
    pointer, length = fields["ip.opt.ptr"], fields["ip.opt.len"]
    source_route = layer.header is not RECORD_ROUTE
    relabelled: list[Layer] = []
    for item in layer._children:
        if item.header is None:
            relabelled.append(item)
            continue
        address = next(iter(item._fields.values()))
        slot = item.offset - layer.offset  # 0-based; the pointer is 1-based
        if pointer > length or slot + 1 < pointer:
            header = RECORDED
        elif source_route and slot == length - 4:
            header = FINAL
        elif source_route:
            header = SOURCE
        else:
            header = EMPTY
        name = header.fields[0].name
        relabelled.append(Layer(header.layer, header, item.offset, item.length, {name: address},
                                item.quoted))
    layer._children[:] = relabelled


def _check_route(layer: Layer) -> None:
    pointer, length = layer.fields["ip.opt.ptr"], layer.fields["ip.opt.len"]
    if pointer < 4:
        layer.warn(f"pointer {pointer} points before the first address; the smallest legal "
                   "value is 4 (RFC 791 section 3.1)", "ip.opt.ptr")
    elif pointer % 4:
        layer.warn(f"pointer {pointer} points into the middle of an address; address slots "
                   "start at 4, 8, 12, ... (RFC 791 section 3.1)", "ip.opt.ptr")
    elif pointer > length + 1:
        layer.warn(f"pointer {pointer} lies beyond the option (length {length}); a full "
                   f"option has pointer {length + 1} (RFC 791 section 3.1)", "ip.opt.ptr")
    elif pointer > length and layer.header is RECORD_ROUTE:
        layer.note("the route record is full: routers cannot add their address",
                   "ip.opt.ptr")


def _timestamp_item(fields: Mapping[str, Any]) -> Header:
    # RFC 791: flag 0 holds 32-bit time stamps; flags 1 and 3 hold (address, time stamp) pairs.
    return TIMESTAMP_ADDR if fields.get("ip.opt.flag") in (1, 3) else TIMESTAMP_ONLY


def _check_timestamp(layer: Layer) -> None:
    fields = layer.fields
    pointer, length, flag_value = fields["ip.opt.ptr"], fields["ip.opt.len"], fields["ip.opt.flag"]
    slot = _timestamp_item(fields).size
    if flag_value not in TIMESTAMP_FLAGS:
        layer.warn(f"flag {flag_value} is undefined; expected 0, 1 or 3 (RFC 791 section 3.1)",
                   "ip.opt.flag")
    if pointer < 5:
        layer.warn(f"pointer {pointer} points before the first time stamp; the smallest legal "
                   "value is 5 (RFC 791 section 3.1)", "ip.opt.ptr")
    elif (pointer - 5) % slot:
        layer.warn(f"pointer {pointer} points into the middle of a {slot}-byte slot; slots "
                   f"start at 5, {5 + slot}, {5 + 2 * slot}, ... (RFC 791 section 3.1)",
                   "ip.opt.ptr")
    elif pointer > length + 1:
        layer.warn(f"pointer {pointer} lies beyond the option (length {length}); a full "
                   f"option has pointer {length + 1} (RFC 791 section 3.1)", "ip.opt.ptr")


IPV4_OPTIONS = OptionCodec(
    "ip",
    [
        # RFC 791's starting pointers as building defaults: ("rr", ["192.0.2.1"]) builds a
        # record route whose pointer is 4, the first slot, as Scapy does, not an illegal 0.
        OptionKind(7, "rr", RECORD_ROUTE, repeat=RECORD_ROUTE_ITEM, extra=_relabel_route,
                   check=_check_route, defaults={"ip.opt.ptr": 4}),
        OptionKind(131, "lsrr", LOOSE_ROUTE, repeat=SOURCE_ROUTE_ITEM, extra=_relabel_route,
                   check=_check_route, defaults={"ip.opt.ptr": 4}),
        OptionKind(137, "ssrr", STRICT_ROUTE, repeat=SOURCE_ROUTE_ITEM, extra=_relabel_route,
                   check=_check_route, defaults={"ip.opt.ptr": 4}),
        OptionKind(68, "ts", TIMESTAMP, repeat=_timestamp_item, check=_check_timestamp,
                   defaults={"ip.opt.ptr": 5}),
        OptionKind(148, "ra", ROUTER_ALERT, length=4),
        OptionKind(136, "sid", STREAM_ID, length=4),
        OptionKind(11, "mtu_probe", MTU_PROBE, length=4),
        OptionKind(12, "mtu_reply", MTU_REPLY, length=4),
        OptionKind(82, "traceroute", TRACEROUTE, length=12),
        OptionKind(130, "security", SECURITY),
        OptionKind(133, "ext_security", EXT_SECURITY),
        OptionKind(134, "cipso", CIPSO),
    ],
    kind_field=EOL.by_name["ip.opt.type"],
    length_field=UNKNOWN.by_name["ip.opt.len"],
    unknown=OptionKind(-1, "unknown", UNKNOWN, show_empty=True),
    one_byte={0: OptionKind(0, "eol", EOL), 1: OptionKind(1, "nop", NOP)},
    total_length=lambda value: value,
    length_value=lambda total: total,
    reference="RFC 791 section 3.1",
    stop_after=0,
)
