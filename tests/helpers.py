"""Helpers shared by test modules across packages (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keyring
from keyring.backend import KeyringBackend

if TYPE_CHECKING:
    from pupitre.providers.grtgaz.sandbox import GrtgazSimulator


class MemoryKeyring(KeyringBackend):
    """A real-looking in-memory backend."""

    priority = 1  # type: ignore[assignment]  # keyring declares priority as a classproperty

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls += 1
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls += 1
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.items[(service, username)]


def declarations_received(sim: GrtgazSimulator) -> list[str]:
    """Program ids the GRTgaz simulator received through ``POST /hmsProfiles``, one per POST
    that reached it (a faulted request never does)."""
    calls: list[str] = []
    original = sim.declare

    def declare(profiles, now=None):
        calls.extend(p.hmsProfileId for p in profiles)
        return original(profiles, now)

    sim.declare = declare  # type: ignore[method-assign]  # records what reaches the simulator
    return calls
