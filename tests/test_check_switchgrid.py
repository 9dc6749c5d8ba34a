"""`pupitre check` and the feed for Switchgrid: failed orders and consents ending soon need
attention; orders placed are followed (store), their bodies kept for a re-order."""

from __future__ import annotations

import datetime as dt

from pupitre.check import run_checks
from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.switchgrid import feeds
from pupitre.runtime import build_runtime
from pupitre.settings import Settings


def switchgrid(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["provider"] == feeds.TITLE]


def make(tmp_path, settings: Settings | None = None):
    return build_runtime(
        settings or Settings(),
        sandbox=True,
        clock=ManualClock(dt.datetime(2024, 12, 17, 10)),
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )


async def test_failed_order_and_expiring_consent_need_attention(tmp_path) -> None:
    runtime = make(tmp_path)
    sim = runtime.simulators[feeds.PROVIDER]
    session = runtime.connections[feeds.PROVIDER].session
    assert session.test_env and session.client.test_env  # always on with the sandbox
    first = await run_checks(runtime)
    assert [f["level"] for f in switchgrid(first)] == ["ok"]

    martin = next(c for c in sim.contracts if not c.loadcurve_service)
    short = await session.create_ask(
        {
            "electricityContracts": [martin.id],
            "signer": {"firstName": "A", "lastName": "B"},
            "consentDuration": "1 week",
        }
    )
    sim.accept(short.id)
    order = await session.place_order(
        {"requests": [{"type": "LOADCURVE", "prms": [martin.prm], "since": "2024-12-09", "until": "2024-12-10"}]}
    )
    assert store_followed(runtime) == [order.id]
    assert session.body(order.id)["requests"][0]["since"] == "2024-12-09"
    runtime.clock.advance(seconds=5)
    second = await run_checks(runtime)
    messages = [f["message"] for f in switchgrid(second) if f["level"] == "attention"]
    assert any(order.id[:8] in m and "SOME_REQUESTS_FAILED" in m and "No load-curve service" in m for m in messages)
    assert any(short.id[:8] in m and "expires 24/12/2024" in m for m in messages)  # 1 week < 14 days
    assert second["exit_code"] >= 1

    # a finished order is not read again; a re-order asks for the activation retry
    again = await session.place_order(session.reorder_body(order.id))
    assert session.body(again.id)["requests"][0]["enedisRetryAfterLoadcurveActivation"] is True
    data = await session.refresh()
    assert set(data.orders) == {order.id, again.id} and data.running() == [data.orders[again.id]]
    await runtime.aclose()


async def test_follow_polls_with_the_settings_backoff(tmp_path) -> None:
    settings = Settings()
    settings.switchgrid.poll_first_seconds = 3
    settings.switchgrid.poll_factor = 2
    settings.switchgrid.poll_max_seconds = 10
    runtime = make(tmp_path, settings)
    sim = runtime.simulators[feeds.PROVIDER]
    session = runtime.connections[feeds.PROVIDER].session
    ask = await session.create_ask(
        {
            "electricityContracts": [sim.contracts[0].id],
            "signer": {"firstName": "A", "lastName": "B"},
            "consentDuration": "1 year",
        }
    )
    sim.accept(ask.id)
    order = await session.place_order({"requests": [{"type": "LOADCURVE", "prms": [sim.contracts[0].prm]}]})
    waits: list[float] = []  # the request completes 30 s after the order

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        runtime.clock.advance(seconds=seconds)

    sim.requests[order.requests[0].id].done = runtime.clock.now() + dt.timedelta(seconds=30)
    done = await session.follow(order.id, sleep=sleep)
    assert done.status == "SUCCESS" and waits[:4] == [3, 6, 10, 10]
    assert session.live[order.id].status == "SUCCESS" and order.id not in session.following
    await runtime.aclose()


def store_followed(runtime) -> list[str]:
    return [key for key, _ in runtime.store.watch_list(feeds.ORDERS_LIST)]
