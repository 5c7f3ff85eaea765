"""The look of every chart: colours and matplotlib settings, and the unit a duration axis
reads best in. Shared by the chart specs (charts.py) and the drawing (chart_drawing.py),
which import this and not each other's names."""

from __future__ import annotations

from collections.abc import Sequence

# Text, axes and grid: 7.3:1 on white; inverted on the slate scheme, 6.8:1 there.
TEXT = "#525760"
GRID = "#52576040"
# Mid-tones of at least 3:1 on white, and on slate once inverted (WCAG's minimum for
# graphical objects).
PALETTE = ("#4597e7", "#df7824", "#59a14f", "#e15759", "#b07aa1",
           "#3f9f98", "#b08e28", "#8d8d8d", "#9c755f", "#d36f8a")
# Most severe first, as the taxonomy lists severities: red to blue.
SEVERITY_COLORS = ("#e15759", "#df7824", "#b08e28", "#4597e7", "#3f9f98", "#b07aa1")
UNKNOWN_COLOR = "#9e9e9e"      # an unrated severity, a value not recorded: grey, never a finding

RC = {
    "svg.hashsalt": "pmkb",
    "svg.fonttype": "path",
    "text.parse_math": False,      # names from front matter may hold '$'
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.transparent": True,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


UNITS = (("minutes", 1.0), ("hours", 60.0), ("days", 1440.0))


def unit_for(minutes: Sequence[float | None]) -> tuple[str, float]:
    """The unit in which the largest value reads best: minutes below 2 h, hours below 3 days."""
    top = max((v for v in minutes if v is not None), default=0.0)
    if top < 120:
        return UNITS[0]
    if top < 72 * 60:
        return UNITS[1]
    return UNITS[2]
