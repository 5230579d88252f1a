"""The ``groupkit`` command line.

Each sub-command lives in the module that owns its job and is imported only when
it runs, so ``groupkit --help`` stays fast and one broken optional extra cannot
break the other commands.

A user's mistake never shows a traceback: every error groupkit raises on purpose,
every usage error and every failed file operation is one line on stderr,
``groupkit COMMAND: what was wrong; what to do``, with an exit status per kind of
mistake (:data:`groupkit._cli_common.EXIT_CODES`).

Examples
--------
>>> from click.testing import CliRunner
>>> "summary" in CliRunner().invoke(main, ["--help"]).output
True
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Any

import click

from groupkit._cli_common import EPILOG

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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the sub-command; what it raises for the user to fix becomes a ClickException."""
        from groupkit.exceptions import GroupkitError

        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise _named(exc, ctx) from None
        except GroupkitError as exc:
            raise _named(click.ClickException(str(exc)), ctx) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # output piped into `head`: not an error
                raise
            raise _named(click.ClickException(_os_message(exc)), ctx) from None

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """As click's, but every error is one line on stderr: never a traceback, a usage dump."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            click.echo(_one_line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("groupkit: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _named(exc: click.ClickException, ctx: click.Context) -> click.ClickException:
    """Remember which command failed, for the message's prefix."""
    if not hasattr(exc, "command_path"):
        sub = ctx.invoked_subcommand
        exc.command_path = f"{ctx.command_path} {sub}" if sub else ctx.command_path  # type: ignore[attr-defined]
    return exc


def _os_message(exc: OSError) -> str:
    reason = (exc.strerror or str(exc)).lower()
    where = f" {exc.filename}" if exc.filename else ""
    return f"could not use{where}: {reason}"


def _one_line(exc: click.ClickException) -> str:
    """``groupkit COMMAND: message`` on one line; a usage error also says where help is."""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        path = exc.ctx.command_path
        text = f"{path}: {exc.format_message().rstrip('.')}; see '{path} --help'"
    else:
        path = getattr(exc, "command_path", "groupkit")
        text = f"{path}: {exc.format_message()}"
    return " ".join(text.split())


@click.group(cls=_LazyGroup, epilog=EPILOG)
@click.version_option(package_name="groupkit")
def main() -> None:
    """groupkit: WhatsApp group webhooks into tidy frames, analytics and reports."""
