"""EDF OA SMART OA rules as pure functions (no I/O).

- RG_COR_0010: ``GET /curtailments`` returns tomorrow's order (call date + 1, Paris).
- RG_COR_0030: a period's ``value`` 1.0 = curtailment needed, 0.0 = none.
- RG_ACK_0010: the ``order_id`` acknowledged must be the one received *today*.
- RG_ACK_0020: ``true`` = will respect the order, ``false`` = will not.
- RG_ACK_0030: every contract of the order left out of a POST counts as ``false``.
- §5.1.1: EDF OA retains the *last* acknowledgement of the day.
- §4.1.2: call between 13:30 and 16:00 (SPOT results published around 13:00).

Instants are compared and subtracted in UTC: Python's ``<`` and ``-`` on two
datetimes of the same ``ZoneInfo`` use wall-clock time and are wrong in the
repeated hour of the autumn DST change.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, Mapping

import msgspec

from pupitre.providers.core.clock import PARIS, UTC, paris
from pupitre.providers.edf_oa.models import (
    AckEntry,
    AckItem,
    AcknowledgementRequest,
    AcknowledgementsState,
    ContractCurtailment,
    CurtailmentOrder,
    Period,
    TokenStatus,
)

Level = Literal["ok", "attention", "critical"]
#: Operator choices per contract id: True "will respect", False "will not respect",
#: None or absent "not set" (RG_ACK_0020).
AckChoices = dict[str, bool | None]

CURTAIL = 1.0
NO_CURTAIL = 0.0
HOUR = dt.timedelta(hours=1)
DAY_SECONDS = 86400.0


class AckRuleError(ValueError):
    """An acknowledgement refused locally; ``str()`` is a sentence for the operator."""


def _utc(moment: dt.datetime) -> dt.datetime:
    return paris(moment).astimezone(UTC)


def parse_hhmm(text: str) -> dt.time:
    """``"13:30"`` → ``time(13, 30)`` (settings ``window_start``/``window_end``/``ack_deadline``)."""
    match = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*", text or "")
    if match is None:
        raise ValueError(f"not a time of day HH:MM: {text!r}")
    return dt.time(int(match[1]), int(match[2]))


# -- tomorrow's order (RG_COR_0010) -----------------------------------------------------------


def tomorrow(now: dt.datetime) -> dt.date:
    """The application date of an order fetched at ``now``: call date + 1, Paris (RG_COR_0010)."""
    return paris(now).date() + dt.timedelta(days=1)


def order_is_for_tomorrow(order: CurtailmentOrder, now: dt.datetime) -> bool:
    """RG_COR_0010: ``application_date`` = date of the call + 1 (Paris calendar)."""
    return order.application_date == tomorrow(now)


# -- periods (RG_COR_0030) --------------------------------------------------------------------


def is_curtailment(period: Period) -> bool:
    """RG_COR_0030: 1.0 = curtail, 0.0 = none.

    Any other non-zero value is undocumented; it is treated as a curtailment so that
    it is never hidden from the operator.
    """
    return period.value != NO_CURTAIL


def duration(period: Period) -> dt.timedelta:
    """Elapsed time of a period (DST-safe: computed in UTC)."""
    return _utc(period.end_date) - _utc(period.start_date)


def curtailment_periods(contract: ContractCurtailment) -> list[Period]:
    """The curtailment periods of a contract (RG_COR_0030), sorted, touching or
    overlapping ones merged (value 1.0), in Paris time."""
    spells = sorted(
        ((_utc(p.start_date), _utc(p.end_date)) for p in contract.data if is_curtailment(p)), key=lambda s: s[0]
    )
    merged: list[list[dt.datetime]] = []
    for start, end in spells:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [
        Period(start_date=start.astimezone(PARIS), end_date=end.astimezone(PARIS), value=CURTAIL)
        for start, end in merged
    ]


def has_curtailment(contract: ContractCurtailment) -> bool:
    """Whether the contract has at least one curtailment period (RG_COR_0030)."""
    return any(is_curtailment(p) for p in contract.data)


def curtailed_contracts(order: CurtailmentOrder) -> list[str]:
    """Contracts of the order with a curtailment, in the order's order (RG_COR_0030)."""
    return [
        cid for cid in order.contract_ids if any(has_curtailment(c) for c in order.curtailments if c.contract_id == cid)
    ]


