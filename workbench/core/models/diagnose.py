"""Say *why* bytes are not a readable ONNX model, in words a user can act on.

protobuf only says "Error parsing message". Users need to know whether they grabbed the wrong file (text, a
Git LFS pointer, a PyTorch checkpoint), or whether a download/copy was cut short (and by how much).
"""
from __future__ import annotations

from onnx import ModelProto

# Leading bytes of formats people commonly mistake for ONNX, with the hint we give for each.
_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"PK\x03\x04", "a zip archive (a PyTorch .pt/.pth checkpoint or a zipped model?), not ONNX"),
    (0, b"\x1f\x8b", "gzip-compressed data; decompress it first"),
    (0, b"\x89HDF", "an HDF5 file (a Keras .h5 model?), not ONNX"),
    (4, b"TFL3", "a TensorFlow Lite flatbuffer, not ONNX"),
    (0, b"\x80\x02", "a Python pickle (a PyTorch checkpoint?), not ONNX"),
    (0, b"\x80\x03", "a Python pickle (a PyTorch checkpoint?), not ONNX"),
    (0, b"\x80\x04", "a Python pickle (a PyTorch checkpoint?), not ONNX"),
    (0, b"ORTM", "an ONNX Runtime .ort model; pass the original .onnx file"),
    (0, b"\x7fELF", "an executable (ELF) file, not ONNX"),
]
_MODEL_FIELDS = ModelProto.DESCRIPTOR.fields_by_number
_LENGTH_DELIMITED = 2


def sniff_foreign(head: bytes) -> str | None:
    """From the first few KB only: a one-line problem if this is clearly not ONNX (text, JSON, HTML, an LFS
    pointer, a zip/pickle/TFLite/ELF file), else None. Cheap enough for a GUI's open dialog."""
    return _describe_foreign(head)


def describe_unparsable(data: bytes) -> str:
    """One-line problem for bytes that protobuf could not parse as a ModelProto."""
    return _describe_foreign(data) or _describe_wire(data)


def describe_not_a_model(data: bytes) -> str:
    """One-line problem for bytes that parse as protobuf but carry no graph."""
    foreign = _describe_foreign(data)
    if foreign:
        return foreign
    walked = _walk_top_level(data)
    if walked.fields_seen and "ir_version" in walked.fields_seen:
        return ("ONNX header without a graph (file cut short at a field boundary, or saved without its "
                f"graph; {len(data)} bytes)")
    return "not an ONNX model (binary data without an ONNX graph)"


def _describe_foreign(data: bytes) -> str | None:
    for offset, magic, hint in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return hint
    head = data[:4096]
    if _looks_like_text(head):
        text = head.decode("utf-8", errors="replace").lstrip()
        if text.startswith("version https://git-lfs"):
            return "a Git LFS pointer, not the model itself (run `git lfs pull`)"
        if text[:1] in "{[":
            return "not an ONNX model (looks like JSON text)"
        if text[:1] == "<":
            return "not an ONNX model (looks like HTML/XML text; a failed download page?)"
        return "not an ONNX model (looks like text)"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / len(text) > 0.95


class _Walk:
    """Result of scanning the top-level protobuf fields of a would-be ModelProto."""

    def __init__(self) -> None:
        self.fields_seen: list[str] = []
        self.problem: str | None = None


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    value, shift = 0, 0
    while pos < len(data):
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            return None
    return None


def _walk_top_level(data: bytes) -> _Walk:
    """Scan ModelProto's top-level fields without decoding them, to tell truncation from garbage."""
    walk, pos, size = _Walk(), 0, len(data)
    while pos < size:
        key = _varint(data, pos)
        if key is None:
            walk.problem = "truncated" if walk.fields_seen else "garbage"
            return walk
        (tag, pos) = key
        number, wire_type = tag >> 3, tag & 7
        field = _MODEL_FIELDS.get(number)
        expected = 2 if field is not None and field.type in (field.TYPE_MESSAGE, field.TYPE_STRING,
                                                             field.TYPE_BYTES) else 0
        if field is None or wire_type != expected:
            walk.problem = "garbage"
            return walk
        if wire_type == _LENGTH_DELIMITED:
            length = _varint(data, pos)
            if length is None:
                walk.problem = "truncated"
                return walk
            length_value, pos = length
            if pos + length_value > size:
                walk.fields_seen.append(field.name)
                walk.problem = f"truncated:{field.name}:{pos + length_value}"
                return walk
            pos += length_value
        else:
            value = _varint(data, pos)
            if value is None:
                walk.problem = "truncated"
                return walk
            pos = value[1]
        walk.fields_seen.append(field.name)
    return walk


def _describe_wire(data: bytes) -> str:
    walk = _walk_top_level(data)
    if walk.problem == "garbage" and not walk.fields_seen:
        return "not an ONNX model (binary data that is not an ONNX protobuf)"
    if walk.problem and walk.problem.startswith("truncated:"):
        _, field, needed = walk.problem.split(":")
        return (f"truncated or corrupt protobuf (read {len(data)} of at least {needed} bytes; "
                f"field '{field}' is cut off; re-download or re-export the model)")
    if walk.problem == "truncated":
        return f"truncated or corrupt protobuf (file ends mid-field after {len(data)} bytes)"
    if walk.problem == "garbage":
        return (f"corrupt protobuf (unexpected bytes after fields {', '.join(dict.fromkeys(walk.fields_seen))}; "
                "the file is damaged)")
    inner = next((f for f in reversed(walk.fields_seen) if f == "graph"), walk.fields_seen[-1] if walk.fields_seen
                 else "?")
    return f"corrupt protobuf (damaged data inside field '{inner}'; the file is damaged, not just cut short)"
