"""Every screen of the dashboard, once: the app derives its modes, number keys, palette
commands and CSS list from :data:`SCREENS`, and the Overview its tiles.

A screen is named here by its module and class, never imported: the app imports a screen
when it is first shown (start-up pays only for the first one), and a screen opens another
by name (:meth:`pupitre.tui.app.PupitreApp.open_screen`), so no screen imports the screen
that opens it back. Dialogs (``tui/dialogs/``) are not here: their opener imports them and
awaits their answer. No Textual import, nothing heavy: the command line reads it for
``--screen`` before anything else is loaded (a tile names its feed by the feed's id, which
``tests/unit/test_registry.py`` checks against the providers).
"""

from __future__ import annotations

import importlib
from pathlib import Path, PurePath
from typing import Any, Callable

import msgspec

STYLES = Path(__file__).resolve().parent.parent / "styles"


class Tile(msgspec.Struct, frozen=True):
    """A screen's tile on the Overview: its words, the feed whose age and error it shows."""

    title: str
    provider: str
    feed: str
    id: str


class ScreenEntry(msgspec.Struct, frozen=True):
    """One screen: its name (the app's mode, or what :meth:`open_screen` is given), where it
    lives (``module:Class`` under ``pupitre.tui.screens``), and what is derived from it."""

    name: str
    title: str
    where: str
    help: str = ""
    key: str | None = None
    """The key that switches to it: a number, or ``exclamation_mark`` (``!``) for the alerts
    (a mode with a key is in the palette too)."""
    mode: bool = False
    """Whether it is one of the app's modes (a screen stack of its own), else it is pushed."""
    css: str | None = None
    """Its stylesheet in ``pupitre/styles/`` (loaded with the app, in this order)."""
    tile: Tile | None = None

    @property
    def binding_id(self) -> str:
        """The id of its number key in the keymap catalogue."""
        return f"screen.{self.name}"

    def load(self) -> Callable[..., Any]:
        """The screen's class, imported now."""
        module, name = self.where.split(":")
        cls: Callable[..., Any] = getattr(importlib.import_module(f"pupitre.tui.screens.{module}"), name)
        return cls


def _entry(name: str, title: str, where: str, **kwargs: Any) -> ScreenEntry:
    return ScreenEntry(name, title, where, **kwargs)


SCREENS: tuple[ScreenEntry, ...] = (
    _entry(
        "overview",
        "Overview",
        "overview:OverviewScreen",
        help="What needs action across providers",
        key="1",
        mode=True,
        css="overview.tcss",
    ),
    _entry(
        "flexibility",
        "Flexibility",
        "flexibility:FlexibilityScreen",
        help="GRTgaz indicator colours per site",
        key="2",
        mode=True,
        css="flexibility.tcss",
        tile=Tile("GRTgaz · flexibility indicators", "grtgaz", "grtgaz.indicators", "tile-grtgaz"),
    ),
    _entry("site_detail", "Site detail", "site_detail:SiteDetailScreen"),
    _entry(
        "curtailments",
        "Curtailments",
        "curtailments:CurtailmentsScreen",
        help="EDF OA: tomorrow's curtailments and their acknowledgement",
        key="3",
        mode=True,
        css="curtailments.tcss",
        tile=Tile("EDF OA · tomorrow's curtailments", "edf_oa", "edf_oa.curtailments", "tile-edf-oa"),
    ),
    _entry("edf_reports", "Contracts & reports", "edf_reports:EdfReportsScreen", css="edf_reports.tcss"),
    _entry(
        "requests",
        "Requests",
        "requests:RequestsScreen",
        help="GRDF OMEGA: the watch-list of supplier requests",
        key="4",
        mode=True,
        css="requests.tcss",
        tile=Tile("GRDF · requests", "grdf_omega", "grdf_omega.requests", "tile-omega"),
    ),
    _entry("request_detail", "Request detail", "request_detail:RequestDetailScreen"),
    _entry("programs", "GRTgaz programs", "programs:ProgramsScreen", mode=True, css="programs.tcss"),
    _entry("program_editor", "GRTgaz program editor", "program_editor:ProgramEditorScreen"),
    _entry(
        "access_rights",
        "Access rights",
        "access_rights:AccessRightsScreen",
        help="GRDF ADICT: access rights, proofs and PCE data",
        key="5",
        mode=True,
        css="access_rights.tcss",
        tile=Tile("GRDF ADICT · access rights", "grdf_adict", "grdf_adict.rights", "tile-adict"),
    ),
    _entry("pce_detail", "PCE detail", "pce_detail:PceDetailScreen"),
    _entry(
        "load_curves",
        "Load curves",
        "load_curves:LoadCurvesScreen",
        help="Switchgrid: consent asks, data orders and load-curve plots",
        key="6",
        mode=True,
        css="load_curves.tcss",
        tile=Tile("Switchgrid · load curves", "switchgrid", "switchgrid.asks_orders", "tile-switchgrid"),
    ),
    _entry(
        "audit",
        "Audit",
        "audit:AuditScreen",
        help="Shift handover: every action and operation, and the actions to hand over with what to do",
        key="7",
        mode=True,
        css="audit.tcss",
    ),
    _entry(
        "alerts",
        "Alerts",
        "alerts:AlertsScreen",
        help="Every alert, open and past; Enter or s: seen",
        key="exclamation_mark",
        mode=True,
    ),
    _entry("contract_search", "Contract search", "load_curve_forms:ContractSearchScreen"),
    _entry("ask_form", "Consent ask", "load_curve_forms:AskFormScreen"),
    _entry("order_form", "Data order", "load_curve_forms:OrderFormScreen"),
    _entry("held_order", "Unanswered order", "load_curve_forms:HeldOrderScreen"),
    _entry("order", "Order follow-up", "load_curve_order:OrderScreen"),
    _entry("raw_data", "Raw data", "load_curve_order:RawDataScreen"),
    _entry("plot", "Load-curve plot", "load_curve_plot:LoadCurvePlotScreen"),
)

BY_NAME: dict[str, ScreenEntry] = {entry.name: entry for entry in SCREENS}


def screen(name: str) -> ScreenEntry:
    """The entry named ``name``; :class:`KeyError` naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no screen named {name!r}; known: {', '.join(BY_NAME)}") from None


def modes() -> list[ScreenEntry]:
    """The app's modes, in registry order."""
    return [entry for entry in SCREENS if entry.mode]


def keyed() -> list[ScreenEntry]:
    """The screens with a number key, by key."""
    return sorted((entry for entry in SCREENS if entry.key), key=lambda entry: entry.key or "")


def numbered() -> list[ScreenEntry]:
    """The screens with a number key, by number (the Overview's tiles and its key hints)."""
    return [entry for entry in keyed() if (entry.key or "").isdigit()]


def tiles() -> list[tuple[ScreenEntry, Tile]]:
    """The Overview's tiles, in number-key order, with the screen each opens."""
    return [(entry, entry.tile) for entry in numbered() if entry.tile is not None]


def css_paths() -> list[str | PurePath]:
    """``app.tcss``, then every screen's stylesheet in registry order."""
    paths: list[str | PurePath] = [STYLES / "app.tcss"]
    return paths + [STYLES / entry.css for entry in SCREENS if entry.css]
