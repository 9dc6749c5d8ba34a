"""Settings: paths, TOML loading and its error messages, template, show, edit, CLI."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from pupitre import cli_config
from pupitre.providers.core import config
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.secrets import SecretStore
from pupitre.settings import AppSettings, EdfOaSettings, GrtgazSettings, Settings, SettingsError
from tests.helpers import MemoryKeyring

SECRET_VALUE = "hunter2-Zq9!"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in list(os.environ):
        if name.startswith("PUPITRE_") or name in ("VISUAL", "EDITOR") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield tmp_path
    keyring.set_keyring(previous)


def write(text: str) -> Path:
    path = config.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- paths -----------------------------------------------------------------------------
def test_paths_follow_env_overrides(tmp_path: Path) -> None:
    assert config.config_dir() == tmp_path / "config"
    assert config.data_dir() == tmp_path / "data"
    assert config.settings_path() == tmp_path / "config" / "settings.toml"
    assert config.credentials_path() == tmp_path / "config" / "credentials.toml"
    assert config.store_path() == tmp_path / "data" / "pupitre.sqlite3"


def test_paths_default_to_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUPITRE_CONFIG_DIR")
    assert config.config_dir().name == "pupitre"


# -- loading ---------------------------------------------------------------------------
def test_missing_file_gives_defaults() -> None:
    settings = config.load_settings()
    assert settings == Settings()
    assert settings.app.sandbox is False
    assert settings.app.default_refresh_seconds == 60
    assert settings.grtgaz.base_url == "https://api.offre.grtgaz.com/sfm/v1"
    assert settings.grtgaz.jwt_algorithm == "RS256"
    assert settings.grtgaz.timestamps_local is True
    assert settings.grtgaz.sites == []
    assert not settings.grtgaz.configured


def test_values_are_read() -> None:
    write(
        '[app]\nsandbox = true\nkeys = { "feeds.refresh" = "f5" }\n'
        '[grtgaz]\nsites = ["LI1001", "LI1006"]\nthumbprint_header = "x5t#S256"\n'
        'base_url = "http://127.0.0.1:8765/sfm/v1/"\n'
    )
    settings = config.load_settings()
    assert settings.app.sandbox is True
    assert settings.app.keys == {"feeds.refresh": "f5"}
    assert settings.grtgaz.sites == ["LI1001", "LI1006"]
    assert settings.grtgaz.thumbprint_header == "x5t#S256"
    assert settings.grtgaz.base_url == "http://127.0.0.1:8765/sfm/v1"  # loopback http is fine


def test_unknown_key_refused_with_line_and_allowed_keys() -> None:
    path = write('[grtgaz]\nclient_id = "abc"\nrefresh_secnds = 30\n')
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message
    assert "grtgaz.refresh_secnds" in message
    assert "unknown setting" in message and "refresh_seconds" in message
    assert "Traceback" not in message


def test_unknown_section_refused() -> None:
    write('[grtgas]\nclient_id = "abc"\n')
    with pytest.raises(ConfigError, match=r"line 1, grtgas: unknown section \(allowed: app, grtgaz"):
        config.load_settings()


@pytest.mark.parametrize(
    "key,provider",
    [
        ("key_passphrase", "grtgaz"),
        ("client_secret", "grtgaz"),
        ("api_token", "grtgaz"),
        ("password", "grtgaz"),
        ("api_key", "app"),
        ("token", "app"),
    ],
)
def test_secret_in_settings_refused(key: str, provider: str) -> None:
    write(
        f'[{provider}]\nclient_id = "x"\n{key} = "{SECRET_VALUE}"\n'
        if provider == "grtgaz"
        else f'[{provider}]\nsandbox = true\n{key} = "{SECRET_VALUE}"\n'
    )
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert f"pupitre secrets set {provider} {key}" in message
    assert "line 3" in message
    assert SECRET_VALUE not in message


def test_token_url_is_not_mistaken_for_a_secret() -> None:
    write('[grtgaz]\ntoken_url = "https://login.example.com/token"\n')
    assert config.load_settings().grtgaz.token_url == "https://login.example.com/token"


def test_bad_toml_names_file_and_line() -> None:
    path = write("[app]\nsandbox = true\nnotifications = \n")
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert str(path) in message and "TOML syntax error" in message
    assert re.search(r"line 3", message)


@pytest.mark.parametrize("field", ["base_url", "token_url"])
def test_plain_http_to_a_real_host_refused(field: str) -> None:
    write(f'[grtgaz]\n{field} = "http://api.example.com/v1"\n')
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert f"line 2, grtgaz.{field}" in message
    assert "https" in message


def test_wrong_type_and_range() -> None:
    write('[grtgaz]\njwt_algorithm = "HS256"\nrefresh_seconds = -1\n')
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert "line 2, grtgaz.jwt_algorithm" in message and "RS256" in message
    assert "line 3, grtgaz.refresh_seconds" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[app]\nsandbox = "maybe"', "line 2, app.sandbox: should be true or false, not text in quotes"),
        ("[app]\nkeep_audit_days = 1.5", "line 2, app.keep_audit_days: should be a whole number, not a decimal number"),
        ("[app]\nkeep_audit_days = 0", "line 2, app.keep_audit_days: should be at least 1 (not 0)"),
        ("[grdf_omega]\nquota_margin = 0.5", "line 2, grdf_omega.quota_margin: should be less than 0.5 (not 0.5)"),
        ('[grtgaz]\nsites = "LI1001"', "line 2, grtgaz.sites: should be a list, not text in quotes"),
        ('[grtgaz]\nsites = ["LI1001", 3]', "line 2, grtgaz.sites[1]: should be text in quotes, not a whole number"),
        ("[grtgaz]\ncertificate = 3", "line 2, grtgaz.certificate: should be a path in quotes, not a whole number"),
        ('[edf_oa]\napi_version = "2"', "line 2, edf_oa.api_version: '2' does not match the pattern ^v\\d+$"),
        ('[switchgrid]\ndata_format = "xml"', "line 2, switchgrid.data_format: 'xml' is not one of: json, csv"),
        ("[app]\nkeys = 3", "line 2, app.keys: should be a table, not a whole number"),
        ("app = 3", "line 1, app: must be a table of settings ([section] then key = value lines)"),
    ],
)
def test_a_wrong_type_or_bound_is_one_sentence_naming_the_key(text: str, expected: str) -> None:
    path = write(text + "\n")
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    assert str(info.value) == f"{path}: invalid settings (1 problem)\n  {expected}"


def test_values_written_as_text_are_read_as_before() -> None:
    write('[app]\nsandbox = "true"\nkeep_audit_days = 30.0\n[grtgaz]\nrefresh_seconds = "30"\n')
    settings = config.load_settings()
    assert settings.app.sandbox is True and settings.app.keep_audit_days == 30
    assert settings.grtgaz.refresh_seconds == 30.0


def test_the_file_s_sections_are_declared_and_rules_hold_for_sections_built_in_code() -> None:
    write("[grdf_omega]\n[app]\nsandbox = true\n")
    assert config.load_settings().declared == {"grdf_omega", "app"}
    assert Settings().declared == frozenset()
    with pytest.raises(SettingsError, match="window_end: the call window must end after it starts"):
        EdfOaSettings(window_start="16:00", window_end="13:30")
    with pytest.raises(SettingsError, match="base_url: refusing http://api.example.com"):
        GrtgazSettings(base_url="http://api.example.com")
    assert GrtgazSettings(base_url="http://127.0.0.1:8000/sfm/").base_url == "http://127.0.0.1:8000/sfm"


def test_unreadable_encoding_is_a_config_error() -> None:
    path = config.settings_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe[app]")
    with pytest.raises(ConfigError, match="UTF-8"):
        config.load_settings()


def test_paths_expand_home_and_resolve_relative_to_the_file() -> None:
    path = write('[grtgaz]\ncertificate = "certs/client.pem"\nprivate_key = "~/keys/client.key"\n')
    settings = config.load_settings()
    assert settings.grtgaz.certificate == path.parent / "certs" / "client.pem"
    assert settings.grtgaz.private_key == Path.home() / "keys" / "client.key"


def test_configured_needs_id_audience_certificate_and_key() -> None:
    section = GrtgazSettings(client_id="id", audience="aud", certificate=Path("/c.pem"))
    assert not section.configured and section.missing() == ["private_key"]
    section.private_key = Path("/k.pem")
    assert section.configured


# -- template --------------------------------------------------------------------------
def test_template_written_0600_once(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    assert config.write_default_settings(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for section, model in Settings.sections().items():
        assert f"[{section}]" in text
        for key in model.__struct_fields__:
            assert f"# {key} = " in text
    path.write_text("[app]\nsandbox = true\n")
    assert config.write_default_settings(path) is False
    assert path.read_text() == "[app]\nsandbox = true\n"


def test_template_loads_as_defaults_and_uncommented_too(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    config.write_default_settings(path)
    assert config.load_settings(path) == Settings(declared=frozenset(Settings.sections()))  # every [section] written
    uncommented = re.sub(r"^# (\w+ = )", r"\1", path.read_text(), flags=re.M)
    uncommented = re.sub(r"^(certificate|private_key) = .*$", "", uncommented, flags=re.M)
    path.write_text(uncommented)
    assert config.load_settings(path) == Settings(declared=frozenset(Settings.sections()))


# -- show ------------------------------------------------------------------------------
def test_show_gives_sources_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUPITRE_GRTGAZ_KEY_PASSPHRASE", SECRET_VALUE)
    store = SecretStore()
    store.file.set("edf_oa", "api_token", SECRET_VALUE + "-file")
    text = config.show_settings(config.load_settings(), store)
    assert "[grtgaz]" in text and "[app]" in text
    assert "key_passphrase: env PUPITRE_GRTGAZ_KEY_PASSPHRASE" in text
    assert f"secret api_token: credentials file {config.credentials_path()}" in text
    assert "[grdf_adict]" in text and "secret client_secret: not set — the provider runs on the sandbox" in text
    assert "[switchgrid]" in text and "secret api_token: not set — the provider runs on the sandbox" in text
    assert "runs on the sandbox (not set: client_id" in text
    assert SECRET_VALUE not in text


def test_show_with_keyring_source() -> None:
    backend = MemoryKeyring()
    backend.set_password("pupitre", "grtgaz.key_passphrase", SECRET_VALUE)
    keyring.set_keyring(backend)
    text = config.show_settings(Settings(), SecretStore())
    assert "key_passphrase: keyring" in text
    assert SECRET_VALUE not in text


def test_show_accepts_a_plain_callable() -> None:
    text = config.show_settings(Settings(app=AppSettings(sandbox=True)), lambda p, n: f"src-{p}-{n}")
    assert "key_passphrase: src-grtgaz-key_passphrase" in text
    assert "runs on the sandbox (app.sandbox = true)" in text


def test_display_path_uses_tilde() -> None:
    assert config.display_path(Path.home() / ".config" / "x") == "~/.config/x"


# -- edit ------------------------------------------------------------------------------
def test_editor_command_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.editor_command() == ["vi"]
    monkeypatch.setenv("EDITOR", "nano -w")
    assert config.editor_command() == ["nano", "-w"]
    monkeypatch.setenv("VISUAL", "code --wait")
    assert config.editor_command() == ["code", "--wait"]


def test_edit_creates_template_then_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "myeditor")
    calls: list[list[str]] = []

    def editor(command: list[str]) -> int:
        calls.append(command)
        assert Path(command[-1]).read_text().startswith("# pupitre settings")
        Path(command[-1]).write_text("[app]\nsandbox = true\n")
        return 0

    settings = config.edit_settings(run=editor)
    assert calls == [["myeditor", str(config.settings_path())]]
    assert settings.app.sandbox is True


def test_edit_reports_errors() -> None:
    def editor(command: list[str]) -> int:
        Path(command[-1]).write_text("[app]\nsandbx = true\n")
        return 0

    with pytest.raises(ConfigError, match="line 2, app.sandbx: unknown setting"):
        config.edit_settings(run=editor)
    assert config.settings_path().exists()  # kept for the user to fix

    def missing(command: list[str]) -> int:
        raise FileNotFoundError(command[0])

    with pytest.raises(ConfigError, match="not found"):
        config.edit_settings(run=missing)
    with pytest.raises(ConfigError, match="status 1"):
        config.edit_settings(run=lambda command: 1)


# -- CLI -------------------------------------------------------------------------------
def test_cli_config_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_config.main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(config.settings_path())
    assert cli_config.main(["config", "path", "--all"]) == 0
    out = capsys.readouterr().out
    assert "credentials" in out and str(config.store_path()) in out


def test_cli_config_show_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_config.main(["config", "show"]) == 0
    captured = capsys.readouterr()
    assert "not present: defaults" in captured.out
    assert "No keyring on this host" in captured.err and "pupitre secrets set" in captured.err
    write("[app]\nsandbox = maybe\n")
    assert cli_config.main(["config", "show"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("pupitre: ") and "TOML syntax error" in captured.err
    assert "Traceback" not in captured.err


def test_cli_config_edit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(config.subprocess, "call", lambda command: 0)
    assert cli_config.main(["config", "edit"]) == 0
    assert "settings OK" in capsys.readouterr().out


# -- settings checked completely before anything runs (issue 14) ------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ack_deadline = "25:00"', "line 2, edf_oa.ack_deadline: '25:00' is not a time of day"),
        ('window_start = "13:60"', "line 2, edf_oa.window_start: '13:60' is not a time of day"),
        ('window_start = "1:30"', "line 2, edf_oa.window_start: '1:30' is not a time of day"),
        (
            'window_start = "16:00"\nwindow_end = "13:30"',
            "line 3, edf_oa.window_end: the call window must end after it starts (window_start = '16:00')",
        ),
        ('window_end = "13:30"', "line 2, edf_oa.window_end: the call window must end after it starts"),
        ('ack_deadline = "17:00"', "line 2, edf_oa.ack_deadline: the deadline must fall inside the call window"),
        ('ack_deadline = "13:00"', "line 2, edf_oa.ack_deadline: the deadline must come after the call window opens"),
    ],
)
def test_times_of_day_and_windows(text: str, expected: str) -> None:
    write(f"[edf_oa]\n{text}\n")
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    assert expected in str(info.value)


def test_a_coherent_window_is_accepted() -> None:
    write('[edf_oa]\nwindow_start = "13:00"\nwindow_end = "17:30"\nack_deadline = "17:30"\n')
    settings = config.load_settings()
    assert (settings.edf_oa.window_start, settings.edf_oa.window_end) == ("13:00", "17:30")


def test_grtgaz_sites_must_exist_and_names_are_refused_with_the_ids() -> None:
    write('[grtgaz]\nsites = [\n  "LI1001",\n  "LI9999",\n  "Montoir",\n]\n')
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert "line 2, grtgaz.sites[1]: unknown site id 'LI9999'; the sites are LI1001 (DK6)" in message
    assert "LI1013 (Bouchain)" in message  # all 13 ids listed
    assert "line 2, grtgaz.sites[2]: 'Montoir' is a site name: write its id 'LI1006'" in message
    assert "sites[0]" not in message


def test_key_remaps_checked_with_their_line() -> None:
    write('[app]\nsandbox = true\n\n[app.keys]\n"feeds.refresh" = "f5"\nrefresh = "f6"\n"flexibility.sort" = "q"\n')
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    message = str(info.value)
    assert "line 6, app.keys.refresh: unknown key binding id 'refresh' (did you mean feeds.refresh" in message
    assert 'line 7, app.keys."flexibility.sort": q is Quit\'s key: on Flexibility (2) it would hide Quit' in message
    assert 'feeds.refresh":' not in message  # the good one is not blamed


def test_every_problem_is_reported_not_only_the_first() -> None:
    sites = ", ".join(f'"LI9{n:03d}"' for n in range(12))
    path = write(
        '[app]\nkeys = { refresh = "f5" }\napi_token = "x"\n'
        f"[grtgaz]\nsites = [{sites}]\nrefresh_seconds = -1\n"
        '[edf_oa]\nack_deadline = "25:00"\nwindow_end = "12:00"\n'
    )
    settings, problems = config.check_settings(path)
    assert settings is None
    assert len(problems) == 1 + 1 + 12 + 1 + 2
    assert all(problem.line for problem in problems)
    message = config.format_problems(path, problems)
    assert "(17 problems)" in message and "… and" not in message
    lines = [int(line.split(",")[0].removeprefix("  line ")) for line in message.splitlines()[1:]]
    assert lines == sorted(lines)  # in file order
    assert "app.api_token: looks like a secret" in message and "unknown setting" not in message


def test_the_template_documents_key_ids_and_site_ids() -> None:
    text = config.default_settings_text()
    assert '{ "feeds.refresh" = "f5" }' in text and "`pupitre keys`" in text
    assert "{ refresh =" not in text
    assert "LI1006 Montoir" in text
    # Uncommenting every setting of the template gives valid settings.
    uncommented = "\n".join(line[2:] if re.match(r"# [a-z_]+ = ", line) else line for line in text.splitlines())
    uncommented = uncommented.replace('"/path/to/file.pem"', '"cert.pem"')
    write(uncommented)
    config.load_settings()


def test_config_check_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_config.main(["config", "check"]) == 0
    assert "settings OK" in capsys.readouterr().out
    write('[edf_oa]\nack_deadline = "25:00"\n[grtgaz]\nsites = ["LI9999"]\n')
    assert cli_config.main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "line 2, edf_oa.ack_deadline" in err and "line 4, grtgaz.sites[0]" in err
