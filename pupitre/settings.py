"""The settings model: one pydantic class per TOML section.

Adding a provider's section is one class (a :class:`Section` subclass) plus one field
on :class:`Settings`. Unknown keys are refused so that a typo never silently does
nothing. Secrets never live here: they come from :mod:`pupitre.providers.core.secrets`.
Field descriptions double as the comments of the template written by
``pupitre config edit`` and as the labels of ``pupitre config show``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from pupitre import keymap
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.urls import check_base_url
from pupitre.providers.grtgaz.sites import SITES, site_by_id, site_by_label

_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def https_url(value: str) -> str:
    """Pydantic-friendly wrapper of :func:`check_base_url` (ConfigError -> ValueError)."""
    try:
        return check_base_url(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    except Exception:  # httpx.InvalidURL and friends
        raise ValueError("not a valid URL") from None


def local_path(value: Path | None, info: ValidationInfo) -> Path | None:
    """Expand ``~``; resolve a relative path against the settings file's directory."""
    if value is None:
        return None
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


def time_of_day(value: str) -> str:
    """A real time of day ``HH:MM`` (00:00 to 23:59)."""
    if not _TIME_OF_DAY.match(value):
        raise ValueError(f'{value!r} is not a time of day: write HH:MM between 00:00 and 23:59, e.g. "16:00"')
    return value


def _minutes(value: str) -> int:
    return int(value[:2]) * 60 + int(value[3:])


def _problems(title: str, found: dict[Any, list[str]], values: dict[Any, Any]) -> ValidationError:
    """Several problems of one field as one pydantic error each, located at ``found``'s keys."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("settings", "{message}", {"message": message}),
            loc=(key,),
            input=values.get(key),
        )
        for key, messages in found.items()
        for message in messages
    ]
    return ValidationError.from_exception_data(title, details)


class Section(BaseModel):
    """Base of every section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    #: Settings that must be set before the real API is used (provider sections).
    required_for_real: ClassVar[tuple[str, ...]] = ()

    def missing(self) -> list[str]:
        """Required settings still empty (the provider then runs on its sandbox)."""
        return [name for name in self.required_for_real if not getattr(self, name)]

    @property
    def configured(self) -> bool:
        """True when every setting the real API needs is set."""
        return not self.missing()


class AppSettings(Section):
    """General behaviour of the dashboard."""

    sandbox: bool = Field(False, description="force every provider onto its simulator")
    default_refresh_seconds: float = Field(
        60, gt=0, description="refresh interval of feeds that have no setting of their own"
    )
    notifications: bool = Field(True, description="show pop-up notifications")
    operator: str = Field(
        "", description='who works at this console, in the audit log and on other consoles ("" = the OS user)'
    )
    keep_audit_days: int = Field(
        365, ge=1, description="days the audit log is kept (pruned at start, in the background)"
    )
    keep_history_days: int = Field(
        90, ge=1, description="days the history of changes (indicators, request statuses, rights) is kept"
    )
    keep_snapshots_days: int = Field(
        30, ge=1, description="days a stored result that was not read again is kept (e.g. programs of past gas days)"
    )
    keys: dict[str, str] = Field(
        default_factory=dict,
        description='remap key bindings: binding id = key, e.g. { "feeds.refresh" = "f5" }; '
        "`pupitre keys` lists every id and its key",
    )

    @field_validator("keys")
    @classmethod
    def _known_and_reachable(cls, value: dict[str, str]) -> dict[str, str]:
        """Ids that exist, key names Textual knows, no two actions on one key, Quit reachable."""
        found = keymap.problems(value)
        if found:
            raise _problems("keys", found, dict(value))
        return value


