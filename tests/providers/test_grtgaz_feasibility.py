"""GRTgaz program rules: every worked example of the document, one test per rule and per code.

Worked examples: §3.2.2 (Quimper, 10h17), §3.2.2.1 examples 1 and 2, §3.2.3 examples
n°1 and n°2, chapter 2 §7 (14h35, 14h08). Quimper is not in the §3.2.1 table; the
examples get a one-tranche site of that name.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import FeasibilityStatus, Flex, IndicatorStatus, SiteIndicators
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
from pupitre.providers.grtgaz.sites import BRETAGNE, Site, site_by_id

GREEN, RED, GREY = IndicatorStatus.GREEN, IndicatorStatus.RED, IndicatorStatus.GREY
ACCEPTED, REFUSED = FeasibilityStatus.ACCEPTED, FeasibilityStatus.REFUSED
Q_MINUS, PARTIAL, Q_PLUS = Flex.Q_TO_QMINUS, Flex.PARTIAL, Flex.Q_TO_QPLUS
QUIMPER = Site("LI9001", "Quimper", BRETAGNE, "example", 1, contract="GFQUIMP1", q_min=0.0, q_max=1_000_000.0)
DK6 = site_by_id("LI1001")  # 2 tranches
DAY = dt.date(2019, 11, 18)
SLOT = {hour: (hour - 6) % 24 for hour in range(24)}  # wall-clock hour → slot index


def at(hour: int, minute: int = 0, day: int = 18, month: int = 11, year: int = 2019) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def program(default: float, **by_hours: float) -> list[float | None]:
    """24 values: ``default``, with ``h13_14=90`` setting 13h up to (not incl.) 14h."""
    values: list[float | None] = [default] * 24
    for key, value in by_hours.items():
        start, end = (int(part) for part in key[1:].split("_"))
        hour = start
        while hour != end:
            values[SLOT[hour]] = value
            hour = (hour + 1) % 24
    return values


class Indicators:
    """The site's indicators as the simulator publishes them (H-8, H+15, §3.2.2.1)."""

    def __init__(self, site: Site = QUIMPER) -> None:
        self.site = site
        self.sim = GrtgazSimulator(ManualClock(at(6)), scenario="calm", sites=(site,), seed_programs=False)

    def turn(self, flex: Flex, status: IndicatorStatus, published: dt.datetime) -> Indicators:
        self.sim.schedule(self.site.site_id, flex, status, published)
        return self

    def at(self, moment: dt.datetime) -> SiteIndicators:
        return self.sim.site_indicators(self.site.site_id, moment)


def context(
    indicators: SiteIndicators | None,
    *,
    site: Site = QUIMPER,
    reference: float = 100.0,
    accepted: tuple[rules.AcceptedProgram, ...] | None = None,
    **kwargs,
) -> rules.ProgramContext:
    """The site's day with one program of ``reference`` accepted J-1 15:00 (the examples' start)."""
    if accepted is None:
        accepted = (rules.AcceptedProgram(1, at(15, day=17), tuple([reference] * 24)),)
    return rules.ProgramContext(site, DAY, indicators, accepted, versions=frozenset({1}), **kwargs)


def judge(values: list[float | None], moment: dt.datetime, indicators: Indicators, **kwargs) -> rules.ProgramCheck:
    return rules.precheck(context(indicators.at(moment), **kwargs), values, now=moment)


# == worked examples ====================================================================


def test_example_3_2_2_quimper_applicable_indicators() -> None:
    """§3.2.2: 100 declared J-1; at 10h17, 110 for 11h-12h and 90 for 12h-5h: Q→Q+ and
    partial apply from 11h to 12h, Q→Q- from 12h to 5h."""
    values = program(100, h11_12=110, h12_5=90)
    check = judge(values, at(10, 17), Indicators())
    hours = {h.start.hour: h for h in check.hours}
    assert hours[11].flexes == (Q_PLUS, PARTIAL)
    assert all(hours[h].flexes == (Q_MINUS,) for h in [*range(12, 24), *range(0, 5)])
    assert hours[10].flexes == () and hours[5].flexes == ()  # unchanged
    assert all(h.flexes == () for h in check.hours if h.start.hour in range(6, 10))  # past
    assert check.outcome is rules.Outcome.ACCEPTED  # all green


