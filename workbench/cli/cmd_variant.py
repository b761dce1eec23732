"""`workbench variant`, `workbench variants`, `workbench passes`: derive and inspect model variants.

    workbench variant model.onnx --pass fp16 --param keep_io_types=true
    workbench variant model.onnx --recipe mobile.yaml
    workbench variant 3f9a2c41d0 --pass int8-static --calib calib/     # a variant id works as MODEL
    workbench variants [model.onnx]
    workbench passes [--check-determinism model.onnx]
"""
from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from workbench.cli.common import CliContext, console, err_console

if TYPE_CHECKING:
    from workbench.core.passes.base import PassContext
    from workbench.core.passes.variants import Variant, VariantStore

# Core pass modules pull in onnx/onnxruntime/pydantic; they are imported inside the commands so
# `workbench --help` and unrelated commands do not pay for them.


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _fid(v: Variant, which: str = "vs_parent") -> str:
    """'cos 0.9998 snr 41.2dB top1 1.00' from a stored fidelity report."""
    if v.is_root:
        return "root"
    if "error" in v.fidelity:
        return "[yellow]not measured[/]"
    s = v.fidelity.get(which, {}).get("summary", {})
    parts = []
    if "cosine" in s:
        parts.append(f"cos {s['cosine']:.4f}")
    if "snr_db" in s:
        parts.append(f"snr {s['snr_db'] if isinstance(s['snr_db'], str) else round(s['snr_db'], 1)}dB")
    for k in ("top1", "iou"):
        if k in s:
            parts.append(f"{k} {s[k]:.2f}")
    task = v.fidelity.get("task", {}).get("metrics")
    if task and which == "vs_root":
        parts.append("task " + " ".join(f"{k}={val:.3f}" for k, val in task.items() if k != "samples"))
    return " ".join(parts) or "-"


