"""The alert engine and the command hook: what the dashboard and ``pupitre agent`` share (no
Textual import).

:class:`AlertEngine` turns what a process knows into alerts in the store
(:mod:`pupitre.providers.core.alerts`): each provider's findings — the same
:attr:`Connection.findings` that ``pupitre check`` prints, on the same data — and its timed ones
(:attr:`Connection.timed`: the EDF OA deadline at T-30 min, T-10 min and passed), the outbox's
failed actions and differing read-backs (store state, whichever process sent them), and a
provider whose data this process cannot read. An alert is raised when its cause appears and
cleared when it goes away; a process clears only what it can judge: a provider's finding
alerts once every feed of that provider has data here, an *unavailable* alert once any
process stored a good read after it was raised.

:class:`CommandHook` runs ``[alerts] command`` with the alert as JSON on stdin, in an asyncio
subprocess with a timeout, once per alert across every process on the store: the
announcement is claimed in the store first (a claim whose process died is taken over).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shlex
import signal
import time
from typing import Any

import msgspec

from pupitre.providers.core.alerts import Alert, alert_key
from pupitre.providers.core.checks import Finding
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.feeds import load_snapshot
from pupitre.providers.core.followups import VERDICT_CAUSE
from pupitre.providers.core.outbox import owner_alive, process_owner
from pupitre.providers.core.store import OUTBOX_FAILED, READBACK_DIFFERS, StoreError
from pupitre.providers.core.text import clean_text
from pupitre.runtime import Runtime
from pupitre.settings import AlertsSettings

log = logging.getLogger("pupitre.alerts")

#: The longest time between two evaluations when nothing reports (a timed alert wakes it sooner).
ALERT_SECONDS = 10.0
#: A claim on an announcement outlives the command's timeout by this much.
CLAIM_SLACK = 15.0
#: At most this much of the command's output is kept for its failure message.
OUTPUT_CHARS = 300
UNAVAILABLE = "unavailable"
#: Findings that take this long are computed again on new data or a new day only, not each minute.
SLOW_FINDINGS_SECONDS = 0.05


class Observed(msgspec.Struct):
    """What a process knows: per provider, each feed's last good data (feeds with none are
    left out), and per provider the errors of its feeds that failed here."""

    results: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    failures: dict[str, list[str]] = msgspec.field(default_factory=dict)


class Candidate(msgspec.Struct, frozen=True):
    """An alert that should be open now."""

    key: str
    provider: str
    severity: str
    message: str


class Evaluation(msgspec.Struct):
    """One evaluation: the alerts this process opened and cleared, every open alert after it,
    and when a timed alert may change next (``None``: nothing timed is due)."""

    raised: list[Alert]
    cleared: list[Alert]
    open: list[Alert]
    next_due: dt.datetime | None


class AlertEngine:
    """Raises and clears the store's alerts from what a process observes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        #: per provider: the identity of the data its findings were computed from, and them
        self._findings: dict[str, tuple[tuple[object, ...], list[Finding]]] = {}
        #: per provider: how long its findings took to compute last time (seconds)
        self._cost: dict[str, float] = {}

    def title(self, provider: str) -> str:
        """A provider's name for operators (the id itself for what is not a provider)."""
        connection = self.runtime.connections.get(provider)
        return connection.title if connection is not None else provider

    def _provider_findings(self, provider: str, results: dict[str, Any], now: dt.datetime) -> list[Finding]:
        """The provider's findings, computed again when its data changed, else at most once a
        minute (what moves with time: an announced colour that applies at 11:15) — once a day
        for a provider whose findings take long (a GRDF ADICT park of 100,000 rights)."""
        slow = self._cost.get(provider, 0.0) >= SLOW_FINDINGS_SECONDS
        moment: object = now.date() if slow else now.replace(second=0, microsecond=0)
        signature = (*(id(results[name]) for name in sorted(results)), moment)
        cached = self._findings.get(provider)
        if cached is None or cached[0] != signature:
            started = time.perf_counter()
            found = self.runtime.connections[provider].findings(results, now)
            self._cost[provider] = time.perf_counter() - started
            cached = (signature, found)
            self._findings[provider] = cached
        return cached[1]

    def candidates(self, observed: Observed, now: dt.datetime) -> tuple[list[Candidate], set[str], dt.datetime | None]:
        """The alerts that should be open, the providers whose finding alerts this process can
        judge (every feed has data here), and the next instant a timed alert may change."""
        out: dict[str, Candidate] = {}
        covered: set[str] = set()
        due: list[dt.datetime] = []

        def add(provider: str, finding: Finding, fallback: str) -> None:
            if finding.level == "ok":
                return
            key = alert_key(provider, finding.cause or fallback, finding.subject)
            message = clean_text(finding.message)
            if key in out:  # two findings of one cause: one alert saying both
                message = f"{out[key].message}; {message}"
            out[key] = Candidate(key, provider, finding.level, message)

        for provider, connection in self.runtime.connections.items():
            results = observed.results.get(provider, {})
            if not results or any(feed.name not in results for feed in connection.feeds):
                continue
            covered.add(provider)
            try:
                found = self._provider_findings(provider, results, now)
                timed, next_at = connection.timed(results, now)
            except (StoreError, ConfigError) as error:  # judged at the next evaluation
                log.warning("alerts of %s not evaluated: %s", provider, error)
                covered.discard(provider)
                continue
            for finding in [*found, *timed]:
                add(provider, finding, unnamed_cause(finding))
            if next_at is not None:
                due.append(next_at)
        for provider, errors in observed.failures.items():
            if errors:
                text = clean_text("; ".join(dict.fromkeys(errors)))
                out[alert_key(provider, UNAVAILABLE)] = Candidate(
                    alert_key(provider, UNAVAILABLE), provider, "unknown", f"data unavailable: {text}"
                )
        for item in self.runtime.store.outbox(status=OUTBOX_FAILED):
            key = alert_key(item.provider, "action-failed", str(item.id))
            why = clean_text(item.last_error or "refused")
            out[key] = Candidate(
                key,
                item.provider,
                "critical",
                f"{item.action} #{item.id} FAILED: {why} — not done; `pupitre outbox` shows it",
            )
        for provider, connection in self.runtime.connections.items():
            for follow_up in connection.follow_ups:  # verdicts settled in the store, by any process
                for finding in follow_up.findings(now):
                    add(provider, finding, finding.cause)
        for item in self.runtime.store.outbox(readback=READBACK_DIFFERS):
            key = alert_key(item.provider, "action-differs", str(item.id))
            note = clean_text(item.readback_note or "the API's values differ from what was sent")
            out[key] = Candidate(
                key, item.provider, "attention", f"{item.action} #{item.id}: read back differs: {note}"
            )
        return list(out.values()), covered, min(due, default=None)

    def _judged(self, alert: Alert, covered: set[str], observed: Observed, stored: dict[str, dt.datetime]) -> bool:
        """Whether this process can say ``alert``'s cause went away (it is not a candidate)."""
        cause = alert.cause
        if cause.startswith(("action-", VERDICT_CAUSE)):
            return True  # the outbox and the verdicts are the store's: every process sees the same
        if cause == UNAVAILABLE:
            if observed.failures.get(alert.provider):
                return False
            feeds = [f.name for f in self.runtime.connections[alert.provider].feeds]
            return any(stored.get(name, alert.raised_at) > alert.raised_at for name in feeds)
        return alert.provider in covered

    def evaluate(self, observed: Observed, now: dt.datetime) -> Evaluation:
        """Raise, update and clear the store's alerts (blocking: run it off the event loop)."""
        store = self.runtime.store
        wanted, covered, next_due = self.candidates(observed, now)
        by_key = {c.key: c for c in wanted}
        raised: list[Alert] = []
        cleared: list[Alert] = []
        current = {a.key: a for a in store.alerts_open() if a.provider in self.runtime.connections}
        unavailable = [a for a in current.values() if a.cause == UNAVAILABLE and a.key not in by_key]
        stored = (
            store.snapshot_times([f.name for a in unavailable for f in self.runtime.connections[a.provider].feeds])
            if unavailable
            else {}
        )
        for key, alert in current.items():
            candidate = by_key.get(key)
            if candidate is None:
                if self._judged(alert, covered, observed, stored) and store.alert_clear(alert.id, now):
                    cleared.append(alert)
            elif (candidate.severity, candidate.message) != (alert.severity, alert.message):
                store.alert_update(alert.id, candidate.severity, candidate.message)
        for key, candidate in by_key.items():
            if key not in current:
                made = store.alert_raise(key, candidate.provider, candidate.severity, candidate.message, now)
                if made is not None:
                    raised.append(made)
        return Evaluation(raised, cleared, store.alerts_open(), next_due)

    def seen(self, alert_id: int, now: dt.datetime) -> bool:
        """The operator of this console has seen the alert (the store records who and when)."""
        return self.runtime.store.alert_seen(alert_id, self.runtime.store.operator or self.runtime.operator, now)


