"""A console that follows (team benchmark): it opens the team's store as a dashboard does,
asks for every feed's lease at each interval (polling a feed itself only if it got one), and on
each change the store reports, reads the new results (the repaint's read) and records how long
after the poller's fetch that was. Prints one JSON line at the end.

    python -m tests.processes.follower SECONDS [--served]

``--served``: the providers as the settings file says (e.g. the simulators of ``pupitre sandbox
serve``, as real endpoints), not all on the in-process simulators.
"""

from __future__ import annotations

import json
import sys
import time

from pupitre.providers.core.feeds import load_snapshot
from pupitre.providers.core.leases import FeedLeases, console_label
from pupitre.runtime import build_runtime


def main(seconds: float, served: bool = False) -> None:
    started = time.monotonic()
    runtime = build_runtime(sandbox=not served)
    store = runtime.store
    feeds = {feed.name: feed for feed in runtime.feeds}
    for feed in feeds.values():  # the first paint, from the store
        load_snapshot(store, feed)
    cold_start = time.monotonic() - started
    leases = FeedLeases(store, console_label("bench", "console"))
    seen = store.snapshot_times(list(feeds))
    watch = store.change_watch()
    polls, latencies, next_lease = 0, [], 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if time.monotonic() >= next_lease:
            now = runtime.clock.now()
            polls += sum(leases.take(name, feed.interval(now)).mine for name, feed in feeds.items())
            next_lease = time.monotonic() + min(feed.interval(now) for feed in feeds.values())
        if not watch.wait(0.5):
            continue
        for name, at in store.snapshot_times(list(feeds)).items():
            if seen.get(name) != at:
                load_snapshot(store, feeds[name])
                latencies.append(time.time() - at.timestamp())
                seen[name] = at
    watch.close()
    leases.release()
    print(json.dumps({"polls": polls, "latencies": latencies, "cold_start": cold_start}), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), "--served" in sys.argv[2:])
