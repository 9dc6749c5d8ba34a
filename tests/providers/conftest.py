"""Fixtures of the provider-vs-simulator tests: each module sets ``START`` (its Paris time).

A module's own ``sim``/``http``/``client`` fixtures serve that module only; the ones shared
between modules are named after their provider (``adict_sim``)."""

from __future__ import annotations

from typing import AsyncIterator

import httpx
import pytest

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grdf_adict.sandbox import AdictSimulator
from tests.providers.helpers import stepping


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> ManualClock:
    """A manual clock at the test module's ``START``."""
    return ManualClock(request.module.START)


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def adict_sim(clock: ManualClock, plan: FaultPlan) -> AdictSimulator:
    """The GRDF ADICT simulator with a 300-PCE park; its quota gate never trips on its own."""
    return AdictSimulator(clock, plan, park_size=300, monotonic=stepping())


@pytest.fixture
async def adict_http(adict_sim: AdictSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests reach ``adict_sim`` in-process."""
    async with httpx.AsyncClient(transport=SandboxTransport(adict_sim.app, read_timeout=0.3)) as client:
        yield client
