"""Every remappable key binding, by id, and the checks of ``[app] keys`` (no Textual import).

The screens declare their ``Binding(key, action, description, id=...)`` as Textual wants;
this module is the catalogue of those ids, so that the settings can be checked — by
``pupitre config check``, ``pupitre check`` and the dashboard alike — before anything
runs, and so that ``pupitre keys`` can list them without loading the UI. A test proves
the catalogue and the screens' ``BINDINGS`` agree (ids, keys, descriptions, scopes).

A **scope** is where a set of bindings lives: the app (everywhere), a screen, a dialog
(modal: the app's keys do not reach it) or a widget inside a screen. Textual looks a
key up along a chain — the focused widget, its screen, then the app unless the screen
is modal — and the first binding found wins, so one key bound to two ids in one chain
hides one of them. The defaults do that only where a binding says so (``overrides``:
the reports screen's own ``r``, for instance); a remap that does it is refused.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable, Mapping

import msgspec

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = frozenset(
    {"escape", "enter", "tab", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown"}
    | {"up", "down", "left", "right", "space"}
    | {f"f{n}" for n in range(1, 25)}
)
#: Textual's names for some characters (``textual.keys.KEY_NAME_REPLACEMENTS``).
_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
_REPLACED = {new: old for old, new in _REPLACEMENTS.items()}

#: Keys Textual itself binds for every screen: quit, copy / "how to quit", the command palette,
#: and moving between fields. Remapping an action onto them is refused.
RESERVED_KEYS = {
    "ctrl+q": "Textual's own quit key",
    "ctrl+c": "copy (and Textual's “how to quit” hint)",
    "ctrl+p": "the command palette",
    "tab": "moving to the next field",
    "shift+tab": "moving to the previous field",
}
#: Keys that lists, tables and fields of every screen use to move and open; an app-wide
#: action moved onto one would be unreachable wherever such a widget has the focus.
NAVIGATION_KEYS = frozenset({"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "enter", "space"})
QUIT_ID = "app.quit"


class Scope(msgspec.Struct, frozen=True):
    """Where bindings live. ``parent``: the scope whose keys also apply (None: a dialog)."""

    name: str
    title: str
    where: str
    """``module:Class`` that declares these bindings (the catalogue test imports it)."""
    parent: str | None = "app"


class KeyBinding(msgspec.Struct, frozen=True):
    """One remappable binding: its id, scope, default key(s) in Textual's syntax, description."""

    id: str
    scope: str
    keys: str
    description: str
    overrides: tuple[str, ...] = ()
    """Ids of outer scopes this binding deliberately takes the key from, on its screen."""


