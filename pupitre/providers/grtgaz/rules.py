"""Rules of the GRTgaz document, as pure functions (no I/O).

Indicators:

- §3.2.2.1 "Temporisation": indicators are published every hour at H-8 min and
  apply at H+15; between the two an unfavourable change (green → red) is announced
  as ``nextIndicator`` and not yet used for the controls, while a favourable one
  (red → green) is used at once.
- §4 "Pénurie de flexibilité": GREY means shortage; the validation is switched off.

Programs (further down): program ids and versions (§2.2), the technical checks
(§2.1-2.6, error codes of §13.6), feasibility (§3, comments of §13.3), the rebuilt
program (chapter 2 §5-9), and :func:`precheck`, the one call an editor makes on
every keystroke.

Times are aware datetimes (naive ones are taken as Paris wall time); arithmetic on instants is
done in UTC so that the DST changes (23- and 25-hour days) are handled (Paris offsets are
whole hours, so a publication at minute 52 UTC is at minute 52 local too).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
from typing import TYPE_CHECKING, Collection, Iterable, Mapping, Sequence, TypeGuard

import msgspec
from msgspec.structs import replace

from pupitre.providers.core.clock import GAS_DAY_START_HOUR, PARIS, UTC, add, gas_day_bounds, gas_day_of, instant, paris
from pupitre.providers.grtgaz.models import FeasibilityStatus, Flex, Indicator, IndicatorStatus, SiteIndicators
from pupitre.providers.grtgaz.sites import Site

if TYPE_CHECKING:
    from pupitre.providers.grtgaz.models import HmsProfile, InputHmsProfile, RebuiltHmsProfile

PUBLICATION_LEAD = dt.timedelta(minutes=8)
"""Publication at H-8 min (HH:52 of the previous hour), §3.2.2.1."""
APPLICATION_DELAY = dt.timedelta(minutes=15)
"""Application at H+15 min, §3.2.2.1."""
TEMPORISATION = PUBLICATION_LEAD + APPLICATION_DELAY
"""The 23 minutes between publication and application, §3.2.2.1."""
PUBLICATION_MINUTE = 52
HOUR = dt.timedelta(hours=1)

#: Attention order: GREY (shortage, §4) > RED > an unknown colour (attention) > GREEN.
SEVERITY: dict[IndicatorStatus, float] = {IndicatorStatus.GREEN: 0, IndicatorStatus.RED: 1, IndicatorStatus.GREY: 2}
UNKNOWN_SEVERITY = 0.5


def severity(status: IndicatorStatus) -> float:
    """The rank of ``status`` in :data:`SEVERITY`; a colour the document does not list
    (``? unknown (PURPLE)``) ranks above GREEN and below RED: it needs attention."""
    return SEVERITY.get(status, UNKNOWN_SEVERITY) if status.known else UNKNOWN_SEVERITY


# -- publication schedule (§3.2.2.1) --------------------------------------------------


def publication_for_hour(hour_start: dt.datetime) -> dt.datetime:
    """When the indicators for hour H are published: H-8 min (§3.2.2.1)."""
    return add(hour_start, -PUBLICATION_LEAD)


def application_for_hour(hour_start: dt.datetime) -> dt.datetime:
    """When the indicators published for hour H apply: H+15 min (§3.2.2.1)."""
    return add(hour_start, APPLICATION_DELAY)


def hour_of_publication(publication: dt.datetime) -> dt.datetime:
    """The hour H a publication at H-8 min is for."""
    return add(publication, PUBLICATION_LEAD)


def application_of(publication: dt.datetime) -> dt.datetime:
    """The application time (H+15) of a publication made at H-8 min: 23 minutes later."""
    return add(publication, TEMPORISATION)


def last_publication(now: dt.datetime) -> dt.datetime:
    """The latest hourly publication (HH:52) at or before ``now``."""
    utc = paris(now).astimezone(UTC)
    candidate = utc.replace(minute=PUBLICATION_MINUTE, second=0, microsecond=0)
    if candidate > utc:
        candidate -= HOUR
    return candidate.astimezone(PARIS)


def next_publication(now: dt.datetime) -> dt.datetime:
    """The first hourly publication (HH:52) strictly after ``now``."""
    return add(last_publication(now), HOUR)


def previous_publication(publication: dt.datetime) -> dt.datetime:
    """The publication one hour before ``publication`` (elapsed time, DST-safe)."""
    return add(last_publication(publication), -HOUR)


def publication_at_or_after(moment: dt.datetime) -> dt.datetime:
    """``moment`` if it is a publication instant, else the next one."""
    last = last_publication(moment)
    return last if instant(last) == instant(moment) else add(last, HOUR)


# -- statuses -------------------------------------------------------------------------


def is_unfavourable(old: IndicatorStatus, new: IndicatorStatus) -> bool:
    """Green → red: announced as ``nextIndicator``, applies only at H+15 (§3.2.2.1)."""
    return old is IndicatorStatus.GREEN and new is IndicatorStatus.RED


def is_favourable(old: IndicatorStatus, new: IndicatorStatus) -> bool:
    """Red → green: used for the controls from its publication at H-8 min (§3.2.2.1)."""
    return old is IndicatorStatus.RED and new is IndicatorStatus.GREEN


def worst_status(statuses: Iterable[IndicatorStatus]) -> IndicatorStatus | None:
    """The status needing most attention: GREY (shortage, §4) > RED > unknown > GREEN;
    ``None`` if empty."""
    return max(statuses, key=severity, default=None)


def site_statuses(site: SiteIndicators, *, include_next: bool = False) -> list[IndicatorStatus]:
    """The three current statuses of a site, plus the announced ones if ``include_next``."""
    sets = [site.currentIndicator]
    if include_next and site.nextIndicator is not None:
        sets.append(site.nextIndicator)
    return [indicator.status for s in sets for _, indicator in s.indicators()]


def site_worst_status(site: SiteIndicators, *, include_next: bool = False) -> IndicatorStatus:
    """Worst status of one site's indicators (see :func:`worst_status`)."""
    worst = worst_status(site_statuses(site, include_next=include_next))
    assert worst is not None  # a site always has three indicators
    return worst


def worst_status_across(sites: Iterable[SiteIndicators], *, include_next: bool = False) -> IndicatorStatus | None:
    """Worst status across sites; ``None`` when there is no site."""
    return worst_status(s for site in sites for s in site_statuses(site, include_next=include_next))


def status_counts(sites: Iterable[SiteIndicators]) -> dict[IndicatorStatus, int]:
    """How many sites have each status as their worst current one (an unknown colour such as
    ``PURPLE`` is counted apart)."""
    counts = dict.fromkeys(IndicatorStatus, 0)
    for site in sites:
        worst = site_worst_status(site)
        counts[worst] = counts.get(worst, 0) + 1
    return counts


def applicable_status(site: SiteIndicators, flex: Flex, received_at: dt.datetime) -> IndicatorStatus:
    """The status used to check a program received at ``received_at`` (§3.2.2.1).

    From the document as last fetched: the announced ``nextIndicator`` is used once
    it applies (at or after its ``applicationDateTime``, H+15), or from its
    publication (``availabilityDateTime``, H-8 min) when it is more favourable
    (red → green). Otherwise — notably an unfavourable change between H-8 and H+15
    (Exemple 1) — the ``currentIndicator`` status is used.
    """
    received_at = instant(received_at)  # compared as instants: the repeated hour has two 02:30
    current = site.currentIndicator.indicator(flex)
    if site.nextIndicator is None:
        return current.status
    upcoming = site.nextIndicator.indicator(flex)
    if received_at >= upcoming.applicationDateTime:
        return upcoming.status
    if received_at >= upcoming.availabilityDateTime and is_favourable(current.status, upcoming.status):
        return upcoming.status
    return current.status


def applicable_statuses(site: SiteIndicators, received_at: dt.datetime) -> dict[Flex, IndicatorStatus]:
    """:func:`applicable_status` for the three indicators."""
    return {flex: applicable_status(site, flex, received_at) for flex in Flex}


class AppliedSite(msgspec.Struct, frozen=True):
    """A site's indicators as they apply at a given instant (§3.2.2.1).

    ``site`` has every announced change (``nextIndicator``) whose application time has
    come moved into ``currentIndicator``; ``announced`` names those indicators: applied on
    the announcement alone, not re-read from GRTgaz since (the feed is paused, stale or
    down). Announcements still ahead stay in ``nextIndicator``.
    """

    site: SiteIndicators
    announced: frozenset[Flex] = frozenset()

    @property
    def site_id(self) -> str:
        return self.site.site_id

    def worst(self, *, include_next: bool = True) -> IndicatorStatus:
        """The worst status now, and by default of what is announced too (severity sort, filters)."""
        return site_worst_status(self.site, include_next=include_next)


