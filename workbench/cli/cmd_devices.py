"""`workbench devices` and `workbench info`: what can run models, and what each one exposes."""
from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.table import Table

from workbench.cli.common import CliContext, console
from workbench.cli.render import render_info
from workbench.core.devices.registry import get_device, list_devices


def register(group: click.Group) -> None:
    @group.command("devices")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def devices(obj: CliContext, as_json: bool) -> None:
        """List devices: this machine (`local`) and reachable ADB targets, with their state."""
        rows = [{"serial": d.serial, "kind": d.kind, "state": d.state().value,
                 "via": getattr(d, "via", "") or "-", "detail": getattr(d, "detail", "") or ""} for d in list_devices()]
        if as_json:
            click.echo(json.dumps(rows, indent=1))
            return
        t = Table(title="Devices", title_justify="left")
        for col in ("serial", "kind", "state", "via", "detail"):
            t.add_column(col)
        for r in rows:
            color = "green" if r["state"] == "device" else "yellow"
            t.add_row(r["serial"], r["kind"], f"[{color}]{r['state']}[/]", r["via"], r["detail"])
        console.print(t)

    @group.command("info")
    @click.argument("serial", default="local")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def info(obj: CliContext, serial: str, as_json: bool) -> None:
        """Device report: CPU, frequencies, memory, OS, thermal zones, power sources (and what is absent)."""
        report = get_device(serial).info()
        if as_json:
            click.echo(json.dumps(asdict(report), indent=1, default=str))
        else:
            render_info(console, report)
