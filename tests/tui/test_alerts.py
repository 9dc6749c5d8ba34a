"""Alerts in the dashboard: the attention line, the alerts screen (acknowledge = seen, with the
operator's name), and the channels outside the window — the bell, OSC 9 / OSC 777, the window
title (restored at exit) and ``[alerts] command`` — each one off by its setting."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.settings import AlertsSettings, Settings
from pupitre.tui.alerts import TITLE_POP, TITLE_PUSH, desktop_sequences, osc_text
from pupitre.tui.screens.alerts import AlertsScreen
from pupitre.tui.widgets.attention import AttentionLine
from tests.tui.helpers import alerts_settled, show, wait_for, wait_runs

RED_KEY = "grtgaz:red:"  # the scripted day: Montoir and Martigues red


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything the app writes through its driver (the pilot's terminal)."""
    out: list[str] = []
    original = HeadlessDriver.write

    def write(self: HeadlessDriver, data: str) -> None:
        out.append(data)
        original(self, data)

    monkeypatch.setattr(HeadlessDriver, "write", write)
    return out


def opened(app, key: str) -> bool:
    return any(a.key == key for a in app.alerts.open)


async def test_an_alert_rings_notifies_titles_and_shows_on_every_screen(make_app, written: list[str]) -> None:
    app = make_app()
    app.runtime.simulators["grdf_adict"].overdue_proofs = True  # some proofs past their deadline: critical
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_runs(pilot, app)
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        await wait_for(pilot, lambda: opened(app, RED_KEY) and opened(app, "grdf_adict:proofs:"))
        line = app.screen.query_one(AttentionLine)
        count = len(app.alerts.open)
        await wait_for(pilot, lambda: line.display and f"{count} open" in str(line.render()))
        text = str(line.render())
        assert text.startswith("‼ CRITICAL · ") and f"{count} open, {count} unseen · ! list · GRDF ADICT: " in text
        assert line.region.height == 1 and line.has_class("-critical")  # one line at 80×24
        out = "".join(written)
        assert out.index(TITLE_PUSH) < out.index("\x1b]2;")  # the title saved before it is changed
        assert "\x07" in written  # the bell: a write of its own (BEL also ends each OSC)
        assert "\x1b]9;pupitre ATTENTION: GRTgaz: Montoir (Bretagne): RED on partial" in out
        assert "\x1b]777;notify;pupitre ATTENTION;GRTgaz: Montoir (Bretagne): RED on partial" in out
        assert "\x1b]9;pupitre CRITICAL: GRDF ADICT: 16 right(s) awaiting proofs" in out
        assert f"\x1b]2;pupitre — CRITICAL {count}\x07" in out
        # on another screen too
        await pilot.press("2")
        await wait_for(pilot, lambda: app.screen.query(AttentionLine) and app.screen.query_one(AttentionLine).display)
        # evaluated again, nothing new: no bell, no notification again
        before, bells, evaluations = "".join(written), written.count("\x07"), app.alerts.evaluations
        app.alerts.request()
        await alerts_settled(pilot, app)
        assert app.alerts.evaluations > evaluations
        again = "".join(written)[len(before) :]
        assert written.count("\x07") == bells and "\x1b]9;" not in again
    out = "".join(written)
    assert out.rfind(TITLE_POP) > out.rfind("\x1b]2;")  # the title given back at exit


async def test_an_alert_graded_worse_rings_again(make_app, written: list[str]) -> None:
    app = make_app()
    simulator = app.runtime.simulators["grdf_adict"]
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        await wait_for(pilot, lambda: any(a.key == "grdf_adict:proofs:" for a in app.alerts.open))
        proofs = next(a for a in app.alerts.open if a.key == "grdf_adict:proofs:")
        assert proofs.severity == "attention"
        app.alerts.acknowledge(proofs)  # seen on this console
        await wait_for(
            pilot, lambda: any(a.id == proofs.id and a.seen_at is not None for a in app.alerts.open), timeout=10.0
        )
        bells = written.count("\x07")
        simulator.overdue_proofs = True  # the same proofs, now past their deadline: the same alert, worse
        runs = app.feeds.state(RIGHTS_FEED).runs
        app.feeds.refresh(RIGHTS_FEED, forced=True)
        await wait_runs(pilot, app, runs + 1, feed=RIGHTS_FEED)
        app.alerts.request()

        def worse() -> bool:
            found = [a for a in app.alerts.open if a.key == "grdf_adict:proofs:"]
            return bool(found) and found[0].severity == "critical"

        await wait_for(pilot, worse)
        graded = next(a for a in app.alerts.open if a.key == "grdf_adict:proofs:")
        assert graded.id == proofs.id and graded.seen_at is None  # news again: unseen
        await wait_for(pilot, lambda: written.count("\x07") > bells)
        assert "\x1b]9;pupitre CRITICAL: GRDF ADICT:" in "".join(written)


