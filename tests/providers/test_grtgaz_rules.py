"""GRTgaz sites, models and rules (chapter 1 §3.2.1, §3.2.2.1, §4; chapter 4 §13.1, §13.6)."""

from __future__ import annotations

import datetime as dt

import pytest

from pupitre.providers.core.clock import PARIS, UTC, add
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import (
    Error,
    FeasibilityStatus,
    Flex,
    Indicator,
    IndicatorSet,
    IndicatorStatus,
    SiteIndicators,
    format_timestamp,
    parse_timestamp,
    read,
    timestamps_reading,
    to_document,
)
from pupitre.providers.grtgaz.sites import (
    MESH_CODE_PATTERN,
    MESHES,
    SITE_ID_PATTERN,
    SITES,
    site_by_id,
    site_by_label,
    sites_in_mesh,
    tranches_of,
)

GREEN, RED, GREY = IndicatorStatus.GREEN, IndicatorStatus.RED, IndicatorStatus.GREY


def at(hour: int, minute: int = 0, day: int = 18, month: int = 11, year: int = 2019, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


# -- sites (§3.2.1) -------------------------------------------------------------------

TABLE = [
    ("DK6", "Nord", "ENGIE", 2),
    ("Pont sur Sambre", "Nord", "Total Direct Energie", 1),
    ("Cycofos", "Provence", "ENGIE", 1),
    ("Saint Avold", "Lorraine", "Gazel Energie", 2),
    ("Combigolfe", "Provence", "ENGIE", 1),
    ("Montoir", "Bretagne", "ENGIE", 1),
    ("Bayet", "Guyenne", "Total Direct Energie", 1),
    ("Blenod", "Lorraine", "EDF", 1),
    ("Martigues", "Provence", "EDF", 2),
    ("Gennevilliers", "IDF", "EDF", 1),
    ("Montereau", "IDF", "EDF", 2),
    ("Toul", "Lorraine", "Total Direct Energie", 1),
    ("Bouchain", "Nord", "EDF", 1),
]


def test_sites_follow_the_mesh_table() -> None:
    assert [(s.label, s.mesh.label, s.client, s.tranches) for s in SITES] == TABLE
    assert len({s.site_id for s in SITES}) == 13
    assert all(SITE_ID_PATTERN.match(s.site_id) for s in SITES)
    assert len({m.code for m in MESHES}) == len(MESHES) == 6
    assert all(MESH_CODE_PATTERN.match(m.code) for m in MESHES)
    assert {s.mesh for s in SITES} == set(MESHES)


def test_site_lookups() -> None:
    dk6 = site_by_label("dk6")
    assert dk6 is not None and site_by_id(dk6.site_id) is dk6
    assert tranches_of(dk6.site_id) == 2
    assert site_by_id("LI9999") is None
    assert [s.label for s in sites_in_mesh("ME0008")] == ["Cycofos", "Combigolfe", "Martigues"]
    with pytest.raises(KeyError):
        tranches_of("LI9999")


# -- models (§13.1, §13.6) ------------------------------------------------------------


def indicator_doc(
    status: str = "RED", available: str = "2019-11-18T09:52:00.000Z", applies: str = "2019-11-18T10:15:00.000Z"
) -> dict[str, str]:
    return {"status": status, "availabilityDateTime": available, "applicationDateTime": applies}


def set_doc(
    q0: str = "RED",
    partial: str = "RED",
    qplus: str = "RED",
    *,
    minus_name: str = "qTo0FlexibilityIndicator",
    **times: str,
) -> dict[str, object]:
    return {
        "siteId": "LI1234",
        "siteLabel": "Sainte Ernestine de Louvois",
        "meshCode": "ME0008",
        "meshLabel": "Provence",
        minus_name: indicator_doc(q0, **times),
        "partialFlexibilityIndicator": indicator_doc(partial, **times),
        "qToQ+FlexibilityIndicator": indicator_doc(qplus, **times),
    }


def test_document_example_parses_with_z_as_paris_wall_time() -> None:
    site = read({"currentIndicator": set_doc()}, SiteIndicators)
    current = site.currentIndicator
    assert (site.site_id, site.site_label, site.mesh_code, site.mesh_label) == (
        "LI1234",
        "Sainte Ernestine de Louvois",
        "ME0008",
        "Provence",
    )
    q0 = current.indicator(Flex.Q_TO_QMINUS)
    assert q0.status is RED
    # §13.1: "2019-11-18T09:52:00.000Z" is the 09h52 publication of §3.2.2.1 (CET).
    assert q0.availabilityDateTime == at(9, 52)
    assert q0.availabilityDateTime.tzinfo is PARIS
    assert q0.applicationDateTime == at(10, 15)
    assert site.nextIndicator is None
    assert [flex for flex, _ in current.indicators()] == [Flex.Q_TO_QMINUS, Flex.PARTIAL, Flex.Q_TO_QPLUS]


def test_z_as_utc_when_the_flag_is_off() -> None:
    doc = {"currentIndicator": set_doc()}
    site = read(doc, SiteIndicators, timestamps_local=False)
    assert site.currentIndicator.qTo0FlexibilityIndicator.availabilityDateTime == at(10, 52)
    with timestamps_reading(False):
        again = read(doc, SiteIndicators)
    assert again == site
    assert read(doc, SiteIndicators).currentIndicator.qTo0FlexibilityIndicator.availabilityDateTime == at(9, 52)


def test_summer_time_and_explicit_offsets() -> None:
    summer = parse_timestamp("2019-07-18T09:52:00.000Z", local=True)
    assert summer.utcoffset() == dt.timedelta(hours=2) and summer.hour == 9
    assert parse_timestamp("2019-07-18T09:52:00.000Z", local=False).hour == 11
    assert parse_timestamp("2019-11-18T09:52:00+00:00", local=True) == at(10, 52)
    assert parse_timestamp("2019-11-18T09:52:00", local=False) == at(9, 52)
    assert format_timestamp(at(9, 52), local=True) == "2019-11-18T09:52:00.000Z"
    assert format_timestamp(at(9, 52), local=False) == "2019-11-18T08:52:00.000Z"
    with pytest.raises(ValueError):
        parse_timestamp(12345, local=True)


def test_serialising_gives_the_document_back() -> None:
    doc = {
        "currentIndicator": set_doc("GREEN", "RED", "GREY"),
        "nextIndicator": set_doc(available="2019-11-18T10:52:00.000Z", applies="2019-11-18T11:15:00.000Z"),
    }
    site = read(doc, SiteIndicators)
    assert to_document(site) == doc
    utc = to_document(site, timestamps_local=False)
    assert utc["currentIndicator"]["partialFlexibilityIndicator"]["availabilityDateTime"] == "2019-11-18T08:52:00.000Z"
    # Without a nextIndicator the key is left out, not null.
    assert "nextIndicator" not in to_document(read({"currentIndicator": doc["currentIndicator"]}, SiteIndicators))
    assert read([doc, doc], list[SiteIndicators])[1] == site


def test_q_to_q_minus_alias_is_accepted_and_written_under_the_document_name() -> None:
    current = read(set_doc("GREEN", minus_name="qToQ-FlexibilityIndicator"), IndicatorSet)
    assert current.indicator(Flex.Q_TO_QMINUS).status is GREEN
    dumped = to_document(current)
    assert "qTo0FlexibilityIndicator" in dumped and "qToQ-FlexibilityIndicator" not in dumped
    assert Flex.Q_TO_QMINUS.field == "qTo0FlexibilityIndicator"
    assert Flex.Q_TO_QPLUS.field == "qToQ+FlexibilityIndicator"


def test_bad_payloads_are_refused() -> None:
    # an undocumented colour is read as unknown on its indicator, not refused (issue 14)
    blue = read(set_doc("BLUE"), IndicatorSet).qTo0FlexibilityIndicator.status
    assert not blue.known and blue.word == "unknown (BLUE)"
    with pytest.raises(PayloadError):
        read(set_doc(""), IndicatorSet)  # no status at all
    with pytest.raises(PayloadError):
        read({"currentIndicator": set_doc(available="yesterday")}, SiteIndicators)
    missing = set_doc()
    del missing["partialFlexibilityIndicator"]
    with pytest.raises(PayloadError):
        read(missing, IndicatorSet)
    assert IndicatorStatus("grey") is GREY and IndicatorStatus("GRAY") is GREY


def test_error_object() -> None:
    assert read({"Code": 404, "Message": "Le site de ce programme est inconnu"}, Error) == Error(
        code=404, message="Le site de ce programme est inconnu"
    )
    assert read({"code": 400, "message": "x"}, Error).code == 400
    assert to_document(Error(code=400, message="x")) == {"Code": 400, "Message": "x"}


# -- schedule (§3.2.2.1) --------------------------------------------------------------


def test_publication_and_application_times() -> None:
    assert rules.publication_for_hour(at(11)) == at(10, 52)
    assert rules.application_for_hour(at(11)) == at(11, 15)
    assert rules.application_of(at(10, 52)) == at(11, 15)
    assert rules.hour_of_publication(at(10, 52)) == at(11)
    assert rules.last_publication(at(10, 51, second=59)) == at(9, 52)
    assert rules.last_publication(at(10, 52)) == at(10, 52)
    assert rules.next_publication(at(10, 52)) == at(11, 52)
    assert rules.publication_at_or_after(at(10, 52)) == at(10, 52)
    assert rules.publication_at_or_after(at(10, 53)) == at(11, 52)
    assert rules.previous_publication(at(10, 52)) == at(9, 52)
    assert rules.last_publication(at(0, 10)) == at(23, 52, day=17)
    naive = dt.datetime(2019, 11, 18, 10, 52)  # naive values are Paris wall time
    assert rules.publication_at_or_after(naive) == at(10, 52)
    assert rules.last_publication(naive) == at(10, 52)


def test_schedule_across_dst_changes() -> None:
    # 31 March 2024: 02:00 CET jumps to 03:00 CEST; the 01:52 publication is followed by 03:52.
    assert rules.next_publication(at(1, 52, 31, 3, 2024)) == at(3, 52, 31, 3, 2024)
    assert rules.application_of(at(1, 52, 31, 3, 2024)) == at(3, 15, 31, 3, 2024)
    # 27 October 2024: 02:52 happens twice, one hour apart.
    first = dt.datetime(2024, 10, 27, 0, 52, tzinfo=UTC).astimezone(PARIS)
    second = rules.next_publication(first)
    assert (first.hour, first.minute, second.hour, second.minute) == (2, 52, 2, 52)
    assert second.astimezone(UTC) - first.astimezone(UTC) == dt.timedelta(hours=1)
    assert rules.previous_publication(second) == first


# -- statuses -------------------------------------------------------------------------


def make_indicator(status: IndicatorStatus, published: dt.datetime) -> Indicator:
    return Indicator(status=status, availabilityDateTime=published, applicationDateTime=rules.application_of(published))


def make_set(
    site_id: str,
    published: dt.datetime,
    q0: IndicatorStatus = GREEN,
    partial: IndicatorStatus = GREEN,
    qplus: IndicatorStatus = GREEN,
    published_by_flex: dict[Flex, dt.datetime] | None = None,
) -> IndicatorSet:
    when = {flex: (published_by_flex or {}).get(flex, published) for flex in Flex}
    return IndicatorSet(
        siteId=site_id,
        siteLabel=f"Site {site_id}",
        meshCode="ME0001",
        meshLabel="Nord",
        qTo0FlexibilityIndicator=make_indicator(q0, when[Flex.Q_TO_QMINUS]),
        partialFlexibilityIndicator=make_indicator(partial, when[Flex.PARTIAL]),
        qToQPlusFlexibilityIndicator=make_indicator(qplus, when[Flex.Q_TO_QPLUS]),
    )


def test_worst_status_grey_over_red_over_green() -> None:
    assert rules.worst_status([GREEN, RED, GREEN]) is RED
    assert rules.worst_status([RED, GREY, GREEN]) is GREY
    assert rules.worst_status([]) is None
    calm = SiteIndicators(currentIndicator=make_set("LI0001", at(9, 52)))
    red_next = SiteIndicators(
        currentIndicator=make_set("LI0002", at(9, 52)), nextIndicator=make_set("LI0002", at(10, 52), qplus=RED)
    )
    grey = SiteIndicators(currentIndicator=make_set("LI0003", at(9, 52), partial=GREY))
    assert rules.site_worst_status(calm) is GREEN
    assert rules.site_worst_status(red_next) is GREEN
    assert rules.site_worst_status(red_next, include_next=True) is RED
    assert rules.worst_status_across([calm, red_next]) is GREEN
    assert rules.worst_status_across([calm, red_next], include_next=True) is RED
    assert rules.worst_status_across([calm, red_next, grey]) is GREY
    assert rules.worst_status_across([]) is None


def test_favourable_and_unfavourable() -> None:
    assert rules.is_unfavourable(GREEN, RED) and not rules.is_unfavourable(RED, GREEN)
    assert rules.is_favourable(RED, GREEN) and not rules.is_favourable(GREEN, RED)
    assert not rules.is_unfavourable(GREEN, GREY) and not rules.is_favourable(GREY, GREEN)


def test_applicable_status_exemple_1_unfavourable_waits_for_h_plus_15() -> None:
    # §3.2.2.1 Exemple 1: at 09h52 Q→Q+ red, partial green; at 10h52 partial turns red.
    site = SiteIndicators(
        currentIndicator=make_set("LI0001", at(10, 52), qplus=RED, published_by_flex={Flex.PARTIAL: at(9, 52)}),
        nextIndicator=make_set("LI0001", at(10, 52), qplus=RED, partial=RED),
    )
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 0)) is GREEN
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 14, second=59)) is GREEN
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 15)) is RED
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 16)) is RED
    assert rules.applicable_status(site, Flex.Q_TO_QPLUS, at(11, 0)) is RED
    assert rules.applicable_statuses(site, at(11, 0)) == {
        Flex.Q_TO_QMINUS: GREEN,
        Flex.PARTIAL: GREEN,
        Flex.Q_TO_QPLUS: RED,
    }


