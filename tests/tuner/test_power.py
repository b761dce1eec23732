"""Trial power: the samples and iterations of a real local run, plus power channels written into the store
the way the probes write them (this VM has no battery or RAPL), so the window and flags are exercised on
real device-clock timing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.core.devices.local import LocalDevice
from workbench.core.store import RunStore
from workbench.core.tuner.live import BenchmarkMeasure
from workbench.core.tuner.power import measure_window, run_power
from workbench.core.tuner.space import TrialConfig
from workbench.core.types import BenchmarkJob, ChannelSpec, Sample

MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "mobilenet_se.onnx"


@pytest.fixture(scope="module")
def real_trial(tmp_path_factory):
    """One real tuner trial on the local device; returns its store, run id and measurement."""
    store = RunStore(tmp_path_factory.mktemp("power") / "ws")
    measure = BenchmarkMeasure(LocalDevice(), store, {"base": MODEL}, None, warmup=2, runs=20)
    m = measure(TrialConfig(variant="base", resolution=64, batch=1, threads=1), lambda lat: False)
    return store, m.run_id, m


@pytest.fixture
def run(real_trial, tmp_path):
    """A fresh store holding the real run's non-power channels, samples and iterations."""
    src, rid, _ = real_trial
    store = RunStore(tmp_path / "ws")
    new = store.create_run("local", str(MODEL), src.job(rid) or BenchmarkJob(model_path=MODEL))
    keep = [c for c in src.channels(rid) if not c.key.startswith("power")]
    store.add_channels(new, keep)
    keys = {c.key for c in keep}
    for s in src.iter_samples(rid):
        store.add_sample(new, Sample(s.t, {k: v for k, v in s.values.items() if k in keys}))
    its = src.iterations(rid)
    for it in its:
        store.add_iteration(new, it)
    window = measure_window(its)
    assert window is not None and window[1] > window[0]
    return store, new, window


def add_power(store: RunStore, rid: int, specs: list[ChannelSpec], ticks: list[tuple[float, dict[str, float]]]):
    store.add_channels(rid, specs)
    for t, values in ticks:
        store.add_sample(rid, Sample(t, values))


def inside(window, n: int) -> np.ndarray:
    a, b = window
    return np.linspace(a + (b - a) * 0.05, b - (b - a) * 0.05, n)


BATTERY = [ChannelSpec("power.battery", "W", "power", "battery (discharge +)"),
           ChannelSpec("power.battery.external", "flag", "power_state", "charging / on external power")]


def test_window_is_first_measure_start_to_last_measure_end(real_trial):
    store, rid, m = real_trial
    its = store.iterations(rid)
    measured = [it for it in its if it.phase == "measure"]
    assert len(measured) == m.iterations == 20 and any(it.phase == "warmup" for it in its)
    a, b = measure_window(its)
    assert a == measured[0].t_start and b == pytest.approx(measured[-1].t_start + measured[-1].latency_ms / 1e3)
    assert all(it.t_start < a for it in its if it.phase == "warmup")


def test_live_trial_says_why_energy_is_unknown_or_where_it_came_from(real_trial):
    store, rid, m = real_trial
    assert m.extra["power"] == run_power(store, rid).to_json()
    assert (m.energy_mj is None) == (m.power_w is None) == ("unknown" in m.extra["power"])


def test_battery_counts_only_unplugged_ticks_inside_the_measure_window(run):
    store, rid, window = run
    a, b = window
    ticks = [(a - 0.5, {"power.battery": 9.0, "power.battery.external": 0.0}),  # prepare / warm-up
             (b + 0.5, {"power.battery": 0.5, "power.battery.external": 0.0})]  # cool-down
    for i, t in enumerate(inside(window, 6)):
        plugged = i % 2 == 1
        ticks.append((float(t), {"power.battery": -2.0 if plugged else 3.0 + i,
                                 "power.battery.external": 1.0 if plugged else 0.0}))
    add_power(store, rid, BATTERY, ticks)
    est = run_power(store, rid)
    assert est.watts == pytest.approx(np.mean([3.0, 5.0, 7.0])) and est.samples == 3
    assert est.sources == ("power.battery",) and "3 battery sample(s) on external power" in est.reason