def test_example_3_2_2_1_n1_unfavourable_change_waits_for_h_plus_15() -> None:
    """§3.2.2.1 ex. 1: Q→Q+ red since 09h52, partial red published 10h52: programs
    received before 11h15 are judged with partial still green."""
    indicators = Indicators().turn(Q_PLUS, RED, at(9, 52)).turn(PARTIAL, RED, at(10, 52))
    values = program(100, h11_17=110)  # +60 over the window: within 0.8 GWh
    before = judge(values, at(11, 14), indicators)
    assert before.outcome is rules.Outcome.ACCEPTED
    assert before.indicators[PARTIAL].applicable is GREEN
    assert (before.indicators[PARTIAL].next, before.indicators[PARTIAL].next_at) == (RED, at(11, 15))
    hour = next(h for h in before.hours if h.start.hour == 11)
    assert (hour.current, hour.next) == (RED, None)  # Q→Q+: red, nothing announced
    assert hour.indicators[1].applicable is GREEN and hour.indicators[1].next is RED
    assert hour.rule == "§3.2.3.2 2.a.i"
    after = judge(values, at(11, 15), indicators)
    assert after.outcome is rules.Outcome.REFUSED
    assert [c.code for c in after.comments] == [rules.HMS_PROFILE_NOT_RESPECT_QMAX_DELAY]


def test_example_3_2_2_1_n2_favourable_change_applies_at_once() -> None:
    """§3.2.2.1 ex. 2: both red at 09h52; partial green at 10h52: programs received
    from 10h52 use it, without waiting for 11h15."""
    indicators = (
        Indicators().turn(Q_PLUS, RED, at(9, 52)).turn(PARTIAL, RED, at(9, 52)).turn(PARTIAL, GREEN, at(10, 52))
    )
    values = program(100, h12_16=120)
    assert judge(values, at(10, 51), indicators).outcome is rules.Outcome.REFUSED
    check = judge(values, at(10, 52), indicators)
    assert check.outcome is rules.Outcome.ACCEPTED
    assert check.indicators[PARTIAL].applicable is GREEN


def test_example_3_2_3_n1_refused() -> None:
    """§3.2.3 ex. n°1: Q→Q+ red from 09h52, partial red from 10h52; at 12h05, 90 for
    13h-14h and 110 for 14h-20h: rejected."""
    indicators = Indicators().turn(Q_PLUS, RED, at(9, 52)).turn(PARTIAL, RED, at(10, 52))
    check = judge(program(100, h13_14=90, h14_20=110), at(12, 5), indicators)
    assert check.outcome is rules.Outcome.REFUSED
    assert check.feasibility.window == tuple(SLOT[h] for h in range(11, 18))  # H-1 … H+5
    hours = {h.start.hour: h for h in check.hours}
    assert hours[13].ok and hours[13].rule == "§3.2.3.1"  # decrease, Q→Q- green
    assert [h for h in range(14, 20) if not hours[h].ok] == [14, 15, 16, 17]
    assert hours[14].rule == "§3.2.3.2 2.a.ii" and hours[14].code == rules.HMS_PROFILE_NOT_RESPECT_QMAX_DELAY
    assert hours[18].ok and hours[18].rule == rules.RULE_OUTSIDE  # beyond H+5
    assert check.feasibility.comment == (
        "HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: Le programme ne respecte pas le délai de prévenance sur "
        "les heures 14h, 15h, 16h, 17h. Indicateur de Flexibilité Qà Q+ rouge"
    )


def test_example_3_2_3_n2_accepted() -> None:
    """§3.2.3 ex. n°2: Q→Q- red from 09h52; at 12h05, 110 for 13h-18h and 90 for
    18h-20h: validated (the decreases lie beyond H+5)."""
    indicators = Indicators().turn(Q_MINUS, RED, at(9, 52))
    check = judge(program(100, h13_18=110, h18_20=90), at(12, 5), indicators)
    assert check.outcome is rules.Outcome.ACCEPTED
    assert check.feasibility.comment == "Programme accepté"
    hours = {h.start.hour: h for h in check.hours}
    assert hours[18].flexes == (Q_MINUS,) and hours[18].current is RED and hours[18].ok


@pytest.mark.parametrize(("received", "first"), [(at(14, 35), at(14)), (at(14, 8), at(13))])
def test_example_7_first_adjustable_slot(received: dt.datetime, first: dt.datetime) -> None:
    """Chapter 2 §7: declared at 14h35 → from the 14h slot; at 14h08 → from the 13h slot."""
    assert rules.first_adjustable_slot(received) == first
    assert rules.first_adjustable_index(DAY, received) == SLOT[first.hour]
    accepted = (
        rules.AcceptedProgram(1, at(15, day=17), tuple([100.0] * 24)),
        rules.AcceptedProgram(2, received, tuple([200.0] * 24)),
    )
    rebuilt = rules.rebuild(DAY, accepted)
    assert rebuilt is not None
    assert rebuilt.index(200.0) == SLOT[first.hour] and set(rebuilt[SLOT[first.hour] :]) == {200.0}