def test_applicable_status_exemple_2_favourable_applies_at_once() -> None:
    # §3.2.2.1 Exemple 2, as the API shows it: a single currentIndicator, partial green.
    shown = SiteIndicators(currentIndicator=make_set("LI0001", at(10, 52), qplus=RED))
    assert rules.applicable_status(shown, Flex.PARTIAL, at(10, 52)) is GREEN
    # Should an API announce the favourable change as nextIndicator, it still applies
    # from its publication, not from H+15.
    announced = SiteIndicators(
        currentIndicator=make_set("LI0001", at(9, 52), qplus=RED, partial=RED),
        nextIndicator=make_set("LI0001", at(10, 52), qplus=RED),
    )
    assert rules.applicable_status(announced, Flex.PARTIAL, at(10, 51)) is RED
    assert rules.applicable_status(announced, Flex.PARTIAL, at(10, 52)) is GREEN


def test_upcoming_changes() -> None:
    a = SiteIndicators(
        currentIndicator=make_set("LI0001", at(9, 52)),
        nextIndicator=make_set("LI0001", at(10, 52), qplus=RED, partial=RED),
    )
    b = SiteIndicators(currentIndicator=make_set("LI0002", at(10, 52)))
    changes = rules.upcoming_changes([b, a], at(11, 0))
    assert [(c.site_id, c.flex, c.current, c.next) for c in changes] == [
        ("LI0001", Flex.PARTIAL, GREEN, RED),
        ("LI0001", Flex.Q_TO_QPLUS, GREEN, RED),
    ]
    assert changes[0].applies_at == at(11, 15) and changes[0].published_at == at(10, 52)
    assert rules.upcoming_changes([a, b], at(11, 15)) == []


