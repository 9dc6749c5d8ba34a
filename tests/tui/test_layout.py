"""80×24 first (#17): the Overview's provider lines fit, worst first; each screen's primary
actions are in its footer; notifications leave the rows being edited in sight."""

from __future__ import annotations

from textual.widgets import DataTable, Input
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast, ToastRack

from pupitre.providers.core.checks import LEVELS, overall
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from pupitre.tui.screens.overview import OverviewScreen, ProviderLine, provider_line
from pupitre.tui.screens.program_editor import ProgramEditorScreen
from pupitre.tui.screens.programs import ProgramsScreen
from pupitre.tui.widgets.footer import fitting, key_width
from tests.tui.helpers import open_rights, show, wait_for, wait_runs

SIZE = (80, 24)


def footer_keys(app) -> list[str]:
    """The keys the current screen's footer shows, as displayed (``s``, ``?``, ``^p``)."""
    return [key.key_display for key in app.screen.query(FooterKey)]


async def test_the_overview_gives_every_provider_one_line_worst_first_at_80x24(make_app):
    app = make_app()
    app.runtime.simulators["grdf_adict"].overdue_proofs = True  # some proofs past their deadline: critical
    async with app.run_test(size=SIZE) as pilot:
        await wait_runs(pilot, app)
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        lines = list(screen.query(ProviderLine))
        await wait_for(pilot, lambda: all(line.findings for line in lines))
        await pilot.pause()
        lines = sorted(screen.query(ProviderLine), key=lambda line: line.region.y)
        assert len(lines) == 5
        # each a row of its own, all in sight, under the header and its attention line
        assert [line.region.height for line in lines] == [1] * 5
        assert lines[0].region.y == 2 and lines[-1].region.bottom <= SIZE[1] - 2
        # worst first, and each line's level is the one of `pupitre check`'s findings
        ranks = [LEVELS.index(overall(screen.provider_findings(line.provider))) for line in lines]
        assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]
        assert lines[0].provider == "grdf_adict"  # proofs past their deadline: critical
        text = str(lines[0].render())
        assert text.startswith("‼ CRITICAL  GRDF ADICT") and text.rstrip().endswith("[5]")
        assert screen.focused is lines[0]  # the worst line has the focus: enter opens it
        tiles = screen.query_one("#tiles")
        assert tiles.scroll_y == 0  # the worst line's tile first, in view
        await pilot.press("down")
        assert screen.focused is lines[1]
        tile = screen.query_one(f"#{lines[1].tile_id}")
        await wait_for(pilot, lambda: tile.region.y == tiles.region.y)  # its tile comes into view
        await pilot.press("up", "up")
        assert screen.focused is lines[-1]  # wraps
        await pilot.press("up", "up", "up", "up")
        assert screen.focused is lines[0]


def test_a_provider_line_fits_its_width_and_cuts_the_finding_with_an_ellipsis():
    from pupitre.providers.core.checks import Finding

    findings = [
        Finding("GRTgaz", "attention", "DK6: Q→Q+ turns RED at 11:15"),
        Finding("GRTgaz", "critical", "Montoir (Bretagne): GREY on partial, a shortage " * 3),
    ]
    line = provider_line("GRTgaz", "[2]", findings, "12s", 78)
    assert line.cell_len == 78
    assert line.plain.startswith("‼ CRITICAL  GRTgaz     Montoir (Bretagne): GREY")
    assert "…" in line.plain and line.plain.endswith(" +1    12s [2]")
    assert provider_line("GRTgaz", "[2]", [], "no data", 78).plain.startswith("✓ OK        GRTgaz     no finding yet")


def test_the_footer_keeps_the_screens_keys_first_and_always_the_key_help():
    class Node:
        pass

    app, screen = Node(), Node()

    def entry(node, key, description, binding_id):
        from textual.binding import ActiveBinding, Binding

        return (ActiveBinding(node, Binding(key, "a", description, id=binding_id), True, ""), key)

    own = [entry(screen, k, f"Action {k}", f"s.{k}") for k in "abcdefgh"]
    shared = [entry(app, "r", "Refresh", "feeds.refresh"), entry(app, "?", "Keys", "app.help")]
    width = sum(key_width(k, e.binding.description) for e, k in own[:3]) + key_width("?", "Keys")
    shown = fitting(own + shared, app, width)
    assert [e.binding.key for e in shown] == ["a", "b", "c", "?"]  # no room for r: the screen's keys win
    everything = sum(key_width(k, e.binding.description) for e, k in own + shared)
    assert [e.binding.key for e in fitting(own + shared, app, everything)] == [*"abcdefgh", "r", "?"]


