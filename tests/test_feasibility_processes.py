"""A GRTgaz program's feasibility is followed across real processes: the process that sent it
is killed (SIGKILL) before GRTgaz decided; after the restart — two dashboards on one store —
the follow-up resumes from the store and the verdict is audited and reported exactly once."""

from __future__ import annotations

import datetime as dt
import json
import signal
import tomllib
from pathlib import Path

from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feasibility
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.grtgaz import declaration_file, settings_dir, start


async def test_the_verdict_is_reached_once_after_a_kill_and_a_restart_on_two_processes(
    served: SandboxServer, tmp_path: Path
) -> None:
    config, data = settings_dir(served, tmp_path), tmp_path / "data"
    payload, program_id = await declaration_file(tmp_path)
    served["grtgaz"].simulator.feasibility_delay = dt.timedelta(seconds=12)  # long after the kill

    sender = start(config, data, "send", str(payload))
    assert sender.stdout is not None and sender.stderr is not None
    first = sender.stdout.readline()  # GRTgaz took it (201), read back: not decided yet
    sender.send_signal(signal.SIGKILL)
    _, err = sender.communicate(timeout=10)
    assert first and json.loads(first) == ["delivered", "delivered"], err

    store = Store(data / "pupitre.sqlite3")
    real = Settings.from_dict(tomllib.loads((config / "settings.toml").read_text(encoding="utf-8")))
    store.bind_environments({grtgaz.PROVIDER: grtgaz.environment(real.grtgaz).id})
    assert store.watch_list(feasibility.FOLLOWED) == [(program_id, None)]  # followed, not settled
    assert not [e for e in store.audit_entries(grtgaz.PROVIDER) if e.action == feasibility.AUDIT_ACTION]

    dashboards = [start(config, data, "follow") for _ in range(2)]  # the restart: two of them
    outputs = []
    for dashboard in dashboards:
        out, err = dashboard.communicate(timeout=90)
        assert dashboard.returncode == 0, err
        outputs += [json.loads(line) for line in out.splitlines()]
    [(kind, title, message)] = outputs  # one process reports it, the other says nothing
    assert (kind, title) == ("verdict", "Program ACCEPTED") and message.startswith(f"{program_id} ACCEPTED by GRTgaz")
    verdicts = [e for e in store.audit_entries(grtgaz.PROVIDER) if e.action == feasibility.AUDIT_ACTION]
    assert [(e.outcome, e.detail.split()[0]) for e in verdicts] == [("ACCEPTED", program_id)]
    assert store.watch_list(feasibility.FOLLOWED) == [(program_id, "ACCEPTED")]