def test_diff_states() -> None:
    before = [
        SiteIndicators(currentIndicator=make_set("LI0001", at(9, 52))),
        SiteIndicators(currentIndicator=make_set("LI0002", at(9, 52), q0=RED)),
    ]
    announced = [
        SiteIndicators(
            currentIndicator=make_set("LI0001", at(9, 52)), nextIndicator=make_set("LI0001", at(10, 52), qplus=RED)
        ),
        SiteIndicators(currentIndicator=make_set("LI0002", at(10, 52))),
    ]
    changes = rules.diff_states(before, announced)
    assert [(c.site_id, c.flex, c.old_status, c.new_status, c.announced) for c in changes] == [
        ("LI0001", Flex.Q_TO_QPLUS, GREEN, RED, True),
        ("LI0002", Flex.Q_TO_QMINUS, RED, GREEN, False),
    ]
    assert changes[0].at == at(11, 15) and changes[0].key == "LI0001/Q→Q+"
    assert changes[1].at == at(11, 15)
    # The same announcement fetched again is not reported twice.
    assert rules.diff_states(announced, announced) == []
    applied = [SiteIndicators(currentIndicator=make_set("LI0001", at(10, 52), qplus=RED)), announced[1]]
    assert [
        (c.site_id, c.flex, c.old_status, c.new_status, c.announced) for c in rules.diff_states(announced, applied)
    ] == [("LI0001", Flex.Q_TO_QPLUS, GREEN, RED, False)]
    # No previous fetch: nothing, unless asked for.
    assert rules.diff_states(None, before) == []
    appeared = rules.diff_states([], before, include_appeared=True)
    assert len(appeared) == 6 and all(c.old_status is None for c in appeared)


