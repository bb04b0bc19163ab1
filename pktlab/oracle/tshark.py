"""tshark as an oracle: Wireshark's dissection of a capture file, flattened for comparison.

pktlab names its fields with Wireshark display-filter names, so the quickest way to find out
whether pktlab decodes a header correctly is to ask Wireshark's own dissectors (through tshark)
and compare field by field. This module runs tshark on a capture file and turns its JSON into a
small, flat, typed structure; it does not compare anything itself.

What it provides
----------------
* :func:`tshark_available`, :func:`tshark_version`.
* :func:`run_tshark`: one tshark run on one file, returning a :class:`TsharkResult` (a list of
  :class:`TsharkFrame`, plus what went wrong, if anything).
* :func:`parse_tshark_json`: the parser alone, for output produced elsewhere.
* :func:`normalise`: a tshark value string as the Python value pktlab uses for the same field.
* :func:`frame_meta`: the record-level facts of a frame (number, lengths, exact timestamp).

The flattened structure
-----------------------
``TsharkFrame.layers`` holds the top-level protocol trees in document order, one
:class:`TsharkLayer` per key of tshark's ``layers`` object (``frame``, ``eth``, ``ip``, ``tcp``,
and pseudo-layers such as ``_ws.malformed`` and ``_ws.short``). Within a layer:

* ``fields`` maps every leaf field name to the list of its values in document order. tshark's
  JSON repeats keys within one object (``ip.addr`` twice, ``tcp.option_kind`` once per option),
  so nothing is ever overwritten. Subtrees are recursed into: ``*_tree`` objects, field objects
  without a value of their own (``ipv6.opt``, ``tcp.segments``), text labels used as keys
  (``"Timestamps"``, ``"Queries"``, ``"Type: 8 (Echo (ping) request)"``: the label is dropped,
  its subtree kept) and nested protocols. Fields of nested protocols are therefore *also* in
  the enclosing layer, so ``tcp.fields["tcp.option_kind"]`` lists every option, the MPTCP one
  (which tshark puts inside an ``mptcp`` protocol subtree) included.
* ``children`` holds the protocols nested inside the layer, each a :class:`TsharkLayer` of its
  own: the headers quoted by an ICMP or ICMPv6 error (``icmp`` -> ``ip``, ``udp``), IPv6
  extension headers (``ipv6`` -> ``ipv6.hopopts``, ``ipv6.routing``, ``ipv6.fraghdr``,
  ``ipv6.dstopts``, ``ah``), MPTCP inside TCP options (``tcp`` -> ``mptcp``). A nested object is
  a protocol when its key is in the frame's ``frame.protocols`` or is a bare (dot-less) name.
  Note that tshark puts the *application* protocol of a quoted datagram (the DNS of a quoted
  UDP datagram) at the top level, after the ``icmp`` layer, not inside it.
* ``expert`` holds the layer's own expert items (not its children's): one dict per
  ``_ws.expert`` block with the keys ``field`` (the expert item's name, such as
  ``tcp.connection.syn``), ``message``, ``severity`` (``comment``, ``chat``, ``note``,
  ``warning``, ``error``) and ``group`` (``checksum``, ``sequence``, ``malformed``, ...), and one
  per other ``_ws.*`` marker (``_ws.malformed``, ``_ws.short``), whose text is the message and
  whose severity and group are empty. ``_ws.*`` keys never appear in ``fields``.

tshark's command line
---------------------
See :func:`tshark_command`. Checksums are validated (so ``*.checksum.status`` means something),
sequence numbers are absolute and TCP analysis is off (header values, not tshark's opinions of
them). Reassembly stays on: it never changes a header value, but it does decide which frame
carries a reassembled payload (and tshark skips reassembly for segments and fragments with a bad
checksum). Pass ``extra_prefs`` to change any of this. tshark runs with a private, empty
configuration directory, so a user's Wireshark profile cannot change the result.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_PREFS",
    "TsharkError",
    "TsharkFrame",
    "TsharkLayer",
    "TsharkResult",
    "field_type",
    "frame_meta",
    "normalise",
    "parse_tshark_json",
    "run_tshark",
    "tshark_available",
    "tshark_command",
    "tshark_version",
]

#: ``-o`` preferences always passed; each was checked against ``tshark -G defaultprefs`` (4.0).
DEFAULT_PREFS: tuple[str, ...] = (
    # Absolute numbers are what is on the wire; relative ones need state across frames.
    "tcp.relative_sequence_numbers:FALSE",
    # Analysis adds opinions (retransmission, dup ACK...) and costs time; we want raw headers.
    "tcp.analyze_sequence_numbers:FALSE",
    # Inter-segment times are derived, not header fields: dropping them shrinks the JSON.
    "tcp.calculate_timestamps:FALSE",
    "udp.calculate_timestamps:FALSE",
    # Off by default in tshark; without them every *.checksum.status is "unverified".
    # ICMP, ICMPv6 and IGMP checksums are always verified and have no such preference.
    "ip.check_checksum:TRUE",
    "tcp.check_checksum:TRUE",
    "udp.check_checksum:TRUE",
    "udplite.check_checksum:TRUE",
)

_FIELD_NAME = re.compile(r"^[a-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")
_BARE_NAME = re.compile(r"^[a-z0-9_\-]+$")
_VERSION = re.compile(r"\b(\d+\.\d+\.\d+)\b")
_ROOT_WARNING = re.compile(r'^Running as user ".*" and group ".*"\. This could be dangerous\.$')

_SEVERITIES = {
    0x00100000: "comment",
    0x00200000: "chat",
    0x00400000: "note",
    0x00600000: "warning",
    0x00800000: "error",
}
_GROUPS = {
    0x01000000: "checksum",
    0x02000000: "sequence",
    0x03000000: "response_code",
    0x04000000: "request_code",
    0x05000000: "undecoded",
    0x06000000: "reassemble",
    0x07000000: "malformed",
    0x08000000: "debug",
    0x09000000: "protocol",
    0x0A000000: "security",
    0x0B000000: "comments_group",
    0x0C000000: "decryption",
    0x0D000000: "assumption",
    0x0E000000: "deprecated",
    0x0F000000: "receive",
    0x10000000: "interface",
    0x11000000: "dissector_bug",
}
_CHECKSUM_STATUS = {
    "0": "bad",
    "1": "good",
    "2": "unverified",
    "3": "not_present",
    "4": "illegal",
}


class TsharkError(Exception):
    """tshark could not be run, refused the file, or its output could not be used."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(slots=True)
