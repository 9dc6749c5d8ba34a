"""One word per outbox state, the same on every screen that sends, in ``pupitre outbox`` and
in ``pupitre check`` (issue 15): the words, what refines them, and no screen with words of its own."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from pupitre.providers.core.outbox import Delivery
from pupitre.providers.core.outbox_words import HELD_SINCE_ENVIRONMENTS, OutboxState, state_of, status_line
from pupitre.providers.core.store import OutboxItem
from pupitre.tui.widgets.outbox_status import outbox_status_text

NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=dt.timezone.utc)
TUI = Path(__file__).resolve().parents[2] / "pupitre" / "tui"


def item(status: str, *, error: str = "", attempts: int = 0, response: str = "") -> OutboxItem:
    return OutboxItem(7, "grtgaz", "declare program", {}, status, NOW, NOW, attempts, error, response)


@pytest.mark.parametrize(
    ("row", "delivery", "sending", "word"),
    [
        (item("pending"), None, False, "QUEUED"),
        (item("pending"), None, True, "SENDING"),
        (item("pending", error="HTTP 503", attempts=1), None, False, "RETRYING"),
        (item("pending", error="no answer"), Delivery(7, "held", "no answer"), False, "HELD"),
        (item("held"), None, False, "HELD"),
        (item("delivered", response="201"), None, False, "DELIVERED"),
        (item("failed", error="400"), None, False, "NOT ACCEPTED"),
        (item("superseded", error="superseded by #8"), None, False, "REPLACED"),
        (item("dropped"), None, False, "DROPPED"),
    ],
)
def test_each_state_has_one_word(row: OutboxItem, delivery: Delivery | None, sending: bool, word: str) -> None:
    state = state_of(row, delivery, sending=sending)
    assert state.word == word
    assert outbox_status_text(row, delivery, sending=sending).plain.startswith(word)
    assert status_line(row, delivery, sending=sending).startswith(word)


def test_the_detail_says_why_and_what_happens_next() -> None:
    retrying = item("pending", error="HTTP 503", attempts=2)
    assert status_line(retrying) == "RETRYING — HTTP 503 (attempt 2); kept in the outbox and sent again by itself"
    assert status_line(item("held")) == f"HELD — {HELD_SINCE_ENVIRONMENTS}"
    assert status_line(item("failed", error="HTTP 400 bad id")) == "NOT ACCEPTED — HTTP 400 bad id"
    delivered = item("delivered", response="received by GRTgaz (201)")
    assert status_line(delivered) == "DELIVERED — received by GRTgaz (201)"
    verified = Delivery(7, "delivered", "read back: right is « Active »", verified=True)
    assert status_line(delivered, verified) == "DELIVERED — ✓ read back: right is « Active »"
    differs = Delivery(7, "delivered", "BOA0002 false", verified=False)
    text = outbox_status_text(delivered, differs)
    assert text.plain == "DELIVERED — READ-BACK DIFFERS: BOA0002 false"
    loud = [str(span.style) for span in text.spans if text.plain[span.start : span.end].startswith("READ-BACK")]
    assert loud and all("reverse" in style for style in loud)


def test_a_screen_hint_follows_the_state_it_belongs_to() -> None:
    hints = {OutboxState.RETRYING: "x: export for e-mail"}
    assert outbox_status_text(item("pending", error="timeout", attempts=1), hints=hints).plain.endswith(
        "· x: export for e-mail"
    )
    assert "x: export" not in outbox_status_text(item("failed", error="400"), hints=hints).plain


OLD_WORDS = ("WAITING FOR THE API", "kept and retried", "waiting to be sent", "NOT accepted", "was NOT accepted")


def test_no_module_under_tui_has_outbox_words_of_its_own() -> None:
    """The words of issue 15's report are gone from every screen (string constants, not grep)."""
    found = []
    for path in sorted(TUI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{path.name}: {word}" for word in OLD_WORDS if word in node.value]
    assert found == []


def test_every_state_says_what_to_do_and_every_action_advice_names_a_real_action(tmp_path: Path) -> None:
    """Shift handover (issue 18): one sentence per state; the actions' own sentences name
    actions the outbox really sends (a renamed action would silently lose its advice)."""
    from pupitre.providers.core.outbox_words import ACTION_TODO, TODO, todo_of
    from pupitre.providers.core.store import Store
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings

    assert set(TODO) == set(OutboxState)
    store = Store(tmp_path / "store.sqlite3")
    runtime = build_runtime(Settings(), sandbox=True, store=store)
    assert set(ACTION_TODO) <= set(runtime.outbox.handlers)
    store.close()
    refused = item("failed", error="400")
    assert todo_of(refused) == ACTION_TODO[("grtgaz", "declare program")][OutboxState.NOT_ACCEPTED]
    other = OutboxItem(8, "grdf_omega", "watch add", {}, "failed", NOW, NOW, 1, "400", "")
    assert todo_of(other) == TODO[OutboxState.NOT_ACCEPTED]
    held = item("held")
    assert "pupitre outbox release 7 --to sandbox|real" in todo_of(held) and "pupitre outbox drop 7" in todo_of(held)


def test_the_keys_named_in_what_to_do_are_the_screens_keys() -> None:
    """A sentence saying "`s` on Curtailments" names the key the catalogue gives that screen
    (a renamed or moved key would send the operator to the wrong action)."""
    import re

    from pupitre.keymap import BINDINGS
    from pupitre.providers.core.outbox_words import ACTION_TODO

    scopes = {
        "Curtailments": "curtailments",
        "program editor": "program_editor",
        "Access rights": "access_rights",
        "Load curves": "load_curves",
    }
    named = [
        (key, scopes[where])
        for sentences in ACTION_TODO.values()
        for sentence in sentences.values()
        for key, where in re.findall(
            r"`(\w)` (?:on|in the) (Curtailments|program editor|Access rights|Load curves)", sentence
        )
    ]
    assert len(named) >= 8
    for key, scope in named:
        assert any(b.scope == scope and key in b.keys.split(",") for b in BINDINGS), (key, scope)
