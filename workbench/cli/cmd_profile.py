"""`workbench profile`: benchmark a model on a device, with optional per-layer profiling."""
from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

from workbench.cli.common import CliContext, console, err_console
from workbench.cli.render import render_result
from workbench.core.benchmark import run_benchmark
from workbench.core.devices.registry import get_device
from workbench.core.errors import InputSpecError
from workbench.core.knobs import parse_affinity, parse_shape
from workbench.core.events import Event, Progress, RunFinished
from workbench.core.store import RunStore
from workbench.core.types import BenchmarkJob, RunStatus


def parse_input(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise InputSpecError(f"--input {text!r}: expected NAME=FILE.npy")
    p = Path(path)
    if not p.is_file():
        raise InputSpecError(f"--input {name}: {p}: no such file")
    return name, p.resolve()


def build_job(model: Path, *, warmup: int, runs: int | None, seconds: float | None, threads: int | None,
              shapes: tuple[str, ...], inputs: tuple[str, ...], spin: bool | None, layers: bool,
              layer_runs: int | None, affinity: str | None, rate: float, label: str, runner: str,
              cooldown: float | None, cooldown_timeout: float) -> BenchmarkJob:
    """A BenchmarkJob from the CLI's knobs (--runs defaults to 50 unless --seconds is given)."""
    return BenchmarkJob(
        model_path=model.resolve(), warmup=warmup, runs=runs or (None if seconds else 50),
        seconds=seconds, threads=threads, shapes=dict(parse_shape(s) for s in shapes),
        inputs=dict(parse_input(i) for i in inputs), spin=spin, layers=layers, layer_runs=layer_runs,
        affinity=parse_affinity(affinity), telemetry_hz=rate,
        label=label or model.stem, runner=runner, cooldown_c=cooldown, cooldown_timeout_s=cooldown_timeout,
    )


def benchmark_options(fn):
    """The run knobs shared by `profile` and anything else that launches a benchmark (tune, verify)."""
    opts = [
        click.option("--device", "-d", default="local", show_default=True, help="Device serial (see `workbench devices`)."),
        click.option("--warmup", default=5, show_default=True, type=click.IntRange(0)),
        click.option("--runs", "-n", default=None, type=click.IntRange(1), help="Measured iterations [default: 50]."),
        click.option("--seconds", type=click.FloatRange(0, min_open=True), help="Run for this long instead of --runs."),
        click.option("--threads", "-t", type=click.IntRange(1), help="Intra-op threads (default: runtime's choice)."),
        click.option("--shape", "shapes", multiple=True, metavar="NAME=1x3x320x320", help="Shape for an input with dynamic axes."),
        click.option("--input", "inputs", multiple=True, metavar="NAME=FILE.npy", help="Feed an input from a .npy file."),
        click.option("--spin/--no-spin", default=None, help="Intra-op thread spinning (default: runtime's choice)."),
        click.option("--layers", is_flag=True, help="Also run a separate profiled pass for per-layer timings."),
        click.option("--layer-runs", type=click.IntRange(1), help="Profiled iterations [default: min(runs, 20)]."),
        click.option("--affinity", metavar="0,1", help="Pin the runner to these CPUs."),
        click.option("--rate", default=10.0, show_default=True, type=click.FloatRange(0.5, 200), help="Telemetry Hz."),
        click.option("--label", default="", help="Free text stored with the run (variant name...)."),
        click.option("--runner", type=click.Choice(["ort-python", "ort-perf-test"]), default="ort-python",
                     show_default=True, help="ort-perf-test: onnxruntime_perf_test on Android (see README)."),
        click.option("--cooldown", type=click.FloatRange(0), metavar="DEG_C",
                     help="Before measuring, wait until temperatures are within DEG_C of this device's idle baseline."),
        click.option("--cooldown-timeout", default=120.0, show_default=True, type=click.FloatRange(0)),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def execute(ctx: CliContext, model: Path, device_serial: str, job: BenchmarkJob, quiet: bool):
    """Run with a rich progress bar on stderr; Ctrl-C cancels the run (stored as `cancelled`)."""
    _check_model(model)
    device = get_device(device_serial)
    store = RunStore(ctx.workspace_dir())
    total = job.runs if job.seconds is None else None
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with RichProgress(*columns, console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"{model.name} on {device.serial}", total=total)

        def on_event(event: Event) -> None:
            if isinstance(event, Progress) and event.stage == "measure":
                bar.update(task, completed=event.done)
            elif isinstance(event, RunFinished):
                bar.update(task, description=f"{model.name}: {event.result.status.value}")

        return run_benchmark(device, job, store, on_event, threading.Event())


def _check_model(model: Path) -> None:
    """One clear line for missing/corrupt/non-ONNX files before anything starts."""
    from workbench.core.models import load_model

    load_model(model)


def _variant_label(obj: CliContext, variant_id: str) -> str:
    """`mobilenet_se.onnx [int8-static a26db7a569]`: a variant's file is named by its hash, so runs of it
    carry the root model's name, the pass and the variant id (which `profile`/`variants` accept)."""
    from workbench.core.passes.variants import VariantStore

    store = VariantStore(obj.workspace_dir())
    v = store.get(variant_id)
    root = store.lineage(v)[0]
    return f"{root.name or root.id[:10]} [{v.pass_id or 'root'} {v.id[:10]}]"


def register(group: click.Group) -> None:
    @group.command("profile")
    @click.argument("model", type=click.Path(path_type=Path))
    @benchmark_options
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
    @click.option("--top", default=25, show_default=True, help="Layers shown in the table.")
    @click.pass_obj
    def profile(obj: CliContext, model: Path, device: str, as_json: bool, top: int, label: str, **knobs) -> None:
        """Benchmark MODEL (a .onnx file, or a variant id / unique id prefix from `workbench variants`) on a
        device: latency with profiling off, then (--layers) per-layer timings."""
        from workbench.core.passes.variants import resolve_model_arg

        arg = resolve_model_arg(obj.workspace_dir(), model)
        model, label = arg.path, label or (_variant_label(obj, arg.variant_id) if arg.variant_id else "")
        job = build_job(model, label=label, **knobs)
        result = execute(obj, model, device, job, quiet=as_json)
        if as_json:
            doc = asdict(result) | {"status": result.status.value, "op_summary": result.op_summary()}
            click.echo(json.dumps(doc, indent=1, default=str))
        else:
            render_result(console, result, top=top)
        if result.status == RunStatus.CANCELLED:
            raise SystemExit(130)
        if result.status != RunStatus.DONE:
            raise SystemExit(1)
