"""Plugin discovery: listing reads metadata only; broken plugins are reported, never fatal."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from workbench.core.passes.base import Pass
from workbench.core.passes.registry import InvalidParams, UnknownPass, get_pass, parse_cli_params
from workbench.core.plugins import PluginRegistry, list_plugins

BUNDLED_PASSES = {"fp16", "int8-dynamic", "int8-static", "prune-magnitude", "prune-channels", "simplify",
                  "fold-constants", "fold-batchnorm", "fix-shape", "ort-optimize"}


def test_listing_reads_metadata_without_importing_plugins(sample_plugin):
    code = (
        "import json, sys\n"
        "from workbench.core.plugins import list_plugins\n"
        "ms = list_plugins()\n"
        "print(json.dumps({'plugins': [[m.kind, m.name, m.origin, m.version] for m in ms],\n"
        "  'imported': sorted(k for k in sys.modules if k.startswith(('workbench_plugins.', 'wb_sample_plugin')))}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert out["imported"] == []
    rows = {(k, n): (o, v) for k, n, o, v in out["plugins"]}
    for name in BUNDLED_PASSES:
        assert rows[("passes", name)][0] == "bundled"
    assert rows[("evaluators", "top1-folder")][0] == "bundled"
    assert rows[("passes", "sample-identity")] == ("wb-sample-plugin", "0.3.1")
    assert rows[("passes", "sample-broken")] == ("wb-sample-plugin", "0.3.1")


def test_broken_plugins_are_reported_and_the_rest_load(sample_plugin):
    reg = PluginRegistry()
    status = {s.manifest.name: s for s in reg.load_all("passes")}
    assert status["sample-identity"].ok and issubclass(status["sample-identity"].obj, Pass)
    assert status["sample-scale"].ok
    broken = status["sample-broken"]
    assert not broken.ok and broken.error.startswith("ImportError:") and "nonexistent_accelerator_sdk" in broken.error
    assert "\n" not in broken.error
    assert not status["sample-not-a-pass"].ok and "not a Pass subclass" in status["sample-not-a-pass"].error
    assert not status["sample-bad-attr"].ok and status["sample-bad-attr"].error.startswith("RuntimeError:")
    assert {s.manifest.name for s in reg.broken()} >= {"sample-broken", "sample-not-a-pass", "sample-bad-attr"}


def test_get_pass_explains_unknown_and_broken(sample_plugin):
    reg = PluginRegistry()
    assert get_pass("sample-scale", reg).id == "sample-scale"
    with pytest.raises(UnknownPass, match=r"unknown pass 'nope' \(known: .*sample-identity"):
        get_pass("nope", reg)
    with pytest.raises(UnknownPass, match=r"sample-broken.*wb-sample-plugin is broken: ImportError"):
        get_pass("sample-broken", reg)


def test_cli_params_are_parsed_against_the_schema(sample_plugin):
    cls = get_pass("sample-scale", PluginRegistry())
    p = parse_cli_params(cls, ["factor=0.5", "min_rank=1"])
    assert p.factor == 0.5 and isinstance(p.factor, float) and p.min_rank == 1
    with pytest.raises(InvalidParams, match=r"unknown parameter 'bogus' \(known: factor, min_rank\)"):
        parse_cli_params(cls, ["bogus=1"])
    with pytest.raises(InvalidParams, match=r"factor: .*greater than 0"):
        parse_cli_params(cls, ["factor=-2"])
    with pytest.raises(InvalidParams, match=r"min_rank: .*integer"):
        parse_cli_params(cls, ["min_rank=abc"])
    with pytest.raises(InvalidParams, match="key=value"):
        parse_cli_params(cls, ["factor"])


def test_bundled_evaluator_loads_through_its_entry_point():
    from workbench.core.passes.fidelity import Evaluator

    reg = PluginRegistry()
    st = reg.load(reg.find("evaluators", "top1-folder"))
    assert st.ok, st.error
    assert issubclass(st.obj, Evaluator) and st.manifest.origin == "bundled"


def test_plugins_command_lists_status(sample_plugin):
    from workbench.cli import cli

    res = CliRunner().invoke(cli, ["plugins", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["sample-broken"]["status"] == "broken" and "ImportError" in rows["sample-broken"]["error"]
    assert rows["sample-identity"]["status"] == "ok" and rows["sample-identity"]["origin"] == "wb-sample-plugin"
    res = CliRunner().invoke(cli, ["plugins", "--no-load", "--group", "evaluators"])
    assert res.exit_code == 0 and "top1-folder" in res.output and "sample-identity" not in res.output


def test_list_plugins_filters_groups(sample_plugin):
    kinds = {m.kind for m in list_plugins(["evaluators"])}
    assert kinds == {"evaluators"}