def as_applied(site: SiteIndicators, now: dt.datetime) -> AppliedSite:
    """``site`` as it applies at ``now``: an announced change is on screen from its
    application time (H+15) even when nothing was read since (issue 16)."""
    upcoming = site.nextIndicator
    if upcoming is None:
        return AppliedSite(site)
    moment = instant(now)
    current = {flex: site.currentIndicator.indicator(flex) for flex in Flex}
    pending = {}
    announced = set()
    for flex, indicator in upcoming.indicators():
        if moment >= indicator.applicationDateTime:
            if indicator.status is not current[flex].status:
                announced.add(flex)
            current[flex] = indicator
        else:
            pending[flex] = indicator
    if not announced and len(pending) == len(Flex):
        return AppliedSite(site)
    fields = {
        "qTo0FlexibilityIndicator": current[Flex.Q_TO_QMINUS],
        "partialFlexibilityIndicator": current[Flex.PARTIAL],
        "qToQPlusFlexibilityIndicator": current[Flex.Q_TO_QPLUS],
    }
    applied = msgspec.structs.replace(site.currentIndicator, **fields)
    still = None
    if any(pending[flex].status is not current[flex].status for flex in pending):
        still = msgspec.structs.replace(
            upcoming, **{name: pending.get(flex, current[flex]) for name, flex in zip(fields, Flex, strict=True)}
        )
    return AppliedSite(SiteIndicators(currentIndicator=applied, nextIndicator=still), frozenset(announced))


def applied_sites(sites: Iterable[SiteIndicators], now: dt.datetime) -> list[AppliedSite]:
    """:func:`as_applied` for every site, in order."""
    return [as_applied(site, now) for site in sites]


# -- changes --------------------------------------------------------------------------


class UpcomingChange(msgspec.Struct, frozen=True):
    """An announced change (§3.2.2.1 ``nextIndicator``) not yet applied."""

    site_id: str
    site_label: str
    mesh_label: str
    flex: Flex
    current: IndicatorStatus
    next: IndicatorStatus
    published_at: dt.datetime
    applies_at: dt.datetime


def upcoming_changes(sites: Iterable[SiteIndicators], now: dt.datetime) -> list[UpcomingChange]:
    """Announced ``nextIndicator`` changes applying after ``now``, soonest first.

    Only indicators whose announced status differs from the current one are listed.
    """
    now = instant(now)
    changes = []
    for site in sites:
        if site.nextIndicator is None:
            continue
        for flex, upcoming in site.nextIndicator.indicators():
            current = site.currentIndicator.indicator(flex)
            if upcoming.status is current.status or upcoming.applicationDateTime <= now:
                continue
            changes.append(
                UpcomingChange(
                    site.site_id,
                    site.site_label,
                    site.mesh_label,
                    flex,
                    current.status,
                    upcoming.status,
                    upcoming.availabilityDateTime,
                    upcoming.applicationDateTime,
                )
            )
    changes.sort(key=lambda c: (instant(c.applies_at), c.site_label, list(Flex).index(c.flex)))
    return changes


class IndicatorChange(msgspec.Struct, frozen=True):
    """One indicator change between two fetches, for history rows and notifications.

    ``announced`` false: the current status changed (``at`` = its application time).
    ``announced`` true: a new ``nextIndicator`` announces ``old_status → new_status``
    at ``at`` (its application time, H+15).
    ``old_status`` is ``None`` for a site absent from the previous fetch.
    """

    site_id: str
    site_label: str
    flex: Flex
    old_status: IndicatorStatus | None
    new_status: IndicatorStatus
    at: dt.datetime
    announced: bool = False

    @property
    def key(self) -> str:
        """A stable history key: ``siteId/flex``."""
        return f"{self.site_id}/{self.flex.value}"


def _announcements(site: SiteIndicators) -> dict[Flex, tuple[IndicatorStatus, dt.datetime]]:
    if site.nextIndicator is None:
        return {}
    found = {}
    for flex, upcoming in site.nextIndicator.indicators():
        if upcoming.status is not site.currentIndicator.indicator(flex).status:
            found[flex] = (upcoming.status, upcoming.applicationDateTime)
    return found


def diff_states(
    old: Sequence[SiteIndicators] | None, new: Sequence[SiteIndicators], *, include_appeared: bool = False
) -> list[IndicatorChange]:
    """Changes from one fetch to the next: current statuses, then new announcements.

    Sites only in ``new`` are reported (``old_status=None``) when ``include_appeared``;
    with no previous fetch at all (``old`` empty or ``None``) nothing is reported
    unless ``include_appeared``. An announcement already present in ``old`` (same
    status, same application time) is not reported again.
    """
    before = {site.site_id: site for site in old or ()}
    changes: list[IndicatorChange] = []
    for site in new:
        previous = before.get(site.site_id)
        if previous is None and not include_appeared:
            continue
        for flex, indicator in site.currentIndicator.indicators():
            old_status = previous.currentIndicator.indicator(flex).status if previous else None
            if old_status is not indicator.status:
                changes.append(
                    IndicatorChange(
                        site.site_id, site.site_label, flex, old_status, indicator.status, indicator.applicationDateTime
                    )
                )
        seen = _announcements(previous) if previous else {}
        for flex, (status, applies_at) in _announcements(site).items():
            if seen.get(flex) != (status, applies_at):
                changes.append(
                    IndicatorChange(
                        site.site_id,
                        site.site_label,
                        flex,
                        site.currentIndicator.indicator(flex).status,
                        status,
                        applies_at,
                        announced=True,
                    )
                )
    return changes


# -- the indicator timeline (kept by the store) -------------------------------------------


def state_since(indicator: Indicator, seen_at: dt.datetime) -> dt.datetime:
    """From when a current indicator's status, read at ``seen_at``, is known to hold (§3.2.2.1):
    a green (a favourable change) from its publication; another status from its application
    (H+15), or from its publication when that application is still ahead (between HH:52 and
    H+15 the current status is the one already in force)."""
    application = indicator.applicationDateTime
    if indicator.status is IndicatorStatus.GREEN or instant(application) > instant(seen_at):
        return min(indicator.availabilityDateTime, application, key=instant)
    return application


class StateRow(msgspec.Struct, frozen=True):
    """One stored change of an indicator: ``status`` holds from ``since``."""

    since: dt.datetime
    status: IndicatorStatus


def _ordered(rows: Iterable[StateRow]) -> list[StateRow]:
    return sorted(rows, key=lambda row: instant(row.since))


def status_at(rows: Iterable[StateRow], moment: dt.datetime) -> IndicatorStatus | None:
    """The stored status at ``moment``; ``None`` before the first row."""
    found = None
    for row in _ordered(rows):
        if instant(row.since) > instant(moment):
            break
        found = row.status
    return found


def run_start(rows: Iterable[StateRow], status: IndicatorStatus) -> tuple[dt.datetime, bool] | None:
    """When the latest run of ``status`` began, and whether that start is known (a row of
    another status comes before it) or only the earliest time on record."""
    ordered = _ordered(rows)
    if not ordered or ordered[-1].status is not status:
        return None
    index = len(ordered) - 1
    while index > 0 and ordered[index - 1].status is status:
        index -= 1
    return ordered[index].since, index > 0


def day_strip(rows: Iterable[StateRow], gas_day: dt.date, now: dt.datetime) -> list[IndicatorStatus | None]:
    """One status per real hour of ``gas_day`` (23, 24 or 25), as held at the middle of the
    hour (the current hour: now); ``None`` for hours to come or before anything was recorded."""
    ordered = _ordered(rows)
    moment = instant(now)
    strip: list[IndicatorStatus | None] = []
    for hour in day_slots(gas_day).real_hours:
        start = instant(hour)
        sample = moment if start + HOUR > moment else start + HOUR / 2  # the current hour: now
        strip.append(status_at(ordered, sample) if start <= moment else None)
    return strip


# -- shortage (§4) --------------------------------------------------------------------

SHORTAGE_DECLARATION_TIME = dt.time(20, 30)
SHORTAGE_GREY_FROM = dt.time(5, 52)
SHORTAGE_GREY_UNTIL = dt.time(0, 52)


def shortage_grey_window(
    gas_day: dt.date, *, declared_at: dt.datetime | None = None, previous_day_in_shortage: bool = False
) -> tuple[dt.datetime, dt.datetime]:
    """When the indicators show GREY for a shortage of gas day J: ``[start, end)`` (§4).

    The document: "pour un jour J pour lequel GRTgaz déclenche la pénurie de flexibilité
    en J-1 à 20h30, la pastille sera grisée par la suite à partir de 05h52 pour permettre
    de conserver la visibilité sur le jour J-1 jusqu'à la fin. Cette pastille restera
    grisée jusqu'à 00h51 en J seulement, pour permettre d'afficher dès 00h52 la
    visibilité pour la JG du lendemain (J+1)."

    Our reading (gas day J runs from J 06:00 to J+1 06:00):

    - start: 05:52 on calendar day J — the publication for the 06:00 hour, the first
      hour of gas day J — so that gas day J-1 keeps its colours to its end;
    - end: 00:52 on calendar day J+1 (grey up to 00:51 inclusive), still inside gas
      day J: "00h51 en J" can only mean the gas day's night, since 00:51 on calendar
      J precedes 05:52. From the 00:52 publication (hour 01:00, whose H..H+5 control
      window reaches 06:00) the indicators show gas day J+1 again;
    - declared later than 05:52 on J (the document only describes J-1 20:30), the grey
      starts at the first publication (HH:52) at or after the declaration;
    - when gas day J-1 is also in shortage there is no J-1 visibility to keep, so the
      grey is continuous from J-1's window (``previous_day_in_shortage``).

    Whatever the colour, the shortage itself covers the whole gas day J (§4): see
    :func:`shortage_days` and the ``shortage`` of :func:`evaluate`.
    """
    start = dt.datetime.combine(gas_day, SHORTAGE_GREY_FROM, tzinfo=PARIS)
    end = dt.datetime.combine(gas_day + dt.timedelta(days=1), SHORTAGE_GREY_UNTIL, tzinfo=PARIS)
    if previous_day_in_shortage:
        start = dt.datetime.combine(gas_day, SHORTAGE_GREY_UNTIL, tzinfo=PARIS)
    if declared_at is not None:
        start = max(start, publication_at_or_after(declared_at), key=instant)
    return start, max(start, end, key=instant)


