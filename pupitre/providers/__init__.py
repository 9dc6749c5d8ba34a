"""Everything that talks to an API: clients, auth, quotas, the store, the simulators (no Textual).

httpx imports its optional command-line client (``httpx._main``: click, rich and pygments,
~60 ms of a start) whenever those happen to be installed; pupitre never runs it. Marking it
absent before httpx is first imported makes httpx define its stub ``main`` instead.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable" (import system)
