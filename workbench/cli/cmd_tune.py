"""`workbench tune`, `profile-import`, `verify`, `replay`, `thresholds`: the auto-tuner from the shell.

Every trial is a stored run and the trial log lives in the workspace, so an interrupted `tune`
continues where it stopped when the same command is run again.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.table import Table

from workbench.cli.common import CliContext, console, err_console
from workbench.cli.render import fmt
from workbench.core.errors import WorkbenchError


def _ints(text: str | None, what: str) -> list[int] | dict[str, int] | None:
    """'1,2,4' -> [1, 2, 4]; '128:224:32' -> range dict (inclusive)."""
    if text is None:
        return None
    try:
        if ":" in text:
            parts = [int(x) for x in text.split(":")]
            low, high, step = (parts + [1])[:3] if len(parts) == 2 else parts
            return {"low": low, "high": high, "step": step}
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected integers like 1,2,4 or a range low:high:step", param_hint=what)


def _variant_store(obj: CliContext):
    from workbench.core.passes.variants import VariantStore

    return VariantStore(obj.workspace_dir())


def _lineage(store, v) -> list[dict[str, Any]]:
    steps = []
    for x in store.lineage(v):
        steps.append({"id": x.id, "parent": x.parent_id, "pass": x.pass_id, "params": x.params, "sha256": x.sha256,
                      **({"name": x.name} if x.is_root else {})})
    return steps


def register(group: click.Group) -> None:
    @group.command("tune")
    @click.argument("model")
    @click.option("--device", "serial", default="local", show_default=True)
    @click.option("--space", "space_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Search space (JSON/YAML); the options below override its fields.")
    @click.option("--variant", "variant_refs", multiple=True, metavar="[NAME=]ID_OR_PATH",
                  help="Also try this variant (repeatable). MODEL itself is 'base' and the fidelity reference.")
    @click.option("--resolutions", help="e.g. 128,160,192,224 or 128:224:32")
    @click.option("--threads", help="e.g. 1,2,4")
    @click.option("--batch", help="e.g. 1 or 1,2,4")
    @click.option("--spin", type=click.Choice(["off", "on", "both"]), help="Intra-op spinning.")
    @click.option("--pass-space", "pass_spaces", multiple=True, metavar="PASS_ID",
                  help="Also search this pass's declared knobs (repeatable); variants are derived as needed, "
                       "cached in the workspace. A space file can list exact values under pass_params.")
    @click.option("--calib", type=click.Path(file_okay=False, path_type=Path),
                  help="Calibration inputs for passes in the space that need them (int8-static).")
    @click.option("--budget-p90-ms", type=float)
    @click.option("--budget-memory-mb", type=float)
    @click.option("--min-fidelity", type=float, help="Minimum cosine vs the base model.")
    @click.option("--budget-energy-mj", type=float, help="Needs power telemetry on the device.")
    @click.option("--objective", type=click.Choice(["fidelity_resolution", "latency", "pareto"]))
    @click.option("--strategy", type=click.Choice(["grid", "random", "tpe", "nsga2"]), default="tpe", show_default=True)
    @click.option("--trials", type=int, help="Trials in total (resumed ones count) [default: whole space, max 40].")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--runs", type=int, default=30, show_default=True, help="Measured iterations per trial.")
    @click.option("--warmup", type=int, default=3, show_default=True)
    @click.option("--study", "study_name", help="Trial log name; the same name resumes [default: derived].")
    @click.option("--name", help="Profile name.")
    @click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--sustained", is_flag=True,
                  help="Re-run the best trials until thermal steady state (or the cap) and choose on that latency.")
    @click.option("--sustained-cap-s", type=click.FloatRange(0, min_open=True), default=120.0, show_default=True,
                  help="Longest sustained run per finalist.")
    @click.option("--slope-c-per-min", type=click.FloatRange(0, min_open=True), default=0.5, show_default=True,
                  help="Steady state: temperature slope under this (per minute).")
    @click.option("--finalists", type=click.IntRange(1), default=3, show_default=True,
                  help="How many of the best trials --sustained re-runs.")
    @click.pass_obj
    def tune(obj: CliContext, model: str, serial: str, space_file: Path | None, variant_refs: tuple[str, ...],
             resolutions: str | None, threads: str | None, batch: str | None, spin: str | None,
             pass_spaces: tuple[str, ...], calib: Path | None,
             budget_p90_ms: float | None, budget_memory_mb: float | None, min_fidelity: float | None,
             budget_energy_mj: float | None, objective: str | None, strategy: str, trials: int | None, seed: int,
             runs: int, warmup: int, study_name: str | None, name: str | None, out: Path, sustained: bool,
             sustained_cap_s: float, slope_c_per_min: float, finalists: int) -> None:
        """Search runtime knobs of MODEL on a device under budgets and write a tuning profile."""
        from workbench.core.devices.registry import get_device
        from workbench.core.profiles import save_profile
        from workbench.core.store import RunStore
        from workbench.core.tuner import TrialLog, load_space, run_study
        from workbench.core.tuner.live import BenchmarkMeasure, shapes_for
        from workbench.core.tuner.space import TuningSpace, parse_space
        from workbench.core.tuner.to_profile import build_profile

        vstore = _variant_store(obj)
        root = vstore.resolve(model)
        base = load_space(space_file) if space_file else TuningSpace()
        raw = base.model_dump(mode="json", exclude_none=True)
        refs = dict(raw.get("variants") or {})
        refs.setdefault("base", model)
        for ref in variant_refs:
            key, _, val = ref.rpartition("=")
            refs[key or Path(val).stem] = val
        resolved = {k: vstore.resolve(v) for k, v in refs.items()}
        overrides = {"resolutions": _ints(resolutions, "--resolutions"), "threads": _ints(threads, "--threads"),
                     "batch": _ints(batch, "--batch")}
        raw.update({k: v for k, v in overrides.items() if v is not None})
        if spin:
            raw["spin"] = {"off": [False], "on": [True], "both": [False, True]}[spin]
        cons = raw.setdefault("constraints", {})
        for key, val in (("p90_ms", budget_p90_ms), ("peak_memory_mb", budget_memory_mb),
                         ("min_fidelity", min_fidelity), ("energy_mj", budget_energy_mj)):
            if val is not None:
                cons[key] = val
        if objective:
            raw.setdefault("objective", {})["kind"] = objective
        raw["variants"] = {k: v.sha256 for k, v in resolved.items()}  # content identity -> digest is stable
        raw["reference"] = raw.get("reference") or ("base" if "base" in resolved else None)
        space = parse_space(raw, source=str(space_file or "options"))
        for pass_id in pass_spaces:
            from workbench.core.passes.registry import get_pass

            space = space.with_pass_space(pass_id, get_pass(pass_id).search_space)
        knobs = None
        if space.pass_params:
            from workbench.core.tuner.pass_knobs import PassKnobs

            knobs = PassKnobs(vstore, resolved, calibration_dir=calib)
            knobs.check(space, source=str(space_file or "--pass-space"))

        device = get_device(serial)
        info = device.info()
        store = RunStore(obj.workspace_dir())
        cancel = threading.Event()
        paths = {k: Path(v.path) for k, v in resolved.items()}
        measure = BenchmarkMeasure(device, store, paths, space.reference, warmup=warmup, runs=runs, cancel=cancel,
                                   knobs=knobs)
        total = min(trials or min(space.size(), 40), space.size())
        study = study_name or f"{root.id[:12]}-{device.serial}-{space.digest()[:8]}-{strategy}-{seed}"
        console.print(f"tuning {Path(model).name} on {device.serial}: {space.size()} configurations, "
                      f"{strategy}, {total} trials, study [bold]{study}[/]")

        def on_trial(config, should_stop):
            m = measure(config, should_stop)
            from workbench.core.tuner.measurement import violations
            v = violations(m, space.constraints)
            verdict = "[green]ok[/]" if not v else "[red]over: " + ",".join(sorted(v)) + "[/]"
            console.print(f"  {config.label():28s} p50 {m.p50_ms:7.2f} p90 {m.p90_ms:7.2f} ms "
                          f"cos {fmt(m.fidelity, '.4f')} {verdict}", soft_wrap=True)
            if space.constraints.energy_mj is not None and m.energy_mj is None:
                why = m.extra.get("power", {}).get("unknown", "no power reading")
                console.print(f"    energy unknown: {why}", soft_wrap=True)
            return m

        log = TrialLog(obj.workspace_dir() / "tuning.sqlite")
        try:
            result = run_study(space, on_trial, strategy=strategy, n_trials=total, seed=seed, log=log,
                               study_name=study, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            err_console.print(f"[yellow]interrupted[/]: finished trials are kept; re-run to resume study {study}")
            raise SystemExit(130)
        _print_trials(result)
        if knobs is not None:
            console.print(f"pass knobs: {knobs.derived} variant(s) derived, {knobs.cache_hits} cache hit(s)")
        best = result.best
        if best is None:
            failed = [t for t in result.trials if t.error]
            for t in failed[:5]:  # why trials failed is what the user needs to fix the space
                err_console.print(f"  trial {t.number + 1} {t.config.label()}: {t.error}", soft_wrap=True)
            why = (f"{len(failed)} failed (reasons above)" if failed else "all were measured over budget")
            raise WorkbenchError(f"study {study}: none of {len(result.trials)} trials met the constraints ({why}); "
                                 f"relax the budget or widen the space")
        judgement = None
        if sustained:
            try:
                best, judgement = _sustained(space, result, measure, device.serial, finalists, sustained_cap_s,
                                             slope_c_per_min, cancel)
            except KeyboardInterrupt:
                cancel.set()
                err_console.print("[yellow]interrupted[/] during the sustained runs; no profile written")
                raise SystemExit(130)
        chosen = knobs.variant(best.config) if knobs is not None else resolved[best.config.variant]
        profile = build_profile(name or f"{Path(model).name} on {device.serial}", result, space, info.fingerprint(),
                                _lineage(vstore, chosen), shapes_for(Path(chosen.path), best.config.resolution,
                                                                     best.config.batch),
                                serial=device.serial, variant_path=str(chosen.path), chosen=best,
                                sustained=judgement)
        save_profile(profile, out)
        held = f", sustained p90 {judgement.p90_ms:.2f} ms" if judgement else ""
        console.print(f"best: [bold]{best.config.label()}[/] p90 {best.measurement.p90_ms:.2f} ms{held} -> {out}")

    _cascade_command(group)

    @group.command("profile-import")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--json", "as_json", is_flag=True, help="Print the (migrated) profile as JSON.")
    def profile_import(file: Path, as_json: bool) -> None:
        """Validate a tuning profile (migrating older versions) and show it."""
        from workbench.core.profiles import load_profile, profile_to_json

        p = load_profile(file)
        if as_json:
            click.echo(json.dumps(profile_to_json(p), indent=2))
            return
        t = Table(title=f"{file}: {p.name}", title_justify="left", show_header=False)
        t.add_column(style="bold")
        t.add_column()
        t.add_row("device", ", ".join(f"{k}={v}" for k, v in p.device.fingerprint.items()))
        t.add_row("model", f"{p.model.name} ({p.model.sha256[:12]})")
        t.add_row("variant", f"{p.model.variant.id} ({p.model.variant.sha256[:12]}); lineage " +
                  " -> ".join(s.pass_id or "original" for s in p.model.variant.lineage))
        r = p.runtime
        t.add_row("runtime", f"threads {fmt(r.threads, 'd')}, batch {r.batch}, resolution {fmt(r.resolution, 'd')}, "
                             f"spin {fmt(r.spin)}, {', '.join(r.providers)}")
        e = p.expectations
        t.add_row("expected", f"p50 {e.p50_ms:.2f} ms, p90 {e.p90_ms:.2f} ms, peak mem {fmt(e.peak_memory_mb, '.1f')} MB"
                              + "".join(f", {k} {v:.4g}" for k, v in e.fidelity.items()))
        for s in p.switching:
            t.add_row(f"switch ({s.kind})", _policy_text(s))
        t.add_row("provenance", f"workbench {p.provenance.workbench_version}, {p.provenance.created:%Y-%m-%d %H:%M}, "
                                f"runs {p.provenance.run_ids[:8]}{'...' if len(p.provenance.run_ids) > 8 else ''}")
        console.print(t)
        console.print(f"[green]valid[/] schema_version {p.schema_version}")

    @group.command("verify")
    @click.argument("profile_file", type=click.Path(path_type=Path))
    @click.option("--device", "serial", default="local", show_default=True)
    @click.option("--tolerance", type=float, default=0.2, show_default=True,
                  help="Allowed relative p90 excess over the expectation.")
    @click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="The variant file, if not at the profile's path or in the workspace.")
    @click.option("--runs", type=int, default=30, show_default=True)
    @click.option("--allow-other-device", is_flag=True,
                  help="Re-measure even when the device's fingerprint differs from the profile's.")
    @click.pass_obj
    def verify(obj: CliContext, profile_file: Path, serial: str, tolerance: float, model_path: Path | None,
               runs: int, allow_other_device: bool) -> None:
        """Re-measure PROFILE on a device; exit 1 when p90 or fidelity no longer hold (a CI gate)."""
        from workbench.core.devices.registry import get_device
        from workbench.core.profiles import load_profile
        from workbench.core.store import RunStore
        from workbench.core.tuner.live import BenchmarkMeasure
        from workbench.core.tuner.space import TrialConfig

        p = load_profile(profile_file)
        variant = _find_file(obj, p.model.variant.sha256, model_path or p.model.variant.path, profile_file)
        ref = _find_file(obj, p.model.sha256, p.model.path, profile_file, required=False)
        device = get_device(serial)
        fp = device.info().fingerprint()
        if fp != p.device.fingerprint:
            diff = sorted(k for k in set(fp) | set(p.device.fingerprint) if fp.get(k) != p.device.fingerprint.get(k))
            if not allow_other_device:  # a CI gate must not pass a phone's profile on another machine
                raise WorkbenchError(f"{profile_file}: made for another device ({', '.join(diff)} differ); "
                                     f"pass --allow-other-device to re-measure anyway")
            err_console.print(f"[yellow]warning:[/] device differs from the profile's in {', '.join(diff)}")
        variants = {"chosen": variant, **({"reference": ref} if ref else {})}
        measure = BenchmarkMeasure(device, RunStore(obj.workspace_dir()), variants,
                                   "reference" if ref and "cosine" in p.expectations.fidelity else None, runs=runs)
        r = p.runtime
        m = measure(TrialConfig("chosen", r.resolution or 0, r.batch, r.threads or 1, r.providers[0], bool(r.spin)),
                    lambda lat: False)
        limit = p.expectations.p90_ms * (1 + tolerance)
        failures = []
        if m.p90_ms > limit:
            failures.append(f"p90 {m.p90_ms:.2f} ms > {limit:.2f} ms (expected {p.expectations.p90_ms:.2f} "
                            f"+{tolerance:.0%})")
        exp_cos = p.expectations.fidelity.get("cosine")
        if exp_cos is not None and m.fidelity is not None:
            floor = min(exp_cos - 1e-3, p.budgets.min_fidelity if p.budgets.min_fidelity is not None else 1.0)
            if m.fidelity < floor:
                failures.append(f"fidelity cosine {m.fidelity:.5f} < {floor:.5f}")
        elif exp_cos is not None:
            err_console.print("[yellow]warning:[/] fidelity not checked (original model file not found)")
        t = Table(title=f"verify {profile_file.name} on {device.serial} (run {m.run_id})", title_justify="left")
        for col in ("", "expected", "measured"):
            t.add_column(col, justify="right")
        t.add_row("p50 ms", f"{p.expectations.p50_ms:.2f}", f"{m.p50_ms:.2f}")
        t.add_row("p90 ms", f"{p.expectations.p90_ms:.2f} (limit {limit:.2f})", f"{m.p90_ms:.2f}")
        t.add_row("peak memory MB", fmt(p.expectations.peak_memory_mb, ".1f"), fmt(m.peak_memory_mb, ".1f"))
        t.add_row("cosine", fmt(exp_cos, ".5f"), fmt(m.fidelity, ".5f"))
        console.print(t)
        if failures:
            for f in failures:
                err_console.print(f"[red]FAIL[/] {f}")
            raise SystemExit(1)
        console.print("[green]PASS[/]")

    @group.command("replay")
    @click.argument("policy_file", type=click.Path(path_type=Path))
    @click.argument("trace")
    @click.option("--policy-index", type=int, default=0, show_default=True, help="Which switching policy of a profile.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def replay_cmd(obj: CliContext, policy_file: Path, trace: str, policy_index: int, as_json: bool) -> None:
        """Run a switching policy (a profile, or a policy JSON) against a temperature TRACE
        (JSON {"t": [...], "values": [...]}, CSV t,value, or run:ID from the workspace)."""
        from workbench.core.tuner.replay import curves_latency, replay

        policy = _load_policy(policy_file, policy_index)
        t, temp = _load_trace(obj, trace, getattr(policy, "channel", None))
        res = replay(policy, t, temp, curves_latency(policy.latency_curves) if hasattr(policy, "latency_curves")
                     else _no_curves(policy_file), getattr(policy, "budget_p90_ms", None))
        if as_json:
            click.echo(json.dumps({"switches": res.switches, "time_on_s": res.time_on, "violations": res.violations,
                                   "violation_time_s": res.violation_time_s, "steps": res.steps}, indent=1))
            return
        console.print(f"{_policy_text(policy)}; trace {trace}: {res.steps} steps, {t[-1] - t[0]:.1f} s")
        for ts, a, b in res.switches:
            console.print(f"  t={ts - t[0]:8.1f} s  {a} -> {b}")
        for v, secs in res.time_on.items():
            console.print(f"  on {v}: {secs:.1f} s")
        console.print(f"  budget violations: {res.violations} steps ({res.violation_time_s:.1f} s)")

    @group.command("thresholds")
    @click.argument("heavy_run", type=int)
    @click.argument("light_run", type=int, required=False)
    @click.option("--budget-p90-ms", type=float, required=True)
    @click.option("--channel", help="Thermal channel [default: the hottest].")
    @click.option("--heavy-name", default="heavy", show_default=True)
    @click.option("--light-name", default="light", show_default=True)
    @click.option("--into", "into", type=click.Path(dir_okay=False, path_type=Path),
                  help="Add the derived policy to this profile (rewritten in place).")
    @click.pass_obj
    def thresholds(obj: CliContext, heavy_run: int, light_run: int | None, budget_p90_ms: float, channel: str | None,
                   heavy_name: str, light_name: str, into: Path | None) -> None:
        """Derive thermal switch/switch-back points from stored runs of a heavy and a light variant."""
        from workbench.core.profiles import load_profile, save_profile
        from workbench.core.store import RunStore
        from workbench.core.tuner.stored_policy import thermal_policy_from_runs

        policy, th = thermal_policy_from_runs(RunStore(obj.workspace_dir()), heavy_run, light_run, budget_p90_ms,
                                              channel=channel, heavy=heavy_name, light=light_name)
        key = policy.channel
        console.print(f"{key}: heavy misses {budget_p90_ms} ms p90 from {th.heavy_crossing:.2f}; "
                      f"{_policy_text(policy)} (sensor noise {th.noise:.2f}, hysteresis {th.hysteresis:.2f})")
        for w in th.warnings:
            err_console.print(f"[yellow]warning:[/] {w}")
        if into:
            p = load_profile(into)
            save_profile(p.model_copy(update={"switching": [*p.switching, policy]}), into)
            console.print(f"added to {into}")


def _cascade_command(group: click.Group) -> None:
    @group.command("cascade")
    @click.argument("light")
    @click.argument("heavy")
    @click.option("--target-agreement", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True,
                  help="Fraction of inputs whose final top-1 must equal HEAVY's.")
    @click.option("--inputs", "inputs_dir", type=click.Path(path_type=Path),
                  help="Folder of inputs (.npz per sample, or <input>.npy) [default: generated].")
    @click.option("--samples", type=click.IntRange(1), default=64, show_default=True, help="Generated inputs.")
    @click.option("--shape", "shapes", multiple=True, metavar="NAME=1x3x224x224", help="Shape of generated inputs.")
    @click.option("--measure", type=click.Choice(["top1_prob", "margin"]), default="top1_prob", show_default=True,
                  help="Confidence of the light model.")
    @click.option("--output", help="Score output to compare [default: the first].")
    @click.option("--threads", type=click.IntRange(1), default=1, show_default=True)
    @click.option("--light-name", help="Name in the policy [default: variant id or file stem].")
    @click.option("--heavy-name", help="Name in the policy [default: variant id or file stem].")
    @click.option("--into", type=click.Path(dir_okay=False, path_type=Path),
                  help="Add the cascade policy to this profile (rewritten in place).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def cascade(obj: CliContext, light: str, heavy: str, target_agreement: float, inputs_dir: Path | None,
                samples: int, shapes: tuple[str, ...], measure: str, output: str | None, threads: int,
                light_name: str | None, heavy_name: str | None, into: Path | None, as_json: bool) -> None:
        """Tune a confidence cascade: run LIGHT, escalate to HEAVY when LIGHT is unsure (files or variant ids).

        Picks the cheapest threshold whose answers agree with HEAVY on at least --target-agreement of the
        inputs; latency is measured here on the host with onnxruntime."""
        from workbench.core.knobs import parse_shape
        from workbench.core.passes.variants import resolve_model_arg
        from workbench.core.profiles import load_profile, save_profile
        from workbench.core.tuner.cascade import cascade_feeds, tune_cascade

        if inputs_dir is not None and shapes:
            raise click.UsageError("--shape shapes generated inputs; it does not go with --inputs")
        la, ha = (resolve_model_arg(obj.workspace_dir(), x) for x in (light, heavy))
        profile = load_profile(into) if into else None  # a bad profile fails before minutes of measuring
        feeds = cascade_feeds(ha.path, inputs_dir, samples, dict(parse_shape(s) for s in shapes) or None)
        res = tune_cascade(la.path, ha.path, feeds, target_agreement, measure=measure, output=output,
                           threads=threads)
        names = (light_name or (la.variant_id[:10] if la.variant_id else la.path.stem),
                 heavy_name or (ha.variant_id[:10] if ha.variant_id else ha.path.stem))
        policy = res.policy(*names)
        p = res.point
        if as_json:
            click.echo(json.dumps({"policy": policy.model_dump(mode="json"), "inputs": res.inputs,
                                   "light_ms": res.light_ms, "heavy_ms": res.heavy_ms,
                                   "base_agreement": res.base_agreement, "pays": res.pays}, indent=1))
        else:
            console.print(f"{res.inputs} inputs; light alone agrees with heavy on {res.base_agreement:.1%}; "
                          f"light {res.light_ms:.3f} ms, heavy {res.heavy_ms:.3f} ms per call")
            console.print(f"threshold   {p.threshold:.6g} ({measure}: escalate when below)")
            console.print(f"escalation  {p.escalation_rate:.1%}")
            console.print(f"avg cost    {p.cost_ms:.3f} ms per input (light + escalations)")
            console.print(f"agreement   {p.agreement:.1%} (target {target_agreement:.1%})")
        if not res.pays:
            err_console.print(f"[yellow]warning:[/] the cascade costs {p.cost_ms:.3f} ms per input, not less than "
                              f"heavy alone ({res.heavy_ms:.3f} ms): run the heavy model instead", soft_wrap=True)
        if into and profile is not None:
            save_profile(profile.model_copy(update={"switching": [*profile.switching, policy]}), into)
            if not as_json:
                console.print(f"added to {into}: {_policy_text(policy)}", soft_wrap=True)


def _sustained(space, result, measure, serial: str, top_k: int, cap_s: float, slope: float,
               cancel: threading.Event):
    """Re-run the finalists under sustained load; returns (chosen trial, SustainedJudgement)."""
    from workbench.core.tuner.sustained import sustain_finalists

    console.print(f"sustained: re-running up to {top_k} finalist(s) for up to {cap_s:g} s each until the temperature "
                  f"slope is under {slope:g}/min")
    finals, best, judgement = sustain_finalists(
        space, result, measure, top_k=top_k, cap_s=cap_s, slope_c_per_min=slope, cancel=cancel,
        on_start=lambda i, n, config: console.print(f"  finalist {i}/{n}: {config.label()}"))
    t = Table(title="sustained finalists", title_justify="left")
    for col in ("config", "short p90", "sustained p50", "sustained p90", "judged on", "run", "verdict"):
        t.add_column(col, justify="left" if col in ("config", "judged on", "verdict") else "right")
    for f in finals:
        verdict = (f"[red]{f.error}[/]" if f.error else "[green]ok[/]" if f.feasible
                   else "[red]over: " + ",".join(sorted(f.violations)) + "[/]")
        m, r = f.measurement, f.run
        t.add_row(f.trial.config.label(), f"{f.trial.measurement.p90_ms:.2f}", fmt(m and m.p50_ms, ".2f"),
                  fmt(m and m.p90_ms, ".2f"), r.judged_on.replace("_", " ") if r else "-",
                  fmt(r and r.run_id, "d"), verdict)
    console.print(t)
    for f in finals:
        if f.run and f.run.judged_on == "second_half_no_thermal":
            console.print(f"[yellow]{serial} has no thermal channel[/]: steady state cannot be detected, so each "
                          f"finalist ran to the {cap_s:g} s cap and was judged on the second half of its run")
            break
    if best is None:
        raise WorkbenchError(f"none of the {len(finals)} finalist(s) meets the constraints under sustained load "
                             f"(cap {cap_s:g} s); relax the budget or widen the space")
    run, m, ss = best.run, best.measurement, best.run.steady
    console.print(f"sustained choice: [bold]{best.trial.config.label()}[/] p90 {m.p90_ms:.2f} ms "
                  f"({run.judged_on.replace('_', ' ')}: {ss.reason})", soft_wrap=True)
    return best.trial, judgement


def _print_trials(result, top: int = 8) -> None:
    feasible = sorted(result.feasible, key=lambda t: -t.score)[:top]
    t = Table(title=f"{len(result.feasible)}/{len(result.trials)} trials feasible ({result.measured} measured now)",
              title_justify="left")
    for col in ("#", "config", "p50 ms", "p90 ms", "peak MB", "cosine", "run"):
        t.add_column(col, justify="left" if col == "config" else "right")
    for tr in feasible:
        m = tr.measurement
        t.add_row(str(tr.number + 1), tr.config.label(), f"{m.p50_ms:.2f}", f"{m.p90_ms:.2f}",
                  fmt(m.peak_memory_mb, ".1f"), fmt(m.fidelity, ".5f"), fmt(m.run_id, "d"))
    console.print(t)


def _policy_text(s) -> str:
    if s.kind == "thermal":
        return f"{s.heavy} -> {s.light} at {s.channel} >= {s.switch_at}, back at <= {s.switch_back_at}"
    if s.kind == "latency":
        return (f"{s.heavy} -> {s.light} when p90 of {s.window} calls > {s.switch_above_ms} ms, back below "
                f"{s.switch_back_below_ms} ms after {s.min_dwell_s} s")
    return (f"{s.light} first, escalate to {s.heavy} when {s.measure} < {s.threshold:.4f} "
            f"(agreement {s.expected_agreement:.3f}, {s.expected_cost_ms:.2f} ms/input)")


def _find_file(obj: CliContext, sha: str, hint: str | Path | None, profile_file: Path, required: bool = True) -> Path | None:
    from workbench.core.passes.variants import sha256_file

    candidates = []
    if hint:
        h = Path(hint)
        candidates += [h, profile_file.parent / h] if not h.is_absolute() else [h]
    try:
        candidates.append(_variant_store(obj).file_for(sha))
    except WorkbenchError:
        pass
    for c in candidates:
        if c.is_file() and sha256_file(c) == sha:
            return c
    if required:
        raise WorkbenchError(f"{profile_file}: no file with sha256 {sha[:12]}... at {hint or 'the workspace'}; "
                             f"pass --model PATH")
    return None


def _load_policy(path: Path, index: int):
    from pydantic import TypeAdapter, ValidationError

    from workbench.core.profiles import load_profile
    from workbench.core.profiles.model import SwitchPolicy

    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"{path}: cannot read a policy ({exc})") from exc
    if isinstance(doc, dict) and "kind" in doc and "schema_version" not in doc and "version" not in doc:
        try:
            return TypeAdapter(SwitchPolicy).validate_python(doc)
        except ValidationError as exc:
            e = exc.errors()[0]
            raise WorkbenchError(f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from exc
    policies = [s for s in load_profile(path).switching if s.kind in ("thermal", "latency")]
    if not policies:
        raise WorkbenchError(f"{path}: the profile has no thermal or latency switching policy")
    if not 0 <= index < len(policies):
        raise WorkbenchError(f"{path}: --policy-index {index} out of range (0..{len(policies) - 1})")
    return policies[index]


def _no_curves(path: Path):
    raise WorkbenchError(f"{path}: the policy has no latency curves to replay with")


def _load_trace(obj: CliContext, trace: str, channel: str | None) -> tuple[np.ndarray, np.ndarray]:
    if trace.startswith("run:"):
        from workbench.core.store import RunStore
        from workbench.core.tuner.steady import thermal_key

        store = RunStore(obj.workspace_dir())
        try:
            run_id = int(trace[4:])
        except ValueError:
            raise WorkbenchError(f"{trace}: expected run:ID with a number, e.g. run:12") from None
        store.run_row(run_id)  # "no run N" rather than "no thermal channel"
        t, series = store.samples(run_id)
        key = channel if channel in series else thermal_key(series)
        if key is None:
            raise WorkbenchError(f"{trace}: the run has no thermal channel")
        ok = np.isfinite(series[key])
        return t[ok], series[key][ok]
    p = Path(trace)
    try:
        text = p.read_text()
    except OSError as exc:
        raise WorkbenchError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    try:
        if p.suffix.lower() == ".csv":
            data = np.genfromtxt(p, delimiter=",", names=True)
            cols = data.dtype.names
            return np.asarray(data[cols[0]], float), np.asarray(data[cols[1]], float)
        doc = json.loads(text)
        if "samples" in doc:
            arr = np.asarray(doc["samples"], float)
            return arr[:, 0], arr[:, 1]
        return np.asarray(doc["t"], float), np.asarray(doc["values"], float)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise WorkbenchError(f"{p}: not a trace (want JSON with t/values or samples, or CSV t,value): {exc}") from exc
