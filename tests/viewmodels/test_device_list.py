"""Devices dock view-model: polled listings update states in place, keep the selection, and say what
changed; the TCP connect target check; the run form's runner / cooldown / affinity reach the job."""
from __future__ import annotations

import pytest

from workbench.core.adb.device import AdbDevice
from workbench.core.devices.local import LocalDevice
from workbench.core.errors import DeviceDisconnected, InputSpecError, WorkbenchError
from workbench.core.types import DeviceState
from workbench.core.viewmodels.connect import check_target
from workbench.core.viewmodels.devices import DevicesViewModel
from workbench.core.viewmodels.run_form import RunForm, parse_affinity


def _never_opened():
    raise DeviceDisconnected("x", "a listing test never opens a link")


def _adb(serial: str, state: DeviceState, detail: str = "") -> AdbDevice:
    return AdbDevice(serial, "tcp", _never_opened, state, detail)


def test_poll_updates_states_keeps_selection_and_reports_changes() -> None:
    listing = [LocalDevice(), _adb("10.0.0.7:5555", DeviceState.DEVICE, "Pixel 6")]
    vm = DevicesViewModel(lambda: listing)
    first = vm.set_devices(vm.fetch_devices())
    assert first.message() == "" and first.selection_changed and vm.selected == "local"  # nothing "appeared"
    vm.select("10.0.0.7:5555")
    assert vm.row("10.0.0.7:5555").tcp and not vm.row("local").tcp
    assert vm.row("10.0.0.7:5555").detail == "Pixel 6"

    same = vm.set_devices(vm.fetch_devices())
    assert not same.any and same.message() == ""

    listing[1] = _adb("10.0.0.7:5555", DeviceState.OFFLINE, "remembered; not reachable")
    gone = vm.set_devices(vm.fetch_devices())
    assert gone.state_changed == [("10.0.0.7:5555", DeviceState.DEVICE, DeviceState.OFFLINE)]
    assert gone.usable_changed and not gone.selection_changed
    assert vm.selected == "10.0.0.7:5555"  # an offline phone stays selected: the user sees why it cannot run
    assert gone.message() == "10.0.0.7:5555 is offline"

    listing.append(_adb("emulator-5554", DeviceState.UNAUTHORIZED))
    del listing[1]
    moved = vm.set_devices(vm.fetch_devices())
    assert moved.added == ["emulator-5554"] and moved.removed == ["10.0.0.7:5555"]
    assert moved.selection_changed and vm.selected == "local"  # the selected phone vanished: first usable
    assert moved.message() == "emulator-5554 appeared; 10.0.0.7:5555 disappeared"
    assert [r.usable for r in vm.rows] == [True, False]


def test_state_change_between_unusable_states_keeps_run_panel() -> None:
    listing = [LocalDevice(), _adb("10.0.0.7:5555", DeviceState.UNAUTHORIZED)]
    vm = DevicesViewModel(lambda: listing)
    vm.set_devices(vm.fetch_devices())
    listing[1] = _adb("10.0.0.7:5555", DeviceState.OFFLINE)
    change = vm.set_devices(vm.fetch_devices())
    assert change.any and not change.usable_changed  # still not runnable: the device box need not change


@pytest.mark.parametrize("text, serial", [(" 10.0.0.7:5555 ", "10.0.0.7:5555"), ("phone.lan", "phone.lan:5555"),
                                          ("[::1]:5037", "[::1]:5037")])
def test_check_target_accepts(text: str, serial: str) -> None:
    assert check_target(text) == serial


@pytest.mark.parametrize("text, problem", [("", "enter HOST:PORT"), ("10.0.0.7:99999", "expected HOST:PORT"),
                                           ("10.0.0.7:", "expected HOST:PORT"), (":5555", "expected HOST:PORT"),
                                           ("my phone:5555", "is not a host name"), ("a/b:5555", "is not a host")])
def test_check_target_one_line_errors(text: str, problem: str) -> None:
    with pytest.raises(WorkbenchError, match=problem) as exc:
        check_target(text)
    assert "\n" not in str(exc.value)


def test_run_form_runner_cooldown_affinity_reach_the_job(tmp_path) -> None:
    model = tmp_path / "m.onnx"
    job = RunForm(model=model, device="10.0.0.7:5555", device_kind="adb", runner="ort-perf-test",
                  cooldown_c=2.5, cooldown_timeout_s=45.0, affinity="4-5, 7").to_job()
    assert (job.runner, job.cooldown_c, job.cooldown_timeout_s, job.affinity) == ("ort-perf-test", 2.5, 45.0, [4, 5, 7])
    plain = RunForm(model=model, device="local", device_kind="local").to_job()
    assert (plain.runner, plain.cooldown_c, plain.affinity) == ("ort-python", None, None)
    with pytest.raises(InputSpecError, match="runner ort-perf-test: runs onnxruntime_perf_test on an adb device, "
                                             "not on local"):
        RunForm(model=model, device="local", device_kind="local", runner="ort-perf-test").to_job()
    with pytest.raises(InputSpecError, match="runner 'tflite'"):
        RunForm(model=model, device="local", runner="tflite").to_job()
    with pytest.raises(InputSpecError, match="cooldown -1"):
        RunForm(model=model, device="local", cooldown_c=-1).to_job()


@pytest.mark.parametrize("bad", ["0,0", "a", "-1", "3-1", "1,,x", ",", "0-1,1"])
def test_affinity_one_line_errors(bad: str) -> None:
    with pytest.raises(InputSpecError, match=r"affinity .*: expected distinct CPU numbers like 0,1 or 4-7"):
        parse_affinity(bad)
    assert parse_affinity("  ") is None and parse_affinity("0 1") == [0, 1]
