"""GRTgaz API types read from outside (``models.read``): what the previous version stored still
reads, the documents' other field names, timestamps, text cleaned, and the way back
(``models.to_document``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.grtgaz.feeds import SitePrograms
from pupitre.providers.grtgaz.models import (
    FeasibilityStatus,
    Flex,
    HmsProfile,
    HourlyQuantity,
    IndicatorStatus,
    InputHmsProfile,
    SiteIndicators,
    read,
    read_links,
    to_document,
)

# What the previous version (before these msgspec types; its models dumped by alias, as JSON) wrote:
# the indicators feed's snapshot, a decided program kept with its verdict, and a rebuilt program
# in the programs' snapshot (``timestamps_local=False``: real UTC). Taken by running it.
OLD_INDICATORS = (
    '[{"currentIndicator": {"siteId": "LI1001", "siteLabel": "DK6", "meshCode": "ME0001", '
    '"meshLabel": "Nord", "qTo0FlexibilityIndicator": {"status": "GREEN", '
    '"availabilityDateTime": "2019-11-18T07:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T08:15:00.000Z"}, '
    '"partialFlexibilityIndicator": {"status": "GREEN", '
    '"availabilityDateTime": "2019-11-18T08:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T09:15:00.000Z"}, "qToQ+FlexibilityIndicator": {"status": "GREEN", '
    '"availabilityDateTime": "2019-11-18T08:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T09:15:00.000Z"}}, "nextIndicator": {"siteId": "LI1001", '
    '"siteLabel": "DK6", "meshCode": "ME0001", "meshLabel": "Nord", '
    '"qTo0FlexibilityIndicator": {"status": "RED", "availabilityDateTime": "2019-11-18T08:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T09:15:00.000Z"}, '
    '"partialFlexibilityIndicator": {"status": "GREEN", '
    '"availabilityDateTime": "2019-11-18T08:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T09:15:00.000Z"}, "qToQ+FlexibilityIndicator": {"status": "GREEN", '
    '"availabilityDateTime": "2019-11-18T08:52:00.000Z", '
    '"applicationDateTime": "2019-11-18T09:15:00.000Z"}}}]'
)

OLD_VERDICT = (
    '{"hmsProfileId": "20191118-LI1001-GFCCGE01-1", "declarationDateTime": "2019-11-17T14:00:00.000Z", '
    '"processingDateTime": "2019-11-17T14:00:00.000Z", "hmsSiteId": "LI1001", "hmsSiteLabel": "DK6", '
    '"connectionContractCode": "GFCCGE01", "gasDay": "2019-11-18", "unit": "kWh25", "qMin": 0.0, '
    '"qMAx": 1600000.0, "hmsHourlyProfile": [{"hourlySlotStartDateTime": "2019-11-18T05:00:00.000Z", '
    '"quantity": 772000.0}, {"hourlySlotStartDateTime": "2019-11-18T06:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T07:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T08:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T09:00:00.000Z", "quantity": 1053000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T10:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T11:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T12:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T13:00:00.000Z", "quantity": 912000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T14:00:00.000Z", "quantity": 842000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T15:00:00.000Z", "quantity": 912000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T16:00:00.000Z", "quantity": 1053000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T17:00:00.000Z", "quantity": 1193000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T18:00:00.000Z", "quantity": 1193000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T19:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T20:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T21:00:00.000Z", "quantity": 842000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T22:00:00.000Z", "quantity": 702000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T23:00:00.000Z", "quantity": 632000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T00:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T01:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T02:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T03:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T04:00:00.000Z", "quantity": 632000.0}], '
    '"hmsProfileFeasibility": {"indicator": {"siteId": "LI1001", "siteLabel": "DK6", "meshCode": "ME0001", '
    '"meshLabel": "Nord", "qTo0FlexibilityIndicator": "GREEN", "qToQmaxFlexibilityIndicator": "GREEN", '
    '"partialFlexibilityIndicator": "GREEN"}, "hmsProfileFeasibilityStatus": "ACCEPTED", '
    '"comment": "Programme accepté"}}'
)

OLD_REBUILT = (
    '{"hmsProfileId": "20191118-LI1001", "processingDateTime": "2019-11-17T14:00:00.000Z", '
    '"hmsSiteId": "LI1001", "hmsSiteLabel": "DK6", "connectionContractCode": "GFCCGE01", '
    '"gasDay": "2019-11-18", "hourlyQuantities": [{"hourlySlotStartDateTime": "2019-11-18T05:00:00.000Z", '
    '"quantity": 772000.0}, {"hourlySlotStartDateTime": "2019-11-18T06:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T07:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T08:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T09:00:00.000Z", "quantity": 1053000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T10:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T11:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T12:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T13:00:00.000Z", "quantity": 912000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T14:00:00.000Z", "quantity": 842000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T15:00:00.000Z", "quantity": 912000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T16:00:00.000Z", "quantity": 1053000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T17:00:00.000Z", "quantity": 1193000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T18:00:00.000Z", "quantity": 1193000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T19:00:00.000Z", "quantity": 1123000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T20:00:00.000Z", "quantity": 982000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T21:00:00.000Z", "quantity": 842000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T22:00:00.000Z", "quantity": 702000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-18T23:00:00.000Z", "quantity": 632000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T00:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T01:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T02:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T03:00:00.000Z", "quantity": 561000.0}, '
    '{"hourlySlotStartDateTime": "2019-11-19T04:00:00.000Z", "quantity": 632000.0}], '
    '"energyLowThresholds": 0.0, "energyHighThresholds": 1600000.0, "volumeLowThresholds": 0.0, '
    '"volumeHighThresholds": 140350.877}'
)


def old(text: str) -> Any:
    return json.loads(text)


def test_the_indicators_snapshot_of_the_previous_version_reads_whole() -> None:
    stored = old(OLD_INDICATORS)
    [site] = read(stored, list[SiteIndicators], timestamps_local=False)
    assert site.site_id == "LI1001" and site.mesh_label == "Nord"
    upcoming = site.nextIndicator
    assert upcoming is not None
    red = upcoming.indicator(Flex.Q_TO_QMINUS)
    assert red.status is IndicatorStatus.RED
    assert red.availabilityDateTime == dt.datetime(2019, 11, 18, 9, 52, tzinfo=PARIS)
    assert red.applicationDateTime.tzinfo is PARIS and red.applicationDateTime.hour == 10
    assert site.currentIndicator.indicator(Flex.Q_TO_QPLUS).status is IndicatorStatus.GREEN
    assert to_document([site], timestamps_local=False) == stored  # nothing lost, same form


def test_the_programs_snapshot_and_kept_verdict_of_the_previous_version_read_whole() -> None:
    verdict = old(OLD_VERDICT)
    profile = read(verdict, HmsProfile, timestamps_local=False)
    assert profile.status is FeasibilityStatus.ACCEPTED and profile.comment == "Programme accepté"
    assert profile.qMin == 0.0 and profile.qMAx == 1_600_000.0
    assert profile.processingDateTime == dt.datetime(2019, 11, 17, 15, 0, tzinfo=PARIS)
    feasibility = profile.hmsProfileFeasibility
    assert feasibility is not None and feasibility.indicator is not None
    assert feasibility.indicator.status(Flex.Q_TO_QPLUS) is IndicatorStatus.GREEN
    assert len(profile.quantities) == 24 and profile.quantities[0] == 772_000.0
    assert to_document(profile, timestamps_local=False) == verdict

    snapshot = {"site_id": "LI1001", "gas_day": "2019-11-18", "rebuilt": old(OLD_REBUILT), "declared": [verdict]}
    programs = SitePrograms.from_document(snapshot, dt.datetime(2019, 11, 18, 10, 0, tzinfo=PARIS))
    assert programs.rebuilt is not None and programs.rebuilt.volumeHighThresholds == 140_350.877
    assert programs.declared == [profile] and programs.from_store
    assert programs.to_document() == snapshot


def test_the_documents_other_names_are_read_and_the_documents_written() -> None:
    verdict = old(OLD_VERDICT)
    verdict["qMax"] = verdict.pop("qMAx")
    indicator = verdict["hmsProfileFeasibility"]["indicator"]
    indicator["qToQ+FlexibilityIndicator"] = indicator.pop("qToQmaxFlexibilityIndicator")
    before = json.dumps(verdict)
    [profile] = read([verdict], list[HmsProfile])
    assert json.dumps(verdict) == before  # the data read is not changed
    assert profile.qMAx == 1_600_000.0
    assert profile.hmsProfileFeasibility is not None and profile.hmsProfileFeasibility.indicator is not None
    assert profile.hmsProfileFeasibility.indicator.qToQmaxFlexibilityIndicator is IndicatorStatus.GREEN
    written = to_document(profile)
    assert written["qMAx"] == 1_600_000.0 and "qMax" not in written
    assert "qToQmaxFlexibilityIndicator" in written["hmsProfileFeasibility"]["indicator"]
    # the document's own name wins when both are there
    assert read({**old(OLD_VERDICT), "qMax": 1.0}, HmsProfile).qMAx == 1_600_000.0
    program = {**old(OLD_VERDICT), "qMax": 5.0}
    del program["qMAx"], program["hmsProfileFeasibility"]
    assert read(program, InputHmsProfile).qMAx == 5.0
    del program["qMax"]
    with pytest.raises(PayloadError, match="qMAx"):  # required in what a client sends
        read(program, InputHmsProfile)
    links = [{"rel": "20191118-LI1001-GFCCGE01-2", "href": "https://x/hmsProfiles/20191118-LI1001-GFCCGE01-2"}]
    assert read_links(links) == read_links({"links": links}) and read_links(links)[0].rel == links[0]["rel"]


def test_timestamps_are_plain_paris_datetimes_and_bad_ones_are_refused() -> None:
    def slot(value: object, local: bool = True) -> dt.datetime:
        return read(
            {"hourlySlotStartDateTime": value, "quantity": 1.0}, HourlyQuantity, timestamps_local=local
        ).hourlySlotStartDateTime

    z_local = slot("2019-11-18T09:52:00.000Z")
    assert type(z_local) is dt.datetime and z_local.tzinfo is PARIS and z_local.hour == 9
    assert slot("2019-11-18T09:52:00.000Z", local=False).hour == 10
    assert slot("2019-11-18T09:52:00+00:00").hour == 10  # an explicit offset is always honoured
    assert slot("2019-11-18T09:52:00", local=False).hour == 9  # naive: Paris wall time
    for bad in (12345, "yesterday", "", None):
        with pytest.raises(PayloadError, match="hourlySlotStartDateTime"):
            slot(bad)


def test_hostile_text_is_cleaned_one_line_or_multi_line() -> None:
    verdict = old(OLD_VERDICT)
    verdict["hmsSiteLabel"] = "DK6\n\x1b]52;c;eA==\x07"
    verdict["hmsProfileFeasibility"]["comment"] = "Programme refusé\n\x1b[2Jtrop tard\u202e"
    profile = read(verdict, HmsProfile)
    assert profile.hmsSiteLabel == "DK6 ␛]52;c;eA==␇"
    assert profile.comment == "Programme refusé\n␛[2Jtrop tard�"


def test_a_null_quantity_is_written_other_nulls_are_left_out() -> None:
    profile = read({**old(OLD_VERDICT), "hmsProfileFeasibility": None, "processingDateTime": None}, HmsProfile)
    profile_with_gap = read(
        {
            **to_document(profile),
            "hmsHourlyProfile": [{"hourlySlotStartDateTime": "2019-11-18T06:00:00.000Z", "quantity": None}],
        },
        HmsProfile,
    )
    written = to_document(profile_with_gap)
    assert written["hmsHourlyProfile"] == [{"hourlySlotStartDateTime": "2019-11-18T06:00:00.000Z", "quantity": None}]
    assert "hmsProfileFeasibility" not in written and "processingDateTime" not in written
    assert profile.status is FeasibilityStatus.PENDING


def test_the_autumn_repeated_hour_is_written_as_two_instants() -> None:
    """02:52 Paris twice on 2026-10-25: equal datetimes (same zone, fold aside), two instants."""
    first = dt.datetime(2026, 10, 25, 2, 52, tzinfo=PARIS)
    second = first.replace(fold=1)
    slots = [HourlyQuantity(hourlySlotStartDateTime=moment, quantity=1.0) for moment in (first, second, first)]
    written = [slot["hourlySlotStartDateTime"] for slot in to_document(slots, timestamps_local=False)]
    assert written == ["2026-10-25T00:52:00.000Z", "2026-10-25T01:52:00.000Z", "2026-10-25T00:52:00.000Z"]
    again = read(to_document(slots, timestamps_local=False), list[HourlyQuantity], timestamps_local=False)
    assert [slot.hourlySlotStartDateTime.utcoffset() for slot in again] == [
        dt.timedelta(hours=2),
        dt.timedelta(hours=1),
        dt.timedelta(hours=2),
    ]