_S = "pupitre.tui.screens."
_D = "pupitre.tui.dialogs."
SCOPES: dict[str, Scope] = {
    scope.name: scope
    for scope in (
        Scope("app", "everywhere (one-key keys: not in dialogs and forms)", "pupitre.tui.app:PupitreApp", parent=None),
        Scope("overview", "Overview (1), a provider line", _S + "overview:ProviderLine"),
        Scope("flexibility", "Flexibility (2)", _S + "flexibility:FlexibilityScreen"),
        Scope("site_detail", "Flexibility, site detail", _S + "site_detail:SiteDetailScreen"),
        Scope("programs", "GRTgaz programs", _S + "programs:ProgramsScreen"),
        Scope("program_editor", "GRTgaz program editor", _S + "program_editor:ProgramEditorScreen"),
        Scope("program_confirm", "GRTgaz program, send dialog", _D + "program_confirm:ProgramConfirmScreen", None),
        Scope("paste_values", "GRTgaz program, paste dialog", _D + "paste_values:PasteValuesScreen", None),
        Scope("email_export", "GRTgaz e-mail fallback dialog", _D + "email_export:EmailExportScreen", None),
        Scope("curtailments", "Curtailments (3)", _S + "curtailments:CurtailmentsScreen"),
        Scope("ack_confirm", "Curtailments, send dialog", _D + "ack_confirm:AckConfirmScreen", None),
        Scope("token", "Curtailments, token dialog", _D + "token:TokenScreen", None),
        Scope("token_unsaved", "Curtailments, unsaved token dialog", _D + "token:UnsavedTokenScreen", None),
        Scope("edf_reports", "Curtailments, contracts & reports", _S + "edf_reports:EdfReportsScreen"),
        Scope("requests", "Requests (4)", _S + "requests:RequestsScreen"),
        Scope("request_detail", "Requests, detail", _S + "request_detail:RequestDetailScreen"),
        Scope("access_rights", "Access rights (5)", _S + "access_rights:AccessRightsScreen"),
        Scope(
            "rights_sort", "Access rights, sort panel", "pupitre.tui.widgets.rights_panels:SortPicker", "access_rights"
        ),
        Scope(
            "rights_filter",
            "Access rights, filter panel",
            "pupitre.tui.widgets.rights_panels:FilterPicker",
            "access_rights",
        ),
        Scope("declare", "Access rights, declare dialog", _D + "rights_actions:DeclareScreen", None),
        Scope("proofs", "Access rights, proofs dialog", _D + "rights_actions:ProofsScreen", None),
        Scope("rights_export", "Access rights, export dialog", _D + "rights_export:ExportDialog", None),
        Scope("pce_detail", "Access rights, PCE detail", _S + "pce_detail:PceDetailScreen"),
        Scope("load_curves", "Load curves (6)", _S + "load_curves:LoadCurvesScreen"),
        Scope("contract_search", "Load curves, contract search", _S + "load_curve_forms:ContractSearchScreen"),
        Scope("ask_form", "Load curves, consent ask form", _S + "load_curve_forms:AskFormScreen"),
        Scope("order_form", "Load curves, order form", _S + "load_curve_forms:OrderFormScreen"),
        Scope("order", "Load curves, order follow-up", _S + "load_curve_order:OrderScreen"),
        Scope("raw_data", "Load curves, raw data", _S + "load_curve_order:RawDataScreen"),
        Scope("plot", "Load curves, plot", _S + "load_curve_plot:LoadCurvePlotScreen"),
        Scope("held_order", "Load curves, unanswered order", _S + "load_curve_forms:HeldOrderScreen"),
        Scope("audit", "Audit (7)", _S + "audit:AuditScreen"),
        Scope("alerts", "Alerts (!)", _S + "alerts:AlertsScreen"),
        Scope("confirm", "confirmation dialogs", _D + "confirm:ConfirmScreen", None),
        Scope("not_saved", "an action the disk refused", _D + "not_saved:NotSavedScreen", None),
        Scope("refused_lines", "the refused lines of an import", _D + "refused_lines:RefusedLinesScreen", None),
        Scope("keys", "the keys help", _D + "keys:KeysScreen", None),
    )
}


def _b(scope: str, *rows: tuple[str, str, str] | tuple[str, str, str, tuple[str, ...]]) -> list[KeyBinding]:
    return [KeyBinding(row[0], scope, row[1], row[2], tuple(row[3]) if len(row) > 3 else ()) for row in rows]


