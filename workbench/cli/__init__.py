"""`workbench` command line: the GUI's headless twin.

Each `workbench/cli/cmd_*.py` module defines `register(group)`; they are found here automatically, so
adding a command never means editing this file.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from workbench import __version__
from workbench.cli.common import CliContext, run_cli_guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", type=click.Path(file_okay=False), envvar="WORKBENCH_WORKSPACE",
              help="Workspace folder holding the run store (default: the user data dir).")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="workbench")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, debug: bool) -> None:
    """Profile, optimize and tune ONNX models on phones and on this machine."""
    ctx.obj = CliContext(workspace=workspace, debug=debug)


def _register_commands() -> None:
    import workbench.cli as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if mod.name.startswith("cmd_"):
            importlib.import_module(f"workbench.cli.{mod.name}").register(cli)


_register_commands()


def hoist_global_options(argv: list[str]) -> list[str]:
    """Accept `--workspace DIR` and `--debug` anywhere on the line (users write them after the command,
    e.g. `workbench profile m.onnx --workspace ws`); click only takes group options before it."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--debug":
            front.append(arg)
        elif arg == "--workspace" and i + 1 < len(argv):
            front.extend(argv[i:i + 2])
            i += 1
        elif arg.startswith("--workspace="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main() -> None:
    sys.argv[1:] = hoist_global_options(sys.argv[1:])
    sys.exit(run_cli_guarded(cli))
