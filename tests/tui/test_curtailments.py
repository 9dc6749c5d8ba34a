"""Pilot tests of the acknowledge button (EDF OA): all true, one left out (RG_ACK_0030),
network cut during the POST, a crash between the outbox write and the POST, a stale
order refused (RG_ACK_0010). Plus snapshots before and after acknowledging."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from pupitre.providers.core.api import to_data
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
        assert "DELIVERED — ✓ read back" in screen_text(app)
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
    runtime.store.save_snapshot(CURTAILMENTS_FEED, to_data(the_order), runtime.clock.now())
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
        # the acknowledgements as read after the delivery (a feed run started by the delivery's
        # read-back, or the start's, whichever came after it): what was sent is what is retained
        await wait_for(pilot, lambda: bool(retained(second)) and set(retained(second).values()) == {True}, timeout=10)


class _Killed(BaseException):
    """Stands for the process dying between the answer and the read-back."""


async def test_a_read_back_cut_short_by_a_crash_is_resumed_and_shown_verified_at_the_next_start(
    make_runtime, make_app, monkeypatch
):
    runtime = make_runtime(now=NOW, scripted=False)
    session = runtime.connections[PROVIDER].session
    the_order = await session.fetch_order()
    runtime.store.save_snapshot(CURTAILMENTS_FEED, to_data(the_order), runtime.clock.now())
    choices = {c.contract_id: True for c in the_order.curtailments}
    item_id = runtime.outbox.enqueue(PROVIDER, ACK_ACTION, ack_payload(the_order, choices, runtime.clock.now()))
    handler = runtime.outbox.handlers[(PROVIDER, ACK_ACTION)]

    async def die(payload):
        raise _Killed

    monkeypatch.setattr(handler, "verify", die)
    with pytest.raises(_Killed):
        await runtime.outbox.drain()
    monkeypatch.undo()
    item = last_item_of(runtime)
    assert (item.id, item.status, item.readback) == (item_id, "delivered", "owed")

    app = make_app(runtime)  # a new dashboard (the same simulator: it keeps what it was sent)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: "DELIVERED — ✓ read back" in screen_text(app), timeout=10)
        assert app.outbox.last[item_id].verified is True
        trail = [r[3] for r in reversed(runtime.store.audit_log(PROVIDER)) if r[4].startswith(f"#{item_id} ")]
        assert trail == ["queued", "delivered", "resumed", "verified"]


async def test_a_read_back_done_by_another_process_is_shown_from_the_store(make_runtime, make_app):
    other = make_runtime(now=NOW, scripted=False)  # e.g. `pupitre agent`, or this dashboard before a restart
    the_order = await other.connections[PROVIDER].session.fetch_order()
    other.store.save_snapshot(CURTAILMENTS_FEED, to_data(the_order), other.clock.now())
    choices = {c.contract_id: True for c in the_order.curtailments}
    item_id = other.outbox.enqueue(PROVIDER, ACK_ACTION, ack_payload(the_order, choices, other.clock.now()))
    assert [d.verified for d in await other.outbox.drain()] == [True]
    await other.aclose()

    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: "DELIVERED — ✓ read back" in screen_text(app), timeout=10)
        assert app.outbox.last[item_id].verified is True


def last_item_of(runtime):
    return runtime.store.outbox(provider=PROVIDER)[-1]


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
    # the retry waits for the test (not for a timer a loaded machine may beat the PORTAL with)
    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 600)
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        app.runtime.faults.add(ACK_ROUTE, "status", count=1, status=503, method="POST")
        await pilot.press("a", "s", "y")
        await wait_for(pilot, lambda: last_item(app).attempts >= 1 and not app.outbox.running)
        first = order(app).curtailments[0].contract_id
        app.runtime.clock.advance(seconds=30)
        app.runtime.simulators[PROVIDER].portal_acknowledge(first, False, "MGR-0101")
        app.outbox.kick()  # the retry, after the PORTAL acknowledgement
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


def edf_tile(app) -> str:
    """The EDF OA tile of the Overview ("" until the Overview is on screen)."""
    tiles = app.screen.query("#tile-edf-oa .tile-body")
    return str(tiles.first(Static).render()) if tiles else ""


async def _acknowledged_with_one_left_out(pilot, app) -> str:
    """Our acknowledgement, the first contract to curtail left out (refused by omission),
    delivered and verified; returns that contract."""
    await ready(pilot, app)
    summary = app.screen.summary()
    needing = summary.needing
    for cid in [c.contract_id for c in order(app).curtailments]:
        table = app.screen.query_one("#ack-table", DataTable)
        table.move_cursor(row=table.get_row_index(cid))
        await pilot.press("x" if cid == needing[0] else "y")
    await pilot.press("s", "y")
    await delivered(pilot, app)
    assert app.outbox.last[last_item(app).id].verified is True
    return needing[0]


async def test_counts_apart_will_respect_will_not_and_refused_by_omission(make_app):
    """Issue 16: "all 3 contract(s) acknowledged" with a ✓ counted contracts refused, even
    those refused only because they were left unset (RG_ACK_0030)."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        omitted = await _acknowledged_with_one_left_out(pilot, app)
        summary = app.screen.summary()
        assert summary.by_omission == [omitted] and summary.level == "attention"
        assert "1 refused by omission" in screen_text(app)
        table = app.screen.query_one("#ack-table", DataTable)
        assert "(omitted)" in str(table.get_cell(omitted, "retained"))
        await pilot.press("1")
        await wait_for(pilot, lambda: "refused by omission" in edf_tile(app))
        tile = edf_tile(app)
        assert f"1 refused by omission ({omitted}, RG_ACK_0030)" in tile and "contract(s) acknowledged" not in tile
        assert "! order" in tile  # attention, not a ✓


