"""Secret resolution: environment, then OS keyring, then the credentials file.

* Environment: ``PUPITRE_<PROVIDER>_<NAME>`` (upper-case, ``-`` -> ``_``).
* OS keyring (service ``pupitre``, username ``<provider>.<name>``), only with a REAL
  backend: the fail and null backends and every keyrings.alt backend (plain text, or
  prompting on the terminal) count as "no keyring". Each call runs in a daemon thread
  with a timeout so a hung D-Bus cannot freeze the dashboard; a timeout or an exception
  turns the keyring off for the rest of the session, and :meth:`SecretStore.notice`
  says so once.
* Credentials file (TOML ``[provider] name = "value"``), refused when group- or
  world-accessible or owned by someone else (the ~/.pgpass convention); written
  atomically with mode 0600 in a 0700 directory.

Values never appear in logs, exception messages or ``repr``.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, MutableMapping

from pupitre.providers.core.config import REQUIRED_SECRETS, credentials_path, display_path, toml_key, toml_value
from pupitre.providers.core.errors import ConfigError, NotConnected

if TYPE_CHECKING:  # keyring is imported on first use: it costs start-up time
    from keyring.backend import KeyringBackend

log = logging.getLogger("pupitre.secrets")

SERVICE = "pupitre"
DEFAULT_TIMEOUT = 3.0
NOT_SET = "not set — the provider runs on the sandbox"

_FAKE_BACKEND_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


class Secret:
    """A secret value that prints as ``***``; :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_var(provider: str, name: str) -> str:
    """The environment variable holding ``provider``'s secret ``name``."""
    return f"PUPITRE_{provider}_{name}".upper().replace("-", "_")


def check_secret_name(provider: str, name: str) -> None:
    """:class:`ConfigError` listing the valid names unless ``provider``/``name`` is known."""
    if provider not in REQUIRED_SECRETS:
        raise ConfigError(f"unknown provider {provider!r}; valid providers: {', '.join(REQUIRED_SECRETS)}")
    if name not in REQUIRED_SECRETS[provider]:
        raise ConfigError(
            f"unknown secret {name!r} for {provider}; valid names: {', '.join(REQUIRED_SECRETS[provider])}"
        )


def is_real_backend(backend: object) -> bool:
    """False for the fail/null backends and anything from keyrings.alt."""
    from keyring.backend import KeyringBackend

    for cls in type(backend).__mro__:
        if cls.__module__.startswith(_FAKE_BACKEND_MODULES):
            return False
    return isinstance(backend, KeyringBackend)