def shortage_day(indicator_publication: dt.datetime) -> dt.date:
    """The gas day a GREY publication at ``indicator_publication`` stands for (§4): the
    day of the hour it is published for (05:52 on J → 06:00, gas day J; 23:52 → 00:00, still J)."""
    return gas_day_of(hour_of_publication(indicator_publication))


def shortage_days(sites: Iterable[SiteIndicators]) -> dict[str, set[dt.date]]:
    """Per site, the gas days a GREY indicator (current or announced) shows a shortage for.

    §4: « quelle que soit la couleur de la pastille, la pénurie de flexibilité s'applique pour
    toute la journée gazière pour laquelle elle a été déclenchée » — once seen, a day stays in
    shortage after the pastille turns back (00:52) until the day ends: callers keep what they saw.
    """
    found: dict[str, set[dt.date]] = {}
    for site in sites:
        sets = [site.currentIndicator] + ([site.nextIndicator] if site.nextIndicator is not None else [])
        for indicators in sets:
            for _, indicator in indicators.indicators():
                if indicator.status is IndicatorStatus.GREY:
                    found.setdefault(site.site_id, set()).add(shortage_day(indicator.availabilityDateTime))
    return found


# == programs =========================================================================

SLOTS = 24
"""A program always has 24 hourly values, J 06:00 … J+1 05:00 (§2.5, §13.2)."""
GWH = 1_000_000.0
"""kWh in a GWh (quantities are kWh 25°C)."""
PARTIAL_ALLOWANCE_PER_TRANCHE = 0.8 * GWH
"""Partial flexibility: 0,8 GWh per tranche over the controlled window (§3.2.3.2 2.a.i / 2.b.i)."""
ADJUSTMENT_MARGIN = dt.timedelta(minutes=15)
"""Before H+15 min the current hour is H-1, from H+15 it is H (chapter 2 §6, §3.2.3.2)."""
WINDOW_AHEAD_HOURS = 5
"""The controlled window ends at H+5 included (§3.2.3.2)."""
AUTO_ACCEPT_TIME = dt.time(1, 0)
"""Programs of day J received before J-1 01:00 are accepted without control (§3.1)."""
DEFAULT_TOLERANCE = 0.0
"""§2.4 "majoré d'une tolérance": the document gives no value; settings should."""
_EPSILON = 1e-6


# -- program ids and versions (§2.2) ---------------------------------------------------

PROGRAM_ID_PATTERN = re.compile(r"^(\d{8})-(LI\d{4})-([A-Za-z0-9._/-]+?)-([1-9]\d{0,8})$")
"""``AAAAMMJJ-LIxxxx-<contract>-<version>`` (§2.2, §13.2; e.g. ``20200525-LI1234-RNE.GSTF.HKL.01-10``)."""


class ProgramId(msgspec.Struct, frozen=True):
    """A parsed program id (§2.2): gas day, site, connection contract, version."""

    gas_day: dt.date
    site_id: str
    contract: str
    version: int

    def __str__(self) -> str:
        return program_id(self.gas_day, self.site_id, self.contract, self.version)


def program_id(gas_day: dt.date, site_id: str, contract: str, version: int) -> str:
    """The id of a declared program: ``YYYYMMDD-LIxxxx-<contract>-<version>`` (§2.2)."""
    if version < 1:
        raise ValueError("a program version starts at 1")
    return f"{gas_day:%Y%m%d}-{site_id}-{contract}-{version}"


def rebuilt_program_id(gas_day: dt.date, site_id: str) -> str:
    """The id of the rebuilt program: ``YYYYMMDD-LIxxxx``, constant for the day (§13.4)."""
    return f"{gas_day:%Y%m%d}-{site_id}"


def parse_program_id(text: str) -> ProgramId | None:
    """The parts of a program id, or ``None`` when it does not follow §2.2."""
    match = PROGRAM_ID_PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    try:
        day = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    return ProgramId(day, match.group(2), match.group(3), int(match.group(4)))


def _versions(existing: Iterable[int | str], site_id: str | None, gas_day: dt.date | None) -> list[int]:
    found = []
    for item in existing:
        if isinstance(item, int):
            found.append(item)
            continue
        parsed = parse_program_id(item)
        if parsed is None or (site_id and parsed.site_id != site_id) or (gas_day and parsed.gas_day != gas_day):
            continue
        found.append(parsed.version)
    return found


def next_version(existing: Iterable[int | str], *, site_id: str | None = None, gas_day: dt.date | None = None) -> int:
    """The next version: one more than the highest already used (§2.2), 1 for the first.

    ``existing`` holds versions or program ids (ids of other sites or days are skipped
    when ``site_id``/``gas_day`` are given; unparsable ids are ignored).
    """
    return max(_versions(existing, site_id, gas_day), default=0) + 1


def next_program_id(gas_day: dt.date, site_id: str, contract: str, existing: Iterable[int | str]) -> str:
    """The id of the next program of a site and day (§2.2)."""
    return program_id(gas_day, site_id, contract, next_version(existing, site_id=site_id, gas_day=gas_day))


# -- codes (§13.6 technical, §13.3 feasibility) -----------------------------------------

# §13.6, documented.
UNKNOWN_HMS_SITE = "UNKNOWN_HMS_SITE"
PAST_GAS_DAY = "PAST_GAS_DAY"
EXEEDED_QMIN_QMAX = "EXEEDED_QMIN_QMAX"  # sic, the document's spelling
BAD_NUMBER_QUANTITIES = "BAD_NUMBER_QUANTITIES"
BAD_QUANTITIES = "BAD_QUANTITIES"
HOURS_NOT_BETWEEN_START_END = "HOURS_NOT_BETWEEN_START_END"
HMS_PROFILE_ID_ALREADY_EXISTS = "HMS_PROFILE_ID_ALREADY_EXISTS"
# This project's own codes for the §2 rejections the document lists no code for.
BAD_FORMAT = "BAD_FORMAT"
BAD_HMS_PROFILE_ID = "BAD_HMS_PROFILE_ID"
HMS_PROFILE_VERSION_NOT_INCREASING = "HMS_PROFILE_VERSION_NOT_INCREASING"
CONTRACT_NOT_MATCHING_SITE = "CONTRACT_NOT_MATCHING_SITE"
BAD_UNIT = "BAD_UNIT"
# §13.3, documented.
HMS_PROFILE_NOT_RESPECT_Q0_DELAY = "HMS_PROFILE_NOT_RESPECT_Q0_DELAY"
HMS_PROFILE_NOT_RESPECT_QMAX_DELAY = "HMS_PROFILE_NOT_RESPECT_QMAX_DELAY"
HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR = "HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR"
HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE = "HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE"
HMS_PROFILE_ACCEPTED = "HMS_PROFILE_ACCEPTED"  # own: the "Programme accepté" comment

#: The document's messages (French, as GRTgaz answers); ``%s`` takes the hours.
MESSAGES: dict[str, str] = {
    UNKNOWN_HMS_SITE: "Le site de ce programme est inconnu",
    PAST_GAS_DAY: "Programme traitant d'une JG dans le passé",
    EXEEDED_QMIN_QMAX: "Pour les heures %s dépassement de la valeur [Qmin/Qmax]",
    BAD_NUMBER_QUANTITIES: "Le programme n'a pas 24 valeurs",
    BAD_QUANTITIES: "Le programme contient des valeurs nulles pour les heures futures",
    HOURS_NOT_BETWEEN_START_END: "Programme traitant d'une JG différente de la JG indiquée",
    HMS_PROFILE_ID_ALREADY_EXISTS: "L'id de ce programme existe déjà",
    BAD_FORMAT: "Le message ne respecte pas le format du contrat d'interface",
    BAD_HMS_PROFILE_ID: "L'id de ce programme ne respecte pas le format AAAAMMJJ-LIxxxx-contrat-version",
    HMS_PROFILE_VERSION_NOT_INCREASING: "Le numéro de version n'est pas supérieur à celui du dernier "
    "programme reçu (%s)",
    CONTRACT_NOT_MATCHING_SITE: "Le contrat de raccordement ne correspond pas au site",
    BAD_UNIT: "L'unité des quantités doit être kWh25",
    HMS_PROFILE_NOT_RESPECT_Q0_DELAY: "Le programme ne respecte pas le délai de prévenance sur les "
    "heures %s. Indicateur de Flexibilité Qà Q- rouge",
    HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: "Le programme ne respecte pas le délai de prévenance sur les "
    "heures %s. Indicateur de Flexibilité Qà Q+ rouge",
    HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR: "Le programme est rejeté dû à une pénurie de Flexibilité",
    HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE: "Le programme est rejeté car il ne respecte pas le "
    "volume de Flexibilité partielle accordé",
    HMS_PROFILE_ACCEPTED: "Programme accepté",
}

