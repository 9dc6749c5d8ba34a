"""``pupitre sandbox serve`` in a process of its own (a benchmark's simulators, shared by every
process of the test as real endpoints), and what it prints turned into settings: the TOML
sections it gives under "… to use it:" and the ``export NAME=VALUE`` lines of its notes —
read generically, whatever providers and settings it prints."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pupitre.providers.core.secrets import env_var
from pupitre.runtime import PROVIDERS
from tests.terminal import REPO, subprocess_env

EXPORT = re.compile(r"^\s*export\s+(PUPITRE_[A-Z0-9_]+)=(\S+)\s*$")
#: an access log line of the served simulators: ``"GET /path HTTP/1.1" 429``
ANSWER = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3})')


@dataclass
class ServedSandbox:
    process: subprocess.Popen[str]
    settings: str
    #: secrets as environment variables (``PUPITRE_<PROVIDER>_<NAME>``)
    secrets: dict[str, str] = field(default_factory=dict)
    #: the simulators' answers so far, by status (read from their access log)
    answers: dict[int, int] = field(default_factory=dict)

    def drain(self, stream: IO[str]) -> None:
        """Read ``stream`` to its end (the server never blocks on a full pipe), counting answers."""

        def read() -> None:
            for line in stream:
                answer = ANSWER.search(line)
                if answer:
                    status = int(answer.group(1))
                    self.answers[status] = self.answers.get(status, 0) + 1

        threading.Thread(target=read, daemon=True).start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def parse(printed: list[str]) -> tuple[str, dict[str, str]]:
    """The settings (TOML) and the exported secrets in ``pupitre sandbox serve``'s output."""
    toml, secrets, inside = [], {}, False
    for line in printed:
        if line.rstrip().endswith("to use it:"):
            inside = True
            continue
        if inside and line.startswith("    ") and line.strip():
            toml.append(line.strip())
            continue
        inside = False
        exported = EXPORT.match(line)
        if exported:
            secrets[exported.group(1)] = exported.group(2)
    return "\n".join(toml) + "\n", secrets


def sandbox_secrets(settings: str, printed: dict[str, str]) -> dict[str, str]:
    """Every secret a served provider needs: what the server printed, else its simulator's
    sandbox credential (``SANDBOX_CLIENT_SECRET``/``SANDBOX_TOKEN`` of ``providers/<id>/sandbox.py``)."""
    import importlib

    secrets = dict(printed)
    for provider, module in PROVIDERS.items():
        if f"[{provider}]" not in settings:
            continue
        simulator = importlib.import_module(f"pupitre.providers.{provider}.sandbox")
        for name in module.SECRETS:
            var = env_var(provider, name)
            value = getattr(simulator, "SANDBOX_CLIENT_SECRET", None) or getattr(simulator, "SANDBOX_TOKEN", None)
            if var not in secrets and value:
                secrets[var] = str(value)
    return secrets


def serve(tmp_path: Path, attempts: int = 5) -> ServedSandbox:
    """Start ``pupitre sandbox serve`` on free loopback ports; its settings once it serves."""
    env = subprocess_env(tmp_path / "served")
    for _ in range(attempts):
        port = random.randrange(20000, 60000)
        process = subprocess.Popen(
            [sys.executable, "-m", "pupitre", "sandbox", "serve", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Ctrl-C stops"):
                break
        if printed and printed[-1].startswith("Ctrl-C stops"):
            settings, exported = parse(printed)
            served = ServedSandbox(process, settings, sandbox_secrets(settings, exported))
            assert process.stderr is not None
            served.drain(process.stdout)
            served.drain(process.stderr)
            return served
        process.wait(timeout=10)  # the ports were taken: another range
    raise AssertionError("pupitre sandbox serve did not start")
