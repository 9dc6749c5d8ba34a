"""``pupitre check``: the daily checks as a monitoring probe (no Textual import).

Exit codes follow the Nagios / Icinga plugin convention:

* 0 OK, 1 WARNING (a finding needs attention), 2 CRITICAL (a critical finding);
* 3 UNKNOWN: the check could not say — its own failure (settings, store, usage, an unexpected
  error) or a provider not read within its time budget.

A critical finding outranks unknown (a GREY shortage seen is never hidden by another provider
being down); unknown outranks attention. The check never becomes CRITICAL by its own
slowness: each feed has a time budget — one answer's time plus what its quota makes the read
last (:attr:`Feed.pace`) — and a read cut short is reported *partial*, with what it got.
``--max-age`` answers from the store what is fresher (what a dashboard or ``pupitre agent``
keeps fresh) and reads only what is older; a feed with a recommended call frequency
(:attr:`Feed.reuse`: the ADICT rights list once a day) is read again only at it, unless
``--force``. Every output format (text, ``--json``, ``--format nagios|prometheus``) is printed
on every path, errors included.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from typing import Any

import msgspec

from pupitre.crash import crash_hook
from pupitre.providers.core.checks import EXIT_CODES, LEVELS, Finding, Level
from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.feeds import Feed, load_snapshot, record_result
from pupitre.providers.core.store import StoreError
from pupitre.providers.core.text import clean_data, clean_text
from pupitre.runtime import Runtime

#: How bad each status is, for the overall one (critical > unknown > attention > ok).
RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
LABELS = {"ok": "OK", "attention": "ATTENTION", "critical": "CRITICAL", "unknown": "UNKNOWN"}
#: The plugin words of ``--format nagios`` (WARNING is pupitre's "attention").
NAGIOS_WORDS = {"ok": "OK", "attention": "WARNING", "critical": "CRITICAL", "unknown": "UNKNOWN"}
FORMATS = ("text", "json", "nagios", "prometheus")
#: One answer's time: the HTTP client's timeouts with a retry (a feed's budget adds its pace).
ANSWER_SECONDS = 30.0
#: Kept back from ``--timeout`` to print the answer before the caller's own timeout.
PRINT_SECONDS = 1.0


class Options(msgspec.Struct, frozen=True):
    """How the check reads: ``max_age`` (seconds: answer from the store what is fresher),
    ``force`` (read everything, the recommended frequencies aside), ``timeout`` (seconds the
    whole check may take: each feed's budget is cut to fit)."""

    max_age: float | None = None
    force: bool = False
    timeout: float | None = None
    answer_seconds: float = ANSWER_SECONDS


class Outcome(msgspec.Struct):
    """One feed's part of the check: ``source`` is ``fetched``, ``partial`` (read cut short
    by its time budget), ``store`` (answered from the store) or ``failed``."""

    feed: Feed[Any]
    source: str
    data: Any = None
    fetched_at: dt.datetime | None = None
    error: str = ""
    reason: str = ""
    read: int | None = None
    total: int | None = None
    budget: float | None = None

    @property
    def ok(self) -> bool:
        return self.source != "failed"


def worst(levels: list[str]) -> Level:
    """The worst status among ``levels`` (``ok`` when empty)."""
    found = max(levels, key=RANK.__getitem__, default="ok")
    return next(level for level in LEVELS if level == found)


def from_store(
    feed: Feed[Any], options: Options, now: dt.datetime, stored: tuple[Any, dt.datetime] | None
) -> Outcome | None:
    """``feed``'s answer from the store when it may be (the recommended frequency, ``--max-age``;
    a feed read item by item when it has none older), else ``None``: it is read."""
    if stored is None or options.force:
        return None
    data, at = stored
    if feed.reuse is not None and feed.reuse(at, now):
        return Outcome(feed, "store", data, at, reason="read within the document's recommended frequency")
    age = (now - at).total_seconds()
    if options.max_age is None or not 0 <= age <= options.max_age:
        return None
    if feed.fetch_older is None:
        return Outcome(feed, "store", data, at, reason=f"fresher than --max-age {options.max_age:g} s")
    try:
        kept = feed.unread_older(options.max_age) if feed.unread_older is not None else None
    except (StoreError, ConfigError):  # read then: the read says what fails, for this feed only
        kept = None
    if kept is None:
        return None
    return Outcome(feed, "store", kept, at, reason=f"every item read within --max-age {options.max_age:g} s")


def feed_budget(feed: Feed[Any], options: Options, deadline: float | None) -> float:
    """Seconds ``feed``'s read may take: one answer's time plus what its quota makes it last
    (:attr:`Feed.pace`), cut to the check's ``--timeout``."""
    max_age = options.max_age if feed.fetch_older is not None and not options.force else None
    try:
        budget = options.answer_seconds + feed.pace(max_age)
    except (StoreError, ConfigError):  # the pace is an estimate: a store that cannot say leaves one answer's time
        budget = options.answer_seconds
    if deadline is not None:
        budget = max(0.0, min(budget, deadline - time.monotonic()))
    return budget


async def read_feed(runtime: Runtime, feed: Feed[Any], options: Options, now: dt.datetime, budget: float) -> Outcome:
    """One feed read within ``budget`` seconds (:func:`feed_budget`; the items older than
    ``--max-age`` of a feed read item by item)."""
    import asyncio

    older = feed.fetch_older if options.max_age is not None and not options.force else None
    max_age = options.max_age if older is not None else None
    try:
        if older is not None and max_age is not None:
            data = await asyncio.wait_for(older(max_age), budget)
        else:
            data = await asyncio.wait_for(feed.fetch(), budget)
    except asyncio.TimeoutError:
        part = feed.partial() if feed.partial is not None else None
        if part is not None and part.read > 0:
            return Outcome(feed, "partial", part.data, now, read=part.read, total=part.total, budget=budget)
        return Outcome(feed, "failed", error=f"{feed.title}: no answer within {budget:.0f} s", budget=budget)
    except (ApiError, ConfigError, StoreError) as error:
        return Outcome(feed, "failed", error=str(error), budget=budget)
    return Outcome(feed, "fetched", data, now, budget=budget)


class Checks:
    """One run of the checks: each feed answered from the store when it may be (at once, with
    no event loop), the others read (:meth:`read`), then :meth:`report`."""

    def __init__(self, runtime: Runtime, options: Options | None = None) -> None:
        self.runtime = runtime
        self.options = options = options or Options()
        self.started = time.monotonic()
        self.deadline = (
            self.started + max(0.0, options.timeout - PRINT_SECONDS) if options.timeout is not None else None
        )
        self.now = runtime.clock.now()
        self.notes = runtime.environment_notes()  # before this run writes the first rows of an environment
        self.outcomes: list[Outcome | None] = [
            from_store(feed, options, self.now, load_snapshot(runtime.store, feed)) for feed in runtime.feeds
        ]

    @property
    def unread(self) -> list[Feed[Any]]:
        """The feeds to read (not answered from the store)."""
        return [feed for feed, outcome in zip(self.runtime.feeds, self.outcomes, strict=True) if outcome is None]

    async def read(self) -> None:
        """Read every feed not answered from the store, at once, each within its time budget."""
        import asyncio

        unread = self.unread
        budgets = [feed_budget(feed, self.options, self.deadline) for feed in unread]
        # the longest first: a read paced by its quota sends its first call before the others'
        # work (imports, simulators), which then runs while it waits for its next slot
        order = sorted(range(len(unread)), key=lambda i: -budgets[i])
        reads = [read_feed(self.runtime, unread[i], self.options, self.now, budgets[i]) for i in order]
        read = dict(zip(order, await asyncio.gather(*reads), strict=True))
        results = iter(read[i] for i in range(len(unread)))
        self.outcomes = [outcome if outcome is not None else next(results) for outcome in self.outcomes]

    def report(self) -> dict[str, Any]:
        """Record the good results read, evaluate each provider's findings: the report every
        output format is rendered from."""
        runtime, options, now = self.runtime, self.options, self.now
        outcomes = [outcome for outcome in self.outcomes if outcome is not None]
        if len(outcomes) < len(self.outcomes):
            raise RuntimeError("the feeds not answered from the store are read first (Checks.read)")
        findings: list[dict[str, Any]] = []
        notice = runtime.store_notice
        if notice is not None:
            findings.append(_finding(Finding("Store", notice.level, notice.message)))
        good: dict[str, dict[str, Any]] = {name: {} for name in runtime.connections}
        for outcome in outcomes:
            feed = outcome.feed
            if outcome.source in ("fetched", "partial"):
                previous = load_snapshot(runtime.store, feed)  # again: another process may have saved one since
                try:
                    record_result(runtime.store, feed, previous[0] if previous else None, outcome.data, now)
                except StoreError as error:
                    findings.append(
                        _finding(Finding("Store", "attention", f"{feed.title}: fresh data not saved: {error}"))
                    )
            if outcome.ok:
                good[feed.provider][feed.name] = outcome.data

        findings += _failures(runtime, outcomes)
        for outcome in outcomes:
            if outcome.source == "partial":
                title = runtime.connections[outcome.feed.provider].title
                findings.append(
                    {
                        "provider": title,
                        "level": "attention",
                        "message": f"{outcome.feed.title}: partial — {outcome.read} of {outcome.total} read within "
                        f"the time budget ({outcome.budget:.0f} s at the quota's pace); the others keep their last "
                        "good data",
                        "feeds": [outcome.feed.name],
                    }
                )
        providers: dict[str, Any] = {}
        for name, connection in runtime.connections.items():
            own = [_finding(f) for f in connection.findings(good[name], now)]
            findings += own
            levels = [f["level"] for f in findings if f["provider"] == connection.title]
            providers[name] = {
                "title": connection.title,
                "status": worst(levels),
                "environment": runtime.environments[name].label,
                "sandbox": name in runtime.sandboxed,
                "items": connection.items(good[name], now),
            }
        status = worst([f["level"] for f in findings])
        return {
            "status": status,
            "exit_code": EXIT_CODES[status],
            "checked_at": now.isoformat(),
            "duration_seconds": round(time.monotonic() - self.started, 3),
            "options": {"max_age": options.max_age, "force": options.force, "timeout": options.timeout},
            "sandbox": sorted(runtime.sandboxed),
            "simulated": [runtime.connections[name].title for name in runtime.providers if name in runtime.sandboxed],
            "environments": {
                runtime.connections[name].title: runtime.environments[name].label for name in runtime.providers
            },
            "notes": self.notes,
            "feeds": {o.feed.name: _feed_report(runtime, o, now) for o in outcomes},
            "findings": findings,
            "providers": providers,
            "quotas": _quotas(runtime),
        }


async def run_checks(runtime: Runtime, options: Options | None = None) -> dict[str, Any]:
    """Read every feed once (or answer from the store), record good results, and evaluate
    each provider's findings; the report every output format is rendered from."""
    checks = Checks(runtime, options)
    await checks.read()
    return checks.report()


def _finding(finding: Finding) -> dict[str, Any]:
    return {"provider": finding.provider, "level": finding.level, "message": finding.message}


def _failures(runtime: Runtime, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One ``unknown`` finding per provider and cause: a provider down is one line, not one per feed."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        if not outcome.ok:
            groups.setdefault((outcome.feed.provider, outcome.error), []).append(outcome)
    out = []
    for (provider, error), failed in groups.items():
        lasts = [s[1] for s in (load_snapshot(runtime.store, o.feed) for o in failed) if s is not None]
        feeds = f" ({len(failed)} feeds: {', '.join(o.feed.title for o in failed)})" if len(failed) > 1 else ""
        finding = unavailable(runtime.connections[provider].title, error, min(lasts) if lasts else None)
        out.append({**_finding(finding), "message": finding.message + feeds, "feeds": [o.feed.name for o in failed]})
    return out


def _feed_report(runtime: Runtime, outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
    """A feed's line of the report: where its data came from, its age, its last success."""
    feed = outcome.feed
    report: dict[str, Any] = {
        "ok": outcome.ok,
        "provider": feed.provider,
        "source": outcome.source,
        "sandbox": feed.provider in runtime.sandboxed,
    }
    last = outcome.fetched_at
    if outcome.ok:
        report["fetched_at"] = last.isoformat() if last else None
    else:
        report["error"] = outcome.error
        stored = load_snapshot(runtime.store, feed)
        last = stored[1] if stored is not None else None
    report["last_success"] = last.isoformat() if last else None
    report["age_seconds"] = round((now - last).total_seconds(), 3) if last else None
    if outcome.reason:
        report["reason"] = outcome.reason
    if outcome.source == "partial":
        report["read"], report["total"] = outcome.read, outcome.total
    if outcome.budget is not None:
        report["budget_seconds"] = round(outcome.budget, 1)
    return report


def _quotas(runtime: Runtime) -> list[dict[str, Any]]:
    """Each quota-paced credential's use today (shared by every process on the store)."""
    out = []
    for name, connection in runtime.connections.items():
        if connection.quota is None:
            continue
        try:
            limiter = connection.quota()
            used = limiter.used_today()
        except (StoreError, ConfigError):
            continue
        out.append(
            {
                "provider": name,
                "title": connection.title,
                "credential": limiter.credential,
                "used_today": used,
                "per_day": limiter.per_day,
                "per_second": limiter.per_second,
            }
        )
    return out


# -- the answer when the check itself failed --------------------------------------------------


def unknown_report(error: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The report of a check that could not run (settings, store, usage, crash): UNKNOWN (3)."""
    at = now or dt.datetime.now(dt.timezone.utc).astimezone()
    return {"status": "unknown", "exit_code": EXIT_CODES["unknown"], "checked_at": at.isoformat(), "error": error}


# -- output formats ---------------------------------------------------------------------------


def render(report: dict[str, Any], fmt: str) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`), text cleaned (:func:`output`); the
    error of a check that could not run keeps its lines (a settings file's problems) in text
    and in Nagios' long output."""
    error = report.get("error")
    report = output(report)
    if isinstance(error, str) and fmt in ("text", "nagios"):
        report["error"] = clean_text(error, multiline=True)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False)
    if fmt == "nagios":
        return render_nagios(report)
    if fmt == "prometheus":
        return render_prometheus(report)
    return render_text(report)


def unavailable(title: str, error: str, last_good: dt.datetime | None) -> Finding:
    """A provider whose data could not be read: ``unknown`` (the check cannot say), with the
    time of the last good data (the Overview says the same, with this function)."""
    age = f"; last good data from {last_good:%d/%m %H:%M}" if last_good else ""
    return Finding(title, "unknown", f"data unavailable: {error}{age}")


def render_text(report: dict[str, Any]) -> str:
    """The report as lines for a terminal or a cron mail."""
    status = report["status"]
    if "error" in report:
        return f"pupitre check — UNKNOWN: {str(report['error']).removeprefix('pupitre: ')}"
    lines = [f"pupitre check — {LABELS[status]} ({report['checked_at'][:19]})"]
    if report["simulated"]:
        lines.append(f"  SIMULATED (sandbox data, not the real APIs): {', '.join(report['simulated'])}")
    for note in report["notes"]:
        lines.append(f"  NOTE: {note}")
    for name, feed in report["feeds"].items():
        if feed["source"] == "store":
            lines.append(f"  FROM STORE: {name}, read {feed['fetched_at'][:16]} ({feed['reason']})")
    for finding in report["findings"]:
        lines.append(f"  [{LABELS[finding['level']]:>9}] {finding['provider']}: {finding['message']}")
    return "\n".join(lines)


def _plain(value: float) -> str:
    """A number without an exponent (perfdata values are ``[-0-9.]``): ``12``, ``0.25``."""
    return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _perf_label(name: str) -> str:
    return "'" + name.replace("'", "").replace("=", "_") + "'"


def _perf(name: str, value: float | int | None, unit: str = "", maximum: float | int | None = None) -> str:
    """One performance datum: ``'label'=value[unit];warn;crit;min;max`` (``U``: undetermined)."""
    shown = "U" if value is None else _plain(value)
    top = "" if maximum is None else _plain(maximum)
    return f"{_perf_label(name)}={shown}{unit if value is not None else ''};;;0;{top}"


def render_nagios(report: dict[str, Any]) -> str:
    """One status line with performance data (counts, data ages, quota use), then one line
    per finding (the plugin's long output)."""
    word = NAGIOS_WORDS[report["status"]]
    if "error" in report:
        return f"PUPITRE {word} - {str(report['error']).removeprefix('pupitre: ')}"
    findings = report["findings"]
    bad = sorted((f for f in findings if f["level"] != "ok"), key=lambda f: -RANK[f["level"]])
    if bad:
        summary = "; ".join(f"{f['provider']}: {f['message']}" for f in bad)
        if len(summary) > 200:
            summary = summary[:199].rstrip() + "…"
        counts = ", ".join(
            f"{sum(1 for f in bad if f['level'] == level)} {NAGIOS_WORDS[level].lower()}"
            for level in ("critical", "unknown", "attention")
            if any(f["level"] == level for f in bad)
        )
        summary = f"{counts}: {summary}"
    else:
        summary = f"all fine ({len(report['providers'])} providers)"
    perf = [_perf(NAGIOS_WORDS[level].lower(), sum(1 for f in findings if f["level"] == level)) for level in RANK]
    feeds = report["feeds"].values()
    perf.append(_perf("feeds_failed", sum(1 for f in feeds if not f["ok"]), maximum=len(feeds)))
    perf.append(_perf("feeds_partial", sum(1 for f in feeds if f["source"] == "partial"), maximum=len(feeds)))
    for name, provider in report["providers"].items():
        perf.append(_perf(f"items_{name}", len(provider["items"])))
    for name, feed in report["feeds"].items():
        perf.append(_perf(f"age_{name}", feed["age_seconds"], "s"))
    for quota in report["quotas"]:
        perf.append(_perf(f"quota_{quota['provider']}", quota["used_today"], maximum=quota["per_day"]))
    perf.append(_perf("duration", report["duration_seconds"], "s"))
    lines = [f"PUPITRE {word} - {summary} | {' '.join(perf)}"]
    lines += [f"[{NAGIOS_WORDS[f['level']]}] {f['provider']}: {f['message']}" for f in findings]
    return "\n".join(lines)


def _escape_label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Exposition:
    """Prometheus text exposition (format 0.0.4): each metric's HELP and TYPE, then its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, help_text: str, samples: list[tuple[dict[str, object], float | None]]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            if value is None:
                continue
            text = ",".join(f'{key}="{_escape_label(v)}"' for key, v in labels.items())
            number = "NaN" if isinstance(value, float) and math.isnan(value) else repr(float(value))
            self.lines.append(f"{name}{{{text}}} {number}" if text else f"{name} {number}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_prometheus(report: dict[str, Any]) -> str:
    """The report for node_exporter's textfile collector: states, data ages, quota use and the
    last success of each feed (write it to a temporary file, then rename it into the directory)."""
    out = _Exposition()
    status = report["status"]
    checked = dt.datetime.fromisoformat(report["checked_at"]).timestamp()
    out.metric(
        "pupitre_check_exit_code",
        "Exit code of pupitre check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        [({}, EXIT_CODES[status])],
    )
    out.metric(
        "pupitre_check_state",
        "The check's state (1 for the current one).",
        [({"state": s}, float(s == status)) for s in RANK],
    )
    out.metric("pupitre_check_timestamp_seconds", "When the check ran (Unix time).", [({}, checked)])
    if "error" in report:  # a comment line: read by people, ignored by the collector
        error = " ".join(str(report["error"]).split())
        return f"# pupitre check UNKNOWN: {error}\n" + out.text()
    out.metric("pupitre_check_duration_seconds", "How long the check took.", [({}, report["duration_seconds"])])
    providers = report["providers"]
    out.metric(
        "pupitre_provider_state",
        "Each provider's state (1 for the current one).",
        [({"provider": name, "state": s}, float(p["status"] == s)) for name, p in providers.items() for s in RANK],
    )
    out.metric(
        "pupitre_findings",
        "Findings by level.",
        [({"level": level}, float(sum(1 for f in report["findings"] if f["level"] == level))) for level in RANK],
    )
    counts: dict[tuple[str, str], int] = {}
    for name, provider in providers.items():
        for item in provider["items"]:
            key = (name, str(item.get("state", "")))
            counts[key] = counts.get(key, 0) + 1
    out.metric(
        "pupitre_items",
        "Items behind the findings (sites, contracts, requests, rights, orders) by state.",
        [({"provider": p, "state": s}, float(n)) for (p, s), n in sorted(counts.items())],
    )
    feeds = report["feeds"]
    out.metric(
        "pupitre_feed_up",
        "1 when the feed has data this run (read, partial or from the store).",
        [({"feed": n, "provider": f["provider"]}, float(f["ok"])) for n, f in feeds.items()],
    )
    out.metric(
        "pupitre_feed_partial",
        "1 when the feed's read was cut short by its time budget.",
        [({"feed": n, "provider": f["provider"]}, float(f["source"] == "partial")) for n, f in feeds.items()],
    )
    out.metric(
        "pupitre_feed_from_store",
        "1 when the feed was answered from the store (--max-age, frequency).",
        [({"feed": n, "provider": f["provider"]}, float(f["source"] == "store")) for n, f in feeds.items()],
    )
    out.metric(
        "pupitre_feed_data_age_seconds",
        "Age of the feed's last good data.",
        [({"feed": n, "provider": f["provider"]}, f["age_seconds"]) for n, f in feeds.items()],
    )
    out.metric(
        "pupitre_feed_last_success_timestamp_seconds",
        "When the feed last read its data well (Unix time).",
        [
            ({"feed": n, "provider": f["provider"]}, dt.datetime.fromisoformat(f["last_success"]).timestamp())
            for n, f in feeds.items()
            if f["last_success"]
        ],
    )
    quotas = report["quotas"]
    out.metric(
        "pupitre_quota_used_today_calls",
        "Calls of the credential's quota used today (every process).",
        [({"provider": q["provider"], "credential": q["credential"]}, float(q["used_today"])) for q in quotas],
    )
    out.metric(
        "pupitre_quota_per_day_calls",
        "The credential's daily quota.",
        [({"provider": q["provider"], "credential": q["credential"]}, q["per_day"]) for q in quotas],
    )
    out.metric(
        "pupitre_quota_per_second_calls",
        "The rate the credential's calls are paced at.",
        [({"provider": q["provider"], "credential": q["credential"]}, q["per_second"]) for q in quotas],
    )
    return out.text()


def main(runtime: Runtime, *, fmt: str = "text", options: Options | None = None) -> int:
    """Run the check, print it in ``fmt``, return its exit code. An event loop runs only when a
    feed is read: a check answered from the store imports neither asyncio nor the HTTP stack."""
    report = _run(runtime, options)
    print(render(report, fmt), end="" if fmt == "prometheus" else "\n")
    return int(report["exit_code"])


def _run(runtime: Runtime, options: Options | None) -> dict[str, Any]:
    """The report, the runtime closed after it (in the event loop when one ran)."""
    looped = False
    try:
        crash_hook("check")
        checks = Checks(runtime, options)
        if not checks.unread:
            return checks.report()
        looped = True
        return _read_and_report(runtime, checks)
    finally:
        if not looped:
            runtime.close()


def _read_and_report(runtime: Runtime, checks: Checks) -> dict[str, Any]:
    import asyncio

    async def go() -> dict[str, Any]:
        try:
            await checks.read()
            return checks.report()
        finally:
            await runtime.aclose()

    return asyncio.run(go())


def output(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every string cleaned for a terminal (:mod:`pupitre.providers.core.text`).
    API text is cleaned where it is parsed; this also covers error messages and settings
    values, and keeps ``--json`` valid JSON with no raw control or bidi character."""
    return clean_data(report)  # type: ignore[no-any-return]  # a dict in, a dict out
