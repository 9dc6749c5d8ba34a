"""The long-lived jobs of a pupitre process, headless (no Textual import): the dashboard and
``pupitre agent`` run the same ones, in asyncio tasks, and go on whatever screen is shown.

- the providers' follow-ups (:mod:`pupitre.providers.core.followups`, e.g. a GRTgaz
  program followed to its feasibility verdict): resumed at start from the store, kicked when
  the outbox delivers one of the provider's actions (:meth:`Runners.delivered`);
- Switchgrid orders followed until done (resumed at start for every order not done);
- the GRDF ADICT bulk export (:class:`~pupitre.providers.grdf_adict.export.ExportJob`):
  its journal, calls, files and audit line;
- the one-off operations a screen asks for (:meth:`Runners.operate`: a Switchgrid ask
  cancelled or read again, a load curve, a held order identified): the screen asks and shows
  the answer, the runner calls the session (which writes the audit) and reports failures.

What they find is told through a :class:`Reports` (the dashboard: notifications and its
feeds' ``updated`` signal; the agent: its log). With several processes on one store, each
thing is followed by one process at a time, under a lease of the store
(:class:`~pupitre.providers.core.leases.FeedLeases`, named after what is followed) that the
others wait for: they poll no API for it, and take it over when its holder dies (same host:
at once; another host: when the lease runs out). Each verdict is settled in the store by one
conditional update (:meth:`Store.watch_settle`), so it is audited and told once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Coroutine, Protocol, TypeVar

from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.followups import FollowUp, Report, ReportLevel, run_follow_up
from pupitre.providers.core.leases import FeedLeases, Lease
from pupitre.providers.core.store import OutboxItem, StoreError
from pupitre.providers.switchgrid import rules as switchgrid_rules
from pupitre.providers.switchgrid.actions import ORDER_ACTION
from pupitre.providers.switchgrid.feeds import FEED as SWITCHGRID_FEED
from pupitre.providers.switchgrid.feeds import ORDERS_LIST, SwitchgridSession
from pupitre.providers.switchgrid.feeds import PROVIDER as SWITCHGRID
from pupitre.providers.switchgrid.models import Order

if TYPE_CHECKING:
    from pupitre.providers.grdf_adict.export import ExportJob
    from pupitre.runtime import Runtime

log = logging.getLogger("pupitre.runners")
#: what the access-rights screen redraws its export line on (published like a feed's name)
EXPORT_TOPIC = "grdf_adict.export"
#: how often a process that waits for another's lease looks again (seconds)
WAIT_SECONDS = 2.0
T = TypeVar("T")


class Reports(Protocol):
    """Where the runners' news goes (the dashboard: notifications and redraws; the agent: its log)."""

    def report(self, report: Report) -> None:
        """Tell the operator once (plain text: the receiver escapes it for markup)."""

    def updated(self, topic: str) -> None:
        """Something of ``topic`` (a feed's name, a follow-up's topic) was read or settled: redraw."""