#: Codes written in the document (the others are this project's, for rules it states without a code).
DOCUMENTED_CODES = frozenset(
    {
        UNKNOWN_HMS_SITE,
        PAST_GAS_DAY,
        EXEEDED_QMIN_QMAX,
        BAD_NUMBER_QUANTITIES,
        BAD_QUANTITIES,
        HOURS_NOT_BETWEEN_START_END,
        HMS_PROFILE_ID_ALREADY_EXISTS,
        HMS_PROFILE_NOT_RESPECT_Q0_DELAY,
        HMS_PROFILE_NOT_RESPECT_QMAX_DELAY,
        HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR,
        HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE,
    }
)

#: Operator-readable explanations (English), per code.
EXPLANATIONS: dict[str, str] = {
    UNKNOWN_HMS_SITE: "unknown site",
    PAST_GAS_DAY: "the gas day is over",
    EXEEDED_QMIN_QMAX: "outside the contract's Qmin/Qmax (with tolerance)",
    BAD_NUMBER_QUANTITIES: "a program needs exactly 24 hourly values",
    BAD_QUANTITIES: "missing value for an hour still to come",
    HOURS_NOT_BETWEEN_START_END: "slot times must lie between J 06:00 and J+1 05:00",
    HMS_PROFILE_ID_ALREADY_EXISTS: "this program id was already sent",
    BAD_FORMAT: "the message does not follow the interface format",
    BAD_HMS_PROFILE_ID: "the id must be YYYYMMDD-LIxxxx-<contract>-<version> for this site and day",
    HMS_PROFILE_VERSION_NOT_INCREASING: "the version must be higher than the last one received",
    CONTRACT_NOT_MATCHING_SITE: "the connection contract is not this site's",
    BAD_UNIT: "the unit must be kWh25",
    HMS_PROFILE_NOT_RESPECT_Q0_DELAY: "decrease while Q→Q- is red",
    HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: "increase while Q→Q+ and partial are red",
    HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR: "flexibility shortage (GREY): every new program is refused",
    HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE: "over the partial flexibility allowance",
    HMS_PROFILE_ACCEPTED: "accepted",
}

#: The section of the document each code enforces.
SECTIONS: dict[str, str] = {
    UNKNOWN_HMS_SITE: "§2.3",
    PAST_GAS_DAY: "§2.5",
    EXEEDED_QMIN_QMAX: "§2.4",
    BAD_NUMBER_QUANTITIES: "§13.2",
    BAD_QUANTITIES: "§13.6",
    HOURS_NOT_BETWEEN_START_END: "§2.5",
    HMS_PROFILE_ID_ALREADY_EXISTS: "§2.2",
    BAD_FORMAT: "§2.1",
    BAD_HMS_PROFILE_ID: "§2.2",
    HMS_PROFILE_VERSION_NOT_INCREASING: "§2.2",
    CONTRACT_NOT_MATCHING_SITE: "§2.3",
    BAD_UNIT: "§13.2",
    HMS_PROFILE_NOT_RESPECT_Q0_DELAY: "§3.2.3.2 1",
    HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: "§3.2.3.2 2.ii",
    HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR: "§4",
    HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE: "§3.2.3.2 2.i",
    HMS_PROFILE_ACCEPTED: "§3",
}


def hours_text(labels: Iterable[dt.datetime]) -> str:
    """Hours as the ``%s`` of the messages: ``13h, 14h``."""
    return ", ".join(f"{label.hour:02d}h" for label in labels)


class Reason(msgspec.Struct, frozen=True):
    """A technical issue (§13.6 code) or a feasibility comment (§13.3 code).

    ``message`` is the document's French text (what GRTgaz answers), ``explanation``
    an operator-readable English one; ``slots`` are the slot indices concerned.
    """

    code: str
    message: str
    explanation: str = ""
    profile_id: str = ""
    slots: tuple[int, ...] = ()

    @property
    def section(self) -> str:
        return SECTIONS.get(self.code, "")

    @property
    def documented(self) -> bool:
        """Whether the code is the document's own (else this project's)."""
        return self.code in DOCUMENTED_CODES

    @property
    def text(self) -> str:
        """``CODE: message`` (the simulator's ``Message``/``comment`` wording)."""
        return f"{self.code}: {self.message}"


def reason(
    code: str, *, profile_id: str = "", slots: Sequence[int] = (), labels: Sequence[dt.datetime] = (), detail: str = ""
) -> Reason:
    """A :class:`Reason` for ``code``, its ``%s`` filled with ``labels`` (hours) or ``detail``."""
    template = MESSAGES[code]
    if "%s" in template:
        template = template.replace("%s", hours_text(labels) if labels else detail)
    explanation = EXPLANATIONS[code]
    if labels:
        explanation = f"{explanation} ({hours_text(labels)})"
    elif detail:
        explanation = f"{explanation} ({detail})"
    return Reason(code, template, explanation, profile_id, tuple(slots))


REASON_SEPARATOR = " | "
_CODE_PREFIX = re.compile(r"^\s*([A-Z][A-Z0-9_]{3,})\s*[:=]\s*(.*)$", re.S)


@functools.cache
def _templates() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (code, re.compile(re.escape(text).replace("%s", ".*?").replace(r"\%s", ".*?") + r"\s*\.?\s*$", re.I | re.S))
        for code, text in MESSAGES.items()
    ]


def parse_reasons(text: str) -> list[tuple[str, str]]:
    """``(code, message)`` pairs from an ``Error.Message`` or a feasibility ``comment``.

    Parts are separated by `` | ``; a part is ``CODE: message`` (this simulator) or
    just one of the document's messages (recognised by its wording); anything else
    comes back with an empty code.
    """
    pairs = []
    for part in (text or "").split(REASON_SEPARATOR):
        part = part.strip()
        if not part:
            continue
        prefixed = _CODE_PREFIX.match(part)
        if prefixed:
            pairs.append((prefixed.group(1), prefixed.group(2).strip()))
            continue
        code = next((code for code, pattern in _templates() if pattern.match(part)), "")
        pairs.append((code, part))
    return pairs


def comment_codes(comment: str) -> list[str]:
    """The §13.3 / §13.6 codes named in a comment or error message (unknown ones skipped)."""
    return [code for code, _ in parse_reasons(comment) if code]


def join_reasons(reasons: Iterable[Reason]) -> str:
    return REASON_SEPARATOR.join(r.text for r in reasons)


# -- the slots of a gas day (§2.5, §13.2) ----------------------------------------------

ADDED_SLOT_HOUR = 3
"""§13.2, 23-hour day: « ajouter une tranche (celle de 3h) avec un Programme horaire à 0 »."""


class DaySlots(msgspec.Struct, frozen=True):
    """The 24 declared slots of gas day J and how the real hours map onto them (§13.2).

    ``labels`` are the slot starts as real instants (aware, Paris), J 06:00 … J+1 05:00;
    ``wall`` their nominal wall-clock names (naive ``06:00`` … ``05:00``).
    The 23-hour day (spring) has no 02:00: the document says to add a slot « celle de 3h »
    at 0. Read literally, the added slot (``added``, ``exists`` false) starts at 03:00 —
    the same instant as the real 03:00 slot after it — and is 0 by default; pupitre does
    not enforce the 0 (the text is ambiguous: see :func:`dst_assumption`), GRTgaz decides.
    On the 25-hour day the two real 02:00 hours share the 02:00 slot (its instant is the
    first 02:00), valued at the larger of the two. ``real_hours`` are the real hour starts
    (23, 24 or 25) and ``real_slot`` the slot index of each.
    """

    gas_day: dt.date
    labels: tuple[dt.datetime, ...]
    wall: tuple[dt.datetime, ...]
    exists: tuple[bool, ...]
    real_hours: tuple[dt.datetime, ...]
    real_slot: tuple[int, ...]
    start: dt.datetime
    end: dt.datetime
    added: int | None = None

    @property
    def length_hours(self) -> int:
        return len(self.real_hours)


