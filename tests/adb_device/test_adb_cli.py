"""The CLI sees adb targets through the registry: devices, info, profile --device, clean, disconnect."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.adb_device.conftest import Target
from workbench.cli import cli


def test_devices_info_profile_clean_disconnect(phone, target: Target, demo_cnn: Path, tmp_path: Path) -> None:
    peer, _dev = phone
    run = CliRunner()
    out = run.invoke(cli, ["devices", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["serial"]: r for r in json.loads(out.output)}
    assert rows[peer.serial]["kind"] == "adb" and rows[peer.serial]["state"] == "device"
    assert rows[peer.serial]["detail"] == "Pixel 6"
    out = run.invoke(cli, ["info", peer.serial, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["sections"]["device"]["model"] == "Pixel 6"
    out = run.invoke(cli, ["--workspace", str(tmp_path / "ws"), "profile", str(demo_cnn), "--device", peer.serial,
                           "--runs", "2", "--warmup", "0", "--shape", "image=1x3x64x64", "--json"])
    assert out.exit_code == 0, out.output
    assert (peer.sandbox.root / "data/local/tmp/workbench/models").is_dir()
    out = run.invoke(cli, ["clean", peer.serial])
    assert out.exit_code == 0, out.output
    assert not (peer.sandbox.root / "data/local/tmp/workbench").exists()
    if target.kind == "direct":
        out = run.invoke(cli, ["disconnect", peer.serial])
        assert out.exit_code == 0 and "forgotten" in out.output
        assert peer.serial not in {r["serial"] for r in json.loads(run.invoke(cli, ["devices", "--json"]).output)}


def test_connect_bad_target_is_one_line_error() -> None:
    out = CliRunner().invoke(cli, ["connect", "nohost:notaport"])
    assert out.exit_code != 0 and "expected HOST:PORT" in str(out.exception)