# == program ids and versions (§2.2) ===================================================


def test_program_id_round_trip_and_next_version() -> None:
    assert rules.program_id(DAY, "LI1234", "RNE.GSTF.HKL.01", 10) == "20191118-LI1234-RNE.GSTF.HKL.01-10"
    parsed = rules.parse_program_id("20200525-LI1234-RNE.GSTF.HKL.01-10")
    assert parsed == rules.ProgramId(dt.date(2020, 5, 25), "LI1234", "RNE.GSTF.HKL.01", 10)
    assert str(parsed) == "20200525-LI1234-RNE.GSTF.HKL.01-10"
    assert rules.parse_program_id("20200311-LI1788-GF-CC-2").contract == "GF-CC"
    for bad in (
        "20200311-LI1788-GFCCGE04-",
        "20201311-LI1788-X-1",
        "20200311-LX1788-X-1",
        "20200311-LI1788-X-0",
        "20200311-LI1788-X-01",
        "x",
        "",
    ):
        assert rules.parse_program_id(bad) is None, bad
    ids = [
        "20191118-LI1001-GFCCGE01-3",
        "20191118-LI1001-GFCCGE01-7",
        "20191119-LI1001-GFCCGE01-9",
        "20191118-LI1002-GFCCGE02-12",
        "garbage",
    ]
    assert rules.next_version(ids, site_id="LI1001", gas_day=DAY) == 8
    assert rules.next_version([]) == 1 and rules.next_version([2, 5]) == 6
    assert rules.next_program_id(DAY, "LI1001", "GFCCGE01", ids) == "20191118-LI1001-GFCCGE01-8"
    assert rules.rebuilt_program_id(DAY, "LI1001") == "20191118-LI1001"
    with pytest.raises(ValueError):
        rules.program_id(DAY, "LI1001", "X", 0)


@pytest.mark.parametrize(
    ("profile_id", "versions", "code"),
    [
        ("20191118-LI1001-GFCCGE01-4", {1, 2, 3}, None),
        ("20191118-LI1001-GFCCGE01-3", {1, 2, 3}, rules.HMS_PROFILE_ID_ALREADY_EXISTS),
        ("20191118-LI1001-GFCCGE01-2", {3}, rules.HMS_PROFILE_VERSION_NOT_INCREASING),
        ("20191118-LI1001-GFCCGE01", set(), rules.BAD_HMS_PROFILE_ID),
        ("20191119-LI1001-GFCCGE01-1", set(), rules.BAD_HMS_PROFILE_ID),  # another day
        ("20191118-LI1002-GFCCGE01-1", set(), rules.BAD_HMS_PROFILE_ID),  # another site
        ("20191118-LI1001-GFCCGE02-1", set(), rules.BAD_HMS_PROFILE_ID),  # another contract
    ],
)
def test_check_profile_id(profile_id: str, versions: set[int], code: str | None) -> None:
    """§2.2: format, agreement with site/day/contract, a new and higher version."""
    issues = rules.check_profile_id(profile_id, site_id="LI1001", gas_day=DAY, contract="GFCCGE01", versions=versions)
    assert [i.code for i in issues] == ([code] if code else [])
    if issues:
        assert issues[0].section == "§2.2" and issues[0].profile_id == profile_id


# == technical checks (§2.3-2.6, §13.6) =================================================


def test_check_contract() -> None:
    """§2.3: unknown site; contract not the site's; a configured contract table."""
    assert [i.code for i in rules.check_contract(None, "X")] == [rules.UNKNOWN_HMS_SITE]
    assert [i.code for i in rules.check_contract(DK6, "GFCCGE02")] == [rules.CONTRACT_NOT_MATCHING_SITE]
    assert rules.check_contract(DK6, "GFCCGE01") == []
    assert rules.check_contract(DK6, "OTHER", contracts={"LI1001": {"OTHER", "GFCCGE01"}}) == []


def test_check_quantities_bounds_with_tolerance() -> None:
    """§2.4: within [Qmin, Qmax] widened by the tolerance; the hours are named."""
    values = [100.0] * 24
    values[SLOT[9]] = 1050.0
    kwargs = dict(q_min=50.0, q_max=1000.0)
    issues = rules.check_quantities(values, DAY, **kwargs)
    assert [(i.code, i.slots) for i in issues] == [(rules.EXEEDED_QMIN_QMAX, (SLOT[9],))]
    assert issues[0].message == "Pour les heures 09h dépassement de la valeur [Qmin/Qmax]"
    assert rules.check_quantities(values, DAY, tolerance=0.05, **kwargs) == []
    values[SLOT[9]] = 1050.1
    assert rules.check_quantities(values, DAY, tolerance=0.05, **kwargs)[0].code == rules.EXEEDED_QMIN_QMAX
    values[SLOT[9]] = 47.5  # 50 × 0.95
    assert rules.check_quantities(values, DAY, tolerance=0.05, **kwargs) == []
    values[SLOT[9]] = -1.0
    assert rules.check_quantities(values, DAY, tolerance=0.05, **kwargs)[0].code == rules.EXEEDED_QMIN_QMAX


