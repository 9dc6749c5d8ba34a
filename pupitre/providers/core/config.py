"""Where pupitre keeps its files, and the settings TOML: load, template, show, edit.

Paths come from platformdirs and can be overridden with ``PUPITRE_CONFIG_DIR`` and
``PUPITRE_DATA_DIR``. Every problem with the settings file becomes a
:class:`ConfigError` naming the file, the line or field and what is wrong. Secrets
are refused in the settings file: they belong to ``pupitre secrets set``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import msgspec
import platformdirs

from pupitre.providers.core.errors import ConfigError
from pupitre.settings import Section, Settings, SettingsError

APP_NAME = "pupitre"
SECRET_WORDS = ("secret", "token", "password", "passwd", "passphrase")
SECRET_SUFFIXES = ("api_key", "apikey")


# -- paths -----------------------------------------------------------------------------
def config_dir() -> Path:
    """The config directory (``PUPITRE_CONFIG_DIR`` or the platformdirs one)."""
    override = os.environ.get("PUPITRE_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(appname=APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The data directory (``PUPITRE_DATA_DIR`` or the platformdirs one)."""
    override = os.environ.get("PUPITRE_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path(appname=APP_NAME, appauthor=False)


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def credentials_path() -> Path:
    return config_dir() / "credentials.toml"


def store_path() -> Path:
    return data_dir() / "pupitre.sqlite3"


def log_path() -> Path:
    return data_dir() / "pupitre.log"


def display_path(path: Path) -> str:
    """``path`` with the home directory shown as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


# -- TOML helpers ----------------------------------------------------------------------
def toml_value(value: Any) -> str:
    """Render a simple value (str, number, bool, Path, list, dict) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False)  # JSON strings are TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _split_key(raw: str) -> list[str]:
    """A TOML dotted key into its parts; quoted parts may hold dots (``"feeds.refresh"``)."""
    parts = re.findall(r'\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.]+)\s*(?:\.|$)', raw)
    return [part.strip().strip("\"'") for part in parts]


def _find_line(text: str, loc: Sequence[str | int]) -> int | None:
    """Best-effort line number (1-based) of the key at ``loc`` in a TOML text."""
    keys = [str(part) for part in loc if isinstance(part, str)]
    best, best_len = None, 0
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
        depth = len(path)
        if depth > best_len and keys[:depth] == path:
            best, best_len = number, depth
    return best


def _is_secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    last = name.rsplit("_", 1)[-1]
    return (
        last in SECRET_WORDS
        or last.removesuffix("s") in SECRET_WORDS
        or name.endswith(SECRET_SUFFIXES)
        or name.endswith(SECRET_WORDS[2:])
    )


class Problem(msgspec.Struct, frozen=True):
    """One problem of the settings file: its line (when known), the setting, what is wrong."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        where += [self.field] if self.field else []
        return f"{', '.join(where)}: {self.message}" if where else self.message


def _secret_problems(data: Any, text: str, loc: tuple[str, ...] = ()) -> list[Problem]:
    """Every key that looks like a secret; each is removed from ``data`` (so that it is
    reported once, as a secret, not also as an unknown setting)."""
    found: list[Problem] = []
    if isinstance(data, list):
        for item in data:
            found += _secret_problems(item, text, loc)
        return found
    if not isinstance(data, dict):
        return found
    for key in list(data):
        here = (*loc, key)
        if _is_secret_key(key):
            provider = loc[0] if loc else "PROVIDER"
            found.append(
                Problem(
                    _find_line(text, here),
                    ".".join(here),
                    "looks like a secret; secrets must not be in the settings file. Remove it and store it "
                    f"with `pupitre secrets set {provider} {key}`.",
                )
            )
            del data[key]
            continue
        found += _secret_problems(data[key], text, here)
    return found


def _field_name(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part))
    return out or "(file)"


def format_problems(path: Path, problems: Sequence[Problem]) -> str:
    """The operator's message: the file, then every problem by line."""
    ordered = sorted(problems, key=lambda problem: problem.line or 0)
    count = f"{len(ordered)} problems" if len(ordered) > 1 else "1 problem"
    return f"{path}: invalid settings ({count})\n" + "\n".join(f"  {problem}" for problem in ordered)


