"""Recipes: parsing errors name file and step; re-running a recipe is all cache hits, same final sha."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from workbench.core.passes.recipes import RecipeError, apply_recipe, load_recipe, parse_recipe

RECIPE = """\
name: shrink
steps:
  - pass: sample-scale
    params: {factor: 0.9}
  - sample-identity
  - pass: sample-half
"""


def test_recipe_is_deterministic_and_cached(store, cnn, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(RECIPE)
    recipe = load_recipe(path)
    assert recipe.name == "shrink" and [s.pass_id for s in recipe.steps] == ["sample-scale", "sample-identity", "sample-half"]
    root = store.register_root(cnn)
    first = apply_recipe(store, root, recipe)
    assert [hit for _, hit in first] == [False, False, False]
    second = apply_recipe(store, root, load_recipe(path))
    assert [hit for _, hit in second] == [True, True, True]
    assert first[-1][0].sha256 == second[-1][0].sha256
    # a fresh workspace recomputes everything and still ends at the same bytes
    from workbench.core.passes.variants import VariantStore

    other = VariantStore(tmp_path / "ws2")
    third = apply_recipe(other, other.register_root(cnn), recipe)
    assert [hit for _, hit in third] == [False, False, False] and third[-1][0].sha256 == first[-1][0].sha256


def test_json_recipe_and_bare_list(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps([{"pass": "sample-identity"}, {"pass": "sample-scale", "params": {"factor": 2}}]))
    r = load_recipe(p)
    assert [(s.pass_id, s.params) for s in r.steps] == [("sample-identity", {}), ("sample-scale", {"factor": 2})]


@pytest.mark.parametrize("text, match", [
    ("[]", "expected a non-empty list"),
    ("- {params: {a: 1}}", "step 1: needs a 'pass' id"),
    ("- pass: a\n  param: {}", "step 1: unknown key.*param"),
    ("- pass: a\n  params: [1]", "step 1: params must be a mapping"),
    ("steps: [a]\nextra: 1", "unknown key.*extra"),
    ("- pass: [unclosed", "not valid YAML"),
])
def test_bad_recipes_name_the_file(tmp_path, text, match):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(RecipeError, match=match) as exc:
        load_recipe(p)
    assert str(p) in str(exc.value)


def test_unknown_pass_or_params_fail_before_any_work(store, cnn):
    root = store.register_root(cnn)
    bad = parse_recipe([{"pass": "sample-identity"}, {"pass": "sample-scale", "params": {"nope": 1}}], "r.yaml")
    with pytest.raises(RecipeError, match=r"r.yaml: step 2: sample-scale: unknown parameter 'nope'"):
        apply_recipe(store, root, bad)
    assert store.children(root.id) == []
    with pytest.raises(RecipeError, match=r"step 1: unknown pass 'zzz'"):
        apply_recipe(store, root, parse_recipe(["zzz"], "r.yaml"))


def test_cli_variant_recipe_and_tree(store, cnn, tmp_path):
    from workbench.cli import cli

    r = tmp_path / "r.yaml"
    r.write_text(RECIPE)
    ws = str(store.workspace)
    runner = CliRunner()
    res = runner.invoke(cli, ["--workspace", ws, "variant", str(cnn), "--recipe", str(r), "--json"])
    assert res.exit_code == 0, res.output
    made = json.loads(res.output)
    assert [m["cache_hit"] for m in made] == [False, False, False]
    res = runner.invoke(cli, ["--workspace", ws, "variant", str(cnn), "--recipe", str(r), "--json"])
    assert [m["cache_hit"] for m in json.loads(res.output)] == [True, True, True]
    res = runner.invoke(cli, ["--workspace", ws, "variant", made[0]["id"][:10], "--pass", "sample-scale",
                              "--param", "factor=2"])
    assert res.exit_code == 0, res.output
    assert "new" in res.output and "cos" in res.output
    res = runner.invoke(cli, ["--workspace", ws, "variants", str(cnn)])
    assert res.exit_code == 0
    for m in made:
        assert m["id"][:10] in res.output
    assert "sample-half" in res.output and "cnn.onnx" in res.output


def test_cli_errors(store, cnn):
    from workbench.cli import cli

    from workbench.core.passes.registry import InvalidParams

    ws = str(store.workspace)
    res = CliRunner().invoke(cli, ["--workspace", ws, "variant", str(cnn), "--pass", "sample-scale", "--param", "x=1"])
    assert isinstance(res.exception, InvalidParams)
    res = CliRunner().invoke(cli, ["--workspace", ws, "variant", str(cnn)])
    assert res.exit_code == 2 and "exactly one of --pass or --recipe" in res.output


def test_cli_passes_lists_schema_and_broken(sample_plugin):
    from workbench.cli import cli

    res = CliRunner().invoke(cli, ["passes", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in json.loads(res.output)}
    assert rows["sample-scale"]["params"] == "factor=1.1, min_rank=2" and rows["sample-scale"]["search"] == ["factor"]
    assert rows["sample-half"]["precision"] == "fp16"
    assert not rows["sample-broken"]["ok"] and "ImportError" in rows["sample-broken"]["error"]
