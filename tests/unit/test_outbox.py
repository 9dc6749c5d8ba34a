"""The outbox: written before sending, retried on network/5xx, failed on 4xx, superseded,
verified by read-back, audited, and delivered after a restart."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.errors import BadRequestError, NetworkError, ServerError
from pupitre.providers.core.outbox import ActionRefused, Outbox
from tests.unit.fakes import FakeHandler

NOW = dt.datetime(2026, 11, 22, 14, 0)


@pytest.fixture
def setup(new_store):
    """An outbox on a store of each backend (SQLite, PostgreSQL)."""
    handler = FakeHandler()
    store = new_store()
    outbox = Outbox(store, ManualClock(NOW), {("edf_oa", "acknowledge"): handler})
    return outbox, handler, store


async def test_written_before_sending_and_delivered(setup):
    outbox, handler, store = setup
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [i.id for i in outbox.pending()] == [item_id] and handler.sent == []
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert outbox.pending() == []
    outcomes = [row[3] for row in reversed(store.audit_log())]
    assert outcomes == ["queued", "delivered", "verified"]


async def test_network_error_and_5xx_keep_it_pending_then_deliver(setup):
    outbox, handler, _ = setup
    handler.failures = [NetworkError("cut"), ServerError("boom", status=503)]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    assert outbox.pending()[0].attempts == 2 and "503" in outbox.pending()[0].last_error
    assert [d.outcome for d in await outbox.drain()] == ["delivered"]
    assert len(handler.sent) == 1


async def test_4xx_fails_without_retry(setup):
    outbox, handler, store = setup
    handler.failures = [BadRequestError("invalid", status=400, detail="unknown contract")]
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    (delivery,) = await outbox.drain()
    assert delivery.outcome == "failed" and "unknown contract" in delivery.message
    assert outbox.pending() == [] and outbox.item(item_id).status == "failed"
    assert await outbox.drain() == []


async def test_local_rule_checked_again_before_sending(setup):
    outbox, handler, _ = setup
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    handler.refuse = "order O1 is not today's (RG_ACK_0010)"
    (delivery,) = await outbox.drain()
    assert delivery.outcome == "failed" and "RG_ACK_0010" in delivery.message
    assert handler.sent == []


async def test_enqueue_refuses_when_the_rule_fails_and_writes_nothing(setup):
    outbox, handler, store = setup
    handler.refuse = "stale"
    with pytest.raises(ActionRefused):
        outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert store.outbox() == []


async def test_newer_action_supersedes_older_pending_of_same_key(setup):
    outbox, handler, _ = setup
    handler.failures = [NetworkError("cut")]
    first = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    await outbox.drain()
    second = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": False})
    other = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    assert outbox.item(first).status == "superseded"
    await outbox.drain()
    assert [p["value"] for p in handler.sent] == [False, True]
    assert {outbox.item(second).status, outbox.item(other).status} == {"delivered"}


async def test_a_later_action_never_overtakes_one_waiting_for_retry(setup):
    outbox, handler, _ = setup
    handler.failures = [NetworkError("cut")]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    deliveries = await outbox.drain()
    assert [d.outcome for d in deliveries] == ["retry"] and handler.sent == []


async def test_read_back_mismatch_is_reported_and_audited(setup):
    outbox, handler, store = setup
    handler.mismatch = "BOA0002 reads false, sent true"
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    (delivery,) = await outbox.drain()
    assert delivery.verified is False and "BOA0002" in delivery.message
    assert store.audit_log()[0][3] == "read-back differs"


async def test_pending_action_survives_a_restart(new_store):
    handler = FakeHandler()
    Outbox(new_store(), ManualClock(NOW), {("edf_oa", "acknowledge"): handler}).enqueue(
        "edf_oa", "acknowledge", {"order_id": "O1", "value": True}
    )
    # crash: nothing was sent; a new process opens the same store
    restarted = Outbox(new_store(), ManualClock(NOW), {("edf_oa", "acknowledge"): handler})
    (delivery,) = await restarted.drain()
    assert delivery.outcome == "delivered" and handler.sent == [{"order_id": "O1", "value": True}]


# -- claims: one process at a time ------------------------------------------------------------------


def _other(new_store, handler: FakeHandler, owner: str, wall: float = 1000.0) -> Outbox:
    """A second process on the same store, named ``owner``, at wall time ``wall``."""
    return Outbox(
        new_store(),
        ManualClock(NOW),
        {("edf_oa", "acknowledge"): handler},
        owner=owner,
        wall=lambda: wall,
    )


def _dead_owner() -> str:
    """A claim owner on this host whose process has ended."""
    import socket
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return f"{socket.gethostname()}:{int(child.stdout)}::dead"


async def test_an_action_claimed_by_a_live_process_is_left_to_it(setup):
    outbox, handler, store = setup
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    first = outbox.pending()[0]
    now = time.time()
    assert store.outbox_claim(first.id, "elsewhere:1:1:x", now + 300, now, lambda owner: True)
    assert await outbox.drain() == []  # O1 is another's; O2 must not overtake it
    assert handler.sent == []
    store.outbox_release(first.id, "elsewhere:1:1:x")
    assert [d.outcome for d in await outbox.drain()] == ["delivered", "delivered"]
    assert [p["order_id"] for p in handler.sent] == ["O1", "O2"]


async def test_a_dead_process_loses_its_claim_at_once(setup):
    outbox, handler, store = setup
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    from pupitre.providers.core.outbox import owner_alive

    dead = _dead_owner()
    assert not owner_alive(dead) and owner_alive(outbox.owner)
    assert store.outbox_claim(item_id, dead, 10**12, 0.0, lambda owner: True)  # a lease far in the future
    assert [d.outcome for d in await outbox.drain()] == ["delivered"]
    assert store.outbox()[0].claimed_by is None  # released after the attempt


async def test_another_hosts_claim_holds_until_its_lease_runs_out(setup, new_store):
    outbox, handler, store = setup
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert store.outbox_claim(item_id, "other-host:42:7:ab", 1000.0 + 300, 1000.0, lambda owner: True)
    early = _other(new_store, handler, "me:1:1:a", wall=1000.0 + 299)
    assert await early.drain() == [] and handler.sent == []
    late = _other(new_store, handler, "me:1:1:a", wall=1000.0 + 301)
    assert [d.outcome for d in await late.drain()] == ["delivered"]


async def test_an_attempt_without_answer_is_marked_and_told_at_the_next_attempt(setup):
    outbox, handler, store = setup
    handler.failures = [NetworkError("read timeout")]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    assert store.outbox()[0].sending_since is not None  # it may have reached EDF OA
    assert [d.outcome for d in await outbox.drain()] == ["delivered"]
    assert store.outbox()[0].sending_since is None
    outcomes = [row[3] for row in reversed(store.audit_log())]
    assert outcomes == ["queued", "retrying", "resumed", "delivered", "verified"]


async def test_a_quota_refusal_is_an_answer_not_an_uncertain_attempt(setup):
    from pupitre.providers.core.errors import QuotaError

    outbox, handler, store = setup
    handler.failures = [QuotaError("429", status=429)]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    assert store.outbox()[0].sending_since is None


async def test_an_unanswered_attempt_found_at_the_api_is_delivered_once_without_sending_again(setup):
    outbox, handler, store = setup
    handler.failures = [NetworkError("read timeout")]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    since = store.outbox()[0].sending_since
    handler.trace = "EDF OA shows it (by api at 14:00:00)"
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert handler.sent == [] and handler.looked == [since]
    item = store.outbox()[0]
    assert item.sending_since is None and item.response == "EDF OA shows it (by api at 14:00:00)"
    outcomes = [row[3] for row in reversed(store.audit_log())]
    assert outcomes == ["queued", "retrying", "resumed", "found", "verified"]


async def test_find_is_asked_only_after_an_unanswered_attempt(setup):
    outbox, handler, _ = setup
    handler.trace = "would be wrong to believe"
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["delivered"]
    assert handler.looked == [] and len(handler.sent) == 1


async def test_an_action_the_api_cannot_find_is_held_never_sent_again_and_audited_once(setup):
    from pupitre.providers.core.outbox import ActionHeld

    outbox, handler, store = setup
    handler.failures = [NetworkError("read timeout")]
    first = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    await outbox.drain()
    handler.trace = ActionHeld("check at the API whether it exists")
    second = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    deliveries = await outbox.drain()
    assert [(d.item_id, d.outcome) for d in deliveries] == [(first, "held"), (second, "delivered")]  # not blocked
    assert [(d.item_id, d.outcome) for d in await outbox.drain()] == [(first, "held")]  # still waiting
    assert [p["order_id"] for p in handler.sent] == ["O2"]
    item = outbox.item(first)
    assert item is not None and item.sending_since is not None and "check at the API" in item.last_error
    held = [row for row in store.audit_log() if row[3] == "held"]
    assert len(held) == 1


# -- read-backs: owed in the store until done, resumed after a crash ----------------------------


class _Killed(BaseException):
    """Stands for the process dying (nothing after it runs; the store keeps what was written)."""


async def test_a_read_back_cut_short_by_a_crash_is_resumed_by_the_next_process(setup, new_store):
    outbox, handler, store = setup
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})

    async def die(payload):  # killed after the answer was recorded, before the read-back
        raise _Killed

    handler.verify = die  # type: ignore[method-assign]  # the crash stands in for the read-back
    with pytest.raises(_Killed):
        await outbox.drain()
    item = outbox.item(item_id)
    assert item is not None and (item.status, item.readback) == ("delivered", "owed")

    restarted = FakeHandler()
    other = _other(new_store, restarted, "me:2:2:b")
    (delivery,) = await other.drain()
    assert (delivery.outcome, delivery.verified, delivery.owed) == ("delivered", True, False)
    assert restarted.sent == [] and len(handler.sent) == 1  # read back, never sent again
    item = other.item(item_id)
    assert item is not None and (item.readback, item.readback_note) == ("verified", "read back: ok")
    assert other.delivery(item_id) == delivery
    assert [row[3] for row in reversed(store.audit_log())] == ["queued", "delivered", "resumed", "verified"]
    assert await other.drain() == []  # once


async def test_a_read_back_that_failed_is_owed_and_holds_back_the_providers_later_actions(setup):
    outbox, handler, store = setup
    first = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    calls: list[str] = []
    verify = handler.verify

    async def flaky(payload):
        calls.append(payload["order_id"])
        if len(calls) == 1:
            raise ServerError("read failed", status=503)
        return await verify(payload)

    handler.verify = flaky  # type: ignore[method-assign]  # the read-back fails once
    (delivery,) = await outbox.drain()
    assert (delivery.verified, delivery.owed) == (None, True) and "503" in delivery.message
    second = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    deliveries = await outbox.drain()
    assert [(d.item_id, d.verified) for d in deliveries] == [(first, True), (second, True)]
    assert calls == ["O1", "O1", "O2"]  # O1 read back again before O2 was sent
    trail = [row[3] for row in reversed(store.audit_log()) if row[4].startswith(f"#{first} ")]
    assert trail == ["queued", "delivered", "read-back failed", "resumed", "verified"]


async def test_an_owed_read_back_is_given_up_after_its_window(new_store):
    from pupitre.providers.core.errors import NetworkError as Cut
    from pupitre.providers.core.outbox import READBACK_WINDOW

    clock = ManualClock(NOW)
    handler = FakeHandler()
    store = new_store()
    outbox = Outbox(store, clock, {("edf_oa", "acknowledge"): handler})
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})

    async def cut(payload):
        raise Cut("read timeout")

    handler.verify = cut  # type: ignore[method-assign]  # every read-back fails
    assert [d.owed for d in await outbox.drain()] == [True]
    clock.advance(seconds=READBACK_WINDOW.total_seconds() + 1)
    (delivery,) = await outbox.drain()
    assert (delivery.verified, delivery.owed) == (None, False) and "not read back within 2 h" in delivery.message
    item = outbox.item(item_id)
    assert item is not None and item.readback == "given up" and "read timeout" in item.readback_note
    assert await outbox.drain() == []
    assert store.audit_log()[0][3] == "read-back given up"


async def test_an_owed_read_back_claimed_by_a_live_process_is_left_to_it(setup):
    outbox, handler, store = setup
    item_id = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    store.outbox_update(item_id, "delivered", NOW, response="HTTP 200", readback="owed")
    now = time.time()
    assert not store.outbox_claim(item_id, "elsewhere:1:1:x", now + 300, now, lambda owner: True)  # not pending
    assert store.outbox_claim(item_id, "elsewhere:1:1:x", now + 300, now, lambda owner: True, readback=True)
    later = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    assert await outbox.drain() == []  # its read-back is another's; O2 waits behind it
    store.outbox_release(item_id, "elsewhere:1:1:x")
    assert [(d.item_id, d.verified) for d in await outbox.drain()] == [(item_id, True), (later, True)]


# -- a connection refused is an answer that nothing was sent ------------------------------------


async def test_a_connection_refused_leaves_no_mark_and_the_next_attempt_just_sends(setup):
    import httpx

    from pupitre.providers.core.errors import error_for_exception

    outbox, handler, store = setup
    handler.failures = [error_for_exception(httpx.ConnectError("[Errno 111] Connection refused"), "EDF OA")]
    handler.trace = "must not be asked"
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    assert [d.outcome for d in await outbox.drain()] == ["retry"]
    assert store.outbox()[0].sending_since is None
    assert [d.outcome for d in await outbox.drain()] == ["delivered"]
    assert handler.looked == [] and len(handler.sent) == 1
    assert [row[3] for row in reversed(store.audit_log())] == ["queued", "retrying", "delivered", "verified"]


async def test_a_connection_refused_after_an_unanswered_attempt_keeps_its_mark(setup):
    import httpx

    from pupitre.providers.core.errors import error_for_exception

    outbox, handler, store = setup
    handler.failures = [
        NetworkError("read timeout"),
        error_for_exception(httpx.ConnectError("[Errno 111] Connection refused"), "EDF OA"),
    ]
    outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})
    await outbox.drain()
    await outbox.drain()
    assert store.outbox()[0].sending_since is not None  # the first one may still have got through


async def test_a_read_back_that_crashes_is_given_up_and_holds_nothing_back(setup):
    outbox, handler, store = setup
    first = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O1", "value": True})

    async def broken(payload):
        raise KeyError("contracts")

    handler.verify = broken  # type: ignore[method-assign]  # a fault in the read-back itself
    (delivery,) = await outbox.drain()
    assert (delivery.verified, delivery.owed) == (None, False) and "KeyError" in delivery.message
    item = outbox.item(first)
    assert item is not None and item.readback == "given up"
    later = outbox.enqueue("edf_oa", "acknowledge", {"order_id": "O2", "value": True})
    assert [(d.item_id, d.outcome) for d in await outbox.drain()] == [(later, "delivered")]
