"""Pilot tests of the GRTgaz programs screen and the program editor.

The day is §3.2.2.1's example (conftest): 18/11 at 10:53, Martigues (LI1009) has Q→Q-
red since 09:15, Montoir (LI1006) partial red, DK6 (LI1001) Q→Q+ red announced for
11:15. Every site has its v1 declared the day before at 15:00 (the simulator's seed).
At 10:53 the first adjustable hour is 10h and the controlled window 10h…15h (§3.2.3.2
1.b, received after H+15).
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from textual.widgets import DataTable, Input, Static

from pupitre.providers.grtgaz import feasibility, rules
from pupitre.providers.grtgaz.feeds import DECLARE_ACTION, PROVIDER, pending_declarations
from pupitre.providers.grtgaz.models import FeasibilityStatus
from pupitre.settings import Settings
from pupitre.tui import outbox as outbox_module
from pupitre.tui.dialogs.email_export import EmailExportScreen
from pupitre.tui.dialogs.program_confirm import ProgramConfirmScreen
from pupitre.tui.screens.flexibility import FlexibilityScreen
from pupitre.tui.screens.program_editor import ProgramEditorScreen
from pupitre.tui.screens.programs import ProgramsScreen
from tests.helpers import declarations_received
from tests.tui.helpers import NOW, burst, screen_text, wait_for, wait_runs

MARTIGUES, MONTOIR = "LI1009", "LI1006"
DAY = dt.date(2026, 11, 18)
POST_ROUTE = "/sfm/v1/hmsProfiles"
SLOT_11H = 5


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 0.05)


async def open_programs(pilot, app, site_id: str) -> ProgramsScreen:
    await wait_runs(pilot, app)
    await app.push_screen(ProgramsScreen(site_id))
    screen = app.screen
    assert isinstance(screen, ProgramsScreen)
    await wait_for(pilot, lambda: screen.data is not None and not screen.data.from_store and not screen.loading)
    await pilot.pause()
    return screen


async def open_editor(pilot, app, site_id: str) -> ProgramEditorScreen:
    await open_programs(pilot, app, site_id)
    await pilot.press("e")
    await pilot.pause()
    editor = app.screen
    assert isinstance(editor, ProgramEditorScreen)
    return editor


async def type_value(pilot, editor: ProgramEditorScreen, slot: int, value: int) -> None:
    """Put the cursor on ``slot`` and type ``value`` digit by digit (Enter keeps it)."""
    editor.query_one("#ed-table", DataTable).move_cursor(row=slot, animate=False)
    await pilot.pause()
    for digit in str(value):
        await pilot.press(digit)
        await pilot.pause()


async def edit_montoir(pilot, app) -> ProgramEditorScreen:
    """Montoir's editor with 18h set to 500 000 (beyond H+5: not controlled, accepted)."""
    editor = await open_editor(pilot, app, MONTOIR)
    await type_value(pilot, editor, 12, 500_000)
    await pilot.press("enter", "escape")
    return editor


def cell(editor: ProgramEditorScreen, slot: int, column: str) -> str:
    return str(editor.query_one("#ed-table", DataTable).get_cell(str(slot), column))


def items(app) -> list:
    return [i for i in app.runtime.store.outbox(provider=PROVIDER) if i.action == DECLARE_ACTION]