# -- load ------------------------------------------------------------------------------
def check_settings(path: Path | None = None) -> tuple[Settings | None, list[Problem]]:
    """Read and check settings.toml completely: the settings (None when invalid) and
    **every** problem found. A missing file is the defaults and no problem."""
    path = Path(path) if path is not None else settings_path()
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Settings(), []
    except UnicodeDecodeError:
        return None, [Problem(None, "", "not UTF-8 text")]
    except OSError as exc:
        return None, [Problem(None, "", f"cannot read ({exc.strerror})")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return None, [Problem(int(line[1]) if line else None, "", f"TOML syntax error: {exc}")]
    problems = _secret_problems(data, text)
    try:
        settings: Settings | None = Settings.from_dict(data, base_dir=path.parent)
    except SettingsError as exc:
        settings = None
        problems += [Problem(_find_line(text, loc), _field_name(loc), message) for loc, message in exc.problems]
    return (settings if not problems else None), problems


def load_settings(path: Path | None = None) -> Settings:
    """Read settings.toml (defaults when missing); :class:`ConfigError` listing every problem."""
    path = Path(path) if path is not None else settings_path()
    settings, problems = check_settings(path)
    if problems or settings is None:
        raise ConfigError(format_problems(path, problems))
    return settings


# -- template --------------------------------------------------------------------------
def _section_doc(model: type[Section]) -> str:
    return (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""


def _field_comment(kind: Any) -> str:
    """A setting's description (its ``msgspec.Meta``), and its choices when it has some."""
    comment = next((meta.description or "" for meta in getattr(kind, "__metadata__", ())), "")
    choices = getattr(getattr(kind, "__origin__", None), "__args__", None)
    if choices and all(isinstance(c, str) for c in choices):
        comment += f" (one of: {', '.join(choices)})"
    return comment


def default_settings_text() -> str:
    """The commented template: every section and setting, defaults commented out."""
    out = [
        "# pupitre settings. Uncomment a line and change it to override the default.",
        "# Secrets (passphrases, tokens, client secrets) do NOT go here:",
        "# use `pupitre secrets set PROVIDER NAME` (see `pupitre secrets where`).",
        "# Paths may start with ~; relative paths are relative to this file's folder.",
    ]
    for name, model in Settings.sections().items():
        out += ["", f"[{name}]"]
        doc = _section_doc(model)
        if doc:
            out.insert(len(out) - 1, f"# {doc}")
        for field in msgspec.structs.fields(model):
            key = field.name
            default = field.default if field.default_factory is msgspec.NODEFAULT else field.default_factory()
            comment = _field_comment(field.type)
            if comment:
                out.append(f"# {comment}")
            value = '"/path/to/file.pem"' if default is None else toml_value(default)
            out.append(f"# {key} = {value}")
    return "\n".join(out) + "\n"


def write_default_settings(path: Path | None = None) -> bool:
    """Write the template with mode 0600 unless a file exists; True when written."""
    path = Path(path) if path is not None else settings_path()
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(default_settings_text())
    return True


#: the secrets each provider's real API needs (their values: :mod:`pupitre.providers.core.secrets`)
REQUIRED_SECRETS: dict[str, list[str]] = {
    "grtgaz": ["key_passphrase"],
    "edf_oa": ["api_token"],
    "grdf_omega": ["client_secret"],
    "grdf_adict": ["client_secret"],
    "switchgrid": ["api_token"],
}


# -- show ------------------------------------------------------------------------------
@runtime_checkable
class SecretSources(Protocol):
    def source(self, provider: str, name: str) -> str: ...


def show_settings(settings: Settings, secrets_resolver: SecretSources | Callable[[str, str], str]) -> str:
    """Effective settings per section, and where each secret comes from (never its value)."""
    source = secrets_resolver.source if isinstance(secrets_resolver, SecretSources) else secrets_resolver
    out: list[str] = []
    for name in Settings.sections():
        section: Section = getattr(settings, name)
        state = ""
        if section.required_for_real:
            missing = section.missing()
            if settings.app.sandbox:
                state = "  # runs on the sandbox (app.sandbox = true)"
            elif missing:
                state = f"  # runs on the sandbox (not set: {', '.join(missing)})"
            else:
                state = "  # real API"
        out.append(f"[{name}]{state}")
        for key in section.__struct_fields__:
            value = getattr(section, key)
            out.append(f"{key} = {'(not set)' if value is None else toml_value(value)}")
        for secret in REQUIRED_SECRETS.get(name, []):
            out.append(f"secret {secret}: {source(name, secret)}")
        out.append("")
    others = [p for p in REQUIRED_SECRETS if p not in Settings.sections()]
    if others:
        out.append("[secrets of providers without settings yet]")
        for provider in others:
            for secret in REQUIRED_SECRETS[provider]:
                out.append(f"{provider}.{secret}: {source(provider, secret)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- edit ------------------------------------------------------------------------------
def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi`` (split like a shell would)."""
    raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(raw) or ["vi"]


def edit_settings(path: Path | None = None, run: Callable[[list[str]], int] | None = None) -> Settings:
    """Create the file from the template if needed, open the editor, then validate.

    Returns the new settings; raises :class:`ConfigError` when the editor fails or the
    edited file is invalid (the file is kept so the user can fix it).
    """
    path = Path(path) if path is not None else settings_path()
    write_default_settings(path)
    command = editor_command()
    try:
        status = (run or subprocess.call)([*command, str(path)])
    except FileNotFoundError:
        raise ConfigError(f"editor {command[0]!r} not found: set $VISUAL or $EDITOR") from None
    if status != 0:
        raise ConfigError(f"editor {command[0]!r} exited with status {status}; {path} was not checked")
    return load_settings(path)
