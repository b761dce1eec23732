"""Parsers read whatever a kernel, a vendor or a truncated capture hands them: they never raise."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.devices.local_info import parse_cpu_list, parse_cpuinfo
from workbench.core.telemetry.cpu_freq import parse_cpuinfo_mhz
from workbench.core.telemetry.memory import parse_meminfo, rollup_mb, system_memory
from workbench.core.telemetry.procstat import busy_percent, parse_proc_stat
from workbench.core.telemetry.sysfs import parse_number, slug
from workbench.core.telemetry.thermal_scale import thermal_scale

kernelish = st.text(alphabet=st.sampled_from(list("cpu0123456789 :-,.kB\nMHzTotalAvailablenaif\t")), max_size=400)
anything = st.text(max_size=300)


@settings(max_examples=150, deadline=None)
@given(st.one_of(kernelish, anything))
def test_parsers_never_raise(text: str) -> None:
    stat = parse_proc_stat(text)
    for times in stat.values():
        assert times.busy >= 0 and times.idle_all >= 0
        pct = busy_percent(times, times)
        assert pct is None
    info = parse_meminfo(text)
    assert all(v >= 0 for v in info.values())
    mem = system_memory(info)
    assert all(v >= 0 for v in mem.values())
    rollup_mb(info)
    for mhz in parse_cpuinfo_mhz(text).values():
        assert 0 < mhz < 1e6
    parse_cpuinfo(text)
    parse_cpu_list(text)
    n = parse_number(text)
    assert n is None or n == n
    if n is not None:
        assert thermal_scale(n) in (None, 1.0, 10.0, 1000.0)
    key = slug(text, "zone0")
    assert key and "." not in key and " " not in key