def unnamed_cause(finding: Finding) -> str:
    """A cause for a finding that names none: its level and its words without the numbers
    (``attention-3f2a9c1e``), so that a count changing keeps the alert."""
    words = re.sub(r"[\d\W_]+", " ", finding.message).strip().lower()
    return f"{finding.level}-{hashlib.sha1(words.encode()).hexdigest()[:8]}"


def observe_store(runtime: Runtime, cache: dict[str, tuple[Any, dt.datetime]]) -> dict[str, dict[str, Any]]:
    """Each feed's last good data as stored by whichever process polls it (``pupitre agent``
    follows the others' reads this way); ``cache`` keeps what was loaded, re-read only when a
    newer result was stored (blocking)."""
    names = [feed.name for feed in runtime.feeds]
    times = runtime.store.snapshot_times(names)
    results: dict[str, dict[str, Any]] = {}
    for feed in runtime.feeds:
        at = times.get(feed.name)
        if at is None:
            continue
        held = cache.get(feed.name)
        if held is None or held[1] != at:
            loaded = load_snapshot(runtime.store, feed)
            if loaded is None:
                continue
            cache[feed.name] = held = loaded
        results.setdefault(feed.provider, {})[feed.name] = held[0]
    return results


def next_delay(evaluation: Evaluation | None, now: dt.datetime, longest: float = ALERT_SECONDS) -> float:
    """Seconds until the next evaluation: ``longest``, or sooner when a timed alert is due."""
    if evaluation is None or evaluation.next_due is None:
        return longest
    return max(0.05, min(longest, (evaluation.next_due - now).total_seconds()))