BINDINGS: tuple[KeyBinding, ...] = tuple(
    _b(
        "app",
        ("screen.overview", "1", "Overview"),
        ("screen.flexibility", "2", "Flexibility"),
        ("screen.curtailments", "3", "Curtailments"),
        ("screen.requests", "4", "Requests"),
        ("screen.access_rights", "5", "Access rights"),
        ("screen.load_curves", "6", "Load curves"),
        ("screen.audit", "7", "Audit"),
        ("screen.alerts", "exclamation_mark", "Alerts"),
        ("feeds.refresh", "r", "Refresh"),
        ("feeds.pause", "p", "Pause"),
        ("app.help", "question_mark,f1", "Keys"),
        (QUIT_ID, "q", "Quit"),
    )
    + _b("overview", ("overview.open", "enter", "Open"))
    + _b("alerts", ("alerts.seen", "enter,s", "Seen"))
    + _b(
        "flexibility",
        ("flexibility.filter", "slash", "Filter"),
        ("flexibility.sort", "s", "Sort"),
        ("flexibility.detail", "enter", "Detail"),
        ("flexibility.programs", "g", "Programs"),
        ("flexibility.clear", "escape", "Clear filter"),
    )
    + _b("site_detail", ("detail.back", "escape,backspace", "Back"), ("detail.programs", "g", "Programs"))
    + _b(
        "programs",
        ("programs.edit", "e", "New program…"),
        ("programs.edit_selected", "c", "Edit selected…"),
        ("programs.previous_day", "left", "◀ Day"),
        ("programs.next_day", "right", "Day ▶"),
        ("programs.today", "t", "Today"),
        ("programs.export", "x", "E-mail CSV"),
        ("programs.reload", "l", "Reload"),
        ("programs.back", "escape,backspace", "Back"),
    )
    + _b(
        "program_editor",
        ("editor.send", "s", "Send…"),
        ("editor.edit", "enter", "Edit hour"),
        ("editor.paste", "v", "Paste 24…"),
        ("editor.reset", "b", "Reset"),
        ("editor.export", "x", "E-mail CSV"),
        ("editor.new_version", "n", "New version"),
        ("editor.back", "escape", "Back"),
    )
    + _b("program_confirm", ("program.send", "y", "Send"), ("program.cancel", "escape,n", "Cancel"))
    + _b("paste_values", ("paste.cancel", "escape", "Cancel"))
    + _b(
        "email_export",
        ("email.subject", "s", "Copy subject"),
        ("email.path", "f", "Copy path"),
        ("email.close", "escape,enter,q", "Close"),
    )
    + _b(
        "curtailments",
        ("curtailments.send", "s", "Send…"),
        ("curtailments.respect", "y", "Will respect"),
        ("curtailments.refuse", "n", "Will not"),
        ("curtailments.token", "t", "Token…"),
        ("curtailments.reports", "c", "Reports"),
        ("curtailments.unset", "x", "Unset"),
        ("curtailments.all", "a", "All respect"),
        ("curtailments.keep", "k", "Adopt EDF OA's"),
        ("curtailments.resend", "o", "Re-send ours…"),
    )
    + _b("ack_confirm", ("ack.send", "y", "Send"), ("ack.cancel", "escape,n", "Cancel"))
    + _b("token", ("token.close", "escape", "Close"), ("token.rotate", "R", "Rotate…"))
    + _b("token_unsaved", ("token.unsaved.close", "escape", "I have stored it"))
    + _b(
        "edf_reports",
        ("reports.back", "escape", "Back"),
        ("reports.switch", "v", "Switch"),
        ("reports.earlier", "left_square_bracket", "A day earlier"),
        ("reports.later", "right_square_bracket", "A day later"),
        ("reports.widen", "left_curly_bracket", "Widen (start earlier)"),
        ("reports.narrow", "right_curly_bracket", "Narrow (start later)"),
        ("reports.range", "d", "Dates…"),
        ("reports.export", "e", "Export CSV"),
        ("reports.refresh", "r", "Refresh", ("feeds.refresh",)),
    )
    + _b(
        "requests",
        ("requests.add", "plus,a", "Add"),
        ("requests.import", "i", "Import"),
        ("requests.remove", "d,delete", "Remove"),
        ("requests.filter", "slash", "Filter"),
        ("requests.sort", "s", "Sort"),
        ("requests.detail", "enter", "Detail"),
        ("requests.close", "escape", "Close"),
    )
    + _b("request_detail", ("request.back", "escape,backspace", "Back"))
    + _b(
        "access_rights",
        ("rights.search", "slash", "Search"),
        ("rights.declare", "n", "Declare"),
        ("rights.revoke", "x", "Revoke"),
        ("rights.proofs", "u", "Send proofs"),
        ("rights.filter", "f", "Filter"),
        ("rights.sort", "s", "Sort"),
        ("rights.deadlines", "d", "Deadlines"),
        ("rights.clear", "c", "Clear"),
        ("rights.export", "e", "Export data"),
        ("rights.detail", "enter", "Detail"),
        ("rights.close", "escape", "Close"),
    )
    + _b("rights_sort", ("sort.close", "escape", "Close", ("rights.close",)))
    + _b(
        "rights_filter",
        ("filter.apply", "a", "Apply"),
        ("filter.none", "x", "Untick all", ("rights.revoke",)),
        ("filter.close", "escape", "Close", ("rights.close",)),
    )
    + _b("declare", ("declare.submit", "ctrl+s", "Check and send"), ("declare.cancel", "escape", "Cancel"))
    + _b("proofs", ("proofs.cancel", "escape", "Cancel"))
    + _b("rights_export", ("export.submit", "ctrl+s", "Export"), ("export.cancel", "escape", "Cancel"))
    + _b(
        "pce_detail",
        ("pce.kind", "t", "Data kind"),
        ("pce.period", "slash", "Period"),
        ("pce.back", "escape", "Back"),
    )
    + _b(
        "load_curves",
        ("loadcurves.find", "f", "Find contract / ask"),
        ("loadcurves.order", "o", "Order data"),
        ("loadcurves.open", "enter", "Open"),
        ("loadcurves.copy", "c", "Copy consent link"),
        ("loadcurves.cancel", "x", "Cancel ask"),
        ("loadcurves.forget", "d", "Stop following order"),
        ("loadcurves.unanswered", "u", "Unanswered order"),
        ("loadcurves.sandbox_sign", "S", "Sign (sandbox)"),
    )
    + _b(
        "contract_search",
        ("search.tick", "space", "Tick"),
        ("search.ask", "n", "Ask consent"),
        ("search.back", "escape", "Back"),
    )
    + _b(
        "ask_form",
        ("ask.create", "ctrl+s", "Create ask"),
        ("ask.copy", "ctrl+y", "Copy link"),
        ("ask.back", "escape", "Back"),
    )
    + _b("order_form", ("order.place", "ctrl+s", "Place order"), ("order.back", "escape", "Back"))
    + _b(
        "order",
        ("order.data", "enter", "Data"),
        ("order.reorder", "R", "Re-order with retry…"),
        ("order.back", "escape", "Back"),
    )
    + _b("raw_data", ("raw.expand", "E", "Expand all"), ("raw.back", "escape", "Back"))
    + _b(
        "plot",
        ("plot.day", "d", "Day"),
        ("plot.week", "w", "Week"),
        ("plot.month", "m", "Month"),
        ("plot.all", "a", "All"),
        ("plot.cursor_left", "left", "Cursor ←"),
        ("plot.cursor_right", "right", "Cursor →"),
        ("plot.pan_back", "shift+left,comma", "Pan ←"),
        ("plot.pan_forward", "shift+right,full_stop", "Pan →"),
        ("plot.home", "home", "Cursor to start"),
        ("plot.end", "end", "Cursor to end"),
        ("plot.overlay", "v", "Overlay"),
        ("plot.export", "e", "Export CSV"),
        ("plot.back", "escape", "Back"),
    )
    + _b(
        "audit",
        ("audit.actions", "a", "Actions / log"),
        ("audit.search", "slash", "Search"),
        ("audit.provider", "v", "Provider"),
        ("audit.outcome", "o", "Outcome"),
        ("audit.today", "d", "Today / all"),
        ("audit.earlier", "left_square_bracket", "Day before"),
        ("audit.later", "right_square_bracket", "Day after"),
        ("audit.clear", "c", "Clear filters"),
        ("audit.close", "escape", "Close"),
    )
    + _b("confirm", ("confirm.yes", "y", "Yes"), ("confirm.no", "escape,n", "No"))
    + _b("held_order", ("held.back", "escape", "Back"))
    + _b("not_saved", ("not_saved.retry", "r", "Try again"), ("not_saved.drop", "escape", "Drop it"))
    + _b("refused_lines", ("refused.close", "escape,enter", "Close"))
    + _b("keys", ("keys.close", "escape,question_mark,f1", "Close"))
)


