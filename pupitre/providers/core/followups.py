"""Follow-ups: long-lived jobs that follow what an action started until the API has decided
(e.g. a GRTgaz program's feasibility after its declaration), in whichever pupitre process runs.

What is followed lives in the store (a watch-list of the provider's environment), not in a
screen or in process memory: the follow-up goes on when the operator leaves the screen, and
resumes after a restart. Each verdict is settled in the store by one conditional update
(:meth:`Store.watch_settle`) together with its audit line, so with several processes on one
store (dashboards, an agent) it is audited and reported exactly once: by the process whose
update took. No Textual import here; the dashboard and ``pupitre agent`` drive follow-ups with
the same runners (:mod:`pupitre.runners`), one process at a time per follow-up (a lease).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Awaitable, Callable, Literal, Protocol

import msgspec

from pupitre.providers.core.checks import Finding
from pupitre.providers.core.clock import loop_sleep

log = logging.getLogger("pupitre.followups")
ReportLevel = Literal["information", "warning", "error"]
#: the cause of every follow-up finding starts with it (the store's: every process judges it)
VERDICT_CAUSE = "verdict-"


class Report(msgspec.Struct, frozen=True):
    """What a follow-up tells the operator once: a verdict reached (or given up)."""

    provider: str
    title: str
    message: str
    level: ReportLevel = "information"
    #: the name screens redraw on (published like a feed's)
    topic: str = ""
    #: seconds a notification of it stays on screen
    timeout: float = 20.0


class FollowUp(Protocol):
    """One provider's follow-up (see the module docstring)."""

    #: the name screens redraw on when it has read something
    topic: str
    #: seconds between two rounds while something is followed
    interval: float

    def active(self) -> bool:
        """Whether anything is followed in this environment (read from the store)."""

    async def step(self) -> list[Report]:
        """One round over what is followed; the verdicts this process settled (audited here,
        reported by the caller). An API error leaves the item followed, for the next round;
        a provider that cannot connect raises :class:`~pupitre.providers.core.errors.ConfigError`."""

    def findings(self, now: dt.datetime) -> list[Finding]:
        """What settled verdicts still ask of the operator, read from the store (e.g. a program
        REFUSED for a gas day not over): alerts on every console, whichever process read the
        verdict. Their cause starts with :data:`VERDICT_CAUSE`."""


async def run_follow_up(
    follow_up: FollowUp,
    on_report: Callable[[Report], None],
    *,
    on_round: Callable[[], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = loop_sleep,
) -> None:
    """Round after round until nothing is followed any more (its verdicts settled here or by
    another process); ``on_round`` after each round (e.g. to repaint)."""
    while follow_up.active():
        for report in await follow_up.step():
            on_report(report)
        if on_round is not None:
            on_round()
        if not follow_up.active():
            return
        await sleep(follow_up.interval)