class AlertsSettings(Section):
    """Where alerts reach the operator besides the attention line and the alerts screen (!):
    each channel can be turned off."""

    bell: bool = Field(True, description="ring the terminal bell when an alert is raised")
    desktop: bool = Field(
        True, description="desktop notification through the terminal (OSC 9 and OSC 777) when an alert is raised"
    )
    title: bool = Field(
        True, description='the terminal / tmux window title carries the worst open alert ("pupitre — CRITICAL 2")'
    )
    command: str = Field(
        "",
        description="run this command once per alert (across every console and agent on the store), the "
        'alert as JSON on its stdin, e.g. "/usr/local/bin/page-oncall --team gas"; "" = none',
    )
    command_timeout_seconds: float = Field(
        10, gt=0, le=600, description="the command is stopped after this many seconds (its failure is shown)"
    )

    @field_validator("command")
    @classmethod
    def _one_command_line(cls, value: str) -> str:
        """A command line split as a shell would (no shell runs it): quotes must close."""
        import shlex

        if not value.strip():
            return ""
        try:
            shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"not a command line ({exc}): quote it as a shell would") from None
        return value


class StoreSettings(Section):
    """Where pupitre keeps its data: the local SQLite file (default), or a PostgreSQL database
    shared by a team (team mode; ``PUPITRE_STORE_URL`` overrides it)."""

    url: str = Field(
        "",
        description='PostgreSQL database shared by the team, e.g. "postgresql://pupitre@db.example/pupitre" '
        '(no password here: ~/.pgpass); "" = the local file',
    )

    @field_validator("url")
    @classmethod
    def _postgres_without_password(cls, value: str) -> str:
        from pupitre.providers.core.store_pg import check_url

        if not value:
            return value
        try:
            return check_url(value, where="[store] url")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


class GrtgazSettings(Section):
    """GRTgaz SFM (flexibility): indicators, programs, declarations."""

    base_url: str = Field("https://api.offre.grtgaz.com/sfm/v1", description="API base URL")
    token_url: str = Field(
        "https://login.microsoftonline.com/offre.grtgaz.com/oauth2/v2.0/token", description="OAuth2 token endpoint"
    )
    client_id: str = Field("", description="OAuth2 client id given by GRTgaz")
    scope: str = Field("api://RIO-DSG-MAMBA/.default", description="OAuth2 scope")
    audience: str = Field("", description="audience (aud) of the client-assertion JWT")
    certificate: Path | None = Field(None, description="client certificate (PEM file)")
    private_key: Path | None = Field(
        None, description="private key (PEM file); its passphrase goes in `pupitre secrets set`"
    )
    jwt_algorithm: Literal["RS256", "PS256"] = Field("RS256", description="signature algorithm")
    thumbprint_header: Literal["x5t", "x5t#S256"] = Field(
        "x5t", description="JWT header carrying the certificate thumbprint"
    )
    timestamps_local: bool = Field(
        True, description="API timestamps are CET/CEST local time despite the trailing Z (§13.1)"
    )
    refresh_seconds: float = Field(60, gt=0, description="indicator refresh interval")
    certificate_warn_days: int = Field(
        30,
        ge=0,
        description="warn this many days before the client certificate expires "
        "(§12.2: GRTgaz needs the new one a month before)",
    )
    sites: list[str] = Field(
        default_factory=list,
        description="ids of the sites to show (empty = all): "
        + ", ".join(f"{site.site_id} {site.label}" for site in SITES),
    )
    tolerance: float = Field(
        0.0, ge=0, le=1, description="tolerance on the contract's Qmin/Qmax as a fraction (§2.4; 0.05 = 5 %)"
    )
    export_dir: str = Field(
        "", description="directory for the e-mail fallback CSV files (chapter 6; empty: <data dir>/exports)"
    )

    required_for_real = ("client_id", "audience", "certificate", "private_key")

    _url = field_validator("base_url", "token_url")(https_url)
    _path = field_validator("certificate", "private_key")(local_path)

    @field_validator("sites")
    @classmethod
    def _sites_exist(cls, value: list[str]) -> list[str]:
        """Site ids of the document's mesh table; a name is refused with its id."""
        found: dict[int, list[str]] = {}
        for index, site_id in enumerate(value):
            if site_by_id(site_id) is not None:
                continue
            named = site_by_label(site_id)
            if named is not None:
                message = f"{site_id!r} is a site name: write its id {named.site_id!r}"
            else:
                listed = ", ".join(f"{site.site_id} ({site.label})" for site in SITES)
                message = f"unknown site id {site_id!r}; the sites are {listed}"
            found[index] = [message]
        if found:
            raise _problems("sites", found, dict(enumerate(value)))
        return value


