"""`workbench inspect MODEL.onnx` and `workbench demo-models`: look inside a model before running it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from workbench.cli.common import console

if TYPE_CHECKING:  # onnx is imported only when a command runs, so `workbench --help` stays quick
    from workbench.core.models import ModelReport, TensorInfo


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return str(n)


def _shape(t: TensorInfo) -> str:
    if t.shape is None:
        return "unknown rank"
    return "[" + ", ".join("?" if d is None else str(d) for d in t.shape) + "]"


def _io_table(title: str, tensors: list[TensorInfo]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    for col in ("name", "dtype", "shape", "dynamic axes"):
        table.add_column(col)
    for t in tensors:
        dyn = "rank unknown" if t.shape is None else ", ".join(map(str, t.dynamic_axes)) or "-"
        table.add_row(escape(t.name), t.dtype, escape(_shape(t)), dyn)
    return table


def render_report(r: ModelReport, top_ops: int = 30) -> None:
    """Print a model report as rich tables (summary, inputs, outputs, operators, metadata)."""
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    producer = f"{r.producer_name} {r.producer_version}".strip() or "-"
    opsets = ", ".join(f"{d} {v}" for d, v in r.opset_imports.items())
    weights = r.weights_location + (f" ({', '.join(r.external_data_files)})" if r.external_data_files else "")
    nodes = f"{r.node_count}" + (f" ({r.main_graph_node_count} in main graph, rest in {r.subgraph_count} "
                                 "subgraphs)" if r.subgraph_count else "")
    rows = [
        ("file", f"{r.path} ({_size(r.file_size_bytes)})"), ("producer", producer),
        ("IR version", str(r.ir_version)), ("opsets", opsets), ("graph", r.graph_name or "-"),
        ("nodes", nodes),
        ("parameters", f"{r.parameter_count:,} ({r.initializer_params:,} in initializers, "
                       f"{r.constant_node_params:,} in Constant nodes)"),
        ("weights in", weights),
        ("control flow", ", ".join(r.control_flow_ops) if r.has_control_flow else "no"),
    ]
    if r.doc_string:
        rows.append(("about", r.doc_string))
    for key, value in rows:
        summary.add_row(key, escape(value))
    console.print(summary)
    console.print()
    console.print(_io_table("Inputs", r.inputs))
    console.print()
    console.print(_io_table("Outputs", r.outputs))
    console.print()
    ops = Table(title=f"Operators ({len(r.op_histogram)} types, subgraphs included)", title_justify="left",
                show_edge=False)
    ops.add_column("op")
    ops.add_column("count", justify="right")
    items = list(r.op_histogram.items())
    for op, count in items[:top_ops]:
        ops.add_row(escape(op), str(count))
    if len(items) > top_ops:
        ops.add_row(f"... {len(items) - top_ops} more", str(sum(c for _, c in items[top_ops:])))
    console.print(ops)
    if r.metadata_props:
        console.print()
        meta = Table(title="Metadata", title_justify="left", show_edge=False)
        meta.add_column("key")
        meta.add_column("value")
        for key, value in r.metadata_props.items():
            meta.add_row(escape(key), escape(value))
        console.print(meta)


def register(group: click.Group) -> None:
    @group.command("inspect")
    @click.argument("model", type=click.Path(path_type=Path))
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (for scripts and CI).")
    @click.option("--top", default=30, show_default=True, type=click.IntRange(1), help="Operator rows to show.")
    def inspect_cmd(model: Path, as_json: bool, top: int) -> None:
        """Show inputs, outputs, opsets, operators, parameters and metadata of MODEL (.onnx)."""
        from workbench.core.models import inspect_model

        report = inspect_model(model)
        if as_json:
            click.echo(report.to_json())
        else:
            render_report(report, top_ops=top)

    @group.command("demo-models")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                  help="Write fresh copies of all demo models here (default: list, generating missing ones).")
    @click.option("--path", "path_of", metavar="NAME", help="Print only the file path of demo model NAME (for scripts).")
    def demo_models_cmd(out: Path | None, path_of: str | None) -> None:
        """List the bundled demo models (generated on first use), or write them to --out."""
        from workbench.core.models import demo_model_path, inspect_model, list_demo_models, write_demo_models
        from workbench.core.models.resources import DEMO_MODELS_DIR

        if path_of:
            click.echo(str(demo_model_path(path_of)))
            return

        paths = write_demo_models(out) if out else [demo_model_path(n) for n in list_demo_models()]
        table = Table(title=f"Demo models ({out or DEMO_MODELS_DIR})", title_justify="left", show_edge=False)
        for col in ("name", "file", "size", "inputs"):
            table.add_column(col)
        for path in paths:
            report = inspect_model(path)
            inputs = ", ".join(f"{t.name} {_shape(t)}" for t in report.inputs)
            table.add_row(path.stem, escape(path.name), _size(report.file_size_bytes), escape(inputs))
        console.print(table)