def test_check_quantities_count_and_missing_values() -> None:
    """§13.2: 24 values (BAD_NUMBER_QUANTITIES); no missing value for the hours to come
    (BAD_QUANTITIES), while a missing past value is no issue."""
    assert [i.code for i in rules.check_quantities([1.0] * 23, DAY, q_min=0, q_max=10)] == [rules.BAD_NUMBER_QUANTITIES]
    assert [i.code for i in rules.check_quantities([1.0] * 25, DAY, q_min=0, q_max=10)] == [rules.BAD_NUMBER_QUANTITIES]
    values: list[float | None] = [1.0] * 24
    values[2] = None
    values[10] = float("nan")
    issues = rules.check_quantities(values, DAY, q_min=0, q_max=10)
    assert [(i.code, i.slots) for i in issues] == [(rules.BAD_QUANTITIES, (2, 10))]
    past = rules.check_quantities(values, DAY, q_min=0, q_max=10, first_adjustable=5)
    assert [(i.code, i.slots) for i in past] == [(rules.BAD_QUANTITIES, (10,))]


def test_23_and_25_hour_days() -> None:
    """§13.2: always 24 slots. 23-hour day: « ajouter une tranche (celle de 3h) avec un
    Programme horaire à 0 », read literally — the added slot starts at 03:00 like the real
    03:00 after it, 0 by default, never refused on pupitre's own reading; 25-hour day: the
    02:00 slot holds the larger of the two 02:00 hours."""
    spring, autumn = dt.date(2025, 3, 29), dt.date(2025, 10, 25)
    assert rules.day_slots(spring).length_hours == 23 and not rules.day_slots(spring).exists[20]
    assert rules.day_slots(spring).added == 20
    assert rules.day_slots(autumn).length_hours == 25 and all(rules.day_slots(autumn).exists)
    assert rules.day_slots(autumn).added is None and rules.day_slots(DAY).length_hours == 24
    values = [1.0] * 24  # the added slot not at 0: the document's wording is GRTgaz's to judge
    assert rules.check_quantities(values, spring, q_min=0, q_max=10) == []
    assert rules.declared_slots([float(i) for i in range(23)], spring)[19:22] == [19.0, 0.0, 20.0]
    assert rules.declared_slots([float(i) for i in range(25)], autumn)[19:22] == [19.0, 21.0, 22.0]
    with pytest.raises(ValueError):
        rules.declared_slots([1.0] * 24, spring)
    labels = rules.day_slots(spring).labels
    assert [(label.day, label.hour) for label in labels[19:22]] == [(30, 1), (30, 3), (30, 3)]
    assert all(label.astimezone(dt.timezone.utc).astimezone(PARIS) == label for label in labels)  # real instants
    assert rules.check_slot_times(labels, spring) == []
    autumn_labels = rules.day_slots(autumn).labels
    assert autumn_labels[20].utcoffset() == dt.timedelta(hours=2)  # the first 02:00 (CEST)
    assert rules.check_slot_times(autumn_labels, autumn) == []
    assert "celle de 3h" in rules.dst_assumption(spring) and "GRTgaz decides" in rules.dst_assumption(spring)
    assert "02:00" in rules.dst_assumption(autumn) and rules.dst_assumption(DAY) == ""


def test_check_slot_times() -> None:
    """§2.5 « comprises entre J 06h00 et J+1 05h00 », compared as instants, else
    HOURS_NOT_BETWEEN_START_END."""
    labels = list(rules.day_slots(DAY).labels)
    assert rules.check_slot_times(labels, DAY) == []
    shifted = [label + dt.timedelta(days=1) for label in labels]
    issues = rules.check_slot_times(shifted, DAY)
    assert issues[0].code == rules.HOURS_NOT_BETWEEN_START_END and len(issues[0].slots) == 24
    late = labels[:]
    late[23] = labels[23] + dt.timedelta(hours=1)  # J+1 06:00: the next gas day
    assert rules.check_slot_times(late, DAY)[0].slots == (23,)
    utc = [label.astimezone(dt.timezone.utc) for label in labels]  # same instants, other offset
    assert rules.check_slot_times(utc, DAY) == []