def slot_of(moment: dt.datetime) -> int:
    """The slot index (0 = 06:00 … 23 = 05:00) of the real hour containing ``moment``.

    Named by the hour's Paris wall clock on purpose: §13.2 maps both real 02:00 hours of
    the 25-hour day to the one 02:00 slot; the real 03:00 of the 23-hour day is slot 21.
    """
    return (paris(moment).hour - GAS_DAY_START_HOUR) % SLOTS


@functools.lru_cache(maxsize=64)
def day_slots(gas_day: dt.date) -> DaySlots:
    """The :class:`DaySlots` of ``gas_day`` (cached: cheap in the editor's hot path)."""
    start, end = gas_day_bounds(gas_day)
    first = dt.datetime.combine(gas_day, dt.time(GAS_DAY_START_HOUR))
    wall = tuple(first + dt.timedelta(hours=i) for i in range(SLOTS))
    # A wall time that does not exist (02:00 in spring) becomes the instant after the gap,
    # 03:00 — the « celle de 3h » of §13.2; the repeated 02:00 in autumn is its first instant.
    labels = tuple(paris(instant(w.replace(tzinfo=PARIS, fold=0))) for w in wall)
    real = []
    moment, stop = instant(start), instant(end)
    while moment < stop:
        real.append(moment.astimezone(PARIS))
        moment += HOUR
    real_slot = tuple(slot_of(h) for h in real)
    exists = tuple(i in set(real_slot) for i in range(SLOTS))
    added = next((i for i, e in enumerate(exists) if not e), None)
    return DaySlots(gas_day, labels, wall, exists, tuple(real), real_slot, start, end, added)


def dst_assumption(gas_day: dt.date) -> str:
    """What pupitre assumed for a 23- or 25-hour gas day (§13.2), for the editor and the
    e-mail export; "" on a 24-hour day. The document says « les journées de 23 et 25
    Heures ne seront pas gérées » and how to fill the 24 slots; where its wording can be
    read two ways pupitre follows the letter, says so, and blocks nothing: GRTgaz decides.
    """
    slots = day_slots(gas_day)
    if slots.length_hours == 23:
        return (
            "23-hour day, §13.2 « ajouter une tranche (celle de 3h) … à 0 » read literally: the slot "
            "added after 01:00 is sent at 03:00, 0 unless changed; not refused here, GRTgaz decides."
        )
    if slots.length_hours == 25:
        return (
            "25-hour day, §13.2: the one 02:00 slot stands for both 02:00 hours (« le maximum » of "
            "the two); not refused here, GRTgaz decides."
        )
    return ""


def declared_slots(real_values: Sequence[float], gas_day: dt.date) -> list[float]:
    """Real-hour values (23, 24 or 25) as the 24 declared values of §13.2.

    23-hour day: the added slot « celle de 3h » is 0. 25-hour day: the 02:00 slot
    takes the larger of the two real 02:00 hours.
    """
    slots = day_slots(gas_day)
    if len(real_values) != len(slots.real_hours):
        raise ValueError(f"gas day {gas_day} has {len(slots.real_hours)} hours, got {len(real_values)} values")
    values: list[float | None] = [None] * SLOTS
    for index, value in zip(slots.real_slot, real_values, strict=True):
        current = values[index]
        values[index] = value if current is None else max(current, value)
    return [0.0 if v is None else v for v in values]


def floor_hour(moment: dt.datetime) -> dt.datetime:
    """Start of the (real) hour containing ``moment`` (Paris offsets are whole hours)."""
    return paris(moment).replace(minute=0, second=0, microsecond=0)


def first_adjustable_slot(received_at: dt.datetime) -> dt.datetime:
    """The first hour a program received at ``received_at`` can change (chapter 2 §6-7).

    The current hour is H-1 when received before H+15 min, H from H+15: 14h35 → the
    14h slot, 14h08 → the 13h slot (§7).
    """
    hour = floor_hour(received_at)
    if paris(received_at) - hour < ADJUSTMENT_MARGIN:
        return add(hour, -HOUR)
    return hour


def first_adjustable_index(gas_day: dt.date, received_at: dt.datetime) -> int:
    """Index of the first slot of ``gas_day`` a program received then can change.

    0 when received before the day (whole program, §5), 24 when the day is over.
    """
    slots = day_slots(gas_day)
    first = instant(first_adjustable_slot(received_at))
    if first < slots.start:
        return 0
    if first >= slots.end:
        return SLOTS
    return slot_of(first)


def control_window(gas_day: dt.date, received_at: dt.datetime) -> tuple[int, ...]:
    """Slot indices of ``gas_day`` in the controlled window (§3.2.3.2).

    H-1 … H+5 (7 hours) when received before H+15 min, H … H+5 (6 hours) after;
    hours outside the gas day are not part of this day's program.
    """
    slots = day_slots(gas_day)
    last = instant(add(floor_hour(received_at), WINDOW_AHEAD_HOURS * HOUR))
    found: list[int] = []
    moment = instant(first_adjustable_slot(received_at))
    while moment <= last:  # instants: the autumn repeated hour is two hours here
        if slots.start <= moment < slots.end:
            index = slot_of(moment)
            if index not in found:
                found.append(index)
        moment += HOUR
    return tuple(found)


def auto_accept_before(gas_day: dt.date) -> dt.datetime:
    """J-1 01:00: programs of day J received before it are accepted as such (§3.1)."""
    return dt.datetime.combine(gas_day - dt.timedelta(days=1), AUTO_ACCEPT_TIME, tzinfo=PARIS)


# -- technical checks (§2, §13.2, §13.6) ------------------------------------------------


def _bad(value: object) -> bool:
    """Missing or unusable: ``None``, NaN, infinite, or not a number at all."""
    return not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)


def _number(value: object) -> TypeGuard[float]:
    """A usable quantity: the opposite of :func:`_bad`."""
    return not _bad(value)


def check_quantities(
    quantities: Sequence[float | None],
    gas_day: dt.date,
    *,
    q_min: float,
    q_max: float,
    tolerance: float = DEFAULT_TOLERANCE,
    first_adjustable: int = 0,
    profile_id: str = "",
) -> list[Reason]:
    """The hourly values: 24 of them (§13.2), none missing for hours still to come
    (BAD_QUANTITIES, §13.6), each within the contract's Qmin/Qmax widened by
    ``tolerance`` (a fraction: ``[qMin·(1-t), qMax·(1+t)]``, §2.4). The slot added on
    the 23-hour day is not checked for 0: the document's wording is ambiguous (§13.2).
    """
    if len(quantities) != SLOTS:
        return [reason(BAD_NUMBER_QUANTITIES, profile_id=profile_id)]
    labels = day_slots(gas_day).labels
    low, high = q_min * (1 - tolerance) - _EPSILON, q_max * (1 + tolerance) + _EPSILON
    issues = []
    missing = [i for i in range(first_adjustable, SLOTS) if _bad(quantities[i])]
    if missing:
        issues.append(reason(BAD_QUANTITIES, profile_id=profile_id, slots=missing, labels=[labels[i] for i in missing]))
    outside = [i for i, v in enumerate(quantities) if _number(v) and not low <= v <= high]
    if outside:
        issues.append(
            reason(EXEEDED_QMIN_QMAX, profile_id=profile_id, slots=outside, labels=[labels[i] for i in outside])
        )
    return issues


def check_slot_times(starts: Sequence[dt.datetime], gas_day: dt.date, *, profile_id: str = "") -> list[Reason]:
    """§2.5: « les horodates du Programme correspondant devront donc être comprises entre
    J 06h00 et J+1 05h00 » — compared as instants, whatever form the times came in.

    That is all the document asks; on the 23-hour day the added slot and the real
    03:00 share 03:00 (§13.2, read literally), on the 25-hour day 02:00 is the first one.
    """
    if len(starts) != SLOTS:
        return [reason(BAD_NUMBER_QUANTITIES, profile_id=profile_id)]
    labels = day_slots(gas_day).labels
    first, last = instant(labels[0]), instant(labels[-1])
    wrong = [i for i, start in enumerate(starts) if not first <= instant(start) <= last]
    if wrong:
        return [reason(HOURS_NOT_BETWEEN_START_END, profile_id=profile_id, slots=wrong)]
    return []


def check_profile_id(
    profile_id: str, *, site_id: str, gas_day: dt.date, contract: str, versions: Collection[int] = ()
) -> list[Reason]:
    """The id's format and agreement with site, day and contract; a new, higher
    version than every one already received for this site and day (§2.2)."""
    parsed = parse_program_id(profile_id)
    if parsed is None:
        return [reason(BAD_HMS_PROFILE_ID, profile_id=profile_id)]
    if (parsed.site_id, parsed.gas_day, parsed.contract) != (site_id, gas_day, contract):
        return [reason(BAD_HMS_PROFILE_ID, profile_id=profile_id)]
    if parsed.version in versions:
        return [reason(HMS_PROFILE_ID_ALREADY_EXISTS, profile_id=profile_id)]
    last = max(versions, default=0)
    if parsed.version < last:
        return [reason(HMS_PROFILE_VERSION_NOT_INCREASING, profile_id=profile_id, detail=str(last))]
    return []


