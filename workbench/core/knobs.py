"""Parsing of the run knobs users type (CLI options and run-panel fields), one way for both."""
from __future__ import annotations

from workbench.core.errors import InputSpecError


def parse_shape(text: str) -> tuple[str, list[int]]:
    """`image=1x3x224x224` -> ("image", [1, 3, 224, 224]); positive sizes only."""
    name, sep, dims = text.strip().partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        values = [int(d) for d in dims.lower().replace(",", "x").split("x")]
        if any(v <= 0 for v in values):
            raise ValueError
    except ValueError:
        raise InputSpecError(f"shape {text.strip()!r}: expected NAME=DxDxD with positive sizes, "
                             "e.g. image=1x3x224x224") from None
    return name.strip(), values


def parse_shapes(text: str) -> dict[str, list[int]]:
    """`image=1x3x224x224; mask=1x128` (or one per line) -> {"image": [...], "mask": [...]}."""
    return dict(parse_shape(p) for p in text.replace("\n", ";").split(";") if p.strip())


def parse_affinity(text: str | None) -> list[int] | None:
    """'0,2' / '0 2' / '4-7' -> CPU ids; '' or None -> None (no pinning); a one-line error for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    cpus: list[int] = []
    try:
        for part in text.replace(" ", ",").split(","):
            if not part:
                continue
            lo, dash, hi = part.partition("-")
            first, last = int(lo), int(hi) if dash else int(lo)
            if first < 0 or last < first:
                raise ValueError
            cpus.extend(range(first, last + 1))
        if not cpus or len(set(cpus)) != len(cpus):
            raise ValueError
    except ValueError:
        raise InputSpecError(f"affinity {text!r}: expected distinct CPU numbers like 0,1 or 4-7") from None
    return cpus
