"""One exception module, and a public surface that says what it exports.

Pins: every exception or warning class groupkit defines lives in :mod:`groupkit.exceptions`
(except the internal ones listed below, each with its reason); ``groupkit.exceptions.__all__``
and ``groupkit.__all__`` are complete and sorted; the old import paths still work.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import groupkit
import groupkit.exceptions

# Exception classes that never reach a user of the library, so they stay with their module.
# A new exception class anywhere else must go to groupkit.exceptions (or be added here, with why).
INTERNAL = {
    # click.ClickException subclasses: click prints them and sets the exit code; a CLI user
    # sees the message, a library user never sees the class.
    "groupkit._cli_common.InputError": "click renders it",
    "groupkit._cli_common.NoWebhooksError": "click renders it",
    "groupkit._cli_common.OutputError": "click renders it",
    "groupkit._cli_common.MissingExtraError": "click renders it",
    # The loader's record-level signal: caught in the walk and turned into a Reject row.
    "groupkit.load.walk.BadRecord": "becomes a Reject, never raised to the caller",
    # The cache's "do not trust this entry": caught and turned into a CacheWarning + rebuild.
    "groupkit.load.cache._Corrupt": "becomes a CacheWarning, never raised to the caller",
    # The sandbox's error answer (status, JSON body, headers): caught by its routes and sent
    # over HTTP; the client turns the answer into an APIError.
    "groupkit.sandbox.state.ApiError": "becomes an HTTP answer of the sandbox",
}


def _modules() -> list[str]:
    names = ["groupkit"]
    for info in pkgutil.walk_packages(groupkit.__path__, "groupkit."):
        names.append(info.name)
    return names


def _exception_classes() -> dict[str, type]:
    """Every exception or warning class defined in a groupkit module, by qualified name."""
    found = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found[f"{name}.{obj.__qualname__}"] = obj
    return found


def _is_sorted(names: list[str]) -> bool:
    return list(names) == sorted(names)


def test_every_exception_class_lives_in_groupkit_exceptions():
    classes = _exception_classes()
    outside = sorted(
        name
        for name in classes
        if not name.startswith("groupkit.exceptions.") and name not in INTERNAL
    )
    assert outside == [], "move these to groupkit/exceptions.py (or list them in INTERNAL)"
    # The allow-list cannot go stale: each internal class still exists where it says.
    assert sorted(set(INTERNAL) - set(classes)) == []


def test_exceptions_all_is_every_class_of_the_module_and_sorted():
    defined = {
        name
        for name, obj in vars(groupkit.exceptions).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == "groupkit.exceptions"
        and not name.startswith("_")
    }
    assert set(groupkit.exceptions.__all__) == defined
    assert _is_sorted(groupkit.exceptions.__all__)


def test_every_error_is_a_groupkit_error_and_every_warning_a_user_warning():
    for name in groupkit.exceptions.__all__:
        cls = getattr(groupkit.exceptions, name)
        if issubclass(cls, Warning):
            assert issubclass(cls, UserWarning), name
        else:
            assert issubclass(cls, groupkit.GroupkitError), name


def test_the_tree_in_the_docstring_names_every_class():
    doc = groupkit.exceptions.__doc__
    for name in groupkit.exceptions.__all__:
        assert f"── {name}" in doc, name


def test_groupkit_all_is_complete_and_sorted():
    # The rule: every public attribute of the package that is a class or function defined in
    # groupkit is listed (submodules are reachable as attributes but are not names to export),
    # every exception is re-exported, and every listed name exists.
    public = {
        name
        for name, obj in vars(groupkit).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__.startswith("groupkit")
    }
    listed = set(groupkit.__all__)
    assert public - listed == set()
    assert set(groupkit.exceptions.__all__) - listed == set()
    assert [name for name in groupkit.__all__ if not hasattr(groupkit, name)] == []
    assert _is_sorted(groupkit.__all__)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("groupkit.client.errors", "APIError"),
        ("groupkit.client.errors", "AuthenticationError"),
        ("groupkit.client.errors", "ClientConfigError"),
        ("groupkit.client.errors", "RateLimitError"),
        ("groupkit.client.errors", "SendUncertainError"),
        ("groupkit.client.errors", "ServerError"),
        ("groupkit.client.errors", "TransportError"),
        ("groupkit.client.errors", "PayloadError"),
        ("groupkit.client", "APIError"),
        ("groupkit.payloads", "PayloadError"),
        ("groupkit.receiver", "ReceiverError"),
        ("groupkit.receiver.secrets", "ReceiverError"),
        ("groupkit.cache", "CacheWarning"),
        ("groupkit.load.cache", "CacheWarning"),
    ],
)
def test_old_import_paths_still_work(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(groupkit.exceptions, name)
