"""Delivers the outbox in a worker: at start (what a crash left pending), after each new
action, and again with backoff while an action waits for the API."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Callable

from rich.markup import escape
from textual.signal import Signal

from pupitre.providers.core.outbox import ActionRefused, Delivery
from pupitre.providers.core.outbox_words import READ_BACK_DIFFERS, OutboxState
from pupitre.providers.core.store import OutboxItem, StoreError

if TYPE_CHECKING:
    from pupitre.runtime import Runtime
    from pupitre.tui.app import PupitreApp

log = logging.getLogger("pupitre.outbox")
DELIVERED, HELD, NOT_ACCEPTED, RETRYING = (
    OutboxState.DELIVERED,
    OutboxState.HELD,
    OutboxState.NOT_ACCEPTED,
    OutboxState.RETRYING,
)
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 30.0


class Deliveries(MutableMapping[int, Delivery]):
    """The last delivery of each action, as the screens read it: what this process's attempts
    returned, and otherwise (an action delivered or read back by another process, or before a
    restart) what the store says — read once this process's drain is over, so a screen never
    sees a delivery before this process has reported it."""

    def __init__(self, runner: "OutboxRunner") -> None:
        self._runner = runner
        self._seen: dict[int, Delivery] = {}

    def __getitem__(self, item_id: int) -> Delivery:
        seen = self._seen.get(item_id)
        if self._runner.running or (seen is not None and not seen.owed):
            if seen is None:
                raise KeyError(item_id)
            return seen
        try:
            found = self._runner.runtime.outbox.delivery(item_id) or seen
        except StoreError as error:  # a screen redraws with what it has; the drain reports the store
            log.warning("outbox: the stored state of #%d cannot be read: %s", item_id, error)
            found = seen
        if found is None:
            raise KeyError(item_id)
        return found

    def __setitem__(self, item_id: int, delivery: Delivery) -> None:
        self._seen[item_id] = delivery

    def __delitem__(self, item_id: int) -> None:
        del self._seen[item_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._seen)

    def __len__(self) -> int:
        return len(self._seen)


class OutboxRunner:
    def __init__(self, app: "PupitreApp", runtime: "Runtime") -> None:
        self.app = app
        self.runtime = runtime
        self.updated: Signal[int] = Signal(app, "outbox-updated")
        self.last = Deliveries(self)
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
                if delivery.outcome == "retry" or delivery.owed:  # an owed read-back is retried too
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
                    escape(f"#{delivery.item_id} {DELIVERED.word}, but {READ_BACK_DIFFERS}: {delivery.message}"),
                    title="Check the acknowledgement",
                    severity="error",
                    timeout=30,
                )
            else:
                self.app.notify(
                    escape(f"#{delivery.item_id} {DELIVERED.word}: {delivery.message}"), title="Sent", timeout=10
                )
        elif delivery.outcome == "failed":
            self.app.notify(
                escape(f"#{delivery.item_id} {NOT_ACCEPTED.word}: {delivery.message} ({NOT_ACCEPTED.meaning})"),
                title="Action failed",
                severity="error",
                timeout=30,
            )
        elif delivery.outcome == "held" and self._held.get(delivery.item_id) != delivery.message:
            self._held[delivery.item_id] = delivery.message  # said once per process, not at every kick
            self.app.notify(
                escape(f"#{delivery.item_id} {HELD.word} ({HELD.meaning}): {delivery.message}"),
                title="Needs you",
                severity="warning",
                timeout=30,
            )
        elif delivery.outcome == "retry" and item is not None and item.attempts <= 1:
            self.app.notify(
                escape(f"#{delivery.item_id} {RETRYING.word}: {delivery.message}; {RETRYING.meaning}."),
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
