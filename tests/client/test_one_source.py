"""The two clients are one definition: same public methods, signatures and docstrings."""

from __future__ import annotations

import inspect

from groupkit.client import AsyncGroupClient, GroupClient

PUBLIC = {
    "send_text",
    "send_media",
    "send_template",
    "pin",
    "unpin",
    "list_groups",
    "iter_groups",
    "group_info",
    "create_group",
    "from_env",
    "provider",
    "base_url",
}


def public(cls) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")} - {"close", "aclose"}


def test_both_clients_offer_the_same_operations():
    assert public(GroupClient) == public(AsyncGroupClient) == PUBLIC


def test_each_operation_has_one_signature_and_docstring_blocking_or_awaited():
    for name in sorted(PUBLIC - {"provider", "base_url", "from_env", "iter_groups"}):
        blocking, awaited = getattr(GroupClient, name), getattr(AsyncGroupClient, name)
        assert inspect.signature(blocking) == inspect.signature(awaited), name
        assert blocking.__doc__ == awaited.__doc__ and "Examples" in blocking.__doc__
        assert "Flow" not in str(inspect.signature(blocking).return_annotation)
        assert not inspect.iscoroutinefunction(blocking), name
        assert inspect.iscoroutinefunction(awaited), name
        assert blocking.__qualname__ == f"GroupClient.{name}"
        assert awaited.__qualname__ == f"AsyncGroupClient.{name}"
    assert inspect.isasyncgenfunction(AsyncGroupClient.iter_groups)
    assert inspect.isgeneratorfunction(GroupClient.iter_groups)