def test_check_gas_day_past() -> None:
    assert rules.check_gas_day(DAY, at(5, 59, day=19)) == []
    assert [i.code for i in rules.check_gas_day(DAY, at(6, 0, day=19))] == [rules.PAST_GAS_DAY]


def test_validate_declaration_is_by_batch() -> None:
    """§2.6: every issue of every program is reported; a duplicate id in the batch too."""
    ctx = rules.ProgramContext(DK6, DAY)
    good = rules.input_profile(ctx, [1000.0] * 24, declared_at=at(15, day=17))
    bad_unit = msgspec.structs.replace(good, unit="MWh", hmsProfileId="20191118-LI1001-GFCCGE01-2")
    unknown = msgspec.structs.replace(good, hmsSiteId="LI9999", hmsProfileId="20191118-LI9999-X-1")
    sites = {DK6.site_id: DK6}
    now = at(15, day=17)
    assert rules.validate_declaration([good], now=now, sites=sites) == []
    issues = rules.validate_declaration([good, bad_unit, unknown, good], now=now, sites=sites)
    assert [(i.code, i.profile_id) for i in issues] == [
        (rules.BAD_UNIT, "20191118-LI1001-GFCCGE01-2"),
        (rules.UNKNOWN_HMS_SITE, "20191118-LI9999-X-1"),
        (rules.HMS_PROFILE_ID_ALREADY_EXISTS, good.hmsProfileId),
    ]
    assert [i.code for i in rules.validate_declaration([], now=now, sites=sites)] == [rules.BAD_FORMAT]
    stored = {(DK6.site_id, DAY): {1}}
    assert [i.code for i in rules.validate_declaration([good], now=now, sites=sites, versions=stored)] == [
        rules.HMS_PROFILE_ID_ALREADY_EXISTS
    ]
    short = msgspec.structs.replace(good, hmsHourlyProfile=good.hmsHourlyProfile[:23])
    assert [i.code for i in rules.validate_declaration([short], now=now, sites=sites)] == [rules.BAD_NUMBER_QUANTITIES]


def test_every_code_has_a_message_section_and_explanation() -> None:
    for code in rules.MESSAGES:
        assert code in rules.EXPLANATIONS and code in rules.SECTIONS
    assert rules.DOCUMENTED_CODES <= set(rules.MESSAGES)


# == feasibility rules (§3, §4) ==========================================================


def test_3_1_accepted_without_control_before_j_minus_1_01h() -> None:
    indicators = Indicators().turn(Q_MINUS, RED, at(0, 0, day=17)).turn(Q_PLUS, RED, at(0, 0, day=17))
    values = program(100, h6_12=0)
    check = judge(values, at(0, 59, day=17), indicators, accepted=())
    assert check.outcome is rules.Outcome.ACCEPTED and check.feasibility.rule == "§3.1"
    assert rules.auto_accept_before(DAY) == at(1, 0, day=17)
    # From J-1 01:00 programs are controlled; the window (J-1 0h … 6h) lies before day J.
    controlled = judge(values, at(1, 0, day=17), indicators, accepted=())
    assert controlled.outcome is rules.Outcome.ACCEPTED and controlled.feasibility.rule != "§3.1"
    assert controlled.feasibility.window == ()


def test_green_indicators_accept_any_change() -> None:
    """§3.2.3.1: green → conform."""
    check = judge(program(100, h11_17=0, h17_18=900), at(12, 5), Indicators())
    assert check.outcome is rules.Outcome.ACCEPTED
    assert {h.rule for h in check.hours if h.in_window and h.delta} == {"§3.2.3.1"}


@pytest.mark.parametrize(
    ("received", "rule", "hour_h_minus_1_checked"),
    [(at(12, 14), "§3.2.3.2 1.a", True), (at(12, 15), "§3.2.3.2 1.b", False)],
)
def test_q_minus_red_windows(received: dt.datetime, rule: str, hour_h_minus_1_checked: bool) -> None:
    """§3.2.3.2 1: Q→Q- red refuses any lower hour in H-1…H+5 (before H+15, 7 slots)
    or H…H+5 (after, 6 slots)."""
    indicators = Indicators().turn(Q_MINUS, RED, at(9, 52))
    window = rules.control_window(DAY, received)
    assert len(window) == (7 if hour_h_minus_1_checked else 6)
    lower_11 = judge(program(100, h11_12=99), received, indicators)
    assert (lower_11.outcome is rules.Outcome.REFUSED) is hour_h_minus_1_checked
    lower_17 = judge(program(100, h17_18=99), received, indicators)
    assert lower_17.outcome is rules.Outcome.REFUSED
    failing = lower_17.failing[0]
    assert (failing.start, failing.rule, failing.code) == (at(17), rule, rules.HMS_PROFILE_NOT_RESPECT_Q0_DELAY)
    assert "heures 17h" in lower_17.feasibility.comment
    assert judge(program(100, h18_19=99), received, indicators).outcome is rules.Outcome.ACCEPTED


