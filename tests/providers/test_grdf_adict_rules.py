"""GRDF ADICT: corpus samples, NDJSON stream parser, local rules."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pupitre.providers.core.errors import PayloadError
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.models import (AccessRight, ContractualData, DeclareBody, Reading,
                                                 TechnicalData)

SAMPLES = Path("/work/shared/corpus/grdf-adict/samples")


def _model(name: str):  # type: ignore[no-untyped-def]
    if "droit" in name and "request-body" in name:
        return DeclareBody
    if "droit" in name:
        return AccessRight
    if "contractuelles" in name:
        return ContractualData
    if "techniques" in name:
        return TechnicalData
    return Reading


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="corpus not present")
@pytest.mark.parametrize("path", sorted(p for p in SAMPLES.glob("*") if p.suffix in (".json", ".ndjson")),
                         ids=lambda p: p.name)
def test_every_corpus_sample_parses(path: Path) -> None:
    items, status = rules.parse_ndjson(path.read_bytes())
    assert items
    for item in items:
        _model(path.name).model_validate(item)
    if path.suffix == ".ndjson" and "droits" in path.name:
        assert status is not None and status.ok


def test_access_right_quirks() -> None:
    v2, _ = rules.parse_ndjson((SAMPLES / "v2_droits_acces.lowatt-fixture.ndjson").read_bytes())
    right = AccessRight.model_validate(v2[0])
    assert right.perim_donnees_techniques is True  # the "perim_donnees_techniques:" typo
    assert right.date_creation and right.date_creation.tzinfo is not None
    assert right.holder == "John Doe Inc."
    v1 = AccessRight.model_validate(json.loads((SAMPLES / "v1_droit_acces_refusee.real-2021-redacted.json").read_text()))
    assert v1.etat_droit_acces == "Refusée" and v1.perim_donnees_contractuelles is True
    doc = AccessRight.model_validate({"id_droit_acces": "x", "id_pce": "09739073753501",
                                      "role_tiers": "AUTORISE CONTRAT FOURNITURE", "date_revocation": "",
                                      "perim_donnees_conso_debut": " 2018-07-05 "})
    assert doc.role_tiers == "AUTORISE_CONTRAT_FOURNITURE" and doc.date_revocation is None
    assert doc.perim_donnees_conso_debut == dt.date(2018, 7, 5)
    reading = Reading.model_validate(json.loads((SAMPLES / "v1_donnees_consos_informatives.real-2021-redacted.json").read_text()))
    assert reading.releve_fin.index_brut_fin.horodate_index.hour == 6  # type: ignore[union-attr]
    assert reading.energy_kwh == 48


def test_declare_body_round_trips_the_fixture() -> None:
    raw = json.loads((SAMPLES / "v2_put_droit_acces.request-body.lowatt-fixture.json").read_text())
    assert DeclareBody.model_validate(raw).to_api() == raw


SMALL = ('{"id_droit_acces": "a", "id_pce": "GI000001", "nom_titulaire": "Élodie Prévôt"}\n'
         '{"id_droit_acces": "b", "id_pce": "GI000002", "source_revocation": "révoqué €"}\n'
         '{"code_statut_traitement": "0000000000", "message_retour_traitement": "L\'opération s\'est déroulée avec succès."}\n').encode()


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
        seen.append(len(decoder.feed(SMALL[i:i + 1])))
    first = SMALL.index(b"}\n") + 1
    assert sum(seen[:first]) == 1  # the first object is out as soon as its brace arrives


def test_ndjson_pretty_printed_wrapper_array_and_one_object() -> None:
    pretty = json.dumps({"id_droit_acces": "a"}, indent=2) + json.dumps({"id_droit_acces": "b"}, indent=4)
    assert len(rules.parse_ndjson(pretty.encode())[0]) == 2
    wrapped = json.dumps({"liste_acces": [{"id_droit_acces": "a"}, {"id_droit_acces": "b"}],
                          "code_statut_traitement": "0000000000"})
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


async def test_stream_error_trailer_and_restitution() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"id_droit_acces": "a"}\n{"code_statut_traitement": "1000000002", "message_retour_traitement": "Refus"}\n'

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


def good_declaration() -> dict:  # type: ignore[type-arg]
    return {"role_tiers": "AUTORISE_CONTRAT_FOURNITURE", "nom_titulaire": "Dupont", "code_postal": "77900",
            "courriel_titulaire": "r.dupont@example.com", "numero_telephone_mobile_titulaire": "06 12 45 52 11",
            "date_debut_droit_acces": "2026-01-01", "date_fin_droit_acces": "2027-01-01",
            "perim_donnees_conso_debut": "2024-01-01", "perim_donnees_conso_fin": "2026-01-01",
            "perim_donnees_publiees": True, "perim_donnees_techniques": False}


def test_declaration_rules() -> None:
    today = dt.date(2026, 3, 10)
    body = rules.build_declaration(good_declaration(), today)
    assert body.to_api()["perim_donnees_publiees"] == "Vrai"
    assert body.to_api()["numero_telephone_mobile_titulaire"] == "0612455211"
    bad = good_declaration() | {"nom_titulaire": "", "code_postal": "7790", "courriel_titulaire": "x",
                                "numero_telephone_mobile_titulaire": "12", "role_tiers": "X",
                                "date_fin_droit_acces": "2025-01-01"}
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
