from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from workbench.core.profiles import ProfileError, load_profile, profile_json_schema, save_profile, validate_document

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "profiles" / "tuning-profile.schema.json"
EXAMPLES = sorted((ROOT / "profiles" / "examples").glob("*.json"))


def test_shipped_schema_is_the_generated_one():
    """Regenerate with `python -m workbench.core.profiles profiles/tuning-profile.schema.json`."""
    assert json.loads(SCHEMA_FILE.read_text()) == profile_json_schema()


def test_shipped_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def test_example_profiles_are_shipped():
    """An empty glob would turn the parametrized test below into a silent skip."""
    assert EXAMPLES, f"no example profiles in {ROOT / 'profiles' / 'examples'}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_load(path):
    profile = load_profile(path)
    assert profile.schema_version == 2
    assert profile.expectations.p90_ms >= profile.expectations.p50_ms


def test_examples_cover_current_and_legacy_versions():
    versions = {json.loads(p.read_text()).get("schema_version", json.loads(p.read_text()).get("version"))
                for p in EXAMPLES}
    assert {1, 2} <= versions


def test_v1_migration_keeps_every_measured_number():
    v1 = json.loads((ROOT / "profiles" / "examples" / "legacy-v1.json").read_text())
    profile = validate_document(copy.deepcopy(v1))
    assert profile.runtime.threads == v1["threads"] and profile.runtime.resolution == v1["resolution"]
    assert profile.expectations.p90_ms == v1["expected"]["p90_ms"]
    assert profile.expectations.peak_memory_mb == v1["expected"]["peak_rss_mb"]
    sw = profile.switching[0]
    assert (sw.kind, sw.switch_at, sw.switch_back_at, sw.channel) == ("thermal", 41.0, 38.5, "thermal.skin")
    assert profile.device.fingerprint["kind"] == "adb"
    assert profile.model.variant.lineage[0].sha256 == v1["model_sha256"]


def test_v1_missing_field_names_the_path(tmp_path):
    v1 = json.loads((ROOT / "profiles" / "examples" / "legacy-v1.json").read_text())
    del v1["expected"]
    f = tmp_path / "old.json"
    f.write_text(json.dumps(v1))
    with pytest.raises(ProfileError, match=r"old\.json: \$\.expected: required by a version 1 profile"):
        load_profile(f)


def _current():
    return json.loads((ROOT / "profiles" / "examples" / "mobilenet_se.local.json").read_text())


@pytest.mark.parametrize("mutate, path, fragment", [
    (lambda d: d["runtime"].__setitem__("threads", 0), "$.runtime.threads", "less than the minimum of 1"),
    (lambda d: d["model"]["variant"].__setitem__("sha256", "abc"), "$.model.variant.sha256", "does not match"),
    (lambda d: d["expectations"].pop("p90_ms"), "$.expectations", "'p90_ms' is a required property"),
    (lambda d: d["runtime"].__setitem__("thread", 2), "$.runtime", "Additional properties"),
    (lambda d: d.__setitem__("schema_version", 7), "$.schema_version", "newer than this workbench"),
    (lambda d: d.__setitem__("schema_version", "2"), "$.schema_version", "not an integer"),
    (lambda d: d["switching"].append({"kind": "thermal", "channel": "thermal.soc", "heavy": "a", "light": "b",
                                      "switch_at": 40, "switch_back_at": 42}),
     "$.switching[0]", "switch_back_at (42.0) must be below switch_at (40.0)"),
    (lambda d: d["device"].__setitem__("fingerprint", {"model": "x"}), "$.device", "needs at least 'kind'"),
])
def test_invalid_profiles_name_file_and_json_path(tmp_path, mutate, path, fragment):
    doc = _current()
    mutate(doc)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as err:
        load_profile(f)
    msg = str(err.value)
    assert msg.startswith(f"{f}: {path}: "), msg
    assert fragment in msg and "\n" not in msg


def test_not_json_and_missing_file(tmp_path):
    f = tmp_path / "p.json"
    f.write_text("{\"a\": ")
    with pytest.raises(ProfileError, match=r"p\.json: \$: not valid JSON: .* line 1"):
        load_profile(f)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.json")


def test_save_round_trips(tmp_path):
    profile = load_profile(ROOT / "profiles" / "examples" / "mobilenet_se.local.json")
    out = save_profile(profile, tmp_path / "sub" / "again.json")
    assert load_profile(out) == profile
    assert json.loads(out.read_text())["$schema"].endswith("tuning-profile-v2.json")