def check_contract(
    site: Site | None, contract: str, *, profile_id: str = "", contracts: Mapping[str, Collection[str]] | None = None
) -> list[Reason]:
    """The site exists and the connection contract is its own (§2.3).

    ``contracts`` (site id → contract codes) overrides the site table's contract.
    """
    if site is None:
        return [reason(UNKNOWN_HMS_SITE, profile_id=profile_id)]
    allowed = contracts.get(site.site_id, ()) if contracts is not None else (site.contract,)
    if contract not in allowed:
        return [reason(CONTRACT_NOT_MATCHING_SITE, profile_id=profile_id)]
    return []


def check_gas_day(gas_day: dt.date, now: dt.datetime, *, profile_id: str = "") -> list[Reason]:
    """A program for a gas day already over is refused (PAST_GAS_DAY, §13.6)."""
    if day_slots(gas_day).end <= instant(now):
        return [reason(PAST_GAS_DAY, profile_id=profile_id)]
    return []


def validate_profile(
    profile: InputHmsProfile,
    *,
    now: dt.datetime,
    site: Site | None,
    versions: Collection[int] = (),
    tolerance: float = DEFAULT_TOLERANCE,
    contracts: Mapping[str, Collection[str]] | None = None,
) -> list[Reason]:
    """Every technical check of one ``inputHmsProfile`` (§2.1-2.5); empty when receivable.

    ``site`` is the site named by ``hmsSiteId`` (``None`` if unknown); ``versions``
    the versions already received for this site and day.
    """
    pid = profile.hmsProfileId
    issues = check_contract(site, profile.connectionContractCode, profile_id=pid, contracts=contracts)
    if site is None:
        return issues
    issues += check_profile_id(
        pid, site_id=site.site_id, gas_day=profile.gasDay, contract=profile.connectionContractCode, versions=versions
    )
    if profile.unit != "kWh25":
        issues.append(reason(BAD_UNIT, profile_id=pid))
    issues += check_gas_day(profile.gasDay, now, profile_id=pid)
    slots = profile.hmsHourlyProfile
    if len(slots) != SLOTS:
        issues.append(reason(BAD_NUMBER_QUANTITIES, profile_id=pid))
        return issues
    issues += check_slot_times([s.hourlySlotStartDateTime for s in slots], profile.gasDay, profile_id=pid)
    issues += check_quantities(
        [s.quantity for s in slots],
        profile.gasDay,
        q_min=site.q_min,
        q_max=site.q_max,
        tolerance=tolerance,
        profile_id=pid,
        first_adjustable=first_adjustable_index(profile.gasDay, now),
    )
    return issues


def validate_declaration(
    profiles: Sequence[InputHmsProfile],
    *,
    now: dt.datetime,
    sites: Mapping[str, Site],
    versions: Mapping[tuple[str, dt.date], Collection[int]] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    contracts: Mapping[str, Collection[str]] | None = None,
) -> list[Reason]:
    """The technical checks of a whole declaration (§2.6): one issue rejects it all.

    ``versions`` maps (site id, gas day) to the versions already received. An id
    appearing twice in the declaration is HMS_PROFILE_ID_ALREADY_EXISTS.
    """
    if not profiles:
        return [reason(BAD_FORMAT, detail="no program")]
    versions = versions or {}
    issues: list[Reason] = []
    seen: set[str] = set()
    for profile in profiles:
        if profile.hmsProfileId in seen:
            issues.append(reason(HMS_PROFILE_ID_ALREADY_EXISTS, profile_id=profile.hmsProfileId))
            continue
        seen.add(profile.hmsProfileId)
        issues += validate_profile(
            profile,
            now=now,
            site=sites.get(profile.hmsSiteId),
            versions=versions.get((profile.hmsSiteId, profile.gasDay), ()),
            tolerance=tolerance,
            contracts=contracts,
        )
    return issues


# -- the rebuilt program (chapter 2 §5-9) -----------------------------------------------


class AcceptedProgram(msgspec.Struct, frozen=True):
    """A program confirmed feasible: its version, reception time and 24 values."""

    version: int
    received_at: dt.datetime
    quantities: tuple[float | None, ...]


def accepted_programs(profiles: Iterable[HmsProfile]) -> tuple[AcceptedProgram, ...]:
    """The ACCEPTED programs among §13.3 ``hmsProfile`` objects, for :func:`rebuild`.

    The reception time is ``processingDateTime`` (GRTgaz's), else ``declarationDateTime``.
    """
    found = []
    for profile in profiles:
        if profile.status is not FeasibilityStatus.ACCEPTED:
            continue
        parsed = parse_program_id(profile.hmsProfileId)
        if parsed is None:
            continue
        received = profile.processingDateTime or profile.declarationDateTime
        found.append(AcceptedProgram(parsed.version, received, tuple(profile.quantities)))
    return tuple(found)


def rebuild(
    gas_day: dt.date, accepted: Iterable[AcceptedProgram], *, as_of: dt.datetime | None = None
) -> tuple[float, ...] | None:
    """The rebuilt (reference) program of a site and day from its accepted programs.

    - received before the day: taken whole, the last one wins (§5);
    - received during the day: only from the current hour on — H-1 before H+15,
      H after (§6, §7) — earlier hours keep the previous rebuilt values (§8);
    - several programs received together: the highest version wins (§9); a lower
      version than one already applied is never applied;
    - ``as_of``: only programs received strictly before it (e.g. "before the start
      of hour H-1", §3.2.3.2 2.a.i);
    - a missing (null) value keeps the previous one; hours no program ever set are 0.

    ``None`` when no accepted program counts.
    """
    limit = instant(as_of) if as_of is not None else None
    ordered = sorted(
        (p for p in accepted if limit is None or p.received_at < limit),
        key=lambda p: (instant(p.received_at), p.version),
    )
    if not ordered:
        return None
    values = [0.0] * SLOTS
    highest = 0
    for program in ordered:
        if program.version < highest or len(program.quantities) != SLOTS:
            continue
        highest = program.version
        for index in range(first_adjustable_index(gas_day, program.received_at), SLOTS):
            value = program.quantities[index]
            if _number(value):
                values[index] = float(value)
    return tuple(values)


# -- feasibility (§3, §4) ----------------------------------------------------------------


class IndicatorView(msgspec.Struct, frozen=True):
    """One indicator as it bears on a program received at a given time (§3.2.2.1).

    ``applicable`` is the status used for the check; ``current`` the published
    ``currentIndicator``; ``next``/``next_at`` an announced change not applied yet.
    """

    flex: Flex
    applicable: IndicatorStatus
    current: IndicatorStatus
    next: IndicatorStatus | None = None
    next_at: dt.datetime | None = None


def indicator_views(
    site: SiteIndicators | None, at: dt.datetime, *, unknown: IndicatorStatus = IndicatorStatus.RED
) -> dict[Flex, IndicatorView]:
    """The three :class:`IndicatorView` of a site at ``at``.

    Without indicators (not fetched yet) every indicator is taken as ``unknown``
    (red by default: a pre-check must not promise what it cannot know); so is a colour
    the document does not list (``PURPLE``), for the check only (``current`` keeps it).
    """
    if site is None:
        return {flex: IndicatorView(flex, unknown, unknown) for flex in Flex}
    at = instant(at)
    views = {}
    for flex in Flex:
        applicable = applicable_status(site, flex, at)
        if not applicable.known:
            applicable = unknown
        current = site.currentIndicator.indicator(flex).status
        upcoming = site.nextIndicator.indicator(flex) if site.nextIndicator is not None else None
        if upcoming is not None and (upcoming.applicationDateTime <= at or upcoming.status is applicable):
            upcoming = None
        views[flex] = IndicatorView(
            flex,
            applicable,
            current,
            upcoming.status if upcoming else None,
            upcoming.applicationDateTime if upcoming else None,
        )
    return views


class Outcome(str, enum.Enum):
    """The predicted answer: ACCEPTED / REFUSED (§3, §13.3) or REJECTED (technical, §2, 400)."""

    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    REJECTED = "REJECTED"


# Rule labels (the document's sections) carried by each hour's check.
RULE_AUTO = "§3.1"
RULE_MISSING_HOUR = "§13.2"
RULE_SHORTAGE = "§4"
RULE_PAST = "§8"
RULE_UNCHANGED = "§3.2.2"
RULE_OUTSIDE = "§3.2.3.1"
RULE_GREEN = "§3.2.3.1"
_RULE_RED = {  # (flex rule, received before H+15) → section
    ("q-", True): "§3.2.3.2 1.a",
    ("q-", False): "§3.2.3.2 1.b",
    ("tolerance", True): "§3.2.3.2 2.a.i",
    ("tolerance", False): "§3.2.3.2 2.b.i",
    ("q+", True): "§3.2.3.2 2.a.ii",
    ("q+", False): "§3.2.3.2 2.b.ii",
}