async def test_each_channel_can_be_turned_off(make_runtime, make_app, written: list[str]) -> None:
    settings = Settings(alerts=AlertsSettings(bell=False, desktop=False, title=False))
    app = make_app(make_runtime(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: opened(app, RED_KEY))
        line = app.screen.query_one(AttentionLine)
        await wait_for(pilot, lambda: line.display)  # the line and the screen are not channels to turn off
    out = "".join(written)
    assert "\x07" not in written and "\x1b]9;" not in out and "\x1b]777;" not in out
    assert "\x1b]2;" not in out and TITLE_PUSH not in out and TITLE_POP not in out


def test_osc_text_carries_no_control_character() -> None:
    hostile = "RED\x1b]0;pwned\x07 at \x9b31m Fos\nnext line\u202e"
    cleaned = osc_text(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in cleaned)
    sequence = desktop_sequences("pupitre; CRITICAL", hostile)
    assert sequence.count("\x07") == 2 and sequence.count("\x1b") == 2  # only the two sequences' own
    assert "\x1b]777;notify;pupitre, CRITICAL;" in sequence  # the title cannot add a field


async def test_the_alerts_screen_acknowledges_with_the_operator(make_runtime, make_app) -> None:
    settings = Settings()
    settings.app.operator = "ana"
    app = make_app(make_runtime(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: opened(app, RED_KEY))
        screen = await show(pilot, "exclamation_mark", AlertsScreen)
        table = screen.query_one("#alerts-table")
        await wait_for(pilot, lambda: table.row_count >= 1)
        red = next(a for a in app.alerts.open if a.key == RED_KEY)
        table.move_cursor(row=table.get_row_index(str(red.id)))
        await pilot.press("s")
        await wait_for(pilot, lambda: (app.runtime.store.alert(red.id) or red).seen_at is not None)
        seen = app.runtime.store.alert(red.id)
        assert seen is not None and seen.seen_by.startswith("ana@") and seen.open  # seen, still open
        assert seen.seen_at == app.runtime.clock.now()
        line = screen.query_one(AttentionLine)
        await wait_for(pilot, lambda: "unseen" not in str(line.render()) or len(app.alerts.open) > 1)
        assert "seen by ana@" in str(screen.query_one("#alerts-detail").render())


async def test_the_deadline_alert_comes_from_the_clock_alone(make_runtime, make_app) -> None:
    """No feed reports between 15:29 and 15:30: the tick on the runtime's clock raises T-30."""
    runtime = make_runtime(now=dt.datetime(2026, 11, 23, 15, 29), scripted=False)
    app = make_app(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(a.key.startswith("edf_oa:ack:") for a in app.alerts.open), timeout=10)
        assert not any(a.cause.startswith("deadline") for a in app.alerts.open)
        app.feeds.set_paused(True)  # no feed reads from now on
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        clock.set(dt.datetime(2026, 11, 23, 15, 30))
        await wait_for(pilot, lambda: opened(app, "edf_oa:deadline-30:2026-11-24"), timeout=10)
        clock.set(dt.datetime(2026, 11, 23, 16, 0))
        await wait_for(pilot, lambda: opened(app, "edf_oa:deadline-passed:2026-11-24"), timeout=10)
        line = app.screen.query_one(AttentionLine)
        await wait_for(pilot, lambda: "CRITICAL" in str(line.render()))
        assert line.has_class("-critical")


def recorder(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    """A command that appends its stdin (one JSON line) to a file, then exits ``exit_code``."""
    out = tmp_path / "hook.jsonl"
    script = tmp_path / "hook.py"
    script.write_text(
        "import sys\n"
        "data = sys.stdin.read()\n"
        f"open({str(out)!r}, 'a').write(data)\n"
        f"print('paging failed: no route') if {exit_code} else None\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{sys.executable} {script}", out


async def test_the_command_gets_each_alert_once_as_json(make_runtime, make_app, tmp_path: Path) -> None:
    command, out = recorder(tmp_path)
    app = make_app(make_runtime(Settings(alerts=AlertsSettings(command=command))))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: opened(app, RED_KEY))
        red = next(a for a in app.alerts.open if a.key == RED_KEY)
        await wait_for(pilot, lambda: (app.runtime.store.alert(red.id) or red).announced_at is not None, timeout=15)
        for _ in range(3):
            app.alerts.request()
            await alerts_settled(pilot, app)
        await app.workers.wait_for_complete()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    by_key = {line["key"]: line for line in lines}
    assert len(lines) == len(by_key)  # once each
    got = by_key[RED_KEY]
    assert got["provider"] == "grtgaz" and got["provider_title"] == "GRTgaz" and got["severity"] == "attention"
    assert got["severity_word"] == "ATTENTION" and "RED" in got["message"] and got["cleared_at"] is None
    assert dt.datetime.fromisoformat(got["raised_at"]) == app.runtime.clock.now()


async def test_a_failing_command_is_shown(make_runtime, make_app, tmp_path: Path) -> None:
    command, out = recorder(tmp_path, exit_code=3)
    app = make_app(make_runtime(Settings(alerts=AlertsSettings(command=command))))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(n.title == "Alert command" for n in app._notifications), timeout=15)
        note = next(n for n in app._notifications if n.title == "Alert command")
        assert "exited with 3" in note.message and "paging failed: no route" in note.message
    assert out.read_text()  # it did get the alert


async def test_a_command_that_hangs_is_stopped_at_its_timeout(make_runtime, make_app, tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(60)\n")
    settings = Settings(alerts=AlertsSettings(command=f"{sys.executable} {script}", command_timeout_seconds=0.5))
    app = make_app(make_runtime(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(n.title == "Alert command" for n in app._notifications), timeout=15)
        note = next(n for n in app._notifications if n.title == "Alert command")
        assert "did not finish within 0.5 s" in note.message


def test_snapshot_alerts_screen(snap_compare, make_app) -> None:
    """The scripted day's alerts at 80×24: the worst on top, each with its glyph and word."""

    async def run_before(pilot) -> None:
        app = pilot.app
        screen = await show(pilot, "exclamation_mark", AlertsScreen)
        table = screen.query_one("#alerts-table")
        await wait_for(pilot, lambda: table.row_count == len(app.alerts.open))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
