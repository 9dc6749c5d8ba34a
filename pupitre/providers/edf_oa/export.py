"""EDF OA reports (§7.1.4, §8.1.4) flattened to CSV rows, and the CSV file itself.

Pure functions, no Textual. A report is a hierarchy producers → managers →
contracts → orders → leaves (RG_REP_ACK_0010, RG_REP_CUR_0010); a CSV row is one
leaf — an acknowledgement event, or a curtailment period — carrying every level
above it, so the file reads without the tree:

``producer_id, producer_label, manager_id, manager_label, contract_id, plant_id,
contract_status, application_date, order_id`` then the leaf's own columns.

A contract held directly by its producer has empty ``manager_id``/``manager_label``.
An order without any leaf (no acknowledgement event yet, or no period) gives no
row. Values are text: timestamps ISO 8601 with the Paris offset
(``2026-11-23T13:45:00+01:00``), dates ``YYYY-MM-DD``, booleans ``true``/``false``
(empty for a ``GET_ORDER`` event, which has no value).

:func:`pupitre.providers.core.files.write_csv` writes these rows atomically (temporary
file in the same directory, then ``os.replace``), mode 0600, the directory created 0700.
Cells from the API that a spreadsheet would run as a formula (``=…``, ``+…``, ``@…``) are
prefixed with ``'``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pupitre.providers.edf_oa.models import Report, ReportRow, format_timestamp
from pupitre.providers.edf_oa.reports import AckReport, CurtailmentReport

HIERARCHY_COLUMNS = (
    "producer_id",
    "producer_label",
    "manager_id",
    "manager_label",
    "contract_id",
    "plant_id",
    "contract_status",
    "application_date",
    "order_id",
)
ACK_COLUMNS: tuple[str, ...] = HIERARCHY_COLUMNS + ("ack_source", "ack_type", "ack_value", "ack_date", "user_id")
CURTAILMENT_COLUMNS: tuple[str, ...] = HIERARCHY_COLUMNS + ("start_date", "end_date", "value")

ReportKind = Literal["ack", "curtailment"]


def report_filename(kind: ReportKind, start: dt.date, end: dt.date) -> str:
    """``edf_oa-<ack|curtailment>-report-<start>_<end>.csv`` (ISO dates)."""
    return f"edf_oa-{kind}-report-{start.isoformat()}_{end.isoformat()}.csv"


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _hierarchy(row: ReportRow[Any]) -> dict[str, str]:
    return {
        "producer_id": row.producer_id,
        "producer_label": row.producer_label,
        "manager_id": row.manager_id or "",
        "manager_label": row.manager_label or "",
        "contract_id": row.contract.id,
        "plant_id": row.contract.plant_id,
        "contract_status": row.contract.status,
        "application_date": row.order.application_date.isoformat(),
        "order_id": row.order.order_id,
    }


def ack_report_rows(report: AckReport | Report[Any]) -> list[dict[str, str]]:
    """One row per acknowledgement event (RG_REP_ACK_0050 type, RG_REP_ACK_0060 source)."""
    return [
        {
            **_hierarchy(row),
            "ack_source": ack.ack_source,
            "ack_type": ack.ack_type,
            "ack_value": _bool(ack.ack_value),
            "ack_date": format_timestamp(ack.ack_date),
            "user_id": ack.user_id,
        }
        for row in report.rows()
        for ack in row.order.acknowledgements
    ]


def curtailment_report_rows(report: CurtailmentReport | Report[Any]) -> list[dict[str, str]]:
    """One row per period of ``curtailment_data`` (RG_COR_0030: value 1.0 curtail, 0.0 none)."""
    return [
        {
            **_hierarchy(row),
            "start_date": format_timestamp(period.start_date),
            "end_date": format_timestamp(period.end_date),
            "value": repr(float(period.value)),
        }
        for row in report.rows()
        for period in row.order.curtailment_data.periods
    ]
