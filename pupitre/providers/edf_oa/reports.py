"""The two EDF OA reports as concrete models: :class:`~pupitre.providers.edf_oa.models.Report`
parametrised with its order type (§7.1.4, §8.1.4).

Parametrising a generic pydantic model builds each nested model again (~12 ms of a start):
they live apart from :mod:`pupitre.providers.edf_oa.models`, which the feeds and
``pupitre check`` import, and load with the first report asked or exported.
"""

from __future__ import annotations

from pupitre.providers.edf_oa.models import AckReportOrder, CurtailmentReportOrder, Report


class AckReport(Report[AckReportOrder]):
    """``GET /acknowledgements/report`` (§7.1.4)."""


class CurtailmentReport(Report[CurtailmentReportOrder]):
    """``GET /curtailments/report`` (§8.1.4)."""
