"""`workbench plugins`: every installed plugin (bundled or third-party) and whether it loads."""
from __future__ import annotations

import json

import click
from rich.table import Table

from workbench.cli.common import CliContext, console
from workbench.core.plugins import GROUPS, PluginRegistry


def register(group: click.Group) -> None:
    @group.command("plugins")
    @click.option("--group", "groups", multiple=True, type=click.Choice(sorted(GROUPS)), help="Only these kinds.")
    @click.option("--no-load", is_flag=True, help="List from metadata only (no plugin code is imported).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def plugins(obj: CliContext, groups: tuple[str, ...], no_load: bool, as_json: bool) -> None:
        """List passes, runners, probes, evaluators and tuners found through entry points.

        Each plugin is imported to check it (unless --no-load); one that fails is shown as broken
        with the reason, and the rest still work."""
        reg = PluginRegistry()
        rows = []
        for m in reg.manifests():
            if groups and m.kind not in groups:
                continue
            row = {"group": m.kind, "name": m.name, "origin": m.origin, "version": m.version, "value": m.value}
            if not no_load:
                st = reg.load(m)
                row["status"] = "ok" if st.ok else "broken"
                row["error"] = st.error
            rows.append(row)
        if as_json:
            click.echo(json.dumps(rows, indent=1))
            return
        t = Table(title="Plugins", title_justify="left")
        for col in ("group", "name", "origin", "version") + (() if no_load else ("status",)):
            t.add_column(col)
        for r in rows:
            cells = [r["group"], r["name"], r["origin"], r["version"]]
            if not no_load:
                cells.append("[green]ok[/]" if r["status"] == "ok" else f"[red]broken[/] {r['error']}")
            t.add_row(*cells)
        console.print(t)
        if not rows:
            console.print("[yellow]no plugins found[/] (is edge-workbench installed with pip?)")
