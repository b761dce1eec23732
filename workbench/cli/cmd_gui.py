"""`workbench gui [--demo] [MODEL]`: open the workbench window."""
from __future__ import annotations

from pathlib import Path

import click

from workbench.cli.common import CliContext


def register(group: click.Group) -> None:
    @group.command("gui")
    @click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--demo", is_flag=True, help="Open the demo model and start a 20 s run on this machine.")
    @click.option("--demo-seconds", default=20.0, show_default=True, type=click.FloatRange(1),
                  help="Length of the --demo run.")
    @click.pass_obj
    def gui_cmd(ctx: CliContext, model: Path | None, demo: bool, demo_seconds: float) -> None:
        """Open the workbench window (live charts, layers, compare, history)."""
        from workbench.core.viewmodels.models import check_model_path

        if model is not None:
            check_model_path(model)  # one-line ModelError naming the file, not a dialog after startup
        from workbench.app import run_gui

        code = run_gui(ctx.workspace_dir(), model, demo=demo, demo_seconds=demo_seconds)
        if code:
            raise click.exceptions.Exit(code)
