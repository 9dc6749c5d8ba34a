"""Pilot tests of the acknowledge button (EDF OA): all true, one left out (RG_ACK_0030),
network cut during the POST, a crash between the outbox write and the POST, a stale
order refused (RG_ACK_0010). Plus snapshots before and after acknowledging."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.feeds import ACK_ACTION, ACKS_FEED, CURTAILMENTS_FEED, PROVIDER, ack_payload
from pupitre.tui import outbox as outbox_module
from pupitre.tui.dialogs.ack_confirm import AckConfirmScreen
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from tests.tui.curtailments import ACK_ROUTE, NOW, delivered, last_item, order, ready
from tests.tui.helpers import refreshed, wait_for, wait_runs


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 0.05)


def retained(app) -> dict[str, bool]:
    state = app.feeds.state(ACKS_FEED).data
    return {cid: entry.ack_value for cid, entry in rules.latest_acks(state).items()} if state else {}


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def test_acknowledge_all_true(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        contracts = [c.contract_id for c in order(app).curtailments]
        await pilot.press("a", "s")
        assert isinstance(app.screen, AckConfirmScreen)
        assert "Every contract of the order is listed." in screen_text(app)
        await pilot.press("y")
        await delivered(pilot, app)
        assert app.outbox.last[last_item(app).id].verified is True
        assert retained(app) == {cid: True for cid in contracts}
        table = app.screen.query_one("#ack-table", DataTable)
        assert all(str(table.get_cell(cid, "retained")).startswith("✓ true") for cid in contracts)
        assert "verified by read-back ✓" in screen_text(app)
        audit = [row[3] for row in app.runtime.store.audit_log(PROVIDER)]
        assert {"queued", "delivered", "verified"} <= set(audit)


async def test_one_contract_left_out_is_shown_and_counted_as_refused(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        contracts = [c.contract_id for c in order(app).curtailments]
        await pilot.press("y", "s")  # only the first contract is set
        text = screen_text(app)
        assert text.count("NOT SENT → counted as REFUSED (false)") == len(contracts) - 1
        assert f"{len(contracts) - 1} contract(s) left out: EDF OA counts them as refused (RG_ACK_0030)" in text
        await pilot.press("y")
        await delivered(pilot, app)
        assert retained(app) == {cid: cid == contracts[0] for cid in contracts}
        assert app.outbox.last[last_item(app).id].verified is True


async def test_cancel_sends_nothing(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await pilot.press("a", "s", "enter")  # Enter lands on Cancel: it never sends
        assert isinstance(app.screen, CurtailmentsScreen)
        assert app.runtime.store.outbox(provider=PROVIDER) == []


async def test_network_cut_during_post_keeps_it_until_delivered(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        app.runtime.faults.add(ACK_ROUTE, "timeout", count=1, method="POST")
        app.runtime.faults.add(ACK_ROUTE, "status", count=2, status=503, method="POST")
        await pilot.press("a", "s", "y")
        await wait_for(pilot, lambda: last_item(app).attempts >= 1)
        assert last_item(app).status == "pending"  # kept while EDF OA does not answer
        await delivered(pilot, app)
        item = last_item(app)
        assert item.attempts == 4 and app.outbox.last[item.id].verified is True
        assert set(retained(app).values()) == {True}
        assert app.runtime.faults.faults == []


async def test_an_acknowledgement_accepted_without_an_answer_is_pupitres_own_not_someone_elses(make_app):
    """EDF OA accepts the POST, its answer comes after the timeout: the next attempt finds this
    acknowledgement (via API, since the attempt, exactly the values sent) — delivered, verified,
    sent once — instead of 'NOT accepted: acknowledged meanwhile' (issue 13)."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        sim = app.runtime.simulators[PROVIDER]
        app.runtime.faults.add(ACK_ROUTE, "late", count=1, method="POST")
        await pilot.press("a", "s", "y")
        await delivered(pilot, app)
        item = last_item(app)
        assert app.outbox.last[item.id].verified is True and item.attempts == 2
        trail = [r[3] for r in reversed(app.runtime.store.audit_log(PROVIDER)) if r[4].startswith(f"#{item.id} ")]
        assert trail == ["queued", "retrying", "resumed", "found", "verified"]
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "NOT accepted" not in messages and "acknowledged meanwhile" not in messages
        api_acks = [e for entries in sim.acks().values() for e in entries if e.ack_source == "API"]
        assert len(api_acks) == len(order(app).curtailments)  # one POST: one entry per contract
        assert set(retained(app).values()) == {True}


