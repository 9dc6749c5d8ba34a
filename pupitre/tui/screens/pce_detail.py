"""PCE detail (Enter on an access right): the right, contractual and technical data, and
the readings of a period — published or informative consumption, or injections for a
biomethane site — as a table and a bar chart of energy per period.

The period (``YYYY``, ``YYYY-MM``, ``YYYY-Www``, ``YYYY-DDD`` or ``YYYY-MM-DD..YYYY-MM-DD``)
is checked against the document's limits (5 years of published data, 3 of
informative, not after today) before any call is made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable, Sequence, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.typed_dates import typed_date
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.feeds import PROVIDER, AdictSession, is_ended
from pupitre.providers.grdf_adict.models import ContractualData, Reading, TechnicalData
from pupitre.tui.app import pupitre_app
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

T = TypeVar("T")

KINDS = (
    ("donnees_consos_publiees", "published consumption"),
    ("donnees_consos_informatives", "informative consumption"),
    ("donnees_injections_publiees", "published injections"),
)
BAR_WIDTH = 40


def parse_period(text: str) -> dict[str, Any]:
    """``periode=`` or ``start``/``end`` keyword arguments from the operator's text;
    :class:`rules.RuleError` with a sentence when it is neither."""
    text = text.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        try:
            return {"start": typed_date(first), "end": typed_date(last)}
        except ValueError:
            raise rules.RuleError(
                [f"« {text} » is not a date range: write YYYY-MM-DD..YYYY-MM-DD or DD/MM/YYYY..DD/MM/YYYY."]
            ) from None
    return {"periode": text}


def is_injection_site(role: str) -> bool:
    return "INJECTION" in (role or "")


def energy_bars(readings: Sequence[Reading], width: int = BAR_WIDTH) -> Text:
    """One line per period: its start, a bar proportional to its energy, the kWh."""
    points = []
    for reading in readings:
        block = reading.consommation or reading.injection
        start = getattr(block, "date_debut_consommation", None) or getattr(block, "date_debut_injection", None)
        points.append((f"{start:%Y-%m-%d}" if start else "?", reading.energy_kwh))
    text = Text()
    peak = max((e for _, e in points if e), default=0.0)
    for label, energy in points:
        length = round(width * energy / peak) if peak and energy else 0
        text.append(f"{label} ")
        text.append("█" * length, style="bold")
        text.append(f" {energy:,.0f} kWh\n".replace(",", " ") if energy is not None else " no value\n")
    if not points:
        text.append("no reading in this period", style="italic")
    return text


def key_values(pairs: Sequence[tuple[str, Any]]) -> str:
    return "\n".join(f"  {label:<22} {value if value not in (None, '') else '—'}" for label, value in pairs)


def contractual_text(data: ContractualData) -> str:
    c = data.donnees_contractuelles
    if c is None:
        return "  no contractual data"
    return key_values(
        [
            ("CAR (kWh/year)", c.car),
            ("CJA", c.cja),
            ("Profile", c.profil.profil_type_actuel if c.profil else None),
            ("Delivery tariff", c.tarif_acheminement),
            ("In service since", c.date_mes),
        ]
    )


def technical_text(data: TechnicalData) -> str:
    t = data.donnees_techniques
    if t is None:
        return "  no technical data"
    s, c, p = t.situation_compteur, t.caracteristiques_compteur, t.pitd
    address = (
        " ".join(x for x in (s.numero_rue, s.nom_rue, s.complement_adresse, s.code_postal, s.commune) if x)
        if s
        else None
    )
    return key_values(
        [
            ("Meter address", address),
            ("Reading frequency", c.frequence if c else None),
            ("Sensitive customer", c.client_sensible_mig if c else None),
            ("PITD", f"{p.identifiant_pitd} {p.libelle_pitd or ''}".strip() if p else None),
        ]
    )


class PceDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("t", "cycle_kind", "Data kind", id="pce.kind"),
        Binding("slash", "period", "Period", id="pce.period"),
        Binding("escape", "leave_period", "Back", id="pce.back"),
    ]

    def __init__(self, right: dict[str, str]) -> None:
        super().__init__()
        self.right = right
        self.kinds = [k for k in KINDS if is_injection_site(right.get("role", "")) or "injection" not in k[0]]
        self.kind = 0

    @property
    def session(self) -> AdictSession:
        return pupitre_app(self).runtime.connections[PROVIDER].session_as(AdictSession)

    def compose(self) -> ComposeResult:
        yield HeaderBar(f"PCE {self.right['pce']}")
        with VerticalScroll(id="pce-body", classes="fill"):
            yield Static(self.right_text(), id="pce-right", classes="block")
            yield Static("Contractual data", classes="section-title")
            yield Static("  loading…", id="pce-contract", classes="block")
            yield Static("Technical data", classes="section-title")
            yield Static("  loading…", id="pce-technical", classes="block")
            yield Static("", id="pce-kind", classes="section-title")
            yield Input(
                id="pce-period",
                classes="prompt",
                compact=True,
                placeholder="period: YYYY, YYYY-MM, YYYY-Www, YYYY-DDD or YYYY-MM-DD..YYYY-MM-DD",
            )
            yield Static("", id="pce-readings-status", classes="block")
            yield DataTable(id="pce-readings", cursor_type="row", zebra_stripes=True)
            yield Static("", id="pce-chart", classes="block")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one("#pce-readings", DataTable)
        for label in ("From", "To", "Index from", "Index to", "Volume m³", "Energy kWh", "Status", "Type"):
            table.add_column(label)
        today = pupitre_app(self).runtime.clock.now().date()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        self.query_one("#pce-period", Input).value = f"{last_month:%Y-%m}"
        self.show_kind()
        self.load_static()
        self.load_readings(f"{last_month:%Y-%m}")
        table.focus()

    def right_text(self) -> Text:
        r = self.right
        text = Text()
        text.append(f"PCE {r['pce']}", style="bold")
        text.append(f" · {r['holder'] or 'holder unknown'} · {r['role']}\n")
        today = pupitre_app(self).runtime.clock.now().date()
        state = r["state"] or "—"
        if is_ended(r["state"], r["end"], today):
            state = f"ENDED ({r['state']} at GRDF, but its end date is past)"
        text.append(f"Right: {state} · from {r['start'] or '—'} to {r['end'] or '—'} · route {r['route'] or '—'}\n")
        text.append(
            f"Data perimeter: {r['perim_start'] or '—'} → {r['perim_end'] or '—'} · proof: "
            f"{r['proof'] or '—'}" + (f" (due {r['deadline']})" if r["deadline"] else "")
        )
        return text

    def show_kind(self) -> None:
        label = self.kinds[self.kind][1]
        hint = "t: other data" if len(self.kinds) > 1 else ""
        suffix = "" if is_injection_site(self.right.get("role", "")) else " (no injection: not a biomethane site)"
        self.query_one("#pce-kind", Static).update(f"Readings: {label}   {hint}{suffix}")

    def action_cycle_kind(self) -> None:
        self.kind = (self.kind + 1) % len(self.kinds)
        self.show_kind()
        self.load_readings(self.query_one("#pce-period", Input).value)

    def action_period(self) -> None:
        self.query_one("#pce-period", Input).focus()

    @on(Input.Submitted, "#pce-period")
    def _period(self, event: Input.Submitted) -> None:
        self.load_readings(event.value)
        self.query_one("#pce-readings", DataTable).focus()

    def action_leave_period(self) -> None:
        if self.focused is self.query_one("#pce-period", Input):
            self.query_one("#pce-readings", DataTable).focus()
        else:
            self.app.pop_screen()

    @work(group="pce-static", exclusive=True, exit_on_error=False)
    async def load_static(self) -> None:
        pce = self.right["pce"]
        client = self.session.client
        await self._show_static("#pce-contract", lambda: client.contractual_data(pce), contractual_text)
        await self._show_static("#pce-technical", lambda: client.technical_data(pce), technical_text)

    async def _show_static(self, target: str, read: Callable[[], Awaitable[T]], render: Callable[[T], str]) -> None:
        widget = self.query_one(target, Static)
        try:
            widget.update(render(await read()))
        except ApiError as error:
            widget.update(Text(f"  ⚠ {error}", style="bold"))

    def clear_readings(self) -> None:
        """Nothing under the heading until the readings of its kind and period arrive: never
        one kind's (or period's) readings under another's heading."""
        self.query_one("#pce-readings", DataTable).clear()
        self.query_one("#pce-chart", Static).update("")

    def load_readings(self, period_text: str) -> None:
        self.clear_readings()
        status = self.query_one("#pce-readings-status", Static)
        kind = self.kinds[self.kind][0]
        today = pupitre_app(self).runtime.clock.now().date()
        try:
            period = parse_period(period_text)
            rules.period_params(**period, today=today, informative=kind == "donnees_consos_informatives")
        except rules.RuleError as error:
            status.update(Text("⚠ " + str(error) + " Nothing was asked of GRDF.", style="bold"))
            return
        status.update("asking GRDF…")
        self._fetch(kind, period, today)

    @work(group="pce-readings", exclusive=True, exit_on_error=False)
    async def _fetch(self, kind: str, period: dict[str, Any], today: dt.date) -> None:
        status = self.query_one("#pce-readings-status", Static)
        label = dict(KINDS)[kind]
        try:
            readings = await self.session.client.readings(kind, self.right["pce"], today=today, **period)
        except ApiError as error:
            self.clear_readings()
            status.update(Text(f"⚠ no {label}: {error}", style="bold"))
            return
        table = self.query_one("#pce-readings", DataTable)
        table.clear()
        total = 0.0
        for reading in readings:
            table.add_row(*reading_cells(reading))
            total += reading.energy_kwh or 0
        status.update(f"{len(readings)} reading(s) of {label}, {total:,.0f} kWh in all".replace(",", " "))
        self.query_one("#pce-chart", Static).update(energy_bars(readings))


def reading_cells(reading: Reading) -> list[str]:
    block = reading.consommation or reading.injection
    start = getattr(block, "date_debut_consommation", None) or getattr(block, "date_debut_injection", None)
    end = getattr(block, "date_fin_consommation", None) or getattr(block, "date_fin_injection", None)
    first = reading.releve_debut.index_brut_debut if reading.releve_debut else None
    last = reading.releve_fin.index_brut_fin if reading.releve_fin else None
    status = getattr(block, "statut_conso", None) or getattr(block, "statut_injection", None)
    kind = getattr(block, "type_conso", None) or getattr(block, "type_injection", None)

    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}".replace(",", " ")

    return [
        f"{start:%Y-%m-%d}" if start else "—",
        f"{end:%Y-%m-%d}" if end else "—",
        num(first.valeur_index if first else None),
        num(last.valeur_index if last else None),
        num(block.volume_brut if block else None),
        num(reading.energy_kwh),
        status or "—",
        kind or "—",
    ]