async def test_g_on_flexibility_opens_the_selected_sites_programs(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2")
        assert isinstance(app.screen, FlexibilityScreen)
        table = app.screen.query_one(DataTable)
        site_id = str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, ProgramsScreen) and screen.site_id == site_id
        await wait_for(pilot, lambda: screen.data is not None and not screen.loading)
        await pilot.pause()
        rebuilt = app.runtime.simulators["grtgaz"].rebuilt(site_id, DAY)
        hours = screen.query_one("#prog-hours", DataTable)
        assert hours.row_count == 24
        assert str(hours.get_cell("0", "rebuilt")).replace(" ", "") == f"{rebuilt[0]:.0f}"
        declared = screen.query_one("#prog-declared", DataTable)
        assert str(declared.get_cell(f"20261118-{site_id}-GFCCGE{site_id[-2:]}-1", "status")) == "✓ ACCEPTED"
        assert "Programme accepté" in str(screen.query_one("#prog-detail", Static).render())
        await pilot.press("right")
        await wait_for(pilot, lambda: screen.gas_day == DAY + dt.timedelta(days=1) and not screen.loading)
        assert "(tomorrow)" in str(screen.query_one("#prog-title", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, FlexibilityScreen)


async def test_edit_precheck_fails_fix_send_accepted(make_app):
    """Martigues has Q→Q- red: lowering 11h fails the pre-check (Q0_DELAY, §3.2.3.2 1.b);
    raising it instead passes; sent, it is ACCEPTED, read back and audited."""
    app = make_app()
    sim = app.runtime.simulators["grtgaz"]
    async with app.run_test(size=(120, 40)) as pilot:
        calls = declarations_received(sim)
        editor = await open_editor(pilot, app, MARTIGUES)
        assert editor.program_id == "20261118-LI1009-GFCCGE09-2"  # the next version (§2.2)
        reference = editor.reference[SLOT_11H]

        await type_value(pilot, editor, SLOT_11H, int(reference) - 50_000)  # (tests/unit/test_program_editing.py)
        assert cell(editor, SLOT_11H, "check") == "✗ Q→Q- red"
        assert "would be REFUSED" in screen_text(app) and "§3.2.3.2 1.b" in screen_text(app)

        for _ in str(int(reference) - 50_000):  # fix: raise it instead (Q→Q+ green)
            await pilot.press("backspace")
        for digit in str(int(reference) + 50_000):
            await pilot.press(digit)
        await pilot.press("enter", "escape")
        assert editor.draft.values[SLOT_11H] == reference + 50_000
        assert cell(editor, SLOT_11H, "check") == "✓ ok"
        assert "would be ACCEPTED" in screen_text(app)

        await pilot.press("s")
        assert isinstance(app.screen, ProgramConfirmScreen)
        text = screen_text(app)
        assert "Declare 20261118-LI1009-GFCCGE09-2?" in text and "1 hour(s) changed" in text
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: editor.sent is not None and editor.sent.profile is not None and editor.sent.profile.status.decided,
            timeout=10,
        )
        assert editor.sent.profile.status is FeasibilityStatus.ACCEPTED
        assert "✓ ACCEPTED" in str(editor.query_one("#ed-status", Static).render())
        assert calls == ["20261118-LI1009-GFCCGE09-2"]
        assert sim.rebuilt(MARTIGUES, DAY)[SLOT_11H] == reference + 50_000
        audit = [(row[2], row[3]) for row in app.runtime.store.audit_log(PROVIDER)]
        assert {
            ("declare program", "queued"),
            ("declare program", "delivered"),
            ("declare program", "verified"),
            ("feasibility", "ACCEPTED"),
        } <= set(audit)

        await pilot.press("escape")  # back to the programs: v2 listed, rebuilt updated
        programs = app.screen
        assert isinstance(programs, ProgramsScreen)
        await wait_for(
            pilot, lambda: programs.data is not None and len(programs.data.declared) == 2 and not programs.loading
        )
        await pilot.pause()
        declared = programs.query_one("#prog-declared", DataTable)
        assert str(declared.get_cell("20261118-LI1009-GFCCGE09-2", "status")) == "✓ ACCEPTED"


