"""Pilot tests of the GRDF ADICT bulk export (access rights, ``e``): a filtered view exported
end to end (file, audit, progress line), a bulk beyond today's remaining quota refused in
the dialog with nothing sent, one PCE refused mid-run without stopping the others, a bad
period refused by field, a cancel that writes a partial file; the dialog's snapshot."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from pupitre.providers.grdf_adict import export
from pupitre.providers.grdf_adict.feeds import PROVIDER
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.dialogs.rights_export import ExportDialog
from pupitre.tui.screens.access_rights import AccessRightsScreen
from tests.tui.helpers import open_rights, wait_for

KIND = "donnees_consos_publiees"


def fast(app, per_second: float = 25) -> None:
    """The client's pace: realistic (paced, counted) but quick."""
    app.runtime.connections[PROVIDER].session.client.limiter.per_second = per_second


def data_calls(app) -> list[str]:
    return [r.path for r in app.runtime.request_log.records if "/pce/" in r.path]


def exports(app) -> Path:
    return app.runtime.ctx.data_dir / "exports"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def open_dialog(pilot, app) -> ExportDialog:
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


async def export_all(pilot, app, screen: AccessRightsScreen) -> None:
    """ctrl+s in the dialog, y to the confirmation, then wait for the end of the run."""
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.press("y")
    await wait_for(pilot, lambda: screen.exporter is not None and screen.exporter.run is not None)
    await wait_for(pilot, lambda: not screen.exporter.running, timeout=20)
    await pilot.pause()  # the end of the run drawn


async def test_export_of_a_filtered_view_end_to_end(make_adict_app):
    app = make_adict_app()
    fast(app, per_second=8)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await pilot.press("slash", *"GI", "enter")  # the GI… PCEs only
        shown = set(screen.view.table.col["pce"][i] for i in screen.rows)
        assert 0 < len(screen.rows) < 300
        dialog = await open_dialog(pilot, app)
        assert dialog.query_one("#export-periode", Input).value == "2026-10"
        chosen = export.select(
            screen.view.table.col,
            screen.rows,
            KIND,
            dialog.today,
            export.period_form(KIND, dialog.today, periode="2026-10")[0],
        )
        assert 0 < len(chosen.pces) and set(chosen.pces) <= shown
        assert text(app, "#export-selection") == chosen.sentence()
        assert "not Active" in chosen.sentence()  # the rows left out, and why
        n = len(chosen.pces)
        assert text(app, "#export-plan").startswith(f"{n} PCE → {n} call(s), about ")
        assert "left today (quota 6000 a day" in text(app, "#export-plan")
        assert data_calls(app) == []
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"of {n} PCE?" in str(app.screen.question)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.exporter.run is not None and screen.exporter.run.done >= 1)
        assert f"/{n} PCE" in text(app, "#rights-export") and "e: cancel" in text(app, "#rights-export")
        await wait_for(pilot, lambda: not screen.exporter.running, timeout=20)
        await pilot.pause()  # the end of the run drawn
        assert len(data_calls(app)) == n  # one call per PCE, each PCE once
        files = sorted(exports(app).iterdir())
        assert [f.name for f in files] == [f"adict_{KIND}_2026-10_20261118-105300.csv"]
        lines = read_csv(files[0])
        assert {line["id_pce"] for line in lines} == set(chosen.pces)
        assert all(line["kind"] == KIND and line["energy_kwh"] and line["start"].startswith("2026-1") for line in lines)
        line = text(app, "#rights-export")
        assert line.startswith("✓ Exported") and files[0].name in line and f"{n} of {n} PCE" in line
        at, provider, action, outcome, detail = app.runtime.store.audit_log(PROVIDER)[0]
        assert (provider, action, outcome) == (PROVIDER, export.AUDIT_ACTION, "complete")
        assert f"{n} of {n} PCE exported ({len(lines)} readings), 0 refused" in detail
        assert app.runtime.store.outbox(provider=PROVIDER) == []  # reads are not outbox actions


