"""The behavioural model: profiles, outcomes, and the webhooks it emits for them."""

from __future__ import annotations

import random

import pytest

from groupkit.catalog import lookup
from groupkit.simulate.model import (
    FAILURE_CODES,
    GroupProfile,
    draw_profile,
    message_outcome,
    status_webhooks,
)

T0 = 1_772_359_200
PEOPLE = [f"165055500{n:02d}" for n in range(8)]


def statuses_of(hook: dict) -> list[dict]:
    return [
        s
        for entry in hook["entry"]
        for change in entry["changes"]
        for s in change["value"].get("statuses", [])
    ]


def participant(status: dict) -> str | None:
    return status.get("recipient_participant_id") or status.get("participant_recipient_id")


def many_outcomes(n: int = 400, seed: int = 0, **profile_overrides):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        profile = draw_profile(rng, slow=i % 5 == 0)
        if profile_overrides:
            profile = GroupProfile(**{**profile.__dict__, **profile_overrides})
        out.append(
            message_outcome(
                rng,
                profile,
                message_id=f"wamid.{i}",
                group_id="G",
                participants=PEOPLE[: 2 + i % 7],
                sent_at=T0 + 60 * i,
            )
        )
    return rng, out


def test_slow_groups_are_slower_and_profiles_are_seeded():
    assert draw_profile(random.Random(4)) == draw_profile(random.Random(4))
    fast = [draw_profile(random.Random(s)).delivery_median_s for s in range(50)]
    slow = [draw_profile(random.Random(s), slow=True).delivery_median_s for s in range(50)]
    assert max(fast) < min(slow)


def test_outcome_times_are_whole_seconds_and_ordered():
    _, outcomes = many_outcomes()
    for o in outcomes:
        for r in o.receipts:
            if r.delivered_at is not None:
                assert isinstance(r.delivered_at, int) and r.delivered_at >= o.sent_at
            if r.read_at is not None:
                assert r.read_at >= r.delivered_at
            if not r.delivered_reported:
                assert r.read_at == r.delivered_at


def test_outcomes_include_never_read_read_on_delivery_and_failures_with_real_codes():
    _, outcomes = many_outcomes(n=1500)
    receipts = [r for o in outcomes for r in o.receipts if o.failed_at is None]
    assert any(r.read_at is None and r.delivered_at is not None for r in receipts)
    assert any(not r.delivered_reported for r in receipts)
    codes = {o.error_code for o in outcomes if o.failed_at is not None}
    assert codes <= set(FAILURE_CODES) and len(codes) >= 3
    assert all(lookup(code) is not None for code in codes)


def test_empty_group_fails_with_bad_group_and_no_sent():
    rng = random.Random(1)
    o = message_outcome(
        rng, draw_profile(rng), message_id="wamid.x", group_id="G", participants=[], sent_at=T0
    )
    assert (o.error_code, o.sent_at, o.receipts) == (131020, None, ())
    hooks = status_webhooks(rng, o, waba_id="W", phone_number_id="P", duplicate=0)
    [failed] = [s for _, h in hooks for s in statuses_of(h)]
    assert failed["status"] == "failed" and failed["recipient_type"] == "group"
    assert failed["errors"][0]["code"] == 131020
    assert failed["errors"][0]["title"] == lookup(131020).title
    assert participant(failed) is None


def test_every_post_holds_one_group_and_one_status_type_and_is_time_ordered():
    rng, outcomes = many_outcomes()
    for o in outcomes:
        hooks = status_webhooks(rng, o, waba_id="W", phone_number_id="P", aggregate=0.9)
        assert [t for t, _ in hooks] == sorted(t for t, _ in hooks)
        for _, hook in hooks:
            statuses = statuses_of(hook)
            assert len({s["status"] for s in statuses}) == 1
            assert {s["recipient_id"] for s in statuses} == {"G"}


def test_webhooks_without_noise_carry_exactly_the_true_receipts():
    rng, outcomes = many_outcomes()
    for o in outcomes:
        hooks = status_webhooks(rng, o, waba_id="W", phone_number_id="P", duplicate=0)
        seen = {
            (s["status"], participant(s)): int(s["timestamp"])
            for _, h in hooks
            for s in statuses_of(h)
            if participant(s) is not None
        }
        if o.failed_at is not None:
            assert all(kind == "delivered" for kind, _ in seen)  # at most a stray one
            continue
        expected = {}
        for r in o.receipts:
            if r.delivered_at is not None and r.delivered_reported:
                expected[("delivered", r.participant_id)] = r.delivered_at
            if r.read_at is not None:
                expected[("read", r.participant_id)] = r.read_at
        assert seen == expected


def test_aggregation_batches_many_participants_of_one_message():
    rng, outcomes = many_outcomes(delivery_median_s=1.0, delivery_sigma=0.1)
    sizes = [
        len(statuses_of(h))
        for o in outcomes
        for _, h in status_webhooks(rng, o, waba_id="W", phone_number_id="P", aggregate=1.0)
    ]
    assert max(sizes) > 1


@pytest.mark.parametrize("duplicate", [0.0, 0.5])
def test_redeliveries_are_exact_copies_or_later_reads(duplicate):
    rng, outcomes = many_outcomes()
    copies = 0
    for o in outcomes:
        hooks = status_webhooks(rng, o, waba_id="W", phone_number_id="P", duplicate=duplicate)
        copies += len(hooks) - len({id(h) for _, h in hooks})
    assert (copies > 0) == (duplicate > 0)


def test_status_objects_use_both_spellings_bsuids_and_both_pricing_placements():
    rng, outcomes = many_outcomes()
    objects = [
        s
        for o in outcomes
        for _, h in status_webhooks(rng, o, waba_id="W", phone_number_id="P")
        for s in statuses_of(h)
    ]
    assert any("participant_recipient_id" in s for s in objects)
    assert any("recipient_participant_id" in s for s in objects)
    assert any(s.get("recipient_participant_user_id", "").startswith("US.") for s in objects)
    assert any("pricing" in s for s in objects)
    assert any("pricing" in s.get("conversation", {}) for s in objects)
    categories = {
        (s.get("pricing") or s.get("conversation", {}).get("pricing") or {}).get("category")
        for s in objects
    }
    assert {"group_marketing", "group_utility", "group_service"} <= categories
