"""`workbench gui`: a bad MODEL is a one-line error before any window opens."""
from __future__ import annotations

import subprocess
import sys


def test_gui_bad_model_is_one_line_error(tmp_path) -> None:
    bad = tmp_path / "weights.bin"
    bad.write_bytes(b"\x00\x01")
    proc = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "gui", str(bad)],
                          capture_output=True, text=True, timeout=60,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "WORKBENCH_WORKSPACE": str(tmp_path / "ws"), "HOME": str(tmp_path)})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"error: {bad}: not an ONNX model (extension .bin, expected .onnx)"]


def test_gui_help_lists_demo() -> None:
    from click.testing import CliRunner

    from workbench.cli import cli

    result = CliRunner().invoke(cli, ["gui", "--help"])
    assert result.exit_code == 0 and "--demo" in result.output and "MODEL" in result.output
