"""``pupitre check`` as a monitoring probe (issue 18): Nagios exit codes on every path and in
every format, the items behind the findings, one finding per provider and cause, ``--max-age``,
the ADICT rights read once a day, and the Nagios and Prometheus outputs — the latter parsed
back by a small text-exposition parser, not compared as strings."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pupitre import check, cli
from pupitre.providers.core.certs import sandbox_credentials
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sandbox import calm_scenario
from pupitre.runtime import PROVIDERS, Runtime, build_runtime
from pupitre.settings import Settings

DAY = dt.date(2025, 1, 15)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


# -- a small Prometheus text-exposition parser (format 0.0.4) ----------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


@dataclass
class Exposition:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def values(self, name: str, **labels: str) -> list[float]:
        return [v for n, ls, v in self.samples if n == name and all(ls.get(k) == x for k, x in labels.items())]

    def value(self, name: str, **labels: str) -> float:
        (found,) = self.values(name, **labels)
        return found


def _labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match, f"bad labels at {text[position:]!r}"
        name, raw = match.group(1), match.group(2)
        assert name not in labels, f"label {name} twice"
        labels[name] = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)
        position = match.end()
    return labels


def parse_exposition(text: str) -> Exposition:
    """Every line is a HELP, a TYPE (before the samples of its metric), another comment, or a
    sample whose value is a float; a metric's samples are grouped; no sample twice."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    out, seen, done = Exposition(), set(), set()
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            assert re.fullmatch(_NAME, name) and help_text
            out.helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert kind in ("gauge", "counter", "untyped") and name not in out.types
            out.types[name] = kind
            if current is not None:
                done.add(current)
            current = name
        elif line.startswith("#"):
            out.comments.append(line)
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample: {line!r}"
            name, labels, value = match.group(1), _labels(match.group(2) or ""), float(match.group(3))
            assert name == current and name not in done, f"{name}: sample outside its metric's group"
            key = (name, tuple(sorted(labels.items())))
            assert key not in seen, f"sample twice: {key}"
            seen.add(key)
            out.samples.append((name, labels, value))
    return out


_PERF = re.compile(r"'([^']+)'=(U|-?[0-9.]+(?:e[-+]?\d+)?)([a-zA-Z%]*);([^;]*);([^;]*);([^;]*);(\S*)")


def parse_nagios(text: str) -> tuple[str, str, dict[str, tuple[float | None, str, str]], list[str]]:
    """``(WORD, summary, perfdata {label: (value, unit, max)}, long output lines)``."""
    first, *rest = text.rstrip("\n").split("\n")
    head, _, perf = first.partition(" | ")
    match = re.match(r"^PUPITRE (OK|WARNING|CRITICAL|UNKNOWN) - (.+)$", head)
    assert match, first
    data: dict[str, tuple[float | None, str, str]] = {}
    for token in perf.split(" ") if perf else []:
        found = _PERF.fullmatch(token)
        assert found, f"bad perfdata {token!r}"
        value = None if found.group(2) == "U" else float(found.group(2))
        data[found.group(1)] = (value, found.group(3), found.group(7))
    return match.group(1), match.group(2), data, rest


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pair")
    sandbox_credentials(directory, "grtgaz")
    return directory


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_pair: Path) -> Path:
    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "config").mkdir(mode=0o700)
    shutil.copytree(sandbox_pair, tmp_path / "data" / "sandbox")
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PUPITRE_LOG_LEVEL", raising=False)
    return tmp_path


