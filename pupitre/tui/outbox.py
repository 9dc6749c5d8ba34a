"""Delivers the outbox in a worker: at start (what a crash left pending), after each new
action, and again with backoff while an action waits for the API."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from rich.markup import escape
from textual.signal import Signal

from pupitre.providers.core.outbox import ActionRefused, Delivery
from pupitre.providers.core.store import OutboxItem, StoreError

if TYPE_CHECKING:
    from pupitre.runtime import Runtime
    from pupitre.tui.app import PupitreApp

log = logging.getLogger("pupitre.outbox")
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 30.0


class OutboxRunner:
    def __init__(self, app: "PupitreApp", runtime: "Runtime") -> None:
        self.app = app
        self.runtime = runtime
        self.updated: Signal[int] = Signal(app, "outbox-updated")
        self.last: dict[int, Delivery] = {}
        self._held: dict[int, str] = {}
        self.running = False
        self._again = False
        self._delay = FIRST_RETRY_SECONDS
        self.next_retry_in: float | None = None
        #: What follows a delivered action of a kind, e.g. following a Switchgrid order:
        #: called with the delivered item, whether this process sent it or found it.
        self.on_delivered: dict[tuple[str, str], Callable[[OutboxItem], None]] = {}

    def submit(self, provider: str, action: str, payload: Any) -> int:
        """Write the action to the outbox (raises ActionRefused, writing nothing), then send it."""
        item_id = self.runtime.outbox.enqueue(provider, action, payload)
        self.updated.publish(item_id)
        self.kick()
        return item_id

    def kick(self) -> None:
        if self.running:
            self._again = True
            return
        self.running = True
        self.app.run_worker(self._drain(), group="outbox", exit_on_error=False)

    async def _drain(self) -> None:
        retry: Delivery | None = None
        try:
            for delivery in await self.runtime.outbox.drain():
                self.last[delivery.item_id] = delivery
                self._report(delivery)
                if delivery.outcome == "retry":
                    retry = delivery
        except StoreError as error:  # e.g. the disk filled up between sending and recording
            log.warning("outbox drain: %s", error)
            retry = Delivery(0, "retry", f"the store cannot be written: {error}")
            self.app.notify(
                escape(f"Actions could not be recorded: {error}. They stay pending and are retried."),
                title="Not saved",
                severity="error",
                timeout=30,
            )
        except Exception:  # never a traceback on screen; the action stays pending
            log.exception("outbox drain failed")
            retry = Delivery(0, "retry", "unexpected error; details in the log")
        finally:
            self.running = False
        if retry is not None:
            delay = max(self._delay, retry.retry_after or 0.0)
            self._delay = min(self._delay * 2, MAX_RETRY_SECONDS)
            self.next_retry_in = delay
            self.app.set_timer(delay, self.kick)
        else:
            self._delay, self.next_retry_in = FIRST_RETRY_SECONDS, None
        self.updated.publish(retry.item_id if retry else 0)
        if self._again:
            self._again = False
            self.kick()

    def _report(self, delivery: Delivery) -> None:
        item = self.runtime.outbox.item(delivery.item_id)
        provider = item.provider if item else ""
        if delivery.outcome == "delivered":
            follow_up = self.on_delivered.get((item.provider, item.action)) if item else None
            if item is not None and follow_up is not None:
                follow_up(item)
            for feed in self.runtime.feeds:  # the read-back shows on screen at once
                if feed.provider == provider:
                    self.app.feeds.refresh(feed.name, forced=True, after_action=True)
            if delivery.verified is False:
                self.app.notify(
                    escape(f"#{delivery.item_id} was accepted, but the read-back differs: {delivery.message}"),
                    title="Check the acknowledgement",
                    severity="error",
                    timeout=30,
                )
            else:
                self.app.notify(escape(f"#{delivery.item_id} delivered. {delivery.message}"), title="Sent", timeout=10)
        elif delivery.outcome == "failed":
            self.app.notify(
                escape(f"#{delivery.item_id} was NOT accepted: {delivery.message}"),
                title="Action failed",
                severity="error",
                timeout=30,
            )
        elif delivery.outcome == "held" and self._held.get(delivery.item_id) != delivery.message:
            self._held[delivery.item_id] = delivery.message  # said once per process, not at every kick
            self.app.notify(
                escape(f"#{delivery.item_id} is held, not sent again: {delivery.message}"),
                title="Needs you",
                severity="warning",
                timeout=30,
            )
        elif delivery.outcome == "retry" and item is not None and item.attempts <= 1:
            self.app.notify(
                escape(
                    f"#{delivery.item_id} could not be sent yet ({delivery.message}); "
                    "it is kept and retried until the API answers."
                ),
                title="Retrying",
                severity="warning",
                timeout=15,
            )


def submit_after_confirmation(
    screen: Any, provider: str, action: str, payload: Any, dialog: Any, queued: Callable[[int], None]
) -> None:
    """The one confirmation flow of every action: check it locally (its handler's ``check``),
    ask with ``dialog`` (a screen dismissed with ``True`` to send), then write it to the outbox
    and send it; ``queued`` gets the outbox id. A local refusal is shown and nothing is
    written. When the disk refuses the write (full, read-only, damaged), nothing is sent and
    the decision stays on screen, "not saved: why", until a retry saves it or the operator
    drops it (:class:`NotSavedScreen`)."""
    app = screen.app
    handler = app.runtime.connections[provider].handlers[(provider, action)]
    try:
        handler.check(payload, app.runtime.clock.now())
    except ActionRefused as refusal:
        screen.notify(escape(str(refusal)), title="Not sent", severity="error", timeout=20)
        return

    def save() -> int:
        return int(app.outbox.submit(provider, action, payload))

    def saved_later(item_id: int | None) -> None:
        if item_id is not None:
            queued(item_id)

    def confirmed(send: bool | None) -> None:
        if not send:
            screen.notify("Nothing was sent.", timeout=4)
            return
        try:
            item_id = save()
        except ActionRefused as refusal:
            screen.notify(escape(str(refusal)), title="Not sent", severity="error", timeout=20)
            return
        except StoreError as error:
            from pupitre.tui.dialogs.not_saved import NotSavedScreen

            log.warning("action not saved: %s", error)
            what = f"{app.runtime.connections[provider].title} · {action}: {handler.describe(payload)}"
            app.push_screen(NotSavedScreen(what, str(error), save), saved_later)
            return
        queued(item_id)

    app.push_screen(dialog, confirmed)