class HourCheck(msgspec.Struct, frozen=True):
    """The verdict for one slot of a program.

    ``start`` is the slot's wall-clock start (Paris); ``value``/``reference`` the new
    and reference quantities; ``adjustable`` false for hours already past (§8);
    ``rule`` the document section that decided, ``code`` the §13.3/§13.6 code when it
    fails (or ""), ``reason`` an operator-readable sentence; ``indicators`` the
    indicators applying to this hour (Q→Q- for a decrease, Q→Q+ then partial for an
    increase, none when unchanged) with their current and next colours.
    """

    index: int
    start: dt.datetime
    value: float | None
    reference: float | None
    ok: bool
    rule: str
    code: str
    reason: str
    adjustable: bool
    in_window: bool
    exists: bool = True
    indicators: tuple[IndicatorView, ...] = ()

    @property
    def delta(self) -> float | None:
        if self.value is None or self.reference is None:
            return None
        return self.value - self.reference

    @property
    def flexes(self) -> tuple[Flex, ...]:
        return tuple(view.flex for view in self.indicators)

    @property
    def current(self) -> IndicatorStatus | None:
        """Applicable colour of the first indicator applying to this hour."""
        return self.indicators[0].applicable if self.indicators else None

    @property
    def next(self) -> IndicatorStatus | None:
        """Announced colour of that indicator, if a change is pending."""
        return self.indicators[0].next if self.indicators else None

    @property
    def next_at(self) -> dt.datetime | None:
        return self.indicators[0].next_at if self.indicators else None


class PartialBudget(msgspec.Struct, frozen=True):
    """The partial-flexibility allowance of §3.2.3.2 2.a.i / 2.b.i over the window."""

    window_total: float
    reference_total: float
    allowance: float

    @property
    def remaining(self) -> float:
        """kWh still allowed (negative: over by that much)."""
        return self.reference_total + self.allowance - self.window_total

    @property
    def ok(self) -> bool:
        return self.remaining >= -_EPSILON


class Feasibility(msgspec.Struct, frozen=True):
    """The feasibility decision of §3 for one program, as GRTgaz would give it."""

    status: FeasibilityStatus
    rule: str
    comments: tuple[Reason, ...]
    hours: tuple[HourCheck, ...]
    indicators: Mapping[Flex, IndicatorView]
    received_at: dt.datetime
    first_adjustable: int
    window: tuple[int, ...]
    partial: PartialBudget | None = None

    @property
    def comment(self) -> str:
        """The §13.3 ``comment``: "Programme accepté", or the reasons as ``CODE: message``
        parts joined by `` | ``."""
        if self.status is FeasibilityStatus.ACCEPTED:
            return MESSAGES[HMS_PROFILE_ACCEPTED]
        return join_reasons(self.comments)

    def statuses(self) -> dict[Flex, IndicatorStatus]:
        """The applicable status of each indicator (the §13.3 ``indicator`` object)."""
        return {flex: view.applicable for flex, view in self.indicators.items()}


def _value(quantities: Sequence[float | None], index: int) -> float | None:
    value = quantities[index] if index < len(quantities) else None
    return float(value) if _number(value) else None


def evaluate(
    quantities: Sequence[float | None],
    *,
    gas_day: dt.date,
    received_at: dt.datetime,
    reference: Sequence[float] | None,
    indicators: Mapping[Flex, IndicatorView],
    tranches: int,
    reference_before: Sequence[float] | None = None,
    profile_id: str = "",
    shortage: bool = False,
) -> Feasibility:
    """Feasibility of a program of ``gas_day`` received at ``received_at`` (§3, §4).

    - before J-1 01:00: accepted without control (§3.1);
    - an applicable indicator GREY, or ``shortage`` (a shortage declared for this gas day,
      which §4 applies « pour toute la journée gazière » whatever the colour): refused
      for shortage (§4, GRAY_INDICATOR);
    - per hour of the controlled window (:func:`control_window`: H-1…H+5 before H+15,
      H…H+5 after), compared with ``reference`` (the rebuilt program, §3.2.2):
      unchanged → conform; lower → Q→Q- applies, red refuses (§3.2.3.2 1, Q0_DELAY);
      higher → Q→Q+ applies: green conforms (§3.2.3.1); red with partial green
      conforms while the window's total stays within ``reference_before``'s total +
      0.8 GWh × ``tranches`` (§3.2.3.2 2.i, FLEXIBILITY_TOLERANCE); red with partial
      red refuses (§3.2.3.2 2.ii, QMAX_DELAY);
    - hours before the window are past (§8, not controlled, not kept); after H+5
      they are not controlled.

    ``reference_before`` is the reference as it was before the window's first hour
    began (default ``reference``); ``indicators`` come from :func:`indicator_views`
    at ``received_at``. A missing reference counts as 0 everywhere.
    """
    slots = day_slots(gas_day)
    received_at = paris(received_at)
    ref = reference if reference is not None else (0.0,) * SLOTS
    before = reference_before if reference_before is not None else ref
    first = first_adjustable_index(gas_day, received_at)
    window = control_window(gas_day, received_at)
    in_window = set(window)
    early = received_at - floor_hour(received_at) < ADJUSTMENT_MARGIN
    q_minus, partial, q_plus = (indicators[Flex.Q_TO_QMINUS], indicators[Flex.PARTIAL], indicators[Flex.Q_TO_QPLUS])
    auto = instant(received_at) < auto_accept_before(gas_day)
    grey = not auto and (shortage or any(view.applicable is IndicatorStatus.GREY for view in indicators.values()))

    budget = None
    if not auto and q_plus.applicable is IndicatorStatus.RED and partial.applicable is IndicatorStatus.GREEN:
        total = sum(ref[i] if (value := _value(quantities, i)) is None else value for i in window)
        budget = PartialBudget(total, sum(before[i] for i in window), PARTIAL_ALLOWANCE_PER_TRANCHE * tranches)

    hours: list[HourCheck] = []
    failed: dict[str, list[int]] = {}
    for index in range(SLOTS):
        value = _value(quantities, index)
        reference_value = float(ref[index])
        delta = 0.0 if value is None else value - reference_value
        adjustable = index >= first
        views: tuple[IndicatorView, ...] = ()
        if adjustable and delta < 0:  # the hours "du reste à faire" only (§3.2.2)
            views = (q_minus,)
        elif adjustable and delta > 0:
            views = (q_plus, partial)
        inside = index in in_window
        ok, code = True, ""
        if not slots.exists[index]:
            rule = RULE_MISSING_HOUR
            text = "slot added for the missing 02:00 (« celle de 3h », §13.2): not a real hour, sent as written"
        elif auto:
            rule, text = RULE_AUTO, "received before J-1 01:00: accepted without control"
        elif not adjustable:
            rule = RULE_PAST
            text = (
                "past hour: this change is not kept in the rebuilt program"
                if delta
                else "past hour: not controlled, not kept"
            )
        elif grey:
            ok, code, rule = False, HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR, RULE_SHORTAGE
            text = (
                "flexibility shortage (GREY): every new program is refused"
                if not shortage or any(v.applicable is IndicatorStatus.GREY for v in indicators.values())
                else "flexibility shortage declared for this whole gas day (§4), whatever the colour now"
            )
        elif not inside:
            rule, text = RULE_OUTSIDE, "beyond H+5: not controlled yet"
        elif delta == 0:
            rule, text = RULE_UNCHANGED, "unchanged from the reference: no indicator applies"
        elif delta < 0:
            if q_minus.applicable is IndicatorStatus.RED:
                ok, code, rule = False, HMS_PROFILE_NOT_RESPECT_Q0_DELAY, _RULE_RED["q-", early]
                text = "decrease refused: Q→Q- is red"
            else:
                rule, text = RULE_GREEN, f"decrease allowed: Q→Q- is {q_minus.applicable.word}"
        elif q_plus.applicable is not IndicatorStatus.RED:
            rule, text = RULE_GREEN, f"increase allowed: Q→Q+ is {q_plus.applicable.word}"
        elif budget is not None:
            rule = _RULE_RED["tolerance", early]
            if budget.ok:
                text = (
                    f"increase within the partial allowance (Q→Q+ red, partial green): "
                    f"{budget.remaining / 1000:,.0f} MWh left"
                )
            else:
                ok, code = False, HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE
                text = f"over the partial allowance by {-budget.remaining / 1000:,.0f} MWh (Q→Q+ red, partial green)"
        else:
            ok, code, rule = False, HMS_PROFILE_NOT_RESPECT_QMAX_DELAY, _RULE_RED["q+", early]
            text = "increase refused: Q→Q+ and partial are red"
        if code:
            failed.setdefault(code, []).append(index)
        hours.append(
            HourCheck(
                index,
                slots.labels[index],
                value,
                reference_value,
                ok,
                rule,
                code,
                text,
                adjustable,
                inside,
                slots.exists[index],
                views,
            )
        )

    comments: list[Reason] = []
    if auto:
        deciding = RULE_AUTO
    elif grey:
        deciding = RULE_SHORTAGE
        comments.append(
            reason(
                HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR,
                profile_id=profile_id,
                slots=failed.get(HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR, ()),
            )
        )
    else:
        deciding = RULE_GREEN
        for code in (
            HMS_PROFILE_NOT_RESPECT_Q0_DELAY,
            HMS_PROFILE_NOT_RESPECT_QMAX_DELAY,
            HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE,
        ):
            if code in failed:
                indices = failed[code]
                comments.append(
                    reason(code, profile_id=profile_id, slots=indices, labels=[slots.labels[i] for i in indices])
                )
                deciding = next(h.rule for h in hours if h.code == code)
    refused = bool(failed)
    if not refused:
        comments = [reason(HMS_PROFILE_ACCEPTED, profile_id=profile_id)]
    return Feasibility(
        FeasibilityStatus.REFUSED if refused else FeasibilityStatus.ACCEPTED,
        deciding,
        tuple(comments),
        tuple(hours),
        indicators,
        received_at,
        first,
        window,
        budget,
    )


