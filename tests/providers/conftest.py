"""Fixtures of the provider-vs-simulator tests: each module sets ``START`` (its Paris time)."""

from __future__ import annotations

import pytest

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.faults import FaultPlan


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> ManualClock:
    """A manual clock at the test module's ``START``."""
    return ManualClock(request.module.START)


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()