async def test_a_portal_change_after_our_verified_acknowledgement_is_an_event(make_app):
    """Issue 16: after our verified acknowledgement a manager sets the left-out contract true on
    the PORTAL: a notification, ⚠ on the row and the Overview, "verified" withdrawn; `k`
    adopts EDF OA's values (the ⚠ goes, for good), and the choices are EDF OA's."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        omitted = await _acknowledged_with_one_left_out(pilot, app)
        assert "DELIVERED — ✓ read back" in screen_text(app)
        app.runtime.clock.advance(seconds=600)
        app.runtime.simulators[PROVIDER].portal_acknowledge(omitted, True, "MGR-0101")
        runs = app.feeds.state(ACKS_FEED).runs
        await pilot.press("r")
        await wait_runs(pilot, app, runs + 1, feed=ACKS_FEED)
        await wait_for(pilot, lambda: any("changed after ours" in str(n.message) for n in app._notifications))
        table = app.screen.query_one("#ack-table", DataTable)
        await wait_for(pilot, lambda: str(table.get_cell(omitted, "retained")).startswith("⚠ ✓ true"))
        text = screen_text(app)
        assert "✓ read back" not in text and "CHANGED ON EDF OA SINCE" in text
        assert "⚠ 1 changed on EDF OA" in text
        assert [h.key for h in app.runtime.store.history(ACKS_FEED)] == [omitted]
        await pilot.press("1")
        await wait_for(pilot, lambda: "⚠" in edf_tile(app))
        assert f"⚠ EDF OA's values changed after our acknowledgement: {omitted} now true" in edf_tile(app)
        await pilot.press("3", "k")
        await wait_for(pilot, lambda: isinstance(app.screen, CurtailmentsScreen) and app.screen.choices.get(omitted))
        await wait_for(pilot, lambda: not str(table.get_cell(omitted, "retained")).startswith("⚠"))
        assert "CHANGED ON EDF OA" not in screen_text(app)
        assert [r[2] for r in app.runtime.store.audit_log(PROVIDER)][0] == "adopt EDF OA's values"
        await pilot.press("1")
        await wait_for(pilot, lambda: "will respect" in edf_tile(app))
        assert "⚠" not in edf_tile(app)


async def test_resend_ours_after_a_portal_change(make_app):
    """`o` puts our last values back and opens the usual review; sending makes ours retained."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        omitted = await _acknowledged_with_one_left_out(pilot, app)
        app.runtime.clock.advance(seconds=600)
        app.runtime.simulators[PROVIDER].portal_acknowledge(omitted, True, "MGR-0101")
        runs = app.feeds.state(ACKS_FEED).runs
        await pilot.press("r")
        await wait_runs(pilot, app, runs + 1, feed=ACKS_FEED)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, AckConfirmScreen))
        assert "⚠ overwrites true sent by MGR-0101 via PORTAL" in screen_text(app)
        first = last_item(app).id
        await pilot.press("y")
        await wait_for(pilot, lambda: last_item(app).id != first)
        await delivered(pilot, app)
        assert retained(app)[omitted] is False
        await wait_for(pilot, lambda: "DELIVERED — ✓ read back" in screen_text(app))
        assert app.screen.summary().overridden == []