class TsharkLayer:
    """One protocol tree: its fields (nested protocols' included), nested protocols, expert."""

    name: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    children: list[TsharkLayer] = field(default_factory=list)
    expert: list[dict[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def first(self, name: str) -> str | None:
        found = self.fields.get(name)
        return found[0] if found else None

    def child(self, name: str, occurrence: int = 0) -> TsharkLayer | None:
        matches = [c for c in self.children if c.name == name]
        return matches[occurrence] if occurrence < len(matches) else None

    def walk(self) -> Iterator[TsharkLayer]:
        """This layer, then every nested layer, depth first in document order."""
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(slots=True)
class TsharkFrame:
    """One frame as tshark dissected it."""

    number: int
    protocols: list[str]
    layers: list[TsharkLayer]

    def layer(self, name: str, occurrence: int = 0) -> TsharkLayer | None:
        """A top-level layer by name (``occurrence`` counts repeats, as in IP-in-IP)."""
        matches = [lay for lay in self.layers if lay.name == name]
        return matches[occurrence] if occurrence < len(matches) else None

    def walk(self) -> Iterator[TsharkLayer]:
        for lay in self.layers:
            yield from lay.walk()

    def expert_infos(self) -> list[dict[str, str]]:
        return [item for lay in self.walk() for item in lay.expert]

    @property
    def malformed(self) -> bool:
        return any(
            item["field"].startswith("_ws.malformed") or item["group"] == "malformed"
            for item in self.expert_infos()
        )

    @property
    def short(self) -> bool:
        """tshark ran out of captured bytes (``caplen`` < what the headers announce)."""
        return any(item["field"] == "_ws.short" for item in self.expert_infos())


class TsharkResult(list[TsharkFrame]):
    """The frames of one run, and how the run ended.

    ``error`` is ``None`` for a clean run. Otherwise it holds tshark's complaint (a damaged
    file: tshark stops at the first record it cannot read but exits only after printing the
    frames before it) and/or a note that the JSON output ended inside a frame; the frames that
    were complete are still here. ``complete`` is false when the output was cut short.
    """

    def __init__(self, frames: Iterable[TsharkFrame] = ()) -> None:
        super().__init__(frames)
        self.path: str = ""
        self.command: list[str] = []
        self.returncode: int = 0
        self.stderr: str = ""
        self.error: str | None = None
        self.complete: bool = True


# --------------------------------------------------------------------------- running tshark


def _tshark_path() -> str | None:
    return shutil.which("tshark")


def tshark_available() -> bool:
    return _tshark_path() is not None


@functools.cache
def _version_of(executable: str) -> str | None:
    try:
        out = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.stdout.splitlines()[0] if out.stdout else ""
    match = _VERSION.search(first)
    return match.group(1) if match else None


def tshark_version() -> str | None:
    """``"4.0.17"``, or ``None`` when tshark is missing or says something unexpected."""
    exe = _tshark_path()
    return _version_of(exe) if exe else None


def tshark_command(
    path: str | os.PathLike[str],
    *,
    extra_prefs: Sequence[str] = (),
    display_filter: str | None = None,
    executable: str = "tshark",
) -> list[str]:
    """The argument vector :func:`run_tshark` uses.

    ``-n`` because resolved names would replace addresses in ``*_resolved``/``*_host`` fields
    and resolving costs time (and DNS traffic); ``-T json`` because it is the one output format
    that keeps the tree (and so tells a quoted header from the outer one); :data:`DEFAULT_PREFS`
    then ``extra_prefs`` as ``-o`` options (later ones win); ``-Y`` for a display filter.
    No ``-x``: raw bytes are pktlab's own input, not something to compare.
    """
    cmd = [executable, "-n", "-r", os.fspath(path), "-T", "json"]
    for pref in (*DEFAULT_PREFS, *extra_prefs):
        if ":" not in pref:
            raise ValueError(f"tshark preference must be 'name:value', got {pref!r}")
        cmd += ["-o", pref]
    if display_filter is not None:
        cmd += ["-Y", display_filter]
    return cmd


def _clean_stderr(text: str) -> str:
    # tshark warns about running as root on every run; it is noise, never the error.
    lines = [ln for ln in text.splitlines() if ln.strip() and not _ROOT_WARNING.match(ln.strip())]
    return "\n".join(lines)


def run_tshark(
    path: str | os.PathLike[str],
    *,
    extra_prefs: Sequence[str] = (),
    display_filter: str | None = None,
    timeout: float = 120,
) -> TsharkResult:
    """Dissect ``path`` with tshark; one :class:`TsharkFrame` per frame tshark printed.

    Raises :class:`TsharkError` when tshark is missing, times out, or exits non-zero without
    printing a single frame (unreadable or unsupported file, bad preference or filter). When it
    exits non-zero *after* printing frames (a file damaged part way), the frames are returned
    and ``result.error`` holds tshark's message. With a display filter, frame numbers are still
    the file's.
    """
    exe = _tshark_path()
    if exe is None:
        raise TsharkError("tshark is not installed (not found on PATH)")
    cmd = tshark_command(
        path, extra_prefs=extra_prefs, display_filter=display_filter, executable=exe
    )
    timed_out = threading.Event()
    with (
        tempfile.TemporaryDirectory(prefix="pktlab-tshark-") as confdir,
        tempfile.TemporaryFile() as errfile,
    ):
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir)
        try:
            # stderr goes to a file so a chatty tshark can never block on a full pipe while
            # we are still reading stdout.
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errfile, env=env
            )
        except OSError as exc:
            raise TsharkError(f"cannot run tshark: {exc}") from exc

        def _kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, _kill)
        timer.start()
        try:
            assert proc.stdout is not None
            result = parse_tshark_json(proc.stdout)
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        errfile.seek(0)
        stderr = _clean_stderr(errfile.read().decode("utf-8", errors="replace"))

    if timed_out.is_set():
        raise TsharkError(
            f"tshark timed out after {timeout:g} s on {os.fspath(path)}",
            returncode=returncode,
            stderr=stderr,
        )
    result.path = os.fspath(path)
    result.command = cmd
    result.returncode = returncode
    result.stderr = stderr
    if returncode != 0:
        message = stderr or f"tshark exited with status {returncode}"
        if not result:
            raise TsharkError(message, returncode=returncode, stderr=stderr)
        result.error = message if result.error is None else f"{message}\n{result.error}"
    return result


