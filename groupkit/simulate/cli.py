"""``groupkit simulate OUT``: write a simulated archive (and optionally its truth).

Examples
--------
>>> import tempfile
>>> from click.testing import CliRunner
>>> out = tempfile.mkdtemp()
>>> result = CliRunner().invoke(command, [out, "--groups", "2", "--days", "1"])
>>> result.exit_code, "wrote" in result.output
(0, True)
"""

from __future__ import annotations

import ast
from pathlib import Path

import click

from groupkit._cli_common import EPILOG, check_output_dir
from groupkit.simulate.archive import DEFAULT_KNOBS, simulate_archive


def _knob(value: str) -> tuple[str, object]:
    name, _, raw = value.partition("=")
    if name not in DEFAULT_KNOBS or not raw:
        raise click.BadParameter(
            f"{value!r}: use NAME=VALUE with NAME one of {', '.join(sorted(DEFAULT_KNOBS))}",
            param_hint="--knob",
        )
    try:
        parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        parsed = raw
    default = DEFAULT_KNOBS[name]
    if not _same_kind(parsed, default):
        raise click.BadParameter(
            f"{value!r}: {name} takes a value like {default!r}", param_hint="--knob"
        )
    return name, parsed


def _same_kind(value: object, default: object) -> bool:
    """Whether a knob's value has the shape of its default (a share, a flag, a range...)."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, tuple):
        return (
            isinstance(value, tuple)
            and len(value) == len(default)
            and all(isinstance(v, int) and v >= 0 for v in value)
        )
    return isinstance(value, type(default))


@click.command(name="simulate", epilog=EPILOG)
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--groups", default=20, show_default=True, type=click.IntRange(min=1), help="Number of groups."
)
@click.option(
    "--days", default=3, show_default=True, type=click.IntRange(min=1), help="Number of days."
)
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same files).")
@click.option(
    "--fmt",
    type=click.Choice(["ndjson", "json", "mixed"]),
    default="ndjson",
    show_default=True,
    help="NDJSON lines, JSON arrays, or days cycling NDJSON / gzipped NDJSON / JSON array.",
)
@click.option(
    "--knob",
    "knobs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a simulator knob, e.g. --knob duplicate=0.4 --knob gzip=True.",
)
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the truth frames as Parquet into this directory.",
)
def command(
    out: Path, groups: int, days: int, seed: int, fmt: str, knobs: tuple[str, ...], truth_dir
) -> None:
    """Write a simulated archive of group webhooks to OUT (daily files)."""
    overrides = dict(_knob(k) for k in knobs)
    check_output_dir(out, "OUT")
    if truth_dir is not None:
        check_output_dir(truth_dir, "--truth")
    sim = simulate_archive(out, groups=groups, days=days, seed=seed, fmt=fmt, **overrides)
    size = sum(f.stat().st_size for f in sim.files)
    click.echo(
        f"wrote {len(sim.files)} files ({size:,} bytes, {sim.stats['posts']:,} POSTs, "
        f"{sim.stats['redeliveries']:,} redeliveries) to {out}"
    )
    if truth_dir is not None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        for name in ("deliveries", "membership", "inbound"):
            getattr(sim.truth, name).to_parquet(truth_dir / f"{name}.parquet")
        click.echo(f"wrote the truth to {truth_dir}")
