"""GRDF ADICT wiring: the rights copy as columns (corpus samples, quirks), the findings
(proofs awaited, rights lost since yesterday), the quota by park size and its day counter."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import orjson
import pytest

from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.columns import dump_column
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.store import BINARY, Store
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.feeds import (
    COLUMNS,
    LOST_STATES,
    DeadlineCache,
    RightsTable,
    is_ended,
    quota_of,
    row_of,
    status_changes,
    summarise,
    summary_findings,
)
from pupitre.settings import GrdfAdictSettings
from tests.corpus import samples
from tests.providers.helpers import right

SAMPLES = samples("grdf-adict")
TODAY = dt.date(2026, 11, 18)  # a Wednesday


@pytest.mark.parametrize(
    "name", ["v1_droits_acces.lowatt-fixture-2021.ndjson", "v2_droits_acces.lowatt-fixture.ndjson"]
)
def test_corpus_rights_read_into_columns(name: str) -> None:
    items, _ = rules.parse_ndjson((SAMPLES / name).read_bytes())
    table = RightsTable()
    table.add_raw(items)
    assert len(table) == len(items) > 0
    for i, item in enumerate(items):
        model = m.read(item, m.AccessRight)  # the row says what the model says
        row = table.row(i)
        assert (row["pce"], row["state"], row["role"], row["holder"]) == (
            model.id_pce,
            model.etat_droit_acces or "",
            model.role_tiers or "",
            model.holder,
        )
        assert row["start"] == (model.date_debut_droit_acces.isoformat() if model.date_debut_droit_acces else "")


def test_injection_right_shows_its_injection_perimeter() -> None:
    """A biomethane (injection) right has no consumption perimeter: its data-perimeter
    columns are the injection dates, on the fast path and the model's path alike."""
    item = right(
        3,
        role_tiers="DETENTEUR_CONTRAT_INJECTION",
        perim_donnees_conso_debut=None,
        perim_donnees_conso_fin=None,
        perim_donnees_inj_debut="2024-01-01",
        perim_donnees_inj_fin="2027-01-01",
    )
    zoned = {**item, "date_revocation": "2026-11-17T23:30:00+00:00", "etat_droit_acces": "Révoquée"}
    for candidate in (item, zoned):  # the second takes the model's path
        row = dict(zip(COLUMNS, row_of(candidate), strict=True))
        assert (row["perim_start"], row["perim_end"]) == ("2024-01-01", "2027-01-01")


def test_refused_right_sample_keeps_its_date() -> None:
    import json

    item = json.loads((SAMPLES / "v1_droit_acces_refusee.real-2021-redacted.json").read_text())
    items = item if isinstance(item, list) else item.get("liste_acces", [item]) if isinstance(item, dict) else [item]
    row = dict(zip(COLUMNS, row_of(items[0]), strict=True))
    assert row["state"] == m.REFUSED and row["changed"]


def test_quirks_and_bad_records() -> None:
    row = dict(
        zip(
            COLUMNS,
            row_of(
                right(
                    1,
                    role_tiers="AUTORISE CONTRAT FOURNITURE",
                    etat_droit_acces="Refusee",
                    nom_titulaire=" ",
                    raison_sociale_du_titulaire="SCI X",
                    date_debut_droit_acces=" 2018-07-05 ",
                    date_passage_a_refuse="2026-11-17 02:54:14",
                )
            ),
            strict=True,
        )
    )
    assert (row["role"], row["state"], row["holder"], row["start"], row["changed"]) == (
        "AUTORISE_CONTRAT_FOURNITURE",
        m.REFUSED,
        "SCI X",
        "2018-07-05",
        "2026-11-17",
    )
    with pytest.raises(PayloadError):
        row_of({"id_pce": "GI000001"})  # no id: the model's typed error
    with pytest.raises(PayloadError):
        row_of(right(2, date_debut_droit_acces="not a date"))