Make = Callable[..., Runtime]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Make]:
    stores: list[Store] = []

    def build(now: dt.datetime, *, faults: FaultPlan | None = None, calm: bool = True) -> Runtime:
        store = Store(tmp_path / "data" / "pupitre.sqlite3")
        stores.append(store)
        runtime = build_runtime(
            Settings(),
            sandbox=True,
            clock=ManualClock(now),
            store=store,
            data_dir=tmp_path / "data",
            faults=faults,
            retry=RetryPolicy(attempts=1),
            secrets=SecretStore(credentials_file=tmp_path / "config" / "c.toml", env={}),
        )
        if calm:
            runtime.simulators["grtgaz"].scenario = calm_scenario
            runtime.simulators["grdf_adict"].rights.clear()
        return runtime

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def scenario(make: Make, status: str) -> Runtime:
    """A sandbox whose check ends in ``status``."""
    if status == "unknown":
        plan = FaultPlan()
        plan.add("/sfm/v1/sites/*", "status", count=10, status=503)
        return make(at(10, 30), faults=plan)
    runtime = make(at(10, 30))
    simulator = runtime.simulators["grtgaz"]
    if status == "attention":
        simulator.schedule("LI1003", Flex.Q_TO_QPLUS, IndicatorStatus.RED, at(9, 52))
    elif status == "critical":
        simulator.declare_shortage(DAY, site_ids={"LI1006"})
    return runtime


def run(runtime: Runtime, capsys: pytest.CaptureFixture[str], fmt: str, **options: Any) -> tuple[int, str]:
    code = check.main(runtime, fmt=fmt, options=check.Options(**options))
    return code, capsys.readouterr().out


# -- exit codes and formats ------------------------------------------------------------------------

WORDS = {"ok": "OK", "attention": "WARNING", "critical": "CRITICAL", "unknown": "UNKNOWN"}


@pytest.mark.parametrize("status", ["ok", "attention", "critical", "unknown"])
def test_every_exit_code_in_every_format(make: Make, capsys: pytest.CaptureFixture[str], status: str) -> None:
    expected = {"ok": 0, "attention": 1, "critical": 2, "unknown": 3}[status]
    outputs = {fmt: run(scenario(make, status), capsys, fmt) for fmt in check.FORMATS}
    assert {fmt: code for fmt, (code, _) in outputs.items()} == dict.fromkeys(check.FORMATS, expected)

    report = json.loads(outputs["json"][1])
    assert report["status"] == status and report["exit_code"] == expected

    assert outputs["text"][1].startswith(f"pupitre check — {check.LABELS[status]} (")

    word, summary, perf, lines = parse_nagios(outputs["nagios"][1])
    assert word == WORDS[status]
    assert perf["critical"][0] == sum(1 for f in report["findings"] if f["level"] == "critical")
    assert perf["warning"][0] == sum(1 for f in report["findings"] if f["level"] == "attention")
    assert perf["unknown"][0] == (1 if status == "unknown" else 0)
    assert perf["items_grtgaz"][0] == (0 if status == "unknown" else 13)
    assert perf["age_grtgaz.indicators"] == ((None, "", "") if status == "unknown" else (0.0, "s", ""))
    assert perf["feeds_failed"][0] == (1 if status == "unknown" else 0)
    assert len(lines) == len(report["findings"])
    if status == "ok":
        assert summary.startswith("all fine")
    else:
        assert "GRTgaz" in summary

    metrics = parse_exposition(outputs["prometheus"][1])
    assert set(metrics.types.values()) == {"gauge"} and set(metrics.types) == set(metrics.helps)
    assert metrics.value("pupitre_check_exit_code") == expected
    assert {s: metrics.value("pupitre_check_state", state=s) for s in WORDS} == {s: float(s == status) for s in WORDS}
    assert metrics.value("pupitre_provider_state", provider="grtgaz", state=status) == 1
    assert sum(metrics.values("pupitre_provider_state", provider="grtgaz")) == 1
    assert metrics.value("pupitre_feed_up", feed="grtgaz.indicators", provider="grtgaz") == float(status != "unknown")
    assert metrics.value("pupitre_feed_up", feed="edf_oa.token", provider="edf_oa") == 1
    last = metrics.values("pupitre_feed_last_success_timestamp_seconds", feed="grtgaz.indicators")
    assert last == ([] if status == "unknown" else [at(10, 30).timestamp()])
    if status != "unknown":
        assert metrics.value("pupitre_feed_data_age_seconds", feed="grtgaz.indicators") == 0
        states = {ls["state"]: v for n, ls, v in metrics.samples if n == "pupitre_items" and ls["provider"] == "grtgaz"}
        assert sum(states.values()) == 13
    quotas = {ls["provider"]: ls["credential"] for n, ls, _ in metrics.samples if n == "pupitre_quota_used_today_calls"}
    assert set(quotas) == {"grdf_omega", "grdf_adict"}
    assert metrics.value("pupitre_quota_per_day_calls", provider="grdf_adict") == 6000
    assert metrics.value("pupitre_check_timestamp_seconds") == at(10, 30).timestamp()