def day_hours(day: dt.date) -> list[dt.datetime]:
    """The real local hour starts of calendar ``day`` in Paris: 24, 23 or 25."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS).astimezone(UTC)
    stop = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS).astimezone(UTC)
    hours = []
    while start < stop:
        hours.append(start.astimezone(PARIS))
        start += HOUR
    return hours


def hourly_timeline(contract: ContractCurtailment, day: dt.date) -> list[tuple[dt.datetime, bool]]:
    """For each real hour of ``day`` (23 on the last Sunday of March, 25 on the last
    Sunday of October): its start (Paris) and whether a curtailment overlaps it."""
    spells = [(_utc(p.start_date), _utc(p.end_date)) for p in curtailment_periods(contract)]
    timeline = []
    for hour in day_hours(day):
        start = _utc(hour)
        end = start + HOUR
        timeline.append((hour, any(s < end and e > start for s, e in spells)))
    return timeline


# -- building an acknowledgement (RG_ACK_0020, RG_ACK_0030) ---------------------------------


def _check_choices(order: CurtailmentOrder, choices: Mapping[str, bool | None]) -> None:
    known = set(order.contract_ids)
    unknown = [cid for cid in choices if cid not in known]
    if unknown:
        raise AckRuleError(
            f"contract {', '.join(unknown)} is not in order {order.order_id}: refresh the curtailments and choose again"
        )
    wrong = [cid for cid, value in choices.items() if value is not None and not isinstance(value, bool)]
    if wrong:
        raise AckRuleError(f"the choice for {', '.join(wrong)} must be respect, not respect or unset")


def build_request(order: CurtailmentOrder, choices: Mapping[str, bool | None]) -> AcknowledgementRequest:
    """The ``POST /acknowledgements`` body (§5.1.3): the contracts set, in the order's order.

    RG_ACK_0020: True = will respect, False = will not. Contracts left unset are NOT
    sent, and EDF OA records them as ``false`` (RG_ACK_0030; see :func:`left_out`).
    The order must be the *full* order of the account (fetched without a
    ``contract_ids`` filter), otherwise contracts outside the filter are refused
    silently. Raises :class:`AckRuleError` for an empty request or a contract not in
    the order.
    """
    _check_choices(order, choices)
    items = [
        AckItem(contract_id=cid, ack_value=value)
        for cid in order.contract_ids
        if (value := choices.get(cid)) is not None
    ]
    if not items:
        raise AckRuleError(
            "nothing to acknowledge: choose respect or not respect for at least one "
            "contract (contracts left out count as refused)"
        )
    return AcknowledgementRequest(order_id=order.order_id, acknowledgements=items)


def left_out(order: CurtailmentOrder, choices: Mapping[str, bool | None]) -> list[str]:
    """Contracts of the order not set, which EDF OA will count as refused (RG_ACK_0030)."""
    _check_choices(order, choices)
    return [cid for cid in order.contract_ids if choices.get(cid) is None]


def effective_values(order: CurtailmentOrder, choices: Mapping[str, bool | None]) -> dict[str, bool]:
    """What EDF OA will retain for every contract of the order after the POST:
    the choice, or False when unset (RG_ACK_0030)."""
    _check_choices(order, choices)
    return {cid: choices.get(cid) is True for cid in order.contract_ids}


def check_order_id(
    order_id: str,
    received: Mapping[str, dt.date] | tuple[str, dt.date],
    today: dt.date,
    *,
    application_date: dt.date | None = None,
) -> None:
    """RG_ACK_0010: ``order_id`` must be one received from ``GET /curtailments`` today.

    ``received`` is what the caller recorded: ``(order_id, date received)`` or a
    mapping order_id → date received (Paris calendar). ``application_date``, if
    given, must be ``today + 1`` (RG_COR_0010). Raises :class:`AckRuleError`.
    """
    seen = dict([received]) if isinstance(received, tuple) else dict(received)
    if order_id not in seen:
        raise AckRuleError(
            f"order {order_id} was not received from the curtailments today: "
            "refresh the curtailments and acknowledge today's order"
        )
    if seen[order_id] != today:
        raise AckRuleError(
            f"order {order_id} was received on {seen[order_id].isoformat()}, not "
            "today: refresh the curtailments and acknowledge today's order"
        )
    if application_date is not None and application_date != today + dt.timedelta(days=1):
        raise AckRuleError(
            f"order {order_id} applies on {application_date.isoformat()}, not "
            "tomorrow: refresh the curtailments and acknowledge today's order"
        )


# -- acknowledgements made (§5.1.1, §5.2.4) ---------------------------------------------------


def latest_acks(state: AcknowledgementsState) -> dict[str, AckEntry]:
    """Per contract, the acknowledgement with the latest ``ack_date``, API or PORTAL:
    the one EDF OA retains (§5.1.1 "le dernier de la journée"). Equal dates: the
    later one in the list."""
    latest: dict[str, AckEntry] = {}
    for contract in state.acknowledgements:
        for entry in contract.ack_list:
            kept = latest.get(contract.contract_id)
            if kept is None or _utc(entry.ack_date) >= _utc(kept.ack_date):
                latest[contract.contract_id] = entry
    return latest


class SentAck(msgspec.Struct, frozen=True):
    """What we last made EDF OA retain for an order: the values of our latest delivered
    acknowledgement (``False`` for the contracts it left out, RG_ACK_0030), or EDF OA's
    values once the operator adopted them. Any later difference is an :class:`Override`."""

    order_id: str
    values: dict[str, bool]
    left_out: list[str]
    at: dt.datetime
    #: ``"#12"`` for an outbox item, ``"adopted"`` for EDF OA's values taken as ours
    origin: str
    item_id: int | None = None
    #: when the acknowledgement that left out ``left_out`` was delivered, for adopted values
    #: (adopting EDF OA's values does not make an omission anyone's decision); else :attr:`at`
    sent_at: dt.datetime | None = None


class Override(msgspec.Struct, frozen=True):
    """A contract whose retained value (§5.1.1: the last of the day) is no longer ours:
    someone acknowledged it since (on the PORTAL, or another API user)."""

    contract_id: str
    ours: bool
    entry: AckEntry

    def sentence(self) -> str:
        entry = self.entry
        return (
            f"{self.contract_id} now {'true' if entry.ack_value else 'false'} "
            f"(by {entry.user_id} via {entry.ack_source} at {paris(entry.ack_date):%H:%M}; "
            f"we sent {'true' if self.ours else 'false'})"
        )


#: How far EDF OA's clock may be behind ours when its dates are compared with our delivery.
CLOCK_SKEW = dt.timedelta(minutes=2)


def overrides(state: AcknowledgementsState | None, ours: SentAck | None) -> list[Override]:
    """The contracts of ``ours``' order whose retained value was set after ours (less
    :data:`CLOCK_SKEW`) to something else, in the order of ``ours``. Empty when ``state``
    is another order's or there is nothing of ours; an older state (read before our
    acknowledgement landed) shows no override, only what came after."""
    if state is None or ours is None or state.order_id != ours.order_id:
        return []
    latest = latest_acks(state)
    since = _utc(ours.at) - CLOCK_SKEW
    return [
        Override(cid, value, latest[cid])
        for cid, value in ours.values.items()
        if cid in latest and latest[cid].ack_value != value and _utc(latest[cid].ack_date) >= since
    ]


def refused_by_omission(state: AcknowledgementsState | None, ours: SentAck | None) -> list[str]:
    """Contracts EDF OA retains as ``false`` only because our acknowledgement left them out
    (RG_ACK_0030), and that nobody acknowledged since — also once EDF OA's values were adopted
    as the reference (the false is still nobody's decision)."""
    if state is None or ours is None or state.order_id != ours.order_id or not ours.left_out:
        return []
    latest = latest_acks(state)
    # a later false is someone's decision, not our omission
    until = _utc(ours.sent_at if ours.sent_at is not None else ours.at) + CLOCK_SKEW
    return [
        cid
        for cid in ours.left_out
        if cid in latest and latest[cid].ack_value is False and _utc(latest[cid].ack_date) <= until
    ]


class AckSummary(msgspec.Struct, frozen=True):
    """Where tomorrow's acknowledgement stands.

    ``needing``: contracts with a curtailment (RG_COR_0030). ``acknowledged_true`` /
    ``acknowledged_false`` / ``not_acknowledged``: every contract of the order by the
    retained value (§5.1.1). ``refused``: needing contracts retained as ``false``;
    ``by_omission``: those of them refused only because our acknowledgement left them
    out (RG_ACK_0030); ``will_not``: the others, refused on purpose. ``overridden``: the
    contracts whose retained value changed after our acknowledgement (:func:`overrides`).
    ``acked_before_update``: contracts whose retained acknowledgement predates the
    order's ``updated_at`` (the periods changed since). ``level``: ``ok``;
    ``attention`` when a needing contract is not acknowledged before the deadline, is
    refused by omission, or was overridden; ``critical`` when one is still not
    acknowledged at or after the deadline. ``is_current``: the order is for tomorrow
    (RG_COR_0010); for another order ``level`` means little.
    """

    order_id: str
    application_date: dt.date
    deadline: dt.datetime
    level: Level
    needing: list[str]
    acknowledged_true: list[str]
    acknowledged_false: list[str]
    not_acknowledged: list[str]
    refused: list[str]
    acked_before_update: list[str]
    latest: dict[str, AckEntry] = msgspec.field(default_factory=dict)
    is_current: bool = True
    by_omission: list[str] = msgspec.field(default_factory=list)
    overridden: list[Override] = msgspec.field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Contracts with a curtailment and no acknowledgement."""
        return [cid for cid in self.needing if cid in self.not_acknowledged]

    @property
    def will_respect(self) -> list[str]:
        """Contracts with a curtailment that EDF OA retains as ``true`` (RG_ACK_0020)."""
        return [cid for cid in self.needing if cid in self.acknowledged_true]

    @property
    def will_not(self) -> list[str]:
        """Contracts with a curtailment retained as ``false`` by a decision (not by omission)."""
        return [cid for cid in self.refused if cid not in self.by_omission]

    def counts(self) -> str:
        """``"1 will respect · 1 will not · 1 refused by omission · 0 not acknowledged"``."""
        return (
            f"{len(self.will_respect)} will respect · {len(self.will_not)} will not · "
            f"{len(self.by_omission)} refused by omission · {len(self.missing)} not acknowledged"
        )


def ack_summary(
    order: CurtailmentOrder,
    state: AcknowledgementsState | None,
    now: dt.datetime,
    deadline: dt.time,
    ours: SentAck | None = None,
) -> AckSummary:
    """The acknowledgement status of ``order`` at ``now``.

    An acknowledgement counts only if ``state`` is for the same ``order_id`` and
    ``application_date``. The retained value per contract is the latest (§5.1.1).
    The deadline is ``deadline`` today (Paris). No curtailment at all → ``ok``.
    ``ours`` (our last delivered acknowledgement, or adopted values) tells the contracts
    refused by omission and those overridden since.
    """
    deadline_at = dt.datetime.combine(paris(now).date(), deadline, tzinfo=PARIS)
    same = state is not None and state.order_id == order.order_id and state.application_date == order.application_date
    latest = latest_acks(state) if same and state is not None else {}
    ids = order.contract_ids
    latest = {cid: entry for cid, entry in latest.items() if cid in ids}
    needing = curtailed_contracts(order)
    yes = [cid for cid in ids if cid in latest and latest[cid].ack_value]
    no = [cid for cid in ids if cid in latest and not latest[cid].ack_value]
    none = [cid for cid in ids if cid not in latest]
    updated = _utc(order.updated_at)
    stale = [cid for cid in ids if cid in latest and _utc(latest[cid].ack_date) < updated]
    missing = [cid for cid in needing if cid in none]
    mine = ours if same and ours is not None and ours.order_id == order.order_id else None
    omitted = [cid for cid in refused_by_omission(state, mine) if cid in needing]
    changed = [o for o in overrides(state, mine) if o.contract_id in ids]
    level: Level = "ok"
    if omitted or changed:
        level = "attention"
    if missing:
        level = "critical" if _utc(now) >= _utc(deadline_at) else "attention"
    return AckSummary(
        order.order_id,
        order.application_date,
        deadline_at,
        level,
        needing,
        yes,
        no,
        none,
        [cid for cid in needing if cid in no],
        stale,
        latest,
        order_is_for_tomorrow(order, now),
        omitted,
        changed,
    )


# -- call window (§4.1.2) ---------------------------------------------------------------------


def window_bounds(now: dt.datetime, start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """Today's call window ``[start, end)`` as aware Paris datetimes (§4.1.2: 13:30-16:00)."""
    day = paris(now).date()
    return (dt.datetime.combine(day, start, tzinfo=PARIS), dt.datetime.combine(day, end, tzinfo=PARIS))


def in_call_window(now: dt.datetime, start: dt.time, end: dt.time) -> bool:
    """Whether ``now`` is inside today's call window ``[start, end)`` (§4.1.2)."""
    opens, closes = window_bounds(now, start, end)
    return _utc(opens) <= _utc(now) < _utc(closes)


#: Read a few seconds after the publication time, not on it: the order lands at once.
PUBLICATION_SETTLE_SECONDS = 5.0


def poll_interval(now: dt.datetime, start: dt.time, end: dt.time, fast: float, slow: float) -> float:
    """Seconds to the next poll: ``fast`` from ``start`` to ``end``, ``slow`` outside, but
    never later than a few seconds after the next ``start`` (today's, or tomorrow's once
    ``end`` has passed). ``start`` is the order's publication time (~13:00, the SPOT
    results, §4.1.2), so the order is seen within ``fast`` seconds of its publication."""
    if in_call_window(now, start, end):
        return fast
    opens, _ = window_bounds(now, start, end)
    if _utc(opens) <= _utc(now):
        opens, _ = window_bounds(paris(now) + dt.timedelta(days=1), start, end)
    to_open = (_utc(opens) - _utc(now)).total_seconds() + PUBLICATION_SETTLE_SECONDS
    return max(0.0, min(slow, to_open))


# -- token (§9) -------------------------------------------------------------------------------


def token_days_left(status: TokenStatus, now: dt.datetime) -> float:
    """Days until the token expires (negative once expired, RG_TOK_STA_0010)."""
    return (_utc(status.expires_at) - _utc(now)).total_seconds() / DAY_SECONDS


def token_level(status: TokenStatus, now: dt.datetime, warning_days: float) -> Level:
    """``critical`` when expired or less than a day left, ``attention`` within
    ``warning_days``, else ``ok``. A new token invalidates the old one (RG_TOK_NEW_0010)."""
    left = token_days_left(status, now)
    if left < 1:
        return "critical"
    if left < warning_days:
        return "attention"
    return "ok"


def unsent_count(summary: AckSummary, choices: Mapping[str, bool | None]) -> int:
    """How many of the operator's choices EDF OA does not have (made, and never sent or
    different from what EDF OA retains, §5.1.1): quitting the dashboard loses them."""
    latest = summary.latest
    return sum(
        1
        for cid, choice in choices.items()
        if choice is not None and (cid not in latest or latest[cid].ack_value != choice)
    )
