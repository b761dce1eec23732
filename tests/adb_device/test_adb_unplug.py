"""Unplugging the phone mid-run: the run ends `interrupted` with everything received stored, the device
shows offline/absent, and `workbench connect` brings it back without restarting anything."""
from __future__ import annotations

import threading
from pathlib import Path

from click.testing import CliRunner

from tests.adb_device.conftest import Target, give_python
from workbench.cli import cli
from workbench.core.benchmark import run_benchmark
from workbench.core.events import Iteration, SampleEvent
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, DeviceState, RunStatus


def _job(model: Path, runs: int) -> BenchmarkJob:
    return BenchmarkJob(model_path=model, warmup=1, runs=runs, shapes={"image": [1, 3, 64, 64]}, telemetry_hz=50)


def test_unplug_mid_run_then_reconnect(make_peer, target: Target, demo_cnn: Path, tmp_path: Path) -> None:
    peer = make_peer()
    give_python(peer)
    target.connect(peer)
    dev = target.device(peer)
    store = RunStore(tmp_path / "ws")
    iters: list[Iteration] = []
    samples: list[SampleEvent] = []
    unplugged = threading.Event()

    def on_event(ev: object) -> None:
        if isinstance(ev, SampleEvent):
            samples.append(ev)
        if isinstance(ev, Iteration):
            iters.append(ev)
            if ev.iteration.phase == "measure" and len(iters) >= 6 and samples and not unplugged.is_set():
                unplugged.set()
                threading.Thread(target=peer.stop, daemon=True).start()  # cable pulled, adbd gone

    res = run_benchmark(dev, _job(demo_cnn, runs=1_000_000), store, on_event)
    assert unplugged.is_set()
    assert res.status is RunStatus.INTERRUPTED, res.error
    stored_iters = store.iterations(res.run_id)
    assert len(stored_iters) == len(iters) >= 6
    assert len(list(store.iter_samples(res.run_id))) == len(samples) >= 1
    assert store.get_result(res.run_id).status is RunStatus.INTERRUPTED

    listed = {d.serial: d for d in target.devices()}
    assert peer.serial not in listed or listed[peer.serial].state() is not DeviceState.DEVICE

    back = make_peer(port=peer.port)  # the phone is plugged in again, same address
    give_python(back)
    out = CliRunner().invoke(cli, ["connect", f"127.0.0.1:{back.port}"])
    assert out.exit_code == 0, out.output
    if target.server is not None:
        assert target.server.wait_state(back.serial, "device") == "device"
        target.connected.append(back.serial)
    again = target.device(back)
    assert again.state() is DeviceState.DEVICE
    res2 = run_benchmark(again, _job(demo_cnn, runs=2), store, lambda ev: None)
    assert res2.status is RunStatus.DONE, res2.error