async def test_the_verdict_arrives_after_the_editor_is_left(make_app, monkeypatch):
    """GRTgaz decides feasibility minutes after taking the program: the operator sends, then
    leaves the editor (Esc) and the programs screen. The app's follow-up goes on: the verdict
    is audited once and notified, and the follow-up is settled in the store."""
    monkeypatch.setattr(feasibility.FeasibilityFollowUp, "interval", 0.05)
    app = make_app()
    sim = app.runtime.simulators["grtgaz"]
    sim.feasibility_delay = dt.timedelta(minutes=5)
    follow_up = app.runtime.connections[PROVIDER].session.feasibility
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await edit_montoir(pilot, app)
        await pilot.press("s", "y")
        program_id = editor.program_id
        await wait_for(pilot, lambda: follow_up.awaited() == [program_id], timeout=10)
        await wait_for(pilot, lambda: "feasibility being checked" in str(editor.query_one("#ed-status").render()))
        await pilot.press("escape", "escape")  # out of the editor, out of the programs
        assert not isinstance(app.screen, ProgramEditorScreen | ProgramsScreen)
        assert not editor.is_attached
        assert not [row for row in app.runtime.store.audit_log(PROVIDER) if row[2] == "feasibility"]

        app.runtime.clock.advance(minutes=6)  # GRTgaz decides
        await wait_for(pilot, lambda: follow_up.settled(program_id) == "ACCEPTED", timeout=10)
        await wait_for(pilot, lambda: any(n.title == "Program ACCEPTED" for n in app._notifications))
        verdicts = [row for row in app.runtime.store.audit_log(PROVIDER) if row[2] == "feasibility"]
        assert [(row[3], row[4].split()[0]) for row in verdicts] == [("ACCEPTED", program_id)]
        [note] = [n for n in app._notifications if n.title == "Program ACCEPTED"]
        assert program_id in note.message and "by GRTgaz" in note.message
        assert follow_up.awaited() == [] and not follow_up.active()
        assert feasibility.verdict_of(app.runtime.store, program_id) is not None


async def test_refused_by_grtgaz_shows_the_comment(make_app):
    """Sent although the pre-check says REFUSED: GRTgaz refuses with the §13.3 comment."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot, app, MARTIGUES)
        await type_value(pilot, editor, SLOT_11H, 1000)
        await pilot.press("enter", "escape", "s")
        assert "would be REFUSED" in screen_text(app)
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: editor.sent is not None and editor.sent.profile is not None and editor.sent.profile.status.decided,
            timeout=10,
        )
        status = str(editor.query_one("#ed-status", Static).render())
        assert "✗ REFUSED" in status and "HMS_PROFILE_NOT_RESPECT_Q0_DELAY" in status
        assert "n: edit the next version" in status
        await pilot.press("n")
        assert editor.sent is None and editor.program_id.endswith("-3") and editor.draft.base_label == "v2"


async def test_technically_invalid_program_is_not_queued(make_app):
    """Above the contract's qMax: REJECTED by the pre-check (EXEEDED_QMIN_QMAX, §2.4) and
    refused by the outbox's local check: nothing is written, nothing sent."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot, app, MONTOIR)
        await type_value(pilot, editor, 10, 9_000_000)
        await pilot.press("enter", "escape")
        assert cell(editor, 10, "check") == "✗ Qmin/Qmax"
        assert "would be REJECTED" in screen_text(app) and "EXEEDED_QMIN_QMAX" in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ProgramEditorScreen)  # no confirmation
        assert items(app) == []


async def test_5xx_then_timeout_keeps_it_in_the_outbox_and_sends_it_once(make_app):
    app = make_app()
    sim = app.runtime.simulators["grtgaz"]
    async with app.run_test(size=(120, 40)) as pilot:
        calls = declarations_received(sim)
        editor = await edit_montoir(pilot, app)
        app.runtime.faults.add(POST_ROUTE, "status", count=1, status=503, method="POST")
        app.runtime.faults.add(POST_ROUTE, "timeout", count=1, method="POST")
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: items(app) and items(app)[-1].attempts >= 1)
        assert items(app)[-1].status == "pending"  # kept while GRTgaz does not answer
        assert pending_declarations(app.runtime.store, MONTOIR, DAY)
        await wait_for(pilot, lambda: items(app)[-1].status == "delivered", timeout=15)
        item = items(app)[-1]
        assert item.attempts == 3 and app.runtime.faults.faults == []
        assert calls == [editor.sent.program_id]  # GRTgaz received it exactly once
        await wait_for(
            pilot, lambda: editor.sent.profile is not None and editor.sent.profile.status.decided, timeout=10
        )
        audit = [row[3] for row in app.runtime.store.audit_log(PROVIDER) if row[2] == "declare program"]
        assert audit.count("retrying") == 2 and audit.count("delivered") == 1