def pick_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """The backend to use: ``backend`` if real; for a chainer, its best real member."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return next((b for b in backend.backends if is_real_backend(b)), None)
    return backend if is_real_backend(backend) else None


class KeyringUnavailable(Exception):
    """The keyring timed out or failed; ``reason`` never holds a value."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def call_with_timeout(fn: Callable[..., Any], timeout: float, *args: Any) -> Any:
    """Run ``fn(*args)`` in a daemon thread; :class:`KeyringUnavailable` on timeout/error."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 — reported by type only
            box["error"] = exc

    thread = threading.Thread(target=target, name="pupitre-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise KeyringUnavailable(f"the keyring did not answer within {timeout:g} s")
    if "error" in box:
        error = box.pop("error")
        from keyring.errors import PasswordDeleteError

        if isinstance(error, PasswordDeleteError):
            return None
        raise KeyringUnavailable(f"the keyring failed: {type(error).__name__}")
    return box.get("value")


class CredentialsFile:
    """The TOML credentials file, readable by its owner alone."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def label(self) -> str:
        return f"credentials file {display_path(self.path)}"

    def _check(self, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{self.path} is not a regular file")
        getuid = getattr(os, "getuid", None)
        if getuid is not None and info.st_uid != getuid():
            raise ConfigError(
                f"refusing {self.path}: it is owned by uid {info.st_uid}, not by "
                f"you; fix with `chown {getuid()} {self.path}` (or recreate it)"
            )
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"refusing {self.path}: it is accessible by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); fix with "
                f"`chmod 600 {self.path}`"
            )

    def read(self) -> dict[str, dict[str, str]]:
        """All secrets by provider; {} when the file does not exist."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read {self.path} ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            self._check(os.fstat(handle.fileno()))
            raw = handle.read()
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.path}: not valid TOML ({exc})") from None
        out: dict[str, dict[str, str]] = {}
        for provider, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f'{self.path}: expected a [{provider}] table of name = "value"')
            for name, value in table.items():
                if not isinstance(value, str):
                    raise ConfigError(f"{self.path}: [{provider}] {name} must be a string")
            out[provider] = dict(table)
        return out

    def get(self, provider: str, name: str) -> str | None:
        return self.read().get(provider, {}).get(name)

    def write(self, data: Mapping[str, Mapping[str, str]]) -> None:
        """Replace the file atomically (temp file + ``os.replace``), mode 0600."""
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
            os.chmod(directory, 0o700)
        lines = [
            "# pupitre credentials — keep private (mode 0600).",
            "# Written by `pupitre secrets set`; comments are not preserved.",
        ]
        for provider, table in data.items():
            if not table:
                continue
            lines += ["", f"[{toml_key(provider)}]"]
            lines += [f"{toml_key(name)} = {toml_value(value)}" for name, value in table.items()]
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".credentials.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def set(self, provider: str, name: str, value: str) -> None:
        data = self.read()
        data.setdefault(provider, {})[name] = value
        self.write(data)

    def delete(self, provider: str, name: str) -> bool:
        data = self.read()
        if name not in data.get(provider, {}):
            return False
        del data[provider][name]
        self.write(data)
        return True


class SecretStore:
    """Looks secrets up in env, keyring and credentials file, in that order."""

    def __init__(
        self,
        *,
        credentials_file: Path | None = None,
        env: MutableMapping[str, str] | None = None,
        backend: KeyringBackend | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.file = CredentialsFile(credentials_file or credentials_path())
        self.env = env if env is not None else os.environ
        self.timeout = timeout
        self._explicit_backend = backend
        self._backend: KeyringBackend | None = None
        self._probed = False
        self._notice: str | None = None
        self.keyring_reason: str | None = None  # why no keyring is used (absent, locked, too slow)
        self._notice_taken = False
        self._lock = threading.RLock()

    # -- keyring -----------------------------------------------------------------------
    def _turn_off(self, reason: str) -> None:
        self._backend = None
        self.keyring_reason = reason
        if self._notice is None:
            self._notice = (
                f"No keyring on this host: secrets come from PUPITRE_* environment "
                f"variables or {display_path(self.file.path)} (mode 0600), where "
                f"`pupitre secrets set` writes. ({reason})"
            )
            log.info("keyring unavailable: %s", reason)

    def keyring_backend(self) -> KeyringBackend | None:
        """The real keyring backend, or None (probed once, with the timeout)."""
        with self._lock:
            if not self._probed:
                self._probed = True
                try:
                    import keyring

                    found = self._explicit_backend or call_with_timeout(keyring.get_keyring, self.timeout)
                    self._backend = pick_backend(found)
                    if self._backend is None:
                        kind = f"{type(found).__module__}.{type(found).__name__}"
                        self._turn_off(f"no real keyring backend, found {kind}")
                except KeyringUnavailable as exc:
                    self._turn_off(exc.reason)
            return self._backend

    def _keyring_call(self, method: str, *args: str) -> Any:
        backend = self.keyring_backend()
        if backend is None:
            raise KeyringUnavailable("absent")
        try:
            return call_with_timeout(getattr(backend, method), self.timeout, *args)
        except KeyringUnavailable as exc:
            with self._lock:
                self._turn_off(exc.reason)
            raise

    def _from_keyring(self, provider: str, name: str) -> str | None:
        try:
            value = self._keyring_call("get_password", SERVICE, f"{provider}.{name}")
        except KeyringUnavailable:
            return None
        return value if isinstance(value, str) and value else None

    def notice(self) -> str | None:
        """One message explaining that no keyring is used, or None while it works."""
        return self._notice

    def take_notice(self) -> str | None:
        """Like :meth:`notice`, but only the first time (for a one-off notification)."""
        with self._lock:
            if self._notice is None or self._notice_taken:
                return None
            self._notice_taken = True
            return self._notice

    # -- lookups -----------------------------------------------------------------------
    def _lookup(self, provider: str, name: str) -> tuple[str | None, str]:
        variable = env_var(provider, name)
        if self.env.get(variable):
            return self.env[variable], f"env {variable}"
        value = self._from_keyring(provider, name)
        if value is not None:
            return value, "keyring"
        value = self.file.get(provider, name)
        if value:
            return value, self.file.label
        return None, NOT_SET

    def available(self, provider: str, name: str) -> bool:
        """Whether the secret exists anywhere; asks the keyring last (it may be slow)."""
        if self.env.get(env_var(provider, name)) or self.file.get(provider, name):
            return True
        return self._from_keyring(provider, name) is not None

    def shadowing(self, provider: str, name: str) -> str | None:
        """The environment variable that holds this secret, if set: it is read before the
        keyring and the credentials file, so a value saved there would not be used."""
        variable = env_var(provider, name)
        return variable if self.env.get(variable) else None

    def require(self, provider: str, name: str, title: str) -> str:
        """The value, or :class:`NotConnected` saying where it was looked for and the fix."""
        value = self.get(provider, name)
        if value:
            return value
        keyring = f"no keyring ({self.keyring_reason})" if self.keyring_reason else "not in the keyring"
        raise NotConnected(
            f"{title} not connected: no {name} found (environment variable {env_var(provider, name)} unset, "
            f"{keyring}, not in {display_path(self.file.path)}). "
            f"Fix: `pupitre secrets set {provider} {name}`, or the environment variable"
        )

    def get(self, provider: str, name: str) -> str | None:
        """The value, or None; :class:`ConfigError` when the credentials file is unsafe."""
        return self._lookup(provider, name)[0]

    def secret(self, provider: str, name: str) -> Secret | None:
        value = self.get(provider, name)
        return None if value is None else Secret(value)

    def source(self, provider: str, name: str) -> str:
        """Where the secret comes from, for humans; never the value."""
        try:
            return self._lookup(provider, name)[1]
        except ConfigError as exc:
            return f"unusable — {exc}"

    def set(self, provider: str, name: str, value: str) -> str:
        """Store in the keyring (real backend) or else the credentials file; say where."""
        check_secret_name(provider, name)
        if not value:
            raise ConfigError("refusing to store an empty secret")
        try:
            self._keyring_call("set_password", SERVICE, f"{provider}.{name}", value)
            return "keyring"
        except KeyringUnavailable:
            pass
        self.file.set(provider, name, value)
        return self.file.label

    def delete(self, provider: str, name: str) -> list[str]:
        """Remove from the keyring and the credentials file; the places it was removed from."""
        removed: list[str] = []
        try:
            if self._keyring_call("get_password", SERVICE, f"{provider}.{name}") is not None:
                self._keyring_call("delete_password", SERVICE, f"{provider}.{name}")
                removed.append("keyring")
        except KeyringUnavailable:
            pass
        if self.file.delete(provider, name):
            removed.append(self.file.label)
        return removed
