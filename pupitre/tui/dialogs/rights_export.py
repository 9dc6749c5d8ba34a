"""Export the data of the PCEs shown on the access-rights screen (``e``): the dialog
(data kind and period, checked by field; what it costs against today's GRDF quota,
recomputed as the form changes; refused when it does not fit) and the run (a worker, a
progress line on the screen, ``e`` again to cancel; the files are written at the end,
marked partial when the run stopped early). The run is the app's, not the screen's: it
goes on whatever screen the operator is on, and its end is notified. The rules live in
:mod:`pupitre.providers.grdf_adict.export`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

import msgspec
from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from pupitre.providers.core.files import export_dir
from pupitre.providers.grdf_adict import export
from pupitre.providers.grdf_adict.feeds import PROVIDER, AdictSession
from pupitre.tui.forms import KeepsTyping

FIELDS = ("periode", "date_debut", "date_fin")
LABELS = {"periode": "Period", "date_debut": "From", "date_fin": "To"}


class ExportRequest(msgspec.Struct, frozen=True):
    selection: export.Selection
    period: export.Period
    plan: str


class ExportDialog(KeepsTyping, ModalScreen["ExportRequest | None"]):
    """Data kind, period (``periode`` or two dates), and the cost against today's quota,
    live. ``ctrl+s`` (or Enter in a field, or the button) returns the request only when
    the form is valid, some PCE qualifies and it fits today's quota; otherwise it says why."""

    DEFAULT_CSS = """
    ExportDialog > .dialog {
        width: 72;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Export", id="export.submit"),
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]
    FORM_TITLE = "the export"

    def __init__(self, col: Mapping[str, Sequence[str]], rows: Sequence[int], client: Any, today: dt.date) -> None:
        super().__init__()
        self.col, self.rows, self.client, self.today = col, rows, client, today
        self.request: ExportRequest | None = None
        self.refusal = ""

    def compose(self) -> ComposeResult:
        last_month = self.today.replace(day=1) - dt.timedelta(days=1)
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(Text("Export the data of the PCEs shown", style="bold"))
            yield Static("tab: next field · ctrl+s or enter: export · esc: cancel", classes="export-hint")
            with Horizontal(classes="export-row"):
                yield Static("Data", classes="export-label")
                yield Select(
                    [(label, kind) for kind, label in export.KINDS.items()],
                    value=next(iter(export.KINDS)),
                    allow_blank=False,
                    id="export-kind",
                    compact=True,
                )
            with Horizontal(classes="export-row"):
                yield Static("Period", classes="export-label")
                yield Input(
                    f"{last_month:%Y-%m}",
                    id="export-periode",
                    compact=True,
                    placeholder="YYYY, YYYY-MM, YYYY-Www, YYYY-DDD",
                )
            with Horizontal(classes="export-row"):
                yield Static("or from", classes="export-label")
                yield Input("", id="export-date_debut", classes="export-date", compact=True, placeholder="YYYY-MM-DD")
                yield Static(" to ", classes="export-to")
                yield Input("", id="export-date_fin", classes="export-date", compact=True, placeholder="YYYY-MM-DD")
            for name in FIELDS:
                yield Static("", id=f"export-e-{name}", classes="field-error")
            yield Static("", id="export-selection", classes="export-text")
            yield Static("", id="export-plan", classes="export-text")
            yield Static("", id="export-refusal", classes="export-text -error")
            yield Button("Export", id="export-go", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.app.clear_notifications()
        self.refresh_plan()
        self.query_one("#export-periode", Input).focus()

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#export-{name}", Input).value for name in FIELDS}

    @property
    def kind(self) -> str:
        value = self.query_one("#export-kind", Select).value
        return value if isinstance(value, str) else ""

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """A period *or* two dates: typing one clears the other."""
        if event.value.strip():
            others = ("date_debut", "date_fin") if event.input.id == "export-periode" else ("periode",)
            for name in others:
                self.query_one(f"#export-{name}", Input).value = ""
        self.refresh_plan()

    @on(Select.Changed)
    def refresh_plan(self) -> None:
        """Recompute the period check, the PCEs and the cost as the form changes."""
        period, errors = export.period_form(self.kind, self.today, **self.values())
        for name in FIELDS:
            error = self.query_one(f"#export-e-{name}", Static)
            texts = errors.get(name, [])
            error.display = bool(texts)
            error.update(Text(f"⚠ {LABELS[name]}: " + " ".join(texts)) if texts else "")
        selection = export.select(self.col, self.rows, self.kind, self.today, period)
        self.query_one("#export-selection", Static).update(selection.sentence())
        self.request, self.refusal, plan = None, "", ""
        if period is None:
            self.refusal = "Fix the period: nothing is sent until it is valid."
        elif not selection.pces:
            self.refusal = "Nothing to export: no right shown gives access to this data."
        else:
            limiter = self.client.limiter
            check = self.client.bulk_check(len(selection.pces), reserve=export.RESERVE)
            plan = export.plan_sentence(
                len(selection.pces),
                check,
                per_day=limiter.per_day if limiter else None,
                per_second=limiter.per_second if limiter else None,
            )
            if check.fits:
                self.request = ExportRequest(selection, period, plan)
            else:
                self.refusal = check.message
        self.query_one("#export-plan", Static).update(plan)
        self.query_one("#export-plan", Static).display = bool(plan)
        refusal = self.query_one("#export-refusal", Static)
        refusal.display = bool(self.refusal)
        refusal.update(Text(f"⚠ {self.refusal}", style="bold"))
        self.query_one("#export-go", Button).disabled = self.request is None

    @on(Input.Submitted)
    @on(Button.Pressed, "#export-go")
    def action_submit(self) -> None:
        self.refresh_plan()
        if self.request is None:
            self.app.bell()
            self.notify(escape(f"Not started — {self.refusal}"), severity="error", timeout=8)
            return
        self.dismiss(self.request)

    def action_cancel(self) -> None:
        self.leave(lambda: self.dismiss(None))


class ExportController:
    """The export dialogs of one access-rights screen. The run itself is the app's
    (:meth:`pupitre.runners.Runners.start_export`): at most one at a time, going on
    whatever screen the operator is on; its progress line (``#rights-export``) says
    done/total, refused, time left and how to cancel (:meth:`draw`)."""

    def __init__(self, screen: Any) -> None:
        self.screen = screen

    @property
    def papp(self) -> Any:
        return self.screen.papp

    @property
    def job(self) -> export.ExportJob | None:
        """The app's export under way, or the last one."""
        job: export.ExportJob | None = self.papp.runners.export
        return job

    @property
    def run(self) -> export.ExportRun | None:
        """What the app's export under way (or the last one) has read."""
        return self.job.run if self.job is not None else None

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def line(self, text: Text | None) -> None:
        widget = self.screen.query_one("#rights-export", Static)
        widget.display = text is not None
        if text is not None:
            widget.update(text)

    def draw(self) -> None:
        """The progress line of the export under way, or how the last one ended."""
        job = self.job
        if job is None:
            self.line(None)
        elif job.outcome is not None:
            self.line(Text(job.outcome.line, style="" if job.outcome.outcome == "complete" else "bold"))
        elif job.run.cancel_requested:
            self.line(Text(job.run.progress(self._rate()) + " · stopping after the call under way…", style="bold"))
        else:
            self.line(Text(job.run.progress(self._rate()) + " · e: cancel (what was fetched is kept)", style="bold"))

    def start(self) -> None:
        """``e``: the dialog, a confirmation, then the run — or, while one runs, cancel it."""
        from pupitre.tui.dialogs.confirm import ConfirmScreen

        job = self.job
        if job is not None and job.running:

            def stop(yes: bool | None) -> None:
                if yes and job.running:
                    job.run.cancel_requested = True
                    self.draw()

            self.screen.app.push_screen(
                ConfirmScreen("Stop the export? No further call is made; what was fetched is written, marked partial."),
                stop,
            )
            return
        runtime = self.papp.runtime
        session = runtime.connections[PROVIDER].session_as(AdictSession)
        client = session.client
        today = runtime.clock.now().date()
        directory = export_dir(session.settings.export_dir, session.ctx.data_dir)
        left = export.cut_short(directory)
        if left:
            names = ", ".join(path.name for path in left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
            self.screen.notify(
                escape(
                    f"{len(left)} earlier export(s) stopped mid-run (pupitre was closed): "
                    f"what they fetched is in {names}, in {directory}."
                ),
                title="Export cut short",
                severity="warning",
                timeout=20,
            )

        def confirm(request: ExportRequest | None) -> None:
            if request is None:
                self.screen.notify("Cancelled: nothing sent.", timeout=4)
                return
            label = export.KINDS[request.selection.kind]

            def go(yes: bool | None) -> None:
                if not yes:
                    self.screen.notify("Cancelled: nothing sent.", timeout=4)
                    return
                run = export.ExportRun(request.selection.kind, request.period, request.selection.pces)
                try:
                    job = export.ExportJob.open(run, client, directory, runtime.store, runtime.clock)
                except OSError as error:
                    self.screen.notify(
                        escape(f"Cannot write in {directory}: {error.strerror or error}. Nothing sent."),
                        title="Export refused",
                        severity="error",
                        timeout=20,
                    )
                    return
                self.papp.runners.start_export(job)
                self.draw()

            self.screen.app.push_screen(
                ConfirmScreen(
                    f"Export {label} for {request.period.label} of {len(request.selection.pces)} PCE?\n"
                    f"{request.plan}\nFiles go to {directory}."
                ),
                go,
            )

        self.screen.app.push_screen(
            ExportDialog(self.screen.view.table.col, list(self.screen.rows), client, today), confirm
        )

    def _rate(self) -> float | None:
        limiter = self.papp.runtime.connections[PROVIDER].session_as(AdictSession).client.limiter
        return limiter.per_second if limiter else None
