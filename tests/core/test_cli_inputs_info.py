"""`workbench profile --input/--shape`, `devices` and `info` through the real CLI entry point."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parents[2] / "resources" / "models"


def wb(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws), *args],
                          capture_output=True, text=True, timeout=180)


def test_input_from_npy_file_is_used_as_given(tmp_path: Path) -> None:
    x = np.random.default_rng(1).random((2, 3, 64, 80), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    out = wb(tmp_path / "ws", "profile", str(MODELS / "mobilenet_se.onnx"), "--runs", "3", "--warmup", "0",
             "--input", f"image={tmp_path / 'x.npy'}", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["inputs"]["image"] == {"shape": [2, 3, 64, 80], "dtype": "float32", "source": str(tmp_path / "x.npy")}


def test_bad_knobs_are_one_line_errors(tmp_path: Path) -> None:
    model = str(MODELS / "mobilenet_se.onnx")
    cases = [
        (["--shape", "image=1x3xABC"], "expected NAME=DxDxD"),
        (["--input", f"image={tmp_path / 'missing.npy'}"], "no such file"),
        (["--affinity", "0,0"], "distinct CPU numbers"),
    ]
    for extra, fragment in cases:
        out = wb(tmp_path / "ws", "profile", model, "--runs", "1", *extra)
        assert out.returncode == 2, (extra, out.stderr)
        assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "Traceback" not in out.stderr


def test_input_mistakes_are_caught_before_the_run(tmp_path: Path) -> None:
    model = str(MODELS / "mobilenet_se.onnx")
    np.save(tmp_path / "f64.npy", np.zeros((1, 3, 64, 64)))
    (tmp_path / "text.npy").write_text("not an array")
    cases = [
        (["--shape", "image=1x3x64"], "rank 4"),
        (["--shape", "imag=1x3x64x64"], "no input named 'imag' (inputs: image)"),
        (["--input", f"image={tmp_path / 'f64.npy'}"], "holds float64, the model wants float32"),
        (["--input", f"image={tmp_path / 'text.npy'}"], "not a numeric .npy array"),
    ]
    for extra, fragment in cases:
        out = wb(tmp_path / "ws", "profile", model, "--runs", "1", *extra)
        assert out.returncode == 2 and fragment in out.stderr, (extra, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    assert json.loads(wb(tmp_path / "ws", "runs", "--json").stdout) == []


def test_devices_and_info_local(tmp_path: Path) -> None:
    devices = json.loads(wb(tmp_path / "ws", "devices", "--json").stdout)
    assert {"serial": "local", "kind": "local", "state": "device"}.items() <= devices[0].items()
    info = json.loads(wb(tmp_path / "ws", "info", "local", "--json").stdout)
    assert {"device", "cpu", "memory", "thermal", "power", "probes"} <= set(info["sections"])
    assert info["sections"]["device"]["cores"]["logical"] >= 1
    # every probe says whether it is available and, if not, why (this VM has no thermal/cpufreq/power)
    for probe in info["sections"]["probes"].values():
        assert probe["available"] or probe["why_not"]
