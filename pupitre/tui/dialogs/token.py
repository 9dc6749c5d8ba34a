"""The EDF OA API token: its expiry, and its rotation (RG_TOK_NEW_0010: the new token
replaces the old one at once, so it is saved the moment it arrives)."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.feeds import PROVIDER, TOKEN_FEED, EdfOaSession
from pupitre.tui.app import pupitre_app


class TokenScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    TokenScreen > .dialog {
        width: 76;
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close", id="token.close"),
        Binding(
            "R",
            "rotate",
            "Rotate…",
            id="token.rotate",
            tooltip="Make a new token, after a confirmation: the old one stops working at once (RG_TOK_NEW_0010)",
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="token-dialog", classes="dialog"):
            yield Static("", id="token-text")
            with Horizontal(id="token-buttons", classes="dialog-buttons"):
                yield Button("Rotate token… (R)", id="rotate", variant="warning")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()
        self.show_status()

    def show_status(self, extra: Text | None = None) -> None:
        app = pupitre_app(self)
        now = app.runtime.clock.now()
        status = app.feeds.state(TOKEN_FEED).data
        text = Text("EDF OA API token\n\n", style="bold")
        if status is None:
            text.append("Expiry unknown (the token status has not been read yet).\n")
        else:
            days = rules.token_days_left(status, now)
            text.append(f"Expires {status.expires_at:%d/%m/%Y %H:%M} ({days:.0f} days left).\n")
        text.append(
            "\nRotating creates a new token; the old one stops working at once "
            "(RG_TOK_NEW_0010). The new token is saved to the secret store before "
            "anything else.\n"
        )
        shadow = app.runtime.connections[PROVIDER].session_as(EdfOaSession).token_shadowed_by()
        if shadow:
            text.append(
                f"\nThe token in use comes from the environment variable {shadow}, which is read "
                "first and which pupitre cannot change: after rotating, the new token is shown "
                f"once, and you must put it in {shadow} where it is set (or remove {shadow}).\n",
                style="bold",
            )
        if extra is not None:
            text.append("\n")
            text.append_text(extra)
        self.query_one("#token-text", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rotate":
            self.action_rotate()
        else:
            self.app.pop_screen()

    def action_rotate(self) -> None:
        """Ask first: the old token dies the moment the new one is made (RG_TOK_NEW_0010)."""
        if not self.query_one("#rotate", Button).disabled:
            self.confirm_then_rotate()

    @work(exclusive=True, group="token-confirm", exit_on_error=False)
    async def confirm_then_rotate(self) -> None:
        from pupitre.tui.dialogs.confirm import ConfirmScreen

        question = (
            "Rotate the EDF OA API token now?\n\nThe current token stops working AT ONCE (RG_TOK_NEW_0010): "
            "every other program or host using it (another pupitre, a script, cron) loses access "
            "until it gets the new token."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question)):
            self.show_status(Text("Not rotated: the current token is unchanged.", style="bold"))
            return
        self.query_one("#rotate", Button).disabled = True
        self.show_status(Text("Rotating…", style="bold"))
        self.rotate()

    @work(exclusive=True, group="token-rotation", exit_on_error=False)
    async def rotate(self) -> None:
        app = pupitre_app(self)
        session = app.runtime.connections[PROVIDER].session_as(EdfOaSession)
        try:
            result = await session.rotate_token()
        except ApiError as error:
            self.show_status(Text(f"Rotation refused: {error}. The current token is unchanged.", style="bold"))
            self.query_one("#rotate", Button).disabled = False
            return
        app.feeds.refresh(TOKEN_FEED, forced=True)
        if result.unsaved_token:
            self.app.push_screen(UnsavedTokenScreen(result.unsaved_token, result.save_error, result.shadowed_by))
            self.show_status(
                Text(f"New token NOT IN {result.shadowed_by} — see the message.", style="bold reverse")
                if result.saved_to
                else Text("New token NOT SAVED — see the message.", style="bold reverse")
            )
            return
        confirmed = "confirmed by EDF OA" if result.confirmed else "not yet confirmed by a status call"
        self.show_status(
            Text(
                f"New token saved to {result.saved_to}; expires {result.expires_at:%d/%m/%Y %H:%M} ({confirmed}).",
                style="bold",
            )
        )
        self.app.notify(escape(f"EDF OA token rotated; saved to {result.saved_to}."), timeout=10)


class UnsavedTokenScreen(ModalScreen[None]):
    """Shown once when the new token is not where it will be read next (it could not be saved,
    or an environment variable shadows it): the old one no longer works."""

    DEFAULT_CSS = """
    UnsavedTokenScreen > .dialog {
        width: 76;
    }
    """

    BINDINGS = [Binding("escape", "app.pop_screen", "I have stored it", id="token.unsaved.close")]

    def __init__(self, token: str, error: str, shadowed_by: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.error = error
        self.shadowed_by = shadowed_by

    def compose(self) -> ComposeResult:
        if self.shadowed_by and not self.error:
            text = Text(f"Put the new EDF OA token in {self.shadowed_by}\n\n", style="bold reverse")
            text.append(
                f"It was saved, but {self.shadowed_by} is set in this environment and is read first: at "
                "the next start pupitre would use the old token, which no longer works (RG_TOK_NEW_0010). "
                "Copy this token now; it is not shown again:\n\n"
            )
            text.append(self.token, style="bold")
            text.append(
                f"\n\nThen set {self.shadowed_by} to it where it is defined (shell profile, systemd unit, "
                f"cron line), or remove {self.shadowed_by} to use the saved token."
            )
        else:
            text = Text("The new EDF OA token could NOT be saved\n\n", style="bold reverse")
            text.append(
                f"Reason: {self.error}\n\nThe old token no longer works (RG_TOK_NEW_0010). Copy this "
                "token now; it is not shown again and is not written anywhere:\n\n"
            )
            text.append(self.token, style="bold")
            text.append(
                "\n\nThen store it with:  pupitre secrets set edf_oa api_token\n"
                "or in the environment: PUPITRE_EDF_OA_API_TOKEN"
            )
        with Vertical(id="token-dialog", classes="dialog"):
            yield Static(text)
            yield Button("I have stored it (esc)", id="close")

    def on_button_pressed(self) -> None:
        self.app.pop_screen()
