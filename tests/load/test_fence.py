"""The fence around the loader's C (issue 16): sanitizers, a fuzz corpus, buffer growth.

CI runs the long version (``python -m tests.load.sanitize``, see ``.ci/run``); these
tests show that the fence can fail (a planted out-of-bounds read, planted undefined
behaviour, a lane that misreads) and run a few hundred mutated lines through the
lane and the walker in the normal suite.
"""

from __future__ import annotations

import itertools
import random
import sys
import textwrap
from pathlib import Path

import pytest

import groupkit
from groupkit.load import lane
from tests.load import fuzz, sanitize

needs_gcc = pytest.mark.skipif(not sanitize.gcc_available(), reason="no gcc / Python headers")

PLANTED = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* peek(buffer, i): buffer[i] with no bounds check (planted out-of-bounds read). */
static PyObject *peek(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t at;
    if (!PyArg_ParseTuple(args, "y*n", &view, &at))
        return NULL;
    char c = ((const char *)view.buf)[at];
    PyBuffer_Release(&view);
    return PyLong_FromLong(c);
}

/* add(a, b) in a C int (planted signed overflow). */
static PyObject *add(PyObject *self, PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"peek", peek, METH_VARARGS, ""}, {"add", add, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "planted", NULL, -1, methods};
PyMODINIT_FUNC PyInit_planted(void) { return PyModule_Create(&module); }
"""

# _scan.c's static buf_grow, reached by including the file (not editing it).
PROBE = r"""
#include "{scan}"

static PyObject *grow(PyObject *self, PyObject *args)
{
    Buf b;
    Py_ssize_t n;
    memset(&b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "nnn", &b.len, &b.cap, &n))
        return NULL;
    if (buf_grow(&b, n))
        return NULL;
    PyObject *out = Py_BuildValue("(nn)", b.len, b.cap);
    Py_XDECREF(b.obj);
    return out;
}

