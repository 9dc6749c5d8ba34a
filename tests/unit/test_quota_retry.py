"""Quota limiter (never exceeds the rate, uses it fully, day cap survives a restart) and retries."""

import asyncio
import datetime as dt

import pytest

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.errors import AuthError, NetworkError, QuotaError, ServerError
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy, retry_read
from pupitre.providers.core.store import Store


class FakeTime:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 11, 22, 14, 0))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request, tmp_path) -> Store | None:
    """The same limits held in process memory, and in the store (shared by every process):
    a SQLite file, or a PostgreSQL database of the test run's server."""
    if request.param == "sqlite":
        return Store(tmp_path / "q.sqlite3")
    if request.param == "postgresql":
        from pupitre.providers.core.store_pg import PostgresStore

        return PostgresStore(request.getfixturevalue("postgres_url"))
    return None


async def test_rate_is_never_exceeded_and_fully_used(store):
    fake = FakeTime()
    limiter = QuotaLimiter(
        "omega:supplier",
        provider="GRDF OMEGA",
        clock=clock(),
        per_second=1,
        sleep=fake.sleep,
        monotonic=fake.monotonic,
        store=store,
    )
    stamps = []
    for _ in range(5):
        await limiter.acquire()
        stamps.append(fake.now)
    # 1 call/s: exactly one second apart, no more, no less.
    assert stamps == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_rate_window_of_n_per_second(store):
    fake = FakeTime()
    limiter = QuotaLimiter(
        "adict", provider="ADICT", clock=clock(), per_second=3, sleep=fake.sleep, monotonic=fake.monotonic, store=store
    )
    stamps = []
    for _ in range(7):
        await limiter.acquire()
        stamps.append(fake.now)
    assert stamps == [0, 0, 0, 1, 1, 1, 2]
    for i in range(len(stamps)):
        assert sum(1 for s in stamps if stamps[i] <= s < stamps[i] + 1) <= 3


async def test_concurrent_acquires_are_serialised_under_the_rate(store):
    fake = FakeTime()
    limiter = QuotaLimiter(
        "omega",
        provider="GRDF OMEGA",
        clock=clock(),
        per_second=1,
        sleep=fake.sleep,
        monotonic=fake.monotonic,
        store=store,
    )
    stamps = []

    async def call():
        await limiter.acquire()
        stamps.append(fake.now)

    await asyncio.gather(*(call() for _ in range(4)))
    assert sorted(stamps) == [0.0, 1.0, 2.0, 3.0]


async def test_margin_paces_under_the_documented_rate(store):
    """The default margin of the settings (10 %): 1 call/s is paced at one call every 1.11 s."""
    fake = FakeTime()
    limiter = QuotaLimiter(
        "omega", provider="GRDF OMEGA", clock=clock(), per_second=1, margin=0.1, **_fake(fake), store=store
    )
    stamps = []
    for _ in range(4):
        await limiter.acquire()
        stamps.append(fake.now)
    assert stamps == pytest.approx([0.0, 10 / 9, 20 / 9, 30 / 9])
    with pytest.raises(ValueError, match="margin"):
        QuotaLimiter("omega", provider="GRDF OMEGA", clock=clock(), per_second=1, margin=1.0)


def _fake(fake: FakeTime) -> dict:
    return {"sleep": fake.sleep, "monotonic": fake.monotonic}


async def test_two_limiters_on_one_store_share_the_window_and_the_day(new_store):
    """Two processes on one store (here two limiters, as two processes build them): one
    window, one day count. Cross-process with real processes: tests/test_quota_processes.py."""
    fake = FakeTime()
    a, b = (
        QuotaLimiter(
            "omega:A1", provider="GRDF OMEGA", clock=clock(), per_second=1, per_day=5, **_fake(fake), store=new_store()
        )
        for _ in range(2)
    )
    stamps = []
    for limiter in (a, b, a, b, b):
        await limiter.acquire()
        stamps.append(fake.now)
    assert stamps == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert a.used_today() == b.used_today() == 5
    with pytest.raises(QuotaError, match="daily quota of 5"):
        await a.acquire()


