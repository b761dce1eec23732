"""Shared CLI plumbing: the context object, one-line errors, the rich console."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from workbench.core.errors import WorkbenchError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class CliContext:
    workspace: str | None = None
    debug: bool = False

    def workspace_dir(self) -> Path:
        from workbench.core.workspace import default_workspace_dir

        return Path(self.workspace) if self.workspace else default_workspace_dir()


def run_cli_guarded(group: click.Group) -> int:
    """Run the click group; turn WorkbenchError into one red line and exit code 2 (traceback with --debug)."""
    debug = "--debug" in sys.argv
    try:
        rv = group.main(standalone_mode=False)
        return rv if isinstance(rv, int) else 0  # ctx.exit(n) returns n when not standalone
    except click.exceptions.Abort:
        err_console.print("[yellow]aborted[/]")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("[yellow]cancelled[/]")
        return 130
    except WorkbenchError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