class EdfOaSettings(Section):
    """EDF OA SMART OA: tomorrow's curtailments, acknowledgements, reports, token."""

    base_url: str = Field(
        "https://services-smart-oa.edf.fr/api",
        description="API base URL without the version (recette: https://services-smart-oa-rec-user.edf.fr/api)",
    )
    api_version: str = Field("v1", pattern=r"^v\d+$", description="API version in the path")
    token_header: str = Field("Authorization", description="header carrying the API token")
    token_scheme: str = Field("Bearer", description='scheme before the token; "" sends the raw token')
    account_type: Literal["producer", "manager", "admin"] = Field(
        "producer", description="SMART OA account type: producer, manager or admin"
    )
    window_start: str = Field("13:30", description="start of the call window, HH:MM (orders published ~13:00)")
    window_end: str = Field("16:00", description="end of the call window, HH:MM (after window_start)")
    ack_deadline: str = Field(
        "16:00", description="acknowledgement deadline, HH:MM inside the call window (critical after it)"
    )
    publication_time: str = Field(
        "13:00",
        description="when the order is published, HH:MM (SPOT results, §4.1.2): read every "
        "window_refresh_seconds from then to window_end",
    )
    window_refresh_seconds: float = Field(60, gt=0, description="refresh interval from publication_time to window_end")
    refresh_seconds: float = Field(900, gt=0, description="refresh interval outside publication_time–window_end")
    token_warning_days: int = Field(14, ge=0, description="warn this many days before the token expires")

    _url = field_validator("base_url")(https_url)
    _time = field_validator("publication_time", "window_start", "window_end", "ack_deadline")(time_of_day)

    @field_validator("window_end")
    @classmethod
    def _window_in_order(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("window_start")
        if start is not None and _minutes(value) <= _minutes(start):
            raise ValueError(f"the call window must end after it starts (window_start = {start!r})")
        return value

    @field_validator("publication_time")
    @classmethod
    def _published_before_the_end(cls, value: str, info: ValidationInfo) -> str:
        end = info.data.get("window_end")
        if end is not None and _minutes(value) >= _minutes(end):
            raise ValueError(f"the order must be published before the window ends (window_end = {end!r})")
        return value

    @field_validator("ack_deadline")
    @classmethod
    def _deadline_in_window(cls, value: str, info: ValidationInfo) -> str:
        start, end = info.data.get("window_start"), info.data.get("window_end")
        if start is not None and _minutes(value) <= _minutes(start):
            raise ValueError(f"the deadline must come after the call window opens (window_start = {start!r})")
        if end is not None and _minutes(value) > _minutes(end):
            raise ValueError(f"the deadline must fall inside the call window (window_end = {end!r})")
        return value


class GrdfOmegaSettings(Section):
    """GRDF OMEGA « Suivi demande »: the watch-list of supplier requests."""

    required_for_real: ClassVar[tuple[str, ...]] = ("client_id", "code_cdgf", "user_login")

    base_url: str = Field("https://api.grdf.fr/fournisseur", description="API base URL")
    token_url: str = Field(
        "https://connexion.grdf.fr/oauth2/us5y2ta2uEHjCWIR417/v1/token", description="OKTA OAuth2 token endpoint"
    )
    client_id: str = Field("", description="OKTA client id")
    scope: str = Field("suivi_demande", description="OAuth2 scope (§1.4)")
    code_cdgf: str = Field("", description="the supplier's CDG-F code (query parameter code_cdgf)")
    user_login: str = Field("", description="the operator's login sent as x-user-login (name or e-mail)")
    refresh_seconds: float = Field(
        60,
        gt=0,
        description="how often each request not in a final status is re-read (a round longer than that, "
        "at the quota's pace, is followed by the next one at once)",
    )
    final_reread_hours: float = Field(
        24, gt=0, description="how often a request in a final status (réalisée, annulée…) is re-read"
    )
    per_second: float = Field(1, gt=0, le=1, description="quota: calls per second per supplier (§1.3)")
    quota_margin: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="pace calls this fraction under the per-second quota (GRDF counts a call when it arrives)",
    )

    _url = field_validator("base_url", "token_url")(https_url)