@pytest.mark.parametrize("dated", [True, False])
def test_the_summary_counted_on_codes_is_the_rows_own(dated: bool) -> None:
    """:func:`summarise` counts on the coded columns: the same figures as judging each row."""
    rng = random.Random(5)
    days = ["", *((TODAY + dt.timedelta(days=d)).isoformat() for d in range(-12, 12))]
    n = 3000
    values = {
        name: [f"id-{i}" for i in range(n)]
        if name == "id"
        else [rng.choice([*m.STATES, "Inconnu"]) for _ in range(n)]
        if name == "state"
        else [rng.choice([*m.PROOF_STATUSES, ""]) for _ in range(n)]
        if name == "proof"
        else [rng.choice(days) for _ in range(n)]
        if name in ("deadline", "changed", "end")
        else [""] * n
        for name in COLUMNS
    }
    table = RightsTable(values)
    recent = {f"id-{i}" for i in range(0, n, 7)}
    got = summarise(table, TODAY, recent, dated=dated)
    deadlines, since = DeadlineCache(TODAY), (TODAY - dt.timedelta(days=1)).isoformat()
    awaited = [d for p, d in zip(values["proof"], values["deadline"], strict=True) if p == m.PROOF_PENDING]
    judged = [deadlines(d) for d in awaited if d]
    assert got.total == n and got.by_state == dict(Counter(values["state"]))
    assert (got.awaiting, got.overdue, got.due_soon) == (
        len(awaited),
        sum(j[0] for j in judged),
        sum(j[1] for j in judged),
    )
    assert got.next_deadline == min((d for d in awaited if d and not deadlines(d)[0]), default="")
    assert got.lost_recently == [
        i
        for i in range(n)
        if values["state"][i] in LOST_STATES
        and ((dated and values["changed"][i] >= since) or values["id"][i] in recent)
    ]
    assert got.ended == sum(is_ended(s, e, TODAY) for s, e in zip(values["state"], values["end"], strict=True))


def test_dump_and_load_round_trip() -> None:
    table = RightsTable()
    table.add_raw([right(1), right(2, etat_droit_acces="A valider")])
    again = RightsTable.load(table.dump())
    assert again.col == table.col
    with pytest.raises(ValueError):
        RightsTable.load({"columns": ["id"], "data": {}})


def test_summary_proofs_awaited_overdue_and_lost_since_yesterday() -> None:
    table = RightsTable()
    table.add_raw(
        [
            right(1, statut_controle_preuve=m.PROOF_PENDING, date_limite_transmission_preuve="2026-11-17"),  # past
            right(2, statut_controle_preuve=m.PROOF_PENDING, date_limite_transmission_preuve="2026-11-24"),  # 4 wd
            right(3, statut_controle_preuve=m.PROOF_PENDING, date_limite_transmission_preuve="2026-12-18"),
            right(4, statut_controle_preuve=m.PROOF_TO_CHECK, date_limite_transmission_preuve="2026-11-17"),
            right(5, etat_droit_acces="Révoquée", date_revocation="2026-11-17 10:00:00"),  # yesterday
            right(6, etat_droit_acces="Obsolète", date_passage_a_obsolete="2026-11-01 02:00:00"),  # old
            right(7, etat_droit_acces="Refusée"),  # no date, but the history saw it today
        ]
    )
    summary = summarise(table, TODAY, {"id-7"})
    assert (summary.awaiting, summary.overdue, summary.due_soon) == (3, 1, 1)
    assert summary.next_deadline == "2026-11-24"
    assert [table.col["id"][i] for i in summary.lost_recently] == ["id-5", "id-7"]
    findings = summary_findings(summary, table)
    assert [f.level for f in findings] == ["critical", "attention"]
    assert "3 right(s) awaiting proofs, 1 past their deadline, 1 due within 5 working days" in findings[0].message
    assert "GI000005 Révoquée" in findings[1].message
    calm = RightsTable()
    calm.add_raw([right(1)])
    assert [f.level for f in summary_findings(summarise(calm, TODAY), calm)] == ["ok"]


def test_active_rights_past_their_end_date_are_counted_as_ended() -> None:
    """Issue 16: a right GRDF still calls « Active » whose ``date_fin_droit_acces`` is past."""
    table = RightsTable()
    table.add_raw(
        [
            right(1, date_fin_droit_acces="2026-11-17"),  # ended yesterday
            right(2, date_fin_droit_acces="2026-11-18"),  # its last day: still active
            right(3),  # no end date
            right(4, etat_droit_acces="Révoquée", date_fin_droit_acces="2026-01-01"),  # not Active: its own state
        ]
    )
    assert [is_ended(s, e, TODAY) for s, e in zip(table.col["state"], table.col["end"], strict=True)] == [
        True,
        False,
        False,
        False,
    ]
    summary = summarise(table, TODAY)
    assert summary.ended == 1
    (finding,) = summary_findings(summary, table)
    assert finding.message == "4 access right(s), 2 active, 1 ended (past their end date), no proof awaited"


