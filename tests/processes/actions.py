"""One pupitre process (the real runtime, built from the settings file as the dashboard builds
it) that queues an action and delivers it, and dies (SIGKILL, by its own hand) at a chosen
stage; or that only drains what is pending, as the next dashboard does at start. For the
crash matrix: every action kind × every crash stage, against the simulators served on loopback.

The stages the worker kills itself at wrap the real store and handler methods here, in test
code (nothing in ``pupitre/`` knows of them); the in-flight stage is killed from outside.
Workers are forked from a :class:`Zygote` that has imported pupitre once.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The stages a crash is made at.
QUEUED = "queued"  # (a) after the operator confirmed (the action is in the store), before sending
IN_FLIGHT = "in-flight"  # (b) while the request is in flight (killed by the test)
ANSWERED = "answered"  # (c) after the API answered, before the answer is recorded
RECORDED = "recorded"  # (d) after the answer is recorded, before the read-back
STAGES = (QUEUED, IN_FLIGHT, ANSWERED, RECORDED)

#: argv: "queue STAGE PROVIDER ACTION PAYLOAD_FILE", "drain", or "identify ITEM ORDER_ID" (the
#: operator gives the id of a held Switchgrid order, then the outbox runs). Prints the queued
#: item id, then one JSON line: the deliveries ``[id, outcome, verified]``.
WORKER = r"""
import asyncio, json, os, signal, sys
from pathlib import Path
from pupitre.providers.core.store import OUTBOX_DELIVERED, Store
from pupitre.runtime import build_runtime

command = sys.argv[1]
runtime = build_runtime()
assert not runtime.sandboxed & {"edf_oa", "grtgaz", "grdf_adict", "switchgrid"}, runtime.sandboxed


def die():
    os.kill(os.getpid(), signal.SIGKILL)


from pupitre.providers.grtgaz import feeds as grtgaz

grtgaz.FEASIBILITY_POLL_SECONDS = 0.05  # the read-back's wait for a verdict (not what is tested here)

if command == "queue":
    stage, provider, action, payload_file = sys.argv[2:6]
    if stage == "answered":  # the answer is in memory; its write to the store never happens
        update = Store.outbox_update

        def outbox_update(self, item_id, status, *args, **kwargs):
            if status == OUTBOX_DELIVERED:
                die()
            return update(self, item_id, status, *args, **kwargs)

        Store.outbox_update = outbox_update
    elif stage == "recorded":  # recorded delivered; the read-back never starts

        async def verify(payload):
            die()

        for handler in runtime.outbox.handlers.values():
            handler.verify = verify


async def main():
    try:
        if command == "queue":
            payload = json.loads(Path(payload_file).read_text(encoding="utf-8"))
            print(runtime.outbox.enqueue(provider, action, payload), flush=True)
            if stage == "queued":
                die()
        elif command == "identify":
            from pupitre.providers.switchgrid.actions import operator_found

            session = runtime.connections["switchgrid"].session
            await operator_found(session, runtime.outbox.item(int(sys.argv[2])), sys.argv[3])
        deliveries = await asyncio.wait_for(runtime.outbox.drain(), 90)
        print(json.dumps([[d.item_id, d.outcome, d.verified] for d in deliveries]), flush=True)
    finally:
        await runtime.aclose()


asyncio.run(main())
"""


#: A process that has imported pupitre once and forks one worker per request: each worker is a
#: process of its own (its own pid, killed with SIGKILL like any), without paying pupitre's
#: imports again (about a second each on a loaded 2-core machine: the matrix runs ~60 workers).
#: Reads one JSON job per line (args, env, out and err files); prints ``started PID`` and, when
#: a worker ends, ``exit PID CODE`` (minus the signal number when killed).
ZYGOTE = r"""
import json, os, selectors, sys, traceback
import httpx, msgspec, jwt  # noqa: F401  what every worker needs, imported once
import pupitre.runtime  # noqa: F401
from pupitre.providers.edf_oa import client as _edf  # noqa: F401
from pupitre.providers.grtgaz import client as _grtgaz  # noqa: F401
from pupitre.providers.grdf_adict import actions as _adict_actions, client as _adict  # noqa: F401
from pupitre.providers.switchgrid import client as _switchgrid  # noqa: F401

worker = sys.argv[1]
children = set()


def reap(block=False):
    while children:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print("exit", pid, code, flush=True)


def child(job):
    code = 1
    try:
        os.environ.clear()
        os.environ.update(job["env"])
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, path in ((1, job["out"]), (2, job["err"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        sys.argv = ["-c", *job["args"]]
        exec(compile(worker, "<worker>", "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


selector = selectors.DefaultSelector()
selector.register(sys.stdin, selectors.EVENT_READ)
while True:
    reap()
    if not selector.select(timeout=0.02):
        continue
    line = sys.stdin.readline()
    if not line:
        break
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        child(job)
    children.add(pid)
    print("started", pid, flush=True)
reap(block=True)
"""


class Worker:
    """One forked worker: its pid, its output files, its exit code once it has ended."""

    def __init__(self, zygote: Zygote, pid: int, out: Path, err: Path) -> None:
        self.zygote, self.pid, self.out, self.err = zygote, pid, out, err
        self.returncode: int | None = None

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def communicate(self, timeout: float) -> tuple[str, str]:
        """Wait for its end; what it printed on stdout and stderr."""
        self.returncode = self.zygote.wait(self.pid, timeout)
        return self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8")


class Zygote:
    """Starts :data:`WORKER` processes by forking the :data:`ZYGOTE` (see there)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self._started: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._ended = threading.Condition()
        self._count = 0
        threading.Thread(target=self._listen, name="zygote", daemon=True).start()

    def _listen(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            word, pid, *code = line.split()
            if word == "started":
                self._started.put(int(pid))
            else:
                with self._ended:
                    self._exits[int(pid)] = int(code[0])
                    self._ended.notify_all()

    def start(self, config: Path, data: Path, secrets: dict[str, str], *args: str) -> Worker:
        """Start one worker on the settings in ``config`` and the store in ``data``; ``secrets``:
        the ``PUPITRE_*`` variables holding the providers' secrets (sandbox values)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")}
        env.update(secrets, PUPITRE_CONFIG_DIR=str(config), PUPITRE_DATA_DIR=str(data))
        self._count += 1
        out, err = self.scratch / f"{self._count}.out", self.scratch / f"{self._count}.err"
        assert self.proc.stdin is not None
        job = {"args": list(args), "env": env, "out": str(out), "err": str(err)}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return Worker(self, self._started.get(timeout=60), out, err)

    def wait(self, pid: int, timeout: float) -> int:
        with self._ended:
            assert self._ended.wait_for(lambda: pid in self._exits, timeout), f"worker {pid} still runs"
            return self._exits.pop(pid)

    def run(self, config: Path, data: Path, secrets: dict[str, str], *args: str) -> list[list[object]]:
        """Run one worker to its end; the deliveries it printed."""
        worker = self.start(config, data, secrets, *args)
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        return list(json.loads(out.splitlines()[-1]))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
