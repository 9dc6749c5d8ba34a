"""The GRDF ADICT action dialogs: declare a right (a form with field-level errors) and send
proofs (file paths). Both check everything locally with the provider's forms
(:mod:`pupitre.providers.grdf_adict.actions`) and return a payload only when it can be
sent; the caller confirms, then writes it to the outbox. A refusal names its reason
and nothing is written or sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Select, Static

from pupitre.providers.grdf_adict import actions, rules
from pupitre.providers.grdf_adict import models as m
from pupitre.tui.forms import KeepsTyping
from pupitre.tui.widgets.tickbox import TickBox

LABELS = {
    "id_pce": "PCE (GI + 6 digits, or 14 digits)",
    "role_tiers": "Role",
    "nom_titulaire": "Holder's name (a person)",
    "raison_sociale": "…or company name (a company)",
    "code_postal": "Postal code of the PCE",
    "courriel_titulaire": "Holder's e-mail",
    "numero_telephone_mobile_titulaire": "Holder's mobile (optional)",
    "date_debut_droit_acces": "Right from (YYYY-MM-DD)",
    "date_fin_droit_acces": "Right to (YYYY-MM-DD)",
    "perim_donnees_conso_debut": "Consumption data from",
    "perim_donnees_conso_fin": "Consumption data to",
    "perim_donnees_inj_debut": "Injection data from",
    "perim_donnees_inj_fin": "Injection data to",
    "perim_donnees_contractuelles": "contractual data",
    "perim_donnees_techniques": "technical data",
    "perim_donnees_informatives": "informative consumption",
    "perim_donnees_publiees": "published consumption",
}


def _field_id(name: str) -> str:
    return f"f-{name}"


class DeclareScreen(KeepsTyping, ModalScreen["dict[str, Any] | None"]):
    """``ctrl+s`` checks the form (errors beside each field); a clean form is returned.
    Esc asks before dropping what was typed."""

    DEFAULT_CSS = """
    DeclareScreen > .dialog {
        width: 80;
    }
    """

    FORM_TITLE = "the declaration"

    BINDINGS = [
        Binding("ctrl+s", "submit", "Check and send", id="declare.submit"),
        Binding("escape", "cancel", "Cancel", id="declare.cancel"),
    ]

    def __init__(self, now: dt.datetime, prefill: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.now = now
        self.prefill = prefill or {}

    def compose(self) -> ComposeResult:
        today = self.now.date()
        defaults: dict[str, Any] = {
            "role_tiers": m.ROLES[0],
            "date_debut_droit_acces": today.isoformat(),
            "date_fin_droit_acces": today.replace(year=today.year + 1).isoformat()
            if not (today.month == 2 and today.day == 29)
            else "",
            **self.prefill,
        }
        with Vertical(id="declare-dialog", classes="dialog"):
            yield Static(Text("Declare an access right (tab: next field · ctrl+s: check and send · esc)", style="bold"))
            yield Static("", id="declare-summary")
            with VerticalScroll(id="declare-fields"):
                for name in rules.DECLARATION_FIELDS:
                    if name in rules.PERIMETER_FLAGS:
                        yield TickBox(
                            f"Data perimeter: {LABELS[name]}",
                            bool(defaults.get(name)),
                            id=_field_id(name),
                            compact=True,
                        )
                    elif name == "role_tiers":
                        yield Static(LABELS[name], classes="field-label")
                        yield Select(
                            [(role, role) for role in m.ROLES],
                            value=defaults[name],
                            allow_blank=False,
                            id=_field_id(name),
                            compact=True,
                        )
                    else:
                        yield Static(LABELS.get(name, name), classes="field-label")
                        yield Input(str(defaults.get(name, "")), id=_field_id(name), compact=True)
                    yield Static("", id=f"e-{name}", classes="field-error")

    def on_mount(self) -> None:
        self.app.clear_notifications()
        for error in self.query(".field-error"):
            error.display = False
        self.query_one(f"#{_field_id('id_pce')}").focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in rules.DECLARATION_FIELDS:
            widget = self.query_one(f"#{_field_id(name)}")
            if isinstance(widget, Checkbox):
                out[name] = widget.value
            elif isinstance(widget, Select):
                out[name] = widget.value if isinstance(widget.value, str) else ""
            elif isinstance(widget, Input):
                value = widget.value.strip()
                if value:
                    out[name] = value
            else:
                raise TypeError(f"field {name}: unexpected widget {type(widget).__name__}")
        return out

    def action_submit(self) -> None:
        form = actions.declaration_form(self.values(), self.now)
        first = None
        for name in rules.DECLARATION_FIELDS:
            error = self.query_one(f"#e-{name}", Static)
            texts = form.errors.get(name, [])
            error.display = bool(texts)
            error.update(Text("⚠ " + " ".join(texts), style="bold") if texts else "")
            if texts and first is None:
                first = name
        other = [t for key, texts in form.errors.items() if key not in rules.DECLARATION_FIELDS for t in texts]
        summary = self.query_one("#declare-summary", Static)
        if form.ok:
            self.dismiss(form.payload)
            return
        summary.update(
            Text(
                f"Not sent: {len(form.messages)} problem(s) to fix" + (": " + " ".join(other) if other else "."),
                style="bold",
            )
        )
        if first is not None:
            self.query_one(f"#{_field_id(first)}").focus()

    def action_cancel(self) -> None:
        self.leave(lambda: self.dismiss(None))


class ProofsScreen(KeepsTyping, ModalScreen["dict[str, Any] | None"]):
    """File paths separated by ``;``; Enter checks them (count, size, type, the right's proof
    status) and returns the payload, or shows why nothing can be sent."""

    DEFAULT_CSS = """
    ProofsScreen > .dialog {
        width: 80;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="proofs.cancel")]
    FORM_TITLE = "the proofs form"

    def __init__(self, right: Any, now: dt.datetime) -> None:
        super().__init__()
        self.right = right
        self.now = now

    def compose(self) -> ComposeResult:
        r = self.right
        with Vertical(id="proofs-dialog", classes="dialog"):
            yield Static(Text(f"Send proofs for the right on PCE {r.id_pce} ({r.holder or '?'})", style="bold"))
            deadline = f" · due {r.date_limite_transmission_preuve}" if r.date_limite_transmission_preuve else ""
            yield Static(f"Proof status: {r.statut_controle_preuve or 'none'}{deadline}")
            yield Static(
                f"At most {rules.MAX_PROOF_FILES} files, each ≤ 4 MB; types "
                + ", ".join(rules.PROOF_TYPES)
                + ". Paths separated by ; (enter checks, esc cancels)"
            )
            yield Input(id="proofs-paths", placeholder="~/proofs/consent.pdf; ~/proofs/mail.txt", compact=True)
            yield Static("", id="proofs-errors", classes="field-error")

    def on_mount(self) -> None:
        self.app.clear_notifications()
        self.query_one("#proofs-errors").display = False
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        paths = [p.strip() for p in event.value.split(";") if p.strip()]
        form = actions.proofs_form(self.right, paths, self.now)
        if form.ok:
            self.dismiss(form.payload)
            return
        errors = self.query_one("#proofs-errors", Static)
        errors.display = True
        errors.update(Text("Refused — nothing sent:\n" + "\n".join(f"⚠ {t}" for t in form.messages), style="bold"))

    def action_cancel(self) -> None:
        self.leave(lambda: self.dismiss(None))
