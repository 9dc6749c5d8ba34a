"""The program editor without the pilot: its state machine (``providers/grtgaz/editing``) and
its words (``tui/program_render``), on the simulator's day of §3.2.2.1's example (18/11 at
10:53: Martigues Q→Q- red since 09:15, DK6 Q→Q+ red announced for 11:15). At 10:53 the
first adjustable hour is 10h (slot 4) and the controlled window 10h…15h."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.store import OutboxItem, Store
from pupitre.providers.grtgaz import editing, rules
from pupitre.providers.grtgaz.editing import Leave, Phase, Refused
from pupitre.providers.grtgaz.feeds import STATES, SitePrograms, adjustable_from, state_key
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui import program_render as render

NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)
DAY = dt.date(2026, 11, 18)
MARTIGUES, MONTOIR, DK6 = "LI1009", "LI1006", "LI1001"
SLOT_11H = 5
FIRST = 4  # 10h: the first adjustable slot at 10:53


def simulator(now: dt.datetime = NOW) -> GrtgazSimulator:
    sim = GrtgazSimulator(ManualClock(now), FaultPlan(), seed_programs=True)
    sim.schedule(DK6, Flex.Q_TO_QPLUS, IndicatorStatus.RED, dt.datetime(2026, 11, 18, 10, 52, tzinfo=PARIS))
    sim.schedule(MONTOIR, Flex.PARTIAL, IndicatorStatus.RED, dt.datetime(2026, 11, 18, 9, 52, tzinfo=PARIS))
    sim.schedule(MARTIGUES, Flex.Q_TO_QMINUS, IndicatorStatus.RED, dt.datetime(2026, 11, 18, 8, 52, tzinfo=PARIS))
    return sim


class Editor:
    """What the screen holds, without the screen: the programs read, the context, the state."""

    def __init__(self, sim: GrtgazSimulator, site_id: str, store: Store, now: dt.datetime = NOW, day: dt.date = DAY):
        self.now = now
        declared = [sim.hms_profile(stored, now) for stored in sim._touch(site_id, day)]
        self.programs = SitePrograms(site_id, day, sim.rebuilt_hms_profile(site_id, day, now), declared, now)
        site = site_by_id(site_id)
        assert site is not None
        self.context = editing.program_context(
            site, day, self.programs, sim.site_indicators(site_id, now), store=store, tolerance=sim.tolerance
        )
        self.reference = editing.reference_of(self.programs)
        state = editing.start(site_id, day, self.reference, "rebuilt")
        contract = editing.contract_of(self.programs, site)
        self.state = editing.renumber(state, contract, self.programs, [])

    @property
    def first(self) -> int | None:
        return adjustable_from(self.state.draft.gas_day, self.now)

    def check(self) -> rules.ProgramCheck:
        return rules.precheck(self.context, self.state.values(), now=self.now, profile_id=self.state.program_id)

    def cells(self, slot: int) -> dict[str, str]:
        row = render.rows(self.state, self.reference, self.first, self.check())[slot]
        return {column: cell.plain for column, cell in zip(render.COLUMNS, render.row_cells(row), strict=True)}

    def type(self, slot: int, text: str) -> None:
        self.state = editing.type_text(editing.start_typing(self.state, slot, self.first), text)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.db")


def test_lowering_an_hour_under_q_minus_red_is_predicted_refused_and_says_why(store: Store) -> None:
    """Martigues has Q→Q- red: lowering 11h fails (Q0_DELAY, §3.2.3.2 1.b, received after
    H+15); raising it instead passes. The value typed is checked before it is kept."""
    editor = Editor(simulator(), MARTIGUES, store)
    assert editor.state.program_id == "20261118-LI1009-GFCCGE09-2"  # the next version (§2.2)
    assert editor.cells(3)["check"] == "· past" and not editor.state.writable(3, editor.first)
    reference = editor.reference[SLOT_11H]

    editor.type(SLOT_11H, str(int(reference) - 50_000))
    assert editor.state.phase is Phase.TYPING and editor.state.draft.values[SLOT_11H] == reference  # not kept yet
    cells, check = editor.cells(SLOT_11H), editor.check()
    assert cells["check"] == "✗ Q→Q- red" and cells["indicator"] == "Q→Q- ✗RED" and cells["new"].endswith("✎")
    summary = render.prediction_text(editor.state, check).plain
    assert "would be REFUSED" in summary and "HMS_PROFILE_NOT_RESPECT_Q0_DELAY" in summary
    assert "§3.2.3.2 1.b" in render.hour_text(check.hours[SLOT_11H], SLOT_11H).plain

    editor.state = editing.type_text(editor.state, str(int(reference) + 50_000))
    editor.state = editing.commit(editor.state)
    assert editor.state.phase is Phase.EDITING and editor.state.draft.values[SLOT_11H] == reference + 50_000
    assert editor.cells(SLOT_11H)["check"] == "✓ ok"
    assert "would be ACCEPTED" in render.summary_text(editor.check()).plain
    assert editor.state.changes_that_count(editor.first, editor.reference) == [SLOT_11H]
    assert "1 hour(s) changed" in render.timing_text(editor.state, NOW, editor.first)[0].plain


def test_a_value_that_is_not_one_is_refused_in_words_and_not_kept(store: Store) -> None:
    editor = Editor(simulator(), MONTOIR, store)
    editor.type(12, "-5000")
    assert "negative" in render.prediction_text(editor.state, editor.check()).plain
    with pytest.raises(Refused) as refused:
        editing.commit(editor.state)
    assert refused.value.severity == "error" and "18h" in refused.value.message
    editor.state = editing.type_text(editor.state, "1e6x")
    assert "not a number" in editor.state.input_error
    editor.state = editing.commit(editing.type_text(editor.state, "1e6"))
    assert editor.state.draft.values[12] == 1_000_000 and editor.state.typing is None
    assert editing.next_slot(editor.state, 12, 1, FIRST) == 13 and editing.next_slot(editor.state, 23, 1, FIRST) is None
    editor.state = editing.drop(editing.start_typing(editor.state, 13, FIRST, "7"))
    assert editor.state.typing is None and editor.state.draft.values[13] != 7


def test_above_qmax_is_predicted_rejected(store: Store) -> None:
    """Above the contract's qMax: REJECTED (EXEEDED_QMIN_QMAX, §2.4), 400, nothing taken."""
    editor = Editor(simulator(), MONTOIR, store)
    editor.type(10, "9000000")
    assert editor.cells(10)["check"] == "✗ Qmin/Qmax"
    check = editor.check()
    assert check.outcome is rules.Outcome.REJECTED
    assert "would be REJECTED" in render.summary_text(check).plain and "EXEEDED_QMIN_QMAX" in render.rejected_words(
        check
    )