@pytest.mark.parametrize(("received", "rule"), [(at(12, 5), "§3.2.3.2 2.a.ii"), (at(12, 20), "§3.2.3.2 2.b.ii")])
def test_q_plus_and_partial_red_refuse_any_increase(received: dt.datetime, rule: str) -> None:
    """§3.2.3.2 2.ii: Q→Q+ and partial red: an hour higher in the window refuses."""
    indicators = Indicators().turn(Q_PLUS, RED, at(9, 52)).turn(PARTIAL, RED, at(9, 52))
    check = judge(program(100, h14_15=100.001), received, indicators)
    assert check.outcome is rules.Outcome.REFUSED and check.failing[0].rule == rule
    assert judge(program(100, h14_15=99), received, indicators).outcome is rules.Outcome.ACCEPTED


@pytest.mark.parametrize(("received", "rule"), [(at(12, 5), "§3.2.3.2 2.a.i"), (at(12, 20), "§3.2.3.2 2.b.i")])
def test_partial_tolerance_0_8_gwh_per_tranche(received: dt.datetime, rule: str) -> None:
    """§3.2.3.2 2.i: Q→Q+ red, partial green: the window total may exceed the reference
    total by 0,8 GWh per tranche (DK6: 2 tranches → 1,6 GWh), not more."""
    indicators = Indicators(DK6).turn(Q_PLUS, RED, at(9, 52))
    base = 500_000.0
    up = 400_000.0  # four hours × 400 MWh = 1,6 GWh
    exact = program(base, h13_17=base + up)
    check = judge(exact, received, indicators, site=DK6, reference=base)
    assert check.outcome is rules.Outcome.ACCEPTED
    budget = check.feasibility.partial
    assert budget is not None and budget.allowance == 1_600_000 and budget.remaining == pytest.approx(0)
    assert {h.rule for h in check.hours if h.delta and h.in_window} == {rule}
    over = program(base, h13_17=base + up, h17_18=base + 1)
    refused = judge(over, received, indicators, site=DK6, reference=base)
    assert refused.outcome is rules.Outcome.REFUSED
    assert [c.code for c in refused.comments] == [rules.HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE]
    # a decrease elsewhere in the window makes room (the total counts, §3.2.3.2 2.i)
    assert (
        judge(
            program(base, h13_17=base + up, h17_18=base + 1, h16_17=base + up - 1),
            received,
            indicators,
            site=DK6,
            reference=base,
        ).outcome
        is rules.Outcome.ACCEPTED
    )
    one_tranche = judge(exact, received, Indicators(QUIMPER).turn(Q_PLUS, RED, at(9, 52)), reference=base)
    assert one_tranche.outcome is rules.Outcome.REFUSED


def test_partial_tolerance_counts_from_the_reference_before_h_minus_1() -> None:
    """§3.2.3.2 2.a.i: compared with the last program confirmed before hour H-1 began:
    an increase accepted at 11h20 does not renew the allowance for a program at 12h05."""
    indicators = Indicators().turn(Q_PLUS, RED, at(9, 52))
    base = 100_000.0
    first = (
        rules.AcceptedProgram(1, at(15, day=17), tuple([base] * 24)),
        rules.AcceptedProgram(2, at(11, 20), tuple(program(base, h13_17=base + 200_000))),
    )
    values = program(base, h13_17=base + 200_000, h17_18=base + 100_000)  # 900 MWh over the first
    check = judge(values, at(12, 5), indicators, accepted=first)
    assert check.outcome is rules.Outcome.REFUSED  # 0,9 GWh over the reference of 11h00
    # After 12h15 the window starts at 12h; the reference before 12h includes v2.
    assert judge(values, at(12, 20), indicators, accepted=first).outcome is rules.Outcome.ACCEPTED


def test_grey_refuses_for_shortage() -> None:
    """§4: GREY (shortage) → refused, HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR."""
    indicators = Indicators()
    indicators.sim.declare_shortage(DAY)
    check = judge(program(100), at(12, 5), indicators)
    assert check.outcome is rules.Outcome.REFUSED
    assert [c.code for c in check.comments] == [rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR]
    assert check.feasibility.comment.endswith("Le programme est rejeté dû à une pénurie de Flexibilité")
    assert all(not h.ok for h in check.hours if h.adjustable)


