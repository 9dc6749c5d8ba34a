"""Switchgrid asks and orders through the outbox, against the simulator and its fault plan:
an answer lost after Switchgrid acted (``late``: the order exists, pupitre timed out), a
crash after the answer, a request that never arrived; then a restart (a new outbox and a
new session on the same store). Each ends with exactly one ask or order at the simulator,
followed, and the whole audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pupitre.providers.core.outbox import Outbox
from pupitre.providers.switchgrid import feeds
from pupitre.providers.switchgrid.actions import (
    ASK_ACTION,
    ORDER_ACTION,
    ask_payload,
    operator_found,
    order_payload,
)
from pupitre.runtime import Runtime
from tests.providers.helpers import switchgrid_runtime

PROVIDER = feeds.PROVIDER
ORDER_ROUTE = "/enedis/v2/order"
ASK_ROUTE = "/enedis/v2/ask"
BODY = {"requests": [{"type": "LOADCURVE", "prms": ["00000000000022"], "since": "2024-12-09", "until": "2024-12-10"}]}


def restarted(runtime: Runtime) -> tuple[Outbox, Any]:
    """What a new process builds on the same store: a new session and a new outbox (the
    simulator, like the real API, keeps what it was sent)."""
    connection = feeds.connect(runtime.settings.switchgrid, runtime.ctx, sandboxed=True)
    return Outbox(runtime.store, runtime.clock, connection.handlers), connection.session


async def signed(runtime: Runtime) -> None:
    session = runtime.connections[PROVIDER].session
    ask = await session.create_ask(
        {
            "electricityContracts": [runtime.simulators[PROVIDER].contracts[0].id],
            "signer": {"firstName": "A", "lastName": "B"},
            "consentDuration": "1 year",
        }
    )
    runtime.simulators[PROVIDER].accept(ask.id)


def trail(runtime: Runtime, item_id: int) -> list[str]:
    rows = reversed(runtime.store.audit_log(PROVIDER, limit=100))
    return [row[3] for row in rows if row[4].startswith(f"#{item_id} ")]


async def test_an_order_placed_but_unanswered_is_held_never_ordered_twice_then_identified(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    await signed(runtime)
    item_id = runtime.outbox.enqueue(PROVIDER, ORDER_ACTION, order_payload(BODY, runtime.clock.now()))
    runtime.faults.add(ORDER_ROUTE, "late", method="POST")  # Switchgrid places it; the answer is too late
    assert [d.outcome for d in await runtime.outbox.drain()] == ["retry"]
    assert len(sim.orders) == 1
    (placed,) = sim.orders

    outbox, session = restarted(runtime)
    (held,) = await outbox.drain()
    assert held.outcome == "held" and "app.switchgrid.tech" in held.message
    assert [d.outcome for d in await outbox.drain()] == ["held"]  # again and again: never re-ordered
    assert len(sim.orders) == 1 and sim.posts == 2  # the ask and the one order

    def unanswered() -> list[str]:  # what `pupitre check` and the Overview say
        return [f.message for f in runtime.connections[PROVIDER].findings({}, runtime.clock.now())]

    (told,) = unanswered()
    assert f"order #{item_id} HELD — sent" in told and "got no answer" in told and "key u" in told
    item = outbox.item(item_id)
    assert item is not None
    await operator_found(session, item, placed)  # the operator read its id on Switchgrid's dashboard
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert len(sim.orders) == 1
    assert session.followed() == [placed] and session.body(placed) == BODY
    assert unanswered() == []
    assert trail(runtime, item_id) == ["queued", "retrying", "held", "identified", "resumed", "found", "verified"]
    await runtime.aclose()


async def test_an_order_whose_answer_arrived_before_the_crash_is_found_by_its_kept_id(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    await signed(runtime)
    payload = order_payload(BODY, runtime.clock.now())
    item_id = runtime.outbox.enqueue(PROVIDER, ORDER_ACTION, payload)
    # The process marks the attempt, sends, gets the answer (kept at once), then dies before
    # the outbox row says so.
    runtime.store.outbox_sending(item_id, runtime.clock.now())
    order = await runtime.connections[PROVIDER].session.place_order(payload["body"], ref=payload["ref"])

    outbox, session = restarted(runtime)
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert list(sim.orders) == [order.id] and session.followed() == [order.id]
    assert trail(runtime, item_id) == ["queued", "resumed", "found", "verified"]
    await runtime.aclose()


async def test_an_order_that_never_arrived_is_sent_again_once_the_operator_says_so(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    await signed(runtime)
    item_id = runtime.outbox.enqueue(PROVIDER, ORDER_ACTION, order_payload(BODY, runtime.clock.now()))
    runtime.faults.add(ORDER_ROUTE, "timeout", method="POST")  # lost before Switchgrid had it
    assert [d.outcome for d in await runtime.outbox.drain()] == ["retry"]
    assert [d.outcome for d in await runtime.outbox.drain()] == ["held"]
    assert sim.orders == {}
    assert runtime.outbox.send_again(item_id, "the operator found no such order at Switchgrid")
    (delivery,) = await runtime.outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert len(sim.orders) == 1
    assert not runtime.outbox.send_again(item_id, "too late: delivered")
    assert trail(runtime, item_id) == ["queued", "retrying", "held", "send again", "delivered", "verified"]
    await runtime.aclose()


async def test_an_ask_created_but_unanswered_is_found_at_switchgrid_not_asked_twice(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    contract = sim.contracts[0]
    body = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "Jean", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }
    other = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "Marie", "lastName": "Curie"},
        "consentDuration": "1 year",
    }
    await runtime.connections[PROVIDER].session.create_ask(other)  # someone else's ask on the same PRM
    runtime.clock.advance(minutes=10)
    item_id = runtime.outbox.enqueue(PROVIDER, ASK_ACTION, ask_payload(body, [contract.prm], runtime.clock.now()))
    runtime.faults.add(ASK_ROUTE, "late", method="POST")
    assert [d.outcome for d in await runtime.outbox.drain()] == ["retry"]
    assert len(sim.asks) == 2

    outbox, session = restarted(runtime)
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert len(sim.asks) == 2  # not asked twice
    mine = next(a for a in sim.asks.values() if a.body["signer"]["lastName"] == "Dupont")
    kept = session.sent_ask(outbox.item(item_id).payload["ref"])  # type: ignore[union-attr]  # the item was just queued
    assert kept is not None and kept.id == mine.id and kept.user_url
    assert trail(runtime, item_id) == ["queued", "retrying", "resumed", "found", "verified"]
    await runtime.aclose()


async def test_an_ask_that_never_arrived_is_sent_after_looking_for_it(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    contract = sim.contracts[0]
    body = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "Jean", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }
    item_id = runtime.outbox.enqueue(PROVIDER, ASK_ACTION, ask_payload(body, [contract.prm], runtime.clock.now()))
    runtime.faults.add(ASK_ROUTE, "timeout", method="POST")
    assert [d.outcome for d in await runtime.outbox.drain()] == ["retry"]
    assert [d.outcome for d in await runtime.outbox.drain()] == ["delivered"]
    assert len(sim.asks) == 1
    assert trail(runtime, item_id) == ["queued", "retrying", "resumed", "delivered", "verified"]
    await runtime.aclose()


async def test_an_order_queued_then_the_process_died_is_placed_once_at_the_next_start(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    await signed(runtime)
    item_id = runtime.outbox.enqueue(PROVIDER, ORDER_ACTION, order_payload(BODY, runtime.clock.now()))
    outbox, session = restarted(runtime)  # confirmed and written; nothing sent before the crash
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert len(sim.orders) == 1 and session.followed() == list(sim.orders)
    assert trail(runtime, item_id) == ["queued", "delivered", "verified"]
    await runtime.aclose()


async def test_an_ask_whose_answer_arrived_before_the_crash_is_found_by_its_kept_id(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    contract = sim.contracts[0]
    body = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "J", "lastName": "D"},
        "consentDuration": "1 year",
    }
    payload = ask_payload(body, [contract.prm], runtime.clock.now())
    item_id = runtime.outbox.enqueue(PROVIDER, ASK_ACTION, payload)
    runtime.store.outbox_sending(item_id, runtime.clock.now())
    ask = await runtime.connections[PROVIDER].session.create_ask(body, ref=payload["ref"])  # then the crash
    runtime.faults.add(ASK_ROUTE, "status", count=5, status=503)  # GET /ask is not even needed
    outbox, session = restarted(runtime)
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert list(sim.asks) == [ask.id]
    assert trail(runtime, item_id) == ["queued", "resumed", "found", "verified"]
    await runtime.aclose()


async def test_an_order_refused_at_connect_is_not_held_and_is_sent_at_the_next_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection refused (or a name that does not resolve) means no byte left: nothing to
    look for at Switchgrid, nothing for the operator to check; the next attempt orders it."""
    import httpx

    from pupitre.providers.core.sandbox import SandboxTransport

    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    await signed(runtime)
    item_id = runtime.outbox.enqueue(PROVIDER, ORDER_ACTION, order_payload(BODY, runtime.clock.now()))
    handle = SandboxTransport.handle_async_request
    refused: list[str] = []

    async def down(self: SandboxTransport, request: httpx.Request) -> httpx.Response:
        if request.url.path == ORDER_ROUTE and not refused:
            refused.append(request.url.path)
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await handle(self, request)

    monkeypatch.setattr(SandboxTransport, "handle_async_request", down)
    (retry,) = await runtime.outbox.drain()
    assert retry.outcome == "retry" and "ConnectError" in retry.message
    item = runtime.outbox.item(item_id)
    assert item is not None and item.sending_since is None  # not "may have reached Switchgrid"
    assert runtime.connections[PROVIDER].findings({}, runtime.clock.now()) == []  # nothing to check by hand

    outbox, _ = restarted(runtime)
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True)
    assert refused == [ORDER_ROUTE] and len(sim.orders) == 1
    assert trail(runtime, item_id) == ["queued", "retrying", "delivered", "verified"]
    await runtime.aclose()