async def test_a_bulk_beyond_todays_quota_is_refused_and_nothing_is_sent(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        limiter = app.runtime.connections[PROVIDER].session.client.limiter
        limiter.per_day = limiter.used_today() + 20  # 20 calls left today
        dialog = await open_dialog(pilot, app)
        refusal = text(app, "#export-refusal")
        assert (
            "Not started: this needs" in refusal
            and "only 17 remain in today's GRDF quota (20 left, 3 kept" in refusal
            and "resets at midnight" in refusal
        )
        assert dialog.query_one("#export-go", Button).disabled
        await pilot.press("ctrl+s", "enter")
        await pilot.pause(0.2)
        assert app.screen is dialog  # refused: no confirmation
        assert data_calls(app) == []
        # with more of today's quota left, the same export is accepted
        await pilot.press("escape")
        limiter.per_day += 100
        await open_dialog(pilot, app)
        assert not app.screen.query_one("#export-refusal").display
        assert not app.screen.query_one("#export-go", Button).disabled
        assert screen.exporter is not None and screen.exporter.run is None


async def test_quota_used_elsewhere_before_the_confirmation_is_still_checked(make_adict_app):
    """The dialog's figure may be stale by the time the operator says yes: the run checks
    today's remaining quota again before its first call."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await open_dialog(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        limiter = app.runtime.connections[PROVIDER].session.client.limiter
        limiter.per_day = limiter.used_today() + 5
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.exporter.run is not None and not screen.exporter.running)
        await pilot.pause()  # the end of the run drawn
        assert text(app, "#rights-export").startswith("⚠ Nothing exported") and "Not started" in text(
            app, "#rights-export"
        )
        assert data_calls(app) == [] and not list(exports(app).glob("*"))  # no file (the journal was removed)
        assert app.runtime.store.audit_log(PROVIDER)[0][3] == "not started"


async def test_a_pce_refused_mid_run_does_not_stop_the_others(make_adict_app):
    app = make_adict_app()
    fast(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        dialog = await open_dialog(pilot, app)
        pces = export.select(
            screen.view.table.col,
            screen.rows,
            KIND,
            dialog.today,
            export.period_form(KIND, dialog.today, periode="2026-10")[0],
        ).pces
        forbidden, broken = pces[2], pces[5]
        app.runtime.faults.add(f"/adict/v2/pce/{forbidden}/{KIND}", "status", status=403)
        app.runtime.faults.add(f"/adict/v2/pce/{broken}/{KIND}", "malformed")
        await export_all(pilot, app, screen)
        run = screen.exporter.run
        assert run.done == len(pces) and not run.partial
        assert set(run.refused) == {forbidden, broken} and len(run.readings) == len(pces) - 2
        files = {f.name: f for f in exports(app).iterdir()}
        stem = f"adict_{KIND}_2026-10_20261118-105300"
        assert set(files) == {f"{stem}.csv", f"{stem}_refused.csv"}
        refused = read_csv(files[f"{stem}_refused.csv"])
        assert [r["id_pce"] for r in refused] == [forbidden, broken]
        assert all(r["outcome"] == "refused" and r["reason"] for r in refused)
        assert "403" in refused[0]["reason"] or "refus" in refused[0]["reason"].lower()
        assert {line["id_pce"] for line in read_csv(files[f"{stem}.csv"])} == set(pces) - {forbidden, broken}
        assert "2 refused" in text(app, "#rights-export")


async def test_a_bad_period_is_refused_by_field_and_nothing_is_sent(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, app)
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#export-periode", Input).value = "2026-13"
        await pilot.pause()
        assert "2026-13" in text(app, "#export-e-periode") and dialog.query_one("#export-go", Button).disabled
        assert not dialog.query_one("#export-e-date_fin").display
        dialog.query_one("#export-periode", Input).value = ""
        dialog.query_one("#export-date_debut", Input).value = "2020-01-01"  # beyond 5 years
        dialog.query_one("#export-date_fin", Input).value = "2026-12-01"  # after today
        await pilot.pause()
        assert "after today" in text(app, "#export-e-date_fin")
        dialog.query_one("#export-date_fin", Input).value = "2026-11-01"
        await pilot.pause()
        assert "5 years" in text(app, "#export-e-date_debut")
        assert not dialog.query_one("#export-e-date_fin").display
        assert "Fix the period" in text(app, "#export-refusal")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is dialog and data_calls(app) == []
        # informative data: 3 years
        dialog.query_one("#export-kind").value = "donnees_consos_informatives"
        dialog.query_one("#export-date_debut", Input).value = "2023-01-01"
        await pilot.pause()
        assert "3 years" in text(app, "#export-e-date_debut")
        await pilot.press("escape")  # something was typed: asks before dropping it
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, AccessRightsScreen))
        assert data_calls(app) == []


async def test_an_export_cut_short_earlier_is_told(make_adict_app):
    """A journal left by a run pupitre never finished (crash, SSH session dropped) is named
    when the operator next opens the export: what it fetched is there."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, app)
        exports(app).mkdir(parents=True)
        left = exports(app) / f"adict_{KIND}_2026-10_20261117-090000.csv.part"
        left.write_text("id_pce,kind\nGI000001,x\n")
        await open_dialog(pilot, app)
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "1 earlier export(s) stopped mid-run" in messages and left.name in messages
        assert left.exists()  # the operator's to keep or delete


async def test_cancel_mid_run_writes_a_partial_file(make_adict_app):
    """Cancel mid-run: no further call; the readings fetched are written, marked partial, and
    the PCEs not fetched listed. Until then they were in the journal, PCE by PCE."""
    app = make_adict_app()
    fast(app, per_second=4)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await open_dialog(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.exporter.run is not None and screen.exporter.run.done >= 2)
        # while it runs, what was fetched is already on disk (a crash or a dropped SSH session
        # would keep it): the journal holds the readings of every PCE read so far
        stem = f"adict_{KIND}_2026-10_20261118-105300"
        journal = exports(app) / f"{stem}.csv.part"
        run = screen.exporter.run
        fetched = {pce: len(readings) for pce, readings in run.readings.items()}
        on_disk = read_csv(journal)
        assert {line["id_pce"] for line in on_disk} >= set(fetched)  # (and maybe one more since)
        assert journal.stat().st_mode & 0o777 == 0o600
        await pilot.press("e")  # while it runs, `e` asks to stop it
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Stop the export?" in str(app.screen.question)
        await pilot.press("y")
        await wait_for(pilot, lambda: not screen.exporter.running, timeout=10)
        await pilot.pause()  # the end of the run drawn
        assert run.partial and run.stopped == "cancelled by the operator" and run.done < run.total
        assert len(data_calls(app)) == run.done  # no call after the cancel
        files = {f.name: f for f in exports(app).iterdir()}
        assert set(files) == {f"{stem}_PARTIAL.csv", f"{stem}_refused.csv"}  # the journal removed
        assert {line["id_pce"] for line in read_csv(files[f"{stem}_PARTIAL.csv"])} == set(run.readings)
        missing = read_csv(files[f"{stem}_refused.csv"])
        assert len(missing) == run.total - run.done
        assert all(r["outcome"] == "not fetched" and r["reason"] == "cancelled by the operator" for r in missing)
        assert text(app, "#rights-export").startswith("⚠ Partial export")
        assert app.runtime.store.audit_log(PROVIDER)[0][3] == "partial"


async def test_grdf_daily_quota_mid_run_stops_it_and_keeps_what_was_fetched(make_adict_app):
    app = make_adict_app()
    fast(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        sim = app.runtime.simulators["grdf_adict"]
        sim.per_day = sum(sim.day_calls.values()) + 4  # GRDF refuses the 5th data call of the day
        await open_dialog(pilot, app)
        await export_all(pilot, app, screen)
        run = screen.exporter.run
        assert len(run.readings) == 4 and run.partial and "quota" in run.stopped
        assert sim.quota_refusals == 1 and len(data_calls(app)) == 5  # nothing after the refusal
        line = text(app, "#rights-export")
        assert line.startswith("⚠ Partial export") and "quota" in line and "_PARTIAL.csv" in line
        assert app.runtime.store.audit_log(PROVIDER)[0][3] == "partial"


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24")])
def test_snapshot_export_dialog(snap_compare, make_adict_app, size):
    async def run_before(pilot) -> None:
        await open_rights(pilot, pilot.app)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExportDialog))
        pilot.app.clear_notifications()
        await pilot.pause(0.15)

    assert snap_compare(make_adict_app(), terminal_size=size, run_before=run_before)
