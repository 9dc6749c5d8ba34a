"""The settings model: one msgspec struct per TOML section.

Adding a provider's section is one class (a :class:`Section` subclass) plus one field
on :class:`Settings`. Unknown keys are refused so that a typo never silently does
nothing. Secrets never live here: they come from :mod:`pupitre.providers.core.secrets`.
Field descriptions (``msgspec.Meta``) double as the comments of the template written by
``pupitre config edit`` and as the labels of ``pupitre config show``.

Types and bounds are checked when settings are read (:meth:`Settings.from_dict`, one
``msgspec.convert`` per section); the rules msgspec cannot say (https URLs, times of day,
site ids, key remaps…) are each section's :meth:`Section.rules`, run by ``__post_init__``
whenever a section is made, read or built in code. Read settings report **every** problem.
"""

import re
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Mapping

import msgspec
from msgspec import Meta, Struct, field

from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.urls import check_base_url
from pupitre.providers.grtgaz.sites import SITES, site_by_id, site_by_label

#: where a problem is: section, setting, then a list index or a table key
Loc = tuple[str | int, ...]
#: one problem: where, and one sentence saying what is wrong
Problem = tuple[Loc, str]


class SettingsError(Exception):
    """Settings that cannot be used: every problem found, each located (not a ValueError, which
    msgspec would turn into its own error with the first problem only)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {message}" for loc, message in problems))


def https_url(value: str) -> str:
    """:func:`check_base_url`'s URL; ValueError saying why it is refused."""
    try:
        return check_base_url(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    except Exception:  # urllib's ValueError and friends
        raise ValueError("not a valid URL") from None


def time_of_day(value: str) -> int | None:
    """Minutes since midnight of a real time of day ``HH:MM`` (00:00 to 23:59), else None."""
    hours, colon, minutes = value[:2], value[2:3], value[3:]
    if colon != ":" or not all(len(part) == 2 and part.isascii() and part.isdigit() for part in (hours, minutes)):
        return None
    return int(hours) * 60 + int(minutes) if int(hours) < 24 and int(minutes) < 60 else None


def _not_a_time(value: str) -> str:
    return f'{value!r} is not a time of day: write HH:MM between 00:00 and 23:59, e.g. "16:00"'


class Section(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every section: unknown keys are errors; :meth:`rules` run on every section made."""

    #: Settings that must be set before the real API is used (provider sections).
    required_for_real: ClassVar[tuple[str, ...]] = ()
    #: Settings that are API URLs: https, or plain http to loopback (stored without a trailing slash).
    urls: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        found: list[Problem] = []
        for name in self.urls:
            try:
                setattr(self, name, https_url(getattr(self, name)))
            except ValueError as exc:
                found.append(((name,), str(exc)))
        found += self.rules()
        if found:
            raise SettingsError(found)

    def rules(self) -> list[Problem]:
        """The section's problems beyond types and bounds (it may normalise values)."""
        return []

    def missing(self) -> list[str]:
        """Required settings still empty (the provider then runs on its sandbox)."""
        return [name for name in self.required_for_real if not getattr(self, name)]

    @property
    def configured(self) -> bool:
        """True when every setting the real API needs is set."""
        return not self.missing()


class AppSettings(Section):
    """General behaviour of the dashboard."""

    sandbox: Annotated[bool, Meta(description="force every provider onto its simulator")] = False
    default_refresh_seconds: Annotated[
        float, Meta(gt=0, description="refresh interval of feeds that have no setting of their own")
    ] = 60
    notifications: Annotated[bool, Meta(description="show pop-up notifications")] = True
    operator: Annotated[
        str, Meta(description='who works at this console, in the audit log and on other consoles ("" = the OS user)')
    ] = ""
    keep_audit_days: Annotated[
        int, Meta(ge=1, description="days the audit log is kept (pruned at start, in the background)")
    ] = 365
    keep_history_days: Annotated[
        int, Meta(ge=1, description="days the history of changes (indicators, request statuses, rights) is kept")
    ] = 90
    keep_snapshots_days: Annotated[
        int,
        Meta(ge=1, description="days a stored result that was not read again is kept (e.g. programs of past gas days)"),
    ] = 30
    keys: Annotated[
        dict[str, str],
        Meta(
            description='remap key bindings: binding id = key, e.g. { "feeds.refresh" = "f5" }; '
            "`pupitre keys` lists every id and its key"
        ),
    ] = {}

    def rules(self) -> list[Problem]:
        """Ids that exist, key names Textual knows, no two actions on one key, Quit reachable."""
        if not self.keys:
            return []
        from pupitre import keymap  # only for remaps (the dashboard imports it anyway; `check` need not)

        found = keymap.problems(self.keys)
        return [(("keys", key), message) for key, messages in found.items() for message in messages]


class AlertsSettings(Section):
    """Where alerts reach the operator besides the attention line and the alerts screen (!):
    each channel can be turned off."""

    bell: Annotated[bool, Meta(description="ring the terminal bell when an alert is raised")] = True
    desktop: Annotated[
        bool, Meta(description="desktop notification through the terminal (OSC 9 and OSC 777) when an alert is raised")
    ] = True
    title: Annotated[
        bool, Meta(description='the terminal / tmux window title carries the worst open alert ("pupitre — CRITICAL 2")')
    ] = True
    command: Annotated[
        str,
        Meta(
            description="run this command once per alert (across every console and agent on the store), the "
            'alert as JSON on its stdin, e.g. "/usr/local/bin/page-oncall --team gas"; "" = none'
        ),
    ] = ""
    command_timeout_seconds: Annotated[
        float, Meta(gt=0, le=600, description="the command is stopped after this many seconds (its failure is shown)")
    ] = 10

    def rules(self) -> list[Problem]:
        """A command line split as a shell would (no shell runs it): quotes must close."""
        if not self.command.strip():
            self.command = ""
            return []
        import shlex

        try:
            shlex.split(self.command)
        except ValueError as exc:
            return [(("command",), f"not a command line ({exc}): quote it as a shell would")]
        return []


class StoreSettings(Section):
    """Where pupitre keeps its data: the local SQLite file (default), or a PostgreSQL database
    shared by a team (team mode; ``PUPITRE_STORE_URL`` overrides it)."""

    url: Annotated[
        str,
        Meta(
            description='PostgreSQL database shared by the team, e.g. "postgresql://pupitre@db.example/pupitre" '
            '(no password here: ~/.pgpass); "" = the local file'
        ),
    ] = ""

    def rules(self) -> list[Problem]:
        """A PostgreSQL URL without a password."""
        if not self.url:
            return []
        from pupitre.providers.core.store_pg import check_url

        try:
            self.url = check_url(self.url, where="[store] url")
        except ConfigError as exc:
            return [(("url",), str(exc))]
        return []


class GrtgazSettings(Section):
    """GRTgaz SFM (flexibility): indicators, programs, declarations."""

    required_for_real = ("client_id", "audience", "certificate", "private_key")
    urls = ("base_url", "token_url")

    base_url: Annotated[str, Meta(description="API base URL")] = "https://api.offre.grtgaz.com/sfm/v1"
    token_url: Annotated[str, Meta(description="OAuth2 token endpoint")] = (
        "https://login.microsoftonline.com/offre.grtgaz.com/oauth2/v2.0/token"
    )
    client_id: Annotated[str, Meta(description="OAuth2 client id given by GRTgaz")] = ""
    scope: Annotated[str, Meta(description="OAuth2 scope")] = "api://RIO-DSG-MAMBA/.default"
    audience: Annotated[str, Meta(description="audience (aud) of the client-assertion JWT")] = ""
    certificate: Annotated[Path | None, Meta(description="client certificate (PEM file)")] = None
    private_key: Annotated[
        Path | None, Meta(description="private key (PEM file); its passphrase goes in `pupitre secrets set`")
    ] = None
    jwt_algorithm: Annotated[Literal["RS256", "PS256"], Meta(description="signature algorithm")] = "RS256"
    thumbprint_header: Annotated[
        Literal["x5t", "x5t#S256"], Meta(description="JWT header carrying the certificate thumbprint")
    ] = "x5t"
    timestamps_local: Annotated[
        bool, Meta(description="API timestamps are CET/CEST local time despite the trailing Z (§13.1)")
    ] = True
    refresh_seconds: Annotated[float, Meta(gt=0, description="indicator refresh interval")] = 60
    certificate_warn_days: Annotated[
        int,
        Meta(
            ge=0,
            description="warn this many days before the client certificate expires "
            "(§12.2: GRTgaz needs the new one a month before)",
        ),
    ] = 30
    sites: Annotated[
        list[str],
        Meta(
            description="ids of the sites to show (empty = all): "
            + ", ".join(f"{site.site_id} {site.label}" for site in SITES)
        ),
    ] = []
    tolerance: Annotated[
        float, Meta(ge=0, le=1, description="tolerance on the contract's Qmin/Qmax as a fraction (§2.4; 0.05 = 5 %)")
    ] = 0.0
    export_dir: Annotated[
        str, Meta(description="directory for the e-mail fallback CSV files (chapter 6; empty: <data dir>/exports)")
    ] = ""

    def rules(self) -> list[Problem]:
        """Site ids of the document's mesh table; a name is refused with its id."""
        found: list[Problem] = []
        for index, site_id in enumerate(self.sites):
            if site_by_id(site_id) is not None:
                continue
            named = site_by_label(site_id)
            if named is not None:
                message = f"{site_id!r} is a site name: write its id {named.site_id!r}"
            else:
                listed = ", ".join(f"{site.site_id} ({site.label})" for site in SITES)
                message = f"unknown site id {site_id!r}; the sites are {listed}"
            found.append((("sites", index), message))
        return found


class EdfOaSettings(Section):
    """EDF OA SMART OA: tomorrow's curtailments, acknowledgements, reports, token."""

    urls = ("base_url",)

    base_url: Annotated[
        str,
        Meta(description="API base URL without the version (recette: https://services-smart-oa-rec-user.edf.fr/api)"),
    ] = "https://services-smart-oa.edf.fr/api"
    api_version: Annotated[str, Meta(pattern=r"^v\d+$", description="API version in the path")] = "v1"
    token_header: Annotated[str, Meta(description="header carrying the API token")] = "Authorization"
    token_scheme: Annotated[str, Meta(description='scheme before the token; "" sends the raw token')] = "Bearer"
    account_type: Annotated[
        Literal["producer", "manager", "admin"], Meta(description="SMART OA account type: producer, manager or admin")
    ] = "producer"
    window_start: Annotated[str, Meta(description="start of the call window, HH:MM (orders published ~13:00)")] = (
        "13:30"
    )
    window_end: Annotated[str, Meta(description="end of the call window, HH:MM (after window_start)")] = "16:00"
    ack_deadline: Annotated[
        str, Meta(description="acknowledgement deadline, HH:MM inside the call window (critical after it)")
    ] = "16:00"
    publication_time: Annotated[
        str,
        Meta(
            description="when the order is published, HH:MM (SPOT results, §4.1.2): read every "
            "window_refresh_seconds from then to window_end"
        ),
    ] = "13:00"
    window_refresh_seconds: Annotated[
        float, Meta(gt=0, description="refresh interval from publication_time to window_end")
    ] = 60
    refresh_seconds: Annotated[
        float, Meta(gt=0, description="refresh interval outside publication_time–window_end")
    ] = 900
    token_warning_days: Annotated[int, Meta(ge=0, description="warn this many days before the token expires")] = 14

    def rules(self) -> list[Problem]:
        """Real times of day; the window opens before it closes, the order is published before it
        closes, the deadline falls inside it. A time already refused is not compared."""
        found: list[Problem] = []
        start = time_of_day(self.window_start)
        if start is None:
            found.append((("window_start",), _not_a_time(self.window_start)))
        end = time_of_day(self.window_end)
        if end is None:
            found.append((("window_end",), _not_a_time(self.window_end)))
        elif start is not None and end <= start:
            found.append(
                (("window_end",), f"the call window must end after it starts (window_start = {self.window_start!r})")
            )
            end = None
        deadline = time_of_day(self.ack_deadline)
        if deadline is None:
            found.append((("ack_deadline",), _not_a_time(self.ack_deadline)))
        elif start is not None and deadline <= start:
            message = f"the deadline must come after the call window opens (window_start = {self.window_start!r})"
            found.append((("ack_deadline",), message))
        elif end is not None and deadline > end:
            message = f"the deadline must fall inside the call window (window_end = {self.window_end!r})"
            found.append((("ack_deadline",), message))
        published = time_of_day(self.publication_time)
        if published is None:
            found.append((("publication_time",), _not_a_time(self.publication_time)))
        elif end is not None and published >= end:
            message = f"the order must be published before the window ends (window_end = {self.window_end!r})"
            found.append((("publication_time",), message))
        return found


#: GRDF's quotas (OMEGA, ADICT): how far under the per-second quota calls are paced.
QuotaMargin = Annotated[
    float,
    Meta(
        ge=0,
        lt=0.5,
        description="pace calls this fraction under the per-second quota (GRDF counts a call when it arrives)",
    ),
]


class GrdfOmegaSettings(Section):
    """GRDF OMEGA « Suivi demande »: the watch-list of supplier requests."""

    required_for_real = ("client_id", "code_cdgf", "user_login")
    urls = ("base_url", "token_url")

    base_url: Annotated[str, Meta(description="API base URL")] = "https://api.grdf.fr/fournisseur"
    token_url: Annotated[str, Meta(description="OKTA OAuth2 token endpoint")] = (
        "https://connexion.grdf.fr/oauth2/us5y2ta2uEHjCWIR417/v1/token"
    )
    client_id: Annotated[str, Meta(description="OKTA client id")] = ""
    scope: Annotated[str, Meta(description="OAuth2 scope (§1.4)")] = "suivi_demande"
    code_cdgf: Annotated[str, Meta(description="the supplier's CDG-F code (query parameter code_cdgf)")] = ""
    user_login: Annotated[str, Meta(description="the operator's login sent as x-user-login (name or e-mail)")] = ""
    refresh_seconds: Annotated[
        float,
        Meta(
            gt=0,
            description="how often each request not in a final status is re-read (a round longer than that, "
            "at the quota's pace, is followed by the next one at once)",
        ),
    ] = 60
    final_reread_hours: Annotated[
        float, Meta(gt=0, description="how often a request in a final status (réalisée, annulée…) is re-read")
    ] = 24
    per_second: Annotated[float, Meta(gt=0, le=1, description="quota: calls per second per supplier (§1.3)")] = 1
    quota_margin: QuotaMargin = 0.1


class SwitchgridSettings(Section):
    """Switchgrid (Enedis load curves): contract search, consent asks, data orders."""

    urls = ("base_url",)

    base_url: Annotated[str, Meta(description="API base URL")] = "https://app.switchgrid.tech/enedis/v2"
    test_env: Annotated[
        bool,
        Meta(
            description="send `switchgrid-test-env: true` (asks and orders not billed, dummy data); "
            "always on with the sandbox"
        ),
    ] = False
    refresh_seconds: Annotated[float, Meta(gt=0, description="how often asks and followed orders are re-read")] = 300
    poll_first_seconds: Annotated[float, Meta(gt=0, description="order polling: first wait")] = 2
    poll_factor: Annotated[float, Meta(ge=1, description="order polling: each wait is the last one times this")] = 1.6
    poll_max_seconds: Annotated[float, Meta(gt=0, description="order polling: longest wait between two reads")] = 60
    data_format: Annotated[Literal["json", "csv"], Meta(description="load-curve data format to download")] = "json"
    expiry_warning_days: Annotated[int, Meta(ge=0, description="warn this many days before a consent expires")] = 14
    export_dir: Annotated[
        str, Meta(description='where load-curve CSV exports go ("" = the data directory\'s exports/)')
    ] = ""


class GrdfAdictSettings(Section):
    """GRDF ADICT: access rights to PCE data (declare, revoke, proofs) and PCE data."""

    required_for_real = ("client_id",)
    urls = ("base_url", "token_url")

    base_url: Annotated[str, Meta(description="API base URL")] = "https://api.grdf.fr/adict/v2"
    token_url: Annotated[str, Meta(description="OAuth2 token endpoint (client credentials, token valid 4 h)")] = (
        "https://sofit-sso-oidc.grdf.fr/openam/oauth2/realms/externeGrdf/access_token"
    )
    client_id: Annotated[str, Meta(description="client id of the ADICT application given by GRDF")] = ""
    scope: Annotated[str, Meta(description='OAuth2 scope ("" sends none)')] = "/adict/v2"
    park_size: Annotated[
        int,
        Meta(
            ge=0,
            description="number of PCE in your park: picks the quota row "
            "(≤ 5 000: 1/s 6 000/day; ≤ 50 000: 1/s 60 000/day; "
            "more: 3/s 240 000/day)",
        ),
    ] = 5000
    per_second: Annotated[
        float, Meta(ge=0, le=10, description="quota override: calls per second (0 = by park size)")
    ] = 0
    per_day: Annotated[int, Meta(ge=0, description="quota override: calls per day (0 = by park size)")] = 0
    quota_margin: QuotaMargin = 0.1
    refresh_seconds: Annotated[
        float, Meta(gt=0, description="how often the whole rights list is re-read (GRDF recommends once a day)")
    ] = 86400
    sandbox_park_size: Annotated[
        int, Meta(ge=1, le=1_000_000, description="number of rights the simulator generates (--sandbox)")
    ] = 300
    export_dir: Annotated[
        str,
        Meta(
            description='where consumption exports (access-rights screen, e) go ("" = the data directory\'s exports/)'
        ),
    ] = ""


class Settings(Struct, kw_only=True):
    """All settings; each section field is one ``[section]`` of settings.toml."""

    app: AppSettings = field(default_factory=AppSettings)
    grtgaz: GrtgazSettings = field(default_factory=GrtgazSettings)
    edf_oa: EdfOaSettings = field(default_factory=EdfOaSettings)
    grdf_omega: GrdfOmegaSettings = field(default_factory=GrdfOmegaSettings)
    grdf_adict: GrdfAdictSettings = field(default_factory=GrdfAdictSettings)
    switchgrid: SwitchgridSettings = field(default_factory=SwitchgridSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    #: the sections written in the settings file (a provider's section there means its real API is
    #: meant: see :func:`pupitre.runtime.declared`); not a setting itself
    declared: frozenset[str] = frozenset()

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """Section name -> its struct class, in declaration order."""
        return {
            name: kind
            for name, kind in cls.__annotations__.items()
            if isinstance(kind, type) and issubclass(kind, Section)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path | None = None) -> "Settings":
        """Settings from a TOML document's tables (relative paths are relative to ``base_dir``);
        :class:`SettingsError` lists every problem, located."""
        sections = cls.sections()
        hook = _path_hook(base_dir)
        values: dict[str, Any] = {}  # section name -> its struct
        found: list[Problem] = []
        for name, table in data.items():
            model = sections.get(name)
            if model is None:
                found.append(((name,), f"unknown section (allowed: {', '.join(sections)})"))
                continue
            try:
                values[name] = _section(model, table, hook)
            except SettingsError as exc:
                found += [((name, *loc), message) for loc, message in exc.problems]
        if found:
            raise SettingsError(found)
        return cls(**values, declared=frozenset(values))


def _path_hook(base_dir: Path | None) -> Callable[[type, Any], Any]:
    """msgspec's hook for :class:`Path` settings: ``~`` expanded, a relative path resolved
    against the settings file's directory."""

    def hook(kind: type, value: Any) -> Any:
        if kind is Path and isinstance(value, str):
            path = Path(value).expanduser()
            return base_dir / path if base_dir is not None and not path.is_absolute() else path
        raise TypeError(f"should be a path in quotes, not {_KINDS.get(type(value).__name__, type(value).__name__)}")

    return hook


def _section(model: type[Section], table: Any, hook: Callable[[type, Any], Any]) -> Section:
    """One section read; :class:`SettingsError` with every problem when msgspec refuses it.
    Not strict, as the settings always were: ``"30"`` is a number, ``"true"`` and 1 are true."""
    try:
        return msgspec.convert(table, model, dec_hook=hook, strict=False)
    except msgspec.ValidationError:
        raise SettingsError(_every_problem(model, table, hook)) from None


def _every_problem(model: type[Section], table: Any, hook: Callable[[type, Any], Any]) -> list[Problem]:
    """msgspec stops at the first problem: each setting read alone, then the rules on the good ones."""
    if not isinstance(table, dict):
        return [((), "must be a table of settings ([section] then key = value lines)")]
    fields = {info.name: info for info in msgspec.structs.fields(model)}
    found: list[Problem] = []
    good: dict[str, Any] = {}
    for key, value in table.items():
        info = fields.get(key)
        if info is None:
            found.append(((key,), f"unknown setting (allowed: {', '.join(fields)})"))
            continue
        try:
            msgspec.convert({key: value}, model, dec_hook=hook, strict=False)
        except msgspec.ValidationError as exc:
            found.append(_refusal(key, info.type, value, str(exc)))
            continue
        except SettingsError:
            pass  # the rules are judged below, on every good setting at once
        good[key] = value
    try:
        msgspec.convert(good, model, dec_hook=hook, strict=False)
    except SettingsError as exc:
        found += exc.problems
    return found


_KINDS = {
    "float": "a number",
    "int": "a whole number",
    "str": "text in quotes",
    "bool": "true or false",
    "Path": "a path in quotes",
    "object": "a table",
    "array": "a list",
    "null": "nothing",
}
_BOUNDS = {">": "greater than", ">=": "at least", "<": "less than", "<=": "at most"}


def _refusal(key: str, kind: Any, value: Any, message: str) -> Problem:
    """msgspec's refusal of one setting as a located sentence for the operator."""
    at = re.search(r" - at `\$([^`]*)`$", message)
    loc: Loc = (key,)
    if at:
        message = message[: at.start()]
        loc = tuple(name or int(index) for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", at.group(1)))
    if message.startswith("Invalid enum value"):
        choices = kind.__origin__.__args__ if hasattr(kind, "__origin__") else ()
        return loc, f"{value!r} is not one of: {', '.join(map(str, choices))}"
    wrong = re.fullmatch(r"Expected `(\w+)( \| null)?`, got `(\w+)`", message)
    if wrong:
        got = "a decimal number" if wrong[3] == "float" else _KINDS.get(wrong[3], wrong[3])
        return loc, f"should be {_KINDS.get(wrong[1], wrong[1])}, not {got}"
    bounded = re.fullmatch(r"Expected `\w+` (>=|<=|>|<) (\S+)", message)
    if bounded:
        bound = bounded[2].removesuffix(".0")
        return loc, f"should be {_BOUNDS[bounded[1]]} {bound} (not {value!r})"
    pattern = re.fullmatch(r"Expected `str` matching regex '(.*)'", message)
    if pattern:
        regex = pattern[1].replace("\\\\", "\\")  # msgspec shows it as a repr
        return loc, f"{value!r} does not match the pattern {regex}"
    return loc, message
