"""Kernel thermal readings -> degrees C: the one rule shared by the local probe and the adb sampler.

The ABI says millidegrees, and nearly every zone follows it. Some vendor drivers (old Qualcomm tsens,
several PMIC, battery and skin zones on phones) report whole degrees or decidegrees; these are told
apart by magnitude: |raw| >= 1000 is millidegrees, 200..999 cannot be plain degrees on a working
device and is read as decidegrees (20.0..99.9 C), below 200 is whole degrees. The one misread case, a
millidegree sensor first seen between 0.2 C and 1 C, is rare next to decidegree battery zones.

The scale is decided once per zone from its first non-zero reading and then kept, so a zone never
jumps between scales when it crosses a threshold mid-run. Exactly 0 is what disabled and virtual
zones return: it decides nothing and is no reading (None, never a fake 0 C that would become an idle
baseline). Values outside -40..200 C (e.g. -273000 for an unconnected sensor) are no reading either.
"""
from __future__ import annotations

MIN_C = -40.0
MAX_C = 200.0


def thermal_scale(raw: float) -> float | None:
    """Divisor turning a raw reading into degrees C; None while undecidable (a zero reading)."""
    a = abs(raw)
    if a == 0:
        return None
    if a >= 1000:
        return 1000.0
    if a >= 200:
        return 10.0
    return 1.0


def thermal_value(raw: float, scale: float) -> float | None:
    """raw / scale in C, or None for 0 (zone off) and for values no device reaches."""
    if raw == 0:
        return None
    c = raw / scale
    return c if MIN_C <= c <= MAX_C else None


def thermal_celsius(raw: float) -> float | None:
    """One reading on its own (a snapshot, no history): scale from this value, then convert."""
    scale = thermal_scale(raw)
    return thermal_value(raw, scale) if scale is not None else None


class ZoneScale:
    """The sticky per-zone scale: undecided until the first non-zero reading, then fixed."""

    __slots__ = ("scale",)

    def __init__(self, scale: float | None = None) -> None:
        self.scale = scale

    def celsius(self, raw: float) -> float | None:
        if self.scale is None:
            self.scale = thermal_scale(raw)
            if self.scale is None:
                return None
        return thermal_value(raw, self.scale)
