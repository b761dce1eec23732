"""Property tests: no parser raises on arbitrary text, and the live line parser survives any line
stream, including near-miss lines built from the real format's own tokens."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adb_parsers import adbp_captures as cap
from workbench.core.adb import android_parsers as ap
from workbench.core.adb.telemetry_lines import SamplerLineParser

PARSERS = [
    ap.parse_getprop,
    ap.parse_proc_stat,
    ap.parse_proc_status,
    ap.parse_smaps_rollup,
    ap.parse_cpufreq_dump,
    ap.parse_thermal_dump,
    ap.parse_power_supply_dump,
    ap.parse_thermalservice,
    ap.parse_dumpsys_battery,
    ap.parse_odpm,
    ap.parse_perf_test,
]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like device output: real captures cut and spliced with random noise.
_CAPTURES = [v for k, v in vars(cap).items() if k.isupper() and isinstance(v, str)]
_device_text = st.one_of(
    st.text(),
    st.builds(
        lambda src, a, b, noise: src[min(a, b):max(a, b)] + noise + src[max(a, b):],
        st.sampled_from(_CAPTURES),
        st.integers(0, 2000),
        st.integers(0, 2000),
        st.text(alphabet=st.sampled_from(list("0123456789-.:[]=/ \n\tabcCHT(){},|²٣")), max_size=40),
    ),
)


@SETTINGS
@given(text=_device_text)
def test_parsers_never_raise(text: str) -> None:
    for parse in PARSERS:
        result = parse(text)
        assert isinstance(result.problems, list)
    ap.android_identity(ap.parse_getprop(text))
    ps = ap.parse_power_supply_dump(text)
    ps.battery_power()


_HEADER = """H wb-sampler 1
H cfg period_ms=100 slow=10 therm=1 sleep=frac
H stat
H cpus 0-3
H freq policy0 0 1
H tz 0 45123 BIG
H bat battery
H plug usb
H mem 4
H odpm 0 S10M_VDD_TPU
H ts |Thermal Status: 1|Current temperatures from HAL:|Temperature{mValue=41.2, mType=0, mName=BIG, mStatus=2}
H end
"""
_token = st.one_of(
    st.sampled_from(["S", "E", "T", "H", "c", "f", "t", "b", "m", "-", "a:1,2,3,4", "0:5,0,5,10,0,0,0,0",
                     "D", "C", "01", "|t=5|CH0(T=5)[S10M_VDD_TPU], 12", "|Thermal Status: x", "1e999", "nan", "0"]),
    st.integers(-(10**12), 10**12).map(str),
    st.text(max_size=8),
)
_line = st.lists(_token, max_size=14).map(" ".join)


@SETTINGS
@given(lines=st.lists(st.one_of(_line, st.text(max_size=60)), max_size=30), with_header=st.booleans())
def test_line_parser_never_raises(lines: list[str], with_header: bool) -> None:
    parser = SamplerLineParser()
    if with_header:
        parser.feed_text(_HEADER)
        assert parser.header_complete
    for line in lines:
        sample = parser.feed(line)
        if sample is not None:
            assert all(isinstance(v, float) for v in sample.values.values())
            assert set(sample.values) <= {c.key for c in parser.channels}