# -- the command hook ---------------------------------------------------------------------------


class HookResult(msgspec.Struct, frozen=True):
    """How the command ended: ``ok``; else what went wrong, in one sentence."""

    ok: bool
    message: str


def alert_payload(alert: Alert, title: str) -> bytes:
    """The alert as the command reads it on stdin: one JSON object (UTF-8), a newline."""
    return (json.dumps({**alert.as_json(), "provider_title": title}, ensure_ascii=False) + "\n").encode()


async def run_command(command: str, payload: bytes, timeout: float) -> HookResult:
    """Run ``command`` (split as a shell would, no shell) with ``payload`` on stdin; stopped
    (its whole process group) after ``timeout`` seconds. Never raises."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return HookResult(False, f"not a command line: {exc}")
    if not argv:
        return HookResult(False, "no command")
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its children are stopped with it at the timeout
        )
    except OSError as exc:
        return HookResult(False, f"cannot start {argv[0]}: {exc.strerror or exc}")
    try:
        output, _ = await asyncio.wait_for(process.communicate(payload), timeout)
    except asyncio.TimeoutError:
        _kill_group(process.pid)
        await process.wait()
        return HookResult(False, f"{argv[0]} did not finish within {timeout:g} s: stopped")
    except BaseException:  # cancelled (the process stops): the command does not outlive it
        _kill_group(process.pid)
        with contextlib.suppress(BaseException):  # reaped, its pipes closed while the loop runs
            await asyncio.wait_for(process.wait(), 2.0)
        raise
    if process.returncode != 0:
        text = clean_text(output.decode(errors="replace").strip())[:OUTPUT_CHARS]
        return HookResult(False, f"{argv[0]} exited with {process.returncode}" + (f": {text}" if text else ""))
    return HookResult(True, f"{argv[0]} ran")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class CommandHook:
    """``[alerts] command``, once per alert across the processes of a store."""

    def __init__(self, runtime: Runtime, settings: AlertsSettings | None = None, *, owner: str | None = None) -> None:
        self.runtime = runtime
        self.settings = settings or runtime.settings.alerts
        self.owner = owner or process_owner()
        self._busy: set[int] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.command)

    def due(self, alerts: list[Alert]) -> list[Alert]:
        """The open alerts not yet announced, nor being announced by this process."""
        if not self.enabled:
            return []
        return [a for a in alerts if a.open and a.announced_at is None and a.id not in self._busy]

    async def announce(self, alert: Alert, title: str) -> HookResult | None:
        """Claim the alert's announcement and run the command; ``None`` when another process
        has it (or had it)."""
        timeout = self.settings.command_timeout_seconds
        store = self.runtime.store
        self._busy.add(alert.id)
        try:
            now = time.time()
            try:
                claimed = await asyncio.to_thread(
                    store.alert_claim, alert.id, self.owner, now + timeout + CLAIM_SLACK, now, owner_alive
                )
            except StoreError as error:
                log.warning("alert %s: the command's claim failed: %s", alert.key, error)
                return None
            if not claimed:
                return None
            result = await run_command(self.settings.command, alert_payload(alert, title), timeout)
            try:
                await asyncio.to_thread(store.alert_announced, alert.id, self.owner, self.runtime.clock.now())
            except StoreError as error:
                log.warning("alert %s: the command ran, not recorded: %s", alert.key, error)
            if result.ok:
                log.info("alert %s: command ran", alert.key)
            else:
                log.warning("alert %s: the alert command failed: %s", alert.key, result.message)
            return result
        finally:
            self._busy.discard(alert.id)
