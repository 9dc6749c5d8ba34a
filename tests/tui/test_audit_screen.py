"""The Audit screen (key 7, issue 18's shift handover): every audit line of this mode with
when (Paris), provider, what, outcome, who and environment, filtered by provider, day, outcome
and a search; read in a thread worker; and the outbox's actions to hand over, each with what
to do (the sentences of outbox_words, the same as ``pupitre outbox``)."""

from __future__ import annotations

import threading

from pupitre.providers.core.outbox_words import ACTION_TODO, OutboxState
from pupitre.providers.core.store import Store
from pupitre.tui.app import PupitreApp
from pupitre.tui.screens.audit import AUDIT_COLUMNS, AuditScreen
from pupitre.tui.widgets.virtual_table import VirtualTable
from tests.tui.helpers import show, wait_for, write_shift


def details(screen: AuditScreen) -> list[str]:
    table = screen.query_one("#audit-table", VirtualTable)
    return [screen.audit_cells.lines[row].entry.detail for row in table.view if row < len(screen.audit_cells.lines)]


async def test_the_audit_log_is_shown_in_paris_time_and_filtered(make_runtime, monkeypatch) -> None:
    runtime = make_runtime()
    write_shift(runtime)
    readers: list[str] = []
    audit_entries = Store.audit_entries

    def recorded(self: Store, *args, **kwargs):
        readers.append(threading.current_thread().name)
        return audit_entries(self, *args, **kwargs)

    monkeypatch.setattr(Store, "audit_entries", recorded)
    app = PupitreApp(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show(pilot, "7", AuditScreen)
        await wait_for(pilot, lambda: screen.reads >= 1)
        assert details(screen) == ["#3 BOA0001", "#2 HTTP 422 RG_ACK_0010", "#1 LI1001 v2"]  # newest first
        assert readers and threading.main_thread().name not in readers  # read in a worker thread
        newest = screen.audit_cells.cells(screen.query_one("#audit-table", VirtualTable).view[0], AUDIT_COLUMNS)
        # stored as 08:53Z, shown as 09:53 Paris; who and the environment are on the line
        assert [text for text, _ in newest] == [
            "18/11 09:53:00",
            "EDF OA",
            "acknowledge",
            "delivered",
            "bob@jump-3",
            "#3 BOA0001",
            "sandbox",
        ]
        detail = str(screen.query_one("#audit-detail").render())
        assert "18/11/2026 09:53:00 CET · bob@jump-3 · sandbox" in detail

        await pilot.press("v")  # provider: GRTgaz
        assert details(screen) == ["#1 LI1001 v2"]
        await pilot.press("v")  # EDF OA
        assert details(screen) == ["#3 BOA0001", "#2 HTTP 422 RG_ACK_0010"]
        await pilot.press("o")  # outcome: delivered (the outcomes read, sorted)
        assert details(screen) == ["#3 BOA0001"]
        await pilot.press("o")  # refused
        assert details(screen) == ["#2 HTTP 422 RG_ACK_0010"]
        await pilot.press("c")
        await wait_for(pilot, lambda: len(details(screen)) == 3)

        reads = screen.reads
        await pilot.press("d")  # today (18/11, Paris), read from the store for that day
        await wait_for(pilot, lambda: screen.reads > reads)
        assert details(screen) == ["#3 BOA0001", "#2 HTTP 422 RG_ACK_0010"]
        assert "Wed 18/11/2026" in str(screen.query_one("#audit-summary").render())
        reads = screen.reads
        await pilot.press("left_square_bracket")  # the day before
        await wait_for(pilot, lambda: screen.reads > reads)
        assert details(screen) == ["#1 LI1001 v2"]
        reads = screen.reads
        await pilot.press("right_square_bracket", "right_square_bracket")  # today, then all days again
        await wait_for(pilot, lambda: screen.reads > reads and screen.day is None and len(details(screen)) == 3)

        await pilot.press("slash", *"BOB")  # the search folds case: who, what, detail…
        assert details(screen) == ["#3 BOA0001"]
        await pilot.press("escape")
        assert len(details(screen)) == 3

        # a line written elsewhere (another process, the outbox) shows when the outbox moves
        runtime.store.audit("grdf_omega", "watch add", "ok", runtime.clock.now(), "GI000001")
        app.outbox.updated.publish(0)
        await wait_for(pilot, lambda: details(screen)[:1] == ["GI000001"])


async def test_the_actions_to_hand_over_say_what_to_do(make_runtime) -> None:
    runtime = make_runtime()
    ids = write_shift(runtime)
    app = PupitreApp(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show(pilot, "7", AuditScreen)
        await wait_for(pilot, lambda: screen.reads >= 1)
        assert "⚑ 2 action(s) to hand over: a" in str(screen.query_one("#audit-summary").render())
        await pilot.press("a")
        table = screen.query_one("#audit-actions", VirtualTable)
        assert table.display and screen.focused is table
        assert [screen.action_cells.items[row].id for row in table.view] == [ids["retrying"], ids["refused"]]
        await pilot.press("down")  # the refused acknowledgement
        detail = str(screen.query_one("#audit-detail").render())
        todo = ACTION_TODO[("edf_oa", "acknowledge")][OutboxState.NOT_ACCEPTED]
        assert f"#{ids['refused']} NOT ACCEPTED — HTTP 422: RG_ACK_0010" in detail
        assert f"→ {todo}" in detail and "PORTAL" in todo
        cells = dict(
            zip([c.key for c in table.columns], screen.action_cells.cells(table.view[0], table.columns), strict=True)
        )
        assert cells["state"][0] == "HELD" and "pupitre outbox release" in cells["todo"][0]
        await pilot.press("v")  # provider filter applies to the actions too: GRTgaz
        assert [screen.action_cells.items[row].id for row in table.view] == [ids["retrying"]]
        await pilot.press("a")
        assert screen.query_one("#audit-table", VirtualTable).display and not table.display


async def test_the_audit_screen_is_in_the_palette(make_app) -> None:
    app: PupitreApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Audit (7)" in titles
        await pilot.pause()


async def test_hostile_text_in_an_audit_line_is_shown_not_obeyed(make_runtime) -> None:
    """A detail quoting an API (an error message, a holder's name) reaches the terminal as
    visible text, never as an escape sequence (window title, clear screen, 8-bit CSI)."""
    from tests.tui.hostile import terminal_bytes

    runtime = make_runtime()
    hostile = "refused: \x1b]0;PWNED\x07 \x1b[2J \x9b31m \u202eevil"
    runtime.store.audit("grdf_adict", "declare", "refused", runtime.clock.now(), hostile)
    item = runtime.store.outbox_add("grdf_adict", "declare", {}, runtime.clock.now())
    runtime.store.outbox_update(item, "failed", runtime.clock.now(), error=hostile)
    app = PupitreApp(runtime)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await show(pilot, "7", AuditScreen)
        await wait_for(pilot, lambda: screen.reads >= 1 and bool(details(screen)))
        for step in ("log", "actions"):
            raw = terminal_bytes(app)
            for sequence in ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\u202e"):
                assert sequence not in raw, f"{step}: {sequence!r} reached the terminal"
            assert "␛]0;PWNED" in raw, step
            await pilot.press("a")