def _params(v: Variant) -> str:
    """Only the parameters that differ from the pass's defaults (all of them if the pass is gone)."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.passes.registry import get_pass

    try:
        defaults = get_pass(v.pass_id).Params().model_dump(mode="json")
    except (WorkbenchError, ValueError):  # pass uninstalled, or it has required params
        defaults = {}
    return ", ".join(f"{k}={val}" for k, val in sorted(v.params.items()) if defaults.get(k, object()) != val)


def _label(v: Variant) -> str:
    if v.is_root:
        return v.name
    shown = _params(v)
    return f"{v.pass_id}({shown})" if shown else str(v.pass_id)


def _measured(store: VariantStore, variants: list[Variant]) -> dict[str, list[Any]]:
    """Last p50/p90 per device of each variant; nothing when the workspace has no run store yet."""
    from workbench.core.passes.measured import last_latencies
    from workbench.core.store import RunStore

    if not (store.workspace / "runs.sqlite").is_file():
        return {v.id: [] for v in variants}
    runs = RunStore(store.workspace)
    try:
        return last_latencies(runs, variants)
    finally:
        runs.close()


def _run_cancellable(work: Callable[[PassContext | None, Callable[[float, float | None, str], None]], Any],
                     title: str) -> Any:
    """Run `work` in a thread under a rich progress bar; Ctrl-C asks the pass to stop, then re-raises."""
    cancel = threading.Event()
    box: dict[str, Any] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as prog:
        task = prog.add_task(title, total=None)

        def progress(done: float, total: float | None, msg: str) -> None:
            prog.update(task, completed=done, total=total, description=f"{title}: {msg}" if msg else title)

        def target() -> None:
            try:
                box["result"] = work(cancel, progress)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                box["error"] = exc

        t = threading.Thread(target=target, name="workbench-derive", daemon=True)
        t.start()
        try:
            while t.is_alive():
                t.join(0.1)
        except KeyboardInterrupt:
            cancel.set()
            prog.update(task, description=f"{title}: cancelling (waiting for the pass to stop)")
            t.join()
            raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _print_result(store: VariantStore, made: list[tuple[Variant, bool]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([dict(v.to_json(), cache_hit=hit) for v, hit in made], indent=1))
        return
    t = Table(title="Variants", title_justify="left")
    for col in ("id", "pass", "size", "vs parent", "vs root", "cache"):
        t.add_column(col)
    for v, hit in made:
        parent = store.get(v.parent_id) if v.parent_id else None
        ratio = f" ({v.size / parent.size:.2f}x)" if parent and parent.size else ""
        t.add_row(v.short, _label(v), _size(v.size) + ratio, _fid(v, "vs_parent"), _fid(v, "vs_root"),
                  "[cyan]cache hit[/]" if hit else "new")
    console.print(t)
    for v, _ in made:
        for n in v.notes:
            console.print(f"  [dim]{v.short} {v.pass_id}:[/] {n}")
        for w in v.warnings:
            console.print(f"  [yellow]warning {v.short}:[/] {w}")
    console.print(f"[dim]file:[/] {made[-1][0].path}")


def register(group: click.Group) -> None:
    @group.command("variant")
    @click.argument("model")
    @click.option("--pass", "pass_id", help="Pass id (see `workbench passes`).")
    @click.option("--param", "params", multiple=True, metavar="K=V", help="Pass parameter; repeat for more.")
    @click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path), help="YAML/JSON list of {pass, params}.")
    @click.option("--calib", type=click.Path(file_okay=False, path_type=Path), help="Calibration inputs (.npy/.npz) folder.")
    @click.option("--inputs", "inputs_dir", type=click.Path(file_okay=False, path_type=Path),
                  help="Fidelity inputs (.npz per sample or <input>.npy); default: generated from the signature.")
    @click.option("--samples", default=3, show_default=True, help="Generated fidelity samples.")
    @click.option("--evaluator", help="Evaluator plugin for task accuracy (needs --dataset).")
    @click.option("--dataset", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def variant(obj: CliContext, model: str, pass_id: str | None, params: tuple[str, ...], recipe: Path | None,
                calib: Path | None, inputs_dir: Path | None, samples: int, evaluator: str | None,
                dataset: Path | None, as_json: bool) -> None:
        """Derive a variant of MODEL (a .onnx file or a variant id) with one pass or a recipe.

        Same model + pass + params is a cache hit: nothing is recomputed."""
        if bool(pass_id) == bool(recipe):
            raise click.UsageError("give exactly one of --pass or --recipe")
        if params and not pass_id:
            raise click.UsageError("--param needs --pass (recipes carry their own params)")
        if bool(evaluator) != bool(dataset):
            raise click.UsageError("--evaluator and --dataset go together")
        from workbench.core.passes.base import PassContext, PassRefused
        from workbench.core.passes.recipes import Recipe, RecipeStep, apply_recipe, load_recipe
        from workbench.core.passes.registry import get_pass, parse_cli_params
        from workbench.core.passes.variants import VariantStore

        store = VariantStore(obj.workspace_dir())
        start = store.resolve(model)
        if pass_id:
            rec = Recipe([RecipeStep(pass_id, parse_cli_params(get_pass(pass_id), list(params)).model_dump())],
                         source="--pass")
        else:
            rec = load_recipe(recipe)

        def work(cancel: threading.Event, progress: Callable) -> list[tuple[Variant, bool]]:
            with tempfile.TemporaryDirectory(prefix="variant-", dir=store.workspace) as tmp:
                def make_ctx(i: int, step: RecipeStep) -> PassContext:
                    label = f"[{i}/{len(rec.steps)}] {step.pass_id}"
                    return PassContext(work_dir=Path(tmp) / f"step{i}", cancel=cancel, calibration_dir=calib,
                                       progress=lambda d, t, m: progress(d, t, f"{label} {m}"))

                return apply_recipe(store, start, rec, make_ctx=make_ctx, samples=samples, inputs_dir=inputs_dir)

        try:
            made = _run_cancellable(work, f"deriving from {start.short}")
        except PassRefused as exc:
            if exc.reason == "cancelled":
                raise KeyboardInterrupt from None
            raise
        if evaluator:
            for v, _ in made[-1:]:
                store.evaluate(v, evaluator, dataset)
                made[-1] = (store.get(v.id), made[-1][1])
        _print_result(store, made, as_json)

    @group.command("variants")
    @click.argument("model", required=False)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def variants(obj: CliContext, model: str | None, as_json: bool) -> None:
        """Show variant trees (all roots, or the tree MODEL belongs to): size, params, fidelity, sha, and the
        last measured p50/p90 per device (from the workspace's runs, matched by file path or sha256)."""
        from workbench.core.passes.variants import VariantStore, iter_tree

        store = VariantStore(obj.workspace_dir())
        if model:
            v = store.resolve(model)
            roots = [store.get(v.root_id)]
        else:
            roots = store.roots()
        measured = _measured(store, [x for r in roots for _, x in iter_tree(store, r)])
        if as_json:
            click.echo(json.dumps([[dict(x.to_json(), depth=d, measured=[m.to_json() for m in measured[x.id]])
                                    for d, x in iter_tree(store, r)] for r in roots], indent=1))
            return
        if not roots:
            console.print(f"no variants yet in {store.workspace} (try `workbench variant MODEL --pass ID`)")
            return
        for r in roots:
            nodes: dict[str, Tree] = {}
            tree: Tree | None = None
            for depth, v in iter_tree(store, r):
                text = (f"[bold]{_label(v)}[/]  {_size(v.size)}  {_fid(v, 'vs_parent')}"
                        f"  [dim]id {v.short} sha {v.sha256[:8]}[/]")
                if v.warnings:
                    text += f"  [yellow]{len(v.warnings)} warning(s)[/]"
                for m in measured[v.id]:
                    text += f"\n  [cyan]{m.device}[/] p50 {m.p50_ms:.2f} / p90 {m.p90_ms:.2f} ms  [dim]run {m.run_id}[/]"
                if tree is None:
                    tree = nodes[v.id] = Tree(text)
                else:
                    nodes[v.id] = nodes[v.parent_id].add(text)
            console.print(tree)

    @group.command("passes")
    @click.option("--check-determinism", "check_model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Run each pass twice (default params) on this model and compare the bytes.")
    @click.option("--calib", type=click.Path(file_okay=False, path_type=Path), help="Calibration folder for the check.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def passes(obj: CliContext, check_model: Path | None, calib: Path | None, as_json: bool) -> None:
        """List installed passes with their parameters (and optionally check they are deterministic)."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.passes.registry import pass_statuses, schema_summary
        from workbench.core.passes.variants import VariantStore, determinism_check

        rows = []
        for st in pass_statuses():
            m = st.manifest
            row: dict[str, Any] = {"id": m.name, "origin": m.origin, "ok": st.ok, "error": st.error}
            if st.ok:
                cls = st.obj
                row.update(title=cls.title, version=str(cls.version), precision=cls.precision,
                           params=schema_summary(cls), search=sorted(cls.search_space.dims))
            rows.append(row)
        if check_model:
            store = VariantStore(obj.workspace_dir())
            root = store.register_root(check_model)
            for row in rows:
                if not row["ok"]:
                    continue
                try:
                    same, a, b = determinism_check(store, root, row["id"], calibration_dir=calib)
                    row["deterministic"] = "yes" if same else f"NO ({a[:8]} vs {b[:8]})"
                except WorkbenchError as exc:
                    row["deterministic"] = f"n/a: {exc}"
        if as_json:
            click.echo(json.dumps(rows, indent=1))
            return
        t = Table(title="Passes", title_justify="left")
        cols = ["id", "title", "version", "origin", "parameters"] + (["deterministic"] if check_model else [])
        for c in cols:
            t.add_column(c, overflow="fold")
        for r in rows:
            if not r["ok"]:
                t.add_row(r["id"], f"[red]broken[/] {r['error']}", "", r["origin"], "", *([""] if check_model else []))
                continue
            params = r["params"] + (f"  [dim]tunable: {', '.join(r['search'])}[/]" if r["search"] else "")
            t.add_row(r["id"], r["title"], r["version"], r["origin"], params,
                      *([r.get("deterministic", "")] if check_model else []))
        console.print(t)
