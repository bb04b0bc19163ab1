"""Building frames from layer declarations: ``eth() / ip(dst="198.18.0.2") / tcp(dport=80)``.

Building runs in two passes, like a kernel filling a socket buffer from both ends:

1. outer to inner, each layer's *selector* field (``eth.type``, ``ip.proto``) is set from the
   layer that follows it, unless the user set it;
2. inner to outer, each layer emits its header in front of the bytes built so far, computing
   lengths, header lengths and checksums (with the pseudo-header of the nearest IP layer)
   unless the user set them, so a deliberately wrong value survives and is shown as wrong.

Every field keyword is looked up in the same declarations the parser uses: ``ttl``,
``flags_df`` or the full name ``ip.flags.df``; an unknown keyword is an error naming the fields
that exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from pktlab.wire._model import Field, Header
from pktlab.wire._packet import TABLES, Layer, Packet

if TYPE_CHECKING:
    from pktlab.wire._options import OptionCodec


class BuildError(ValueError):
    """A layer cannot be built from the values given; the message names layer and field."""


class Builder:
    """How one layer is built. Protocol modules subclass it and register an instance."""

    layer: str = ""
    headers: tuple[Header, ...] = ()
    selector: tuple[str, str] | None = None  # (field naming the next layer, table)
    defaults: Mapping[str, Any] = {}
    keywords: frozenset[str] = frozenset()  # extra keywords handled by emit (options)
    # An ICMP error's quoted datagram is rebuilt as raw payload by rebuild().
    carries_quoted: bool = False

    def resolve(self, key: str) -> str:
        if key in self.keywords:
            return key
        for header in self.headers:
            f = header.by_name.get(key) or header.by_short.get(key)
            if f is not None:
                return f.name
        known = sorted({h.short(f) for h in self.headers for f in h.fields} | set(self.keywords))
        raise BuildError(f"{self.layer} has no field {key!r}; it has: {', '.join(known)}")

    def decl(self, name: str) -> Field:
        for header in self.headers:
            f = header.by_name.get(name)
            if f is not None:
                return f
        raise BuildError(f"{self.layer}: no field {name}")

    def link(self, built: Built, inner: str) -> None:
        """Set the selector field for the layer that follows, unless the user set it."""
        if self.selector is None:
            return
        name, table = self.selector
        for key, layer in TABLES[table].items():
            if layer == inner:
                built.compute(name, key)
                return

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        return self.pack(self.headers[0], built.values) + payload

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        """Values that rebuild a dissected layer byte for byte (every field set explicitly).

        The default takes every top-level field of the builder's declarations that the layer
        has, and re-encodes option children from their fields through ``option_codec``.
        """
        values: dict[str, Any] = {}
        fields = layer.fields
        for header in self.headers:
            for f in header.top:
                if f.name in fields:
                    values[f.name] = fields[f.name]
        codec = self.option_codec
        if codec is not None and layer.children:
            values["options"] = codec.specs(layer.children, layer.fields)
        return values

    option_codec: OptionCodec | None = None

    def pack(self, header: Header, values: Mapping[str, Any]) -> bytes:
        """Encode one declaration from full-name values (sub-fields merged into parents)."""
        mine = {k: v for k, v in values.items() if k in header.by_name}
        try:
            wire = header.wire_values(mine)
        except (KeyError, ValueError) as exc:
            raise BuildError(f"{self.layer}: {exc}") from None
        missing = [f.name for f in header.top if f.name not in wire]
        if missing:
            raise BuildError(f"{self.layer}: no value for {', '.join(missing)}")
        return header.encode(wire)


class Built:
    """A layer's effective values during a build: defaults overlaid with the user's values."""

    __slots__ = ("layer", "user", "values")

    def __init__(self, layer: str, values: dict[str, Any], user: frozenset[str]) -> None:
        self.layer = layer
        self.values = values
        self.user = user

    def compute(self, name: str, value: Any) -> None:
        """Set a computed field (length, checksum, selector) unless the user set it."""
        if name not in self.user:
            self.values[name] = value

    def given(self, name: str) -> bool:
        return name in self.user


BUILDERS: dict[str, Builder] = {}


def register_builder(builder: Builder) -> Builder:
    BUILDERS[builder.layer] = builder
    return builder


class Proto:
    """One layer to build, with the values the user set (by full field name)."""

    __slots__ = ("layer", "values")

    def __init__(self, layer: str, values: Mapping[str, Any] | None = None, **keywords: Any):
        builder = BUILDERS.get(layer)
        if builder is None:
            raise BuildError(f"unknown layer {layer!r}; known: {', '.join(sorted(BUILDERS))}")
        self.layer = layer
        self.values: dict[str, Any] = {}
        for key, value in {**(values or {}), **keywords}.items():
            self.values[builder.resolve(key)] = value

    def __truediv__(self, other: Proto | Stack | bytes | str) -> Stack:
        return Stack([self]) / other

    def build(self) -> bytes:
        return Stack([self]).build()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{self.layer}({args})"


class Stack:
    """Layers outer to inner, then an optional payload."""

    __slots__ = ("layers", "payload")

    def __init__(self, layers: Sequence[Proto], payload: bytes = b"") -> None:
        self.layers = list(layers)
        self.payload = payload

    def __truediv__(self, other: Proto | Stack | bytes | str) -> Stack:
        if self.payload and not isinstance(other, (bytes, str)):
            raise BuildError("a layer cannot follow a raw payload")
        if isinstance(other, Proto):
            return Stack([*self.layers, other])
        if isinstance(other, Stack):
            return Stack([*self.layers, *other.layers], other.payload)
        data = other.encode() if isinstance(other, str) else bytes(other)
        return Stack(self.layers, self.payload + data)

    def build(self) -> bytes:
        effective: list[Built] = []
        for proto in self.layers:
            builder = BUILDERS[proto.layer]
            values = {**builder.defaults, **proto.values}
            effective.append(Built(proto.layer, values, frozenset(proto.values)))
        for outer, inner in pairwise(effective):
            BUILDERS[outer.layer].link(outer, inner.layer)
        data = self.payload
        for index in range(len(effective) - 1, -1, -1):
            built = effective[index]
            data = BUILDERS[built.layer].emit(built, data, effective[:index])
        return data

    def __repr__(self) -> str:
        parts = [repr(p) for p in self.layers]
        if self.payload:
            parts.append(repr(self.payload))
        return " / ".join(parts)


def nearest_ip(outer: list[Built]) -> Built | None:
    """The innermost IP layer around a transport header: its addresses form the pseudo-header."""
    for built in reversed(outer):
        if built.layer in ("ip", "ipv6"):
            return built
    return None


def rebuild(packet: Packet) -> bytes:
    """Build a dissected packet again from its field values alone.

    The result equals ``packet.data`` for every well-formed frame: the exact round trip that
    proves parse and build read the same declarations. A malformed layer, the ``data`` layer
    and an ICMP error's quoted datagram are carried as raw bytes.
    """
    protos: list[Proto] = []
    payload = b""
    layers = packet.layers
    end = max((layer.offset + layer.length for layer in layers), default=0)
    for layer in layers:
        if layer.quoted:
            continue
        builder = BUILDERS.get(layer.name)
        if layer.name == "data" or builder is None or layer.malformed:
            payload = packet.data[layer.offset:end]
            break
        proto = Proto.__new__(Proto)
        proto.layer = layer.name
        proto.values = builder.layer_values(layer)
        protos.append(proto)
        if builder.carries_quoted:
            payload = packet.data[layer.offset + layer.length:end]
            break
    return Stack(protos, payload).build()
