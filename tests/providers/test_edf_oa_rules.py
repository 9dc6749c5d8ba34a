"""EDF OA SMART OA models and rules (§3.3, §4.1, §5.1, §5.2, §6.1, §9; RG_* rule IDs)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import pytest

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.models import (
    ACK_SOURCES,
    AckEntry,
    AckItem,
    AcknowledgementRequest,
    AcknowledgementsState,
    Contract,
    ContractCurtailment,
    CurtailmentOrder,
    NewToken,
    Period,
    TokenStatus,
    read_envelope,
    shown,
    to_document,
)
from pupitre.providers.edf_oa.reports import AckReport, CurtailmentReport
from pupitre.providers.edf_oa.rules import AckRuleError

T = TypeVar("T")
DEADLINE = dt.time(16, 0)
START, END = dt.time(13, 30), dt.time(16, 0)


def at(hour: int, minute: int = 0, day: int = 23, month: int = 11, year: int = 2026, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def read(kind: type[T], data: Any) -> T:
    return from_data(data, kind, provider="EDF OA")


def period(start: str, end: str, value: float = 1.0) -> Period:
    return read(Period, {"start_date": start, "end_date": end, "value": value})


def contract(contract_id: str, *periods: Period, manager_id: str | None = None) -> ContractCurtailment:
    return ContractCurtailment(
        contract_id=contract_id, plant_id="30001234567890", manager_id=manager_id, data=list(periods)
    )


def curtailed(contract_id: str) -> ContractCurtailment:
    return contract(
        contract_id,
        period("2026-11-24T00:00:00+01:00", "2026-11-24T12:00:00+01:00", 0.0),
        period("2026-11-24T12:00:00+01:00", "2026-11-24T14:00:00+01:00", 1.0),
        period("2026-11-24T14:00:00+01:00", "2026-11-25T00:00:00+01:00", 0.0),
    )


def quiet(contract_id: str) -> ContractCurtailment:
    return contract(contract_id, period("2026-11-24T00:00:00+01:00", "2026-11-25T00:00:00+01:00", 0.0))


def make_order(
    *contracts: ContractCurtailment, order_id: str = "OA-20261124-1A2B", updated_at: dt.datetime | None = None
) -> CurtailmentOrder:
    """An order for 24/11, updated at 13:00 the day before unless ``updated_at`` says otherwise."""
    return CurtailmentOrder(
        order_id=order_id,
        updated_at=updated_at or at(13, 0),
        application_date=dt.date(2026, 11, 24),
        curtailments=list(contracts),
    )


ORDER = make_order(curtailed("BOA0001"), quiet("BOA0002"), curtailed("BOA0003"))


def entry(value: bool, when: dt.datetime, source: str = "API", user: str = "PROD-0042") -> AckEntry:
    return AckEntry(user_id=user, ack_value=value, ack_date=when, ack_source=source)


def state(
    acks: dict[str, list[AckEntry]], order: CurtailmentOrder = ORDER, order_id: str | None = None
) -> AcknowledgementsState:
    return read(
        AcknowledgementsState,
        {
            "order_id": order_id or order.order_id,
            "updated_at": order.updated_at,
            "application_date": order.application_date,
            "acknowledgements": [
                {"contract_id": cid, "ack_list": [to_data(e) for e in entries]} for cid, entries in acks.items()
            ],
        },
    )


# -- models: envelope (§3.3), timestamps, tokens (§9) -------------------------------------------


@pytest.mark.parametrize(
    "errors, messages",
    [
        ([{"code": "E42", "message": "date invalide", "field": "start_date"}], ["date invalide"]),
        ({"code": 400, "message": "one object"}, ["one object"]),
        (None, []),
        (["plain text"], ["plain text"]),
    ],
)
def test_envelope_accepts_errors_as_list_object_or_null(errors: Any, messages: list[str]) -> None:
    envelope = read_envelope({"data": None, "meta": None, "errors": errors})
    assert envelope.data is None and envelope.meta == {}
    assert envelope.error_messages() == messages


def test_timestamps_are_aware_and_exposed_in_paris() -> None:
    p = period("2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00")
    assert p.start_date.tzinfo is PARIS and p.start_date.astimezone(UTC).hour == 1
    assert p.start_date.fold == 1  # the second 02:00 of the autumn change
    assert period("2026-11-24T11:00:00Z", "2026-11-24T13:00:00+0100").start_date == at(12, day=24)
    assert period("2026-11-24T12:00:00", "2026-11-24T13:00:00").start_date == at(12, day=24)  # naive: Paris
    with pytest.raises(PayloadError):
        period("24/11/2026 12:00", "2026-11-24T13:00:00+01:00")
    assert to_document(p)["start_date"] == "2026-10-25T02:00:00+01:00"


def test_token_expiry_is_real_utc_and_the_new_token_is_never_shown() -> None:
    status = read(TokenStatus, {"expires_at": "2026-12-31T23:30:00Z"})
    assert status.expires_at == dt.datetime(2027, 1, 1, 0, 30, tzinfo=PARIS)
    token = read(
        NewToken,
        {
            "client_token": "s3cr3t-t0ken",
            "expires_at": "2027-02-21T12:00:00Z",
            "lease_duration": 7776000,
            "renewable": True,
        },
    )
    assert token.client_token.reveal() == "s3cr3t-t0ken"
    assert "s3cr3t" not in repr(token) and "s3cr3t" not in str(token)
    assert "s3cr3t" not in str(to_data(token))


def test_RG_CON_0020_contract_status_is_active_or_expired() -> None:
    base = {
        "id": "BOA0001",
        "created_at": "2023-04-03T10:12:00+02:00",
        "updated_at": "2024-11-18T09:30:00+01:00",
        "plant_id": "17W100P100P0345B",
    }
    assert read(Contract, {**base, "status": "ACTIVE"}).status == "ACTIVE"
    assert read(Contract, {**base, "status": "expired"}).status == "EXPIRED"
    assert read(Contract, {**base, "status": "ACTIVE"}).manager_id is None  # not visible
    # a status the document does not list is read and shown, not fatal (issue 14)
    assert read(Contract, {**base, "status": "SUSPENDED"}).status == "SUSPENDED"


def test_ack_source_and_type_are_case_tolerant_and_an_unknown_one_is_shown() -> None:
    assert entry(True, at(14), source="portal").ack_source == "PORTAL"
    source = entry(True, at(14), source="MAIL").ack_source  # read, not fatal (issue 14)
    assert source == "MAIL" and shown(source, ACK_SOURCES) == "? unknown (MAIL)"


@pytest.mark.parametrize("value", ["true", 1, 0, "false", 1.0, None, [True]])
def test_acknowledgement_request_needs_real_booleans(value: Any) -> None:
    body = {"order_id": "OA-1", "acknowledgements": [{"contract_id": "BOA0001", "ack_value": value}]}
    with pytest.raises(PayloadError, match=r"acknowledgements\[0\]"):
        read(AcknowledgementRequest, body)
    with pytest.raises((TypeError, ValueError)):  # built in code too
        AckItem(contract_id="BOA0001", ack_value=value)


def test_acknowledgement_request_needs_an_order_and_one_contract() -> None:
    good = {"order_id": "OA-1", "acknowledgements": [{"contract_id": "BOA0001", "ack_value": False}]}
    assert read(AcknowledgementRequest, good).acknowledgements == [AckItem(contract_id="BOA0001", ack_value=False)]
    for bad in (
        {"order_id": "OA-1", "acknowledgements": []},
        {"order_id": "", "acknowledgements": good["acknowledgements"]},
        {"order_id": "OA-1", "acknowledgements": [{"contract_id": "", "ack_value": True}]},
        {"acknowledgements": good["acknowledgements"]},
    ):
        with pytest.raises(PayloadError):
            read(AcknowledgementRequest, bad)
    with pytest.raises(ValueError, match="at least one"):
        AcknowledgementRequest(order_id="OA-1", acknowledgements=[])


def test_envelope_error_message_is_read_from_its_other_names() -> None:
    errors = [{"Message": "capitalised"}, {"detail": "as detail", "code": 409}, {"code": "E1"}]
    envelope = read_envelope({"data": {"x": 1}, "errors": errors})
    assert envelope.error_messages() == ["capitalised", "as detail"] and envelope.data == {"x": 1}
    assert envelope.errors[1].code == 409 and envelope.meta == {}
    both = read_envelope({"errors": [{"detail": "second", "message": "first"}]})
    assert both.error_messages() == ["first"]
    with pytest.raises(PayloadError):
        read_envelope({"errors": 42})


def test_hostile_text_is_cleaned_through_from_data() -> None:
    """As the previous version cleaned it (EDF OA has no free-text field: every string is one line)."""
    hostile = "PROD\x1b]0;PWNED\x07\u202e\r\nX"
    entry_ = read(
        AckEntry,
        {"user_id": hostile, "ack_value": True, "ack_date": "2026-11-23T14:05:00+01:00", "ack_source": "portal\x9b"},
    )
    assert entry_.user_id == "PROD␛]0;PWNED␇\ufffd X"
    assert entry_.ack_source == "PORTAL␛["
    envelope = read_envelope({"errors": [{"message": hostile}]})
    assert envelope.error_messages() == ["PROD␛]0;PWNED␇\ufffd X"]


def test_timestamps_and_words_are_normalised_when_built_in_code_too() -> None:
    utc = dt.datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
    built = AckEntry(user_id="U", ack_value=True, ack_date=utc, ack_source=" portal ")
    assert built.ack_date.tzinfo is PARIS and built.ack_date == utc and built.ack_source == "PORTAL"
    naive = Period(start_date=dt.datetime(2026, 11, 24, 12), end_date=dt.datetime(2026, 11, 24, 13), value=1.0)
    assert naive.start_date == at(12, day=24)  # Paris wall time
    assert TokenStatus(expires_at=dt.datetime(2026, 12, 31, 23, 30)).expires_at == at(0, 30, day=1, month=1, year=2027)
    assert to_document(TokenStatus(expires_at=at(0, 30, day=1, month=1, year=2027))) == {
        "expires_at": "2026-12-31T23:30:00Z"
    }
    assert to_document(naive.__class__(start_date=utc.replace(microsecond=5), end_date=utc, value=0.0)) == {
        "start_date": "2026-11-23T14:05:00+01:00",
        "end_date": "2026-11-23T14:05:00+01:00",
        "value": 0.0,
    }


#: Snapshots as the previous version (pydantic, ``model_dump(mode="json")``) stored them:
#: taken by running that version's feeds' dumps.
OLD_SNAPSHOTS: dict[str, Any] = {
    "order": {
        "order_id": "OA-20261124-1A2B",
        "updated_at": "2026-11-23T13:00:00+01:00",
        "application_date": "2026-11-24",
        "curtailments": [
            {
                "producer_id": None,
                "manager_id": "MGR-1",
                "contract_id": "BOA0001",
                "plant_id": "30001234567890",
                "data": [
                    {"start_date": "2026-11-24T00:00:00+01:00", "end_date": "2026-11-24T12:00:00+01:00", "value": 0.0},
                    {"start_date": "2026-11-24T12:00:00+01:00", "end_date": "2026-11-24T14:00:00+01:00", "value": 1.0},
                ],
            },
            {"producer_id": None, "manager_id": None, "contract_id": "BOA0003", "plant_id": "3000", "data": []},
        ],
    },
    "acks": {
        "order_id": "OA-20261124-1A2B",
        "updated_at": "2026-11-23T14:06:00+01:00",
        "application_date": "2026-11-24",
        "acknowledgements": [
            {
                "producer_id": "PROD-0042",
                "manager_id": None,
                "contract_id": "BOA0001",
                "ack_list": [
                    {
                        "user_id": "PROD-0042",
                        "ack_value": True,
                        "ack_date": "2026-11-23T14:05:09+01:00",
                        "ack_source": "API",
                    }
                ],
            },
            {"producer_id": None, "manager_id": None, "contract_id": "BOA0002", "ack_list": []},
        ],
    },
    "contracts": [
        {
            "id": "BOA0001",
            "created_at": "2023-04-03T10:12:00+02:00",
            "updated_at": "2024-11-18T09:30:00+01:00",
            "producer_id": None,
            "manager_id": "MGR-1",
            "plant_id": "17W100P100P0345B",
            "status": "ACTIVE",
        }
    ],
    "token": {"expires_at": "2026-12-31T23:30:00Z"},
}


def test_snapshots_stored_by_the_previous_version_still_read() -> None:
    from pupitre.providers.edf_oa.feeds import _dump, _loader

    order = _loader(CurtailmentOrder)(OLD_SNAPSHOTS["order"])
    assert order.curtailments[0].manager_id == "MGR-1" and order.curtailments[0].data[1].start_date == at(12, day=24)
    assert order.updated_at == at(13) and order.application_date == dt.date(2026, 11, 24)
    acks = _loader(AcknowledgementsState)(OLD_SNAPSHOTS["acks"])
    assert acks.acknowledgements[0].producer_id == "PROD-0042" and acks.acknowledgements[1].ack_list == []
    assert acks.acknowledgements[0].ack_list[0].ack_date == at(14, 5, second=9)
    (contract_,) = _loader(list[Contract])(OLD_SNAPSHOTS["contracts"])
    assert contract_.manager_id == "MGR-1" and contract_.created_at.tzinfo is PARIS
    token = _loader(TokenStatus)(OLD_SNAPSHOTS["token"])
    assert token.expires_at == at(0, 30, day=1, month=1, year=2027) and token.expires_at.tzinfo is PARIS
    for kind, value in ((CurtailmentOrder, order), (AcknowledgementsState, acks), (list[Contract], [contract_])):
        assert _loader(kind)(_dump(value)) == value  # and what this version stores reads back the same
    assert _dump(order) == OLD_SNAPSHOTS["order"]  # written as before, too


def test_reports_share_one_hierarchy() -> None:
    order = {"application_date": "2026-11-24", "order_id": "OA-1"}
    leaf = {"id": "BOA0003", "plant_id": "30002345678901", "status": "ACTIVE"}
    ack = read(
        AckReport,
        {
            "producers": [
                {
                    "id": "PROD-0042",
                    "label": "Solaire du Midi SAS",
                    "contracts": [],
                    "managers": [
                        {
                            "id": "MGR-0101",
                            "label": "Gestion Sud",
                            "contracts": [
                                {
                                    **leaf,
                                    "orders": [
                                        {
                                            **order,
                                            "acknowledgements": [
                                                {
                                                    "ack_source": "API",
                                                    "ack_type": "GET_ORDER",
                                                    "ack_value": None,
                                                    "ack_date": "2026-11-23T13:35:00+01:00",
                                                    "user_id": "MGR-0101",
                                                }
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )
    rows = ack.rows()
    assert [(r.producer_id, r.manager_id, r.contract.id, r.order.acknowledgements[0].ack_type) for r in rows] == [
        ("PROD-0042", "MGR-0101", "BOA0003", "GET_ORDER")
    ]
    cur = read(
        CurtailmentReport,
        {
            "producers": [
                {
                    "id": "PROD-0042",
                    "label": "Solaire du Midi SAS",
                    "managers": [],
                    "contracts": [
                        {
                            **leaf,
                            "orders": [
                                {
                                    **order,
                                    "curtailment_data": {
                                        "periods": [
                                            {
                                                "start_date": "2026-11-24T12:00:00+01:00",
                                                "end_date": "2026-11-24T13:00:00+01:00",
                                                "value": 1.0,
                                            }
                                        ]
                                    },
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )
    assert [(p.id, m, c.id) for p, m, c in cur.contracts()] == [("PROD-0042", None, "BOA0003")]
    assert cur.rows()[0].order.curtailment_data.periods[0].value == 1.0


# -- RG_COR_0010: tomorrow ------------------------------------------------------------------------


def test_RG_COR_0010_application_date_is_the_paris_call_date_plus_one() -> None:
    assert rules.tomorrow(at(23, 59)) == dt.date(2026, 11, 24)
    late_utc = dt.datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30 on the 24th in Paris
    assert rules.tomorrow(late_utc) == dt.date(2026, 11, 25)
    assert rules.order_is_for_tomorrow(ORDER, at(14))
    assert not rules.order_is_for_tomorrow(ORDER, at(14, day=24))


# -- RG_COR_0030: periods --------------------------------------------------------------------------


def test_RG_COR_0030_curtailment_periods_are_the_ones_valued_1_merged_and_sorted() -> None:
    c = contract(
        "BOA0001",
        period("2026-11-24T14:00:00+01:00", "2026-11-24T15:00:00+01:00"),
        period("2026-11-24T00:00:00+01:00", "2026-11-24T12:00:00+01:00", 0.0),
        period("2026-11-24T12:00:00+01:00", "2026-11-24T13:00:00+01:00"),
        period("2026-11-24T13:00:00+01:00", "2026-11-24T14:00:00+01:00"),
        period("2026-11-24T16:30:00+01:00", "2026-11-24T17:00:00+01:00"),
        period("2026-11-24T17:00:00+01:00", "2026-11-25T00:00:00+01:00", 0.0),
    )
    spells = rules.curtailment_periods(c)
    assert [(p.start_date, p.end_date, p.value) for p in spells] == [
        (at(12, day=24), at(15, day=24), 1.0),
        (at(16, 30, day=24), at(17, day=24), 1.0),
    ]
    assert rules.has_curtailment(c) and not rules.has_curtailment(quiet("BOA0002"))
    assert rules.curtailed_contracts(ORDER) == ["BOA0001", "BOA0003"]
    # an undocumented fractional value is never hidden
    assert rules.has_curtailment(contract("X", period("2026-11-24T12:00:00+01:00", "2026-11-24T13:00:00+01:00", 0.5)))


def test_duration_is_elapsed_time_across_dst() -> None:
    spring = period("2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00")
    autumn = period("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00")
    assert rules.duration(spring) == dt.timedelta(minutes=30)
    assert rules.duration(autumn) == dt.timedelta(hours=1)


def test_hourly_timeline_on_the_23_hour_day() -> None:
    c = contract(
        "BOA0001",
        period("2026-03-29T01:00:00+01:00", "2026-03-29T03:30:00+02:00"),
        period("2026-03-29T12:00:00+02:00", "2026-03-29T13:00:00+02:00"),
    )
    timeline = rules.hourly_timeline(c, dt.date(2026, 3, 29))
    assert len(timeline) == 23
    assert [h.hour for h, _ in timeline][:4] == [0, 1, 3, 4]  # 02:00 does not exist
    assert [h.strftime("%H:%M%z") for h, on in timeline if on] == ["01:00+0100", "03:00+0200", "12:00+0200"]


def test_hourly_timeline_on_the_25_hour_day() -> None:
    # only the second 02:00 hour (CET, +01:00) is curtailed
    c = contract("BOA0001", period("2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"))
    timeline = rules.hourly_timeline(c, dt.date(2026, 10, 25))
    assert len(timeline) == 25
    assert [h.hour for h, _ in timeline][:5] == [0, 1, 2, 2, 3]
    flagged = [h for h, on in timeline if on]
    assert len(flagged) == 1 and flagged[0].utcoffset() == dt.timedelta(hours=1)
    assert flagged[0] == timeline[3][0]
    assert len(rules.hourly_timeline(c, dt.date(2026, 11, 24))) == 24


# -- acknowledgement building (RG_ACK_0020, RG_ACK_0030) -------------------------------------------


def test_RG_ACK_0020_true_will_respect_false_will_not() -> None:
    request = rules.build_request(ORDER, {"BOA0003": False, "BOA0001": True, "BOA0002": None})
    assert request.order_id == ORDER.order_id
    assert [(a.contract_id, a.ack_value) for a in request.acknowledgements] == [
        ("BOA0001", True),
        ("BOA0003", False),
    ]  # the order's contract order, unset ones left out
    assert to_data(request) == {
        "order_id": "OA-20261124-1A2B",
        "acknowledgements": [
            {"contract_id": "BOA0001", "ack_value": True},
            {"contract_id": "BOA0003", "ack_value": False},
        ],
    }


def test_RG_ACK_0030_contracts_left_out_count_as_refused() -> None:
    choices = {"BOA0001": True}
    assert rules.left_out(ORDER, choices) == ["BOA0002", "BOA0003"]
    assert rules.effective_values(ORDER, choices) == {"BOA0001": True, "BOA0002": False, "BOA0003": False}
    assert rules.left_out(ORDER, {"BOA0001": True, "BOA0002": True, "BOA0003": False}) == []


def test_build_request_refuses_empty_and_foreign_contracts() -> None:
    with pytest.raises(AckRuleError, match="nothing to acknowledge"):
        rules.build_request(ORDER, {})
    with pytest.raises(AckRuleError, match="nothing to acknowledge"):
        rules.build_request(ORDER, {"BOA0001": None})
    with pytest.raises(AckRuleError, match="BOA0009 is not in order OA-20261124-1A2B"):
        rules.build_request(ORDER, {"BOA0001": True, "BOA0009": True})
    with pytest.raises(AckRuleError):
        rules.left_out(ORDER, {"BOA0009": True})
    with pytest.raises(AckRuleError):
        rules.build_request(ORDER, {"BOA0001": 1})  # type: ignore[dict-item]  # not a bool: refused
    assert isinstance(AckRuleError("x"), ValueError)


def test_RG_ACK_0010_order_id_must_have_been_received_today() -> None:
    today = dt.date(2026, 11, 23)
    rules.check_order_id("OA-20261124-1A2B", ("OA-20261124-1A2B", today), today)
    rules.check_order_id(
        "OA-20261124-1A2B",
        {"OA-20261123-FFFF": dt.date(2026, 11, 22), "OA-20261124-1A2B": today},
        today,
        application_date=dt.date(2026, 11, 24),
    )
    with pytest.raises(AckRuleError) as caught:
        rules.check_order_id("OA-20261123-FFFF", ("OA-20261123-FFFF", dt.date(2026, 11, 22)), today)
    assert str(caught.value) == (
        "order OA-20261123-FFFF was received on 2026-11-22, not today: "
        "refresh the curtailments and acknowledge today's order"
    )
    with pytest.raises(AckRuleError, match="was not received"):
        rules.check_order_id("OA-other", ("OA-20261124-1A2B", today), today)
    with pytest.raises(AckRuleError, match="not tomorrow"):
        rules.check_order_id("OA-20261124-1A2B", ("OA-20261124-1A2B", today), today, application_date=today)


# -- §5.1.1: the last acknowledgement of the day ----------------------------------------------------


def test_last_acknowledgement_of_the_day_is_retained_5_1_1() -> None:
    acks = state(
        {
            "BOA0001": [
                entry(True, at(14, 30)),
                entry(False, at(13, 50)),
                entry(False, at(15, 10), "PORTAL", "MGR-0101"),
            ],
            "BOA0003": [entry(True, at(14)), entry(False, at(14))],
        }
    )
    latest = rules.latest_acks(acks)
    assert (latest["BOA0001"].ack_value, latest["BOA0001"].ack_source) == (False, "PORTAL")
    assert latest["BOA0003"].ack_value is False  # same instant: the later in the list
    assert "BOA0002" not in latest


# -- ack summary ------------------------------------------------------------------------------------


def test_ack_summary_attention_before_the_deadline() -> None:
    summary = rules.ack_summary(ORDER, state({"BOA0001": [entry(True, at(14))]}), at(14, 5), DEADLINE)
    assert summary.level == "attention"
    assert summary.needing == ["BOA0001", "BOA0003"]
    assert summary.acknowledged_true == ["BOA0001"] and summary.acknowledged_false == []
    assert summary.not_acknowledged == ["BOA0002", "BOA0003"] and summary.missing == ["BOA0003"]
    assert summary.deadline == at(16) and summary.is_current


def test_ack_summary_critical_past_the_deadline() -> None:
    summary = rules.ack_summary(ORDER, None, at(16), DEADLINE)
    assert summary.level == "critical" and summary.missing == ["BOA0001", "BOA0003"]
    assert rules.ack_summary(ORDER, None, at(15, 59, second=59), DEADLINE).level == "attention"


def test_ack_summary_ok_when_every_curtailed_contract_is_acknowledged() -> None:
    acks = state({"BOA0001": [entry(True, at(14))], "BOA0003": [entry(False, at(14))]})
    summary = rules.ack_summary(ORDER, acks, at(17), DEADLINE)
    assert summary.level == "ok"
    assert summary.refused == ["BOA0003"] and summary.acknowledged_false == ["BOA0003"]
    assert summary.not_acknowledged == ["BOA0002"]  # no curtailment: not needed


def ours(values: dict[str, bool], left_out: list[str], when: dt.datetime, origin: str = "#7") -> rules.SentAck:
    return rules.SentAck(ORDER.order_id, {**values, **{c: False for c in left_out}}, left_out, when, origin)


def test_refused_by_omission_is_counted_apart_from_will_not() -> None:
    """RG_ACK_0030: BOA0003 left out of our POST reads false, like a refusal on purpose; the
    summary (and the Overview) count it apart, and a refusal by omission needs attention."""
    sent = ours({"BOA0001": True}, ["BOA0002", "BOA0003"], at(14))
    acks = state(
        {
            "BOA0001": [entry(True, at(14))],
            "BOA0002": [entry(False, at(14))],
            "BOA0003": [entry(False, at(14))],
        }
    )
    summary = rules.ack_summary(ORDER, acks, at(14, 5), DEADLINE, sent)
    assert summary.will_respect == ["BOA0001"] and summary.will_not == [] and summary.by_omission == ["BOA0003"]
    assert summary.missing == [] and summary.level == "attention"
    assert summary.counts() == "1 will respect · 0 will not · 1 refused by omission · 0 not acknowledged"
    decided = state(  # a PORTAL false after ours is a decision, not an omission
        {
            "BOA0001": [entry(True, at(14))],
            "BOA0003": [entry(False, at(14)), entry(False, at(14, 30), "PORTAL", "MGR-0101")],
        }
    )
    assert rules.refused_by_omission(decided, sent) == []
    on_purpose = rules.ack_summary(
        ORDER, acks, at(14, 5), DEADLINE, ours({"BOA0001": True, "BOA0003": False}, [], at(14))
    )
    assert on_purpose.will_not == ["BOA0003"] and on_purpose.by_omission == [] and on_purpose.level == "ok"


def test_a_portal_acknowledgement_after_ours_is_an_override() -> None:
    """Issue 16: a manager acknowledged BOA0003=true on the PORTAL after our verified false."""
    sent = ours({"BOA0001": True}, ["BOA0002", "BOA0003"], at(14))
    acks = state(
        {
            "BOA0001": [entry(True, at(14))],
            "BOA0002": [entry(False, at(14))],
            "BOA0003": [entry(False, at(14)), entry(True, at(14, 40), "PORTAL", "MGR-0101")],
        }
    )
    summary = rules.ack_summary(ORDER, acks, at(14, 45), DEADLINE, sent)
    assert [(o.contract_id, o.ours, o.entry.ack_source) for o in summary.overridden] == [("BOA0003", False, "PORTAL")]
    assert summary.overridden[0].sentence() == "BOA0003 now true (by MGR-0101 via PORTAL at 14:40; we sent false)"
    assert summary.level == "attention" and summary.by_omission == []  # no longer false by omission
    # another API user (same value as ours: no override; a different one: an override)
    other = state({"BOA0001": [entry(True, at(14)), entry(False, at(15), "API", "PROD-0099")]})
    assert [o.contract_id for o in rules.overrides(other, sent)] == ["BOA0001"]


def test_what_was_retained_before_ours_is_no_override() -> None:
    """A state read before our acknowledgement landed (the PORTAL's 13:40 true, then ours at
    14:00 not yet visible) shows no override: only what came after ours counts."""
    sent = ours({"BOA0003": False}, [], at(14))
    before = state({"BOA0003": [entry(True, at(13, 40), "PORTAL", "MGR-0101")]})
    assert rules.overrides(before, sent) == []


def test_adopted_values_are_the_new_reference() -> None:
    acks = state({"BOA0003": [entry(False, at(14)), entry(True, at(14, 40), "PORTAL", "MGR-0101")]})
    adopted = ours({"BOA0003": True}, [], at(14, 50), origin="adopted")
    assert rules.overrides(acks, adopted) == []
    assert rules.refused_by_omission(acks, adopted) == []
    later = state({"BOA0003": [entry(True, at(14, 40), "PORTAL"), entry(False, at(15), "PORTAL", "MGR-0101")]})
    assert [o.contract_id for o in rules.overrides(later, adopted)] == ["BOA0003"]


def test_ack_summary_no_curtailment_is_ok() -> None:
    order = make_order(quiet("BOA0001"), quiet("BOA0002"))
    summary = rules.ack_summary(order, None, at(17), DEADLINE)
    assert summary.level == "ok" and summary.needing == []


def test_ack_summary_ignores_acknowledgements_of_another_order() -> None:
    other = state({"BOA0001": [entry(True, at(14))], "BOA0003": [entry(True, at(14))]}, order_id="OA-20261123-FFFF")
    summary = rules.ack_summary(ORDER, other, at(14, 5), DEADLINE)
    assert summary.level == "attention" and summary.acknowledged_true == []
    assert not rules.ack_summary(ORDER, None, at(14, 5, day=24), DEADLINE).is_current


def test_ack_summary_flags_acknowledgements_older_than_the_order_update() -> None:
    order = make_order(curtailed("BOA0001"), updated_at=at(14, 30))
    summary = rules.ack_summary(order, state({"BOA0001": [entry(True, at(14))]}, order), at(15), DEADLINE)
    assert summary.level == "ok" and summary.acked_before_update == ["BOA0001"]


# -- call window (§4.1.2) ---------------------------------------------------------------------------


def test_call_window_bounds() -> None:
    assert rules.window_bounds(at(9), START, END) == (at(13, 30), at(16))
    assert not rules.in_call_window(at(13, 29, second=59), START, END)
    assert rules.in_call_window(at(13, 30), START, END)
    assert rules.in_call_window(at(15, 59, second=59), START, END)
    assert not rules.in_call_window(at(16), START, END)


PUBLICATION = dt.time(13, 0)


@pytest.mark.parametrize(
    "now, expected",
    [
        (at(12, 30), 900.0),  # slow: the order is published in 30 min
        (at(12, 50), 605.0),  # never sleep past 13:00 (+5 s for the publication to land)
        (at(12, 59, second=30), 35.0),
        (at(13), 60.0),  # fast from the publication: the order is seen within a minute
        (at(13, 20), 60.0),  # before the call window (13:30) too
        (at(15, 59, second=59), 60.0),
        (at(16), 900.0),  # closed: slow again
        (at(12, 55, day=24), 305.0),  # the next day's publication
    ],
)
def test_poll_interval_from_the_publication_to_the_end_of_the_window(now: dt.datetime, expected: float) -> None:
    """Issue 16: the order published at 13:00 was not seen until 13:15 (900 s outside 13:30-16:00)."""
    assert rules.poll_interval(now, PUBLICATION, END, 60.0, 900.0) == expected


def test_poll_interval_after_the_window_waits_for_tomorrow_when_slow_is_long() -> None:
    assert rules.poll_interval(at(16), PUBLICATION, END, 60, 86400) == 21 * 3600 + 5


# -- token (§9) -------------------------------------------------------------------------------------


def test_token_days_left_and_level() -> None:
    status = TokenStatus(expires_at=at(12, day=30))
    assert rules.token_days_left(status, at(12)) == 7.0
    assert rules.token_level(status, at(12), 14) == "attention"
    assert rules.token_level(status, at(12), 5) == "ok"
    assert rules.token_level(status, at(12, 30, day=29), 5) == "critical"  # < 1 day
    assert rules.token_level(status, at(13, day=30), 5) == "critical"  # expired
    assert rules.token_days_left(status, at(13, day=30)) < 0


def test_RG_TOK_STA_0010_days_left_across_dst_are_elapsed_days() -> None:
    status = read(TokenStatus, {"expires_at": "2026-10-26T11:00:00Z"})  # 12:00 CET
    assert rules.token_days_left(status, at(12, day=24, month=10)) == pytest.approx(2 + 1 / 24)


def test_parse_hhmm() -> None:
    assert rules.parse_hhmm("13:30") == dt.time(13, 30)
    assert rules.parse_hhmm("16:00") == dt.time(16)
    for bad in ("25:00", "1330", "13:60", ""):
        with pytest.raises(ValueError):
            rules.parse_hhmm(bad)


def test_refused_by_omission_stays_apart_when_the_last_acknowledgement_is_not_ours(tmp_path: Any) -> None:
    """Issue 16, RG_ACK_0030: BOA0003 left out of an acknowledgement sent by another operator's
    pupitre (the team's store) is refused by omission; it stays counted apart after a manager's
    PORTAL acknowledgement of another contract and after the operator adopts EDF OA's values
    (``k``: the reference is then EDF OA's, not ours); only someone's later false on BOA0003
    itself is a decision."""
    from pupitre.providers.core.store import Store
    from pupitre.providers.edf_oa.feeds import ACK_ACTION, PROVIDER, adopt, sent_ack

    store = Store(tmp_path / "team.sqlite3")
    store.operator = "bob@jump-3"  # not this console's operator: another process sent it
    payload = {
        "order_id": ORDER.order_id,
        "request": {"order_id": ORDER.order_id, "acknowledgements": [{"contract_id": "BOA0001", "ack_value": True}]},
        "left_out": ["BOA0002", "BOA0003"],
    }
    item = store.outbox_add(PROVIDER, ACK_ACTION, payload, at(14))
    store.outbox_update(item, "delivered", at(14), response="accepted")
    store.operator = "ana@jump-2"
    posted = {"BOA0001": [entry(True, at(14))], "BOA0002": [entry(False, at(14))], "BOA0003": [entry(False, at(14))]}

    def summary(acks: dict[str, list[AckEntry]], now: dt.datetime) -> rules.AckSummary:
        return rules.ack_summary(ORDER, state(acks), now, DEADLINE, sent_ack(store, ORDER.order_id))

    assert summary(posted, at(14, 5)).by_omission == ["BOA0003"]
    portal = {**posted, "BOA0002": [*posted["BOA0002"], entry(True, at(14, 30), "PORTAL", "MGR-0101")]}
    after_portal = summary(portal, at(14, 35))
    assert after_portal.by_omission == ["BOA0003"] and after_portal.will_not == []
    assert [o.contract_id for o in after_portal.overridden] == ["BOA0002"]

    adopt(store, state(portal), at(14, 40))  # the operator takes EDF OA's values as the reference
    adopted = summary(portal, at(14, 45))
    assert adopted.overridden == []
    assert adopted.by_omission == ["BOA0003"] and adopted.will_not == []  # still nobody's decision
    assert adopted.counts() == "1 will respect · 0 will not · 1 refused by omission · 0 not acknowledged"

    decided = {**portal, "BOA0003": [*portal["BOA0003"], entry(False, at(15), "PORTAL", "MGR-0101")]}
    assert summary(decided, at(15, 5)).will_not == ["BOA0003"] and summary(decided, at(15, 5)).by_omission == []
    store.close()
