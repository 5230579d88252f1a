"""Build C under AddressSanitizer + UndefinedBehaviorSanitizer and run Python code on it.

The fence of the loader's C (``groupkit/load/_scan.c``, issue 16): CI builds the
extension once with the flags below into a temporary folder (never over the
installed one) and runs the fuzz driver (:mod:`tests.load.fuzz`) in a subprocess
that preloads the sanitizer runtime and imports the sanitized module in place of
the normal one.  Any invalid read or write, or undefined behaviour, aborts that
process with the sanitizer's report; ``tests/load/test_fence.py`` shows, on a
planted out-of-bounds read, that this build does catch one.

Usage (what ``.ci/run`` calls)::

    python -m tests.load.sanitize --seconds 60
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCAN_C = ROOT / "groupkit" / "load" / "_scan.c"
FLAGS = [
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
]


def gcc_available() -> bool:
    """True when gcc and the Python headers are there to build an extension."""
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    try:
        subprocess.run(["gcc", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return include.exists()


def build(source: Path, out_dir: Path, name: str) -> Path:
    """Compile one C file into the extension module ``name`` under the sanitizers."""
    target = Path(out_dir) / (name + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = [
        "gcc",
        *FLAGS,
        "-shared",
        "-fPIC",
        "-I" + sysconfig.get_paths()["include"],
        str(source),
        "-o",
        str(target),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return target


def _runtime(name: str) -> str:
    out = subprocess.run(
        ["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def sanitized_env() -> dict[str, str]:
    """The environment of a Python process that loads a sanitized extension.

    Python itself is not instrumented, so ASan's runtime must be loaded first
    (``LD_PRELOAD``); leaks are not checked (the interpreter keeps objects alive
    at exit), and the first error aborts the process.  ``PYTHONMALLOC=malloc``
    puts every Python object (the bytes handed to C among them) in ASan's heap,
    with red zones around it, instead of in pymalloc's arenas where ASan sees no
    bounds.
    """
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join([_runtime("libasan.so"), _runtime("libubsan.so")])
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    env["PYTHONMALLOC"] = "malloc"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_sanitized(
    args: list[str], timeout: float | None = None, **env: str
) -> subprocess.CompletedProcess:
    """``python args...`` under the sanitizer runtime (``env`` overriding), output captured."""
    return subprocess.run(
        [sys.executable, *args],
        env={**sanitized_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="fuzzing budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="groupkit-asan-") as tmp:
        so = build(SCAN_C, Path(tmp), "_scan")
        print(f"built {SCAN_C.name} with {' '.join(FLAGS)} -> {so}", flush=True)
        cmd = [sys.executable, "-m", "tests.load.fuzz", "--scan", str(so)]
        cmd += ["--seconds", str(args.seconds), "--seed", str(args.seed)]
        # Output goes straight through: the fuzz driver's progress and any sanitizer report.
        done = subprocess.run(cmd, env=sanitized_env(), cwd=ROOT)
    if done.returncode:
        print(f"sanitized fuzzing failed with exit code {done.returncode}", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
