"""The GRTgaz SFM simulator: flexibility indicators on the documented schedule.

Routes (chapter 3 §11.2, chapter 4 §14.1-14.2), base path ``/sfm/v1``:

- ``GET /sfm/v1/sites/flexibilityIndicators``: a list of ``siteIndicators`` (§13.1);
- ``GET /sfm/v1/sites/{hmsSiteId}/flexibilityIndicators``: one ``siteIndicators``,
  404 + §13.6 ``Error`` for an unknown site, 400 for an id not shaped ``LI0000``;
- ``POST /oauth2/v2.0/token``: the certificate-signed JWT client-credentials grant
  (§11.2.2-11.2.3), issuing opaque bearer tokens living 1 hour (§11.2);
- programs (§14.3-14.6): ``POST /sfm/v1/hmsProfiles`` (also ``/sites/hmsProfiles``,
  the name §14 lists), ``GET /sfm/v1/hmsProfiles/{hmsProfileId}``,
  ``GET /sfm/v1/sites/{hmsSiteId}/hmsProfiles?gasDayDate=`` and
  ``GET /sfm/v1/sites/{hmsSiteId}/rebuiltHmsProfile?gasDayDate=``.

Programs are stored per site and gas day. A declaration is checked as a whole with
``rules.validate_declaration`` (400 + §13.6 ``Error`` whose ``Message`` lists every
``CODE: message [id]``, joined by `` | ``, and nothing is kept, §2.6); else 201 with
one ``link`` per program, and each program is judged with ``rules.assess`` — the
same code as the editor's pre-check — against the indicators and the rebuilt program
at reception. Its feasibility shows ``feasibility_delay`` after reception (0 by
default); until then ``hmsProfileFeasibility`` is absent. The rebuilt program
(``rules.rebuild``) counts accepted programs once shown.

Unless ``seed_programs`` is false (the default with the ``calm`` scenario), each
site has, for any gas day first asked about once J-1 15:00 has passed, an accepted
version 1 declared at J-1 15:00 with a plausible daily shape, so the rebuilt program is
never empty — and no declaration is ever dated after the clock's now.

A bearer token is required on the resources (401 + ``Error`` otherwise).

The indicator state is a function of the shared clock (§3.2.2.1). For each hour H a
status is decided per site and indicator and published at H-8 min; it applies at
H+15. With ``P1`` the last publication and ``P0`` the one before:

- from ``P1 + 23 min`` (H+15) to the next publication, ``currentIndicator`` is the
  ``P1`` publication (availability ``P1``, application H+15), no ``nextIndicator``;
- between ``P1`` and H+15, an indicator turning green → red keeps its ``P0`` value
  in ``currentIndicator`` and the whole ``P1`` publication is shown as
  ``nextIndicator``; any other change (red → green, to or from GREY) is shown in
  ``currentIndicator`` at once, with the ``P1`` times.

The decided status is, first found: GREY inside a declared shortage's window (§4,
see :func:`~pupitre.providers.grtgaz.rules.shortage_grey_window`), the latest
status scripted with :meth:`GrtgazSimulator.schedule` for a publication at or before
``P``, then the scenario (``"default"``: lively at any hour and deterministic from the
seed and the gas day; ``"calm"``: all green; or any callable).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import re
from typing import Any, Callable, Collection, Mapping, Sequence
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pupitre.providers.core.clock import (
    GAS_DAY_START_HOUR,
    PARIS,
    Clock,
    add,
    gas_day_bounds,
    gas_day_length_hours,
    gas_day_of,
    instant,
    paris,
)
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import Simulator, SimulatorApp, TokenIssuer
from pupitre.providers.core.sandbox_oauth import ClientRegistration, token_route
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import (
    FeasibilityIndicator,
    FeasibilityStatus,
    Flex,
    HmsProfile,
    HmsProfileFeasibility,
    HourlyQuantity,
    Indicator,
    IndicatorSet,
    IndicatorStatus,
    InputHmsProfile,
    RebuiltHmsProfile,
    SiteIndicators,
    read,
    to_document,
)
from pupitre.providers.grtgaz.sites import SITE_ID_PATTERN, SITES, Site

BASE_PATH = "/sfm/v1"
TOKEN_PATH = "/oauth2/v2.0/token"
TOKEN_LIFETIME = dt.timedelta(hours=1)
SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-00000000a11e"  # fake, GUID-shaped like Azure AD ids
SANDBOX_SCOPE = "api://pupitre-sandbox-sfm/.default"

#: A scenario gives the status decided for a site, an indicator and an hour start (Paris).
Scenario = Callable[[Site, Flex, dt.datetime], IndicatorStatus]

GREEN, RED, GREY = IndicatorStatus.GREEN, IndicatorStatus.RED, IndicatorStatus.GREY


def error_body(status: int, message: str) -> dict[str, Any]:
    """The §13.6 ``Error`` object: ``Code`` and ``Message``."""
    return {"Code": status, "Message": message}


def calm_scenario(site: Site, flex: Flex, hour: dt.datetime) -> IndicatorStatus:
    """Everything green: a blank page for tests that script exact sequences."""
    return GREEN


class LivelyScenario:
    """A plausible day at any hour, the same for the same seed and gas day.

    Planned per gas day (06:00 → 06:00) on its real hourly slots — 23 or 25 on the DST
    days — so an hour is an instant, never a wall-clock reading. Per day: 3-5 sites turn
    red on Q→Q+ in the afternoon for a few hours; one mesh (of several sites) turns red on
    partial flexibility in the late afternoon; one or two sites are red on Q→Q- in the
    morning; a handful of one- or two-hour red spells anywhere; and a *relay* through the
    whole day: a site is red for two hours from every slot, each on its own, so at any
    hour some sites are red and the next publication (within the hour) announces a change.
    """

    def __init__(self, seed: int = 0, sites: tuple[Site, ...] = SITES) -> None:
        self.seed = seed
        self.sites = sites
        self._plans: dict[dt.date, dict[tuple[str, Flex], list[range]]] = {}

    def plan(self, gas_day: dt.date) -> dict[tuple[str, Flex], list[range]]:
        """Red spells of ``gas_day``: (site id, indicator) → ranges of slot indices
        (0 = 06:00, as in :func:`~pupitre.providers.core.clock.gas_day_hours`)."""
        if gas_day not in self._plans:
            if len(self._plans) > 64:
                self._plans.clear()
            self._plans[gas_day] = self._make_plan(gas_day)
        return self._plans[gas_day]

    def _make_plan(self, gas_day: dt.date) -> dict[tuple[str, Flex], list[range]]:
        rng = random.Random(f"grtgaz:{self.seed}:{gas_day.isoformat()}")
        slots = gas_day_length_hours(gas_day)
        plan: dict[tuple[str, Flex], list[range]] = {}

        def red(site: Site, flex: Flex, start: int, hours: int) -> None:
            plan.setdefault((site.site_id, flex), []).append(range(start, min(slots, start + hours)))

        def at_local(hour: int) -> int:
            """The slot of a local hour from 06:00 to 23:00 (the same on every day)."""
            return hour - GAS_DAY_START_HOUR

        for site in rng.sample(self.sites, k=min(len(self.sites), rng.randint(3, 5))):
            red(site, Flex.Q_TO_QPLUS, at_local(rng.randint(12, 15)), rng.randint(3, 7))
        codes = [site.mesh.code for site in self.sites]
        meshes = sorted({code for code in codes if codes.count(code) > 1} or set(codes))
        mesh = rng.choice(meshes)
        start, hours = at_local(rng.randint(14, 17)), rng.randint(2, 4)
        for site in self.sites:
            if site.mesh.code == mesh:
                red(site, Flex.PARTIAL, start, hours)
        for site in rng.sample(self.sites, k=min(len(self.sites), rng.randint(1, 2))):
            red(site, Flex.Q_TO_QMINUS, at_local(rng.randint(6, 9)), rng.randint(1, 3))
        for _ in range(5):
            red(rng.choice(self.sites), rng.choice(list(Flex)), rng.randrange(slots), rng.randint(1, 2))
        relay = list(self.sites)
        rng.shuffle(relay)
        for index in range(-1, slots):  # from the one that started at the previous day's last hour
            flex = Flex.Q_TO_QPLUS if rng.random() < 0.7 else Flex.Q_TO_QMINUS
            red(relay[index % len(relay)], flex, max(0, index), index + 2 - max(0, index))
        return plan

    def __call__(self, site: Site, flex: Flex, hour: dt.datetime) -> IndicatorStatus:
        gas_day = gas_day_of(hour)
        start, _ = gas_day_bounds(gas_day)
        index = int((instant(hour) - instant(start)).total_seconds() // 3600)
        spells = self.plan(gas_day).get((site.site_id, flex), [])
        return RED if any(index in spell for spell in spells) else GREEN


def make_scenario(scenario: str | Scenario, seed: int = 0, sites: tuple[Site, ...] = SITES) -> Scenario:
    """A scenario by name (``default``/``lively``, ``calm``) or the callable itself."""
    if callable(scenario):
        return scenario
    if scenario in ("default", "lively"):
        return LivelyScenario(seed, sites)
    if scenario == "calm":
        return calm_scenario
    raise ValueError(f"unknown GRTgaz sandbox scenario {scenario!r}: use 'default' or 'calm'")


class StoredProgram(msgspec.Struct):
    """A program as received: the input, reception time, and the decision (§3)."""

    profile: InputHmsProfile
    received_at: dt.datetime
    shown_at: dt.datetime
    feasibility: rules.Feasibility

    @property
    def version(self) -> int:
        parsed = rules.parse_program_id(self.profile.hmsProfileId)
        return parsed.version if parsed else 0

    @property
    def accepted(self) -> bool:
        return self.feasibility.status is FeasibilityStatus.ACCEPTED

    def as_accepted(self) -> rules.AcceptedProgram:
        return rules.AcceptedProgram(self.version, self.received_at, tuple(self.profile.quantities))


#: Share of the contractual maximum per hour of the seeded programs (06:00 … 05:00).
SEED_SHAPE = (
    0.55,
    0.7,
    0.8,
    0.8,
    0.75,
    0.7,
    0.7,
    0.7,
    0.65,
    0.6,
    0.65,
    0.75,
    0.85,
    0.85,
    0.8,
    0.7,
    0.6,
    0.5,
    0.45,
    0.4,
    0.4,
    0.4,
    0.4,
    0.45,
)
SEED_DECLARED_AT = dt.time(15, 0)


class Shortage(msgspec.Struct, frozen=True):
    """A shortage of flexibility declared for gas day ``gas_day`` (§4)."""

    gas_day: dt.date
    declared_at: dt.datetime | None
    site_ids: frozenset[str] | None  # None: every site


class GrtgazSimulator(Simulator):
    """Holds the simulated state; tests drive it, :attr:`app` serves it (with ``plan``)."""

    #: Free text in this API's answers: where the ``hostile`` fault switch writes escape sequences.
    TEXT_FIELDS = frozenset(("siteLabel", "meshLabel", "hmsSiteLabel", "comment", "Message", "message"))

    error_body = staticmethod(error_body)
    WORLD_FIELDS = ("programs", "_profiles", "_seeded", "_scripted", "_shortages", "issuer.tokens")

    def __init__(
        self,
        clock: Clock,
        plan: FaultPlan | None = None,
        *,
        scenario: str | Scenario = "default",
        seed: int = 0,
        sites: tuple[Site, ...] = SITES,
        certificate_pem: bytes | str | None = None,
        audience: str | None = None,
        client_id: str = SANDBOX_CLIENT_ID,
        timestamps_local: bool = True,
        tolerance: float = rules.DEFAULT_TOLERANCE,
        feasibility_delay: dt.timedelta = dt.timedelta(0),
        seed_programs: bool | None = None,
        contracts: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.tolerance = tolerance
        self.feasibility_delay = feasibility_delay
        self.seed_programs = scenario != "calm" if seed_programs is None else seed_programs
        self.contracts = contracts
        self.programs: dict[tuple[str, dt.date], list[StoredProgram]] = {}
        self._profiles: dict[str, StoredProgram] = {}
        self._seeded: set[tuple[str, dt.date]] = set()
        self.plan = plan if plan is not None else FaultPlan()
        self.sites = sites
        self.scenario = make_scenario(scenario, seed, sites)
        self.timestamps_local = timestamps_local
        self.issuer = TokenIssuer(clock, TOKEN_LIFETIME)
        self.clients: dict[str, ClientRegistration] = {}
        self._by_id = {site.site_id: site for site in sites}
        self._scripted: dict[tuple[str, Flex], list[tuple[dt.datetime, IndicatorStatus]]] = {}
        self._shortages: dict[dt.date, Shortage] = {}
        self.requests = 0
        if certificate_pem is not None:
            self.register_client(client_id, certificate_pem, audience=audience)

    # -- driving ------------------------------------------------------------------------
    def register_client(
        self, client_id: str, certificate_pem: bytes | str, *, audience: str | None = None
    ) -> ClientRegistration:
        """Accept JWT assertions signed by this certificate's key (§11.2.2).

        ``audience`` is the expected ``aud``; ``None`` means the token URL as called.
        """
        pem = certificate_pem.encode() if isinstance(certificate_pem, str) else certificate_pem
        registration = ClientRegistration(client_id, certificate_pem=pem, audience=audience)
        self.clients[client_id] = registration
        return registration

    def site(self, site_id: str) -> Site:
        try:
            return self._by_id[site_id]
        except KeyError:
            raise KeyError(f"unknown site {site_id!r}") from None

    def schedule(self, site_id: str, flex: Flex, status: IndicatorStatus | str, publish_at: dt.datetime) -> dt.datetime:
        """Publish ``status`` from the publication at ``publish_at`` (rounded up to HH:52).

        It stays until another scheduled status or a shortage; returns the
        publication instant used. It applies per §3.2.2.1 (23 min later when green → red).
        """
        self.site(site_id)
        publication = rules.publication_at_or_after(publish_at)
        entries = self._scripted.setdefault((site_id, Flex(flex)), [])
        entries[:] = [entry for entry in entries if instant(entry[0]) != instant(publication)]
        bisect.insort(entries, (publication, IndicatorStatus(status)), key=lambda e: instant(e[0]))
        return publication

    def schedule_hour(self, site_id: str, flex: Flex, status: IndicatorStatus | str, hour: dt.datetime) -> dt.datetime:
        """Decide ``status`` for hour ``hour``: published at H-8 min, applied at H+15."""
        return self.schedule(site_id, flex, status, rules.publication_for_hour(hour))

    def declare_shortage(
        self, gas_day: dt.date, *, declared_at: dt.datetime | None = None, site_ids: set[str] | None = None
    ) -> tuple[dt.datetime, dt.datetime]:
        """Declare a shortage of flexibility for gas day ``gas_day`` (§4).

        ``declared_at`` defaults to the documented J-1 20:30. Returns the grey window
        of this day (see :func:`rules.shortage_grey_window`).
        """
        for site_id in site_ids or ():
            self.site(site_id)
        self._shortages[gas_day] = Shortage(gas_day, declared_at, frozenset(site_ids) if site_ids else None)
        return self._grey_window(self._shortages[gas_day], None)

    def cancel_shortage(self, gas_day: dt.date) -> None:
        self._shortages.pop(gas_day, None)

    def reset(self) -> None:
        """Forget scripted statuses and shortages (the scenario remains)."""
        self._scripted.clear()
        self._shortages.clear()

    # -- programs (§2, §3, chapter 2) -----------------------------------------------------
    def _touch(self, site_id: str, gas_day: dt.date) -> list[StoredProgram]:
        """The programs of a site and day, the seeded one included once its declaration time
        (J-1 15:00) has passed on the clock — never dated in the future — and only on a day
        nobody declared for before it."""
        key = (site_id, gas_day)
        if self.seed_programs and key not in self._seeded:
            declared = dt.datetime.combine(gas_day - dt.timedelta(days=1), SEED_DECLARED_AT, tzinfo=PARIS)
            if self.programs.get(key):
                self._seeded.add(key)  # the operator declared first: no invented version 1
            elif instant(declared) <= instant(self.clock.now()):
                self._seeded.add(key)
                self._seed(self.site(site_id), gas_day)
        return self.programs.setdefault(key, [])

    def _seed(self, site: Site, gas_day: dt.date) -> None:
        rng = random.Random(f"grtgaz-programs:{self.seed}:{site.site_id}:{gas_day.isoformat()}")
        level = rng.uniform(0.85, 1.0)
        values = [round(site.q_max * share * level, -3) for share in SEED_SHAPE]
        added = rules.day_slots(gas_day).added
        if added is not None:  # §13.2, 23-hour day: the added slot « celle de 3h » at 0
            values[added] = 0.0
        declared = dt.datetime.combine(gas_day - dt.timedelta(days=1), SEED_DECLARED_AT, tzinfo=PARIS)
        # judged with the indicators published at that time, as GRTgaz would report them (§13.3)
        context = rules.ProgramContext(
            site, gas_day, self.site_indicators(site.site_id, declared), contract=site.contract
        )
        profile = rules.input_profile(
            context, values, declared_at=declared, profile_id=rules.program_id(gas_day, site.site_id, site.contract, 1)
        )
        # Judged as received then: its window (J-1 14h … 20h) lies before day J, so it passes.
        feasibility = rules.assess(context, values, declared, profile_id=profile.hmsProfileId)
        stored = StoredProgram(profile, declared, declared, feasibility)
        self.programs.setdefault((site.site_id, gas_day), []).append(stored)
        self._profiles[profile.hmsProfileId] = stored

    def program_context(
        self, site_id: str, gas_day: dt.date, now: dt.datetime | None = None, *, shown_only: bool = False
    ) -> rules.ProgramContext:
        """The ``rules.ProgramContext`` of a site and day at ``now``: indicators, accepted
        programs received before, versions used."""
        now = instant(now if now is not None else self.clock.now())
        site = self.site(site_id)
        stored = self._touch(site_id, gas_day)
        accepted = tuple(
            p.as_accepted()
            for p in stored
            if p.accepted and p.received_at <= now and (not shown_only or p.shown_at <= now)
        )
        return rules.ProgramContext(
            site,
            gas_day,
            self.site_indicators(site_id, now),
            accepted,
            versions=frozenset(p.version for p in stored),
            contract=site.contract,
            tolerance=self.tolerance,
            shortage=self.in_shortage(site_id, gas_day, now),
        )

    def in_shortage(self, site_id: str, gas_day: dt.date, now: dt.datetime) -> bool:
        """A shortage was declared by ``now`` for ``gas_day`` at this site: §4 applies it « pour
        toute la journée gazière », whatever the colour shown (grey only until 00:51 on the night)."""
        shortage = self._shortages.get(gas_day)
        if shortage is None or (shortage.site_ids is not None and site_id not in shortage.site_ids):
            return False
        declared = shortage.declared_at or dt.datetime.combine(
            gas_day - dt.timedelta(days=1), rules.SHORTAGE_DECLARATION_TIME, tzinfo=PARIS
        )
        return instant(declared) <= instant(now)

    def rebuilt(self, site_id: str, gas_day: dt.date, now: dt.datetime | None = None) -> tuple[float, ...] | None:
        """The rebuilt program at ``now`` from the accepted programs shown by then (chapter 2)."""
        now = instant(now if now is not None else self.clock.now())
        return self.program_context(site_id, gas_day, now, shown_only=True).reference_at(add(now, _TICK))

    def declare(self, profiles: Sequence[InputHmsProfile], now: dt.datetime | None = None) -> list[rules.Reason]:
        """Receive a declaration (§2.6): the technical issues (nothing kept), or ``[]``
        once every program is stored and judged (§3)."""
        now = instant(now if now is not None else self.clock.now())
        for profile in profiles:
            if profile.hmsSiteId in self._by_id:
                self._touch(profile.hmsSiteId, profile.gasDay)
        versions = {key: {p.version for p in stored} for key, stored in self.programs.items()}
        issues = rules.validate_declaration(
            profiles, now=now, sites=self._by_id, versions=versions, tolerance=self.tolerance, contracts=self.contracts
        )
        if issues:
            return issues
        contexts = {(p.hmsSiteId, p.gasDay): self.program_context(p.hmsSiteId, p.gasDay, now) for p in profiles}
        for profile in profiles:
            context = contexts[profile.hmsSiteId, profile.gasDay]
            feasibility = rules.assess(context, profile.quantities, now, profile_id=profile.hmsProfileId)
            stored = StoredProgram(profile, now, add(now, self.feasibility_delay), feasibility)
            self.programs[profile.hmsSiteId, profile.gasDay].append(stored)
            self._profiles[profile.hmsProfileId] = stored
        return []

    def stored(self, profile_id: str) -> StoredProgram | None:
        return self._profiles.get(profile_id)

    def hms_profile(self, stored: StoredProgram, now: dt.datetime | None = None) -> HmsProfile:
        """The §13.3 ``hmsProfile`` of a stored program (no feasibility before it is shown)."""
        now = instant(now if now is not None else self.clock.now())
        profile = stored.profile
        feasibility = None
        if stored.shown_at <= now:
            site = self.site(profile.hmsSiteId)
            statuses = stored.feasibility.statuses()
            feasibility = HmsProfileFeasibility(
                indicator=FeasibilityIndicator(
                    siteId=site.site_id,
                    siteLabel=site.label,
                    meshCode=site.mesh.code,
                    meshLabel=site.mesh.label,
                    qTo0FlexibilityIndicator=statuses[Flex.Q_TO_QMINUS],
                    qToQmaxFlexibilityIndicator=statuses[Flex.Q_TO_QPLUS],
                    partialFlexibilityIndicator=statuses[Flex.PARTIAL],
                ),
                hmsProfileFeasibilityStatus=stored.feasibility.status,
                comment=stored.feasibility.comment,
            )
        return HmsProfile(
            hmsProfileId=profile.hmsProfileId,
            declarationDateTime=profile.declarationDateTime,
            processingDateTime=paris(stored.received_at),
            hmsSiteId=profile.hmsSiteId,
            hmsSiteLabel=profile.hmsSiteLabel,
            connectionContractCode=profile.connectionContractCode,
            gasDay=profile.gasDay,
            unit=profile.unit,
            qMin=profile.qMin,
            qMAx=profile.qMAx,
            hmsHourlyProfile=list(profile.hmsHourlyProfile),
            hmsProfileFeasibility=feasibility,
        )

    def site_hms_profiles(self, site_id: str, gas_day: dt.date, now: dt.datetime | None = None) -> list[HmsProfile]:
        """Every program of a site and day, in reception order (§14.5)."""
        return [self.hms_profile(p, now) for p in self._touch(site_id, gas_day)]

    def rebuilt_hms_profile(
        self, site_id: str, gas_day: dt.date, now: dt.datetime | None = None
    ) -> RebuiltHmsProfile | None:
        """The §13.4 ``rebuiltHmsProfile``; ``None`` before any accepted program."""
        now = instant(now if now is not None else self.clock.now())
        values = self.rebuilt(site_id, gas_day, now)
        if values is None:
            return None
        site = self.site(site_id)
        shown = [p for p in self._touch(site_id, gas_day) if p.accepted and p.shown_at <= now]
        low = site.q_min * (1 - self.tolerance)
        high = site.q_max * (1 + self.tolerance)
        labels = rules.day_slots(gas_day).labels
        return RebuiltHmsProfile(
            hmsProfileId=rules.rebuilt_program_id(gas_day, site_id),
            processingDateTime=paris(max((p.received_at for p in shown), key=instant)),
            hmsSiteId=site_id,
            hmsSiteLabel=site.label,
            connectionContractCode=site.contract,
            gasDay=gas_day,
            hourlyQuantities=[
                HourlyQuantity(hourlySlotStartDateTime=label, quantity=value)
                for label, value in zip(labels, values, strict=True)
            ],
            energyLowThresholds=low,
            energyHighThresholds=high,
            volumeLowThresholds=round(low / KWH_PER_M3, 3),
            volumeHighThresholds=round(high / KWH_PER_M3, 3),
        )

    # -- state --------------------------------------------------------------------------
    def _grey_window(self, shortage: Shortage, site_id: str | None) -> tuple[dt.datetime, dt.datetime]:
        before = self._shortages.get(shortage.gas_day - dt.timedelta(days=1))
        chained = before is not None and (before.site_ids is None or site_id is None or site_id in before.site_ids)
        return rules.shortage_grey_window(
            shortage.gas_day, declared_at=shortage.declared_at, previous_day_in_shortage=chained
        )

    def _grey(self, site_id: str, publication: dt.datetime) -> bool:
        for shortage in self._shortages.values():
            if shortage.site_ids is not None and site_id not in shortage.site_ids:
                continue
            start, end = self._grey_window(shortage, site_id)
            if instant(start) <= instant(publication) < instant(end):
                return True
        return False

    def published_status(self, site_id: str, flex: Flex, publication: dt.datetime) -> IndicatorStatus:
        """The status in the publication made at ``publication`` (an HH:52 instant)."""
        if self._grey(site_id, publication):
            return GREY
        entries = self._scripted.get((site_id, flex), [])
        index = bisect.bisect_right(entries, instant(publication), key=lambda e: instant(e[0]))
        if index:
            return entries[index - 1][1]
        return self.scenario(self.site(site_id), flex, rules.hour_of_publication(publication))

    def _publication(self, site: Site, publication: dt.datetime) -> dict[Flex, Indicator]:
        applies = rules.application_of(publication)
        return {
            flex: Indicator(
                status=self.published_status(site.site_id, flex, publication),
                availabilityDateTime=publication,
                applicationDateTime=applies,
            )
            for flex in Flex
        }

    @staticmethod
    def _set(site: Site, indicators: dict[Flex, Indicator]) -> IndicatorSet:
        return IndicatorSet(
            siteId=site.site_id,
            siteLabel=site.label,
            meshCode=site.mesh.code,
            meshLabel=site.mesh.label,
            qTo0FlexibilityIndicator=indicators[Flex.Q_TO_QMINUS],
            partialFlexibilityIndicator=indicators[Flex.PARTIAL],
            qToQPlusFlexibilityIndicator=indicators[Flex.Q_TO_QPLUS],
        )

    def site_indicators(self, site_id: str, now: dt.datetime | None = None) -> SiteIndicators:
        """The §13.1 ``siteIndicators`` of a site at ``now`` (default: the clock)."""
        site = self.site(site_id)
        now = instant(now if now is not None else self.clock.now())
        last = rules.last_publication(now)
        latest = self._publication(site, last)
        if now >= rules.application_of(last):
            return SiteIndicators(currentIndicator=self._set(site, latest))
        previous = self._publication(site, rules.previous_publication(last))
        deferred = {flex for flex in Flex if rules.is_unfavourable(previous[flex].status, latest[flex].status)}
        current = {flex: previous[flex] if flex in deferred else latest[flex] for flex in Flex}
        return SiteIndicators(
            currentIndicator=self._set(site, current), nextIndicator=self._set(site, latest) if deferred else None
        )

    def all_site_indicators(self, now: dt.datetime | None = None) -> list[SiteIndicators]:
        now = now or self.clock.now()
        return [self.site_indicators(site.site_id, now) for site in self.sites]

    # -- HTTP ---------------------------------------------------------------------------
    def _json(self, content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(content, status_code=status, headers=headers)

    def _unauthorised(self, request: Request) -> JSONResponse | None:
        if self.issuer.check(request.headers.get("authorization")) is not None:
            return None
        return self._json(
            error_body(401, "Authentication error: missing, invalid or expired bearer token"),
            401,
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def _all(self, request: Request) -> JSONResponse:
        self.requests += 1
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        return self._json(to_document(self.all_site_indicators(), timestamps_local=self.timestamps_local))

    async def _one(self, request: Request) -> JSONResponse:
        self.requests += 1
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        site_id = request.path_params["hmsSiteId"]
        if not SITE_ID_PATTERN.match(site_id):
            return self._json(error_body(400, "Bad request: hmsSiteId must have the format LI0000"), 400)
        if site_id not in self._by_id:
            return self._json(error_body(404, f"Site or flexibility indicators not found: {_clip(site_id)}"), 404)
        return self._json(to_document(self.site_indicators(site_id), timestamps_local=self.timestamps_local))

    def _site_error(self, site_id: str) -> JSONResponse | None:
        if not SITE_ID_PATTERN.match(site_id):
            return self._json(error_body(400, "Bad request: hmsSiteId must have the format LI0000"), 400)
        if site_id not in self._by_id:
            return self._json(error_body(404, f"{rules.UNKNOWN_HMS_SITE}: Site not found: {_clip(site_id)}"), 404)
        return None

    def _site_day(self, request: Request) -> tuple[str, dt.date] | JSONResponse:
        """``hmsSiteId`` and ``?gasDayDate=`` of a site-and-day resource, or the error to answer."""
        self.requests += 1
        site_id = request.path_params["hmsSiteId"]
        refused = self._unauthorised(request) or self._site_error(site_id)
        if refused is not None:
            return refused
        try:
            return site_id, dt.date.fromisoformat(request.query_params.get("gasDayDate", ""))
        except ValueError:
            return self._json(error_body(400, "Bad request: gasDayDate must be a date YYYY-MM-DD"), 400)

    def _document(self, value: Any) -> JSONResponse:
        return self._json(to_document(value, timestamps_local=self.timestamps_local))

    async def _declare(self, request: Request) -> JSONResponse:
        self.requests += 1
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return self._bad_format("the body is not JSON")
        if isinstance(payload, dict) and isinstance(payload.get("hmsProfiles"), list):
            payload = payload["hmsProfiles"]
        if not isinstance(payload, list):
            return self._bad_format("expected a list of inputHmsProfile")
        try:
            profiles = read(payload, list[InputHmsProfile], timestamps_local=self.timestamps_local)
        except PayloadError as exc:
            return self._bad_format(exc.detail)
        issues = self.declare(profiles)
        if issues:
            message = rules.REASON_SEPARATOR.join(
                issue.text + (f" [{_clip(issue.profile_id, 80, '.-')}]" if issue.profile_id else "") for issue in issues
            )
            return self._json(error_body(400, message), 400)
        base = f"{request.url.scheme}://{request.url.netloc}{BASE_PATH}/hmsProfiles/"
        return self._json(
            [{"rel": p.hmsProfileId, "href": base + quote(p.hmsProfileId, safe="")} for p in profiles], 201
        )

    def _bad_format(self, detail: str) -> JSONResponse:
        issue = rules.reason(rules.BAD_FORMAT)
        return self._json(error_body(400, f"{issue.text} ({_clip(detail, 120)})"), 400)

    async def _profile(self, request: Request) -> JSONResponse:
        self.requests += 1
        refused = self._unauthorised(request)
        if refused is not None:
            return refused
        profile_id = request.path_params["hmsProfileId"]
        stored = self.stored(profile_id)
        if stored is None:
            return self._json(error_body(404, f"Resource not found: {_clip(profile_id, 80, '.-')}"), 404)
        return self._document(self.hms_profile(stored))

    async def _site_profiles(self, request: Request) -> JSONResponse:
        found = self._site_day(request)
        if isinstance(found, JSONResponse):
            return found
        return self._document(self.site_hms_profiles(*found))

    async def _rebuilt(self, request: Request) -> JSONResponse:
        found = self._site_day(request)
        if isinstance(found, JSONResponse):
            return found
        rebuilt = self.rebuilt_hms_profile(*found)
        if rebuilt is None:
            return self._json(error_body(404, "Resource not found: no rebuilt program for this site and day"), 404)
        return self._document(rebuilt)

    def routes(self) -> list[Route]:
        return [
            Route(f"{BASE_PATH}/hmsProfiles", self._declare, methods=["POST"]),
            Route(f"{BASE_PATH}/sites/hmsProfiles", self._declare, methods=["POST"]),
            Route(f"{BASE_PATH}/hmsProfiles/{{hmsProfileId}}", self._profile, methods=["GET"]),
            Route(f"{BASE_PATH}/sites/{{hmsSiteId}}/hmsProfiles", self._site_profiles, methods=["GET"]),
            Route(f"{BASE_PATH}/sites/{{hmsSiteId}}/rebuiltHmsProfile", self._rebuilt, methods=["GET"]),
            Route(f"{BASE_PATH}/sites/flexibilityIndicators", self._all, methods=["GET"]),
            Route(f"{BASE_PATH}/sites/{{hmsSiteId}}/flexibilityIndicators", self._one, methods=["GET"]),
            token_route(TOKEN_PATH, self.issuer, self.clients),
        ]


def _clip(text: str, size: int = 20, keep: str = "-") -> str:
    return re.sub(rf"[^\w{re.escape(keep)}]", "?", text[:size])


#: kWh 25°C per normal cubic metre, to express the §13.4 thresholds as volumes (a typical H gas).
KWH_PER_M3 = 11.4
_TICK = dt.timedelta(microseconds=1)


def build_app(
    clock: Clock,
    plan: FaultPlan,
    *,
    scenario: str | Scenario = "default",
    seed: int = 0,
    certificate_pem: bytes | str | None = None,
    audience: str | None = None,
    client_id: str = SANDBOX_CLIENT_ID,
    timestamps_local: bool = True,
) -> SimulatorApp:
    """The GRTgaz sandbox as an ASGI app (``app.simulator`` is its :class:`GrtgazSimulator`).

    ``certificate_pem`` registers ``client_id`` at the token endpoint; the demo uses
    ``certs.sandbox_credentials(dir, "grtgaz")``.
    """
    simulator = GrtgazSimulator(
        clock,
        plan,
        scenario=scenario,
        seed=seed,
        certificate_pem=certificate_pem,
        audience=audience,
        client_id=client_id,
        timestamps_local=timestamps_local,
    )
    return simulator.app
