"""Reading and writing packet capture files: classic pcap and pcapng, in pure Python.

``open_capture(path_or_file)`` sniffs the format and returns a ``PcapReader`` or
``PcapngReader``; both iterate over ``CaptureRecord`` values with exact integer-nanosecond
timestamps, read incrementally in bounded memory, and stop at damage with a ``CaptureError``
that names the byte offset and what was wrong, after delivering every good record before it.
``PcapWriter`` and ``PcapngWriter`` write files that tshark, libpcap and scapy read.

Formats: draft-ietf-opsawg-pcap (module ``pcap``) and draft-ietf-opsawg-pcapng (``pcapng``).
"""

from ._base import MAX_RECORD, CaptureError
from ._open import Reader, open_capture
from ._record import CaptureRecord
from .linktypes import LINKTYPE_NAMES, linktype_name
from .pcap import PcapReader, PcapWriter
from .pcapng import Interface, InterfaceStatistics, PcapngReader, PcapngWriter, Section

__all__ = [
    "LINKTYPE_NAMES",
    "MAX_RECORD",
    "CaptureError",
    "CaptureRecord",
    "Interface",
    "InterfaceStatistics",
    "PcapReader",
    "PcapWriter",
    "PcapngReader",
    "PcapngWriter",
    "Reader",
    "Section",
    "linktype_name",
    "open_capture",
]
