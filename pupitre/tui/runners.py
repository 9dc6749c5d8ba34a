"""App-level runners: the long-lived jobs screens start, run by the app so they go on when
the operator changes screen or closes a dialog, reported through the feeds' ``updated``
signal and notifications.

- the providers' follow-ups (:mod:`pupitre.providers.core.followups`, e.g. a GRTgaz
  program followed to its feasibility verdict): resumed at start from the store, kicked when
  the outbox delivers one of the provider's actions;
- Switchgrid orders followed until done (resumed at start for every order not done);
- the GRDF ADICT bulk export (:class:`~pupitre.providers.grdf_adict.export.ExportJob`):
  its journal, calls, files and audit line, whatever screen the operator is on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rich.markup import escape

from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.followups import FollowUp, Report, ReportLevel, run_follow_up
from pupitre.providers.core.store import OutboxItem
from pupitre.providers.switchgrid import rules as switchgrid_rules
from pupitre.providers.switchgrid.feeds import FEED as SWITCHGRID_FEED
from pupitre.providers.switchgrid.feeds import PROVIDER as SWITCHGRID
from pupitre.providers.switchgrid.feeds import SwitchgridSession
from pupitre.providers.switchgrid.models import Order
from pupitre.tui.formats import order_word

if TYPE_CHECKING:
    from pupitre.providers.grdf_adict.export import ExportJob
    from pupitre.runtime import Runtime
    from pupitre.tui.app import PupitreApp

log = logging.getLogger("pupitre.runners")
#: what the access-rights screen redraws its export line on (published like a feed's name)
EXPORT_TOPIC = "grdf_adict.export"


class Runners:
    """The app's long-lived jobs (see the module docstring); at most one worker per job."""

    def __init__(self, app: "PupitreApp", runtime: "Runtime") -> None:
        self.app = app
        self.runtime = runtime
        self._running: set[str] = set()
        self._again: set[str] = set()
        #: the GRDF ADICT export under way, or the last one
        self.export: ExportJob | None = None

    def start(self) -> None:
        """What a restart left to follow: every provider's follow-ups, running orders."""
        for name in self.runtime.providers:
            self.kick_provider(name)
        self.resume_orders()

    # -- follow-ups ----------------------------------------------------------------------
    def kick_provider(self, provider: str) -> None:
        """Run ``provider``'s follow-ups (after one of its actions was delivered, or at start)."""
        for follow_up in self.runtime.connections[provider].follow_ups:
            self.kick(follow_up)

    def kick(self, follow_up: FollowUp) -> None:
        name = f"follow:{follow_up.topic}"
        if name in self._running:
            self._again.add(name)  # it may be ending its last round: run again after it
            return
        self._running.add(name)
        self.app.run_worker(self._follow(name, follow_up), group=name, exit_on_error=False)

    async def _follow(self, name: str, follow_up: FollowUp) -> None:
        try:
            await run_follow_up(follow_up, self._report)
        except ConfigError as error:  # not connected: said on its screen; followed again at the next start
            log.warning("%s stopped: %s", name, error)
        except Exception as error:  # never a traceback on screen; what is followed stays in the store
            log.exception("%s failed", name)
            self.app.notify(
                f"Following stopped: unexpected error ({type(error).__name__}); details in the log. "
                "It resumes at the next start.",
                title="Follow-up",
                severity="error",
                timeout=20,
            )
        finally:
            self._running.discard(name)
            self.app.feeds.updated.publish(follow_up.topic)  # settled elsewhere, perhaps: redraw
        if name in self._again:
            self._again.discard(name)
            self.kick(follow_up)

    def _report(self, report: Report) -> None:
        self.app.notify(escape(report.message), title=report.title, severity=report.level, timeout=20)
        self.app.feeds.updated.publish(report.topic)

    # -- Switchgrid orders -----------------------------------------------------------------
    def _switchgrid(self) -> SwitchgridSession:
        return self.runtime.connections[SWITCHGRID].session_as(SwitchgridSession)

    def resume_orders(self) -> None:
        """Follow every followed order not done yet (after a restart)."""
        session = self._switchgrid()
        for order_id, order in session.current(self.app.feeds.state(SWITCHGRID_FEED).data).orders.items():
            if not switchgrid_rules.order_done(order.status):
                self.follow_order(order_id)

    def follow_delivered_order(self, item: OutboxItem) -> None:
        """The follow-up of an order the outbox delivered (sent, or found after a restart)."""
        order_id = self._switchgrid().sent_order(item.payload["ref"])
        if order_id is not None:
            self.follow_order(order_id)

    def follow_order(self, order_id: str) -> None:
        """Poll an order with the settings' backoff until done; each read repaints the
        screens showing it; its end is notified."""
        session = self._switchgrid()
        if order_id in session.following:
            return
        self.app.run_worker(self._order(session, order_id), group=f"switchgrid:follow:{order_id}", exit_on_error=False)

    async def _order(self, session: SwitchgridSession, order_id: str) -> None:
        def updated(_: Order) -> None:
            self.app.feeds.updated.publish(SWITCHGRID_FEED)

        try:
            order = await session.follow(order_id, updated)
        except ApiError as error:
            self.app.notify(
                escape(f"Order {order_id[:8]}: {error} — the order is read again at the next refresh (r)."),
                title="Switchgrid",
                severity="error",
                timeout=12,
            )
            return
        except Exception as error:
            log.exception("following order %s failed", order_id)
            self.app.notify(
                f"Order {order_id[:8]}: unexpected error ({type(error).__name__}); details in the log.",
                title="Switchgrid",
                severity="error",
                timeout=12,
            )
            return
        finally:
            self.app.feeds.updated.publish(SWITCHGRID_FEED)
        self.app.notify(
            f"Order {order_id[:8]}: {order_word(order.status)}.",
            title="Switchgrid",
            severity="warning" if order.status in switchgrid_rules.ORDER_FAILED else "information",
            timeout=10,
        )

    # -- GRDF ADICT bulk export --------------------------------------------------------------
    def start_export(self, job: ExportJob) -> None:
        """Run ``job`` (its journal open); refused while another export runs."""
        if self.export is not None and self.export.running:
            raise RuntimeError("an export is already running")
        self.export = job
        self.app.run_worker(self._export(job), group="adict-export", exit_on_error=False)

    async def _export(self, job: ExportJob) -> None:
        outcome = await job.execute(on_progress=lambda: self.app.feeds.updated.publish(EXPORT_TOPIC))
        self.app.feeds.updated.publish(EXPORT_TOPIC)
        level: ReportLevel = "error" if outcome.failed else "warning" if outcome.outcome == "partial" else "information"
        self.app.notify(escape(outcome.line), title="GRDF ADICT export", severity=level, timeout=20)
