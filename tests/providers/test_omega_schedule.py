"""GRDF OMEGA watch-list rounds: final requests re-read rarely, the ones that matter first (issue #20)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.feeds import PROVIDER, REQUESTS_FEED, OmegaSession, Tracked, dump
from pupitre.providers.grdf_omega.models import Demande
from pupitre.providers.grdf_omega.sandbox import DOCUMENT_EXAMPLE
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)


def demande(numero: str, code: str, label: str, changed: dt.date) -> Demande:
    doc: dict[str, Any] = copy.deepcopy(DOCUMENT_EXAMPLE)
    doc["numero_demande"] = numero
    doc["statut_externe_demande"] = {"code": code, "libelle": label}
    doc["date_dernier_changement_statut_externe"] = changed.isoformat()
    return from_data(doc, Demande, provider=PROVIDER)


def runtime_at(tmp_path: Path, clock: ManualClock, settings: Settings | None = None) -> Runtime:
    return build_runtime(
        settings or Settings(),
        sandbox=True,
        clock=clock,
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )


def session_of(runtime: Runtime) -> OmegaSession:
    session = runtime.connections["grdf_omega"].session
    assert isinstance(session, OmegaSession)
    return session


@pytest.mark.parametrize(
    ("code", "label", "final"),
    [
        ("REAL", "Réalisée", True),
        ("XYZ", "Annulée", True),
        ("XYZ", "REJETEE par le distributeur", True),
        ("TRAITEE", "", True),
        ("ATTRDV", "En attente RDV", False),
        ("ENCOURS", "En cours d'analyse", False),
        ("PLANIF", "Planifiée", False),
    ],
)
def test_final_statuses_by_code_or_label(code: str, label: str, final: bool) -> None:
    assert rules.is_final(demande("WD00000A", code, label, NOW.date())) is final


def test_awaiting_an_appointment_and_recent_changes() -> None:
    assert rules.awaiting_appointment(demande("WD00000A", "ATTRDV", "En attente RDV", NOW.date()))
    assert rules.awaiting_appointment(demande("WD00000A", "X", "En attente de rendez-vous", NOW.date()))
    assert not rules.awaiting_appointment(demande("WD00000A", "PLANIF", "Planifiée", NOW.date()))
    old = demande("WD00000A", "PLANIF", "Planifiée", NOW.date() - dt.timedelta(days=rules.RECENT_CHANGE_DAYS + 1))
    assert not rules.changed_recently(old, NOW.date())
    assert rules.changed_recently(demande("WD00000A", "PLANIF", "Planifiée", NOW.date()), NOW.date())


def test_a_round_reads_what_matters_first_and_finals_rarely(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    runtime = runtime_at(tmp_path, clock)
    session = session_of(runtime)
    long_ago = NOW.date() - dt.timedelta(days=60)
    read = NOW - dt.timedelta(minutes=5)
    previous = {
        "WD00000A": Tracked("WD00000A", demande("WD00000A", "PLANIF", "Planifiée", long_ago), read_at=read),
        "WD00000B": Tracked("WD00000B", demande("WD00000B", "REAL", "Réalisée", long_ago), read_at=read),
        "WD00000C": Tracked("WD00000C"),  # never read
        "WD00000D": Tracked("WD00000D", demande("WD00000D", "ATTRDV", "En attente RDV", long_ago), read_at=read),
        "WD00000E": Tracked(
            "WD00000E", demande("WD00000E", "PLANIF", "Planifiée", NOW.date()), read_at=read - dt.timedelta(hours=1)
        ),
        "WD00000F": Tracked(
            "WD00000F", demande("WD00000F", "ANNUL", "Annulée", long_ago), read_at=NOW - dt.timedelta(hours=30)
        ),
        # a final status reached recently is followed as an active one
        "WD00000H": Tracked("WD00000H", demande("WD00000H", "REAL", "Réalisée", NOW.date()), read_at=read),
        # failed reads keep the last good data: the status read then decides
        "WD00000G": Tracked("WD00000G", demande("WD00000G", "ENCOURS", "En cours", long_ago), "HTTP 500", read),
    }
    runtime.store.watch_add("grdf_omega", list(previous), clock.now())

    plan = session.plan(previous)
    # never read; awaiting an appointment / changed recently (oldest read first); the other
    # active ones; finals whose re-read is due (F read 30 h ago; B read 5 min ago is not due)
    assert plan.numbers == ["WD00000C", "WD00000E", "WD00000D", "WD00000H", "WD00000A", "WD00000G", "WD00000F"]
    assert (plan.active, plan.final_due, plan.watched) == (6, 1, 8)
    assert plan.describe() == "round: 6 active + 1 final due, 8 watched"

    clock.advance(hours=24)  # B's rare re-read is due now, after F's (read longer ago)
    assert session.plan(previous).numbers[-2:] == ["WD00000F", "WD00000B"]
    # --max-age: only what was not read within it, finals still kept to their rare pace
    fresh = {n: Tracked(n, t.demande, t.error, clock.now()) for n, t in previous.items() if t.demande}
    fresh["WD00000B"], fresh["WD00000F"] = previous["WD00000B"], previous["WD00000F"]
    assert session.plan(fresh, max_age=600).numbers == ["WD00000C", "WD00000F", "WD00000B"]
    runtime.store.close()


def test_finals_due_wait_behind_the_active_ones(tmp_path: Path) -> None:
    """After a long stop every final request is due: a round still reads the active ones first,
    with only a few finals (the oldest read), so the active ones are not held back."""
    clock = ManualClock(NOW)
    runtime = runtime_at(tmp_path, clock)
    session = session_of(runtime)
    long_ago = NOW.date() - dt.timedelta(days=60)
    previous: dict[str, Tracked] = {}
    for i in range(100):
        numero = f"WD{i:06d}"
        status = ("PLANIF", "Planifiée") if i < 40 else ("REAL", "Réalisée")
        read = NOW - dt.timedelta(days=3, minutes=i)
        previous[numero] = Tracked(numero, demande(numero, *status, long_ago), read_at=read)
    runtime.store.watch_add("grdf_omega", list(previous), clock.now())
    plan = session.plan(previous)
    assert (plan.active, plan.final_due) == (40, 2)  # FINAL_MIN
    assert plan.numbers[40:] == ["WD000099", "WD000098"]  # the finals read longest ago
    assert plan.describe() == "round: 40 active + 2 final due, 100 watched"
    for numero in list(previous)[:40]:  # no active request left: every final due is read
        previous[numero] = Tracked(numero, demande(numero, "ANNUL", "Annulée", long_ago), read_at=clock.now())
    assert session.plan(previous).final_due == 60
    runtime.store.close()


def test_the_next_round_follows_at_once_when_a_round_outlasts_the_refresh(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    settings = Settings.from_dict({"grdf_omega": {"refresh_seconds": 60}})
    runtime = runtime_at(tmp_path, clock, settings)
    session = session_of(runtime)
    assert session.interval(clock.now()) == 60
    session._round_started = clock.now()
    clock.advance(seconds=20)
    assert session.interval(clock.now()) == 40
    clock.advance(seconds=100)  # a round of 100 active requests at 1 call/s
    assert session.interval(clock.now()) == 1.0
    runtime.store.close()


async def test_the_schedule_lives_in_the_store(tmp_path: Path) -> None:
    """A restarted process (a new runtime on the same store) reads only what is due."""
    clock = ManualClock(dt.datetime(2026, 11, 23, 10))
    first = runtime_at(tmp_path, clock)
    sim = first.simulators["grdf_omega"]
    numbers = sim.numbers()[:4]
    first.store.watch_add("grdf_omega", numbers, clock.now())
    month_ago = clock.now() - dt.timedelta(days=30)  # no recent change: the finals are final
    sim.set_status(numbers[0], "REAL", at=month_ago)
    sim.set_status(numbers[1], "ANNUL", "Annulée", at=month_ago)
    sim.set_status(numbers[2], "ATTRDV", "En attente RDV", at=month_ago)
    sim.set_status(numbers[3], "PLANIF", "Planifiée", at=month_ago)
    tracked = await session_of(first).refresh()
    assert sim.calls >= 4 and all(t.demande is not None for t in tracked.values())
    first.store.save_snapshot(REQUESTS_FEED, dump(tracked), clock.now())
    await first.aclose()

    clock.advance(minutes=2)
    again = runtime_at(tmp_path, clock)
    session = session_of(again)
    plan = session.plan(session.previous())
    assert plan.numbers == [numbers[2], numbers[3]] and plan.final_due == 0
    await again.aclose()