def test_state_changes_become_history_rows() -> None:
    old, new = RightsTable(), RightsTable()
    old.add_raw([right(1), right(2), right(3)])
    new.add_raw([right(1, etat_droit_acces="Révoquée"), right(2, etat_droit_acces="A revérifier"), right(3), right(4)])
    changes = status_changes(old, new)
    assert [(c.key, c.old, c.new, c.severity) for c in changes[:2]] == [
        ("id-1", "Active", "Révoquée", "attention"),
        ("id-2", "Active", "A revérifier", "info"),
    ]
    assert changes[-1].key == "*" and changes[-1].message  # one notification, not one per right
    assert status_changes(None, new) == []


@pytest.mark.parametrize(
    "park,expected", [(300, (1.0, 6000)), (5000, (1.0, 6000)), (20_000, (1.0, 60_000)), (120_000, (3.0, 240_000))]
)
def test_quota_by_park_size(park: int, expected: tuple[float, int]) -> None:
    assert quota_of(GrdfAdictSettings(park_size=park)) == expected
    assert quota_of(GrdfAdictSettings(park_size=park, per_second=2, per_day=10)) == (2, 10)


async def test_day_counter_survives_a_restart(tmp_path: Path) -> None:
    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.context import ProviderContext
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.providers.grdf_adict.feeds import AdictSession

    def session(store: Store) -> AdictSession:
        ctx = ProviderContext(
            ManualClock(dt.datetime(2026, 11, 18, 9, tzinfo=PARIS)),
            store,
            SecretStore(credentials_file=tmp_path / "c.toml", env={}),
            tmp_path,
            FaultPlan(),
            http_factory=lambda: None,
        )
        return AdictSession(GrdfAdictSettings(park_size=300), ctx, sandboxed=True)

    store = Store(tmp_path / "s.sqlite3")
    first = session(store).quota
    await first.acquire()
    await first.acquire()
    store.close()
    again = session(Store(tmp_path / "s.sqlite3")).quota
    assert again.used_today() == 2 and again.remaining_today() == 5998


def test_copy_keeps_odd_text_and_empty_tables(tmp_path: Path) -> None:
    """Through the store and back: odd text kept (a control character made visible, the
    rest as sent), empty tables, damaged copies refused, and the older stored form (each
    column joined on \x1f) still read; a copy stored raw is cleaned when read."""
    store = Store(tmp_path / "s.sqlite3")
    table = RightsTable()
    table.add_raw([right(1, nom_titulaire='A\x1fB "é"'), right(2, nom_titulaire="")])
    store.save_snapshot("rights", table.dump(), dt.datetime(2026, 11, 18, tzinfo=PARIS))
    snapshot = store.load_snapshot("rights")
    assert snapshot is not None
    again = RightsTable.load(snapshot.payload)
    assert again.col == table.col and again.col["holder"][0] == 'A␟B "é"'
    lists = {name: list(values) for name, values in table.col.items()}
    raw = {"columns": list(COLUMNS), "rows": 2, "data": lists}  # lists, written by an older pupitre
    raw["data"] = {**raw["data"], "holder": ['A\x1b]0;x\x07B "é"', ""]}
    assert RightsTable.load(raw).col["holder"] == ['A␛]0;x␇B "é"', ""]
    assert len(RightsTable.load(RightsTable().dump())) == 0
    # the columnar copy of schema 10 (arrays as base64 in the JSON, no binary parts) still reads
    json_form = {k: v for k, v in table.dump().items() if k != BINARY}
    json_form["data"] = {name: dump_column(column) for name, column in table.col.items()}
    assert RightsTable.load(orjson.loads(orjson.dumps(json_form))).col == table.col
    with pytest.raises(ValueError):
        RightsTable.load({**table.dump(), "rows": 3})
    older = {
        "columns": list(COLUMNS),
        "rows": 2,
        "data": {name: "\x1f".join(values) for name, values in table.col.items() if name != "holder"},
    }
    older["data"]["holder"] = list(table.col["holder"])  # a column holding the separator stayed a list
    assert RightsTable.load(older).col == table.col
    store.close()


