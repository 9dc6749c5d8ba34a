"""Text charts that fit a table cell or a line: a sparkline and horizontal bars.

Pure text (block characters), so they survive NO_COLOR, SSH and snapshots.
"""

from __future__ import annotations

from typing import Sequence

SPARKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"


def sparkline(values: Sequence[float | None], low: float | None = None, high: float | None = None) -> str:
    """One character per value, ``▁`` (``low``) to ``█`` (``high``); a missing value is ``·``.

    ``low``/``high`` default to the values' own range; a flat series draws mid-height.
    """
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    low = min(known) if low is None else low
    high = max(known) if high is None else high
    span = high - low
    out = []
    for value in values:
        if value is None:
            out.append("·")
        elif span <= 0:
            out.append(SPARKS[len(SPARKS) // 2])
        else:
            ratio = min(1.0, max(0.0, (value - low) / span))
            out.append(SPARKS[round(ratio * (len(SPARKS) - 1))])
    return "".join(out)


def hbar(value: float | None, high: float, width: int) -> str:
    """A bar of ``width`` cells for ``value`` on the scale 0…``high``, in eighths of a cell."""
    if value is None or high <= 0 or width <= 0:
        return " " * max(width, 0)
    eighths = round(min(1.0, max(0.0, value / high)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part and full < width else "")
    return text.ljust(width)
