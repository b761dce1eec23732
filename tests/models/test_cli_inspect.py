"""`workbench inspect` / `workbench demo-models` through the real CLI entry (guard included)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import cli
from workbench.cli import common
from workbench.cli.common import run_cli_guarded
from workbench.core.models import demo_model_path, inspect_model

BAD = ["truncated.onnx", "random.onnx", "notes.onnx", "empty.onnx", "lfs.onnx", "checkpoint.onnx", "unknown_op.onnx",
       "checker.onnx", "external.onnx", "folder.onnx", "missing.onnx"]


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `workbench ARGV` in-process exactly as the console script does (run_cli_guarded reads sys.argv)."""
    monkeypatch.setattr(sys, "argv", ["workbench", *argv])
    rc = run_cli_guarded(cli)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def wide_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Line wrapping of the error line is the guard's business (tested below at 80 columns); pin it out here.

    `_width` rather than the `width` setter, so monkeypatch restores rich's auto-detection afterwards.
    """
    monkeypatch.setattr(common.err_console, "_width", 1000)


@pytest.mark.parametrize("name", BAD)
def test_bad_file_is_one_line_error(bad_files: dict[str, tuple[Path, str]], name: str, wide_errors: None,
                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path, fragment = bad_files[name]
    rc, out, err = run(["inspect", str(path)], monkeypatch, capsys)
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: ")
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_console_script_end_to_end(bad_files: dict[str, tuple[Path, str]]) -> None:
    """One real process: the installed entry point exits 2 with one line and no traceback."""
    path, fragment = bad_files["truncated.onnx"]
    proc = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "inspect", str(path)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "1000"}, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and fragment in proc.stderr and "Traceback" not in proc.stderr


def test_long_error_stays_one_line_at_80_columns(bad_files: dict[str, tuple[Path, str]],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(common.err_console, "_width", 80)
    path, _ = bad_files["truncated.onnx"]
    rc, _, err = run(["inspect", str(path)], monkeypatch, capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err


def test_brackets_in_path_survive(tmp_path: Path, wide_errors: None, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "[draft]").mkdir()
    path = tmp_path / "[draft]" / "m.onnx"
    path.write_text("not a model")
    rc, _, err = run(["inspect", str(path)], monkeypatch, capsys)
    assert rc == 2 and str(path) in err, err


def test_inspect_renders_tables(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(common.console, "_width", 200)
    rc, out, err = run(["inspect", str(demo_model_path("mobilenet_se"))], monkeypatch, capsys)
    assert rc == 0 and err == ""
    assert "[batch, 3, height, width]" in out  # shapes are escaped, not eaten as rich markup
    assert "HardSwish" in out and "initializers" in out and "image-classification" in out
    rc, out, _ = run(["inspect", str(demo_model_path("recurrent_state"))], monkeypatch, capsys)
    assert "subgraphs" in out and "If, Loop" in out


def test_inspect_json_matches_the_report(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_model_path("text_encoder")
    rc, out, _ = run(["inspect", str(path), "--json"], monkeypatch, capsys)
    assert rc == 0
    assert json.loads(out) == inspect_model(path).to_dict()


def test_demo_models_out_writes_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(common.console, "_width", 200)
    rc, out, _ = run(["demo-models", "--out", str(tmp_path / "demo")], monkeypatch, capsys)
    assert rc == 0
    written = sorted(p.name for p in (tmp_path / "demo").glob("*.onnx"))
    assert written == ["mobilenet_se.onnx", "recurrent_state.onnx", "text_encoder.onnx", "wild_cnn.onnx"]
    for name in ("mobilenet_se", "text_encoder", "recurrent_state", "wild_cnn"):
        assert name in out
