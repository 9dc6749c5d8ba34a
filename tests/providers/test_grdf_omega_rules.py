"""GRDF OMEGA « Suivi demande » rules and models (§1.2, §2.2.1, §2.2.2, Annex A, Annex B)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.feeds import PROVIDER
from pupitre.providers.grdf_omega.models import CodeLabel, Demande, OktaToken
from pupitre.providers.grdf_omega.rules import (
    NUMERO_PATTERN,
    REQUEST_TYPES,
    RETURN_CODES,
    LineError,
    NumeroError,
    StatusChange,
    message_for,
    parse_watch_file,
    status_change,
    status_changed,
    type_label,
    validate_numero,
)

# §2.2.2 « Exemple générique de l'architecture du JSON », verbatim.
DOCUMENT_EXAMPLE = """
{
  "numero_demande": "WD00053H",
  "type_demande": {
    "code": "CHF",
    "libelle": "Demande de changement de fournisseur"
  },
  "cdgf": {
    "code": "A04000010",
    "libelle": "ELECTRICITE DE FRANCE"
  },
  "statut_externe_demande": {
    "code": "ATTRDV",
    "libelle": "En attente RDV"
  },
  "cree_le": "2025-03-05T15:25:35.932464+01:00",
  "mode_traitement": {
    "code": "NONPASSANT",
    "libelle": "Non Passant"
  },
  "est_demande_fournisseur": true,
  "cree_par": "DN6473",
  "cree_automatiquement": false,
  "date_effet_contractuel": "2024-01-01",
  "date_dernier_changement_statut_externe": "2025-03-05",
  "derniere_date_demandee": "2025-03-06",
  "fournisseur_peut_prendre_rdv": true,
  "est_digitalisable": false,
  "presence_pj": false,
  "commentaire_soumission_analyse": "testcomanalyse",
  "cdgf_erreur_pce": {
  },
  "informations_fournisseur": {
  },
  "informations_contractuelles": {
  },
  "informations_realisation": {
  },
  "informations_client": {
  }
}
"""

# Annex B, verbatim (the document wraps the token over several lines: JSON with
# control characters in a string, read with strict=False).
ANNEX_B = """
{
  "token_type": "Bearer",
  "expires_in": 3600,
  "access_token": "
eyJraWQiOiJpd0htc0Y0VUJGQzhNTGJZM2xic1hRVGtWR1NKdnlvYWU5ei92bks4dzNNPSIsInR5cCI6IkpXVCIsImFsZyI6IiJTMjU2In0.eyJhdWQiOiJhcGk6Ly9kZWZhdWx0Iiwic3ViIjoizG9ycmEuY2hha3JvdW5AZXh0ZXJuZS5ncmRmLmZyIiwic2NwIjpbXSwidmVyIjoxLCJpc3MiOiJPU0giLCJleHAiOjE3MjU1NTI4MzEsImhhdCI6MTcyNTU0OTIzMSwianRpIjoibjU5NGJkOWItYjI3MS00YTA4LWI0ZmEtOTA4YjkkMzY4OWQ4IiwiaWF0IjoiMG9hOTN6d3c4MEIixUkRYNWkwaTcifQ.FMBPv4Qm4ZJn9O9ehHnK8hBAAwy-
_daSy6uJIM9BplYVDK6RjIDXo3iYXLmo8C26mofovDwjB1Xq4lzs25DVYVr1TMBRI-
7imK8SYhogoDKAUvMJoeOYyyCFKVGla2xjdDTz53xQgMXKl0Q_TxksLtRgQI4Wn90MmaWC2iwUwhWttuXXx
-
VfzqWmPxGAECmd2fnjmQKSBmVhpyczPzyJSrctQb90V6bZWJpq_ErvrEdFMxb8JVUwRjK85ZiIn26RomaPQ
y-vsujNYS38LgHvqu7Q63gszTrDB9OgBudC4R581FvI30cDCfIhVqkYwD2FozjoQEuTkZt3VutmYgGP4g
",
  "scope": "SUIVI_DEMANDE"
}
"""


def example(**changes: object) -> Demande:
    data = json.loads(DOCUMENT_EXAMPLE)
    data.update(changes)
    return from_data(data, Demande, provider=PROVIDER)


# -- models (§2.2.2, Annex B) ----------------------------------------------------------------------


def test_the_document_example_parses_exactly() -> None:
    demande = from_data(json.loads(DOCUMENT_EXAMPLE), Demande, provider=PROVIDER)
    assert demande.numero_demande == "WD00053H"
    assert demande.type_demande == CodeLabel(code="CHF", libelle="Demande de changement de fournisseur")
    assert demande.cdgf == CodeLabel(code="A04000010", libelle="ELECTRICITE DE FRANCE")
    assert (demande.status_code, demande.statut_externe_demande.libelle) == ("ATTRDV", "En attente RDV")
    assert demande.cree_le == dt.datetime(2025, 3, 5, 15, 25, 35, 932464, tzinfo=PARIS)
    assert demande.cree_le.tzinfo is PARIS
    assert demande.mode_traitement == CodeLabel(code="NONPASSANT", libelle="Non Passant")
    assert (demande.est_demande_fournisseur, demande.cree_par, demande.cree_automatiquement) == (True, "DN6473", False)
    assert demande.date_effet_contractuel == dt.date(2024, 1, 1)
    assert demande.date_dernier_changement_statut_externe == dt.date(2025, 3, 5)
    assert demande.derniere_date_demandee == dt.date(2025, 3, 6)
    assert (demande.fournisseur_peut_prendre_rdv, demande.est_digitalisable, demande.presence_pj) == (
        True,
        False,
        False,
    )
    assert demande.commentaire_soumission_analyse == "testcomanalyse"
    assert demande.cdgf_erreur_pce == {}
    assert demande.informations_intervention is None  # absent from the example
    assert list(demande.blocks()) == [
        "informations_fournisseur",
        "informations_contractuelles",
        "informations_realisation",
        "informations_client",
    ]
    assert to_data(demande)["cree_le"] == "2025-03-05T15:25:35.932464+01:00"


def test_unknown_fields_are_ignored_and_block_contents_kept_whole() -> None:
    demande = example(
        nouveau_champ="x",
        informations_intervention={"date_rdv": "2025-03-06"},
        informations_client={"nom": "MARTIN", "adresse": {"commune": "LYON"}},
    )
    assert not hasattr(demande, "nouveau_champ")  # an additive change of the API breaks nothing
    assert demande.informations_intervention == {"date_rdv": "2025-03-06"}
    assert demande.informations_client["adresse"]["commune"] == "LYON"  # type: ignore[index]  # the sample has them


def test_minimal_answer_and_required_fields() -> None:
    minimal = {
        "numero_demande": "WD0004MX",
        "type_demande": {"code": "MES"},
        "cdgf": {"code": "A1"},
        "statut_externe_demande": {"code": "ENCOURS", "libelle": None},
        "cree_le": "2025-03-05T14:25:35Z",
    }
    demande = from_data(minimal, Demande, provider=PROVIDER)
    assert demande.cree_le == dt.datetime(2025, 3, 5, 15, 25, 35, tzinfo=PARIS)
    assert demande.blocks() == {} and demande.type_demande.libelle is None
    for missing in ("numero_demande", "type_demande", "statut_externe_demande", "cree_le"):
        with pytest.raises(PayloadError):
            from_data({k: v for k, v in minimal.items() if k != missing}, Demande, provider=PROVIDER)
    with pytest.raises(PayloadError):  # a timestamp without offset is refused
        from_data({**minimal, "cree_le": "2025-03-05T15:25:35"}, Demande, provider=PROVIDER)


def test_annex_b_token_answer() -> None:
    token = from_data(json.loads(ANNEX_B, strict=False), OktaToken, provider=PROVIDER)
    assert (token.token_type, token.expires_in, token.scope) == ("Bearer", 3600, "SUIVI_DEMANDE")
    assert token.access_token.reveal().strip().startswith("eyJraWQiOiJpd0ht")
    assert "eyJ" not in repr(token) and "eyJ" not in str(token)


# -- request types (§1.2) --------------------------------------------------------------------------


def test_the_23_request_types_verbatim() -> None:
    assert REQUEST_TYPES == {
        "ARLV": "Demande d'auto-relevé fournisseur",
        "CHADR": "Demande de changement d'adresse PCE",
        "CHF": "Demande de changement de fournisseur",
        "CHFR": "Demande de changement de fréquence",
        "CHT": "Demande de changement tarifaire",
        "COUP": "Demande de coupure pour impayé",
        "DIST": "Demande de distance",
        "DIT": "Demande d'intervention technique",
        "DPM": "Demande de changement date de publication mensuelle",
        "ERREUR_PCE": "Déclaration d'erreur PCE ou contestation de souscription",
        "CJA": "Demande de CJA",
        "MCFU": "Demande de modification des caractéristiques de l'utilisateur final",
        "MES": "Demande de mise en service",
        "MHS": "Demande de mise hors service",
        "MODIF_CAR_PRO": "Demande de modification de CAR/Profil",
        "QSR": "Question sur relève",
        "RAD": "Demande de relevé à date",
        "RETB": "Demande de rétablissement suite à coupure pour impayé",
        "RGR_DGR": "Demande de Regroupements / Dégroupements de PCE ou CJA",
        "SMNT": "Demande de service maintenance",
        "SPNS": "Demande de service pression non standard",
        "DAN": "Demande d'analyse",
        "TJDC": "Transmission des données de consommation journalières",
    }
    assert len(REQUEST_TYPES) == 23
    assert list(REQUEST_TYPES)[:3] == ["ARLV", "CHADR", "CHF"]  # the document's order


def test_type_label_falls_back_to_the_api_then_unknown() -> None:
    assert type_label("CHF") == "Demande de changement de fournisseur"
    assert type_label(" chf ", "ignored") == "Demande de changement de fournisseur"
    assert type_label("NOUVEAU", "Demande nouvelle") == "Demande nouvelle"
    assert type_label("NOUVEAU", "  ") == "unknown type NOUVEAU"
    assert type_label("NOUVEAU") == "unknown type NOUVEAU"


# -- request numbers (§2.2.1) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("WD0004MX", "WD0004MX"),
        ("WD00053H", "WD00053H"),
        (" wd0004mx\n", "WD0004MX"),
        ("WDZZZZZZ", "WDZZZZZZ"),
        ("Wd000000", "WD000000"),
    ],
)
def test_validate_numero_good(text: str, expected: str) -> None:
    assert validate_numero(text) == expected
    assert NUMERO_PATTERN.fullmatch(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "WD0004M",
        "WD0004MXX",
        "XD0004MX",
        "WD0004-X",
        "WD 0004MX",
        "0004MX",
        "WD0004MÉ",
        "WD0004MX;DROP",
        "W D0004MX",
    ],
)
def test_validate_numero_bad(text: str) -> None:
    with pytest.raises(NumeroError) as caught:
        validate_numero(text)
    assert isinstance(caught.value, ValueError)
    assert "WD0004MX" in str(caught.value)  # the sentence shows the expected shape


def test_numero_error_echo_is_one_short_line() -> None:
    with pytest.raises(NumeroError) as caught:
        validate_numero("x\x1b[31m" + "y" * 100)
    assert "\x1b" not in str(caught.value) and "y" * 40 not in str(caught.value)


# -- watch files ------------------------------------------------------------------------------------


def test_watch_file_one_number_per_line() -> None:
    text = "WD0004MX\n\n  wd00053h  \n# a comment\nWD0004MX\nWD12\nWDAAAAAA  # client Martin\n"
    numbers, errors = parse_watch_file(text)
    assert numbers == ["WD0004MX", "WD00053H", "WDAAAAAA"]
    assert [e.line for e in errors] == [6]
    assert str(errors[0]).startswith("line 6: 'WD12' is not a GRDF request number")


def test_watch_file_csv_with_a_header_names_the_column() -> None:
    text = (
        "client,Numéro demande,commentaire\n"
        "Martin,WD0004MX,urgent\n"
        "Durand,,\n"
        '"Petit, Jean",WD00053H,\n'
        "Roux,WD0004MX,again\n"
        "Leroy,BAD,\n"
    )
    numbers, errors = parse_watch_file(text)
    assert numbers == ["WD0004MX", "WD00053H"]
    assert errors == [LineError(3, "no request number in column 2"), LineError(6, errors[1].message)]
    assert "'BAD'" in errors[1].message


def test_watch_file_csv_header_numero_demande_exact_and_semicolons() -> None:
    numbers, errors = parse_watch_file("\ufeffnumero_demande;statut\r\nWD0004MX;ATTRDV\r\nwd00053h;REAL\r\n")
    assert (numbers, errors) == (["WD0004MX", "WD00053H"], [])


def test_watch_file_csv_without_header_takes_the_first_column() -> None:
    numbers, errors = parse_watch_file("WD0004MX,Martin\nWD00053H,Durand\nnot a number,x\n")
    assert numbers == ["WD0004MX", "WD00053H"]
    assert [e.line for e in errors] == [3]


def test_watch_file_tsv_with_a_generic_header() -> None:
    text = "Demande\tClient\nWD0004MX\tMartin, Jean\n\nWD00053H\tDurand\nWD0004MX\tdup\n12345\tx\n"
    numbers, errors = parse_watch_file(text)
    assert numbers == ["WD0004MX", "WD00053H"]
    assert [(e.line, "'12345'" in e.message) for e in errors] == [(6, True)]


def test_watch_file_empty() -> None:
    assert parse_watch_file("") == ([], [])
    assert parse_watch_file("\n  \n# nothing\n") == ([], [])


# -- return codes (Annex A) ------------------------------------------------------------------------


def test_annex_a_is_complete() -> None:
    assert len(RETURN_CODES) == 16
    statuses = sorted(code.status for code in RETURN_CODES.values())
    assert statuses == [400] * 9 + [403, 404, 405] + [500] * 4
    assert all(code.message and code.message.isascii() for code in RETURN_CODES.values())
    assert (
        rules.return_code("la ressource demandée  est introuvable")
        is RETURN_CODES["La ressource demandée est introuvable"]
    )
    assert rules.return_code("L’utilisateur n’a pas accès à cette ressource") is not None
    assert rules.return_code("Paramètres de requête incohérents (champ X)") is not None
    assert rules.return_code("autre chose") is None and rules.return_code(None) is None


@pytest.mark.parametrize("code", list(RETURN_CODES.values()), ids=lambda c: f"{c.status}-{c.libelle[:24]}")
def test_message_for_each_annex_a_code(code: rules.ReturnCode) -> None:
    message = message_for(code.status, code.libelle)
    expected = {
        404: "unknown request number for this supplier (CDG-F)",
        403: "not allowed for this CDG-F / user",
        400: f"request refused: {code.libelle} ({code.message})",
        405: f"HTTP method not supported by GRDF OMEGA: {code.libelle}",
        500: f"GRDF server error: {code.libelle} ({code.message})",
    }[code.status]
    assert message == expected


def test_message_for_other_cases() -> None:
    assert message_for(429, "quota dépassé") == "quota of 1 call per second exceeded"
    assert message_for(400, "texte libre") == "request refused: texte libre"
    assert message_for(400, "") == "request refused (no message from GRDF)"
    assert message_for(500, None) == "GRDF server error (no message)"
    assert message_for(503, "maintenance") == "GRDF server error: maintenance"
    assert "OKTA" in message_for(401, "") and "suivi_demande" in message_for(401, None)
    assert message_for(418, "teapot") == "unexpected answer from GRDF (HTTP 418): teapot"


# -- status changes -----------------------------------------------------------------------------------


def test_status_changed() -> None:
    old = example()
    same_code_new_label = example(statut_externe_demande={"code": "ATTRDV", "libelle": "Attente RDV"})
    planned = example(
        statut_externe_demande={"code": "PLANIF", "libelle": "Planifiée"},
        date_dernier_changement_statut_externe="2025-03-07",
    )
    assert status_changed(None, old) is False  # a first sighting is the baseline
    assert status_changed(old, old) is False
    assert status_changed(old, same_code_new_label) is False
    assert status_changed(old, example(statut_externe_demande={"code": " attrdv "})) is False
    assert status_changed(old, planned) is True
    with pytest.raises(ValueError):
        status_changed(old, example(numero_demande="WD0004MX"))


def test_status_change_builder() -> None:
    old = example()
    planned = example(
        statut_externe_demande={"code": "PLANIF", "libelle": "Planifiée"},
        date_dernier_changement_statut_externe="2025-03-07",
    )
    assert status_change(old, planned) == StatusChange(
        "WD00053H", "ATTRDV", "En attente RDV", "PLANIF", "Planifiée", dt.date(2025, 3, 7)
    )
    assert status_change(None, planned) is None and status_change(old, old) is None
    no_date = example(statut_externe_demande={"code": "ANNUL"}, date_dernier_changement_statut_externe=None)
    change = status_change(old, no_date)
    assert change is not None and (change.new_label, change.date) == (None, None)
