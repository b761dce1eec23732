"""adbd's RSA authentication: Android's public-key blob and token signature checks.

adbd signs nothing itself; it checks that the host's signature over a 20-byte random token verifies
as PKCS#1 v1.5 with a SHA-1 DigestInfo, the token standing in for the digest (RSA_verify(NID_sha1,...)).
"""
from __future__ import annotations

import base64
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

MODULUS_WORDS = 64  # 2048-bit keys, the only size adbd accepts
_BLOB = struct.Struct(f"<II{MODULUS_WORDS * 4}s{MODULUS_WORDS * 4}sI")


class BadPublicKey(ValueError):
    """The RSAPUBLICKEY payload is not a well-formed Android public key."""


def decode_android_pubkey(text: bytes | str) -> tuple[rsa.RSAPublicKey, str]:
    """Parse "base64(struct RSAPublicKey) user@host" into a key and its comment, checking n0inv and rr."""
    if isinstance(text, bytes):
        text = text.rstrip(b"\0").decode("ascii", "replace")
    b64, _, comment = text.strip().partition(" ")
    try:
        blob = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise BadPublicKey(f"not base64: {exc}") from exc
    if len(blob) != _BLOB.size:
        raise BadPublicKey(f"blob is {len(blob)} bytes, expected {_BLOB.size}")
    words, n0inv, n_le, rr_le, exponent = _BLOB.unpack(blob)
    if words != MODULUS_WORDS:
        raise BadPublicKey(f"modulus has {words} words, expected {MODULUS_WORDS}")
    n = int.from_bytes(n_le, "little")
    rr = int.from_bytes(rr_le, "little")
    if (n0inv * n) % (1 << 32) != (1 << 32) - 1:
        raise BadPublicKey("n0inv is not -1/n mod 2^32")
    if rr != pow(2, MODULUS_WORDS * 64, n):
        raise BadPublicKey("rr is not 2^4096 mod n")
    return rsa.RSAPublicNumbers(exponent, n).public_key(), comment


def encode_android_pubkey(key: rsa.RSAPublicKey, comment: str = "peer@test") -> str:
    """The inverse of decode_android_pubkey, for pre-authorizing keys in tests."""
    nums = key.public_numbers()
    n0inv = (1 << 32) - pow(nums.n % (1 << 32), -1, 1 << 32)
    rr = pow(2, MODULUS_WORDS * 64, nums.n)
    size = MODULUS_WORDS * 4
    blob = _BLOB.pack(MODULUS_WORDS, n0inv, nums.n.to_bytes(size, "little"), rr.to_bytes(size, "little"), nums.e)
    return base64.b64encode(blob).decode() + " " + comment


def verify_token(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    """True when `signature` is the host's RSA signature over `token` used as a SHA-1 digest."""
    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
    except (InvalidSignature, ValueError):
        return False
    return True