async def test_window_stamps_from_before_a_reboot_do_not_block(any_store):
    """The window is on the host's monotonic clock, which restarts at a reboot: stamps from
    "the future" are dropped, never waited for."""
    store = any_store
    day = dt.date(2026, 11, 22)
    assert store.quota_take("c", day=day, per_day=None, window=1, period=1.0, now=50_000.0) == 0.0
    assert store.quota_take("c", day=day, per_day=None, window=1, period=1.0, now=50_000.5) == pytest.approx(0.5)
    assert store.quota_take("c", day=day, per_day=None, window=1, period=1.0, now=12.0) == 0.0  # after a reboot


async def test_day_cap_survives_restart(new_store):
    limiter = QuotaLimiter("adict:c1", provider="ADICT", clock=clock(), per_day=3, store=new_store())
    for _ in range(3):
        await limiter.acquire()
    with pytest.raises(QuotaError, match="daily quota of 3"):
        await limiter.acquire()
    restarted = QuotaLimiter("adict:c1", provider="ADICT", clock=clock(), per_day=3, store=new_store())
    assert restarted.remaining_today() == 0
    with pytest.raises(QuotaError):
        await restarted.acquire()


async def test_day_cap_resets_the_next_day(any_store):
    c = clock()
    limiter = QuotaLimiter("adict:c1", provider="ADICT", clock=c, per_day=1, store=any_store)
    await limiter.acquire()
    c.advance(days=1)
    await limiter.acquire()
    assert limiter.used_today() == 1


async def test_retry_read_retries_retryable_errors_with_backoff():
    calls = []
    sleeps = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ServerError("boom", status=503)
        return "ok"

    async def sleep(s):
        sleeps.append(s)

    result = await retry_read(flaky, RetryPolicy(attempts=3, base_delay=1, max_delay=10), sleep=sleep, rng=lambda: 1.0)
    assert result == "ok" and len(calls) == 3
    assert sleeps == [1.0, 2.0]  # exponential: base, base*2


async def test_retry_honours_retry_after():
    sleeps = []

    async def limited():
        if not sleeps:
            raise QuotaError("slow down", status=429, retry_after=7)
        return 1

    async def sleep(s):
        sleeps.append(s)

    await retry_read(limited, RetryPolicy(), sleep=sleep, rng=lambda: 0.0)
    assert sleeps == [7]


async def test_retry_gives_up_and_never_retries_auth_errors():
    calls = []

    async def down():
        calls.append(1)
        raise NetworkError("down")

    with pytest.raises(NetworkError):
        await retry_read(down, RetryPolicy(attempts=3), sleep=lambda s: asyncio.sleep(0))
    assert len(calls) == 3

    calls.clear()

    async def refused():
        calls.append(1)
        raise AuthError("no")

    with pytest.raises(AuthError):
        await retry_read(refused, RetryPolicy(attempts=3), sleep=lambda s: asyncio.sleep(0))
    assert len(calls) == 1


def test_jitter_stays_within_bounds():
    policy = RetryPolicy(base_delay=0.5, max_delay=4)
    err = ServerError("x")
    for attempt in range(1, 8):
        assert 0 <= policy.delay(attempt, err) <= 4


async def test_a_slot_counts_from_the_answer(store):
    """The API counts a call when it arrives, before its answer: the next slot is a period
    after the answer, so a slow trip (a new connection, a loaded machine) cannot bring two
    arrivals closer than the period."""
    fake = FakeTime()
    limiter = QuotaLimiter("omega", provider="GRDF OMEGA", clock=clock(), per_second=1, **_fake(fake), store=store)
    stamp = await limiter.acquire()
    assert stamp == 0.0
    fake.now = 0.7  # the answer comes 0.7 s later
    limiter.answered(stamp)
    await limiter.acquire()
    assert fake.now == pytest.approx(1.7)
    assert await QuotaLimiter("adict", provider="ADICT", clock=clock(), per_day=5, store=store).acquire() is None