def test_control_window_edges() -> None:
    assert rules.control_window(DAY, at(12, 5)) == tuple(SLOT[h] for h in range(11, 18))
    assert rules.control_window(DAY, at(12, 15)) == tuple(SLOT[h] for h in range(12, 18))
    assert rules.control_window(DAY, at(3, 20, day=19)) == (SLOT[3], SLOT[4], SLOT[5])  # day ends 06:00
    assert rules.control_window(DAY, at(4, 10)) == (0, 1, 2, 3)  # 06h … 09h of day J
    assert rules.control_window(DAY, at(20, 0, day=17)) == ()


# == rebuilt program (chapter 2 §5-9) ====================================================


def test_rebuild_rules() -> None:
    def p(version: int, when: dt.datetime, value: float) -> rules.AcceptedProgram:
        return rules.AcceptedProgram(version, when, tuple([value] * 24))

    assert rules.rebuild(DAY, []) is None
    # §5: before J, whole programs; the last one wins.
    assert rules.rebuild(DAY, [p(1, at(15, day=17), 1), p(2, at(4, 0), 2)]) == (2.0,) * 24
    # §6/§8: during J, from the current hour on; past hours keep earlier values.
    rebuilt = rules.rebuild(DAY, [p(1, at(15, day=17), 1), p(2, at(10, 20), 2), p(3, at(12, 5), 3)])
    assert rebuilt == (1.0,) * 4 + (2.0,) * 1 + (3.0,) * 19
    # as_of: only what was received before (the reference "before hour H-1").
    assert rules.rebuild(DAY, [p(1, at(15, day=17), 1), p(2, at(10, 20), 2)], as_of=at(10, 20)) == (1.0,) * 24
    # §9: in one declaration the highest version wins, whatever the order.
    same = at(12, 20)
    assert rules.rebuild(DAY, [p(1, at(15, day=17), 1), p(3, same, 3), p(2, same, 2)])[6:] == (3.0,) * 18
    # a null value keeps the previous one
    holes = rules.AcceptedProgram(4, at(15, day=17), tuple([None] * 12 + [5.0] * 12))
    assert rules.rebuild(DAY, [p(1, at(14, day=17), 1), holes]) == (1.0,) * 12 + (5.0,) * 12
    # the day over: nothing is adjustable any more
    assert rules.rebuild(DAY, [p(1, at(15, day=17), 1), p(2, at(7, 0, day=19), 2)]) == (1.0,) * 24


def test_accepted_programs_from_api_objects() -> None:
    sim = GrtgazSimulator(ManualClock(at(12, 5)), scenario="calm", sites=(DK6,), seed_programs=False)
    ctx = sim.program_context(DK6.site_id, DAY)
    profile = rules.input_profile(ctx, [1000.0] * 24, declared_at=at(12, 5))
    assert sim.declare([profile]) == []
    read = sim.site_hms_profiles(DK6.site_id, DAY)
    accepted = rules.accepted_programs(read)
    assert accepted == (rules.AcceptedProgram(1, at(12, 5), tuple([1000.0] * 24)),)


# == comments and error messages ==========================================================


def test_parse_reasons_reads_prefixed_and_bare_messages() -> None:
    text = (
        "HMS_PROFILE_NOT_RESPECT_Q0_DELAY: Le programme ne respecte pas le délai de prévenance sur "
        "les heures 13h. Indicateur de Flexibilité Qà Q- rouge | Le programme est rejeté car il ne "
        "respecte pas le volume de Flexibilité partielle accordé | something else"
    )
    assert rules.parse_reasons(text) == [
        (
            rules.HMS_PROFILE_NOT_RESPECT_Q0_DELAY,
            "Le programme ne respecte pas le délai de prévenance sur "
            "les heures 13h. Indicateur de Flexibilité Qà Q- rouge",
        ),
        (
            rules.HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE,
            "Le programme est rejeté car il ne respecte pas le volume de Flexibilité partielle accordé",
        ),
        ("", "something else"),
    ]
    assert rules.comment_codes("Pour les heures 07h, 08h dépassement de la valeur [Qmin/Qmax]") == [
        rules.EXEEDED_QMIN_QMAX
    ]
    assert rules.comment_codes("Programme accepté") == [rules.HMS_PROFILE_ACCEPTED]
    assert rules.comment_codes("") == []


# == the editor's pre-check ==============================================================