def test_paste_fills_the_program_but_not_past_hours(store: Store) -> None:
    editor = Editor(simulator(), MONTOIR, store)
    before = list(editor.state.draft.values)
    editor.state, pasted = editing.paste(editor.state, "\t".join(["400000"] * 24), editor.first)
    assert editor.state.draft.values[:4] == before[:4]  # 06h-09h are past at 10:53
    assert editor.state.draft.values[4:] == [400_000.0] * 20
    assert pasted.changed == list(range(4, 24)) and pasted.kept == [0, 1, 2, 3]
    assert "20 hour(s) changed" in pasted.message and "4 past hour(s) kept their value (06h…09h)" in pasted.message
    assert editor.cells(4)["new"].replace(" ", "") == "400000"
    with pytest.raises(Refused) as refused:
        editing.paste(editor.state, "1\t2\t3", editor.first)
    assert refused.value.severity == "error" and "3 value(s) pasted, 24 expected" in refused.value.message
    assert editor.state.draft.values[4:] == [400_000.0] * 20

    editor.state = editing.reset(editor.state, editor.first)
    assert editor.state.draft.values == before and not editor.state.draft.dirty


def test_esc_closes_the_input_then_asks_before_dropping_changes(store: Store) -> None:
    editor = Editor(simulator(), MONTOIR, store)
    assert editing.leaving(editor.state) is Leave.LEAVE
    editor.type(12, "500000")
    assert editing.leaving(editor.state) is Leave.CLOSE_INPUT
    editor.state = editing.commit(editor.state)
    assert editing.leaving(editor.state) is Leave.ASK
    assert editing.leave_question(editor.state) == (
        "Drop the 1 change(s) of 20261118-LI1006-GFCCGE06-2? Nothing was sent."
    )
    editor.state = editing.mark_sent(editor.state, 7, editor.state.program_id)
    assert editing.leaving(editor.state) is Leave.LEAVE  # sent: nothing to lose


