"""The sandbox fault plan: the next N calls of a route fail as real APIs fail.

A status code, a timeout (before the API acts), a late answer (the API acts, then its
answer comes after ``timeout_seconds``: a crash or a timeout while the answer is in
flight), a malformed or truncated body, a 401 as if the token expired, or a quota
refusal. ``hostile`` is a switch rather than a fault: while it is in the plan (it is never
consumed), every answer of a matching route carries terminal escape sequences and bidi
controls in each of its text fields, as a third party could type them (see
:data:`pupitre.providers.core.sandbox.HOSTILE_TEXT`); a demo and the tests of
``providers/core/text.py`` use it. Usable from tests and from ``pupitre sandbox serve
--fault``. No httpx import: the runtime builds one before any simulator exists.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from typing import Literal, TypeGuard

import msgspec

FaultKind = Literal["status", "timeout", "late", "malformed", "truncated", "expired_token", "quota", "hostile"]
FAULT_KINDS: tuple[str, ...] = (
    "status",
    "timeout",
    "late",
    "malformed",
    "truncated",
    "expired_token",
    "quota",
    "hostile",
)


def is_fault_kind(value: str) -> TypeGuard[FaultKind]:
    """Whether ``value`` is one of :data:`FAULT_KINDS`."""
    return value in FAULT_KINDS


_FAULT_SPEC = re.compile(r"(?P<route>[^=]+)=(?P<kind>[a-z_]+)(?::(?P<status>\d{3}))?(?:x(?P<count>[1-9]\d*))?")


class Fault(msgspec.Struct):
    """``count`` next calls matching ``method`` and ``route`` (a glob on the path) fail."""

    route: str
    kind: FaultKind
    count: int = 1
    status: int = 500
    method: str = "*"

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.route)


class FaultPlan(msgspec.Struct, dict=True):
    """Thread-safe list of pending faults, consumed in order."""

    faults: list[Fault] = msgspec.field(default_factory=list)
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: out of the constructor, the repr and equality

    def add(self, route: str, kind: FaultKind, count: int = 1, status: int = 500, method: str = "*") -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        fault = Fault(route, kind, count, status, method.upper())
        with self._lock:
            self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The next fault for this call (consumed); ``hostile`` switches are not faults here."""
        with self._lock:
            for fault in self.faults:
                if fault.kind != "hostile" and fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def hostile(self, method: str, path: str) -> bool:
        """Whether this call's answer gets hostile text (a ``hostile`` switch matches it)."""
        with self._lock:
            return any(fault.kind == "hostile" and fault.matches(method, path) for fault in self.faults)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    @staticmethod
    def parse(spec: str) -> Fault:
        """Parse ``ROUTE=KIND[:STATUS][xCOUNT]``, e.g. ``/sites/*=status:503x3``.

        A status (400-599) goes only with the ``status`` kind; the count is at least 1.
        """
        match = _FAULT_SPEC.fullmatch(spec.strip())
        kind = match["kind"] if match is not None else ""
        if match is None or not is_fault_kind(kind) or (match["status"] and kind != "status"):
            raise ValueError(
                f"bad fault {spec!r}: expected ROUTE=KIND[:STATUS][xCOUNT] with KIND "
                f"one of {', '.join(FAULT_KINDS)} (STATUS only with 'status')"
            )
        status = int(match["status"] or 500)
        if not 400 <= status <= 599:
            raise ValueError(f"bad fault {spec!r}: the status must be between 400 and 599")
        return Fault(match["route"], kind, int(match["count"] or 1), status)
