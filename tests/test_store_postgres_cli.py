"""The team's PostgreSQL store from the command line (subprocesses): ``pupitre check`` writes its
results there (no local file), ``pupitre store migrate`` upgrades it, a password in the settings
file is refused, and the local-file commands say they do not apply."""

from __future__ import annotations

from pathlib import Path

from pupitre.providers.core.store_pg import PostgresStore
from tests.terminal import pupitre, subprocess_env


def test_check_and_migrate_on_the_teams_postgresql_store(tmp_path: Path, postgres_url: str) -> None:
    env = dict(subprocess_env(tmp_path), PUPITRE_STORE_URL=postgres_url)
    assert pupitre(["check", "--sandbox"], env).returncode in (0, 1, 2)
    assert not (Path(env["PUPITRE_DATA_DIR"]) / "pupitre.sqlite3").exists()
    store = PostgresStore(postgres_url)
    assert store.load_snapshot("grtgaz.indicators") is not None
    store.close()

    result = pupitre(["store", "migrate"], env)
    assert result.returncode == 0 and result.stdout.strip().endswith("(already)")
    result = pupitre(["store", "backup"], env)
    assert result.returncode == 2 and "pg_dump" in result.stderr


def test_a_password_in_the_store_url_is_refused(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path)
    settings = Path(env["PUPITRE_CONFIG_DIR"]) / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('[store]\nurl = "postgresql://ana:s3cret@db.invalid/pupitre"\n')
    result = pupitre(["check", "--sandbox"], env)
    assert result.returncode != 0 and "holds a password" in result.stdout + result.stderr
    assert "s3cret" not in result.stdout + result.stderr
