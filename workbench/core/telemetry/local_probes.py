"""The probe set for the machine the workbench runs on (the `local` device)."""
from __future__ import annotations

from workbench.core.telemetry.cpu_freq import CpuFreqProbe
from workbench.core.telemetry.cpu_load import CpuLoadProbe
from workbench.core.telemetry.memory import MemoryProbe
from workbench.core.telemetry.power import PowerProbe
from workbench.core.telemetry.probe import Probe
from workbench.core.telemetry.thermal import ThermalProbe


def local_probes(root: str = "/") -> list[Probe]:
    """One of each local probe reading under `root`; absent ones report why via `absent_reason()`."""
    return [CpuLoadProbe(root), CpuFreqProbe(root), ThermalProbe(root), PowerProbe(root), MemoryProbe(root)]