def test_the_direct_path_reads_as_right_row_does(tmp_path: Path) -> None:
    """row_of's fast path and the provider's RightRow agree on every simulated and sample right."""
    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.grdf_adict.feeds import _direct_row, _iso
    from pupitre.providers.grdf_adict.sandbox import AdictSimulator

    sim = AdictSimulator(ManualClock(dt.datetime(2026, 11, 18, 9, tzinfo=PARIS)), FaultPlan(), park_size=600)
    items = list(sim.rights.values())
    for name in ("v1_droits_acces.lowatt-fixture-2021.ndjson", "v2_droits_acces.lowatt-fixture.ndjson"):
        items += rules.parse_ndjson((SAMPLES / name).read_bytes())[0]
    items.append(right(9, date_revocation="2026-11-17T23:30:00+00:00", etat_droit_acces="Révoquée"))
    for item in items:
        r = m.RightRow.from_api(item)
        expected = (
            r.id_droit_acces,
            r.id_pce,
            r.role_tiers or "",
            r.holder,
            r.etat_droit_acces or "",
            r.statut_controle_preuve or "",
            _iso(r.date_debut_droit_acces),
            _iso(r.date_fin_droit_acces),
            _iso(r.perim_donnees_conso_debut) or _iso(m.parse_date(item.get("perim_donnees_inj_debut"))),
            _iso(r.perim_donnees_conso_fin) or _iso(m.parse_date(item.get("perim_donnees_inj_fin"))),
            _iso(r.date_limite_transmission_preuve),
            r.parcours or "",
            _iso(r.state_changed_at),
        )
        assert row_of(item)[:13] == expected
        assert (row_of(item)[15] == "1") == r.is_person
    with pytest.raises(ValueError):  # a zoned date-time goes the model's way (Paris date)
        _direct_row(items[-1])
    assert row_of(items[-1])[12] == "2026-11-18"


def test_a_batch_reads_as_row_of_does(tmp_path: Path) -> None:
    """add_raw's column-by-column path gives row_of's rows for every simulated and sample
    right, whether the batch takes it (every v2 field present) or falls back (v1 names,
    a zoned date-time); a right that cannot be read keeps the ones before it."""
    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.grdf_adict.feeds import _Columns
    from pupitre.providers.grdf_adict.sandbox import AdictSimulator

    sim = AdictSimulator(ManualClock(dt.datetime(2026, 11, 18, 9, tzinfo=PARIS)), FaultPlan(), park_size=600)
    simulated = list(sim.rights.values())
    assert {row_of(item)[4] for item in simulated} >= set(m.STATES)  # every state goes the fast way
    _Columns().of(simulated)  # does not raise: the fast path is the one tested
    v2 = rules.parse_ndjson((SAMPLES / "v2_droits_acces.lowatt-fixture.ndjson").read_bytes())[0]
    v1 = rules.parse_ndjson((SAMPLES / "v1_droits_acces.lowatt-fixture-2021.ndjson").read_bytes())[0]
    zoned = right(9, date_revocation="2026-11-17T23:30:00+00:00", etat_droit_acces="Révoquée")
    # holders and data perimeters read as pairs of fields: a name or a company, blanks,
    # a control character, an injection perimeter; a name that is a number goes one by one
    odd = [
        dict(simulated[0], nom_titulaire=" Zoé\x07 ", raison_sociale_du_titulaire=None),
        dict(simulated[1], nom_titulaire="", raison_sociale_du_titulaire=" ACME "),
        dict(simulated[2], nom_titulaire=None, raison_sociale_du_titulaire=None),
        dict(simulated[5], nom_titulaire="DUPONT", raison_sociale_du_titulaire="SCI DUPONT"),
        dict(simulated[3], perim_donnees_conso_debut=None, perim_donnees_inj_debut="2024-01-02 "),
    ]
    _Columns().of(odd)
    for batch in (simulated, v2, v1, simulated[:5] + [zoned] + v2, odd, odd + [dict(simulated[4], nom_titulaire=7)]):
        table = RightsTable()
        assert table.add_raw(batch) == len(batch)
        assert [tuple(table.row(i).values()) for i in range(len(table))] == [row_of(item) for item in batch]
    table = RightsTable()
    with pytest.raises(PayloadError):
        table.add_raw(simulated[:3] + [right(4, date_debut_droit_acces="not a date")] + simulated[3:6])
    assert len(table) == 3 and all(len(values) == 3 for values in table.col.values())


