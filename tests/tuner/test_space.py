from __future__ import annotations

import json

import pytest

from workbench.core.passes.base import Categorical, FloatRange, IntRange, SearchSpace
from workbench.core.tuner.space import SpaceError, TrialConfig, TuningSpace, load_space, parse_space


def test_yaml_space_with_range_expands_and_resolves_paths(tmp_path):
    f = tmp_path / "space.yaml"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m8.onnx").write_bytes(b"")
    f.write_text(
        "variants: {fp32: 3f2a9c, int8: sub/m8.onnx}\nreference: fp32\n"
        "resolutions: {low: 128, high: 224, step: 32}\nthreads: [1, 2]\nspin: [false, true]\n"
        "constraints: {p90_ms: 20, min_fidelity: 0.99}\n")
    space = load_space(f)
    axes = space.axes()
    assert axes["resolution"] == [128, 160, 192, 224]
    assert axes["variant"] == ["fp32", "int8"]
    assert space.variants["int8"] == str(tmp_path / "sub" / "m8.onnx")
    assert space.variants["fp32"] == "3f2a9c"  # a variant id, resolved later by the variant store
    assert space.size() == 2 * 4 * 1 * 2 * 1 * 2 == len(space.configs())
    assert len(set(space.configs())) == space.size()


def test_config_key_round_trips():
    c = TrialConfig("int8", 160, 2, 4, "CPUExecutionProvider", True, (("prune.sparsity", 0.5),))
    assert TrialConfig.from_dict(json.loads(c.key())) == c


@pytest.mark.parametrize("text, fragment", [
    ("resolutions: {low: 224, high: 128}", "resolutions"),
    ("threads: []", "threads: Value error, needs at least one value"),
    ("threds: [1]", "threds: Extra inputs are not permitted"),
    ("variants: {a: a.onnx}\nreference: b", "reference 'b' is not one of the variants"),
    ("constraints: {p90_ms: -3}", "constraints.p90_ms"),
    ("[1, 2", "not valid YAML"),
])
def test_bad_space_files_name_file_and_field(tmp_path, text, fragment):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(SpaceError) as err:
        load_space(f)
    msg = str(err.value)
    assert msg.startswith(str(f)) and fragment in msg and "\n" not in msg


def test_missing_space_file_is_one_line(tmp_path):
    with pytest.raises(SpaceError, match="cannot read"):
        load_space(tmp_path / "nope.json")


def test_pass_search_space_becomes_knobs():
    ss = SearchSpace(dims={"sparsity": FloatRange(low=0.0, high=0.8), "per_channel": Categorical(choices=[True, False]),
                           "bits": IntRange(low=4, high=8, step=4)})
    space = TuningSpace().with_pass_space("prune", ss)
    axes = space.axes()
    assert axes["pass.prune.sparsity"] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert axes["pass.prune.bits"] == [4, 8]
    assert space.size() == 5 * 2 * 2
    cfg = space.configs()[-1]
    assert dict(cfg.pass_params) == {"prune.bits": 8, "prune.per_channel": False, "prune.sparsity": 0.8}


def test_digest_changes_with_constraints():
    a = parse_space({"threads": [1, 2]})
    b = parse_space({"threads": [1, 2], "constraints": {"p90_ms": 5}})
    assert a.digest() != b.digest() and a.digest() == parse_space({"threads": [1, 2]}).digest()
