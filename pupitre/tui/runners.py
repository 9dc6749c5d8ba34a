"""App-level runners: long-lived jobs that go on when the operator changes screen.

Switchgrid orders are followed here until done (the app starts it when the outbox delivers
an order; the order screens when they show one still running): each read repaints the
screens showing it (the feed's ``updated`` signal) and the end is notified. No screen is
imported here: the app imports this module, screens use it.
"""

from __future__ import annotations

import logging
from typing import Any

from rich.markup import escape

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.store import OutboxItem
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.feeds import FEED, PROVIDER, SwitchgridSession
from pupitre.providers.switchgrid.models import Order

log = logging.getLogger("pupitre.switchgrid.ui")
#: a Switchgrid order status as (glyph, word): the notifications here and the order screens
ORDER_WORDS = {
    "SUCCESS": ("✓", "done"),
    "SOME_REQUESTS_FAILED": ("✗", "some failed"),
    "ADDRESS_CHECK_FAILED": ("✗", "address refused"),
    "FAILED": ("✗", "failed"),
    "PENDING_REQUESTS": ("⏳", "running"),
    "CREATED": ("⏳", "created"),
    "PENDING_ADDRESS_CHECK": ("⏳", "checking address"),
}


def follow_order(app: Any, session: SwitchgridSession, order_id: str) -> None:
    """Poll an order with the settings' backoff until done, in an app-level worker (it goes
    on when the operator leaves the screen); each read repaints the screens showing it."""
    if order_id in session.following:
        return

    def updated(_: Order) -> None:
        app.feeds.updated.publish(FEED)

    async def work() -> None:
        try:
            order = await session.follow(order_id, updated)
        except ApiError as error:
            app.notify(
                escape(f"Order {order_id[:8]}: {error} — the order is read again at the next refresh (r)."),
                title="Switchgrid",
                severity="error",
                timeout=12,
            )
            return
        except Exception as error:
            log.exception("following order %s failed", order_id)
            app.notify(
                f"Order {order_id[:8]}: unexpected error ({type(error).__name__}); details in the log.",
                title="Switchgrid",
                severity="error",
                timeout=12,
            )
            return
        finally:
            app.feeds.updated.publish(FEED)
        word = ORDER_WORDS.get(order.status, ("", order.status.lower()))[1]
        app.notify(
            f"Order {order_id[:8]}: {word}.",
            title="Switchgrid",
            severity="warning" if order.status in rules.ORDER_FAILED else "information",
            timeout=10,
        )

    app.run_worker(work(), group=f"switchgrid:follow:{order_id}", exit_on_error=False)


def follow_delivered_order(app: Any, item: OutboxItem) -> None:
    """The follow-up of an order the outbox delivered (sent, or found after a restart)."""
    session = app.runtime.connections[PROVIDER].session_as(SwitchgridSession)
    order_id = session.sent_order(item.payload["ref"])
    if order_id is not None:
        follow_order(app, session, order_id)