class LogReports:
    """:class:`Reports` of a headless process: every report logged, redraws ignored."""

    LEVELS = {"information": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

    def __init__(self, logger: logging.Logger = log) -> None:
        self.logger = logger

    def report(self, report: Report) -> None:
        self.logger.log(self.LEVELS[report.level], "%s: %s", report.title, report.message)

    def updated(self, topic: str) -> None:
        pass


class Runners:
    """The process's long-lived jobs (see the module docstring); at most one task per job."""

    def __init__(self, runtime: Runtime, reports: Reports, leases: FeedLeases) -> None:
        self.runtime = runtime
        self.reports = reports
        self.leases = leases
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._stopping = False
        self._operations = 0
        #: the GRDF ADICT export under way, or the last one
        self.export: ExportJob | None = None

    def start(self, orders: Any = None) -> None:
        """What a restart left to follow: every provider's follow-ups, running orders
        (``orders``: the Switchgrid feed's last result, if the caller has one)."""
        for name in self.runtime.providers:
            self.kick_provider(name)
        self.resume_orders(orders)

    async def stop(self) -> None:
        """Stop every job (what is followed stays in the store, for the next process); give up
        this process's leases on them."""
        self._stopping = True
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> set[str]:
        """The jobs under way, by name (``follow:grtgaz.feasibility``, ``order:<id>``, ``export``)."""
        return {name for name, task in self.tasks.items() if not task.done()}

    def _run(self, name: str, job: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Start ``job`` as task ``name``; ``False`` when it already runs (or the runners stop)."""
        if self._stopping or name in self.running:
            return False
        task = asyncio.get_running_loop().create_task(job(), name=name)
        self.tasks[name] = task
        task.add_done_callback(lambda done: self.tasks.pop(name, None) if self.tasks.get(name) is done else None)
        return True

    def delivered(self, item: OutboxItem) -> None:
        """What follows a delivered action (sent by this process or found delivered): its
        provider's follow-ups; a Switchgrid order is followed until done."""
        if self.runtime.connections[item.provider].follow_ups:
            self.kick_provider(item.provider)
        if (item.provider, item.action) == (SWITCHGRID, ORDER_ACTION):
            self.follow_delivered_order(item)

    # -- leases ----------------------------------------------------------------------------
    async def _hold(self, name: str, seconds: float, over: Callable[[], bool]) -> bool:
        """Wait until this process holds lease ``name`` (for ``seconds``, renewed by
        :meth:`_renewing`); ``False`` when ``over()`` became true while waiting (another
        process finished the job)."""
        said = ""

        def ask() -> Lease | None:
            return None if over() else self.leases.take(name, seconds)

        while True:
            lease = await asyncio.to_thread(ask)  # one hop off the event loop
            if lease is None:
                return False
            if lease.mine:
                return True
            if said != lease.holder:
                said = lease.holder
                log.info("%s: followed by %s", name, lease.holder)
            await asyncio.sleep(WAIT_SECONDS)

    @contextlib.asynccontextmanager
    async def _renewing(self, name: str, seconds: float) -> Any:
        """Keep lease ``name`` while the body runs, then give it up (its waiters take over at once)."""
        try:
            async with self.leases.kept(name, seconds):
                yield
        finally:
            await asyncio.shield(asyncio.to_thread(self.leases.release, name))

    # -- follow-ups ----------------------------------------------------------------------
    def kick_provider(self, provider: str) -> None:
        """Run ``provider``'s follow-ups (after one of its actions was delivered, or at start)."""
        for follow_up in self.runtime.connections[provider].follow_ups:
            self.kick(follow_up)

    def kick(self, follow_up: FollowUp) -> None:
        name = f"follow:{follow_up.topic}"
        if not self._run(name, lambda: self._follow(name, follow_up)) and not self._stopping:
            self._again.add(name)  # it may be ending its last round: run again after it

    async def _follow(self, name: str, follow_up: FollowUp) -> None:
        try:
            if await self._hold(follow_up.topic, follow_up.interval, lambda: not follow_up.active()):
                async with self._renewing(follow_up.topic, follow_up.interval):
                    await run_follow_up(follow_up, self._report)
        except ConfigError as error:  # not connected: said on its screen; followed again at the next start
            log.warning("%s stopped: %s", name, error)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # never a traceback on screen; what is followed stays in the store
            log.exception("%s failed", name)
            self.reports.report(
                Report(
                    "",
                    "Follow-up",
                    f"Following stopped: unexpected error ({type(error).__name__}); details in the log. "
                    "It resumes at the next start.",
                    "error",
                )
            )
        finally:
            self.reports.updated(follow_up.topic)  # settled elsewhere, perhaps: redraw
        if name in self._again:
            self._again.discard(name)
            self.tasks.pop(name, None)
            self.kick(follow_up)

    def _report(self, report: Report) -> None:
        self.reports.report(report)
        self.reports.updated(report.topic)

    # -- Switchgrid orders -----------------------------------------------------------------
    def _switchgrid(self) -> SwitchgridSession:
        return self.runtime.connections[SWITCHGRID].session_as(SwitchgridSession)

    def resume_orders(self, data: Any = None) -> None:
        """Follow every followed order not done yet (after a restart); ``data``: the feed's
        last result, if the caller has one."""
        session = self._switchgrid()
        try:
            orders = session.current(data).orders
        except StoreError as error:
            log.warning("followed orders not read: %s", error)
            return
        for order_id, order in orders.items():
            if not switchgrid_rules.order_done(order.status):
                self.follow_order(order_id)

    def follow_delivered_order(self, item: OutboxItem) -> None:
        """The follow-up of an order the outbox delivered (sent, or found after a restart)."""
        order_id = self._switchgrid().sent_order(item.payload["ref"])
        if order_id is not None:
            self.follow_order(order_id)

    def follow_order(self, order_id: str) -> None:
        """Poll an order with the settings' backoff until done; each read repaints the
        screens showing it; its end is told once (by the process that settled it)."""
        session = self._switchgrid()
        if order_id in session.following:
            return
        self._run(f"order:{order_id}", lambda: self._order(session, order_id))

    async def _order(self, session: SwitchgridSession, order_id: str) -> None:
        def updated(_: Order) -> None:
            self.reports.updated(SWITCHGRID_FEED)

        lease, hold = f"{ORDERS_LIST}/{order_id}", session.settings.poll_max_seconds
        try:
            if not await self._hold(lease, hold, lambda: not session.awaits_order(order_id)):
                return
            async with self._renewing(lease, hold):
                order = await session.follow(order_id, updated)
                settled = await asyncio.to_thread(session.settle_order, order_id, order.status)
        except ApiError as error:
            self.reports.report(
                Report(
                    SWITCHGRID,
                    "Switchgrid",
                    f"Order {order_id[:8]}: {error} — the order is read again at the next refresh (r).",
                    "error",
                    timeout=12,
                )
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("following order %s failed", order_id)
            self.reports.report(
                Report(
                    SWITCHGRID,
                    "Switchgrid",
                    f"Order {order_id[:8]}: unexpected error ({type(error).__name__}); details in the log.",
                    "error",
                    timeout=12,
                )
            )
            return
        finally:
            self.reports.updated(SWITCHGRID_FEED)
        if settled:
            self.reports.report(
                Report(
                    SWITCHGRID,
                    "Switchgrid",
                    f"Order {order_id[:8]}: {switchgrid_rules.order_word(order.status)}.",
                    "warning" if order.status in switchgrid_rules.ORDER_FAILED else "information",
                    timeout=10,
                )
            )

    # -- GRDF ADICT bulk export --------------------------------------------------------------
    def start_export(self, job: ExportJob) -> None:
        """Run ``job`` (its journal open); refused while another export runs."""
        if self.export is not None and self.export.running:
            raise RuntimeError("an export is already running")
        self.export = job
        self._run("export", lambda: self._export(job))

    async def _export(self, job: ExportJob) -> None:
        outcome = await job.execute(on_progress=lambda: self.reports.updated(EXPORT_TOPIC))
        self.reports.updated(EXPORT_TOPIC)
        level: ReportLevel = "error" if outcome.failed else "warning" if outcome.outcome == "partial" else "information"
        self.reports.report(Report("grdf_adict", "GRDF ADICT export", outcome.line, level))

    # -- one-off operations ------------------------------------------------------------------
    def operate(
        self,
        provider: str,
        title: str,
        call: Callable[[], Awaitable[T]],
        done: Callable[[T], object] | None = None,
        *,
        expected: tuple[type[Exception], ...] = (ApiError,),
        refused: Callable[[Exception], object] | None = None,
    ) -> None:
        """Run ``call`` (a session's operation: it audits what it does) whatever screen is
        shown; ``done`` gets its result. An ``expected`` error (the API's answer, a rule's
        refusal) goes to ``refused``, else is reported under ``title``; any other error is
        logged and reported in one sentence (never a traceback)."""
        self._operations += 1
        self._run(
            f"operation:{title}:{self._operations}",
            lambda: self._operate(provider, title, call, done, expected, refused),
        )

    async def _operate(
        self,
        provider: str,
        title: str,
        call: Callable[[], Awaitable[T]],
        done: Callable[[T], object] | None,
        expected: tuple[type[Exception], ...],
        refused: Callable[[Exception], object] | None,
    ) -> None:
        try:
            result = await call()
        except asyncio.CancelledError:
            raise
        except expected as error:
            if refused is not None:
                refused(error)
            else:
                self.reports.report(Report(provider, title, str(error), "error", timeout=12))
            return
        except Exception as error:
            log.exception("%s %s failed", provider, title)
            self.reports.report(
                Report(
                    provider,
                    title,
                    f"Unexpected error ({type(error).__name__}); details in the log.",
                    "error",
                    timeout=12,
                )
            )
            return
        if done is not None:
            done(result)
