"""The peer itself: it must be strict where adbd is strict, or the link tests prove nothing."""
from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

import pytest
from adb_shell.auth.keygen import keygen
from adb_shell.auth.sign_cryptography import CryptographySigner
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.adbpeer import wire
from tests.adbpeer.auth import BadPublicKey, decode_android_pubkey, encode_android_pubkey, verify_token
from tests.adbpeer.sandbox import Sandbox


def _cnxn(version: int, data: bytes, crc: int | None = None) -> bytes:
    msg = wire.Message(wire.A_CNXN, version, 1 << 20, data).pack(with_checksum=True)
    if crc is not None:
        msg = msg[:16] + struct.pack("<I", crc) + msg[20:]
    return msg


def _reply(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    try:
        return sock.recv(24)
    except ConnectionResetError:
        return b""


def test_checksum_is_verified_when_sent(make_peer) -> None:
    peer = make_peer(auth_required=False)
    with socket.create_connection(("127.0.0.1", peer.port)) as good:
        good.sendall(_cnxn(0x01000001, b"host::\0"))
        assert _reply(good)[:4] == b"CNXN"
    with socket.create_connection(("127.0.0.1", peer.port)) as bad:
        bad.sendall(_cnxn(0x01000001, b"host::\0", crc=12345))
        assert _reply(bad) == b""  # dropped, like adbd


def test_zero_checksum_only_allowed_from_version_2(make_peer) -> None:
    peer = make_peer(auth_required=False)
    with socket.create_connection(("127.0.0.1", peer.port)) as new:
        new.sendall(_cnxn(0x01000001, b"host::\0", crc=0))
        assert _reply(new)[:4] == b"CNXN"
    with socket.create_connection(("127.0.0.1", peer.port)) as old:
        old.sendall(_cnxn(0x01000000, b"host::\0", crc=0))
        assert _reply(old) == b""


def test_bad_magic_drops_the_connection(make_peer) -> None:
    peer = make_peer(auth_required=False)
    raw = bytearray(_cnxn(0x01000001, b"host::\0"))
    raw[20] ^= 1
    with socket.create_connection(("127.0.0.1", peer.port)) as sock:
        sock.sendall(bytes(raw))
        assert _reply(sock) == b""


def test_android_pubkey_matches_adb_shell_and_adb(tmp_path) -> None:
    keygen(str(tmp_path / "adbkey"))
    signer = CryptographySigner(str(tmp_path / "adbkey"))
    key, comment = decode_android_pubkey(signer.GetPublicKey())
    assert "@" in comment
    token = os.urandom(wire.TOKEN_SIZE)
    assert verify_token(key, token, signer.Sign(token))
    assert not verify_token(key, os.urandom(wire.TOKEN_SIZE), signer.Sign(token))
    round_trip, _ = decode_android_pubkey(encode_android_pubkey(key))
    assert round_trip.public_numbers() == key.public_numbers()


def test_malformed_pubkey_is_rejected() -> None:
    good = encode_android_pubkey(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
    import base64
    blob = bytearray(base64.b64decode(good.split()[0]))
    blob[4] ^= 0xFF  # n0inv
    with pytest.raises(BadPublicKey, match="n0inv"):
        decode_android_pubkey(base64.b64encode(bytes(blob)).decode() + " x@y")
    with pytest.raises(BadPublicKey):
        decode_android_pubkey("bm90IGEga2V5 x@y")


def test_sandbox_maps_only_device_prefixes(tmp_path) -> None:
    sb = Sandbox(tmp_path)
    assert sb.host_path("/data/local/tmp/m.onnx") == (sb.root / "data/local/tmp/m.onnx", True)
    assert sb.host_path("/data/local/tmp/../../../etc/passwd") == (Path("/etc/passwd"), False)  # no escape
    assert sb.host_path("/proc/stat") == (Path("/proc/stat"), False)  # the host's real /proc
    assert sb.rewrite_command("cat /data/local/tmp/x '/data/local/tmp/y z'") == \
        f"cat {sb.root}/data/local/tmp/x '{sb.root}/data/local/tmp/y z'"
    assert sb.rewrite_command("cat /proc/stat /x/data/local/tmp") == "cat /proc/stat /x/data/local/tmp"