async def test_every_screens_primary_actions_are_in_its_footer_at_80x24(make_app):
    from tests.tui.load_curves import open_screen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_runs(pilot, app)
        await pilot.pause()
        assert {"⏎", "r", "p", "?", "q"} <= set(footer_keys(app))  # the Overview has room for all
        await pilot.press("2")
        await wait_for(pilot, lambda: {"/", "s", "g", "?"} <= set(footer_keys(app)))
        await pilot.press("3")
        # tomorrow's acknowledgement: send, the two answers, the token and the reports
        await wait_for(pilot, lambda: {"s", "y", "n", "t", "c", "?"} <= set(footer_keys(app)))
        await pilot.press("4")
        await wait_for(pilot, lambda: {"+", "i", "d", "/", "?"} <= set(footer_keys(app)))
        await open_rights(pilot, app)
        await wait_for(pilot, lambda: {"/", "n", "x", "u", "f", "?"} <= set(footer_keys(app)))
        await open_screen(pilot, app)
        await wait_for(pilot, lambda: {"f", "o", "?"} <= set(footer_keys(app)))
        await pilot.press("2")
        await pilot.press("slash", *"Martigues", "enter")
        programs = await show(pilot, "g", ProgramsScreen)
        await wait_for(pilot, lambda: not programs.loading)
        await wait_for(pilot, lambda: {"e", "c", "?"} <= set(footer_keys(app)))
        await show(pilot, "e", ProgramEditorScreen)
        await wait_for(pilot, lambda: {"s", "v", "f1"} <= set(footer_keys(app)))  # a form: f1, not ?


async def _notify_three(pilot, app) -> None:
    app.notify("Refreshing…")
    app.notify("Program 20261118-LI1009-GFCCGE06-2 kept in the outbox: sent when GRTgaz answers", title="Outbox")
    app.notify(
        "GRTgaz refused the program: hour 11h lowered while Q→Q- is RED (Q0_DELAY); nothing was changed on its side",
        title="Program REFUSED",
        severity="error",
    )
    rack = app.screen.query_one(ToastRack)
    await wait_for(pilot, lambda: len(rack.query(Toast)) >= 3 and bool(shown_toasts(app)))
    await pilot.pause()


def shown_toasts(app) -> list[Toast]:
    """The toasts drawn on the screen (not those waiting under the newest)."""
    return [toast for toast in app.screen.query(Toast) if toast.region.height]


def _clear_of(app, *regions) -> None:
    """The newest notification alone, three rows at most above the footer, none of ``regions``."""
    [toast] = shown_toasts(app)
    assert "Program REFUSED" in str(toast.render())
    assert toast.region.height <= 3 and toast.region.bottom <= SIZE[1] - 1
    for region in regions:
        assert not toast.region.overlaps(region), (toast.region, region)


async def test_notifications_leave_the_curtailments_rows_in_sight(make_app):
    from tests.tui.curtailments import NOW, ready

    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(pilot, app)
        screen = app.screen
        assert isinstance(screen, CurtailmentsScreen)
        table = screen.query_one("#ack-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await _notify_three(pilot, app)
        _clear_of(app, table.region)


async def test_notifications_leave_the_value_being_typed_in_sight(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2", "slash", *"Martigues", "enter")
        programs = await show(pilot, "g", ProgramsScreen)
        await wait_for(pilot, lambda: programs.data is not None and not programs.loading)
        editor = await show(pilot, "e", ProgramEditorScreen)
        editor.query_one("#ed-table", DataTable).move_cursor(row=5, animate=False)
        await pilot.press(*"300000")
        box = editor.query_one("#ed-value", Input)
        await wait_for(pilot, lambda: box.value == "300000")
        await _notify_three(pilot, app)
        _clear_of(app, editor.query_one("#ed-table").region, box.region)


async def test_the_keys_help_lists_the_screens_own_keys_first(make_app):
    """Curtailments: its keys (Send first), then every screen's (1…6, r, p, ?, q), then Textual's
    moving and editing keys; one line per action."""
    from pupitre.tui.dialogs.keys import SECTIONS, KeysScreen
    from tests.tui.curtailments import NOW, ready

    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        keys = await show(pilot, "question_mark", KeysScreen)
        assert keys.title_text == "Curtailments"
        sections = [row.section for row in keys.rows]
        assert sections == sorted(sections, key=SECTIONS.index) and set(sections) == set(SECTIONS)
        own = [row.keys for row in keys.rows if row.section == "this screen"]
        assert own[:5] == ["s", "y", "n", "t", "c"]
        everywhere = {row.keys: row.description for row in keys.rows if row.section == "everywhere"}
        assert everywhere["? f1"] == "Keys" and everywhere["3"] == "Curtailments" and everywhere["p"] == "Pause"
        assert len({(row.section, row.description) for row in keys.rows}) == len(keys.rows)
        assert keys.query_one("#keys-dialog").region.height == SIZE[1]  # the whole terminal
