"""``pupitre agent``: the headless process of team mode (no Textual import).

It runs every feed on its schedule (under the feed's lease: where another process polls a
feed, the agent follows it and polls nothing), records the results in the store (snapshots,
history) for the dashboards and ``pupitre check --max-age``, delivers the outbox (the actions
confirmed on any console, under the outbox's claims), follows actions to their verdict with
the dashboard's runners (:mod:`pupitre.runners`: a GRTgaz program's feasibility, Switchgrid
orders until done; resumed at start, kicked when the outbox delivers an action, one process
at a time per followed thing) and logs what changed, what was delivered and every verdict,
to the log file and to stdout. It runs the alert engine (:mod:`pupitre.alerts`):
alerts raised and cleared in the store for the dashboards, logged, and ``[alerts] command``
run for each (once across every process on the store).

SIGTERM or SIGINT stops it cleanly: no new run starts, the outbox attempt under way finishes
(its answer recorded; at most :data:`STOP_GRACE` seconds, after which it stays marked as
unanswered and the next process looks for its trace before sending again), the follow-ups
stop between two reads (what is followed stays in the store), every store write
is a transaction (nothing half-written), and the leases are given up so that a dashboard
takes over the polling at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from pupitre.alerts import AlertEngine, CommandHook, Evaluation, Observed, next_delay, observe_store
from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.feeds import Feed, load_snapshot, record_result
from pupitre.providers.core.leases import FeedLeases, console_label
from pupitre.providers.core.store import StoreError
from pupitre.runners import LogReports, Runners
from pupitre.runtime import Runtime

log = logging.getLogger("pupitre.agent")
#: How often the outbox is looked at for actions confirmed on a console.
OUTBOX_SECONDS = 2.0
#: How long an outbox attempt under way may take to finish at a stop.
STOP_GRACE = 30.0
MAX_BACKOFF_SECONDS = 300.0


class Agent:
    """Every feed in a task of its own, and the outbox, until :meth:`stop`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.leases = FeedLeases(runtime.store, console_label(runtime.operator, "agent"))
        self.stopping = asyncio.Event()
        self.runs: dict[str, int] = {}
        #: feed -> why its last read here failed (a good read removes it): the alerts' input
        self.errors: dict[str, tuple[str, str]] = {}
        self.alerts = AlertEngine(runtime)
        self.hook = CommandHook(runtime)
        self.alert_seconds = 10.0
        self.evaluations = 0
        self._announcing: set[asyncio.Task[Any]] = set()
        #: set when a feed reported here: the alerts are evaluated at once
        self._alerts_wake = asyncio.Event()
        self.runners = Runners(runtime, LogReports(log), self.leases)

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("agent stopping")
            self.stopping.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep, or return early when the agent is asked to stop."""
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def run(self) -> None:
        feeds = [asyncio.create_task(self._feed_loop(feed), name=feed.name) for feed in self.runtime.feeds]
        outbox = asyncio.create_task(self._outbox_loop(), name="outbox")
        alerts = asyncio.create_task(self._alerts_loop(), name="alerts")
        self.runners.start()  # what a restart left to follow
        log.info(
            "agent started: %d feeds, operator %s, store %s",
            len(feeds),
            self.runtime.operator,
            self.runtime.store.location,
        )
        await self.stopping.wait()
        for task in feeds:
            task.cancel()  # a fetch under way is dropped: nothing of it was written yet
        alerts.cancel()
        await asyncio.gather(*feeds, alerts, return_exceptions=True)
        await self.runners.stop()
        if self._announcing:  # a command under way ends (or is stopped at its timeout)
            await asyncio.wait(self._announcing, timeout=self.hook.settings.command_timeout_seconds + 1)
        try:
            await asyncio.wait_for(outbox, timeout=STOP_GRACE)
        except asyncio.TimeoutError:
            log.warning("the outbox attempt under way did not finish in %.0f s: it stays marked", STOP_GRACE)
        await asyncio.to_thread(self.leases.release)
        log.info("agent stopped")

    async def _feed_loop(self, feed: Feed[Any]) -> None:
        failures = 0
        previous = await asyncio.to_thread(load_snapshot, self.runtime.store, feed)
        data = previous[0] if previous else None
        while not self.stopping.is_set():
            interval = feed.interval(self.runtime.clock.now())
            lease = await asyncio.to_thread(self.leases.take, feed.name, interval)
            if lease.mine:
                try:
                    async with self.leases.kept(feed.name, interval):
                        fresh = await feed.fetch()
                    changes = await asyncio.to_thread(
                        record_result, self.runtime.store, feed, data, fresh, self.runtime.clock.now()
                    )
                except (ApiError, ConfigError, StoreError) as error:
                    failures += 1
                    self.errors[feed.name] = (feed.provider, str(error))
                    self._alerts_wake.set()
                    log.warning("feed %s: %s", feed.name, error)
                except Exception as error:  # logged, never the end of the agent
                    failures += 1
                    self.errors[feed.name] = (feed.provider, f"unexpected error ({type(error).__name__})")
                    log.exception("feed %s failed", feed.name)
                else:
                    failures, data = 0, fresh
                    self.errors.pop(feed.name, None)
                    self._alerts_wake.set()
                    log.info("feed %s: fetched", feed.name)
                    for change in changes:
                        if change.severity != "info" and change.message:
                            log.warning("%s: %s", feed.title, change.message)
            else:
                failures = 0
                log.debug("feed %s: followed (polled by %s)", feed.name, lease.holder)
            self.runs[feed.name] = self.runs.get(feed.name, 0) + 1
            delay = interval if failures == 0 else min(interval * 2.0 ** (failures - 1), MAX_BACKOFF_SECONDS)
            await self._pause(delay)

    async def _alerts_loop(self) -> None:
        """Evaluate the alerts every :attr:`alert_seconds`, sooner when a timed one is due
        (the EDF OA deadline, on the runtime's clock), from what the store holds."""
        cache: dict[str, tuple[Any, Any]] = {}
        while not self.stopping.is_set():
            evaluation: Evaluation | None = None
            try:
                errors = list(self.errors.values())  # read here: the feed loops change it on this loop
                evaluation = await asyncio.to_thread(self._evaluate, cache, errors)
            except StoreError as error:
                log.warning("alerts: %s", error)
            except Exception:
                log.exception("alerts: evaluation failed")
            if evaluation is not None:
                for alert in evaluation.raised:
                    log.warning(
                        "ALERT %s %s: %s", alert.severity.upper(), self.alerts.title(alert.provider), alert.message
                    )
                for alert in evaluation.cleared:
                    log.info("alert cleared: %s", alert.key)
                for alert in self.hook.due(evaluation.open):
                    task = asyncio.create_task(self.hook.announce(alert, self.alerts.title(alert.provider)))
                    self._announcing.add(task)
                    task.add_done_callback(self._announcing.discard)
            self.evaluations += 1
            delay = next_delay(evaluation, self.runtime.clock.now(), self.alert_seconds)
            try:  # until a feed reports here, a timed alert is due, or a while has passed
                await asyncio.wait_for(self._alerts_wake.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            self._alerts_wake.clear()

    def _evaluate(self, cache: dict[str, tuple[Any, Any]], errors: list[tuple[str, str]]) -> Evaluation:
        failures: dict[str, list[str]] = {}
        for provider, error in errors:
            failures.setdefault(provider, []).append(error)
        observed = Observed(observe_store(self.runtime, cache), failures)
        return self.alerts.evaluate(observed, self.runtime.clock.now())

    async def _outbox_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                for delivery in await self.runtime.outbox.drain():
                    log.info("outbox #%d %s: %s", delivery.item_id, delivery.outcome, delivery.message)
                    if delivery.outcome == "delivered" and not self.stopping.is_set():
                        item = await asyncio.to_thread(self.runtime.outbox.item, delivery.item_id)
                        if item is not None:
                            self.runners.delivered(item)  # its follow-up
            except StoreError as error:
                log.warning("outbox: %s", error)
            except Exception:
                log.exception("outbox drain failed")
            await self._pause(OUTBOX_SECONDS)


def main(runtime: Runtime) -> int:
    """Run until SIGTERM or SIGINT; 0 after a clean stop."""
    stdout = logging.StreamHandler(sys.stdout)
    from pupitre.logs import FORMAT
    from pupitre.providers.core.text import SafeLogFormatter

    stdout.setFormatter(SafeLogFormatter(FORMAT))
    logging.getLogger().addHandler(stdout)

    async def go() -> None:
        agent = Agent(runtime)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, agent.stop)
        try:
            await agent.run()
        finally:
            await runtime.aclose()

    asyncio.run(go())
    return 0