def binding_ids() -> list[str]:
    """Every remappable id, once (``order.back`` is one id on two screens), in catalogue order."""
    return list(dict.fromkeys(binding.id for binding in BINDINGS))


def bindings_of(binding_id: str) -> list[KeyBinding]:
    return [binding for binding in BINDINGS if binding.id == binding_id]


# -- key names ---------------------------------------------------------------------------
def _character_key(character: str) -> str:
    """Textual's name of the key that types ``character`` (``?`` → ``question_mark``)."""
    if character.isalnum():
        return character
    if character == "\t":
        return "tab"
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return _REPLACEMENTS.get(name, name)


def _is_character_name(name: str) -> bool:
    """True for the names Textual gives printable characters (``question_mark``, ``plus``)."""
    try:
        character = unicodedata.lookup(_REPLACED.get(name, name).replace("_", " "))
    except KeyError:
        return False
    return character.isprintable() and _character_key(character) == name


def normalize_key(key: str) -> str:
    """One key in Textual's long form (``?`` → ``question_mark``); ValueError when not a key."""
    key = key.strip()
    if not key:
        raise ValueError("an empty key")
    if len(key) == 1:
        if not key.isprintable() or key.isspace():
            raise ValueError(f"{key!r} is not a key name")
        return _character_key(key)
    *modifiers, base = key.split("+") if not key.endswith("++") else [*key[:-2].split("+"), "+"]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise ValueError(f"{key!r}: {modifier!r} is not a modifier (one of: {', '.join(MODIFIERS)})")
    if len(base) == 1 and base.isprintable() and not base.isspace():
        pass  # Textual names only a lone character: ``ctrl+@`` stays as written
    elif not (base in NAMED_KEYS or _is_character_name(base)):
        raise ValueError(
            f"{key!r} is not a key name (examples: f5, ctrl+r, escape, question_mark, a, R; see `pupitre keys`)"
        )
    return "+".join([*modifiers, base])


def split_keys(keys: str) -> list[str]:
    """A comma-separated key list in long form; ValueError on the first bad one."""
    return [normalize_key(key) for key in keys.split(",")]


