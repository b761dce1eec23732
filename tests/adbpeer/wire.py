"""ADB transport messages as adbd frames them (system/core/adb/protocol.txt), peer side.

Kept apart from workbench.core.adb on purpose: the peer is the reference the workbench is tested
against, so it must not share (and hide) the workbench's own codec bugs.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass


def _cmd(name: bytes) -> int:
    return struct.unpack("<I", name)[0]


A_SYNC = _cmd(b"SYNC")
A_CNXN = _cmd(b"CNXN")
A_AUTH = _cmd(b"AUTH")
A_OPEN = _cmd(b"OPEN")
A_OKAY = _cmd(b"OKAY")
A_CLSE = _cmd(b"CLSE")
A_WRTE = _cmd(b"WRTE")
KNOWN = {A_SYNC, A_CNXN, A_AUTH, A_OPEN, A_OKAY, A_CLSE, A_WRTE}

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
TOKEN_SIZE = 20

HEADER = struct.Struct("<6I")


class ProtocolViolation(Exception):
    """The host sent something adbd would drop the connection for."""


def checksum(data: bytes) -> int:
    """adbd's "crc32": the byte sum (what every adb version actually computes)."""
    return sum(data) & 0xFFFFFFFF


@dataclass
class Message:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return struct.pack("<I", self.command).decode("ascii", "replace")

    def pack(self, with_checksum: bool) -> bytes:
        crc = checksum(self.data) if with_checksum else 0
        head = HEADER.pack(self.command, self.arg0, self.arg1, len(self.data), crc, self.command ^ 0xFFFFFFFF)
        return head + self.data


def parse_header(raw: bytes, max_payload: int) -> tuple[int, int, int, int, int]:
    """Validate a 24-byte header as adbd does; returns (command, arg0, arg1, length, crc)."""
    command, arg0, arg1, length, crc, magic = HEADER.unpack(raw)
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolViolation(f"bad magic {magic:#x} for command {command:#x}")
    if command not in KNOWN:
        raise ProtocolViolation(f"unknown command {command:#x}")
    if length > max_payload:
        raise ProtocolViolation(f"payload {length} exceeds max {max_payload}")
    return command, arg0, arg1, length, crc


def verify_payload(data: bytes, crc: int, version: int) -> None:
    """Old protocol versions must carry the sum; newer ones may send 0, and a non-zero sum is still checked."""
    if crc == 0 and version >= A_VERSION_SKIP_CHECKSUM:
        return
    if checksum(data) != crc:
        raise ProtocolViolation(f"payload checksum {checksum(data):#x} != header {crc:#x}")
