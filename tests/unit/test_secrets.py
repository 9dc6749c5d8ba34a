"""Secrets: env > keyring > credentials file, unsafe files, atomic writes, hung keyrings, CLI."""

from __future__ import annotations

import io
import logging
import os
import stat
import threading
import time
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend

from pupitre import cli_config
from pupitre.providers.core import secrets as secrets_mod
from pupitre.providers.core.config import REQUIRED_SECRETS, credentials_path
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.secrets import (
    NOT_SET,
    Secret,
    SecretStore,
    env_var,
    is_real_backend,
    pick_backend,
)
from tests.helpers import MemoryKeyring

VALUE = "s3cr3t-Value-9f!"


class HangingKeyring(MemoryKeyring):
    """A keyring stuck like a hung D-Bus: get_password blocks until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(10)
        return None


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        raise keyring.errors.KeyringLocked(f"locked, value was {VALUE}")


# A class that looks like it comes from keyrings.alt (plain-text file backend).
AltPlaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in list(os.environ):
        if name.startswith("PUPITRE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield tmp_path
    keyring.set_keyring(previous)


@pytest.fixture
def memory() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def write_credentials(text: str, mode: int = 0o600) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text)
    os.chmod(path, mode)
    return path


# -- basics ----------------------------------------------------------------------------
def test_env_var_names() -> None:
    assert env_var("grtgaz", "key_passphrase") == "PUPITRE_GRTGAZ_KEY_PASSPHRASE"
    assert env_var("edf-oa", "api-token") == "PUPITRE_EDF_OA_API_TOKEN"


def test_required_secrets() -> None:
    assert REQUIRED_SECRETS["grtgaz"] == ["key_passphrase"]
    assert set(REQUIRED_SECRETS) == {"grtgaz", "edf_oa", "grdf_omega", "grdf_adict", "switchgrid"}


def test_secret_wrapper_hides_value() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == "Secret('***')" and str(secret) == "***" and f"{secret}" == "***"
    assert secret.reveal() == VALUE
    assert VALUE not in repr([secret])


def test_nothing_set() -> None:
    store = SecretStore()
    assert store.get("grtgaz", "key_passphrase") is None
    assert store.source("grtgaz", "key_passphrase") == NOT_SET == "not set — the provider runs on the sandbox"


# -- precedence ------------------------------------------------------------------------
def test_env_beats_keyring_beats_file(monkeypatch: pytest.MonkeyPatch, memory: MemoryKeyring) -> None:
    write_credentials('[grtgaz]\nkey_passphrase = "from-file"\n')
    store = SecretStore()
    assert store.get("grtgaz", "key_passphrase") == "from-file"
    assert store.source("grtgaz", "key_passphrase") == f"credentials file {credentials_path()}"

    memory.set_password("pupitre", "grtgaz.key_passphrase", "from-keyring")
    assert store.get("grtgaz", "key_passphrase") == "from-keyring"
    assert store.source("grtgaz", "key_passphrase") == "keyring"

    monkeypatch.setenv("PUPITRE_GRTGAZ_KEY_PASSPHRASE", "from-env")
    assert store.get("grtgaz", "key_passphrase") == "from-env"
    assert store.source("grtgaz", "key_passphrase") == "env PUPITRE_GRTGAZ_KEY_PASSPHRASE"
    assert store.secret("grtgaz", "key_passphrase") == Secret("from-env")
    assert store.notice() is None


def test_empty_env_var_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUPITRE_GRTGAZ_KEY_PASSPHRASE", "")
    write_credentials('[grtgaz]\nkey_passphrase = "from-file"\n')
    assert SecretStore().get("grtgaz", "key_passphrase") == "from-file"


def test_headless_fail_backend_uses_file_and_says_so_once() -> None:
    write_credentials('[grtgaz]\nkey_passphrase = "from-file"\n')
    store = SecretStore()
    assert store.get("grtgaz", "key_passphrase") == "from-file"
    assert store.get("edf_oa", "api_token") is None
    notice = store.notice()
    assert notice is not None and notice.count("No keyring on this host") == 1
    assert str(credentials_path()) in notice and "pupitre secrets set" in notice
    assert "0600" in notice
    assert store.take_notice() == notice
    assert store.take_notice() is None  # said once
    assert store.notice() == notice  # still available for `config show`


# -- credentials file safety -----------------------------------------------------------
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_readable_file_refused(mode: int) -> None:
    path = write_credentials(f'[grtgaz]\nkey_passphrase = "{VALUE}"\n', mode)
    store = SecretStore()
    with pytest.raises(ConfigError) as info:
        store.get("grtgaz", "key_passphrase")
    message = str(info.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert VALUE not in message
    source = store.source("grtgaz", "key_passphrase")
    assert "unusable" in source and "chmod 600" in source and VALUE not in source


def test_env_still_works_when_file_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    write_credentials('[grtgaz]\nkey_passphrase = "x"\n', 0o644)
    monkeypatch.setenv("PUPITRE_GRTGAZ_KEY_PASSPHRASE", "from-env")
    assert SecretStore().get("grtgaz", "key_passphrase") == "from-env"


def test_file_owned_by_someone_else_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_credentials('[grtgaz]\nkey_passphrase = "x"\n')
    monkeypatch.setattr(secrets_mod.os, "getuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(ConfigError, match="owned by uid"):
        SecretStore().get("grtgaz", "key_passphrase")


def test_bad_credentials_toml_never_shows_values() -> None:
    write_credentials(f'[grtgaz]\nkey_passphrase = "{VALUE}\n')
    with pytest.raises(ConfigError) as info:
        SecretStore().get("grtgaz", "key_passphrase")
    assert VALUE not in str(info.value) and "line 2" in str(info.value)
    write_credentials("[grtgaz]\nkey_passphrase = 42\n")
    with pytest.raises(ConfigError, match="must be a string"):
        SecretStore().get("grtgaz", "key_passphrase")


# -- writing ---------------------------------------------------------------------------
def test_set_writes_0600_atomically(monkeypatch: pytest.MonkeyPatch) -> None:
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        assert stat.S_IMODE(os.stat(src).st_mode) == 0o600  # never visible with a wider mode
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(secrets_mod.os, "replace", spy)
    store = SecretStore()
    where = store.set("grtgaz", "key_passphrase", VALUE)
    path = credentials_path()
    assert where == f"credentials file {path}"
    assert replaced and replaced[0][1] == str(path) and replaced[0][0] != str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.toml"]  # no temp left
    store.set("edf_oa", "api_token", 'with "quotes" \\ and ünicode')
    assert store.get("grtgaz", "key_passphrase") == VALUE
    assert store.get("edf_oa", "api_token") == 'with "quotes" \\ and ünicode'


def test_set_keeps_other_entries_and_delete() -> None:
    write_credentials('[other]\nthing = "kept"\n')
    store = SecretStore()
    store.set("switchgrid", "api_token", VALUE)
    assert store.file.read() == {"other": {"thing": "kept"}, "switchgrid": {"api_token": VALUE}}
    assert store.delete("switchgrid", "api_token") == [f"credentials file {credentials_path()}"]
    assert store.get("switchgrid", "api_token") is None
    assert store.delete("switchgrid", "api_token") == []


def test_set_refuses_unsafe_file_and_unknown_names() -> None:
    write_credentials('[grtgaz]\nkey_passphrase = "x"\n', 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        SecretStore().set("grtgaz", "key_passphrase", VALUE)
    with pytest.raises(ConfigError, match="valid providers: grtgaz, edf_oa"):
        SecretStore().set("nope", "key_passphrase", VALUE)
    with pytest.raises(ConfigError, match="valid names: key_passphrase"):
        SecretStore().set("grtgaz", "password", VALUE)
    with pytest.raises(ConfigError, match="empty"):
        SecretStore().set("grtgaz", "key_passphrase", "")


def test_set_prefers_a_real_keyring(memory: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.set("grtgaz", "key_passphrase", VALUE) == "keyring"
    assert memory.items == {("pupitre", "grtgaz.key_passphrase"): VALUE}
    assert not credentials_path().exists()
    assert store.delete("grtgaz", "key_passphrase") == ["keyring"]
    assert memory.items == {}


# -- unusable keyrings -----------------------------------------------------------------
def test_hanging_keyring_times_out_falls_back_and_says_it_once(caplog: pytest.LogCaptureFixture) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    write_credentials('[grtgaz]\nkey_passphrase = "from-file"\n')
    store = SecretStore(timeout=0.2)
    try:
        with caplog.at_level(logging.INFO, logger="pupitre.secrets"):
            started = time.monotonic()
            assert store.get("grtgaz", "key_passphrase") == "from-file"
            assert store.get("grtgaz", "key_passphrase") == "from-file"
            assert store.source("edf_oa", "api_token") == NOT_SET
            elapsed = time.monotonic() - started
        assert elapsed < 1.5  # one timeout, not one per lookup
        assert backend.calls == 1  # the keyring is not asked again
        notice = store.notice()
        assert notice and "did not answer within 0.2 s" in notice
        assert len([r for r in caplog.records if "keyring unavailable" in r.getMessage()]) == 1
        assert store.take_notice() == notice and store.take_notice() is None
        assert store.set("grtgaz", "key_passphrase", "new") == f"credentials file {credentials_path()}"
        assert backend.items == {}
    finally:
        backend.release.set()


def test_keyring_exception_means_unavailable() -> None:
    backend = BrokenKeyring()
    keyring.set_keyring(backend)
    store = SecretStore()
    assert store.get("grtgaz", "key_passphrase") is None
    assert store.get("edf_oa", "api_token") is None
    assert backend.calls == 1
    notice = store.notice() or ""
    assert "KeyringLocked" in notice and VALUE not in notice


@pytest.mark.parametrize("backend", [AltPlaintext(), fail.Keyring(), null.Keyring()])
def test_fake_backends_treated_as_absent(backend: KeyringBackend) -> None:
    keyring.set_keyring(backend)
    assert not is_real_backend(backend)
    store = SecretStore()
    assert store.set("grtgaz", "key_passphrase", VALUE) == f"credentials file {credentials_path()}"
    assert getattr(backend, "items", {}) == {}
    assert getattr(backend, "calls", 0) == 0
    assert store.source("grtgaz", "key_passphrase").startswith("credentials file")
    assert "No keyring on this host" in (store.notice() or "")


def test_chainer_uses_its_best_real_member_only() -> None:
    real = MemoryKeyring()

    class Chain(ChainerBackend):
        backends = [AltPlaintext(), real]

    assert pick_backend(Chain()) is real

    class AltOnly(ChainerBackend):
        backends = [AltPlaintext(), fail.Keyring()]

    assert pick_backend(AltOnly()) is None
    assert is_real_backend(MemoryKeyring())


# -- CLI -------------------------------------------------------------------------------
def test_cli_set_from_stdin_and_where(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(VALUE + "\n"))
    assert cli_config.main(["secrets", "set", "grtgaz", "key_passphrase", "--from-stdin"]) == 0
    captured = capsys.readouterr()
    assert "stored grtgaz.key_passphrase in credentials file" in captured.out
    assert VALUE not in captured.out + captured.err
    assert SecretStore().get("grtgaz", "key_passphrase") == VALUE

    assert cli_config.main(["secrets", "where"]) == 0
    captured = capsys.readouterr()
    assert "grtgaz.key_passphrase" in captured.out and "credentials file" in captured.out
    assert "switchgrid.api_token" in captured.out and NOT_SET in captured.out
    assert VALUE not in captured.out + captured.err


def test_cli_set_prompts_without_echo(
    monkeypatch: pytest.MonkeyPatch, memory: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []
    monkeypatch.setattr(cli_config.getpass, "getpass", lambda prompt: prompts.append(prompt) or VALUE)
    monkeypatch.setenv("PUPITRE_EDF_OA_API_TOKEN", "shadowing")
    assert cli_config.main(["secrets", "set", "edf_oa", "api_token"]) == 0
    assert prompts and "edf_oa api_token" in prompts[0]
    captured = capsys.readouterr()
    assert "stored edf_oa.api_token in keyring" in captured.out
    assert "PUPITRE_EDF_OA_API_TOKEN is set" in captured.err
    assert memory.items[("pupitre", "edf_oa.api_token")] == VALUE


def test_cli_refuses_unknown_names_and_empty_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_config.main(["secrets", "set", "grtgas", "key_passphrase", "--from-stdin"]) == 2
    err = capsys.readouterr().err
    assert "unknown provider 'grtgas'" in err and "grtgaz, edf_oa, grdf_omega" in err
    assert cli_config.main(["secrets", "set", "grtgaz", "passphrase", "--from-stdin"]) == 2
    assert "valid names: key_passphrase" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli_config.main(["secrets", "set", "grtgaz", "key_passphrase", "--from-stdin"]) == 1
    assert "nothing stored" in capsys.readouterr().err
    assert not credentials_path().exists()


def test_cli_unsafe_file_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_credentials(f'[grtgaz]\nkey_passphrase = "{VALUE}"\n', 0o644)
    assert cli_config.main(["secrets", "delete", "grtgaz", "key_passphrase"]) == 2
    err = capsys.readouterr().err
    assert f"chmod 600 {path}" in err and "Traceback" not in err and VALUE not in err