async def test_someone_elses_acknowledgement_after_an_unanswered_attempt_is_still_theirs(make_runtime):
    """An attempt without an answer, then the manager acknowledges differently on the PORTAL:
    not this action's delivery, and it is not sent over the newer human decision."""
    runtime = make_runtime(now=NOW, scripted=False)
    sim = runtime.simulators[PROVIDER]
    session = runtime.connections[PROVIDER].session
    the_order = await session.fetch_order()
    runtime.store.save_snapshot(CURTAILMENTS_FEED, the_order.model_dump(mode="json"), runtime.clock.now())
    choices = {c.contract_id: True for c in the_order.curtailments}
    item_id = runtime.outbox.enqueue(PROVIDER, ACK_ACTION, ack_payload(the_order, choices, runtime.clock.now()))
    runtime.faults.add(ACK_ROUTE, "timeout", count=1, method="POST")  # never reached EDF OA
    assert [d.outcome for d in await runtime.outbox.drain()] == ["retry"]
    runtime.clock.advance(seconds=30)
    first = the_order.curtailments[0].contract_id
    sim.portal_acknowledge(first, False, at=runtime.clock.now())
    (delivery,) = await runtime.outbox.drain()
    assert delivery.outcome == "failed" and "acknowledged meanwhile" in delivery.message and first in delivery.message
    assert [e.ack_source for e in sim.acks()[first]] == ["PORTAL"]  # nothing sent over it
    trail = [r[3] for r in reversed(runtime.store.audit_log(PROVIDER)) if r[4].startswith(f"#{item_id} ")]
    assert trail == ["queued", "retrying", "resumed", "refused"]
    await runtime.aclose()


async def test_crash_between_outbox_write_and_post_is_delivered_on_next_start(make_runtime, make_app):
    first = make_runtime(now=NOW, scripted=False)
    app = make_app(first)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        the_order = order(app)
        choices = {c.contract_id: True for c in the_order.curtailments}
        # The outbox row is written, then the process dies before the POST.
        first.outbox.enqueue(PROVIDER, ACK_ACTION, ack_payload(the_order, choices, first.clock.now()))
    assert [i.status for i in make_runtime(now=NOW, scripted=False).store.outbox(provider=PROVIDER)] == ["pending"]

    second = make_app(now=NOW, scripted=False)
    async with second.run_test(size=(100, 30)) as pilot:
        await delivered(pilot, second)
        assert second.outbox.last[last_item(second).id].verified is True
        await wait_runs(pilot, second, 2, feed=ACKS_FEED)
        assert set(retained(second).values()) == {True}


