"""The e-mail fallback (GRTgaz chapter 6): write the CSV, then say where and how to mail it.

The dialog stays until the operator closes it: the path, the recipient and the subject
line must be read (and can be copied, ``s``/``f``, through the terminal's clipboard).
Every export is written to the audit log (by :func:`pupitre.providers.grtgaz.export.export_for_email`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from pupitre.providers.grtgaz import export
from pupitre.providers.grtgaz.feeds import PROVIDER, GrtgazSession, payload_profile
from pupitre.providers.grtgaz.sites import site_by_id

if TYPE_CHECKING:
    from textual.screen import Screen


def export_text(result: export.EmailExport, reason: str = "") -> Text:
    text = Text()
    text.append("E-mail fallback written (GRTgaz chapter 6)\n\n", style="bold")
    if reason:
        text.append(f"{reason}\n\n")
    text.append("File     ", style="dim")
    text.append(f"{result.path}\n")
    text.append("To       ", style="dim")
    text.append(f"{result.recipient}\n")
    text.append("Subject  ", style="dim")
    text.append(f"{result.subject}\n\n", style="bold")
    if result.assumption:
        text.append("Say in the e-mail ", style="dim")
        text.append(f"{result.assumption}\n\n", style="bold")
    text.append(
        "Attach the file, send it, then PHONE GRTgaz to confirm the program's feasibility: "
        "by e-mail nothing comes back by itself.\n\n"
    )
    text.append("s: copy the subject · f: copy the file path · esc: close", style="dim")
    return text


class EmailExportScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    EmailExportScreen > .dialog {
        width: 80;
    }
    """

    BINDINGS = [
        Binding("s", "copy('subject')", "Copy subject", id="email.subject"),
        Binding("f", "copy('path')", "Copy path", id="email.path"),
        Binding("escape,enter,q", "close", "Close", id="email.close"),
    ]

    def __init__(self, result: export.EmailExport, reason: str = "") -> None:
        super().__init__()
        self.result = result
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="email-dialog", classes="dialog"):
            yield Static(export_text(self.result, self.reason), id="email-text")

    def on_mount(self) -> None:
        self.app.clear_notifications()

    def action_copy(self, what: str) -> None:
        value = self.result.subject if what == "subject" else str(self.result.path)
        self.app.copy_to_clipboard(value)
        self.notify(f"{'Subject' if what == 'subject' else 'Path'} copied (if the terminal allows it).", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)


def export_for_email(
    screen: "Screen[Any]", *, profile: Any = None, payload: dict[str, Any] | None = None, reason: str = ""
) -> export.EmailExport | None:
    """Write ``profile`` (or the outbox ``payload``'s program) as the chapter 6 CSV (audited),
    and show where it went. Returns ``None`` (with a visible message) when it cannot."""
    app: Any = screen.app
    runtime = app.runtime
    if profile is None and payload is not None:
        profile = payload_profile(payload)
    if profile is None:
        screen.notify("Nothing to export.", severity="warning")
        return None
    site = site_by_id(profile.hmsSiteId)
    session = runtime.connections[PROVIDER].session_as(GrtgazSession)
    try:
        result = export.export_for_email(
            profile,
            session.export_dir,
            runtime.store,
            runtime.clock.now(),
            q_min=site.q_min if site else None,
            q_max=site.q_max if site else None,
        )
    except export.ExportError as error:
        screen.notify(escape(str(error)), title="Not exported", severity="error", timeout=20)
        return None
    except OSError as error:
        screen.notify(
            escape(f"cannot write the e-mail file in {session.export_dir}: {error.strerror or error}"),
            title="Not exported",
            severity="error",
            timeout=20,
        )
        return None
    app.push_screen(EmailExportScreen(result, reason))
    return result
