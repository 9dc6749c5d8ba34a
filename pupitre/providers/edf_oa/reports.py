"""The two EDF OA reports as concrete types: :class:`~pupitre.providers.edf_oa.models.Report`
parametrised with its order type (§7.1.4, §8.1.4)."""

from __future__ import annotations

from pupitre.providers.edf_oa.models import AckReportOrder, CurtailmentReportOrder, Report


class AckReport(Report[AckReportOrder], frozen=True, kw_only=True):
    """``GET /acknowledgements/report`` (§7.1.4)."""


class CurtailmentReport(Report[CurtailmentReportOrder], frozen=True, kw_only=True):
    """``GET /curtailments/report`` (§8.1.4)."""
