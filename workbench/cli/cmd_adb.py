"""`workbench connect/disconnect/clean` and `workbench adb set-perf-test`: managing adb targets.

`devices`, `info SERIAL` and `profile --device SERIAL` need nothing here: the device registry lists
adb targets once `workbench.core.adb.device.adb_devices` exists.
"""
from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from workbench.cli.common import CliContext, console


def register(group: click.Group) -> None:
    @group.command("connect")
    @click.argument("target", metavar="HOST:PORT")
    @click.pass_obj
    def connect(obj: CliContext, target: str) -> None:
        """Connect to a TCP adb target and remember it (through the adb server when one runs)."""
        from workbench.core.adb.open import connect_tcp

        serial, how = connect_tcp(target)
        console.print(f"[green]connected[/] {escape(serial)} {escape(how)}; remembered for next time")

    @group.command("disconnect")
    @click.argument("target", metavar="HOST:PORT")
    @click.pass_obj
    def disconnect(obj: CliContext, target: str) -> None:
        """Forget a remembered TCP adb target (and drop it from a running adb server)."""
        from workbench.core.adb.open import disconnect_tcp

        console.print(f"{escape(target)}: {escape(disconnect_tcp(target))}")

    @group.command("clean")
    @click.argument("serial")
    @click.pass_obj
    def clean(obj: CliContext, serial: str) -> None:
        """Remove everything the workbench pushed to an adb device (/data/local/tmp/workbench only)."""
        from workbench.core.adb.device import WORK_DIR, AdbDevice
        from workbench.core.devices.registry import get_device
        from workbench.core.errors import DeviceError

        dev = get_device(serial)
        if not isinstance(dev, AdbDevice):
            raise DeviceError(serial, "`clean` is for adb devices (the local device keeps nothing)")
        dev.clean()
        console.print(f"{escape(serial)}: removed {WORK_DIR}")

    @group.group("adb")
    def adb() -> None:
        """ADB runner settings."""

    @adb.command("set-perf-test")
    @click.argument("binary", type=click.Path(path_type=Path))
    @click.argument("library", type=click.Path(path_type=Path))
    def set_perf_test_cmd(binary: Path, library: Path) -> None:
        """Use this onnxruntime_perf_test BINARY and its libonnxruntime.so LIBRARY for runner ort-perf-test."""
        from workbench.core.adb.perf_test import config_path, set_perf_test

        cfg = set_perf_test(binary, library)
        console.print(f"ort-perf-test: {escape(str(cfg.binary))} + {escape(str(cfg.library))} "
                      f"(saved in {escape(str(config_path()))})")