async def test_lost_answer_is_not_sent_twice(make_app):
    """The POST reaches GRTgaz but its answer is cut: the read-back finds the program,
    so the declaration is delivered without a second POST (the id is unique, §2.2)."""
    app = make_app()
    sim = app.runtime.simulators["grtgaz"]
    async with app.run_test(size=(120, 40)) as pilot:
        calls = declarations_received(sim)
        editor = await edit_montoir(pilot, app)
        app.runtime.faults.add(POST_ROUTE, "truncated", count=1, method="POST")
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: items(app) and items(app)[-1].status == "delivered", timeout=10)
        assert calls == [editor.sent.program_id]
        assert "already received by GRTgaz" in items(app)[-1].response


async def test_export_for_email_writes_the_documented_file(make_runtime, make_app, tmp_path):
    settings = Settings()
    settings.grtgaz.export_dir = str(tmp_path / "mail")
    app = make_app(make_runtime(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_programs(pilot, app, MONTOIR)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, EmailExportScreen)
        files = list((tmp_path / "mail").iterdir())
        assert [f.name for f in files] == ["Export_DECLARATIONS_CCG-UPLOAD-20261118_20261118105300.csv"]
        text = screen_text(app)
        assert str(files[0]) in text.replace("\n", "")
        assert "Montoir Prévisions SFM : 18/11/2026 – 20/11/2026" in text
        assert "contact-CCG@grtgaz.com" in text
        with open(files[0], encoding="utf-8", newline="") as handle:
            header, line = list(csv.reader(handle, delimiter=";"))
        assert header == ["DECLARATIONS_CCG", "18/11/2026", "105300", "UPLOAD", "PROD", "18/11/2026", "18/11/2026"]
        assert line[0] == "20261118-LI1006-GFCCGE06-1" and len(line) == 34
        audit = [(row[2], row[3]) for row in app.runtime.store.audit_log(PROVIDER)]
        assert ("export for e-mail", "written") in audit
        await pilot.press("escape")
        assert isinstance(app.screen, ProgramsScreen)


async def test_export_offered_when_the_api_is_down(make_app):
    """GRTgaz answers 503 on every declaration: the status line offers the e-mail export,
    which writes the queued program; the declaration stays in the outbox."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await edit_montoir(pilot, app)
        app.runtime.faults.add(POST_ROUTE, "status", count=1000, status=503, method="POST")
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: items(app) and items(app)[-1].attempts >= 1)
        await pilot.pause()
        assert "x: export for e-mail" in str(editor.query_one("#ed-status", Static).render())
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, EmailExportScreen)
        assert "still waiting for the API" in screen_text(app)
        exported = list(app.runtime.connections[PROVIDER].session.export_dir.iterdir())
        assert len(exported) == 1 and editor.sent.program_id in exported[0].read_text()
        assert items(app)[-1].status == "pending"
        app.runtime.faults.clear()


async def test_days_past_are_read_only(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_programs(pilot, app, MONTOIR)
        await pilot.press("left")
        await wait_for(pilot, lambda: screen.gas_day == DAY - dt.timedelta(days=1) and not screen.loading)
        assert "day over" in str(screen.query_one("#prog-title", Static).render())
        await pilot.press("e")
        editor = app.screen
        assert isinstance(editor, ProgramEditorScreen)
        assert "This gas day is over" in str(editor.query_one("#ed-timing", Static).render())
        assert not any(editor.writable(slot) for slot in range(24))


async def test_passing_h_plus_15_makes_the_hour_read_only(make_runtime, make_app):
    """At 11:14 the 10h slot is still adjustable (H-1 before H+15, chapter 2 §7); at 11:16
    it is not: the editor re-checks as time passes (its tick) and locks the row."""
    app = make_app(make_runtime(now=dt.datetime(2026, 11, 18, 11, 14)))
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot, app, MONTOIR)
        assert editor.writable(4) and cell(editor, 4, "check") == "✓ ok"
        app.runtime.clock.set(dt.datetime(2026, 11, 18, 11, 16))
        app.ticked.publish(None)
        await pilot.pause()
        assert not editor.writable(4) and cell(editor, 4, "check") == "· past"
        editor.query_one("#ed-table", DataTable).move_cursor(row=4, animate=False)
        await pilot.press("5")
        assert editor.editing is None  # refused: "10h is no longer adjustable"


async def test_declaration_rejected_by_grtgaz_is_listed_and_can_be_corrected(make_app):
    """A 400 (here: GRTgaz already has a higher version, e.g. sent from another tool) fails
    the outbox item; the programs list shows it as not taken, with the reason, and c
    reopens it in the editor."""
    app = make_app()
    sim = app.runtime.simulators["grtgaz"]
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await edit_montoir(pilot, app)
        context = sim.program_context(MONTOIR, DAY)
        other = rules.input_profile(
            context,
            list(editor.values()),
            declared_at=NOW,
            profile_id=rules.program_id(DAY, MONTOIR, context.contract_code, 7),
        )
        assert sim.declare([other]) == []  # meanwhile, v7 arrives from elsewhere
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: items(app) and items(app)[-1].status == "failed", timeout=10)
        assert "HMS_PROFILE_VERSION_NOT_INCREASING" in items(app)[-1].last_error
        await pilot.pause()
        assert "NOT ACCEPTED" in str(editor.query_one("#ed-status", Static).render())
        await pilot.press("escape")
        programs = app.screen
        assert isinstance(programs, ProgramsScreen)
        await wait_for(
            pilot, lambda: not programs.loading and programs.data is not None and len(programs.data.declared) == 2
        )
        declared = programs.query_one("#prog-declared", DataTable)
        assert str(declared.get_cell("20261118-LI1006-GFCCGE06-2", "status")) == "✗ not taken"
        declared.move_cursor(row=declared.get_row_index("20261118-LI1006-GFCCGE06-2"), animate=False)
        await pilot.pause()
        assert "NOT taken by GRTgaz" in str(programs.query_one("#prog-detail", Static).render())
        await pilot.press("c")
        corrected = app.screen
        assert isinstance(corrected, ProgramEditorScreen)
        assert corrected.program_id.endswith("-8") and corrected.draft.values[12] == 500_000


async def test_declared_list_fits_what_it_shows_not_what_it_showed(make_app):
    """The declared list of a day with none ("none declared"), then of one with a program:
    its columns fit the program's row, as when it is opened on it (Textual's DataTable
    keeps the widest cell it ever held; the screen's FittedTable does not)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_programs(pilot, app, MARTIGUES)
        declared = screen.query_one("#prog-declared", DataTable)
        opened = {key.value: column.content_width for key, column in declared.columns.items()}
        assert opened["declared"] == len("17/11 15:00")
        app.runtime.simulators["grtgaz"].seed_programs = False  # tomorrow: nothing declared yet
        await pilot.press("right")
        await wait_for(pilot, lambda: screen.gas_day == DAY + dt.timedelta(days=1) and not screen.loading)
        await pilot.pause()
        assert str(declared.get_cell("", "declared")) == "none declared"
        await pilot.press("left")
        await wait_for(pilot, lambda: screen.gas_day == DAY and not screen.loading)
        await pilot.pause()
        assert declared.row_count == 1
        assert {key.value: column.content_width for key, column in declared.columns.items()} == opened


def test_indicators_shown_for_a_program_are_those_grtgaz_used():
    """§3.1: a program received before J-1 01:00 was judged against no indicator: its
    detail says so. A seeded program (J-1 15:00) shows the indicators of that time."""
    from pupitre.providers.core.clock import PARIS, ManualClock
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.grtgaz.models import Flex
    from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
    from pupitre.tui.screens.programs import indicators_used

    sim = GrtgazSimulator(ManualClock(NOW), FaultPlan(), seed_programs=True)
    seeded = sim._touch("LI1006", DAY)[0]
    at_declaration = sim.site_indicators("LI1006", seeded.received_at)
    assert sim.hms_profile(seeded).hmsProfileFeasibility.indicator.status(Flex.Q_TO_QPLUS) is rules.applicable_status(
        at_declaration, Flex.Q_TO_QPLUS, seeded.received_at
    )
    early = dt.datetime(2026, 11, 16, 12, 0, tzinfo=PARIS)  # J-2: before J-1 01:00
    context = sim.program_context("LI1006", DAY, early)
    profile = rules.input_profile(
        context, list(seeded.profile.quantities), declared_at=early, profile_id=context.next_program_id()
    )
    assert sim.declare([profile], early) == []
    used = indicators_used(sim.hms_profile(sim.stored(profile.hmsProfileId)))
    assert "accepted without control" in used and "§3.1" in used


async def test_23_hour_day_program_is_sent_and_says_what_it_assumed(make_runtime, make_app):
    """Saturday 28/03/2026 (the night of the 29th loses 02:00), issue 16: the editor says how
    it reads §13.2 « celle de 3h » (its words: tests/unit/test_program_editing.py), predicts
    ACCEPTED, and the program goes through the outbox to GRTgaz and back with the same slots
    (no HOURS_NOT_BETWEEN_START_END)."""
    day = dt.date(2026, 3, 28)
    app = make_app(make_runtime(now=dt.datetime(2026, 3, 28, 10, 53)))
    sim = app.runtime.simulators["grtgaz"]
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot, app, MONTOIR)
        assert editor.gas_day == day
        assert "celle de 3h" in str(editor.query_one("#ed-timing", Static).render())
        await type_value(pilot, editor, 12, 500_000)  # 18h, beyond H+5
        await pilot.press("enter", "escape")
        assert "would be ACCEPTED" in screen_text(app)
        await pilot.press("s")
        assert isinstance(app.screen, ProgramConfirmScreen)
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: editor.sent is not None and editor.sent.profile is not None and editor.sent.profile.status.decided,
            timeout=10,
        )
        assert editor.sent.profile.status is FeasibilityStatus.ACCEPTED
        stored = sim.stored(editor.sent.profile.hmsProfileId)
        assert stored is not None
        sent = [slot.hourlySlotStartDateTime.astimezone(dt.timezone.utc) for slot in stored.profile.hmsHourlyProfile]
        assert sent == [label.astimezone(dt.timezone.utc) for label in rules.day_slots(day).labels]


async def test_a_value_typed_is_kept_whole_and_refused_in_words(make_app):
    """``-5000`` and ``1e6x`` typed in one burst: every character stays in the cell, and what
    cannot be taken is refused in words (before, ``-5000`` became 5000 and ``1e6`` 16)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot, app, MONTOIR)
        editor.query_one("#ed-table", DataTable).move_cursor(row=12, animate=False)
        await pilot.pause()
        await burst(pilot, "-5000")
        box = editor.query_one("#ed-value", Input)
        assert box.value == "-5000"
        assert "negative" in str(editor.query_one("#ed-summary", Static).render())
        await burst(pilot, "enter")
        assert editor.editing == 12 and editor.draft.values[12] != 5000  # not kept
        await burst(pilot, "ctrl+u", "1e6x")
        assert box.value == "1e6x"
        assert "not a number" in str(editor.query_one("#ed-summary", Static).render())
        await burst(pilot, "backspace", "enter")
        assert editor.draft.values[12] == 1_000_000
