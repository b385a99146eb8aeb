"""The /stats chart: statements per country as a horizontal bar chart (PNG bytes)."""

from __future__ import annotations

import functools
import io

from bot import i18n
from bot.i18n import _


@functools.lru_cache(maxsize=12)
def bar_chart_png(
    counts: tuple[tuple[str, int], ...], language: str = i18n.DEFAULT_LANGUAGE
) -> bytes:
    """Render ``(country, count)`` pairs, top to bottom as given, to a PNG in ``language``
    (country names, title, axis; matplotlib's DejaVu Sans has Cyrillic).

    Uses the object-oriented Agg API (no pyplot, no global figure state), so it is safe to
    call from a worker thread; the corpus is static, so the few distinct charts (a few per
    language) are cached.
    """
    with i18n.use(language):
        return _bar_chart_png(counts)


def _bar_chart_png(counts: tuple[tuple[str, int], ...]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [i18n.country(name) for name, _n in counts][::-1]  # barh draws bottom-up
    values = [n for _name, n in counts][::-1]
    fig = Figure(figsize=(8, 1.2 + 0.38 * max(len(counts), 1)), dpi=110, layout="tight")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.barh(labels, values, color="#2a6fdb")
    for bar, value in zip(bars, values, strict=True):
        text = i18n.number(value) if value else _("no remarks")
        ax.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlabel(_("statements"))
    ax.set_title(_("Statements per country"))
    ax.margins(x=0.12)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