def test_battery_without_a_flag_channel_counts_as_unplugged(run):
    store, rid, window = run
    add_power(store, rid, BATTERY[:1], [(float(t), {"power.battery": 2.0}) for t in inside(window, 4)])
    est = run_power(store, rid)
    assert (est.watts, est.samples) == (2.0, 4)


def test_charging_battery_gives_unknown_energy_not_negative_watts(run):
    store, rid, window = run
    add_power(store, rid, BATTERY, [(float(t), {"power.battery": -4.0, "power.battery.external": 1.0})
                                    for t in inside(window, 5)])
    est = run_power(store, rid)
    assert est.watts is None and "charging or on external power throughout" in est.reason
    assert est.to_json() == {"unknown": est.reason}


def test_rapl_sums_packages_and_ignores_sub_domains_in_either_group(run):
    store, rid, window = run
    specs = [ChannelSpec("power.rapl.package-0", "W", "power", "RAPL package-0 (intel-rapl:0)"),
             ChannelSpec("power.rapl.package-1", "W", "power", "RAPL package-1 (intel-rapl:1)"),
             ChannelSpec("power.rapl.core", "W", "power", "RAPL core (intel-rapl:0:0, part of package-0)"),
             ChannelSpec("power.rapl.dram", "W", "power_parts", "RAPL dram (intel-rapl:0:2, part of package-0)")]
    ticks = [(float(t), {"power.rapl.package-0": 10.0 + i, "power.rapl.package-1": 5.0,
                         "power.rapl.core": 7.0, "power.rapl.dram": 1.0})
             for i, t in enumerate(inside(window, 4))]
    ticks.append((window[0] - 0.2, {"power.rapl.package-0": 99.0, "power.rapl.package-1": 99.0}))
    add_power(store, rid, specs, ticks)
    est = run_power(store, rid)
    assert est.sources == ("power.rapl.package-0", "power.rapl.package-1")
    assert est.watts == pytest.approx(np.mean([15.0, 16.0, 17.0, 18.0])) and est.samples == 4


def test_psys_alone_when_present_and_rapl_backs_up_a_plugged_battery(run):
    store, rid, window = run
    specs = [*BATTERY, ChannelSpec("power.rapl.package-0", "W", "power", "RAPL package-0 (intel-rapl:0)"),
             ChannelSpec("power.rapl.psys", "W", "power", "RAPL psys (intel-rapl:1)")]
    add_power(store, rid, specs, [(float(t), {"power.battery": -1.0, "power.battery.external": 1.0,
                                              "power.rapl.package-0": 6.0, "power.rapl.psys": 11.0})
                                  for t in inside(window, 3)])
    est = run_power(store, rid)
    assert (est.watts, est.sources) == (11.0, ("power.rapl.psys",))  # psys includes the package: never both
    assert est.reason.startswith("RAPL used instead: the battery was charging")


def test_rails_alone_are_not_a_total(run):
    store, rid, window = run
    specs = [ChannelSpec("power.rail.vdd_cpu", "W", "power", "rail VDD_CPU"),
             ChannelSpec("power.rail.vdd_gpu", "W", "power", "rail VDD_GPU")]
    add_power(store, rid, specs, [(float(t), {"power.rail.vdd_cpu": 1.5, "power.rail.vdd_gpu": 0.4})
                                  for t in inside(window, 3)])
    est = run_power(store, rid)
    assert est.watts is None and "only partial power channels (power.rail.vdd_cpu, power.rail.vdd_gpu)" in est.reason


def test_samples_only_outside_the_window_give_unknown_with_a_hint(run):
    store, rid, window = run
    add_power(store, rid, BATTERY, [(window[0] - 0.3, {"power.battery": 3.0, "power.battery.external": 0.0}),
                                    (window[1] + 0.3, {"power.battery": 3.0, "power.battery.external": 0.0})])
    est = run_power(store, rid)
    assert est.watts is None and "no battery sample inside the" in est.reason and "run longer" in est.reason


def test_no_power_channels_at_all(run):
    store, rid, _ = run
    est = run_power(store, rid)
    assert est.watts is None and est.reason == "the device reports no power telemetry"