async def test_order_received_yesterday_is_refused(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await pilot.press("p")  # no refresh: the screen still shows yesterday's order
        app.runtime.clock.advance(days=1)
        await pilot.press("a", "s")
        assert isinstance(app.screen, CurtailmentsScreen)  # no dialog
        messages = " ".join(n.message for n in app._notifications)
        assert "RG_ACK_0010" in messages or "not today" in messages
        assert app.runtime.store.outbox(provider=PROVIDER) == []


async def test_nothing_to_send_without_a_choice(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await pilot.press("s")
        assert isinstance(app.screen, CurtailmentsScreen)
        assert app.runtime.store.outbox(provider=PROVIDER) == []


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_before_acknowledging(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await ready(pilot, pilot.app)
        await pilot.press("y", "down", "n")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(now=NOW, scripted=False), terminal_size=size, run_before=run_before)


def test_snapshot_confirmation_dialog(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await ready(pilot, pilot.app)
        pilot.app.clear_notifications()
        await pilot.pause()
        await pilot.press("y", "s")
        await pilot.pause()

    assert snap_compare(make_app(now=NOW, scripted=False), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_after_acknowledging(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await ready(pilot, pilot.app)
        await pilot.press("a", "s", "y")
        await delivered(pilot, pilot.app)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(now=NOW, scripted=False), terminal_size=size, run_before=run_before)


async def test_dialog_warns_when_a_left_out_contract_overwrites_a_portal_true(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        sim = app.runtime.simulators[PROVIDER]
        first = order(app).curtailments[0].contract_id
        sim.portal_acknowledge(first, True, "MGR-0101")
        await refreshed(pilot, app, ACKS_FEED)
        await pilot.press("down", "y", "s")  # the second contract only: the first is left out
        assert "⚠ overwrites true sent by MGR-0101 via PORTAL" in screen_text(app)
        await pilot.press("escape", "k", "s")  # keep EDF OA's values: no overwrite any more
        assert "overwrites" not in screen_text(app)


async def test_a_delayed_send_never_overwrites_a_newer_portal_acknowledgement(make_app, monkeypatch):
    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 0.5)
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        app.runtime.faults.add(ACK_ROUTE, "status", count=1, status=503, method="POST")
        await pilot.press("a", "s", "y")
        await wait_for(pilot, lambda: last_item(app).attempts >= 1)
        first = order(app).curtailments[0].contract_id
        app.runtime.clock.advance(seconds=30)
        app.runtime.simulators[PROVIDER].portal_acknowledge(first, False, "MGR-0101")
        await wait_for(pilot, lambda: last_item(app).status != "pending", timeout=10)
        item = last_item(app)
        assert item.status == "failed" and "acknowledged meanwhile" in item.last_error
        assert app.runtime.simulators[PROVIDER].retained()[first] is False  # the PORTAL decision stands


async def test_quit_asks_while_an_acknowledgement_is_pending(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        app.runtime.faults.add(ACK_ROUTE, "status", count=50, status=503, method="POST")
        await pilot.press("a", "s", "y")
        await wait_for(pilot, lambda: last_item(app).attempts >= 1)
        await pilot.press("q")
        assert "not yet accepted by the API" in screen_text(app)
        await pilot.press("escape")
        assert app.is_running and isinstance(app.screen, CurtailmentsScreen)


async def test_an_acknowledgement_held_since_the_store_upgrade_is_shown_held_and_never_sent(make_runtime, make_app):
    """An action from before environments is neither this sandbox's nor sent: the screen says
    HELD with the way out, and a notification at start says so too; another environment's
    GRTgaz data (here a real endpoint's audit line) makes the start say GRTgaz's is a first use."""
    runtime = make_runtime(now=NOW, scripted=False)
    with runtime.store._lock:  # as migration 5 leaves a pending action of an older store
        runtime.store._db.execute(
            "INSERT INTO outbox (env, provider, action, payload, status, created_at, updated_at) "
            "VALUES ('unattributed', ?, ?, '{}', 'held', ?, ?)",
            (PROVIDER, ACK_ACTION, runtime.clock.now().isoformat(), runtime.clock.now().isoformat()),
        )
    runtime.store.audit("grtgaz", "declare program", "queued", runtime.clock.now(), env="https://sfm.test#client=c")
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        messages = [n.message for n in app._notifications]
        first_use = "GRTgaz: first use of sandbox — data of other environments kept apart, not shown"
        assert first_use in messages
        assert "EDF OA: first use of sandbox — data from before environments kept apart, not shown" in messages
        line = str(app.screen.query_one("#outbox-line", Static).render())
        assert "Acknowledgement #1" in line and "HELD" in line and "pupitre outbox" in line
        await wait_for(pilot, lambda: any("HELD" in n.message for n in app._notifications))
        assert app.runtime.outbox.pending() == []
        [item] = runtime.store.outbox_any_environment()
        assert (item.status, item.attempts) == ("held", 0)
