"""A probe reads one family of telemetry (cpu load, frequency, thermal, power, memory) on this machine.

Probes must cope with absent or unreadable files: `channels()` returns only what exists, and `read()`
skips a value it cannot read this tick instead of raising.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from workbench.core.types import ChannelSpec


class Probe(ABC):
    """One telemetry family. `id` is stable (`cpu_load`, `cpu_freq`, `thermal`, `power`, `memory`)."""

    id: str = ""
    title: str = ""

    @abstractmethod
    def channels(self) -> list[ChannelSpec]:
        """Discover what this machine exposes; empty means the probe is absent here."""

    @abstractmethod
    def read(self) -> dict[str, float]:
        """Current values keyed by ChannelSpec.key; missing keys mean 'not readable this tick'."""

    def absent_reason(self) -> str | None:
        """Why `channels()` is empty (e.g. '/sys/class/thermal has no thermal_zone*'), for reports."""
        return None

    def watch_pid(self, pid: int | None) -> None:
        """Probes that follow a process (runner memory) override this."""