def test_precheck_reports_technical_issues_per_hour() -> None:
    values = program(100, h9_10=2_000_000)
    values[SLOT[15]] = None
    check = judge(values, at(12, 5), Indicators())
    assert check.outcome is rules.Outcome.REJECTED and not check.ok
    assert [i.code for i in check.issues] == [rules.BAD_QUANTITIES, rules.EXEEDED_QMIN_QMAX]
    hours = {h.start.hour: h for h in check.hours}
    assert (hours[9].ok, hours[9].code, hours[9].rule) == (False, rules.EXEEDED_QMIN_QMAX, "§2.4")
    assert not hours[9].adjustable  # past, yet still a technical error (§2.4: every value)
    assert (hours[15].ok, hours[15].code) == (False, rules.BAD_QUANTITIES)
    assert check.summary.startswith("would be REJECTED: ")


def test_precheck_defaults_and_unknown_indicators() -> None:
    ctx = context(None)
    check = rules.precheck(ctx, program(100, h14_15=101), now=at(12, 5))
    assert check.profile_id == "20191118-LI9001-GFQUIMP1-2"
    assert not check.indicators_known and check.outcome is rules.Outcome.REFUSED  # taken as red
    assert "indicators" not in check.summary or "unknown" in check.summary
    unchanged = rules.precheck(ctx, program(100), now=at(12, 5))
    assert unchanged.ok and unchanged.summary.endswith("(indicators unknown: taken as red)")
    taken = rules.precheck(ctx, program(100), now=at(12, 5), profile_id="20191118-LI9001-GFQUIMP1-1")
    assert [i.code for i in taken.issues] == [rules.HMS_PROFILE_ID_ALREADY_EXISTS]


def test_precheck_matches_the_simulators_decision() -> None:
    """The editor and the simulator share :func:`rules.assess`: same status, same comment."""
    indicators = Indicators(DK6).turn(Q_PLUS, RED, at(9, 52)).turn(PARTIAL, RED, at(10, 52))
    sim = indicators.sim
    sim.clock.set(at(12, 5))
    base = [500_000.0] * 24
    sim.clock.set(at(15, day=17))
    assert (
        sim.declare([rules.input_profile(sim.program_context(DK6.site_id, DAY), base, declared_at=at(15, day=17))])
        == []
    )
    sim.clock.set(at(12, 5))
    ctx = sim.program_context(DK6.site_id, DAY)
    values = program(500_000, h13_14=400_000, h14_20=600_000)
    check = rules.precheck(ctx, values, now=at(12, 5))
    assert sim.declare([rules.input_profile(ctx, values, declared_at=at(12, 5))]) == []
    stored = sim.stored(check.profile_id)
    assert stored is not None
    assert stored.feasibility.status is REFUSED and check.outcome is rules.Outcome.REFUSED
    assert stored.feasibility.comment == check.feasibility.comment


def test_context_cache_is_not_shared_by_copies() -> None:
    import msgspec

    ctx = context(None)
    assert ctx.reference_at(at(12)) == (100.0,) * 24
    other = msgspec.structs.replace(ctx, accepted=(rules.AcceptedProgram(1, at(15, day=17), (5.0,) * 24),))
    assert other.reference_at(at(12)) == (5.0,) * 24


def test_added_slot_of_the_23_hour_day_is_explained_not_refused() -> None:
    """§13.2 is ambiguous on « celle de 3h »: the added slot is said, never refused."""
    spring = dt.date(2025, 3, 29)
    ctx = rules.ProgramContext(QUIMPER, spring, None, (), reference=(100.0,) * 20 + (0.0,) + (100.0,) * 3)
    values = [100.0] * 24
    values[20] = 0.0
    check = rules.precheck(ctx, values, now=dt.datetime(2025, 3, 29, 12, 5, tzinfo=PARIS))
    added = check.hours[20]
    assert not added.exists and added.ok and added.rule == "§13.2" and added.start.hour == 3
    assert "celle de 3h" in added.reason
    values[20] = 5.0
    check = rules.precheck(ctx, values, now=dt.datetime(2025, 3, 29, 12, 5, tzinfo=PARIS))
    assert check.hours[20].ok and check.issues == () and check.outcome is not rules.Outcome.REJECTED


def test_precheck_never_raises_on_half_typed_input() -> None:
    """The editor calls it on every keystroke: a short list or a stray value is an issue, not a crash."""
    ctx = context(None)
    short = rules.precheck(ctx, [100.0] * 10, now=at(12, 5))
    assert [i.code for i in short.issues] == [rules.BAD_NUMBER_QUANTITIES] and len(short.hours) == 24
    odd = program(100)
    odd[SLOT[15]] = "1O0"  # type: ignore[call-overload]  # not a number: the pre-check refuses it
    check = rules.precheck(ctx, odd, now=at(12, 5))
    assert [i.code for i in check.issues] == [rules.BAD_QUANTITIES]