def test_prometheus_labels_are_escaped() -> None:
    report = check.unknown_report('bad "value" \\ here\nand more', at(10, 0))
    metrics = parse_exposition(check.render(report, "prometheus"))
    assert metrics.value("pupitre_check_exit_code") == 3
    out = check._Exposition()
    out.metric("x", "a test", [({"k": 'a "b" \\ c\nd'}, 1.0)])
    assert parse_exposition(out.text()).samples == [("x", {"k": 'a "b" \\ c\nd'}, 1.0)]


# -- the check's own failures: UNKNOWN (3), in the asked format ------------------------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    "fmt_args",
    [["--json"], ["--format", "json"], ["--format=nagios"], ["--format", "prometheus"], []],
    ids=["json", "format-json", "nagios", "prometheus", "text"],
)
@pytest.mark.parametrize("cause", ["settings", "store", "usage", "log-level"])
def test_its_own_failures_are_unknown_in_the_asked_format(
    dirs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cause: str, fmt_args: list[str]
) -> None:
    argv = ["check", "--sandbox", *fmt_args]
    if cause == "settings":
        (dirs / "config" / "settings.toml").write_text("[grtgaz]\nno_such_key = 1\n")
    elif cause == "store":
        db = sqlite3.connect(dirs / "data" / "pupitre.sqlite3")
        db.execute("PRAGMA user_version=999")  # a store of a newer pupitre: refused
        db.close()
    elif cause == "usage":
        argv.append("--max-age=soon")
    else:
        monkeypatch.setenv("PUPITRE_LOG_LEVEL", "chatty")
    code, out, err = _cli(argv, capsys)
    assert code == 3 and err == ""
    fmt = (
        "json"
        if "--json" in fmt_args or "json" in fmt_args
        else fmt_args[-1].removeprefix("--format=")
        if fmt_args
        else "text"
    )
    if fmt == "json":
        report = json.loads(out)
        assert report["status"] == "unknown" and report["exit_code"] == 3 and report["error"]
    elif fmt == "nagios":
        word, summary, _, _ = parse_nagios(out)
        assert word == "UNKNOWN" and summary
    elif fmt == "prometheus":
        metrics = parse_exposition(out)
        assert metrics.value("pupitre_check_exit_code") == 3
        assert metrics.value("pupitre_check_state", state="unknown") == 1
    else:
        assert out.startswith("pupitre check — UNKNOWN: ")
    expected = {"settings": "no_such_key", "store": "newer", "usage": "--max-age", "log-level": "chatty"}[cause]
    assert expected in out


