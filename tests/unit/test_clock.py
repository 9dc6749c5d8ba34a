"""Clock and gas-day helpers (GRTgaz chapter 1 §2.5: gas day J = J 06:00 → J+1 06:00)."""

import datetime as dt

from pupitre.providers.core.clock import (
    PARIS,
    ManualClock,
    format_age,
    gas_day_bounds,
    gas_day_hours,
    gas_day_length_hours,
    gas_day_of,
    paris,
)


def test_gas_day_of_before_and_after_six():
    assert gas_day_of(dt.datetime(2026, 11, 22, 5, 59, tzinfo=PARIS)) == dt.date(2026, 11, 21)
    assert gas_day_of(dt.datetime(2026, 11, 22, 6, 0, tzinfo=PARIS)) == dt.date(2026, 11, 22)


def test_gas_day_of_converts_utc_to_paris():
    # 05:30 UTC in winter is 06:30 Paris: already the new gas day.
    assert gas_day_of(dt.datetime(2026, 11, 22, 5, 30, tzinfo=dt.timezone.utc)) == dt.date(2026, 11, 22)


def test_ordinary_gas_day_has_24_hours():
    hours = gas_day_hours(dt.date(2026, 11, 22))
    assert len(hours) == 24
    assert hours[0] == dt.datetime(2026, 11, 22, 6, tzinfo=PARIS)
    assert hours[-1] == dt.datetime(2026, 11, 23, 5, tzinfo=PARIS)


def test_last_sunday_of_march_gas_day_has_23_hours():
    # 2026-03-29 is the last Sunday of March: clocks go 02:00 -> 03:00. The gas day that
    # contains that night is the one starting Saturday 28 at 06:00.
    assert gas_day_length_hours(dt.date(2026, 3, 28)) == 23
    local_hours = [h.hour for h in gas_day_hours(dt.date(2026, 3, 28))]
    assert 2 not in local_hours
    assert gas_day_length_hours(dt.date(2026, 3, 29)) == 24


def test_last_sunday_of_october_gas_day_has_25_hours():
    # 2026-10-25 is the last Sunday of October: 03:00 -> 02:00, the 02h slot happens twice.
    assert gas_day_length_hours(dt.date(2026, 10, 24)) == 25
    local_hours = [h.hour for h in gas_day_hours(dt.date(2026, 10, 24))]
    assert local_hours.count(2) == 2
    start, end = gas_day_bounds(dt.date(2026, 10, 24))
    assert (end - start) == dt.timedelta(hours=24)  # wall-clock difference
    assert (end.astimezone(dt.timezone.utc) - start.astimezone(dt.timezone.utc)) == dt.timedelta(hours=25)


def test_manual_clock_frozen_and_advanced():
    clock = ManualClock(dt.datetime(2026, 11, 22, 9, 52))
    assert clock.now() == dt.datetime(2026, 11, 22, 9, 52, tzinfo=PARIS)
    clock.advance(minutes=23)
    assert clock.now().strftime("%H:%M") == "10:15"
    assert clock.now() == clock.now()


def test_manual_clock_across_dst_change():
    clock = ManualClock(dt.datetime(2026, 10, 25, 1, 30, tzinfo=PARIS))
    clock.advance(hours=2)  # 01:30 CEST + 2 h = 02:30 CET
    assert clock.now().strftime("%H:%M %Z") == "02:30 CET"


def test_paris_of_naive_is_wall_time():
    assert paris(dt.datetime(2026, 7, 1, 12)).utcoffset() == dt.timedelta(hours=2)


def test_format_age():
    assert [format_age(s) for s in (5, 90, 3 * 3600 + 5 * 60, 3 * 86400)] == ["5s", "1m", "3h05", "3d"]


def test_instant_orders_the_two_repeated_hours():
    """Python compares two Europe/Paris datetimes on their wall clock (fold ignored);
    ``instant`` compares the real instants (issue 16)."""
    from pupitre.providers.core.clock import instant

    first = dt.datetime(2025, 10, 26, 2, 40, tzinfo=PARIS, fold=0)  # CEST
    second = dt.datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=1)  # CET, 50 minutes later
    assert second < first  # the trap: wall clock
    assert instant(first) < instant(second)
    assert instant(second) - instant(first) == dt.timedelta(minutes=50)
    assert instant(dt.datetime(2025, 10, 26, 2, 30)) == instant(dt.datetime(2025, 10, 26, 2, 30, tzinfo=PARIS))


def test_sandbox_token_lives_to_its_instant_across_the_repeated_hour():
    """The simulators' token check (EDF OA RG_TOK_STA_0010, every sandbox issuer): a token
    ending at the second 02:30 is still good at the first 02:40, fifty minutes before."""
    from pupitre.providers.core.sandbox import TokenIssuer

    clock = ManualClock(dt.datetime(2025, 10, 26, 1, 30, tzinfo=PARIS))
    issuer = TokenIssuer(clock, dt.timedelta(hours=2))  # 01:30 CEST + 2 h = 02:30 CET
    token = issuer.issue("test")
    assert (token.expires_at.hour, token.expires_at.utcoffset()) == (2, dt.timedelta(hours=1))
    clock.set(dt.datetime(2025, 10, 26, 2, 40, tzinfo=PARIS, fold=0))
    assert issuer.check(f"Bearer {token.value}") is token
    clock.set(dt.datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=1))
    assert issuer.check(f"Bearer {token.value}") is None