# -- the checks --------------------------------------------------------------------------
def effective_keys(remaps: Mapping[str, str]) -> dict[tuple[str, str], list[str]]:
    """(scope, id) → the normalized keys in force (the remap when valid, else the default)."""
    out: dict[tuple[str, str], list[str]] = {}
    for binding in BINDINGS:
        keys = split_keys(binding.keys)
        if binding.id in remaps:
            try:
                keys = split_keys(remaps[binding.id])
            except ValueError:
                pass  # reported by :func:`problems`
        out[(binding.scope, binding.id)] = keys
    return out


def _chain(scope: str) -> list[str]:
    chain: list[str] = []
    current: str | None = scope
    while current is not None:
        chain.append(current)
        current = SCOPES[current].parent
    return chain


def _suggest(binding_id: str) -> str:
    import difflib

    ids = binding_ids()
    close = difflib.get_close_matches(binding_id, ids, n=3, cutoff=0.6)
    close += [i for i in ids if i.rsplit(".", 1)[-1] == binding_id and i not in close]
    return f" (did you mean {', '.join(close[:3])}?)" if close else ""


def _label(binding: KeyBinding) -> str:
    return f"{binding.id} ({binding.description})"


def problems(remaps: Mapping[str, str]) -> dict[str, list[str]]:
    """Every problem of ``[app] keys``, by the id it concerns: unknown ids, bad key names,
    reserved keys, two actions on one key in a chain Textual resolves, Quit hidden."""
    found: dict[str, list[str]] = {}
    known = set(binding_ids())
    for binding_id, keys in remaps.items():
        if binding_id not in known:
            found.setdefault(binding_id, []).append(
                f"unknown key binding id {binding_id!r}{_suggest(binding_id)}; `pupitre keys` lists every id"
            )
            continue
        if not isinstance(keys, str) or not keys.strip():
            found.setdefault(binding_id, []).append('give a key, e.g. "f5" (or remove the line to keep the default)')
            continue
        try:
            normalized = split_keys(keys)
        except ValueError as exc:
            found.setdefault(binding_id, []).append(str(exc))
            continue
        for key in normalized:
            if key in RESERVED_KEYS:
                found.setdefault(binding_id, []).append(f"{key} is reserved for {RESERVED_KEYS[key]}")
            elif key in NAVIGATION_KEYS and any(b.scope == "app" for b in bindings_of(binding_id)):
                found.setdefault(binding_id, []).append(
                    f"{key} moves in lists and opens rows on most screens; an action of every screen cannot use it"
                )
    for inner, outer, key in conflicts(remaps):
        if inner.id not in remaps and outer.id not in remaps:
            continue  # a default pairing (a test keeps the defaults free of them)
        # Blame the remapped one; with both remapped, the inner one (it hides the other).
        culprit, other = (inner, outer) if inner.id in remaps else (outer, inner)
        where = SCOPES[inner.scope].title
        if other.id == QUIT_ID:
            message = f"{key} is Quit's key: on {where} it would hide Quit"
        elif culprit.id == QUIT_ID:
            message = f"Quit on {key} would be hidden on {where} by {_label(other)}"
        else:
            message = f"{key} is already {_label(other)} on {where}"
        found.setdefault(culprit.id, []).append(message)
    return found


def conflicts(remaps: Mapping[str, str]) -> list[tuple[KeyBinding, KeyBinding, str]]:
    """(inner, outer, key): two ids on one key in a chain Textual resolves (the focused
    widget, its screen, then the app unless the screen is a dialog), not declared in
    ``overrides``; each pair once."""
    effective = effective_keys(remaps)
    by_scope: dict[str, list[KeyBinding]] = {}
    for binding in BINDINGS:
        by_scope.setdefault(binding.scope, []).append(binding)
    found: list[tuple[KeyBinding, KeyBinding, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for scope in SCOPES:
        active = [binding for name in _chain(scope) for binding in by_scope.get(name, [])]
        for index, inner in enumerate(active):
            for outer in active[index + 1 :]:
                shared = set(effective[(inner.scope, inner.id)]) & set(effective[(outer.scope, outer.id)])
                if not shared or inner.id == outer.id:
                    continue
                if inner.scope != outer.scope and outer.id in inner.overrides:
                    continue
                key = sorted(shared)[0]
                first, second = sorted((inner.id, outer.id))
                pair = (key, first, second)
                if pair not in seen:
                    seen.add(pair)
                    found.append((inner, outer, key))
    return found


def rows(remaps: Mapping[str, str]) -> Iterable[tuple[str, str, str, str, str]]:
    """(id, where, default, remapped or "", description) for every binding, catalogue order."""
    for binding in BINDINGS:
        remapped = remaps.get(binding.id, "")
        yield binding.id, SCOPES[binding.scope].title, binding.keys, remapped, binding.description
