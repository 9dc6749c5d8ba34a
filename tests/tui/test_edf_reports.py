"""Pilot tests of Contracts & reports (EDF OA §6.1, §7.1, §8.1), opened from Curtailments with c:
the contracts (RG_CON_0020), the report for tomorrow by default (RG_REP_ACK_0030,
RG_REP_CUR_0030), a range moved with keys or typed, the tree producers → managers →
contracts → orders → leaves (RG_REP_ACK_0010, RG_REP_CUR_0010), the CSV export, a refused
range, an API failure. Plus a snapshot at 80×24."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from typing import Any

from textual.widgets import DataTable, Static, Tree

from pupitre.providers.core import config
from pupitre.providers.edf_oa.export import ack_report_rows
from pupitre.providers.edf_oa.feeds import CONTRACTS_FEED, PROVIDER
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from pupitre.tui.screens.edf_reports import EdfReportsScreen, RangeError, parse_range
from tests.tui.helpers import wait_for, wait_runs

# Monday 23/11/2026 at 14:00: tomorrow (24/11)'s order is published; ~30 days of history.
NOW = dt.datetime(2026, 11, 23, 14, 0)
TOMORROW = dt.date(2026, 11, 24)
ACK_REPORT_ROUTE = "/api/v1/acknowledgements/report"
REPORT_ROUTES = {ACK_REPORT_ROUTE, "/api/v1/curtailments/report"}


async def open_reports(pilot, app) -> EdfReportsScreen:
    await wait_runs(pilot, app, feed=CONTRACTS_FEED)
    await pilot.press("3", "c")
    screen = app.screen
    assert isinstance(screen, EdfReportsScreen)
    await fetched(pilot, screen)
    return screen


async def fetched(pilot, screen: EdfReportsScreen) -> None:
    await wait_for(pilot, lambda: not screen.fetching)
    await pilot.pause()


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


def nodes(app) -> list[Any]:
    """Every tree node under the (hidden) root, depth first."""
    out: list[Any] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(child)
            walk(child)

    walk(app.screen.query_one("#report-tree", Tree).root)
    return out


def data_of(app, kind: str) -> list[Any]:
    return [n.data[1] for n in nodes(app) if n.data and n.data[0] == kind]


def report_requests(app) -> int:
    return sum(1 for _, path in app.runtime.simulators[PROVIDER].requests if path in REPORT_ROUTES)


def test_parse_range() -> None:
    assert parse_range(" 2026-11-16..2026-11-22 ") == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert parse_range("2026-11-16") == (dt.date(2026, 11, 16), dt.date(2026, 11, 16))
    assert parse_range("16/11/2026..22/11/2026") == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))  # as typed
    for text, words in [
        ("2026-11-22..2026-11-20", "is before the start"),
        ("31/11/2026", "is not a date"),
        ("2026-11-31..2026-12-01", "is not a date"),
        ("", "YYYY-MM-DD..YYYY-MM-DD"),
        ("2020-01-01..2026-01-01", "at most 366 days"),
    ]:
        try:
            parse_range(text)
        except RangeError as refusal:
            assert words in str(refusal), (text, str(refusal))
        else:
            raise AssertionError(f"{text!r} accepted")


async def test_contracts_and_tomorrows_report(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        table = screen.query_one("#contracts-table", DataTable)
        assert [str(k.value) for k in table.rows] == [f"BOA000{i}" for i in range(1, 7)]
        status = {str(k.value): str(table.get_cell(k, "status")) for k in table.rows}
        assert status["BOA0006"] == "EXPIRED"  # RG_CON_0020
        assert {status[f"BOA000{i}"] for i in range(1, 6)} == {"ACTIVE"}
        # A producer account sees the manager ids; its own producer id (§6.1.4) is not a column.
        assert [c.label.plain for c in table.columns.values()] == ["Contract", "Plant", "Status", "Manager"]
        assert str(table.get_cell("BOA0003", "manager")) == "MGR-0101"

        # RG_REP_ACK_0030: tomorrow only by default.
        assert (screen.shown.kind, screen.shown.start, screen.shown.end) == ("ack", TOMORROW, TOMORROW)
        assert "Acknowledgement report · Tue 24/11/2026 (tomorrow)" in screen_text(app)
        orders = data_of(app, "order")
        assert orders and {day for _, _, day in orders} == {TOMORROW}
        # RG_REP_ACK_0010: producer → its own contracts, then managers → their contracts.
        labels = [
            (n.data[0], n.data[1]) for n in nodes(app) if n.data and n.data[0] in ("producer", "manager", "contract")
        ]
        assert labels == [
            ("producer", "PROD-0042"),
            ("contract", "BOA0001"),
            ("contract", "BOA0002"),
            ("manager", "MGR-0101"),
            ("contract", "BOA0003"),
            ("contract", "BOA0004"),
            ("manager", "MGR-0102"),
            ("contract", "BOA0005"),
            ("contract", "BOA0006"),
        ]
        # The manager's PORTAL acknowledgement of 13:40 (the sandbox's demo), with its words.
        acks = data_of(app, "ack")
        assert any(a.ack_source == "PORTAL" and a.ack_type == "SET_ACK" and a.ack_value is True for a in acks)
        leaf_labels = [str(n.label) for n in nodes(app) if n.data and n.data[0] == "ack"]
        assert any(label.startswith("PORTAL SET_ACK   ✓ true") and "MGR-0101" in label for label in leaf_labels)
        assert any(label.startswith("API    GET_ORDER") for label in leaf_labels)

        await pilot.press("escape")
        assert isinstance(app.screen, CurtailmentsScreen)


async def test_past_week_with_keys_then_typed(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        await pilot.press("left_square_bracket", *["left_curly_bracket"] * 6)  # 17/11 … 23/11
        await fetched(pilot, screen)
        assert (screen.shown.start, screen.shown.end) == (dt.date(2026, 11, 17), dt.date(2026, 11, 23))
        days = {day for _, _, day in data_of(app, "order")}
        assert days == {dt.date(2026, 11, d) for d in range(17, 24)}
        assert "17/11 → 23/11/2026 (7 days)" in screen_text(app)
        # Past orders were acknowledged: the SET_ACK events are in the tree.
        assert any(a.ack_type == "SET_ACK" and a.ack_source == "API" for a in data_of(app, "ack"))
        # A week is too long to open everything: orders start collapsed; enter opens one.
        tree = screen.query_one("#report-tree", Tree)
        assert tree.has_focus
        await pilot.press("down", "down")
        node = tree.cursor_node
        assert node.data[0] == "order" and node.data[1][2] == dt.date(2026, 11, 17) and not node.is_expanded
        await pilot.press("enter")
        assert node.is_expanded and all(child.data[0] == "ack" for child in node.children)
        await pilot.press("space")
        assert not node.is_expanded

        await pilot.press("right_curly_bracket", "right_square_bracket")  # narrower, a day later
        await fetched(pilot, screen)
        assert (screen.shown.start, screen.shown.end) == (dt.date(2026, 11, 19), dt.date(2026, 11, 24))

        await pilot.press("d")
        box = screen.query_one("#range-input")
        assert box.display and box.value == "2026-11-19..2026-11-24"
        box.value = "2026-11-10..2026-11-12"
        await pilot.press("enter")
        await fetched(pilot, screen)
        assert not box.display
        assert {day for _, _, day in data_of(app, "order")} == {dt.date(2026, 11, d) for d in (10, 11, 12)}


async def test_curtailment_report_shows_periods(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        await pilot.press("v")
        await fetched(pilot, screen)
        assert screen.shown.kind == "curtailment"
        assert "Curtailment report · Tue 24/11/2026 (tomorrow)" in screen_text(app)
        periods = data_of(app, "period")
        assert periods and all(p.start_date.date() == TOMORROW for p in periods)
        assert any(p.value == 1.0 for p in periods)
        order = app.feeds.state("edf_oa.curtailments").data  # the same order as GET /curtailments
        assert {order_id for _, order_id, _ in data_of(app, "order")} == {order.order_id}
        labels = [str(n.label) for n in nodes(app) if n.data and n.data[0] == "period"]
        assert any("CURTAIL (1)" in label for label in labels)
        assert any("curtail " in str(n.label) for n in nodes(app) if n.data and n.data[0] == "order")
        await pilot.press("v")
        await fetched(pilot, screen)
        assert screen.shown.kind == "ack" and data_of(app, "ack")


async def test_export_writes_the_report_as_csv(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        await pilot.press("left_square_bracket", *["left_curly_bracket"] * 6)
        await fetched(pilot, screen)
        await pilot.press("e")
        path = config.data_dir() / "exports" / "edf_oa-ack-report-2026-11-17_2026-11-23.csv"
        assert path.parent == app.runtime.ctx.data_dir / "exports"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows == ack_report_rows(screen.shown.report)
        assert len(rows) == len(data_of(app, "ack"))  # one row per leaf of the tree
        assert {r["contract_id"] for r in rows} == {f"BOA000{i}" for i in range(1, 6)}
        assert {r["manager_id"] for r in rows if r["contract_id"] == "BOA0005"} == {"MGR-0102"}
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        messages = " ".join(n.message for n in app._notifications)
        assert f"{len(rows)} row(s) written to {path}" in messages

        await pilot.press("v")
        await fetched(pilot, screen)
        await pilot.press("e")
        curtailment = path.with_name("edf_oa-curtailment-report-2026-11-17_2026-11-23.csv")
        with curtailment.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(data_of(app, "period")) > 0
        assert set(rows[0]) >= {"start_date", "end_date", "value", "order_id", "application_date"}


async def test_bad_range_shows_a_message_and_fetches_nothing(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        before = report_requests(app)
        await pilot.press("d")
        box = screen.query_one("#range-input")
        box.value = "2026-11-22..2026-11-20"
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "Range not accepted:" in text and "the end 2026-11-20 is before the start 2026-11-22" in text
        assert box.display  # kept open to correct it
        box.value = "2026-11-32"
        await pilot.press("enter")
        await pilot.pause()
        assert "“2026-11-32” is not a date: use YYYY-MM-DD" in screen_text(app)
        await pilot.press("escape")  # closes the box, stays on the screen
        assert not box.display and isinstance(app.screen, EdfReportsScreen)
        await pilot.pause(0.2)
        assert report_requests(app) == before
        assert (screen.start, screen.end) == (TOMORROW, TOMORROW)
        assert "Range not accepted" not in screen_text(app)


async def test_api_failure_is_shown_and_the_app_keeps_running(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot, app)
        app.runtime.faults.add(ACK_REPORT_ROUTE, "status", count=5, status=500)
        await pilot.press("r")
        await fetched(pilot, screen)
        text = screen_text(app)
        assert "Report unavailable:" in text and "HTTP 500" in text
        assert screen.shown is None and data_of(app, "order") == []
        await pilot.press("e")  # nothing to export, said plainly
        assert "Nothing to export" in " ".join(n.message for n in app._notifications)
        assert app.is_running and isinstance(app.screen, EdfReportsScreen)

        await pilot.press("v")  # the other report still works
        await fetched(pilot, screen)
        assert screen.shown is not None and screen.error is None and data_of(app, "period")

        app.runtime.faults.clear()
        app.runtime.faults.add(ACK_REPORT_ROUTE, "timeout", count=1)
        await pilot.press("v")
        assert "Fetching the acknowledgement report from EDF OA…" in screen_text(app)
        await fetched(pilot, screen)
        assert "Report unavailable:" in screen_text(app)
        await pilot.press("r")
        await fetched(pilot, screen)
        assert screen.shown is not None and screen.shown.kind == "ack"


def test_snapshot_reports_80x24(snap_compare, make_app):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_runs(pilot, app, feed=CONTRACTS_FEED)
        await pilot.press("3", "c")
        await wait_for(pilot, lambda: not app.screen.fetching)
        await pilot.press("left_square_bracket", *["left_curly_bracket"] * 2)  # 21/11 … 23/11
        await wait_for(pilot, lambda: not app.screen.fetching)
        await pilot.press("down", "down")  # the cursor on the first order of BOA0001
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(now=NOW, scripted=False), terminal_size=(80, 24), run_before=run_before)