# -- shortage (§4) --------------------------------------------------------------------


def test_shortage_grey_window() -> None:
    day = dt.date(2019, 11, 19)
    assert rules.shortage_grey_window(day) == (at(5, 52, 19), at(0, 52, 20))
    declared = at(20, 30, 18)
    assert rules.shortage_grey_window(day, declared_at=declared) == (at(5, 52, 19), at(0, 52, 20))
    assert rules.shortage_grey_window(day, declared_at=at(9, 10, 19)) == (at(9, 52, 19), at(0, 52, 20))
    assert rules.shortage_grey_window(day, previous_day_in_shortage=True) == (at(0, 52, 19), at(0, 52, 20))
    start, end = rules.shortage_grey_window(day, declared_at=at(3, 0, 20))
    assert start == end  # declared too late to show


def test_applicable_status_compares_instants_in_the_repeated_hour() -> None:
    """§3.2.2.1 on the autumn 25-hour day: red announced for the second 02:00 (CET) applies
    at 02:15 CET; a program at the first 02:20 (CEST) comes an hour before that."""
    utc = dt.timezone.utc
    published = dt.datetime(2025, 10, 26, 0, 52, tzinfo=utc).astimezone(PARIS)  # 02:52 CEST
    site = SiteIndicators(
        currentIndicator=make_set("LI0001", add(published, -rules.HOUR)),
        nextIndicator=make_set("LI0001", published, qplus=RED),
    )
    applies = site.nextIndicator.qToQPlusFlexibilityIndicator.applicationDateTime  # type: ignore[union-attr]  # set above
    assert (applies.hour, applies.minute, applies.utcoffset()) == (2, 15, dt.timedelta(hours=1))
    first_0220 = dt.datetime(2025, 10, 26, 2, 20, tzinfo=PARIS, fold=0)
    second_0220 = dt.datetime(2025, 10, 26, 2, 20, tzinfo=PARIS, fold=1)
    assert rules.applicable_status(site, Flex.Q_TO_QPLUS, first_0220) is GREEN
    assert rules.applicable_status(site, Flex.Q_TO_QPLUS, second_0220) is RED
    assert [c.flex for c in rules.upcoming_changes([site], first_0220)] == [Flex.Q_TO_QPLUS]
    assert rules.upcoming_changes([site], second_0220) == []
    views = rules.indicator_views(site, first_0220)
    assert (views[Flex.Q_TO_QPLUS].applicable, views[Flex.Q_TO_QPLUS].next) == (GREEN, RED)