# --------------------------------------------------------------------------- parsing the JSON


class _Obj(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs, duplicates and order kept."""


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Obj:
    return _Obj(pairs)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook, strict=False)


def parse_tshark_json(output: bytes | str | Iterable[bytes]) -> TsharkResult:
    """Parse ``tshark -T json`` output, frame by frame, tolerating a truncated array.

    ``output`` may be the whole text or an iterable of lines (a pipe), which is parsed as it
    arrives so that memory holds one frame's JSON at a time. tshark prints each frame object
    between a ``"  {"`` line and a ``"  }"``/``"  },"`` line; if the output is laid out any
    other way, the remainder is parsed as a whole instead.
    """
    if isinstance(output, str):
        output = output.encode("utf-8")
    lines: Iterable[bytes]
    lines = output.splitlines(keepends=True) if isinstance(output, bytes) else output
    result = TsharkResult()
    current: list[bytes] | None = None
    rest: list[bytes] | None = None
    for line in lines:
        if rest is not None:
            rest.append(line)
            continue
        bare = line.rstrip(b"\r\n")
        if current is None:
            if bare == b"  {":
                current = [line]
            elif bare.strip() not in (b"", b"[", b"]", b",", b"[]"):
                rest = [line]
            continue
        if bare in (b"  }", b"  },"):
            current.append(b"  }")
            _add_frame(result, b"".join(current))
            current = None
        else:
            current.append(line)
    if rest is not None:
        _parse_whole(result, b"".join(rest))
    elif current is not None:
        result.complete = False
        _note(result, f"tshark output ended inside frame {len(result) + 1} (truncated JSON)")
    return result


def _note(result: TsharkResult, message: str) -> None:
    result.error = message if result.error is None else f"{result.error}\n{message}"


def _add_frame(result: TsharkResult, chunk: bytes) -> None:
    try:
        obj = _DECODER.decode(chunk.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        _note(result, f"frame {len(result) + 1}: unparsable JSON: {exc}")
        return
    result.append(_frame_from_obj(obj, len(result) + 1))


def _parse_whole(result: TsharkResult, data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n[,":
            pos += 1
        if pos >= end or text[pos] == "]":
            return
        try:
            obj, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            result.complete = False
            _note(result, f"tshark output ended inside frame {len(result) + 1} (truncated JSON)")
            return
        result.append(_frame_from_obj(obj, len(result) + 1))


def _lookup(obj: Any, key: str) -> Any:
    if isinstance(obj, _Obj):
        for k, v in obj:
            if k == key:
                return v
    return None


def _frame_from_obj(obj: Any, fallback_number: int) -> TsharkFrame:
    layers_obj = _lookup(_lookup(obj, "_source"), "layers")
    frame_obj = _lookup(layers_obj, "frame")
    protocols_text = _lookup(frame_obj, "frame.protocols")
    protocols: list[str] = []
    if isinstance(protocols_text, str):
        protocols = [p for p in protocols_text.split(":") if p]
    number_text = _lookup(frame_obj, "frame.number")
    number = int(number_text) if isinstance(number_text, str) and number_text.isdigit() else None
    known = frozenset(protocols)
    layers: list[TsharkLayer] = []
    if isinstance(layers_obj, _Obj):
        for key, value in layers_obj:
            layer = TsharkLayer(key)
            if isinstance(value, _Obj):
                _fill(layer, value, known)
            elif key.startswith("_ws."):
                layer.expert.append(_marker(key, value))
            layers.append(layer)
    return TsharkFrame(number if number is not None else fallback_number, protocols, layers)


def _is_field_name(key: str, known: frozenset[str]) -> bool:
    # A dot-less leaf counts only as a protocol of this frame: HTTP bodies and other text
    # lines turn up as keys too, and a one-word line would otherwise pass for a field.
    return bool(_FIELD_NAME.match(key)) or key in known


def _is_protocol(key: str, known: frozenset[str]) -> bool:
    # Field abbreviations always contain a dot; a dot-less name is a protocol. Dotted protocol
    # names (ipv6.hopopts) are recognisable only by being listed in frame.protocols.
    return key in known or bool(_BARE_NAME.match(key))


def _fill(layer: TsharkLayer, obj: _Obj, known: frozenset[str]) -> None:
    fields = layer.fields
    for key, value in obj:
        if isinstance(value, _Obj):
            if key == "_ws.expert":
                layer.expert.append(_expert(value))
            elif not key.endswith("_tree") and _is_protocol(key, known):
                child = TsharkLayer(key)
                _fill(child, value, known)
                layer.children.append(child)
                # Appending now keeps every list in document order: the child's values of a
                # field land between the parent's values before and after it.
                for name, vals in child.fields.items():
                    fields.setdefault(name, []).extend(vals)
            else:
                _fill(layer, value, known)
        elif key.startswith("_ws."):
            layer.expert.append(_marker(key, value))
        elif _is_field_name(key, known):
            vals = fields.setdefault(key, [])
            if isinstance(value, list):
                # Only `tshark --no-duplicate-keys` emits arrays; accept them anyway.
                vals.extend(_leaf_text(v) for v in value if not isinstance(v, _Obj))
            else:
                vals.append(_leaf_text(value))
        # Anything else is a text label with a string value: display text, not a field.


def _leaf_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _expert(obj: _Obj) -> dict[str, str]:
    item = {"field": "", "message": "", "severity": "", "group": ""}
    for key, value in obj:
        text = _leaf_text(value) if not isinstance(value, _Obj) else ""
        if key == "_ws.expert.message":
            item["message"] = text
        elif key == "_ws.expert.severity":
            item["severity"] = _code_name(text, _SEVERITIES)
        elif key == "_ws.expert.group":
            item["group"] = _code_name(text, _GROUPS)
        elif not item["field"]:
            item["field"] = key
    return item


def _marker(key: str, value: Any) -> dict[str, str]:
    text = _leaf_text(value) if not isinstance(value, _Obj) else ""
    return {"field": key, "message": text, "severity": "", "group": ""}


def _code_name(text: str, names: dict[int, str]) -> str:
    try:
        return names.get(int(text, 0), text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- values


def frame_meta(frame: TsharkFrame) -> dict[str, int | str | None]:
    """Record-level facts, from the ``frame`` layer.

    ``frame.number``, ``frame.len`` and ``frame.cap_len`` as ``int``; ``frame.time_epoch`` and
    ``frame.protocols`` as tshark's exact strings (the epoch time has nanosecond digits, which a
    float would lose). A missing value is ``None``.
    """
    layer = frame.layer("frame")
    meta: dict[str, int | str | None] = {}
    for name in ("frame.number", "frame.len", "frame.cap_len"):
        text = layer.first(name) if layer else None
        meta[name] = int(text) if text is not None and text.isdigit() else None
    for name in ("frame.time_epoch", "frame.protocols"):
        meta[name] = layer.first(name) if layer else None
    return meta


@functools.cache
def _field_table() -> dict[str, tuple[str, str]]:
    # Cached for the process: normalise() is called once per value, and both PATH lookup and
    # `tshark -G fields` (about 200,000 lines) are far too slow to repeat.
    exe = _tshark_path()
    if exe is None:
        return {}
    try:
        out = subprocess.run([exe, "-G", "fields"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return {}
    table: dict[str, tuple[str, str]] = {}
    for line in out.stdout.decode("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 6 and parts[0] == "F":
            table[parts[2]] = (parts[3], parts[5])
        elif len(parts) >= 3 and parts[0] == "P":
            # Some "fields" are protocols (every TCP option: tcp.options.mss, .nop, ...);
            # their JSON value is the bytes they cover.
            table.setdefault(parts[2], ("FT_PROTOCOL", ""))
    return table


def field_type(name: str) -> str | None:
    """tshark's type for a field (``FT_UINT16``, ``FT_ETHER``, ``FT_PROTOCOL``...) or ``None``.

    Read once per process from ``tshark -G fields``; without tshark every answer is ``None``.
    """
    entry = _field_table().get(name)
    return entry[0] if entry else None


_HEX_INT = re.compile(r"^-?0[xX][0-9a-fA-F]+$")
_DEC_INT = re.compile(r"^-?[0-9]+$")
_HEX_BYTES = re.compile(r"^[0-9a-fA-F]{2}([:. -]?[0-9a-fA-F]{2})*$")
_COLON_BYTES = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+$")
_PROTO_BYTES = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_MAC_HINT = re.compile(r"(^eth\.|mac|hw|\.(src|dst|addr)(_resolved)?$|\.eth$)")
_INT_TYPES = re.compile(r"^FT_(U?INT\d+|FRAMENUM|CHAR)$")
_BYTES_TYPES = frozenset({"FT_BYTES", "FT_UINT_BYTES", "FT_EUI64", "FT_AX25", "FT_VINES"})
_EMPTY_IS_NONE = frozenset({"FT_NONE", "FT_PROTOCOL"})


def _to_int(text: str, base: str) -> int | str:
    try:
        if _HEX_INT.match(text):
            return int(text, 16)
        if base == "BASE_OCT" and _DEC_INT.match(text):
            return int(text, 8)
        if _DEC_INT.match(text):
            return int(text)
    except ValueError:
        pass
    return text


def _to_bytes(text: str) -> bytes | str:
    if text == "":
        return b""
    if not _HEX_BYTES.match(text):
        return text
    return bytes.fromhex(re.sub(r"[:. -]", "", text))


def _to_ipv6(text: str) -> str:
    try:
        packed = ipaddress.IPv6Address(text).packed
    except ValueError:
        return text
    # inet_ntop is what pktlab formats with (RFC 5952, IPv4-mapped as ::ffff:a.b.c.d), and
    # ipaddress's own str() of mapped addresses changed between Python versions.
    return socket.inet_ntop(socket.AF_INET6, packed)


def normalise(field: str, value: str) -> int | str | bytes | None:
    """tshark's string for ``field`` as the Python value pktlab uses.

    Rules, first match wins:

    1. Checksum status (``*.checksum.status``, ``*.fcs.status``, ``*.crc.status``): tshark's
       code as a word: ``"0"`` -> ``"bad"``, ``"1"`` -> ``"good"``, ``"2"`` ->
       ``"unverified"``, ``"3"`` -> ``"not_present"`` (UDP checksum 0), ``"4"`` ->
       ``"illegal"``. An unknown code is returned unchanged.
    2. ``"True"``/``"False"`` -> ``1``/``0``.
    3. When tshark knows the field (:func:`field_type`), by its type:

       * integers (``FT_UINT*``, ``FT_INT*``, ``FT_FRAMENUM``, ``FT_CHAR``) and ``FT_BOOLEAN``:
         ``"0x0800"`` -> ``2048``, ``"60"`` -> ``60`` (octal for ``BASE_OCT`` fields); text
         that is not a number (a custom-formatted value) is returned unchanged;
       * ``FT_ETHER``: the MAC address, lower-case, colon-separated;
       * ``FT_IPv4``: the dotted quad as is;
       * ``FT_IPv6``: re-formatted per RFC 5952 (``2001:0db8:0:0::1`` -> ``2001:db8::1``);
       * byte strings (``FT_BYTES``, ``FT_UINT_BYTES``, ...): ``"02:04:05:b4"`` ->
         ``b"\\x02\\x04\\x05\\xb4"`` (also without separators, and ``""`` -> ``b""``);
       * ``FT_NONE``/``FT_PROTOCOL`` (TCP options are protocols: ``tcp.options.mss``):
         ``""`` -> ``None``, colon-separated hex octets -> ``bytes`` (``"01"`` -> ``b"\\x01"``),
         other text (a protocol's title) unchanged;
       * anything else (strings, times, floats): unchanged, so times stay exact.
    4. Otherwise (tshark missing, or a field it does not declare) by the value's shape:
       ``0x`` hex and decimal -> ``int``; a dotted quad -> unchanged; six colon-separated hex
       octets in a field whose name suggests a hardware address (``eth.*``, ``*.src``,
       ``*.dst``, ``*.addr``, ``*mac*``, ``*hw*``) -> lower-case MAC; other colon-separated hex
       octets -> ``bytes``; anything that parses as an IPv6 address -> RFC 5952; ``""`` ->
       ``None``; other text unchanged. Shape alone is ambiguous (``"01"`` is ``1`` here but
       ``b"\\x01"`` for a one-byte ``FT_BYTES`` field), which is why rule 3 comes first.
    """
    if re.search(r"(checksum|fcs|crc)[._]status$", field):
        return _CHECKSUM_STATUS.get(value, value)
    if value in ("True", "False"):
        return 1 if value == "True" else 0
    ftype = field_type(field)
    if ftype is not None:
        if ftype == "FT_BOOLEAN" or _INT_TYPES.match(ftype):
            return _to_int(value, _field_table()[field][1])
        if ftype == "FT_ETHER":
            return value.lower()
        if ftype == "FT_IPv4":
            return value
        if ftype == "FT_IPv6":
            return _to_ipv6(value)
        if ftype in _BYTES_TYPES:
            return _to_bytes(value)
        if ftype in _EMPTY_IS_NONE:
            if value == "":
                return None
            return bytes.fromhex(value.replace(":", "")) if _PROTO_BYTES.match(value) else value
        return value
    if value == "":
        return None
    if _HEX_INT.match(value) or _DEC_INT.match(value):
        return _to_int(value, "")
    if _IPV4.match(value):
        return value
    if _MAC.match(value) and _MAC_HINT.search(field):
        return value.lower()
    if _COLON_BYTES.match(value):
        return bytes.fromhex(value.replace(":", ""))
    if ":" in value:
        return _to_ipv6(value)
    return value
