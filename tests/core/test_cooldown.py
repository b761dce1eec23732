"""The cooldown gate on a device whose thermal zone we control (a sysfs tree the local probes read)."""
from __future__ import annotations

import threading
from pathlib import Path

from workbench.core.benchmark import run_benchmark
from workbench.core.devices.local import LocalDevice
from workbench.core.events import Progress
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, RunStatus

MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "wild_cnn.onnx"


def phone_like_root(tmp_path: Path, milli_c: int) -> Path:
    zone = tmp_path / "root" / "sys" / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("soc\n")
    (zone / "temp").write_text(f"{milli_c}\n")
    return tmp_path / "root"


def set_temp(root: Path, milli_c: int) -> None:
    (root / "sys/class/thermal/thermal_zone0/temp").write_text(f"{milli_c}\n")


def test_cooldown_waits_until_back_near_idle_then_measures(tmp_path: Path) -> None:
    root = phone_like_root(tmp_path, 35000)
    store = RunStore(tmp_path / "ws")
    device = LocalDevice(sysfs_root=str(root))
    first = run_benchmark(device, BenchmarkJob(model_path=MODEL, runs=3, telemetry_hz=20), store, lambda e: None)
    assert first.conditions["temp_start_c"] == {"thermal.soc": 35.0}
    assert store.idle_temperatures("local") == {"thermal.soc": 35.0}

    set_temp(root, 62000)  # hot after the first run
    cooling = threading.Timer(1.0, set_temp, (root, 36000))
    cooling.start()
    progress: list[Progress] = []
    job = BenchmarkJob(model_path=MODEL, runs=3, telemetry_hz=20, cooldown_c=2.0, cooldown_timeout_s=60)
    result = run_benchmark(device, job, store, lambda e: progress.append(e) if isinstance(e, Progress) else None)
    cooling.cancel()
    assert result.status == RunStatus.DONE
    gate = result.conditions["cooldown"]
    assert gate["applied"] and gate["reached"]
    assert any(p.stage == "cooldown" and "above idle" in p.message for p in progress)
    # no measured iteration started before the zone had cooled
    t_cool = min(s.t for s in store.iter_samples(result.run_id) if s.values.get("thermal.soc", 99) < 37)
    first_iter = min(it.t_start for it in store.iterations(result.run_id))
    assert first_iter >= t_cool


def test_cooldown_gives_up_after_timeout_and_says_so(tmp_path: Path) -> None:
    root = phone_like_root(tmp_path, 35000)
    store = RunStore(tmp_path / "ws")
    device = LocalDevice(sysfs_root=str(root))
    first = run_benchmark(device, BenchmarkJob(model_path=MODEL, runs=2, telemetry_hz=20), store, lambda e: None)
    assert first.conditions["temp_start_c"] == {"thermal.soc": 35.0}
    set_temp(root, 70000)
    job = BenchmarkJob(model_path=MODEL, runs=2, telemetry_hz=20, cooldown_c=1.0, cooldown_timeout_s=0.5)
    result = run_benchmark(device, job, store, lambda e: None)
    assert result.status == RunStatus.DONE
    assert result.conditions["cooldown"]["reached"] is False
    assert result.conditions["cooldown"]["excess_c"] >= 30