static PyMethodDef probe_methods[] = {{"grow", grow, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef probe_module = {PyModuleDef_HEAD_INIT, "probe", NULL, -1, probe_methods};
PyMODINIT_FUNC PyInit_probe(void) { return PyModule_Create(&probe_module); }
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The planted module, the buf_grow probe and _scan itself, built under the sanitizers."""
    out = tmp_path_factory.mktemp("asan")
    (out / "planted.c").write_text(PLANTED)
    (out / "probe.c").write_text(PROBE.replace("{scan}", str(sanitize.SCAN_C)))
    sanitize.build(out / "planted.c", out, "planted")
    sanitize.build(out / "probe.c", out, "probe")
    sanitize.build(sanitize.SCAN_C, out, "_scan")
    return out


def _python(built: Path, code: str, **env: str):
    """Run ``code`` in a sanitized interpreter that imports from ``built``."""
    prelude = f"import sys; sys.path.insert(0, {str(built)!r})\n"
    return sanitize.run_sanitized(["-c", prelude + textwrap.dedent(code)], timeout=300, **env)


@needs_gcc
def test_the_sanitizers_catch_a_planted_out_of_bounds_read(built):
    # In bounds, the sanitized interpreter runs normally: the harness itself is clean.
    fine = _python(built, "import planted; print(planted.peek(b'abc', 1))")
    assert (fine.returncode, fine.stdout.strip()) == (0, str(ord("b"))), fine.stderr[-2000:]
    # One byte past a bytes object (past its hidden NUL too): ASan aborts the process.
    oob = _python(built, "import planted; planted.peek(b'abc' * 100, 301)")
    assert oob.returncode != 0
    assert "AddressSanitizer: heap-buffer-overflow" in oob.stderr
    # One byte past an exact allocation, as the fuzz driver hands blocks to the lane.
    exact = _python(
        built,
        "import planted; from tests.load.fuzz import _exact_buffer\n"
        "planted.peek(_exact_buffer(b'x' * 40), 40)",
    )
    assert exact.returncode != 0 and "heap-buffer-overflow" in exact.stderr


@needs_gcc
def test_the_sanitizers_catch_planted_undefined_behaviour(built):
    fine = _python(built, "import planted; print(planted.add(2, 3))")
    assert fine.stdout.strip() == "5", fine.stderr[-2000:]
    bad = _python(built, "import planted; planted.add(2**31 - 1, 1); print('survived')")
    assert bad.returncode != 0 and "survived" not in bad.stdout
    assert "signed integer overflow" in bad.stderr


@needs_gcc
def test_buffer_growth_refuses_sizes_that_would_overflow(built):
    """buf_grow's guard, driven with huge sizes through a probe (no GBs allocated).

    From Python the sizes are not reachable: a request is at most one string of the
    input or 8 bytes, so a block would need ~2**60 bytes to reach the guard."""
    big = sys.maxsize // 8  # PY_SSIZE_T_MAX / 8: the guard's bound on len + n
    code = f"""
        import probe
        def grow(*args):
            try:
                return probe.grow(*args)
            except MemoryError:
                return "MemoryError"
        # The first buffer is 64 kB; it grows fourfold until len + n fits.
        print([grow(0, 0, 10), grow(100, 65536, 65536), grow(0, 0, 65537)])
        # Past the guard: refused before any arithmetic can overflow.
        print([grow(0, 0, {sys.maxsize}), grow({big} - 5, 1 << 16, 10), grow({sys.maxsize}, 0, 1)])
        # At the guard: the capacity arithmetic stays in range (2**60), the allocation fails.
        print(grow(0, 1 << 16, {big}))
    """
    # ASan would abort on a 2**60-byte request; let malloc say no, as it does unsanitized.
    done = _python(
        built, code, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    small, refused, edge = done.stdout.splitlines()
    assert small == str([(0, 65536), (100, 262144), (0, 262144)])
    assert refused == str(["MemoryError"] * 3)
    assert edge == "MemoryError"


@needs_gcc
def test_the_sanitized_lane_reads_mutated_lines_like_the_walker(built):
    """The CI step, briefly: the sanitized _scan in place of the installed one."""
    so = next(built.glob("_scan*.so"))
    done = sanitize.run_sanitized(
        ["-m", "tests.load.fuzz", "--scan", str(so), "--lines", "256", "--seconds", "120"],
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "fuzzed 256 mutated lines" in done.stdout and " 0 differ" in done.stdout


def test_a_few_hundred_mutated_lines_read_the_same_through_the_lane():
    assert lane.available()
    corpus = fuzz.seeds(simulated=False)
    anchor = min((s for s in corpus if b'"statuses"' in s), key=len)
    lines = [
        line.replace(b"\n", b" ") for line in itertools.islice(fuzz.mutated_lines(corpus, 16), 400)
    ]
    failures = []
    for start in range(0, len(lines), fuzz.BLOCK):
        failures += fuzz.check_lines(lines[start : start + fuzz.BLOCK], anchor)
    assert failures == [], "\n".join(f"{line!r}: {why}" for line, why in failures)


def test_the_fuzz_comparison_fails_on_a_lane_that_misreads(monkeypatch):
    """A lane that reads one character wrong is caught and the line is named."""
    real = lane.walk_lines

    def misreads(data, *args):
        return real(bytes(data).replace(b"wamid.", b"wamiX."), *args)

    monkeypatch.setattr(lane, "walk_lines", misreads)
    corpus = fuzz.sample_seeds()
    anchor = b"{}"
    taken = [s for s in corpus if fuzz.lane_takes(s) and b"wamid." in s][:3]
    assert len(taken) == 3
    failures = fuzz.check_lines([b"not json", *taken], anchor)
    assert [line for line, _ in failures] == taken


def test_mutations_are_deterministic_and_varied():
    corpus = fuzz.sample_seeds()[:50]
    a = list(itertools.islice(fuzz.mutated_lines(corpus, 3), 500))
    b = list(itertools.islice(fuzz.mutated_lines(corpus, 3), 500))
    assert a == b
    assert len(set(a)) > 450 and not set(a) <= set(corpus)
    rng = random.Random(0)
    assert fuzz._deep(rng, b'{"a":1}').count(b"[") + fuzz._deep(rng, b'{"a":1}').count(b"{") > 2


# Faults of the walker (not the lane) that the fuzzer found: both paths raised
# (TypeError, OverflowError) instead of rejecting the record.
WALKER_FAULTS = {
    "field is an object": b'{"entry":[{"id":"1","changes":[{"field":{},"value":{}}]}]}',
    "field is an array": b'{"entry":[{"id":"1","changes":[{"field":[null],"value":{}}]}]}',
    "received_at past a float": b'{"received_at":' + b"1" * 400 + b',"body":"{\\"entry\\":[]}"}',
}


@pytest.mark.parametrize("name", WALKER_FAULTS)
def test_a_malformed_field_or_received_at_is_read_or_rejected_not_raised(name):
    good = fuzz.sample_seeds()[0]
    archive = groupkit.parse_webhooks(good + b"\n" + WALKER_FAULTS[name] + b"\n")
    assert archive.report.records_read == 2
    if name.startswith("received_at"):  # as for 30 digits: out of range, not a time
        assert [(r.line, "received_at" in r.reason) for r in archive.report.rejects] == [(2, True)]