def test_the_data_perimeter_flags_are_kept() -> None:
    """perim_donnees_publiees / _informatives: "1" Vrai, "0" Faux, "" not said; an unreadable
    flag is read as not said (the right itself stays). Copies stored without them still load."""
    table = RightsTable()
    table.add_raw(
        [
            right(1, perim_donnees_publiees="Vrai", perim_donnees_informatives="Faux"),
            right(2, perim_donnees_publiees=None, perim_donnees_informatives="Faux"),
        ]
    )
    table.add_raw([right(3, perim_donnees_publiees="peut-être")])  # one by one: the lenient path
    assert table.col["published"] == ["1", "", ""] and table.col["informative"] == ["0", "0", ""]
    older = {"columns": list(COLUMNS[:-2]), "rows": 3, "data": {name: list(table.col[name]) for name in COLUMNS[:-2]}}
    again = RightsTable.load(older)
    assert again.col["published"] == ["", "", ""] and again.col["id"] == table.col["id"]


def test_the_ended_count_takes_the_paris_day_whatever_the_offset_of_now(tmp_path: Path) -> None:
    """Issue 16 (time compared as Paris days): at 00:30 in Paris on 18/11, a right whose last
    day was 17/11 has ended, even when ``now`` reaches the findings in UTC (23:30 on 17/11)."""
    from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings

    table = RightsTable()
    table.add_raw([right(1, date_fin_droit_acces="2026-11-17"), right(2, date_fin_droit_acces="2026-11-18")])
    store = Store(tmp_path / "s.sqlite3")
    runtime = build_runtime(Settings(), sandbox=True, store=store)
    findings = runtime.connections["grdf_adict"].findings
    paris_now = dt.datetime(2026, 11, 18, 0, 30, tzinfo=PARIS)
    for now in (paris_now, paris_now.astimezone(dt.timezone.utc)):
        (finding,) = findings({RIGHTS_FEED: table}, now)
        assert "1 ended (past their end date)" in finding.message, now
    store.close()


def test_the_rights_stream_reads_typed_records_as_dicts_would() -> None:
    """The rights stream's decoder reads plain blocks as typed records (only the fields kept)
    and any other block as dicts: the same table either way, the trailer read, and an
    in-stream ``statut_restitution`` left a dict for the client's check."""
    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.faults import FaultPlan
    from pupitre.providers.grdf_adict.feeds import right_record
    from pupitre.providers.grdf_adict.sandbox import AdictSimulator

    sim = AdictSimulator(ManualClock(dt.datetime(2026, 11, 18, 9, tzinfo=PARIS)), FaultPlan(), park_size=400)
    lines = [line if isinstance(line, str) else orjson.dumps(line).decode() for line in sim._park_lines()]
    odd = orjson.loads(lines[5]) | {"nom_titulaire": 7}  # not text: its block goes as dicts
    failed = orjson.loads(lines[6]) | {"statut_restitution": {"code": "2000000", "message": "Veuillez retenter"}}
    trailer = '{"code_statut_traitement": "0000000000", "message_retour_traitement": "OK"}'
    body = "\n".join([*lines[:300], orjson.dumps(odd).decode(), *lines[300:], trailer]).encode() + b"\n"
    for size in (700, 4096, 65536):
        tables, kinds = [], []
        for record in (None, right_record()):
            decoder = rules.NdjsonDecoder(record)
            table, seen = RightsTable(), set()
            for i in range(0, len(body), size):
                batch = decoder.feed(body[i : i + size])
                seen |= {type(item) for item in batch}
                table.add_raw(batch)
            table.add_raw(decoder.close())
            assert (
                decoder.count == 401 and decoder.status is not None and decoder.status.message_retour_traitement == "OK"
            )
            tables.append(table)
            kinds.append(seen)
        assert kinds[0] == {dict} and kinds[1] == {dict, right_record()}, size
        assert tables[0].col == tables[1].col and len(tables[1]) == 401
        assert tables[1].row(300)["holder"] == "7"
    decoder = rules.NdjsonDecoder(right_record())
    items = decoder.feed(("\n".join([lines[0], orjson.dumps(failed).decode(), lines[1]]) + "\n").encode())
    assert all(type(item) is dict for item in items) and "statut_restitution" in items[1]
    table = RightsTable()  # a bad date in a typed block: the rights before it stay, the error is typed
    decoder = rules.NdjsonDecoder(right_record())
    bad = orjson.loads(lines[2]) | {"date_debut_droit_acces": "not a date"}
    records = decoder.feed(("\n".join([lines[0], lines[1], orjson.dumps(bad).decode(), lines[3]]) + "\n").encode())
    assert {type(item) for item in records} == {right_record()}
    with pytest.raises(PayloadError):
        table.add_raw(records)
    assert len(table) == 2
