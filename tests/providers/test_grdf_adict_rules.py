"""GRDF ADICT: corpus samples, NDJSON stream parser, local rules."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from pupitre.providers.core.api import ApiStruct
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.models import (
    AccessRight,
    ContractualData,
    DeclareBody,
    Reading,
    TechnicalData,
    read,
)
from tests.corpus import samples

SAMPLES = samples("grdf-adict")


def _model(name: str) -> type[ApiStruct]:
    if "droit" in name and "request-body" in name:
        return DeclareBody
    if "droit" in name:
        return AccessRight
    if "contractuelles" in name:
        return ContractualData
    if "techniques" in name:
        return TechnicalData
    return Reading


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*")) if SAMPLES.is_dir() else [], ids=lambda p: p.name)
def test_every_corpus_sample_parses(path: Path) -> None:
    if path.suffix == ".csv":  # GRDF's sandbox test cases: see test_bas_sandbox_cases_agree_with_local_rules
        import csv

        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert rows and {"endpoint", "pce", "params", "scenario"} <= set(rows[0])
        return
    assert path.suffix in (".json", ".ndjson"), f"no parser for {path.name}"
    items, status = rules.parse_ndjson(path.read_bytes())
    assert items
    for item in items:
        read(item, _model(path.name))
    if path.suffix == ".ndjson" and "droits" in path.name:
        assert status is not None and status.ok


def test_access_right_quirks() -> None:
    v2, _ = rules.parse_ndjson((SAMPLES / "v2_droits_acces.lowatt-fixture.ndjson").read_bytes())
    right = read(v2[0], AccessRight)
    assert right.perim_donnees_techniques is True  # the "perim_donnees_techniques:" typo
    assert right.date_creation and right.date_creation.tzinfo is not None
    assert right.holder == "John Doe Inc."
    v1 = read(json.loads((SAMPLES / "v1_droit_acces_refusee.real-2021-redacted.json").read_text()), AccessRight)
    assert v1.etat_droit_acces == "Refusée" and v1.perim_donnees_contractuelles is True
    doc = read(
        {
            "id_droit_acces": "x",
            "id_pce": "09739073753501",
            "role_tiers": "AUTORISE CONTRAT FOURNITURE",
            "date_revocation": "",
            "perim_donnees_conso_debut": " 2018-07-05 ",
        },
        AccessRight,
    )
    assert doc.role_tiers == "AUTORISE_CONTRAT_FOURNITURE" and doc.date_revocation is None
    assert doc.perim_donnees_conso_debut == dt.date(2018, 7, 5)
    reading = read(
        json.loads((SAMPLES / "v1_donnees_consos_informatives.real-2021-redacted.json").read_text()), Reading
    )
    assert reading.releve_fin.index_brut_fin.horodate_index.hour == 6  # type: ignore[union-attr]  # the sample has them
    assert reading.energy_kwh == 48


def test_declare_body_round_trips_the_fixture() -> None:
    raw = json.loads((SAMPLES / "v2_put_droit_acces.request-body.lowatt-fixture.json").read_text())
    assert read(raw, DeclareBody).to_api() == raw


SMALL = (
    '{"id_droit_acces": "a", "id_pce": "GI000001", "nom_titulaire": "Élodie Prévôt"}\n'
    '{"id_droit_acces": "b", "id_pce": "GI000002", "source_revocation": "révoqué €"}\n'
    '{"code_statut_traitement": "0000000000", '
    '"message_retour_traitement": "L\'opération s\'est déroulée avec succès."}\n'
).encode()


def test_ndjson_split_at_every_byte() -> None:
    for cut in range(len(SMALL) + 1):
        decoder = rules.NdjsonDecoder()
        items = decoder.feed(SMALL[:cut]) + decoder.feed(SMALL[cut:]) + decoder.close()
        assert [i["id_droit_acces"] for i in items] == ["a", "b"], cut
        assert items[0]["nom_titulaire"] == "Élodie Prévôt"
        assert decoder.status is not None and decoder.status.ok


def test_ndjson_byte_by_byte_yields_early() -> None:
    decoder = rules.NdjsonDecoder()
    seen = []
    for i in range(len(SMALL)):
        seen.append(len(decoder.feed(SMALL[i : i + 1])))
    first = SMALL.index(b"}\n") + 2
    assert sum(seen[: first - 1]) == 0
    assert sum(seen[:first]) == 1  # the first object is out as soon as its line ends


def test_ndjson_pretty_printed_wrapper_array_and_one_object() -> None:
    pretty = json.dumps({"id_droit_acces": "a"}, indent=2) + json.dumps({"id_droit_acces": "b"}, indent=4)
    assert len(rules.parse_ndjson(pretty.encode())[0]) == 2
    wrapped = json.dumps(
        {"liste_acces": [{"id_droit_acces": "a"}, {"id_droit_acces": "b"}], "code_statut_traitement": "0000000000"}
    )
    items, status = rules.parse_ndjson(wrapped.encode())
    assert len(items) == 2 and status is not None
    assert len(rules.parse_ndjson(b'[{"a": 1}, {"a": 2}]')[0]) == 2
    one = (SAMPLES / "v2_donnees_techniques.lowatt-fixture.json").read_bytes()
    assert len(rules.parse_ndjson(one)[0]) == 1


def test_truncated_stream_says_how_many_arrived() -> None:
    decoder = rules.NdjsonDecoder()
    cut = SMALL[: SMALL.index(b"GI000002")]
    assert len(decoder.feed(cut)) == 1
    with pytest.raises(PayloadError, match="after 1 item"):
        decoder.close()


def test_invalid_utf8_and_a_character_cut_at_the_end_are_told_apart() -> None:
    decoder = rules.NdjsonDecoder()
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        decoder.feed(b'{"id_droit_acces": "a"}\n{"nom_titulaire": "\xff\xfe"}\n')
    decoder = rules.NdjsonDecoder()
    assert len(decoder.feed('{"id_droit_acces": "a"}\n{"nom_titulaire": "É'.encode()[:-1])) == 1
    with pytest.raises(PayloadError, match="inside a character after 1 item"):
        decoder.close()


def test_pretty_printed_objects_split_across_chunks_then_lines() -> None:
    """A pretty-printed object arriving over several chunks, then ordinary lines: each
    object comes out once, in order, as soon as it is whole."""
    data = (
        json.dumps({"id_droit_acces": "a", "x": [1, 2]}, indent=2)
        + "\n"
        + '{"id_droit_acces": "b"}\n{"id_droit_acces": "c"}\n'
    ).encode()
    for size in (1, 5, 17, 64):
        decoder = rules.NdjsonDecoder()
        got = []
        for i in range(0, len(data), size):
            got += decoder.feed(data[i : i + size])
        got += decoder.close()
        assert [item["id_droit_acces"] for item in got] == ["a", "b", "c"], size


async def test_stream_error_trailer_and_restitution() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield (
            b'{"id_droit_acces": "a"}\n{"code_statut_traitement": "1000000002", "message_retour_traitement": "Refus"}\n'
        )

    got = []
    with pytest.raises(rules.FunctionalError, match="Refus"):
        async for item in rules.NdjsonStream(chunks()):
            got.append(item)
    assert len(got) == 1
    with pytest.raises(rules.FunctionalError, match="format"):
        rules.check_restitution({"statut_restitution": {"code": "1000005", "message": "mauvais format"}})
    rules.check_restitution({"statut_restitution": None})


def test_pce_format() -> None:
    assert rules.validate_pce("GI123456") == "GI123456"
    assert rules.validate_pce("1234 5678 9123 45") == "12345678912345"
    for bad in ("GI12345", "0999999992828", "AB123456", ""):
        with pytest.raises(rules.RuleError):
            rules.validate_pce(bad)


def good_declaration() -> dict[str, Any]:
    return {
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "nom_titulaire": "Dupont",
        "code_postal": "77900",
        "courriel_titulaire": "r.dupont@example.com",
        "numero_telephone_mobile_titulaire": "06 12 45 52 11",
        "date_debut_droit_acces": "2026-01-01",
        "date_fin_droit_acces": "2027-01-01",
        "perim_donnees_conso_debut": "2024-01-01",
        "perim_donnees_conso_fin": "2026-01-01",
        "perim_donnees_publiees": True,
        "perim_donnees_techniques": False,
    }


def test_declaration_rules() -> None:
    today = dt.date(2026, 3, 10)
    body = rules.build_declaration(good_declaration(), today)
    assert body.to_api()["perim_donnees_publiees"] == "Vrai"
    assert body.to_api()["numero_telephone_mobile_titulaire"] == "0612455211"
    bad = good_declaration() | {
        "nom_titulaire": "",
        "code_postal": "7790",
        "courriel_titulaire": "x",
        "numero_telephone_mobile_titulaire": "12",
        "role_tiers": "X",
        "date_fin_droit_acces": "2025-01-01",
    }
    problems = rules.declaration_problems(bad, today)
    assert len(problems) >= 6 and any("holder" in p for p in problems)


def test_proof_rules() -> None:
    ok = [("a.pdf", 1000)]
    assert rules.proof_problems(ok, "Preuve en attente") == []
    assert rules.proof_problems(ok, "Preuve à vérifier") == []
    assert any("does not expect" in p for p in rules.proof_problems(ok, "Preuve Vérifiée OK"))
    assert any("At most 3" in p for p in rules.proof_problems([("a.pdf", 1)] * 4, "Preuve en attente"))
    assert any("4 MB" in p for p in rules.proof_problems([("a.pdf", 4 * 1024 * 1024 + 1)], "Preuve en attente"))
    assert any("type" in p for p in rules.proof_problems([("a.exe", 1)], "Preuve en attente"))


def test_periods() -> None:
    assert rules.parse_periode("2023") == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert rules.parse_periode("2023-02") == (dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    assert rules.parse_periode("2023-W01") == (dt.date(2023, 1, 2), dt.date(2023, 1, 8))
    assert rules.parse_periode("2023-032") == (dt.date(2023, 2, 1),) * 2
    for bad in ("2023-09-01x", "2023-13", "2023-400", "23"):
        with pytest.raises(rules.RuleError):
            rules.parse_periode(bad)
    today = dt.date(2023, 8, 17)
    assert rules.period_problems(dt.date(2018, 1, 1), dt.date(2021, 10, 15), today, informative=False)
    assert not rules.period_problems(dt.date(2019, 1, 1), dt.date(2021, 10, 15), today, informative=False)
    assert rules.period_problems(dt.date(2020, 2, 26), dt.date(2023, 2, 28), today, informative=True)
    assert rules.period_problems(dt.date(2023, 2, 26), dt.date(2050, 2, 28), today, informative=True)
    assert rules.period_params(periode="2023-07", today=today, informative=True) == {"periode": "2023-07"}


def test_quota_table_and_deadlines() -> None:
    assert rules.quota_for_park(100) == (1.0, 6000)
    assert rules.quota_for_park(20_000) == (1.0, 60000)
    assert rules.quota_for_park(100_000) == (3.0, 240000)
    assert rules.bulk_problem(10, 5) and rules.bulk_problem(5, 5) is None
    friday = dt.date(2026, 3, 13)
    assert rules.working_days_until(friday, dt.date(2026, 3, 20)) == 5
    assert rules.due_soon(dt.date(2026, 3, 20), friday)
    assert not rules.due_soon(dt.date(2026, 3, 23), friday)
    assert rules.working_days_until(dt.date(2026, 4, 30), dt.date(2026, 5, 4)) == 1  # 1 May holiday
    assert rules.overdue(dt.date(2026, 3, 12), friday)


# -- the document's own examples and quirks ---------------------------------------------------------

DOC_CONTRACTUAL = """{
  "pce": {"id_pce": "09999999900617"},
  "donnees_contractuelles": {
    "date_mes": "2021-08-02", "tarif_acheminement": "T1", "date_publication": "2022-06-14",
    "consommation_journaliere_plafond": null,
    "car": {"car_actuelle": "2667", "car_future": "2008"}
  },
  "cja": {"cja": null, "cja_journaliere": null, "cja_mensuelle": null},
  "profil": {"date_debut_profil_type_actuel": "2023-04-14", "date_fin_profil_type_actuel": "9999-12-31",
             "profil_type_actuel": "P011", "profil_type_futur": null},
  "modulation": {"modulation_n_1": null, "modulation_n_2": null, "modulation_n_3": null, "assiette": null},
  "statut_restitution": null
}"""

DOC_TECHNICAL = {
    "pce": {"id_pce": "09999999975102"},
    "donnees_techniques": {
        "situation_compteur": {
            "numero_rue": "6",
            "nom_rue": "RUE CONDORCET",
            "complement_adresse": "IMMEUBLE | IMMEUBLE",
            "code_postal": "75009",
            "commune": "PARIS",
        },
        "caracteristiques_compteur": {
            "frequence": "6M",
            "client_sensible_mig": "Non",
            "code_calibre": "G6",
            "code_debit": "10",
            "code_debit_normalise": None,
            "pression_livraison": "0.021",
            "matricule_compteur": "117",
        },
        "pitd": {"identifiant_pitd": "GD1057", "libelle_pitd": "PARIS"},
        "regime_propriete": {
            "regime_propriete_compteur": "Faisant partie intégrante du Réseau de Distribution",
            "regime_propriete_convertisseur": None,
            "regime_propriete_poste": None,
            "regime_propriete_enregistreur": None,
        },
    },
    "statut_restitution": None,
}


def test_document_contractual_example_with_stray_blocks() -> None:
    (item,), _ = rules.parse_ndjson(DOC_CONTRACTUAL.encode())
    data = read(item, ContractualData).donnees_contractuelles
    assert data is not None and data.car == 2667 and data.car_future == 2008
    assert data.profil is not None and data.profil.profil_type_actuel == "P011"
    assert data.profil.date_fin_profil_type_actuel == dt.date(9999, 12, 31)
    assert data.date_publication == dt.date(2022, 6, 14) and data.modulation is not None
    fixture = read(json.loads((SAMPLES / "v2_donnees_contractuelles.lowatt-fixture.json").read_text()), ContractualData)
    assert fixture.donnees_contractuelles.car == 9426 and fixture.donnees_contractuelles.cja == 0  # type: ignore[union-attr]  # the fixture has them


def test_document_technical_example() -> None:
    data = read(DOC_TECHNICAL, TechnicalData)
    assert data.frequency == "6M"
    assert data.donnees_techniques.caracteristiques_compteur.code_calibre == "G6"  # type: ignore[union-attr]  # the document's example has them
    assert data.donnees_techniques.regime_propriete.regime_propriete_compteur.startswith("Faisant")  # type: ignore[union-attr]  # the document's example has them


def test_document_declare_answer_and_v1_v2_names() -> None:
    from pupitre.providers.grdf_adict.models import DeclareResult

    answer = read(
        {
            "code_statut_traitement": "0000000002",
            "message_retour_traitement": "La demande d'accès est en attente de la validation du titulaire du PCE.",
            "id_pce": "GI999001",
            "id_droit_acces": "9388f0df-14aa-02a9-e053-2b40ec0a76fd",
            "etat_droit_acces": "A valider",
            "date_creation_droit_acces": "2019-07-15 17:05:55",
            "perim_donnees_conso_debut": " 2018-07-05 ",
            "nom_titulaire": "",
            "raison_sociale_du_titulaire": "BabaTech",
            "perim_donnees_publiees": "Vrai",
            "parcours": "TIERS_DIRECT",
        },
        DeclareResult,
    )
    assert answer.date_creation == dt.datetime(2019, 7, 15, 17, 5, 55, tzinfo=answer.date_creation.tzinfo)  # type: ignore[union-attr]  # the answer has its date
    assert answer.date_creation.utcoffset() == dt.timedelta(hours=2)  # Paris summer time
    assert answer.holder == "BabaTech" and not answer.is_person and answer.perim_donnees_publiees is True
    v1, _ = rules.parse_ndjson((SAMPLES / "v1_droits_acces.lowatt-fixture-2021.ndjson").read_bytes())
    right = read(v1[0], AccessRight)
    assert right.perim_historique_de_donnees is True and right.perim_flux_de_donnees is True
    assert right.perim_donnees_techniques is True and right.perim_donnees_contractuelles is True
    for word, value in (("Vrai", True), ("Faux", False), ("vrai", True), ("", None), (None, None)):
        assert (
            read(
                {"id_droit_acces": "x", "id_pce": "GI000001", "perim_donnees_publiees": word}, AccessRight
            ).perim_donnees_publiees
            is value
        )
    with pytest.raises(PayloadError, match="at perim_donnees_publiees: not a Vrai/Faux boolean"):
        read({"id_droit_acces": "x", "id_pce": "GI000001", "perim_donnees_publiees": "Peut-être"}, AccessRight)


@pytest.mark.parametrize(
    "status,error",
    [
        (None, None),
        ("null", None),
        ({}, None),
        ({"code": None, "message": None}, None),
        ({"code": "0000000000", "message": "OK"}, None),
        (
            {"code": "1000006", "message": "Vous n'êtes pas autorisé à consulter les données de ce PCE."},
            rules.FunctionalError,
        ),
        ({"code": 2000000, "message": "Le serveur a rencontré une erreur"}, rules.ServerError),
        ("Le client titulaire a révoqué son consentement", rules.FunctionalError),
    ],
)
def test_statut_restitution_forms(status: object, error: type[Exception] | None) -> None:
    record = {"pce": {"id_pce": "GI000001"}, "statut_restitution": status}
    if error is None:
        rules.check_restitution(record)
        read(record, Reading)
    else:
        with pytest.raises(error) as caught:
            rules.check_restitution(record)
        text = status if isinstance(status, str) else status["message"]
        assert text in str(caught.value)


def test_bas_sandbox_cases_agree_with_local_rules() -> None:
    """GRDF's sandbox test cases (corpus CSV): the malformed PCE and ``periode`` are refused
    locally; the '> 5 years' / '> 3 years' / 'end after today' cases too (on their own date)."""
    import csv

    rows = list(csv.DictReader((SAMPLES / "bas-sandbox-test-cases.csv").open(encoding="utf-8")))
    assert len(rows) > 30
    for row in rows:
        for pce in filter(None, row["pce"].split(";")):
            if "Format id_pce incorrect" in row["scenario"]:
                with pytest.raises(rules.RuleError):
                    rules.validate_pce(pce)
            else:
                rules.validate_pce(pce)
        params = (
            dict(p.split("=", 1) for p in row["params"].split("&") if "=" in p)
            if row["endpoint"].startswith("GET")
            else {}
        )
        if "periode" in params:
            if "periode incorrect" in row["scenario"]:
                with pytest.raises(rules.RuleError):
                    rules.parse_periode(params["periode"])
            else:
                rules.parse_periode(params["periode"])
        if "date_debut" in params:
            start, end = dt.date.fromisoformat(params["date_debut"]), dt.date.fromisoformat(params["date_fin"])
            informative = "informatives" in row["endpoint"]
            problems = rules.period_problems(start, end, dt.date(2023, 9, 15), informative=informative)
            expect_refusal = any(k in row["scenario"] for k in ("> 5 ans", "> 3 ans", "Date de fin > date du jour"))
            if expect_refusal:
                assert problems, row["scenario"]
            elif row["case"] == "passant":
                assert not problems, (row["scenario"], problems)


def test_quota_limits_and_bulk_precheck() -> None:
    assert rules.quota_for_park(0) == (1.0, 6000) and rules.quota_for_park(5000) == (1.0, 6000)
    assert rules.quota_for_park(5001) == (1.0, 60000) and rules.quota_for_park(50_001) == (3.0, 240000)
    assert rules.quota_limits(300) == (1.0, 6000)
    assert rules.quota_limits(300, per_day=9000) == (1.0, 9000)
    assert rules.quota_limits(300, table=((None, 2.0, 100),)) == (2.0, 100)
    with pytest.raises(ValueError):
        rules.quota_for_park(-1)
    ok = rules.bulk_fits_today(3600, remaining_today=5000, per_second=1.0)
    assert ok.fits and "1 h 00 min" in ok.message and "1400 will remain" in ok.message
    no = rules.bulk_fits_today(3600, remaining_today=4000, per_second=1.0, reserve=500)
    assert not no.fits and "3500 remain" in no.message and "midnight" in no.message
    assert rules.bulk_fits_today(10**6, remaining_today=None).fits


def test_search_body_and_revocation_rules() -> None:
    body = rules.search_body(
        {
            "etat_droit_acces": ["A revérifier", "Active"],
            "id_pce": "GI 123456",
            "role_tiers": [],
            "statut_controle_preuve": ["Preuve en attente"],
        }
    )
    assert body == {
        "etat_droit_acces": ["A revérifier", "A révérifier", "Active"],
        "id_pce": ["GI123456"],
        "statut_controle_preuve": ["Preuve en attente"],
    }
    with pytest.raises(rules.RuleError):
        rules.search_body({"colour": ["red"]})
    assert rules.revocation_problem("Active", "AUTORISE_CONTRAT_FOURNITURE") is None
    assert rules.revocation_problem("A valider", "AUTORISE_CONTRAT_INJECTION") is None
    assert "Révoquée" in rules.revocation_problem("Révoquée", "AUTORISE_CONTRAT_FOURNITURE")  # type: ignore[operator]  # a problem is expected: None fails the test
    assert "AUTORISE" in rules.revocation_problem("Active", "DETENTEUR_CONTRAT_FOURNITURE")  # type: ignore[operator]  # a problem is expected: None fails the test


def test_declaration_dates_follow_grdf_refusals() -> None:
    today = dt.date(2026, 3, 10)
    problems = rules.declaration_field_problems(
        good_declaration()
        | {
            "date_debut_droit_acces": "2026-04-01",
            "perim_donnees_conso_debut": "2026-05-01",
            "perim_donnees_conso_fin": "2028-01-01",
        },
        today,
    )
    assert "after today" in problems["date_debut_droit_acces"][0]
    assert "cannot start after today" in problems["perim_donnees_conso_debut"][0]
    assert "after the right ends" in problems["perim_donnees_conso_fin"][0]
    one_end = rules.declaration_field_problems(good_declaration() | {"perim_donnees_inj_debut": "2025-01-01"}, today)
    assert "both ends" in one_end["perim_donnees_inj_fin"][0]


def test_right_row_reads_every_sample_like_the_model() -> None:
    from pupitre.providers.grdf_adict.models import RightRow

    raws = [json.loads((SAMPLES / "v1_droit_acces_refusee.real-2021-redacted.json").read_text())]
    for name in ("v1_droits_acces.lowatt-fixture-2021.ndjson", "v2_droits_acces.lowatt-fixture.ndjson"):
        raws += rules.parse_ndjson((SAMPLES / name).read_bytes())[0]
    raws.append(
        {
            "id_droit_acces": "x",
            "id_pce": "09739073753501",
            "role_tiers": "AUTORISE CONTRAT FOURNITURE",
            "nom_titulaire": "SARL LA MENAGERE",
            "raison_sociale_du_titulaire": "",
            "etat_droit_acces": "Obsolète",
            "date_passage_a_obsolete": "2019-12-09 15:46:30",
            "date_revocation": "",
        }
    )
    for raw in raws:
        row, right = RightRow.from_api(raw), read(raw, AccessRight)
        assert row == RightRow.of(right)
    refused = RightRow.from_api(raws[0])
    assert refused.etat_droit_acces == "Refusée" and refused.state_changed_at == dt.datetime(
        2021, 7, 9, 2, 54, 14, tzinfo=refused.state_changed_at.tzinfo
    )
    assert RightRow.from_api(raws[-1]).role_tiers == "AUTORISE_CONTRAT_FOURNITURE"
    with pytest.raises(ValueError):
        RightRow.from_api({"id_pce": "GI000001"})
    with pytest.raises(ValueError):
        RightRow.from_api({"id_droit_acces": "x", "id_pce": "GI000001", "date_fin_droit_acces": "31/12/2026"})


async def test_ndjson_stream_of_chunks_splitting_lines_and_characters() -> None:
    """Bytes arrive in chunks that cut lines (and a UTF-8 character) anywhere: every object
    is yielded as soon as its last byte arrived, the trailer is kept, not yielded."""
    lines = [
        json.dumps(
            {"id_droit_acces": f"r{i}", "id_pce": f"GI{i:06d}", "nom_titulaire": "Élodie Prévôt"}, ensure_ascii=False
        )
        for i in range(50)
    ]
    data = ("\n".join(lines) + "\n" + json.dumps({"code_statut_traitement": "0000000000"}) + "\n").encode()
    cuts = list(range(0, len(data), 37)) + [len(data)]
    chunks = [data[a:b] for a, b in pairwise(cuts)]
    arrived = 0
    seen: list[tuple[int, str]] = []

    async def source() -> AsyncIterator[bytes]:
        nonlocal arrived
        for chunk in chunks:
            arrived += len(chunk)
            yield chunk

    stream = rules.NdjsonStream(source())
    async for item in stream:
        seen.append((arrived, item["id_droit_acces"]))
    assert [name for _, name in seen] == [f"r{i}" for i in range(50)]
    ends = [data.index(b"}", data.index(f'"r{i}"'.encode())) + 1 for i in range(50)]
    assert all(got - end < 37 + 1 for (got, _), end in zip(seen, ends, strict=False))  # no later than the next chunk
    assert stream.status is not None and stream.status.ok and stream.count == 50


def _row(
    pce: str, status: str | None = None, deadline: str | None = None, state: str = "Active", changed: str | None = None
):
    from pupitre.providers.grdf_adict.models import RightRow

    key = {"Révoquée": "date_revocation", "Obsolète": "date_passage_a_obsolete", "Refusée": "date_passage_a_refuse"}
    raw = {
        "id_droit_acces": pce,
        "id_pce": pce,
        "etat_droit_acces": state,
        "statut_controle_preuve": status,
        "date_limite_transmission_preuve": deadline,
    }
    if changed:
        raw[key[state]] = changed
    return RightRow.from_api(raw)


def test_proof_watch_levels_and_queue_order() -> None:
    friday = dt.date(2026, 3, 13)
    assert rules.proof_watch([_row("GI000001")], friday).level == "ok"
    rows = [
        _row("GI000003", "Preuve en attente", "2026-04-10"),
        _row("GI000005", "Preuve en attente", "2026-03-20"),
        _row("GI000007", "Preuve à vérifier", "2026-03-16"),
        _row("GI000009", "Preuve en attente", None),
    ]
    watch = rules.proof_watch(rows, friday)
    assert (watch.level, watch.missing, watch.due_soon, watch.overdue) == ("attention", 3, 1, 0)
    assert watch.next_deadline == dt.date(2026, 3, 20) and "3 right(s) awaiting proofs" in watch.message
    assert [r.id_pce for r in rules.proof_queue(rows)] == ["GI000005", "GI000003", "GI000009"]
    assert [r.id_pce for r in rules.proof_queue(rows, include_sent=True)][0] == "GI000007"
    late = rules.proof_watch(rows + [_row("GI000011", "Preuve en attente", "2026-03-12")], friday)
    assert late.level == "critical" and "past their deadline (first: PCE GI000011, 12/03/2026)" in late.message


def test_rights_lost_since_yesterday() -> None:
    since = dt.datetime(2026, 3, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    rows = [
        _row("GI000001", state="Révoquée", changed="2026-03-12 10:00:00"),
        _row("GI000003", state="Obsolète", changed="2026-03-11 23:59:00"),
        _row("GI000005", state="Refusée", changed="2026-03-13 02:54:14"),
        _row("GI000007"),
    ]
    lost = rules.lost_since(rows, since)
    assert [r.id_pce for r in lost] == ["GI000005", "GI000001"]
    assert rules.lost_message(lost) == "1 Refusée, 1 Révoquée since yesterday"
    right = read(
        {
            "id_droit_acces": "x",
            "id_pce": "GI000001",
            "etat_droit_acces": "Refusée",
            "date_passage_a_refuse": "2026-03-13 02:54:14",
        },
        AccessRight,
    )
    assert rules.lost_since([right], since) == [right]


def test_period_form_for_the_pce_detail() -> None:
    today = dt.date(2026, 3, 10)
    assert rules.period_query("donnees_consos_publiees", today, periode=" 2025 ") == ({"periode": "2025"}, {})
    assert rules.period_query("donnees_consos_informatives", today, date_debut="2026-01-01", date_fin="2026-03-01") == (
        {"date_debut": "2026-01-01", "date_fin": "2026-03-01"},
        {},
    )
    assert (
        "not both"
        in rules.period_query("donnees_consos_publiees", today, periode="2025", date_debut="2025-01-01")[1]["periode"][
            0
        ]
    )
    params, errors = rules.period_query("donnees_consos_publiees", today, periode="2025-13")
    assert params is None and "does not exist" in errors["periode"][0]
    _, errors = rules.period_query("donnees_consos_informatives", today, date_debut="2022-01-01", date_fin="2027-01-01")
    assert "after today" in errors["date_fin"][0] and "3 years" in " ".join(errors["date_debut"])
    _, errors = rules.period_query("donnees_injections_publiees", today, date_debut="01/13/2025")
    assert "not a date" in errors["date_debut"][0] and "Give the end" in errors["date_fin"][0]
    _, errors = rules.period_query("donnees_injections_publiees", today, date_debut="01/01/2025")
    assert "date_debut" not in errors and "Give the end" in errors["date_fin"][0]  # 01/01/2025 is a date
    assert (
        rules.period_query("donnees_injections_publiees", today, date_debut="2021-03-10", date_fin="2021-12-31")[0]
        is not None
    )  # 5 years for injections


def test_periods_at_the_edge_of_the_calendar() -> None:
    today = dt.date(2026, 3, 10)
    for periode in ("0001", "0001-01", "0001-W01", "0001-001"):
        with pytest.raises(rules.RuleError, match="years"):
            rules.period_params(periode=periode, today=today, informative=False)
    with pytest.raises(rules.RuleError):
        rules.parse_periode("0000")
    assert rules.period_query("donnees_consos_publiees", today, periode="9999")[1]["periode"]


@pytest.mark.parametrize("status", [{"message": 5}, {"message": {"x": 1}}, 12, ["x"]])
def test_unreadable_statut_restitution_is_a_payload_error(status: object) -> None:
    with pytest.raises(PayloadError, match="statut_restitution"):
        rules.check_restitution({"pce": {"id_pce": "GI000001"}, "statut_restitution": status})


def test_hostile_text_is_cleaned_through_read() -> None:
    """Every text of an answer — one-line fields, a key, a quirk-read field, a nested block,
    the status line — reaches the screen with its control characters made visible, exactly
    as the previous (pydantic) version cleaned them (values checked against it)."""
    hostile = "\x1b]52;c;eA==\x07\u202e"
    right = read(
        {
            "id_droit_acces": "r\x1b[2J",
            "id_pce": "GI000001",
            "nom_titulaire": f"  DUPONT {hostile} ",
            "role_tiers": f"AUTORISE CONTRAT {hostile}",
            "etat_droit_acces": f"Active{hostile}",
            f"unknown{hostile}": hostile,
        },
        AccessRight,
    )
    assert right.id_droit_acces == "r␛[2J"
    assert right.nom_titulaire == "DUPONT ␛]52;c;eA==␇\ufffd"
    assert right.role_tiers == "AUTORISE_CONTRAT_␛]52;C;EA==␇\ufffd"
    assert right.etat_droit_acces == "Active␛]52;c;eA==␇\ufffd"
    reading = read(
        [{"consommation": {"type_qualif_conso": f"Mesuré\n{hostile}"}, "statut_restitution": {"message": hostile}}],
        list[Reading],
    )[0]
    assert reading.qualification == "Mesuré ␛]52;c;eA==␇\ufffd"  # one line: no line break kept
    assert reading.statut_restitution is not None and reading.statut_restitution.message == "␛]52;c;eA==␇\ufffd"
    from pupitre.providers.grdf_adict.models import StatusLine

    status = read({"code_statut_traitement": "0", "message_retour_traitement": f"ok\r\n{hostile}"}, StatusLine)
    assert status.message_retour_traitement == "ok ␛]52;c;eA==␇\ufffd"  # as the previous version cleaned it


def test_index_reads_both_spellings_of_its_instant() -> None:
    """``horodate_Index`` (Swagger, the wire name written back) or ``horodate_index``."""
    from pupitre.providers.core.api import to_data
    from pupitre.providers.grdf_adict.models import Index

    paris = dt.datetime(2021, 7, 1, 6, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for key in ("horodate_Index", "horodate_index"):
        index = read({"valeur_index": "2154", key: "2021-07-01T06:00:00+02:00"}, Index)
        assert index.horodate_index == paris and index.horodate_index.hour == 6  # type: ignore[union-attr]  # read above
        assert index.valeur_index == 2154
    assert to_data(index) == {"valeur_index": 2154.0, "horodate_Index": "2021-07-01T06:00:00+02:00"}
    assert read(to_data(index), Index) == index