def test_sent_is_read_only_until_the_next_version(store: Store) -> None:
    editor = Editor(simulator(), MONTOIR, store)
    with pytest.raises(Refused):
        editing.new_version(editor.state)
    editor.type(12, "500000")
    editor.state = editing.mark_sent(editing.commit(editor.state), 7, "20261118-LI1006-GFCCGE06-2")
    assert editor.state.phase is Phase.SENT and not any(editor.state.writable(s, FIRST) for s in range(24))
    assert "Sent 20261118-LI1006-GFCCGE06-2 · Montoir" in render.title_text(editor.state, "Montoir").plain
    for refused in (
        lambda: editing.start_typing(editor.state, 12, FIRST),
        lambda: editing.paste(editor.state, "1\t" * 24, FIRST),
    ):
        with pytest.raises(Refused, match="n edits the next version"):
            refused()

    following = editing.new_version(editor.state)
    assert following.phase is Phase.EDITING and following.draft.base_label == "v2"
    assert following.draft.base[12] == 500_000 and not following.draft.dirty
    pending = [{"program": {"hmsProfileId": "20261118-LI1006-GFCCGE06-4"}}]
    assert following.sent_ids == {"20261118-LI1006-GFCCGE06-2"}
    assert editing.next_program_id(following, "GFCCGE06", editor.programs, []) == "20261118-LI1006-GFCCGE06-3"
    assert editing.next_program_id(following, "GFCCGE06", editor.programs, pending) == "20261118-LI1006-GFCCGE06-5"


def test_announced_indicator_shows_with_its_application_time(store: Store) -> None:
    """DK6: Q→Q+ turns red at 11:15 (published 10:52, §3.2.2.1). At 10:53 an increase is
    still checked against green, and the hour shows the change to come."""
    editor = Editor(simulator(), DK6, store)
    editor.type(SLOT_11H, str(int(editor.reference[SLOT_11H]) + 10_000))
    cells = editor.cells(SLOT_11H)
    assert cells["check"] == "✓ ok"
    assert cells["indicator"] == "Q→Q+ ✓green→✗RED 11:15 part. ✓green"
    assert "Q→Q+ ✓green→✗RED 11:15" in render.indicators_text(editor.check()).plain


