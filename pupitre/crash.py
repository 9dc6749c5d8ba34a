"""What an unexpected error becomes: never a traceback on the terminal, never a success.

The traceback goes to the log *without local variables* (they can hold tokens); the
operator reads one sentence saying where the details are; the process exits non-zero:

* the dashboard and the other commands: :data:`EXIT_CRASH` (70, ``EX_SOFTWARE``);
* ``pupitre check``: :data:`EXIT_CHECK_UNKNOWN` (3, Nagios' "unknown").

No Textual import here.
"""

from __future__ import annotations

import logging
import os

EXIT_CRASH = 70
EXIT_CHECK_UNKNOWN = 3
TEST_CRASH_VARIABLE = "PUPITRE_TEST_CRASH"

log = logging.getLogger("pupitre.crash")


def log_crash(error: BaseException, where: str) -> None:
    """The traceback in the log, without local variables (``logging`` never prints them)."""
    log.error("unexpected error in %s", where, exc_info=(type(error), error, error.__traceback__))


def crash_sentence(error: BaseException, where: str) -> str:
    """One sentence for the operator: what stopped and where the details are (no message text:
    an exception's message may quote a secret or a server's body)."""
    from pupitre.logs import STATE  # not at import: ``pupitre.cli`` imports this module before its pace is set

    return f"pupitre: unexpected error in {where} ({type(error).__name__}), it stopped; {STATE.where()}."


def crash_hook(where: str) -> None:
    """Tests only: ``PUPITRE_TEST_CRASH=<where>`` raises here, with a token in a local variable
    (which must appear neither on the terminal nor in the log)."""
    if os.environ.get(TEST_CRASH_VARIABLE) == where:
        api_token = "pupitre-test-token-0123456789"  # noqa: F841 (a local that must never be shown)
        raise RuntimeError(f"test crash requested by {TEST_CRASH_VARIABLE}={where}")