class SwitchgridSettings(Section):
    """Switchgrid (Enedis load curves): contract search, consent asks, data orders."""

    base_url: str = Field("https://app.switchgrid.tech/enedis/v2", description="API base URL")
    test_env: bool = Field(
        False,
        description="send `switchgrid-test-env: true` (asks and orders not billed, dummy data); "
        "always on with the sandbox",
    )
    refresh_seconds: float = Field(300, gt=0, description="how often asks and followed orders are re-read")
    poll_first_seconds: float = Field(2, gt=0, description="order polling: first wait")
    poll_factor: float = Field(1.6, ge=1, description="order polling: each wait is the last one times this")
    poll_max_seconds: float = Field(60, gt=0, description="order polling: longest wait between two reads")
    data_format: Literal["json", "csv"] = Field("json", description="load-curve data format to download")
    expiry_warning_days: int = Field(14, ge=0, description="warn this many days before a consent expires")
    export_dir: str = Field("", description='where load-curve CSV exports go ("" = the data directory\'s exports/)')

    _url = field_validator("base_url")(https_url)


class GrdfAdictSettings(Section):
    """GRDF ADICT: access rights to PCE data (declare, revoke, proofs) and PCE data."""

    required_for_real: ClassVar[tuple[str, ...]] = ("client_id",)

    base_url: str = Field("https://api.grdf.fr/adict/v2", description="API base URL")
    token_url: str = Field(
        "https://sofit-sso-oidc.grdf.fr/openam/oauth2/realms/externeGrdf/access_token",
        description="OAuth2 token endpoint (client credentials, token valid 4 h)",
    )
    client_id: str = Field("", description="client id of the ADICT application given by GRDF")
    scope: str = Field("/adict/v2", description='OAuth2 scope ("" sends none)')
    park_size: int = Field(
        5000,
        ge=0,
        description="number of PCE in your park: picks the quota row "
        "(≤ 5 000: 1/s 6 000/day; ≤ 50 000: 1/s 60 000/day; "
        "more: 3/s 240 000/day)",
    )
    per_second: float = Field(0, ge=0, le=10, description="quota override: calls per second (0 = by park size)")
    per_day: int = Field(0, ge=0, description="quota override: calls per day (0 = by park size)")
    quota_margin: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="pace calls this fraction under the per-second quota (GRDF counts a call when it arrives)",
    )
    refresh_seconds: float = Field(
        86400, gt=0, description="how often the whole rights list is re-read (GRDF recommends once a day)"
    )
    sandbox_park_size: int = Field(
        300, ge=1, le=1_000_000, description="number of rights the simulator generates (--sandbox)"
    )
    export_dir: str = Field(
        "", description='where consumption exports (access-rights screen, e) go ("" = the data directory\'s exports/)'
    )

    _url = field_validator("base_url", "token_url")(https_url)


class Settings(BaseModel):
    """All settings; each field is one ``[section]`` of settings.toml."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    app: AppSettings = Field(default_factory=AppSettings)
    grtgaz: GrtgazSettings = Field(default_factory=GrtgazSettings)
    edf_oa: EdfOaSettings = Field(default_factory=EdfOaSettings)
    grdf_omega: GrdfOmegaSettings = Field(default_factory=GrdfOmegaSettings)
    grdf_adict: GrdfAdictSettings = Field(default_factory=GrdfAdictSettings)
    switchgrid: SwitchgridSettings = Field(default_factory=SwitchgridSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """Section name -> its model class, in declaration order."""
        out: dict[str, type[Section]] = {}
        for name, field in cls.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Section):
                out[name] = annotation
        return out