def test_a_shortage_recorded_by_another_process_refuses_the_whole_day(store: Store) -> None:
    """§4 « quelle que soit la couleur de la pastille, la pénurie de flexibilité s'applique pour
    toute la journée gazière »: GREY recorded today in the store's timeline (by any process),
    the indicators green again, the pre-check still predicts the shortage refusal."""
    grey = dt.datetime(2026, 11, 18, 6, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    sim = simulator()
    assert not Editor(sim, MONTOIR, store).context.shortage
    store.record_states(STATES, [(state_key(MONTOIR, Flex.Q_TO_QPLUS), grey, "GREY", "")])
    editor = Editor(sim, MONTOIR, store)
    assert editor.context.shortage
    editor.type(12, "500000")
    check = editor.check()
    assert check.outcome is rules.Outcome.REFUSED
    assert [c.code for c in check.comments] == [rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR]
    assert "HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR" in render.summary_text(check).plain


def test_a_day_past_is_read_only(store: Store) -> None:
    editor = Editor(simulator(), MONTOIR, store, day=DAY - dt.timedelta(days=1))
    assert editor.first is None and not any(editor.state.writable(slot, None) for slot in range(24))
    assert "This gas day is over" in render.timing_text(editor.state, NOW, None)[0].plain
    assert "PAST_GAS_DAY" in render.summary_text(editor.check()).plain
    with pytest.raises(Refused, match="no longer adjustable"):
        editing.start_typing(editor.state, 20, None)


def test_passing_h_plus_15_makes_the_hour_read_only(store: Store) -> None:
    """At 11:14 the 10h slot is still adjustable (H-1 before H+15, chapter 2 §7); at 11:16 not."""
    sim = simulator(dt.datetime(2026, 11, 18, 11, 14, tzinfo=PARIS))
    editor = Editor(sim, MONTOIR, store, now=dt.datetime(2026, 11, 18, 11, 14, tzinfo=PARIS))
    assert editor.state.writable(4, editor.first) and editor.cells(4)["check"] == "✓ ok"
    editor.now = dt.datetime(2026, 11, 18, 11, 16, tzinfo=PARIS)
    assert not editor.state.writable(4, editor.first) and editor.cells(4)["check"] == "· past"
    assert "from 11h on" in render.timing_text(editor.state, editor.now, editor.first)[0].plain
    with pytest.raises(Refused, match="10h is no longer adjustable"):
        editing.start_typing(editor.state, 4, editor.first)


def test_23_hour_day_says_what_it_assumed(store: Store) -> None:
    """Saturday 28/03/2026 (the night of the 29th loses 02:00), issue 16: the editor says how
    it reads §13.2 « celle de 3h »; the slot that does not exist is added, not checked."""
    now = dt.datetime(2026, 3, 28, 10, 53, tzinfo=PARIS)
    editor = Editor(simulator(now), MONTOIR, store, now=now, day=dt.date(2026, 3, 28))
    text, assumed = render.timing_text(editor.state, now, editor.first)
    assert assumed and "Assumed: 23-hour day" in text.plain and "celle de 3h" in text.plain
    assert "GRTgaz decides" in text.plain
    assert editor.cells(20)["check"] == "· added §13.2"
    assert not render.timing_text(Editor(simulator(), MONTOIR, store).state, NOW, FIRST)[1]


def test_the_outbox_line_of_a_sent_program(store: Store) -> None:
    """Until GRTgaz took it: the outbox's words (the same on every screen) and what to do;
    then the verdict with GRTgaz's comment and what it means (§13.3)."""
    sim = simulator()
    editor = Editor(sim, MARTIGUES, store)
    editor.type(SLOT_11H, "1000")
    profile = rules.input_profile(editor.context, editing.commit(editor.state).values(), declared_at=NOW)
    assert sim.declare([profile]) == []
    stored = sim.stored(profile.hmsProfileId)
    assert stored is not None
    sent = editing.Sent(3, profile.hmsProfileId)
    item = OutboxItem(3, "grtgaz", "declare program", {}, "pending", NOW, NOW, 1, "HTTP 503", "")
    waiting = render.sent_text(sent, item, NOW).plain
    assert waiting.startswith("#3 RETRYING") and "x: export for e-mail" in waiting
    assert "still waiting for the API" in render.export_reason(item)
    delivered = OutboxItem(3, "grtgaz", "declare program", {}, "delivered", NOW, NOW, 1, "", "")
    assert "feasibility being checked" in render.sent_text(sent, delivered, NOW).plain
    sent.profile = sim.hms_profile(stored)
    verdict = render.sent_text(sent, delivered, NOW).plain
    assert "✗ REFUSED" in verdict and "HMS_PROFILE_NOT_RESPECT_Q0_DELAY" in verdict
    assert "n: edit the next version" in verdict
    assert render.sent_text(sent, None, NOW).plain == "#3 not in the outbox any more"
    assert render.export_reason(delivered) == ""