def test_rebuilt_program_as_of_the_repeated_hour_orders_instants() -> None:
    """Chapter 2 §5-9 ``as of`` on the 25-hour day: a program received at the second 02:05
    is not in the rebuilt program as of the first 02:30, and is after it."""
    day = dt.date(2025, 10, 25)
    v1 = rules.AcceptedProgram(1, dt.datetime(2025, 10, 24, 15, tzinfo=PARIS), (100.0,) * 24)
    v2 = rules.AcceptedProgram(2, dt.datetime(2025, 10, 26, 2, 5, tzinfo=PARIS, fold=1), (200.0,) * 24)
    first_0230 = dt.datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=0)
    assert rules.rebuild(day, (v1, v2), as_of=first_0230) == (100.0,) * 24
    second_0230 = dt.datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=1)
    rebuilt = rules.rebuild(day, (v1, v2), as_of=second_0230)
    # received at the second 02:05, before H+15: from H-1, the first 02:00 — slot 20 (§6-7)
    assert rebuilt is not None and rebuilt[19] == 100.0 and rebuilt[20] == 200.0
    assert rules.first_adjustable_index(day, v2.received_at) == 20
    assert rules.first_adjustable_index(day, dt.datetime(2025, 10, 26, 2, 5, tzinfo=PARIS, fold=0)) == 19
    # the window of a program at the second 02:20 (after H+15): H … H+5, six real hours
    assert rules.control_window(day, second_0230) == (20, 21, 22, 23)


