"""Webhook examples from ``../shared/reference/groups-api.md``, made into strict JSON.

Meta's own samples are often not valid JSON (comments, ``...``, trailing commas,
unquoted placeholders, a key outside its object) and use placeholders where real
webhooks carry numbers. The reference marks such blocks ``jsonc``; here each is
sanitised the way its section 7 says: comments and ellipses removed, trailing
commas dropped, placeholders given realistic values, the stray ``initiated_by``
moved into its group object. The YAML examples (Meta's OpenAPI) are read too.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "groups-api.md"
FENCE = re.compile(r"^```(json|jsonc|yaml)\n(.*?)^```", re.S | re.M)

TIMESTAMP = "1750000000"
CODE = 131000


def _sanitise(text: str) -> str:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"^\s*(//|#).*$", "", text, flags=re.M)
    text = re.sub(
        r",?\s*//[^\n\"]*$", lambda m: "," if m.group(0).startswith(",") else "", text, flags=re.M
    )
    text = re.sub(r"^\s*\.\.\.\s*$", "", text, flags=re.M)
    text = re.sub(r"\{\s*\.\.\.\s*\}", "", text)
    text = re.sub(r",\s*\{\s*\}", "", text)  # what was left of "{ ... }" in an array
    # A key outside its object: `}\n "initiated_by": "x"\n ]` -> inside the last object.
    text = re.sub(
        r"\}\s*\n(\s*)\"initiated_by\": (\"\w+\")\s*\n", r', "initiated_by": \2 }\n', text
    )
    # Placeholders where the wire has numbers or booleans.
    text = re.sub(
        r'("(?:timestamp|expiration_timestamp)"\s*:\s*)"?<?[A-Z_]*TIMESTAMP[A-Z_]*>?"?',
        rf'\1"{TIMESTAMP}"',
        text,
    )
    text = re.sub(r'("code"\s*:\s*)"?<?ERROR_CODE>?"?', rf"\g<1>{CODE}", text)
    text = re.sub(r"<IS_BILLABLE\?>|\bIS_BILLABLE\b", "true", text)
    # Two objects in one (the BSUID "one object per alternative" sample): keep the first keys.
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    return text


def webhook_samples() -> list[tuple[str, dict]]:
    """(name, webhook) for every webhook example in the reference."""
    text = REFERENCE.read_text(encoding="utf-8")
    out: list[tuple[str, dict]] = []
    for match in FENCE.finditer(text):
        kind, body = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        if kind == "yaml":
            import yaml

            lines = body.splitlines()
            indent = len(lines[0]) - len(lines[0].lstrip())
            # The excerpt ends inside the enclosing spec ("responses:"): keep the examples.
            kept = [x for x in lines if not x.strip() or len(x) - len(x.lstrip()) >= indent]
            found = _yaml_webhooks(yaml.safe_load(textwrap.dedent("\n".join(kept))))
            out += [(f"yaml@{line}:{name}", hook) for name, hook in found]
            continue
        if '"entry"' not in body:
            continue
        if "Only if business removes participant from group" in body:
            # Meta's BSUID sample lists five alternatives in one object; the tests
            # carry each alternative as its own hand-made webhook (BSUID_ALTERNATIVES).
            continue
        raw = body if kind == "json" else _sanitise(body)
        if kind == "json":
            raw = re.sub(r'("(?:timestamp)"\s*:\s*)"[A-Z_<>]+"', rf'\1"{TIMESTAMP}"', raw)
            raw = re.sub(r'("code"\s*:\s*)"<?ERROR_CODE>?"', rf"\g<1>{CODE}", raw)
        try:
            hook = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"reference block at line {line} still not JSON: {exc}") from exc
        out.append((f"{kind}@{line}", hook))
    return out


def _yaml_webhooks(node, name: str = "") -> list[tuple[str, dict]]:
    found = []
    if isinstance(node, dict):
        if "entry" in node and "object" in node:
            return [(name, node)]
        for key, value in node.items():
            found += _yaml_webhooks(
                value, str(key) if isinstance(value, dict) and "value" in value else name
            )
    elif isinstance(node, list):
        for item in node:
            found += _yaml_webhooks(item, name)
    return found


def _participants_update(item: dict) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "group_participants_update",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "groups": [
                                {"timestamp": int(TIMESTAMP), "group_id": "GROUP_ID", **item}
                            ],
                        },
                    }
                ],
            }
        ],
    }


BSUID = {
    "user_id": "US.13491208655302741918",
    "parent_user_id": "US.ENT.11815799212886844830",
    "username": "tiago",
}

# The five alternatives of Meta's BSUID-era group_participants_update sample (M-BSUID).
BSUID_ALTERNATIVES = {
    "business removes (BSUID input)": _participants_update(
        {
            "type": "group_participants_remove",
            "request_id": "REQUEST_ID",
            "removed_participants": [{"input": "US.13491208655302741918"}],
            "initiated_by": "business",
        }
    ),
    "participant leaves": _participants_update(
        {
            "type": "group_participants_remove",
            "request_id": "REQUEST_ID",
            "removed_participants": [{"wa_id": "16505551234", **BSUID}],
            "initiated_by": "participant",
        }
    ),
    "joins by invite link": _participants_update(
        {
            "type": "group_participants_add",
            "reason": "invite_link",
            "added_participants": [{"wa_id": "16505551234", **BSUID}],
        }
    ),
    "join request created": _participants_update(
        {
            "type": "group_join_request_created",
            "join_request_id": "JOIN_REQUEST_ID",
            "wa_id": "16505551234",
            **BSUID,
        }
    ),
    "join request revoked": _participants_update(
        {
            "type": "group_join_request_revoked",
            "join_request_id": "JOIN_REQUEST_ID",
            "wa_id": "16505551234",
            **BSUID,
        }
    ),
}
