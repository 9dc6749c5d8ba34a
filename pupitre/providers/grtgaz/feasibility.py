"""Following a declared program to its feasibility verdict (§13.3), in the store.

GRTgaz takes a program (201), then decides its feasibility: ACCEPTED or REFUSED, with a
comment (§13.3, §14.3). The declaration handler puts the program id on the watch-list
:data:`FOLLOWED` the moment GRTgaz has the program (its answer, or an earlier attempt found
after a crash); :class:`FeasibilityFollowUp` then reads it back (``GET /hmsProfiles/{id}``)
round after round, in whichever pupitre process runs, until it is decided. The verdict is
settled in the store with its audit line ("feasibility") in one transaction, by one process
only (:meth:`Store.watch_settle`), and kept (:func:`verdict_of`) for the screens. A program
still undecided when its gas day is over is given up, audited once too.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from pupitre.providers.core.checks import Finding
from pupitre.providers.core.clock import gas_day_of
from pupitre.providers.core.errors import ApiError, PayloadError
from pupitre.providers.core.followups import VERDICT_CAUSE, Report
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import FeasibilityStatus, HmsProfile, read, to_document

if TYPE_CHECKING:
    from pupitre.providers.core.store import Store
    from pupitre.providers.grtgaz.feeds import GrtgazSession

log = logging.getLogger("pupitre.grtgaz")
#: watch-list of program ids whose verdict is followed; ``seen`` is the verdict once settled
FOLLOWED = "grtgaz.feasibility"
#: what screens redraw on when a verdict is read (published like a feed's name)
TOPIC = FOLLOWED
AUDIT_ACTION = "feasibility"
GIVEN_UP = "NOT DECIDED"
FOLLOW_SECONDS = 2.0


def _kept(program_id: str) -> str:
    return f"{FOLLOWED}/{program_id}"


def verdict_of(store: Store, program_id: str) -> HmsProfile | None:
    """The decided program as it was read when its verdict was settled, or ``None``."""
    snapshot = store.load_snapshot(_kept(program_id))
    if snapshot is None:
        return None
    try:
        return read(snapshot.payload, HmsProfile, timestamps_local=False)
    except PayloadError:
        return None


def feasibility_sentence(profile: HmsProfile) -> str:
    """``ACCEPTED``/``REFUSED`` with GRTgaz's comment (§13.3), or still pending."""
    status = profile.status
    if not status.decided:
        return f"{profile.hmsProfileId}: read back, feasibility not decided yet"
    from pupitre.providers.core.http import safe_text  # httpx stays off the start-up path

    comment = f": {safe_text(profile.comment)}" if profile.comment else ""
    return f"{profile.hmsProfileId} {status.value} by GRTgaz{comment}"


class FeasibilityFollowUp:
    """The follow-up of declared programs until GRTgaz decided (see the module docstring)."""

    topic = TOPIC
    interval = FOLLOW_SECONDS

    def __init__(self, session: GrtgazSession) -> None:
        self.session = session

    @property
    def store(self) -> Store:
        return self.session.ctx.store

    def follow(self, program_id: str) -> None:
        """Follow ``program_id`` (GRTgaz has it); nothing changes when it already is."""
        self.store.watch_add(FOLLOWED, [program_id], self.session.ctx.clock.now())

    def awaited(self) -> list[str]:
        """Program ids of this environment whose verdict is not settled yet, oldest first."""
        return [key for key, seen in self.store.watch_list(FOLLOWED) if seen is None]

    def active(self) -> bool:
        return bool(self.awaited())

    def settled(self, program_id: str) -> str | None:
        """The settled verdict of ``program_id`` (``ACCEPTED``, ``REFUSED``, :data:`GIVEN_UP`),
        ``None`` while it is awaited or not followed."""
        return dict(self.store.watch_list(FOLLOWED)).get(program_id)

    def findings(self, now: dt.datetime) -> list[Finding]:
        """A program REFUSED (§13.3) or left undecided, for a gas day not over yet: the operator
        must declare again or ask GRTgaz, whichever console sent it and whoever read the verdict."""
        out = []
        for program_id, seen in self.store.watch_list(FOLLOWED):
            if seen not in (FeasibilityStatus.REFUSED.value, GIVEN_UP):
                continue
            parsed = rules.parse_program_id(program_id)
            if parsed is None or parsed.gas_day < gas_day_of(now):
                continue
            if seen == GIVEN_UP:
                message = f"program {program_id}: no feasibility verdict read; ask GRTgaz"
                out.append(Finding("grtgaz", "attention", message, VERDICT_CAUSE + "undecided", program_id))
            else:
                message = f"program {program_id} REFUSED by GRTgaz: declare it again"
                out.append(Finding("grtgaz", "critical", message, VERDICT_CAUSE + "refused", program_id))
        return out

    async def step(self) -> list[Report]:
        reports = []
        for program_id in self.awaited():
            try:
                found = await self.session.program(program_id)
            except ApiError as error:
                log.warning("following %s: %s", program_id, error)
                continue
            if found is not None and found.status.decided:
                report = self._settle(found)
            else:
                report = self._give_up_if_over(program_id)
            if report is not None:
                reports.append(report)
        return reports

    def _settle(self, found: HmsProfile) -> Report | None:
        """Keep the decided program, settle its verdict and audit it: one transaction, done
        by one process only; ``None`` when another process settled it first."""
        status, sentence = found.status, feasibility_sentence(found)
        now = self.session.ctx.clock.now()
        with self.store.batch():
            if not self.store.watch_settle(FOLLOWED, found.hmsProfileId, status.value):
                return None
            self.store.save_snapshot(_kept(found.hmsProfileId), to_document(found, timestamps_local=False), now)
            self.store.audit("grtgaz", AUDIT_ACTION, status.value, now, sentence)
        accepted = status is FeasibilityStatus.ACCEPTED
        return Report("grtgaz", f"Program {status.value}", sentence, "information" if accepted else "error", TOPIC)

    def _give_up_if_over(self, program_id: str) -> Report | None:
        """A program still undecided (or not shown) once its gas day is over: given up, said once."""
        parsed = rules.parse_program_id(program_id)
        now = self.session.ctx.clock.now()
        if parsed is None or gas_day_of(now) <= parsed.gas_day + dt.timedelta(days=1):
            return None
        sentence = f"{program_id}: no feasibility verdict read before its gas day ended; ask GRTgaz"
        with self.store.batch():
            if not self.store.watch_settle(FOLLOWED, program_id, GIVEN_UP):
                return None
            self.store.audit("grtgaz", AUDIT_ACTION, GIVEN_UP, now, sentence)
        return Report("grtgaz", "Program not decided", sentence, "warning", TOPIC)
