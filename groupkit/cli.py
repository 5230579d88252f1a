"""The ``groupkit`` command line.

Each sub-command lives in the module that owns its job and is imported only when
it runs, so ``groupkit --help`` stays fast and one broken optional extra cannot
break the other commands.

Examples
--------
>>> from click.testing import CliRunner
>>> "summary" in CliRunner().invoke(main, ["--help"]).output
True
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click.Command
_COMMANDS: dict[str, str] = {
    "summary": "groupkit._cli_archive:summary",
    "export": "groupkit._cli_archive:export",
    "report": "groupkit.report:command",
    "dashboard": "groupkit.widgets.dashboard:command",
    "receive": "groupkit._cli_receive:command",
    "sandbox": "groupkit.sandbox.cli:command",
    "simulate": "groupkit.simulate.cli:command",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="groupkit")
def main() -> None:
    """groupkit: WhatsApp group webhooks into tidy frames, analytics and reports."""
