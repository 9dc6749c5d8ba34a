"""A value the API's document does not list is shown (``? unknown (PURPLE)``) on its one
row and counts as attention; the rest of the answer stays readable (issue 14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pupitre.providers.core.api import from_data
from pupitre.providers.core.text import unknown_word
from pupitre.providers.edf_oa import models as edf
from pupitre.providers.grdf_adict import feeds as adict
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import IndicatorStatus, SiteIndicators, read, to_document
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.providers.switchgrid import models as sg
from pupitre.settings import SwitchgridSettings
from tests.providers.helpers import right

NOW = dt.datetime(2026, 11, 18, 10, 30)


def indicator(status: str) -> dict[str, str]:
    return {
        "status": status,
        "availabilityDateTime": "2026-11-18T09:52:00.000Z",
        "applicationDateTime": "2026-11-18T10:15:00.000Z",
    }


def site(n: int, q_plus: str = "GREEN") -> dict[str, Any]:
    return {
        "currentIndicator": {
            "siteId": f"LI{n:04d}",
            "siteLabel": f"Site {n}",
            "meshCode": "M",
            "meshLabel": "Mesh",
            "qTo0FlexibilityIndicator": indicator("GREEN"),
            "partialFlexibilityIndicator": indicator("GREEN"),
            "qToQ+FlexibilityIndicator": indicator(q_plus),
        }
    }


def test_grtgaz_unknown_colour_is_one_row_not_the_feed() -> None:
    sites = read([site(n, "PURPLE" if n == 3 else "GREEN") for n in range(1, 14)], list[SiteIndicators])
    assert len(sites) == 13
    odd = sites[2].currentIndicator.qToQPlusFlexibilityIndicator.status
    assert not odd.known and odd.value == "PURPLE" and odd.word == "unknown (PURPLE)"
    assert all(s.known for other in sites[3:] for _, ind in other.currentIndicator.indicators() for s in [ind.status])
    # ranks between GREEN and RED; RED and GREY still win
    assert rules.worst_status([IndicatorStatus.GREEN, odd]) is odd
    assert rules.worst_status([odd, IndicatorStatus.RED]) is IndicatorStatus.RED
    # the pre-check takes it as red (it must not promise what it cannot know)
    views = rules.indicator_views(sites[2], dt.datetime(2026, 11, 18, 10, 30, tzinfo=rules.PARIS))
    assert views[rules.Flex.Q_TO_QPLUS].applicable is IndicatorStatus.RED
    assert views[rules.Flex.Q_TO_QPLUS].current is odd
    # stored and read back the same
    again = read(to_document(sites), list[SiteIndicators])
    assert again[2].currentIndicator.qToQPlusFlexibilityIndicator.status.value == "PURPLE"


def test_grtgaz_unknown_colour_needs_attention_in_the_findings() -> None:
    sites = read([site(n, "PURPLE" if n == 3 else "GREEN") for n in range(1, 14)], list[SiteIndicators])
    findings = grtgaz.findings(sites, NOW)
    assert [(f.level, f.message) for f in findings] == [("attention", "Site 3 (Mesh): ? Q→Q+ unknown (PURPLE)")]


def test_adict_unknown_state_is_shown_and_needs_attention() -> None:
    table = adict.RightsTable()
    table.add_raw([right(1), right(2, etat_droit_acces="Suspendue"), right(3)])
    assert table.col["state"] == ["Active", "Suspendue", "Active"]
    summary = adict.summarise(table, NOW.date())
    assert summary.unknown_states == {"Suspendue": 1}
    findings = adict.summary_findings(summary, table)
    assert [(f.level, f.message) for f in findings] == [
        ("attention", "right(s) in a state the document does not list: 1 ? unknown (Suspendue)")
    ]


def test_edf_oa_unknown_contract_status_and_source_are_read() -> None:
    contract = from_data(
        {
            "id": "BOA0001",
            "plant_id": "30001234567890",
            "status": "suspended",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
        edf.Contract,
        provider="EDF OA",
    )
    assert contract.status == "SUSPENDED"
    assert edf.shown(contract.status, edf.CONTRACT_STATUSES) == "? unknown (SUSPENDED)"
    assert edf.shown("ACTIVE", edf.CONTRACT_STATUSES) == "ACTIVE"


def test_switchgrid_unknown_statuses_need_attention() -> None:
    ask = from_data(
        {"id": "a" * 36, "status": "PURPLE", "createdAt": "2026-11-18T09:00:00Z"}, sg.Ask, provider=sg.PROVIDER
    )
    data = switchgrid.SwitchgridData(asks=[ask])
    findings = switchgrid.findings(SwitchgridSettings(), {switchgrid.FEED: data}, NOW.replace(tzinfo=rules.PARIS))
    assert [(f.level, f.message) for f in findings] == [("attention", f"ask {'a' * 8} ? unknown (PURPLE)")]


def test_unknown_word_is_cleaned() -> None:
    assert unknown_word("PUR\x1b]0;x\x07PLE") == "? unknown (PUR␛]0;x␇PLE)"


def test_edf_oa_unknown_values_need_attention() -> None:
    from pupitre.providers.edf_oa import feeds as edf_feeds
    from pupitre.settings import EdfOaSettings

    contract = from_data(
        {
            "id": "BOA0001",
            "plant_id": "30001234567890",
            "status": "SUSPENDED",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
        edf.Contract,
        provider="EDF OA",
    )
    findings = edf_feeds.findings(EdfOaSettings(), {edf_feeds.CONTRACTS_FEED: [contract]}, NOW)
    assert [(f.level, f.message) for f in findings] == [("attention", "contract BOA0001 ? unknown (SUSPENDED)")]
