"""One GRDF request: root fields, the five blocks as a collapsible tree, its status history.
Opening it marks its current status as seen."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, Tree

from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.feeds import PROVIDER, REQUESTS_FEED
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

BLOCKS = (
    "informations_fournisseur",
    "informations_contractuelles",
    "informations_realisation",
    "informations_intervention",
    "informations_client",
)
ROOT_FIELDS = (
    "numero_demande",
    "cree_le",
    "cree_par",
    "cree_automatiquement",
    "est_demande_fournisseur",
    "date_effet_contractuel",
    "date_dernier_changement_statut_externe",
    "derniere_date_demandee",
    "fournisseur_peut_prendre_rdv",
    "est_digitalisable",
    "presence_pj",
    "commentaire_soumission_analyse",
)


def add_branch(node: Any, value: Any) -> None:
    """Nested dicts and lists as tree nodes; API text always as plain Text (no markup)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                add_branch(node.add(Text(str(key)), expand=False), item)
            else:
                node.add_leaf(Text(f"{key}: {item}"))
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            if isinstance(item, (dict, list)):
                add_branch(node.add(Text(f"[{index}]"), expand=False), item)
            else:
                node.add_leaf(Text(str(item)))


class RequestDetailScreen(PupitreScreen):
    FEEDS = (REQUESTS_FEED,)
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="request.back")]

    def __init__(self, numero: str) -> None:
        super().__init__()
        self.numero = numero

    def compose(self) -> ComposeResult:
        yield HeaderBar("Request detail")
        with Horizontal(id="request-body", classes="fill"):
            with VerticalScroll(id="request-left"):
                yield Static("", id="request-root")
                yield Static("", id="request-history")
            yield Tree(Text("blocks"), id="request-blocks")
        yield FeedStatus(REQUESTS_FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one(Tree).focus()

    def redraw(self) -> None:
        tracked = (self.papp.feeds.state(REQUESTS_FEED).data or {}).get(self.numero)
        root = Text()
        demande = tracked.demande if tracked else None
        if demande is None:
            root.append(
                f"{self.numero}: " + (tracked.error if tracked and tracked.error else "not read yet"), style="bold"
            )
        else:
            self.papp.runtime.store.watch_seen(PROVIDER, self.numero, demande.statut_externe_demande.code)
            root.append(
                f"{demande.numero_demande} · {demande.type_demande.code} "
                f"{rules.type_label(demande.type_demande.code, demande.type_demande.libelle)}\n",
                style="bold",
            )
            root.append(f"status: {demande.statut_externe_demande.libelle} ({demande.statut_externe_demande.code})\n")
            root.append(f"CDG-F: {demande.cdgf.code} {demande.cdgf.libelle or ''}\n")
            if demande.mode_traitement is not None:
                root.append(f"mode: {demande.mode_traitement.libelle or demande.mode_traitement.code}\n")
            for name in ROOT_FIELDS[1:]:
                value = getattr(demande, name, None)
                if value in (None, ""):
                    continue
                if isinstance(value, dt.datetime):
                    value = f"{value:%d/%m/%Y %H:%M}"
                elif isinstance(value, dt.date):
                    value = f"{value:%d/%m/%Y}"
                elif isinstance(value, bool):
                    value = "yes" if value else "no"
                root.append(f"{name}: {value}\n")
            if tracked and tracked.error:
                root.append(f"last read failed: {tracked.error}\n", style="bold")
        self.query_one("#request-root", Static).update(root)
        self._draw_history()
        self._draw_blocks(demande)

    def _draw_history(self) -> None:
        entries = self.papp.runtime.store.history(REQUESTS_FEED, self.numero, limit=20)
        text = Text("Status history\n", style="bold")
        if not entries:
            text.append("no change seen yet", style="dim")
        for entry in entries:
            text.append(f"{entry.at:%d/%m %H:%M}  {entry.detail}\n")
        self.query_one("#request-history", Static).update(text)

    def _draw_blocks(self, demande: Any) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.root.expand()
        if demande is None:
            return
        for block in BLOCKS:
            content = getattr(demande, block)
            if content is None:
                continue
            node = tree.root.add(Text(block), expand=block == "informations_contractuelles")
            add_branch(node, content) if content else node.add_leaf(Text("(empty)"))
