"""Load curves (key 6): search → ask → (the sandbox signer accepts) → order → plot, and the
order screen's errors, re-order, JSON tree; the plot's keys, stats and export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static, Tree

from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.feeds import FEED, PROVIDER, SwitchgridSession
from pupitre.settings import Settings
from pupitre.tui.curve_view import Trace
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.screens.load_curve_forms import ContractSearchScreen, OrderFormScreen
from pupitre.tui.screens.load_curve_order import OrderScreen, RawDataScreen
from pupitre.tui.screens.load_curve_plot import LoadCurvePlotScreen
from pupitre.tui.widgets.load_curve_plot import LoadCurvePlot
from tests.tui.helpers import wait_for, week_curve
from tests.tui.load_curves import open_screen, sign_in


def fast_settings() -> Settings:
    settings = Settings()
    settings.switchgrid.poll_first_seconds = 0.05
    settings.switchgrid.poll_max_seconds = 0.1
    return settings


def static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_search_ask_order_plot(make_app, make_runtime, tmp_path) -> None:
    runtime = make_runtime(fast_settings())
    app = make_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, app)
        sim = runtime.simulators[PROVIDER]
        # the name is validated before calling: nothing is sent for "Du"
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ContractSearchScreen))
        app.screen.query_one("#s-name", Input).value = "Du"
        app.screen.query_one("#s-name", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "at least 3 characters" in static_text(app.screen, "#s-error")
        await pilot.press("escape")

        ask_id = await sign_in(pilot, app, "Dupont", "1 rue de la paix 75002 Paris")
        form = app.screen
        assert f"https://app.switchgrid.tech/c/{ask_id[:8]}" in static_text(form, "#ask-result")
        body = sim.asks[ask_id].body
        assert body["electricityContracts"] == [sim.contracts[0].id]
        assert body["scopesAndPurpose"][0]["purposes"] == ["ENERGY_PERFORMANCE_STUDY"]
        assert body["consentDuration"] == "1 year"
        await pilot.press("enter")  # the focused "Copy consent link" button: OSC 52
        assert app.clipboard == f"https://app.switchgrid.tech/c/{ask_id[:8]}"
        trail = [row[2:4] for row in reversed(runtime.store.audit_log(PROVIDER))]
        assert trail == [("ask", "queued"), ("ask", "delivered"), ("ask", "verified")]  # through the outbox

        sim.accept(ask_id)  # the signer signs
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is screen)
        app.feeds.refresh(FEED, forced=True)
        await wait_for(pilot, lambda: any(a.status == "ACCEPTED" for a in screen.data().asks))
        screen.query_one("#lc-asks", DataTable).focus()
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderFormScreen))
        order_form = app.screen
        assert order_form.query_one("#o-prms", Input).value == "00000000000022"
        order_form.query_one("#o-since", Input).value = "2024-12-09T00:00:00[Europe/Paris]"
        order_form.query_one("#o-until", Input).value = "2024-12-16T00:00:00[Europe/Paris]"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderScreen))
        order_screen = app.screen
        assert "running" in static_text(order_screen, "#ord-status")
        runtime.clock.advance(seconds=5)  # the sandbox's scaled median latency has passed
        await wait_for(
            pilot,
            lambda: (
                "done" in static_text(order_screen, "#ord-status") and "1/1" in static_text(order_screen, "#ord-status")
            ),
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LoadCurvePlotScreen))
        plot = app.screen
        await pilot.pause()
        assert plot.view.primary.label == "00000000000022"
        assert len(plot.view.primary.ts) == 7 * 144
        assert "week of 09/12/2024" in static_text(plot, "#plot-title")
        stats = static_text(plot, "#plot-stats")
        assert "max" in stats and "kWh" in stats and "load factor" in stats
        widget = plot.query_one(LoadCurvePlot)
        assert "┤" in str(widget.render())  # plotext drew its axis
        # the order is kept: it is followed across restarts
        assert runtime.store.watch_list("switchgrid.orders")[0][0] == order_screen.order_id
        # it went through the outbox: queued, delivered, read back; followed to its end
        (item,) = [i for i in runtime.store.outbox(provider=PROVIDER) if i.action == "order"]
        assert item.status == "delivered" and order_screen.order_id in item.response
        trail = [row[3] for row in reversed(runtime.store.audit_log(PROVIDER)) if row[4].startswith(f"#{item.id} ")]
        assert trail == ["queued", "delivered", "verified"]
        assert list(sim.orders) == [order_screen.order_id]


async def test_plot_keys_stats_and_export(make_app, make_runtime, tmp_path) -> None:
    app = make_app(make_runtime())
    curve = week_curve()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(LoadCurvePlotScreen(Trace.of(curve, "00000000000022"), export_dir=tmp_path, zoom="week"))
        await pilot.pause()
        plot = app.screen
        assert plot.view.zoom == "week"
        await pilot.press("d")
        assert "day: Sun 15/12/2024" in static_text(plot, "#plot-title")
        await pilot.press("comma")
        assert "Sat 14/12/2024" in static_text(plot, "#plot-title")
        await pilot.press("full_stop")
        await pilot.press("end")
        reading = static_text(plot, "#plot-reading")
        assert "Sun 15/12 23:50–00:00" in reading  # the last point, in Paris time
        await pilot.press("left")
        assert "23:40–23:50" in static_text(plot, "#plot-reading")
        await pilot.press("home", "left")  # past the start: the window follows to the day before
        assert "Sat 14/12/2024" in static_text(plot, "#plot-title")
        await pilot.press("v")
        assert "previous day" in static_text(plot, "#plot-reading")
        await pilot.press("a")
        assert plot.view.overlay_mode == "none"
        await pilot.press("e")
        await pilot.pause()
        files = list(tmp_path.glob("loadcurve_*.csv"))
        assert len(files) == 1
        rows = files[0].read_text().splitlines()
        assert rows[0] == "startDate,powerInWatts,parisTime" and len(rows) == 1 + len(curve.points)
        assert any(str(files[0]) in str(n.message) for n in app._notifications)


async def test_failed_loadcurve_explained_and_reordered(make_app, make_runtime, monkeypatch) -> None:
    runtime = make_runtime(fast_settings())
    app = make_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, app)
        sim = runtime.simulators[PROVIDER]
        martin = next(c for c in sim.contracts if not c.loadcurve_service)
        ask_id = await sign_in(pilot, app, "Martin Jeanne", f"27 chemin des coustellines {martin.lines['ligne6'][:5]}")
        sim.accept(ask_id)
        session = runtime.connections[PROVIDER].session
        order = await session.place_order(
            {
                "requests": [
                    {
                        "type": "LOADCURVE",
                        "prms": [martin.prm],
                        "direction": "CONSUMPTION",
                        "since": "2024-12-09",
                        "until": "2024-12-12",
                    }
                ]
            }
        )
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is screen)
        runtime.clock.advance(seconds=5)
        await app.push_screen(OrderScreen(order.id))
        order_screen = app.screen
        await wait_for(pilot, lambda: "some failed" in static_text(order_screen, "#ord-status"))
        detail = static_text(order_screen, "#ord-detail")
        assert "No load-curve service" in detail and "aucun service souscrit" in detail
        assert "retry in a few hours" in detail and "enedisRetryAfterLoadcurveActivation" in detail
        status = static_text(order_screen, "#ord-status")
        assert "placed 18/11/2026 10:53" in status and "period 09/12/24→12/12/24" in status
        orders_before = len(sim.orders)
        await pilot.press("R")  # asks first: a re-order is a new order, billed in production
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "not billed" in static_text(app.screen, "Static")  # the sandbox is Switchgrid's test env
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is order_screen)
        assert len(sim.orders) == orders_before
        monkeypatch.setattr(SwitchgridSession, "test_env", property(lambda self: False))
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Switchgrid BILLS it" in static_text(app.screen, "Static")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderScreen) and app.screen is not order_screen)
        again = session.body(app.screen.order_id)
        assert again["requests"][0]["enedisRetryAfterLoadcurveActivation"] is True
        assert again["requests"][0]["since"] == "2024-12-09"
        # check: the failed order is an attention finding, until the operator stops following it
        from pupitre.providers.switchgrid.feeds import findings

        def failed_findings() -> list[str]:
            data = session.current(app.feeds.state(FEED).data)
            return [
                f.message
                for f in findings(runtime.settings.switchgrid, {FEED: data}, runtime.clock.now())
                if f.level == "attention" and order.id[:8] in f.message
            ]

        assert failed_findings()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        orders = screen.query_one("#lc-orders", DataTable)
        await wait_for(pilot, lambda: order.id in orders.rows)
        assert str(orders.get_cell(order.id, "period")) == "09/12/24→12/12/24"  # Paris dates, as sent
        assert str(orders.get_cell(order.id, "ordered")) == "18/11 10:53"
        orders.focus()
        orders.move_cursor(row=orders.get_row_index(order.id))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not failed_findings())
        assert order.id not in [k for k, _ in runtime.store.watch_list("switchgrid.orders")]


async def test_other_types_as_json_tree_and_cancel(make_app, make_runtime) -> None:
    runtime = make_runtime(fast_settings())
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, app)
        sim = runtime.simulators[PROVIDER]
        ask_id = await sign_in(pilot, app, "Dupont", "1 rue de la paix 75002 Paris")
        sim.accept(ask_id)
        session = runtime.connections[PROVIDER].session
        order = await session.place_order({"requests": [{"type": "C68", "prms": ["00000000000022"]}]})
        runtime.clock.advance(seconds=5)
        await pilot.press("escape", "escape")
        await app.push_screen(OrderScreen(order.id))
        order_screen = app.screen
        await wait_for(pilot, lambda: "✓ done" in static_text(order_screen, "#ord-status"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RawDataScreen))
        tree = app.screen.query_one(Tree)
        assert any("meter_reading" in str(n.label) for n in tree.root.children)
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is screen)
        app.feeds.refresh(FEED, forced=True)
        await wait_for(pilot, lambda: bool(screen.data().asks))
        screen.query_one("#lc-asks", DataTable).focus()
        await pilot.press("x")
        await pilot.pause()
        assert "revokes EVERY consent" in str(app.screen.query_one("#confirm-dialog", Static).render())
        await pilot.press("y")
        await wait_for(pilot, lambda: ask_id not in sim.asks)
        assert runtime.store.audit_log(PROVIDER)[0][2:4] == ("ask cancel", "ok")


@pytest.fixture
def curve() -> rules.LoadCurve:
    return week_curve()


def test_export_path_is_never_half_written(tmp_path: Path, curve) -> None:
    from pupitre.tui.curve_view import CurveView

    view = CurveView(Trace.of(curve, "x"), zoom="day")
    target = tmp_path / "out" / "curve.csv"
    assert view.export_csv(target) == 144
    assert not list(tmp_path.glob("out/*.part"))


async def test_a_bad_load_curve_payload_is_a_message(make_app, make_runtime) -> None:
    runtime = make_runtime(fast_settings())
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, app)
        sim = runtime.simulators[PROVIDER]
        session = runtime.connections[PROVIDER].session
        ask = await session.create_ask(
            {
                "electricityContracts": [sim.contracts[0].id],
                "signer": {"firstName": "A", "lastName": "B"},
                "consentDuration": "1 year",
            }
        )
        sim.accept(ask.id)
        order = await session.place_order(
            {
                "requests": [
                    {"type": "LOADCURVE", "prms": [sim.contracts[0].prm], "since": "2024-09-01", "until": "2024-12-01"}
                ]
            }
        )
        runtime.clock.advance(minutes=5)  # > 31 days: not inline, read from /request/{id}/data
        runtime.faults.add("/enedis/v2/request/*", "malformed", count=5)
        await app.push_screen(OrderScreen(order.id))
        order_screen = app.screen
        await wait_for(pilot, lambda: "✓ done" in static_text(order_screen, "#ord-status"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("not valid JSON" in str(n.message) for n in app._notifications))
        assert app.screen is order_screen and app.is_running


async def test_an_order_without_answer_is_held_on_screen_then_identified_by_the_operator(
    make_app, make_runtime, monkeypatch
) -> None:
    """Switchgrid places the order, its answer comes too late: pupitre never orders again by
    itself; the screen says HELD and why; ``u`` takes the id the operator read on Switchgrid's
    dashboard; the order is then delivered once, verified and followed to its end."""
    from pupitre.tui import outbox as outbox_module
    from pupitre.tui.screens.load_curve_forms import HeldOrderScreen

    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 0.05)
    runtime = make_runtime(fast_settings())
    app = make_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, app)
        sim = runtime.simulators[PROVIDER]
        session = runtime.connections[PROVIDER].session
        ask = await session.create_ask(
            {
                "electricityContracts": [sim.contracts[0].id],
                "signer": {"firstName": "A", "lastName": "B"},
                "consentDuration": "1 year",
            }
        )
        sim.accept(ask.id)
        runtime.faults.add("/enedis/v2/order", "late", method="POST")
        await app.push_screen(OrderFormScreen([sim.contracts[0].prm]))
        form = app.screen
        form.query_one("#o-type", Select).value = "C68"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "HELD" in static_text(form, "#o-error"), timeout=10)
        assert "app.switchgrid.tech" in static_text(form, "#o-error")
        assert any("HELD (waits for you; never sent again by itself)" in str(n.message) for n in app._notifications)
        (placed,) = sim.orders
        posts = sim.posts
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: "HELD" in static_text(screen, "#lc-outbox"))
        assert "u: tell pupitre" in static_text(screen, "#lc-outbox")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, HeldOrderScreen))
        held = app.screen
        held.query_one("#held-id", Input).value = "not-an-id"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✗" in static_text(held, "#held-result"))
        held.query_one("#held-id", Input).value = placed
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        (item,) = [i for i in runtime.store.outbox(provider=PROVIDER) if i.action == "order"]
        await wait_for(pilot, lambda: runtime.outbox.item(item.id).status == "delivered", timeout=10)
        await wait_for(pilot, lambda: placed in screen.data().orders)
        runtime.clock.advance(seconds=30)
        await wait_for(pilot, lambda: screen.data().orders[placed].status == "SUCCESS", timeout=10)
        assert sim.posts == posts and list(sim.orders) == [placed]  # ordered once
        assert not static_text(screen, "#lc-outbox")
        trail = [row[3] for row in reversed(runtime.store.audit_log(PROVIDER)) if row[4].startswith(f"#{item.id} ")]
        assert trail == ["queued", "retrying", "held", "identified", "resumed", "found", "verified"]


async def test_order_form_dates_are_paris_dates_and_a_future_until_is_refused(make_app, make_runtime) -> None:
    """Issue 16: bare dates were read as UTC ("since 2026-10-20" started at 02:00 Paris) and a
    future ``until`` was accepted. The form says dates are Paris dates and sends them so."""
    app = make_app(make_runtime())
    async with app.run_test(size=(120, 40)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        await app.push_screen(OrderFormScreen([sim.contracts[0].prm]))
        form = app.screen
        assert "are Paris dates" in static_text(form, "#o-hint")
        form.query_one("#o-since", Input).value = "2026-10-20"
        form.query_one("#o-until", Input).value = "2026-12-01"  # NOW is 18/11/2026
        form.query_one("#o-add").focus()
        await pilot.press("enter")
        assert "in the future" in static_text(form, "#o-error") and form.requests == []
        form.query_one("#o-until", Input).value = "2026-11-01T06:30"
        # Textual's button takes no second press during its 0.2 s press effect
        await wait_for(pilot, lambda: not form.query_one("#o-add").has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(form.requests) == 1)
        request = form.requests[0]
        assert request["since"] == "2026-10-20T00:00:00[Europe/Paris]"
        assert request["until"] == "2026-11-01T06:30:00[Europe/Paris]"
        assert rules.parse_instant(request["since"]) == dt.datetime(2026, 10, 19, 22, 0, tzinfo=dt.timezone.utc)


async def test_the_consent_link_stays_in_view_and_one_key_copies_it(make_app, make_runtime) -> None:
    """Issue 16: at 80×24 the consent link was printed below the visible area."""
    app = make_app(make_runtime())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, app)
        ask_id = await sign_in(pilot, app, "Dupont", "1 rue de la paix 75002 Paris")
        form = app.screen
        url = f"https://app.switchgrid.tech/c/{ask_id[:8]}"
        result = form.query_one("#ask-result", Static)
        await wait_for(pilot, lambda: url in static_text(form, "#ask-result"))
        assert result.region.height >= 2 and result.region.bottom <= 23  # above the footer, on screen
        assert url in "".join(str(form.query_one("#ask-result").render_line(y).text) for y in range(result.size.height))
        form.query_one("#ask-first", Input).focus()  # even from a field
        await pilot.press("ctrl+y")
        assert app.clipboard == url
