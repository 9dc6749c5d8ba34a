"""`pupitre check` for GRDF requests: a changed status or an unreadable request needs attention."""

from __future__ import annotations

import datetime as dt

from pupitre.check import run_checks
from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.runtime import build_runtime
from pupitre.settings import Settings


def omega(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["provider"] == "GRDF OMEGA"]


async def test_changed_and_unreadable_requests_need_attention(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(dt.datetime(2026, 11, 23, 10)),
        store=store,
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )
    sim = runtime.simulators["grdf_omega"]
    numbers = sim.numbers()[:2]
    for numero in numbers:  # active: re-read at every check (a final one is re-read rarely)
        sim.set_status(numero, "ENCOURS", at=runtime.clock.now() - dt.timedelta(days=30))
    store.watch_add("grdf_omega", numbers, runtime.clock.now())

    first = await run_checks(runtime)
    assert [f["level"] for f in omega(first)] == ["ok"]  # the first read is the baseline

    sim.set_status(numbers[0], "ANNUL", "Annulée")
    runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[1]}/*", "status", count=1, status=503)
    second = await run_checks(runtime)
    messages = [f["message"] for f in omega(second) if f["level"] == "attention"]
    assert any(f"{numbers[0]} → ANNUL" in m for m in messages)
    assert any(numbers[1] in m and "could not be read" in m for m in messages)
    assert second["exit_code"] >= 1
    await runtime.aclose()
