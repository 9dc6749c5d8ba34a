"""EDF OA token rotation (RG_TOK_NEW_0010) against the simulator served on loopback, as a real
provider: the new token goes where it will be read next, and an environment variable that
would shadow it is named (issue 13)."""

from __future__ import annotations

from pathlib import Path

from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.runtime import build_runtime
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings

VARIABLE = "PUPITRE_EDF_OA_API_TOKEN"


async def _rotate(served: SandboxServer, tmp_path: Path, env: dict[str, str]) -> tuple[edf_oa.RotationResult, str]:
    secrets = SecretStore(credentials_file=tmp_path / "credentials.toml", env=env)
    settings = Settings.from_dict({"edf_oa": {"base_url": served["edf_oa"].base_url}})
    runtime = build_runtime(settings, store=Store(":memory:"), data_dir=tmp_path, secrets=secrets)
    assert "edf_oa" not in runtime.sandboxed
    try:
        session = runtime.connections[edf_oa.PROVIDER].session
        await session.fetch_order()  # the client works with the current token
        return await session.rotate_token(), served["edf_oa"].simulator.current_token
    finally:
        await runtime.aclose()


async def test_a_token_from_the_credentials_file_is_replaced_there(served: SandboxServer, tmp_path: Path) -> None:
    sim = served["edf_oa"].simulator
    SecretStore(credentials_file=tmp_path / "credentials.toml", env={}).file.set(
        "edf_oa", "api_token", sim.current_token
    )
    result, new = await _rotate(served, tmp_path, env={})
    assert result.shadowed_by is None and result.unsaved_token is None and result.confirmed
    again = SecretStore(credentials_file=tmp_path / "credentials.toml", env={})
    assert again.get("edf_oa", "api_token") == new  # the next start reads the new token


async def test_an_environment_variable_that_would_shadow_it_is_named_and_the_token_shown(
    served: SandboxServer, tmp_path: Path
) -> None:
    sim = served["edf_oa"].simulator
    env = {VARIABLE: sim.current_token}  # as `pupitre sandbox serve` suggests
    result, new = await _rotate(served, tmp_path, env=env)
    assert result.shadowed_by == VARIABLE and result.unsaved_token == new and result.saved_to
    # Saved, but the next start would still read the (dead) old token from the variable:
    assert SecretStore(credentials_file=tmp_path / "credentials.toml", env=env).get("edf_oa", "api_token") != new