def test_shortage_covers_the_whole_gas_day_whatever_the_colour() -> None:
    """§4 « quelle que soit la couleur de la pastille, la pénurie de flexibilité s'applique
    pour toute la journée gazière pour laquelle elle a été déclenchée »."""
    day = dt.date(2025, 3, 29)  # the 23-hour day, on purpose
    grey_at_2352 = dt.datetime(2025, 3, 29, 23, 52, tzinfo=PARIS)
    grey = SiteIndicators(currentIndicator=make_set("LI0001", grey_at_2352, q0=GREY, partial=GREY, qplus=GREY))
    assert rules.shortage_days([grey]) == {"LI0001": {day}}
    assert rules.shortage_day(dt.datetime(2025, 3, 29, 5, 52, tzinfo=PARIS)) == day
    night = dt.datetime(2025, 3, 30, 1, 20, tzinfo=PARIS)  # green again since 00:52
    green = rules.indicator_views(SiteIndicators(currentIndicator=make_set("LI0001", add(night, -rules.HOUR))), night)
    values = [100.0] * 20 + [0.0] + [150.0] * 3
    judged = rules.evaluate(
        values,
        gas_day=day,
        received_at=night,
        reference=[100.0] * 20 + [0.0] + [100.0] * 3,
        indicators=green,
        tranches=1,
        shortage=True,
    )
    assert judged.status is FeasibilityStatus.REFUSED and judged.rule == "§4"
    assert [c.code for c in judged.comments] == [rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR]
    free = rules.evaluate(
        values,
        gas_day=day,
        received_at=night,
        reference=[100.0] * 20 + [0.0] + [100.0] * 3,
        indicators=green,
        tranches=1,
    )
    assert free.status is FeasibilityStatus.ACCEPTED


