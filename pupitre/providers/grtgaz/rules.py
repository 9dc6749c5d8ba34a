"""Flexibility-indicator rules of the GRTgaz document, as pure functions.

- §3.2.2.1 "Temporisation": indicators are published every hour at H-8 min and
  apply at H+15; between the two an unfavourable change (green → red) is announced
  as ``nextIndicator`` and not yet used for the controls, while a favourable one
  (red → green) is used at once.
- §4 "Pénurie de flexibilité": GREY means shortage; the validation is switched off.

Times are aware datetimes (naive ones are taken as Paris wall time); arithmetic on instants is done in UTC so that the DST
changes (23- and 25-hour days) are handled (Paris offsets are whole hours, so a
publication at minute 52 UTC is at minute 52 local too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Sequence

from pupitre.providers.core.clock import PARIS, UTC, add, paris
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus, SiteIndicators

PUBLICATION_LEAD = dt.timedelta(minutes=8)
"""Publication at H-8 min (HH:52 of the previous hour), §3.2.2.1."""
APPLICATION_DELAY = dt.timedelta(minutes=15)
"""Application at H+15 min, §3.2.2.1."""
TEMPORISATION = PUBLICATION_LEAD + APPLICATION_DELAY
"""The 23 minutes between publication and application, §3.2.2.1."""
PUBLICATION_MINUTE = 52
HOUR = dt.timedelta(hours=1)

#: Attention order: GREY (shortage, §4) > RED > GREEN.
SEVERITY: dict[IndicatorStatus, int] = {IndicatorStatus.GREEN: 0, IndicatorStatus.RED: 1,
                                        IndicatorStatus.GREY: 2}


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
    moment = paris(moment)
    last = last_publication(moment)
    return last if last == moment else add(last, HOUR)


# -- statuses -------------------------------------------------------------------------

def is_unfavourable(old: IndicatorStatus, new: IndicatorStatus) -> bool:
    """Green → red: announced as ``nextIndicator``, applies only at H+15 (§3.2.2.1)."""
    return old is IndicatorStatus.GREEN and new is IndicatorStatus.RED


def is_favourable(old: IndicatorStatus, new: IndicatorStatus) -> bool:
    """Red → green: used for the controls from its publication at H-8 min (§3.2.2.1)."""
    return old is IndicatorStatus.RED and new is IndicatorStatus.GREEN


def worst_status(statuses: Iterable[IndicatorStatus]) -> IndicatorStatus | None:
    """The status needing most attention: GREY (shortage, §4) > RED > GREEN; ``None`` if empty."""
    return max(statuses, key=SEVERITY.__getitem__, default=None)


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


def worst_status_across(sites: Iterable[SiteIndicators], *,
                        include_next: bool = False) -> IndicatorStatus | None:
    """Worst status across sites; ``None`` when there is no site."""
    return worst_status(s for site in sites for s in site_statuses(site, include_next=include_next))


def applicable_status(site: SiteIndicators, flex: Flex, received_at: dt.datetime) -> IndicatorStatus:
    """The status used to check a program received at ``received_at`` (§3.2.2.1).

    From the document as last fetched: the announced ``nextIndicator`` is used once
    it applies (at or after its ``applicationDateTime``, H+15), or from its
    publication (``availabilityDateTime``, H-8 min) when it is more favourable
    (red → green). Otherwise — notably an unfavourable change between H-8 and H+15
    (Exemple 1) — the ``currentIndicator`` status is used.
    """
    received_at = paris(received_at)
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


# -- changes --------------------------------------------------------------------------

@dataclass(frozen=True)
class UpcomingChange:
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
    now = paris(now)
    changes = []
    for site in sites:
        if site.nextIndicator is None:
            continue
        for flex, upcoming in site.nextIndicator.indicators():
            current = site.currentIndicator.indicator(flex)
            if upcoming.status is current.status or upcoming.applicationDateTime <= now:
                continue
            changes.append(UpcomingChange(site.site_id, site.site_label, site.mesh_label, flex,
                                          current.status, upcoming.status,
                                          upcoming.availabilityDateTime,
                                          upcoming.applicationDateTime))
    changes.sort(key=lambda c: (c.applies_at, c.site_label, list(Flex).index(c.flex)))
    return changes


@dataclass(frozen=True)
class IndicatorChange:
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


def diff_states(old: Sequence[SiteIndicators] | None, new: Sequence[SiteIndicators], *,
                include_appeared: bool = False) -> list[IndicatorChange]:
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
                changes.append(IndicatorChange(site.site_id, site.site_label, flex, old_status,
                                               indicator.status, indicator.applicationDateTime))
        seen = _announcements(previous) if previous else {}
        for flex, (status, applies_at) in _announcements(site).items():
            if seen.get(flex) != (status, applies_at):
                changes.append(IndicatorChange(site.site_id, site.site_label, flex,
                                               site.currentIndicator.indicator(flex).status, status,
                                               applies_at, announced=True))
    return changes


# -- shortage (§4) --------------------------------------------------------------------

SHORTAGE_DECLARATION_TIME = dt.time(20, 30)
SHORTAGE_GREY_FROM = dt.time(5, 52)
SHORTAGE_GREY_UNTIL = dt.time(0, 52)


def shortage_grey_window(gas_day: dt.date, *, declared_at: dt.datetime | None = None,
                         previous_day_in_shortage: bool = False) -> tuple[dt.datetime, dt.datetime]:
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

    Whatever the colour, the shortage itself covers the whole gas day J (§4).
    """
    start = dt.datetime.combine(gas_day, SHORTAGE_GREY_FROM, tzinfo=PARIS)
    end = dt.datetime.combine(gas_day + dt.timedelta(days=1), SHORTAGE_GREY_UNTIL, tzinfo=PARIS)
    if previous_day_in_shortage:
        start = dt.datetime.combine(gas_day, SHORTAGE_GREY_UNTIL, tzinfo=PARIS)
    if declared_at is not None:
        start = max(start, publication_at_or_after(paris(declared_at)))
    return start, max(start, end)
