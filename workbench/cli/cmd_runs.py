"""`workbench runs`, `show`, `export`: the run history in the workspace store."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from workbench.cli.common import CliContext, console
from workbench.cli.render import STATUS_STYLE, fmt, render_result, when
from workbench.core.export import FORMATS, export_run
from workbench.core.store import RunStore
from workbench.core.types import RunStatus


def register(group: click.Group) -> None:
    @group.command("runs")
    @click.option("--limit", default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def runs(obj: CliContext, limit: int, as_json: bool) -> None:
        """List runs in the workspace, newest first."""
        rows = RunStore(obj.workspace_dir()).list_runs(limit)
        if as_json:
            click.echo(json.dumps(rows, indent=1))
            return
        t = Table(title=f"Runs in {obj.workspace_dir()}", title_justify="left")
        for col in ("id", "started", "status", "device", "model", "label", "iterations", "p50 ms", "samples"):
            t.add_column(col, justify="right" if col in ("id", "iterations", "p50 ms", "samples") else "left")
        for r in rows:
            style = STATUS_STYLE.get(RunStatus(r["status"]), "white")
            t.add_row(str(r["id"]), when(r["started_at"]), f"[{style}]{r['status']}[/]", r["device"],
                      Path(r["model"]).name, r["label"], str(r["iterations"]), fmt(r["p50_ms"], ".3f"),
                      str(r["samples"]))
        console.print(t)

    @group.command("show")
    @click.argument("run_id", type=int)
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--top", default=25, show_default=True)
    @click.pass_obj
    def show(obj: CliContext, run_id: int, as_json: bool, top: int) -> None:
        """Reprint a stored run."""
        result = RunStore(obj.workspace_dir()).get_result(run_id)
        if as_json:
            click.echo(json.dumps(asdict(result) | {"status": result.status.value}, indent=1, default=str))
        else:
            render_result(console, result, top=top)

    @group.command("export")
    @click.argument("run_id", type=int)
    @click.option("--format", "fmt_", type=click.Choice(FORMATS), default="json", show_default=True)
    @click.option("--out", "-o", type=click.Path(path_type=Path), help="Output file [default: run-ID.<ext>].")
    @click.pass_obj
    def export(obj: CliContext, run_id: int, fmt_: str, out: Path | None) -> None:
        """Write a run as CSV, JSON, or a Perfetto-openable trace (`--format trace`)."""
        ext = {"csv": "csv", "json": "json", "trace": "trace.json"}[fmt_]
        paths = export_run(RunStore(obj.workspace_dir()), run_id, fmt_, out or Path(f"run-{run_id}.{ext}"))
        for p in paths:
            console.print(f"wrote {p}")