@pytest.mark.usefixtures("restore_logging")
def test_usage_errors_of_other_commands_keep_argparse_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["audit", "--no-such-option"], capsys)
    assert code == 2 and out == "" and "--no-such-option" in err and "usage:" in err


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("argv", [["--sandbox", "check", "--json"], ["check", "--sandbox", "--json"]])
def test_sandbox_before_or_after_check_means_the_same(
    dirs: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A real GRTgaz is declared in the settings: both spellings must still check the simulators."""
    (dirs / "config" / "settings.toml").write_text('[grtgaz]\nclient_id = "real-client"\n')
    assert cli.build_parser().parse_args(argv).sandbox is True
    code, out, _ = _cli(argv, capsys)
    report = json.loads(out)
    assert report["sandbox"] == sorted(PROVIDERS) and code == report["exit_code"]
    assert report["providers"]["grtgaz"]["sandbox"] is True


# -- what the findings are made of ----------------------------------------------------------------


def test_one_finding_per_provider_and_cause(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    plan = FaultPlan()
    plan.add("/api/v1/*", "status", count=50, status=503)  # EDF OA down: its four feeds fail alike
    code, out = run(make(at(14, 0), faults=plan), capsys, "json")
    report = json.loads(out)
    (edf,) = [f for f in report["findings"] if f["provider"] == "EDF OA"]
    assert edf["level"] == "unknown" and "HTTP 503" in edf["message"]
    assert sorted(edf["feeds"]) == sorted(n for n in report["feeds"] if n.startswith("edf_oa."))
    assert "4 feeds" in edf["message"]
    text_code, text = run(make(at(14, 0), faults=plan), capsys, "text")
    assert len([line for line in text.splitlines() if "] EDF OA:" in line]) == 1 and text_code == code == 3


def test_json_lists_every_item_behind_the_findings(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(14, 0), calm=False)  # the sandbox's rights, some awaiting proofs
    runtime.simulators["grtgaz"].scenario = calm_scenario
    runtime.simulators["grtgaz"].schedule("LI1001", Flex.PARTIAL, IndicatorStatus.RED, at(13, 45))
    omega = runtime.simulators["grdf_omega"]
    numbers = omega.numbers()[:3]
    runtime.store.watch_add("grdf_omega", numbers, at(13, 0))
    code, out = run(runtime, capsys, "json")
    report = json.loads(out)
    providers = report["providers"]

    sites = providers["grtgaz"]["items"]
    assert len(sites) == 13 and {s["key"] for s in sites} >= {"LI1001", "LI1003"}
    for site in sites:
        assert set(site["now"]) == {"Q→Q-", "partial", "Q→Q+"}
        assert all(set(ind) == {"status", "applies_at"} for ind in site["now"].values())
    (announced,) = [s for s in sites if s["next"] is not None]
    assert announced["key"] == "LI1001" and announced["next"]["partial"]["status"] == "RED"

    contracts = providers["edf_oa"]["items"]
    assert contracts and all(c["key"].startswith("BOA") for c in contracts)
    assert {c["state"] for c in contracts} <= {"acknowledged", "refused", "not acknowledged"}
    assert any(c["curtailed"] for c in contracts)

    requests = providers["grdf_omega"]["items"]
    assert [r["key"] for r in requests] == numbers and all(r["state"] and r["read_at"] for r in requests)

    rights = providers["grdf_adict"]["items"]
    awaiting = [r for r in rights if r["state"] == "Preuve en attente"]
    assert awaiting and all(r["pce"] and "overdue" in r for r in awaiting)
    adict = [f for f in report["findings"] if f["provider"] == "GRDF ADICT"]
    assert any(f"{len(awaiting)} right(s) awaiting proofs" in f["message"] for f in adict)
    assert code == report["exit_code"]


# -- --max-age, the ADICT rights once a day --------------------------------------------------------


def _paths(runtime: Runtime) -> list[str]:
    return [r.path for r in runtime.request_log.records] if runtime.request_log else []


async def test_max_age_answers_from_the_store_and_reads_only_what_is_older(make: Make) -> None:
    runtime = make(at(10, 0))
    omega = runtime.simulators["grdf_omega"]
    numbers = omega.numbers()[:5]
    runtime.store.watch_add("grdf_omega", numbers[:3], at(9, 0))
    first = await check.run_checks(runtime, check.Options(max_age=600))
    assert {f["source"] for f in first["feeds"].values()} == {"fetched"}  # nothing stored yet
    assert omega.calls == 3

    runtime.store.watch_add("grdf_omega", numbers[3:], at(10, 2))  # two more watched since
    runtime.clock.advance(seconds=300)
    before = len(_paths(runtime))
    second = await check.run_checks(runtime, check.Options(max_age=600))
    sources = {name: f["source"] for name, f in second["feeds"].items()}
    assert sources.pop("grdf_omega.requests") == "fetched"
    assert set(sources.values()) == {"store"}
    assert second["feeds"]["grtgaz.indicators"]["age_seconds"] == 300
    assert omega.calls == 5  # only the two never read
    assert [p for p in _paths(runtime)[before:] if not p.startswith("/fournisseur")] == []
    assert [r["key"] for r in second["providers"]["grdf_omega"]["items"]] == numbers

    runtime.clock.advance(seconds=400)  # now every stored result is older than 600 s
    third = await check.run_checks(runtime, check.Options(max_age=600))
    assert third["feeds"]["grtgaz.indicators"]["source"] == "fetched"
    assert omega.calls == 8  # the first three again (read 700 s ago); the two others 400 s ago

    runtime.store.watch_remove("grdf_omega", numbers[4])
    runtime.clock.advance(seconds=60)  # every request read within 600 s: GRDF OMEGA from the store too
    fourth = await check.run_checks(runtime, check.Options(max_age=600))
    assert {f["source"] for f in fourth["feeds"].values()} == {"store"} and omega.calls == 8
    assert fourth["feeds"]["grdf_omega.requests"]["reason"] == "every item read within --max-age 600 s"
    assert [r["key"] for r in fourth["providers"]["grdf_omega"]["items"]] == numbers[:4]  # as watched now
    await runtime.aclose()


async def test_adict_rights_are_read_once_a_day_unless_forced(make: Make) -> None:
    """GRDF recommends reading the rights list once a day (« Préconisations d'appels »)."""
    runtime = make(at(8, 0), calm=False)

    def downloads() -> int:
        return sum(1 for p in _paths(runtime) if p.endswith("/droits_acces"))

    first = await check.run_checks(runtime)
    assert first["feeds"]["grdf_adict.rights"]["source"] == "fetched" and downloads() == 1
    for hours in (1, 8):  # a 5-minute probe, all day long: answered from the copy of the day
        runtime.clock.advance(seconds=hours * 3600)
        later = await check.run_checks(runtime)
        feed = later["feeds"]["grdf_adict.rights"]
        assert feed["source"] == "store" and "recommended frequency" in feed["reason"]
        assert later["providers"]["grdf_adict"]["items"] == first["providers"]["grdf_adict"]["items"]
    assert downloads() == 1
    forced = await check.run_checks(runtime, check.Options(force=True))
    assert forced["feeds"]["grdf_adict.rights"]["source"] == "fetched" and downloads() == 2
    runtime.clock.advance(seconds=10 * 3600)  # the next day (Paris)
    tomorrow = await check.run_checks(runtime)
    assert tomorrow["feeds"]["grdf_adict.rights"]["source"] == "fetched" and downloads() == 3
    await runtime.aclose()


def test_red_at_several_sites_is_one_finding_naming_each(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(10, 30))
    simulator = runtime.simulators["grtgaz"]
    simulator.schedule("LI1003", Flex.Q_TO_QPLUS, IndicatorStatus.RED, at(9, 52))
    simulator.schedule("LI1001", Flex.PARTIAL, IndicatorStatus.RED, at(9, 52))
    code, out = run(runtime, capsys, "json")
    report = json.loads(out)
    (red,) = [f for f in report["findings"] if f["provider"] == "GRTgaz"]
    assert red["level"] == "attention" and code == 1
    assert "Cycofos (Provence): RED on Q→Q+" in red["message"] and "DK6" in red["message"]
    states = {s["key"]: s["state"] for s in report["providers"]["grtgaz"]["items"]}
    assert states["LI1003"] == states["LI1001"] == "RED" and list(states.values()).count("RED") == 2