# -- the editor's pre-check --------------------------------------------------------------


class ProgramContext(msgspec.Struct, frozen=True, dict=True):
    """Everything known about one site and gas day, prepared once for :func:`precheck`.

    ``accepted``: the day's accepted programs (for the reference "before hour H-1",
    §3.2.3.2); ``reference``: the rebuilt program as the API gave it (default:
    rebuilt from ``accepted``); ``versions``: versions already used (§2.2);
    ``tolerance``: the §2.4 fraction; ``contract``: default the site's; ``shortage``: a
    shortage of flexibility was declared for this gas day (§4, see :func:`shortage_days`).
    """

    site: Site
    gas_day: dt.date
    indicators: SiteIndicators | None = None
    accepted: tuple[AcceptedProgram, ...] = ()
    reference: tuple[float, ...] | None = None
    versions: frozenset[int] = frozenset()
    contract: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    shortage: bool = False

    @classmethod
    def from_api(
        cls,
        site: Site,
        gas_day: dt.date,
        *,
        indicators: SiteIndicators | None = None,
        profiles: Iterable[HmsProfile] = (),
        rebuilt: RebuiltHmsProfile | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        contract: str | None = None,
        shortage: bool = False,
    ) -> ProgramContext:
        """From what the API returned: ``GET …/hmsProfiles``, ``GET …/rebuiltHmsProfile``
        and the site's indicators (the API types are read here, once)."""
        profiles = list(profiles)
        versions = frozenset(_versions((p.hmsProfileId for p in profiles), site.site_id, gas_day))
        reference = None
        if rebuilt is not None and len(rebuilt.hourlyQuantities) == SLOTS:
            reference = tuple(float(q) if _number(q) else 0.0 for q in rebuilt.quantities)
        return cls(
            site,
            gas_day,
            indicators,
            accepted_programs(profiles),
            reference,
            versions,
            contract if contract is not None else site.contract,
            tolerance,
            shortage,
        )

    @property
    def contract_code(self) -> str:
        return self.contract or self.site.contract

    def next_version(self) -> int:
        return next_version(self.versions)

    def next_program_id(self) -> str:
        """The id the next declaration should carry (§2.2)."""
        return program_id(self.gas_day, self.site.site_id, self.contract_code, self.next_version())

    def reference_at(self, as_of: dt.datetime | None = None) -> tuple[float, ...] | None:
        """The rebuilt program from ``accepted`` as of ``as_of`` (cached)."""
        key = None if as_of is None else instant(as_of)
        # kept in the instance's __dict__, not a field: out of the repr and equality
        cache: dict[object, tuple[float, ...] | None] = self.__dict__.setdefault("_references", {})
        if key not in cache:
            cache[key] = rebuild(self.gas_day, self.accepted, as_of=key)
        return cache[key]

    def references(self, received_at: dt.datetime) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
        """(reference, reference before the window's first hour) for a program received then."""
        current = self.reference if self.reference is not None else self.reference_at(received_at)
        if not self.accepted:
            return current, current
        before = self.reference_at(first_adjustable_slot(received_at))
        return current, before if before is not None else current


def assess(
    context: ProgramContext, quantities: Sequence[float | None], received_at: dt.datetime, *, profile_id: str = ""
) -> Feasibility:
    """:func:`evaluate` with the context's references and indicators (the simulator's call)."""
    reference, before = context.references(received_at)
    return evaluate(
        quantities,
        gas_day=context.gas_day,
        received_at=received_at,
        reference=reference,
        indicators=indicator_views(context.indicators, received_at),
        tranches=context.site.tranches,
        reference_before=before,
        profile_id=profile_id,
        shortage=context.shortage,
    )


class ProgramCheck(msgspec.Struct, frozen=True):
    """What :func:`precheck` predicts for a program being edited.

    ``issues``: technical problems (§2, §13.6 codes) that would get a 400;
    ``hours``: the 24 :class:`HourCheck`; ``outcome``: REJECTED when any issue,
    else the feasibility's ACCEPTED / REFUSED; ``indicators_known`` false when no
    indicators were available (then taken as red).
    """

    profile_id: str
    checked_at: dt.datetime
    issues: tuple[Reason, ...]
    hours: tuple[HourCheck, ...]
    outcome: Outcome
    feasibility: Feasibility
    indicators_known: bool

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def indicators(self) -> Mapping[Flex, IndicatorView]:
        return self.feasibility.indicators

    @property
    def comments(self) -> tuple[Reason, ...]:
        return self.feasibility.comments

    @property
    def failing(self) -> tuple[HourCheck, ...]:
        return tuple(hour for hour in self.hours if not hour.ok)

    @property
    def summary(self) -> str:
        """One operator line: the predicted outcome and why."""
        if self.outcome is Outcome.REJECTED:
            return "would be REJECTED: " + "; ".join(i.explanation for i in self.issues)
        if self.outcome is Outcome.REFUSED:
            return "would be REFUSED: " + "; ".join(c.explanation for c in self.comments)
        suffix = "" if self.indicators_known else " (indicators unknown: taken as red)"
        return "would be ACCEPTED" + suffix


def precheck(
    context: ProgramContext, quantities: Sequence[float | None], *, now: dt.datetime, profile_id: str | None = None
) -> ProgramCheck:
    """The pre-check an editor runs on every keystroke (pure, cheap: no API object built).

    Technical checks of §2 (id and version, contract, Qmin/Qmax with tolerance, 24
    values, past gas day) and the feasibility of §3-§4 as if GRTgaz received the
    program at ``now``. ``profile_id`` defaults to ``context.next_program_id()``.
    """
    now = paris(now)
    pid = profile_id if profile_id is not None else context.next_program_id()
    site = context.site
    first = first_adjustable_index(context.gas_day, now)
    issues = check_profile_id(
        pid, site_id=site.site_id, gas_day=context.gas_day, contract=context.contract_code, versions=context.versions
    )
    issues += check_gas_day(context.gas_day, now, profile_id=pid)
    issues += check_quantities(
        quantities,
        context.gas_day,
        q_min=site.q_min,
        q_max=site.q_max,
        tolerance=context.tolerance,
        first_adjustable=first,
        profile_id=pid,
    )
    feasibility = assess(context, quantities, now, profile_id=pid)
    hours = feasibility.hours
    per_slot = [issue for issue in issues if issue.slots]
    if per_slot:
        patched = list(hours)
        for issue in per_slot:
            for index in issue.slots:
                patched[index] = replace(
                    patched[index], ok=False, rule=issue.section, code=issue.code, reason=EXPLANATIONS[issue.code]
                )
        hours = tuple(patched)
    if issues:
        outcome = Outcome.REJECTED
    else:
        outcome = Outcome(feasibility.status.value)
    return ProgramCheck(pid, now, tuple(issues), hours, outcome, feasibility, context.indicators is not None)


def input_profile(
    context: ProgramContext,
    quantities: Sequence[float | None],
    *,
    declared_at: dt.datetime,
    profile_id: str | None = None,
    q_min: float | None = None,
    q_max: float | None = None,
) -> InputHmsProfile:
    """The §13.2 ``inputHmsProfile`` to send for these 24 values (slots J 06:00 … J+1 05:00).

    ``profile_id`` defaults to the next id (§2.2); ``q_min``/``q_max`` (the day's
    declared technical min and max) default to the contract's.
    """
    from pupitre.providers.grtgaz.models import HourlyQuantity, InputHmsProfile

    if len(quantities) != SLOTS:
        raise ValueError(f"a program has {SLOTS} hourly values, got {len(quantities)}")
    site = context.site
    labels = day_slots(context.gas_day).labels
    return InputHmsProfile(
        hmsProfileId=profile_id if profile_id is not None else context.next_program_id(),
        declarationDateTime=paris(declared_at),
        hmsSiteId=site.site_id,
        hmsSiteLabel=site.label,
        connectionContractCode=context.contract_code,
        gasDay=context.gas_day,
        unit="kWh25",
        qMin=site.q_min if q_min is None else q_min,
        qMAx=site.q_max if q_max is None else q_max,
        hmsHourlyProfile=[
            HourlyQuantity(hourlySlotStartDateTime=label, quantity=value)
            for label, value in zip(labels, quantities, strict=True)
        ],
    )
