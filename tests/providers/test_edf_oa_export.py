"""EDF OA reports as CSV rows (RG_REP_ACK_0010, RG_REP_CUR_0010): one row per leaf with its
hierarchy, built from reports the simulator serves through the real client."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from typing import Any, AsyncIterator

import httpx
import pytest

from pupitre.providers.core.auth import StaticBearer
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.files import write_csv
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.edf_oa.client import EdfOaClient
from pupitre.providers.edf_oa.export import (
    ACK_COLUMNS,
    CURTAILMENT_COLUMNS,
    ack_report_rows,
    curtailment_report_rows,
    report_filename,
)
from pupitre.providers.edf_oa.reports import AckReport, CurtailmentReport
from pupitre.providers.edf_oa.sandbox import EdfOaSimulator

BASE_URL = "http://edf-oa.sandbox.invalid/api"
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=PARIS)
WEEK = (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
MANAGER_OF = {
    "BOA0001": "",
    "BOA0002": "",
    "BOA0003": "MGR-0101",
    "BOA0004": "MGR-0101",
    "BOA0005": "MGR-0102",
    "BOA0006": "MGR-0102",
}
ISO_WITH_OFFSET = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


@pytest.fixture
async def client() -> AsyncIterator[EdfOaClient]:
    sim = EdfOaSimulator(ManualClock(NOW), seed=3)
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        yield EdfOaClient(http, BASE_URL, StaticBearer(sim.current_token))


@pytest.fixture
async def ack_report(client: EdfOaClient) -> AckReport:
    return await client.acknowledgements_report(start_date=WEEK[0], end_date=WEEK[1])


@pytest.fixture
async def curtailment_report(client: EdfOaClient) -> CurtailmentReport:
    return await client.curtailments_report(start_date=WEEK[0], end_date=WEEK[1])


def leaves(report: Any, attribute: str) -> list[tuple[str, str, Any]]:
    """(contract, order id, leaf) walking the model's own hierarchy."""
    out = []
    for producer in report.producers:
        holders = [producer.contracts] + [m.contracts for m in producer.managers]
        for contracts in holders:
            for contract in contracts:
                for order in contract.orders:
                    items = order.acknowledgements if attribute == "acks" else order.curtailment_data.periods
                    out += [(contract.id, order.order_id, item) for item in items]
    return out


async def test_ack_rows_one_per_event_with_the_hierarchy(ack_report: AckReport) -> None:
    rows = ack_report_rows(ack_report)
    expected = leaves(ack_report, "acks")
    assert len(rows) == len(expected) > 7 * 5  # at least a GET_ORDER and a SET_ACK per order
    assert [(r["contract_id"], r["order_id"]) for r in rows] == [(c, o) for c, o, _ in expected]
    for row in rows:
        assert tuple(row) == ACK_COLUMNS
        assert (row["producer_id"], row["producer_label"]) == ("PROD-0042", "Solaire du Midi SAS")
        assert row["manager_id"] == MANAGER_OF[row["contract_id"]]  # managers' contracts are theirs
        assert (
            row["manager_label"] == {"": "", "MGR-0101": "Gestion Sud", "MGR-0102": "Énergie Ouest"}[row["manager_id"]]
        )
        assert row["contract_status"] == "ACTIVE" and row["plant_id"]
        assert WEEK[0].isoformat() <= row["application_date"] <= WEEK[1].isoformat()
        assert row["order_id"].startswith("OA-" + row["application_date"].replace("-", ""))
        assert row["ack_source"] in {"API", "PORTAL"}
        assert row["ack_type"] in {"GET_ORDER", "SET_ACK"}  # RG_REP_ACK_0050
        assert row["ack_value"] in ({""} if row["ack_type"] == "GET_ORDER" else {"true", "false"})
        assert dt.datetime.fromisoformat(row["ack_date"]).utcoffset() == dt.timedelta(hours=1)
    assert {r["contract_id"] for r in rows} == {"BOA0001", "BOA0002", "BOA0003", "BOA0004", "BOA0005"}
    first = expected[0][2]
    assert rows[0]["ack_date"] == first.ack_date.isoformat(timespec="seconds")
    assert rows[0]["user_id"] == first.user_id


async def test_curtailment_rows_one_per_period(curtailment_report: CurtailmentReport) -> None:
    rows = curtailment_report_rows(curtailment_report)
    expected = leaves(curtailment_report, "periods")
    assert len(rows) == len(expected) >= 7 * 5
    for row, (contract_id, order_id, period) in zip(rows, expected, strict=True):
        assert tuple(row) == CURTAILMENT_COLUMNS
        assert (row["contract_id"], row["order_id"]) == (contract_id, order_id)
        assert row["manager_id"] == MANAGER_OF[contract_id]
        assert dt.datetime.fromisoformat(row["start_date"]) == period.start_date
        assert dt.datetime.fromisoformat(row["end_date"]) == period.end_date
        assert row["start_date"].endswith("+01:00")
        assert float(row["value"]) == period.value and row["value"] in {"0.0", "1.0"}


async def test_expired_contract_without_orders_gives_no_row(client: EdfOaClient) -> None:
    report = await client.acknowledgements_report(contract_ids=["BOA0006"], start_date=WEEK[0], end_date=WEEK[1])
    [(_, manager, contract)] = list(report.contracts())
    assert (manager.id, contract.status, contract.orders) == ("MGR-0102", "EXPIRED", [])
    assert ack_report_rows(report) == []


async def test_csv_parses_back_and_is_private(
    ack_report: AckReport, curtailment_report: CurtailmentReport, tmp_path
) -> None:
    for rows, kind in (
        (ack_report_rows(ack_report), "ack"),
        (curtailment_report_rows(curtailment_report), "curtailment"),
    ):
        path = tmp_path / "exports" / report_filename(kind, *WEEK)  # type: ignore[arg-type]  # the loop's kinds are the two ReportKinds
        assert write_csv(rows, path) == path
        assert path.name == f"edf_oa-{kind}-report-2026-11-16_2026-11-22.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            assert list(csv.DictReader(handle)) == rows
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        "edf_oa-ack-report-2026-11-16_2026-11-22.csv",
        "edf_oa-curtailment-report-2026-11-16_2026-11-22.csv",
    ]


def test_empty_report_writes_the_header_and_replaces_the_old_file(tmp_path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("old content\n")
    os.chmod(path, 0o644)
    write_csv([], path, ACK_COLUMNS)
    assert path.read_text(encoding="utf-8-sig").splitlines() == [",".join(ACK_COLUMNS)]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]  # no temporary file left
    with pytest.raises(ValueError):
        write_csv([], path)


def test_formula_like_api_text_is_neutralised(tmp_path) -> None:
    path = write_csv(
        [{"producer_label": '=HYPERLINK("x")', "user_id": "@me", "value": "-1.0", "manager_label": "-x"}],
        tmp_path / "x.csv",
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row == {"producer_label": '\'=HYPERLINK("x")', "user_id": "'@me", "value": "-1.0", "manager_label": "'-x"}


def test_csv_starts_with_a_bom_for_spreadsheets(tmp_path):
    path = tmp_path / "x.csv"
    write_csv([], path, ACK_COLUMNS)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
