"""``pupitre check``: the daily checks without the UI (no Textual import).

Exit codes: 0 all fine, 1 attention (e.g. a RED or announced RED indicator),
2 critical (GREY shortage, or data unavailable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from pupitre.crash import crash_hook
from pupitre.providers.core.checks import EXIT_CODES, Finding, overall
from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.feeds import load_snapshot, record_result
from pupitre.providers.core.store import StoreError
from pupitre.providers.core.text import clean_data
from pupitre.runtime import Runtime

FETCH_TIMEOUT = 30.0
LABELS = {"ok": "OK", "attention": "ATTENTION", "critical": "CRITICAL"}


async def run_checks(runtime: Runtime, timeout: float = FETCH_TIMEOUT) -> dict[str, Any]:
    """Fetch every feed once, record good results, and evaluate each provider's findings."""
    now = runtime.clock.now()
    notes = runtime.environment_notes()  # before this run writes the first rows of an environment
    findings: list[Finding] = []
    feeds_report: dict[str, Any] = {}
    notice = runtime.store_notice
    if notice is not None:
        findings.append(Finding("Store", notice.level, notice.message))

    async def one(feed: Any) -> tuple[Any, Any]:
        try:
            return await asyncio.wait_for(feed.fetch(), timeout), None
        except asyncio.TimeoutError:
            return None, f"{feed.title}: no answer within {timeout:.0f} s"
        except (ApiError, ConfigError) as error:
            return None, str(error)

    results = await asyncio.gather(*(one(feed) for feed in runtime.feeds))
    good: dict[str, dict[str, Any]] = {name: {} for name in runtime.connections}
    for feed, (data, error) in zip(runtime.feeds, results, strict=True):
        sandbox = feed.provider in runtime.sandboxed
        if error is not None:
            last = load_snapshot(runtime.store, feed)
            findings.append(unavailable(runtime.connections[feed.provider].title, error, last[1] if last else None))
            feeds_report[feed.name] = {"ok": False, "error": error, "sandbox": sandbox}
            continue
        previous = load_snapshot(runtime.store, feed)
        try:
            record_result(runtime.store, feed, previous[0] if previous else None, data, now)
        except StoreError as error:
            findings.append(Finding("Store", "attention", f"{feed.title}: fresh data not saved: {error}"))
        good[feed.provider][feed.name] = data
        feeds_report[feed.name] = {"ok": True, "fetched_at": now.isoformat(), "sandbox": sandbox}
    for name, connection in runtime.connections.items():
        findings += connection.findings(good[name], now)
    status = overall(findings)
    return {
        "status": status,
        "exit_code": EXIT_CODES[status],
        "checked_at": now.isoformat(),
        "sandbox": sorted(runtime.sandboxed),
        "simulated": [runtime.connections[name].title for name in runtime.providers if name in runtime.sandboxed],
        "environments": {
            runtime.connections[name].title: runtime.environments[name].label for name in runtime.providers
        },
        "notes": notes,
        "feeds": feeds_report,
        "findings": [{"provider": f.provider, "level": f.level, "message": f.message} for f in findings],
    }


def unavailable(title: str, error: str, last_good: dt.datetime | None) -> Finding:
    """A feed that failed: critical, with the time of the last good data (the Overview
    says the same)."""
    age = f"; last good data from {last_good:%d/%m %H:%M}" if last_good else ""
    return Finding(title, "critical", f"data unavailable: {error}{age}")


def render_text(report: dict[str, Any]) -> str:
    """The report as lines for a terminal or a cron mail (text cleaned: :func:`output`)."""
    lines = [f"pupitre check — {LABELS[report['status']]} ({report['checked_at'][:19]})"]
    if report["simulated"]:
        lines.append(f"  SIMULATED (sandbox data, not the real APIs): {', '.join(report['simulated'])}")
    for note in report["notes"]:
        lines.append(f"  NOTE: {note}")
    for finding in report["findings"]:
        lines.append(f"  [{LABELS[finding['level']]:>9}] {finding['provider']}: {finding['message']}")
    return "\n".join(lines)


def main(runtime: Runtime, *, as_json: bool) -> int:
    async def go() -> dict[str, Any]:
        try:
            crash_hook("check")
            return await run_checks(runtime)
        finally:
            await runtime.aclose()

    report = output(asyncio.run(go()))
    print(json.dumps(report, indent=2, ensure_ascii=False) if as_json else render_text(report))
    return int(report["exit_code"])


def output(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every string cleaned for a terminal (:mod:`pupitre.providers.core.text`).
    API text is cleaned where it is parsed; this also covers error messages and settings
    values, and keeps ``--json`` valid JSON with no raw control or bidi character."""
    return clean_data(report)  # type: ignore[no-any-return]  # a dict in, a dict out