async def test_k_without_an_override_only_sets_the_choices(make_app):
    """`k` says what it does: every contract takes what EDF OA retains, unset where nothing is."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("a", "k")
        latest = app.screen.summary().latest
        assert app.screen.choices == {
            c.contract_id: (latest[c.contract_id].ack_value if c.contract_id in latest else None)
            for c in order(app).curtailments
        }
        assert app.runtime.store.load_snapshot("edf_oa.adopted") is None  # nothing of ours to replace


async def test_the_order_is_read_within_a_minute_of_its_publication(make_runtime):
    """Issue 16: published at 13:00, it was not seen until 13:15 (900 s outside 13:30-16:00).
    The feed now reads a few seconds after 13:00, then every minute until the window ends."""
    runtime = make_runtime(now=dt.datetime(2026, 11, 23, 12, 50), scripted=False)
    feed = runtime.feed(CURTAILMENTS_FEED)
    assert feed.interval(runtime.clock.now()) == 605.0
    runtime.clock.advance(seconds=605)
    assert await runtime.feed(CURTAILMENTS_FEED).fetch() is not None  # 13:00:05: already published
    assert feed.interval(runtime.clock.now()) == 60.0
    await runtime.aclose()


#: An acknowledgement as the previous version (pydantic models, ``model_dump(mode="json")``)
#: queued it for the sandbox's order at NOW: taken by running that version's ``ack_payload``.
QUEUED_BY_THE_PREVIOUS_VERSION = {
    "order_id": "OA-20261124-13F9",
    "application_date": "2026-11-24",
    "request": {
        "order_id": "OA-20261124-13F9",
        "acknowledgements": [
            {"contract_id": "BOA0001", "ack_value": True},
            {"contract_id": "BOA0002", "ack_value": False},
        ],
    },
    "left_out": ["BOA0003", "BOA0004", "BOA0005"],
    "queued_at": "2026-11-23T14:00:00+01:00",
}


async def test_an_acknowledgement_queued_by_the_previous_version_is_sent_once_after_the_upgrade(make_runtime):
    runtime = make_runtime(now=NOW, scripted=False)
    sim = runtime.simulators[PROVIDER]
    the_order = await runtime.connections[PROVIDER].session.fetch_order()
    assert the_order.order_id == QUEUED_BY_THE_PREVIOUS_VERSION["order_id"]  # the same sandbox day
    assert ack_payload(the_order, {"BOA0001": True, "BOA0002": False}, runtime.clock.now()) == (
        QUEUED_BY_THE_PREVIOUS_VERSION
    )  # and this version would queue it the same
    runtime.store.save_snapshot(CURTAILMENTS_FEED, to_data(the_order), runtime.clock.now())
    item = runtime.store.outbox_add(PROVIDER, ACK_ACTION, QUEUED_BY_THE_PREVIOUS_VERSION, runtime.clock.now())
    runtime.clock.advance(seconds=20)

    (delivery,) = await runtime.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified is True
    assert await runtime.outbox.drain() == []  # nothing left: not sent again
    api = {cid: [e.ack_value for e in entries if e.ack_source == "API"] for cid, entries in sim.acks().items()}
    assert api == {"BOA0001": [True], "BOA0002": [False], "BOA0003": [False], "BOA0004": [False], "BOA0005": [False]}
    assert last_item_of(runtime).id == item and last_item_of(runtime).status == "delivered"
    await runtime.aclose()
