"""IPv4 options (RFC 791 section 3.1; router alert RFC 2113): declarations and the codec.

The type byte is itself three fields (copy flag, class, number), declared as sub-fields so the
breakdown shows them. Lengths count the whole option, as in TCP.
"""

from __future__ import annotations

from typing import Any

from pktlab.wire._model import Field, Header, enum_field, flag, ipv4, uint
from pktlab.wire._options import OptionCodec, OptionKind
from pktlab.wire._packet import Layer

OPTION_NAMES = {
    0: "End of Options List", 1: "No-Operation", 7: "Record Route", 68: "Time Stamp",
    130: "Security", 131: "Loose Source Route", 133: "Extended Security",
    134: "Commercial Security", 136: "Stream Identifier", 137: "Strict Source Route",
    148: "Router Alert",
}


def _type_fields() -> list[Field]:
    return [
        enum_field("ip.opt.type", 0, 8, "Option type", OPTION_NAMES),
        flag("ip.opt.type.copy", 0, "Copied into every fragment"),
        uint("ip.opt.type.class", 1, 2, "Option class: 0 control, 2 debugging and measurement"),
        uint("ip.opt.type.number", 3, 5, "Option number"),
    ]


def _option(layer: str, title: str, *more: Field, one_byte: bool = False) -> Header:
    fields = _type_fields()
    if not one_byte:
        fields.append(uint("ip.opt.len", 8, 8, "Option length in bytes, type and length included"))
    fields.extend(more)
    return Header(layer, f"IP Option - {title}", fields, reference="RFC 791 section 3.1")


def _route(layer: str, title: str) -> Header:
    return _option(layer, title, uint("ip.opt.ptr", 16, 8,
                                      "Pointer: 1-based offset of the next address slot"))


RECORD_ROUTE_ITEM = Header("ip.options.route.item", "Recorded address",
                           [ipv4("ip.rec_rt", 0, "A recorded router address")])
SOURCE_ROUTE_ITEM = Header("ip.options.route.item", "Source route address",
                           [ipv4("ip.src_rt", 0, "A router address on the source route")])
TIMESTAMP_ONLY = Header("ip.options.timestamp.item", "Time stamp",
                        [uint("ip.opt.time_stamp", 0, 32, "Milliseconds since midnight UT")])
TIMESTAMP_ADDR = Header("ip.options.timestamp.item", "Address and time stamp", [
    ipv4("ip.opt.time_stamp_addr", 0, "Address of the router that stamped"),
    uint("ip.opt.time_stamp", 32, 32, "Milliseconds since midnight UT"),
])

EOL = _option("ip.options.eol", "End of Options List (EOL)", one_byte=True)
NOP = _option("ip.options.nop", "No-Operation (NOP)", one_byte=True)
RECORD_ROUTE = _route("ip.options.recordroute", "Record Route")
LOOSE_ROUTE = _route("ip.options.route", "Loose Source Route")
STRICT_ROUTE = _route("ip.options.sroute", "Strict Source Route")
TIMESTAMP = _option(
    "ip.options.timestamp", "Time Stamp",
    uint("ip.opt.ptr", 16, 8, "Pointer: 1-based offset of the next free slot"),
    uint("ip.opt.overflow", 24, 4, "Routers that could not stamp for lack of room"),
    uint("ip.opt.flag", 28, 4, "0 time stamps only, 1 address and time stamp, 3 prespecified",
         hex=True),
)
ROUTER_ALERT = _option("ip.options.routeralert", "Router Alert",
                       uint("ip.opt.ra", 16, 16, "0: routers should examine this packet"))
UNKNOWN = _option("ip.options.unknown", "Unknown")


def _check_pointer(layer: Layer) -> None:
    pointer = layer.fields["ip.opt.ptr"]
    if pointer < 4 or (pointer - 4) % 4 and layer.fields["ip.opt.type"] != 68:
        layer.warn(f"pointer {pointer} does not point at an address slot "
                   "(RFC 791: the smallest legal value is 4)", "ip.opt.ptr")


def _timestamp_item(fields: dict[str, Any]) -> Header:
    # RFC 791: flag 0 holds 32-bit time stamps; flags 1 and 3 hold (address, time stamp) pairs.
    return TIMESTAMP_ADDR if fields.get("ip.opt.flag") in (1, 3) else TIMESTAMP_ONLY


IPV4_OPTIONS = OptionCodec(
    "ip",
    [
        OptionKind(7, "rr", RECORD_ROUTE, repeat=RECORD_ROUTE_ITEM, check=_check_pointer),
        OptionKind(131, "lsrr", LOOSE_ROUTE, repeat=SOURCE_ROUTE_ITEM, check=_check_pointer),
        OptionKind(137, "ssrr", STRICT_ROUTE, repeat=SOURCE_ROUTE_ITEM, check=_check_pointer),
        OptionKind(68, "ts", TIMESTAMP, repeat=_timestamp_item),
        OptionKind(148, "ra", ROUTER_ALERT, length=4),
    ],
    kind_field=EOL.by_name["ip.opt.type"],
    length_field=UNKNOWN.by_name["ip.opt.len"],
    unknown=UNKNOWN,
    one_byte={0: OptionKind(0, "eol", EOL), 1: OptionKind(1, "nop", NOP)},
    total_length=lambda value: value,
    length_value=lambda total: total,
    stop_after=0,
)