def test_announced_change_applies_at_its_time_without_a_new_read() -> None:
    """§3.2.2.1: red published 10:52 applies at 11:15; with nothing read since (paused, stale,
    API down) the site shows it from 11:15, marked as applied on the announcement alone."""
    site = SiteIndicators(
        currentIndicator=make_set("LI0001", at(9, 52)),
        nextIndicator=make_set("LI0001", at(10, 52), qplus=RED),
    )
    before = rules.as_applied(site, at(11, 14))
    assert before.site is site and before.announced == frozenset()
    assert before.worst() is RED and before.worst(include_next=False) is GREEN  # severity counts it
    after = rules.as_applied(site, at(11, 15))
    assert after.announced == {Flex.Q_TO_QPLUS} and after.site.nextIndicator is None
    applied = after.site.currentIndicator.qToQPlusFlexibilityIndicator
    assert applied.status is RED and applied.applicationDateTime == at(11, 15)
    assert rules.site_worst_status(after.site) is RED
    assert rules.upcoming_changes([after.site], at(11, 15)) == []
    calm = SiteIndicators(currentIndicator=make_set("LI0002", at(10, 52)))
    assert [a.site for a in rules.applied_sites([calm], at(11, 15))] == [calm]


def test_day_strip_follows_real_hours_on_dst_days() -> None:
    """The site-detail strip has one cell per real hour: 23 on the spring day, 25 in autumn
    (the two 02:00 apart), from the store's timeline compared as instants."""
    spring, autumn = dt.date(2025, 3, 29), dt.date(2025, 10, 25)
    rows = [rules.StateRow(dt.datetime(2025, 3, 29, 5, 52, tzinfo=PARIS), GREEN)]
    rows.append(rules.StateRow(dt.datetime(2025, 3, 30, 3, 15, tzinfo=PARIS), RED))
    strip = rules.day_strip(rows, spring, dt.datetime(2025, 3, 30, 6, 0, tzinfo=PARIS))
    assert len(strip) == 23 and strip[19] is GREEN and strip[20:] == [RED, RED, RED]  # 01h; 03h 04h 05h
    second_0215 = dt.datetime(2025, 10, 26, 2, 15, tzinfo=PARIS, fold=1)
    rows = [rules.StateRow(dt.datetime(2025, 10, 25, 5, 52, tzinfo=PARIS), GREEN), rules.StateRow(second_0215, RED)]
    strip = rules.day_strip(rows, autumn, dt.datetime(2025, 10, 26, 2, 40, tzinfo=PARIS, fold=1))
    assert len(strip) == 25 and strip[20] is GREEN and strip[21] is RED and strip[22] is None
    assert rules.run_start(rows, RED) == (second_0215, True)
    assert rules.run_start(rows[:1], GREEN) == (rows[0].since, False)


def test_stored_shortage_reads_the_timeline_of_any_process(tmp_path) -> None:
    """§4: a GREY recorded for gas day J (grey 05:52 J … 00:51 J+1) keeps J in shortage."""
    from pupitre.providers.core.store import Store
    from pupitre.providers.grtgaz.feeds import STATES, state_key, stored_shortage

    store = Store(tmp_path / "s.sqlite3")
    grey_from = rules.application_of(dt.datetime(2025, 3, 29, 5, 52, tzinfo=PARIS))  # 06:15 on J
    store.record_states(STATES, [(state_key("LI1006", Flex.Q_TO_QMINUS), grey_from, "GREY", "")])
    assert stored_shortage(store, "LI1006", dt.date(2025, 3, 29))
    assert not stored_shortage(store, "LI1006", dt.date(2025, 3, 28))
    assert not stored_shortage(store, "LI1009", dt.date(2025, 3, 29))


def test_check_findings_apply_an_announced_change_due_on_a_stored_copy() -> None:
    """``pupitre check`` on a copy read before 11:15 (the API down since): at 11:20 the
    announced RED is RED now, not "turns RED at 11:15"."""
    from pupitre.providers.grtgaz.feeds import findings

    site = SiteIndicators(
        currentIndicator=make_set("LI0001", at(9, 52)), nextIndicator=make_set("LI0001", at(10, 52), qplus=RED)
    )
    before = [f.message for f in findings([site], at(11, 0))]
    assert before == ["Site LI0001: Q→Q+ turns RED at 11:15"]
    after = findings([site], at(11, 20))
    assert [(f.level, f.message) for f in after] == [
        ("attention", "Site LI0001 (Nord): RED on Q→Q+* (* applied as announced, not re-read from GRTgaz since)")
    ]
