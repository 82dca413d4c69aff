"""Charts of a period summary, drawn on the server with matplotlib (Agg, no display): SVG for
the page (the text left as text, so the browser draws it in the reader's font and it prints
sharp), PNG for the Word document.

Chinese labels need a CJK font, found by family name (Debian's ``fonts-noto-cjk`` gives
"Noto Sans CJK SC"); without one matplotlib would draw empty boxes. Each chart reads its
numbers from the catalogue's figures, so a chart and the table beside it cannot disagree,
and costs a few queries whatever the number of records.
"""

from __future__ import annotations

import functools
import io
import threading
from decimal import Decimal

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from network.models import Area
from reports import catalogue
from reports.periods import Period
from reports.summary import child_areas

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
FALLBACK_FAMILY = "DejaVu Sans"
RED, GREY, LIGHT = "#b3261e", "#8c8c8c", "#e9ecef"
TOP_GROUPS = 10
WIDTH = 7.0  # inches: fits a Word page with its margins
PNG_DPI = 200
_DRAWING = threading.Lock()


class ChartUnavailable(LookupError):
    """The catalogue lacks a figure this chart is drawn from."""


@functools.cache
def cjk_family() -> str | None:
    """The first installed CJK font of ``CJK_FAMILIES``, by the family name matplotlib knows
    it by; ``None`` when there is none (Chinese would then show as boxes)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def _style() -> dict:
    family = cjk_family()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, FALLBACK_FAMILY] if family else [FALLBACK_FAMILY],
        "font.size": 10,
        "svg.fonttype": "none",  # text stays text: the browser draws it, and it can be copied
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.facecolor": "white",
    }


def _save(figure, fmt: str) -> bytes:
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(out, format=fmt, dpi=PNG_DPI, bbox_inches="tight", metadata=metadata)
    return out.getvalue()


def _draw(fmt: str, height: float, paint) -> bytes:
    if fmt not in ("svg", "png"):
        raise ValueError(f"Charts are drawn as svg or png, not {fmt!r}.")
    # imported here: matplotlib takes most of a second to load, which only charts should pay
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with _DRAWING, rc_context(_style()):  # rcParams are global: one chart at a time
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        paint(figure)
        return _save(figure, fmt)


def _title(figure, title: str, area: Area, period: Period) -> None:
    figure.suptitle(f"{title}\n{area.name} · {period.label}", fontsize=11)


def _nothing(figure, message: str) -> None:
    axes = figure.add_subplot()
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center", color=GREY, fontsize=11)


def _whole_numbers(axis) -> None:
    """Ticks at whole numbers only: there is no half a visit."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


# ---------------------------------------------------------------- ethnic composition


def ethnic_counts(area: Area, period: Period) -> list[tuple[str, int]]:
    """(ethnic group, minority residents) in ``area``, largest first; beyond the first
    ``TOP_GROUPS`` the rest are added up as "Others". One query."""
    persons = catalogue.figure("minority_persons").records(area, period)
    rows = (
        persons.order_by()
        .values("ethnicity__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "ethnicity__name")
    )
    counts = [(row["ethnicity__name"], row["n"]) for row in rows]
    if len(counts) > TOP_GROUPS + 1:
        rest = sum(n for _name, n in counts[TOP_GROUPS:])
        counts = [*counts[:TOP_GROUPS], (_("Others"), rest)]
    return counts


def ethnic_composition(area: Area, period: Period, fmt: str = "svg") -> bytes:
    """Minority residents by ethnic group (horizontal bars, largest on top)."""
    counts = ethnic_counts(area, period)
    title = _("Minority residents by ethnic group")

    def paint(figure):
        _title(figure, title, area, period)
        if not counts:
            _nothing(figure, _("No minority residents on the register."))
            return
        axes = figure.add_subplot()
        names = [name for name, _n in reversed(counts)]
        values = [n for _name, n in reversed(counts)]
        bars = axes.barh(names, values, color=RED)
        axes.bar_label(bars, padding=3, fontsize=9)
        _whole_numbers(axes.xaxis)
        axes.set_xlabel(_("Persons"))
        axes.margins(x=0.12)

    return _draw(fmt, 1.4 + 0.32 * max(len(counts), 3), paint)


# ---------------------------------------------------------------- visits by month

VISIT_FIGURE_KEYS = ("visits",)


def _visit_records(area: Area, period: Period):
    """The visits the catalogue counts (its ``visits`` figure), or failing that every visit
    on record in the area and period."""
    known = catalogue.catalogue()
    for key in VISIT_FIGURE_KEYS:
        if key in known and known[key].records is not None:
            return known[key].records(area, period)
    from outreach.models import Visit

    return Visit.objects.filter(
        archived_at__isnull=True,
        community__path__startswith=area.path,
        visited_on__gte=period.start,
        visited_on__lte=period.end,
    )


def visits_per_month(area: Area, period: Period) -> list[tuple[str, int]]:
    """(month label, visits) for every month the period touches, empty months included.
    One query."""
    counts = {
        row["month"]: row["n"]
        for row in _visit_records(area, period)
        .order_by()
        .annotate(month=TruncMonth("visited_on"))
        .values("month")
        .annotate(n=Count("pk"))
    }
    months = period.months()
    one_year = len({m.year for m in months}) == 1
    return [
        (str(m.month) if one_year else f"{m.year}-{m.month:02d}", counts.get(m, 0)) for m in months
    ]


def visits_by_month(area: Area, period: Period, fmt: str = "svg") -> bytes:
    """Visits made in each month of the period (bars)."""
    months = visits_per_month(area, period)
    title = _("Visits per month")

    def paint(figure):
        _title(figure, title, area, period)
        axes = figure.add_subplot()
        positions = range(len(months))
        bars = axes.bar(positions, [n for _label, n in months], color=RED)
        axes.set_xticks(positions, [label for label, _n in months])
        if len(months) <= 24:
            axes.bar_label(bars, labels=[str(n) if n else "" for _l, n in months], fontsize=8)
        _whole_numbers(axes.yaxis)
        axes.set_xlabel(_("Month"))
        axes.set_ylabel(_("Visits"))
        axes.margins(y=0.15)
        if len(months) > 12:
            axes.tick_params(axis="x", labelrotation=90, labelsize=8)

    return _draw(fmt, 3.2, paint)


# ---------------------------------------------------------------- coverage by community

# The share of minority households visited: the catalogue's share figure when it has one, else
# the first pair of its figures found here.
COVERAGE_SHARE = "households_visited_share"
COVERAGE_PAIRS = (
    ("minority_households_visited", "minority_households"),
    ("households_visited", "minority_households"),
)


def coverage_keys() -> tuple[str, str] | None:
    """(visited, households) figure keys the coverage chart is drawn from, or None."""
    known = catalogue.catalogue()
    share_figure = known.get(COVERAGE_SHARE)
    if share_figure is not None and share_figure.numerator and share_figure.denominator:
        return share_figure.numerator, share_figure.denominator
    return next((pair for pair in COVERAGE_PAIRS if all(k in known for k in pair)), None)


def coverage_available() -> bool:
    return coverage_keys() is not None


def coverage_rows(area: Area, period: Period) -> list[tuple[str, int, int, Decimal | None]]:
    """(area, households visited, minority households, share visited) for each child area
    of ``area`` (the area itself when it has none). A few queries: the catalogue's."""
    keys = coverage_keys()
    if keys is None:
        raise ChartUnavailable(COVERAGE_SHARE)
    visited_key, households_key = keys
    rows = child_areas(area) or [area]
    areas = rows if area in rows else [*rows, area]
    found = catalogue.compute([visited_key, households_key], areas, period)
    result = []
    for row in rows:
        visited = found.value(visited_key, row) or 0
        households = found.value(households_key, row) or 0
        result.append((row.name, visited, households, catalogue.share(visited, households)))
    return result


def coverage_by_community(area: Area, period: Period, fmt: str = "svg") -> bytes:
    """The share of minority households visited in the period, per child area (horizontal
    bars from 0 to 100 %). Raises ``ChartUnavailable`` when the catalogue cannot say."""
    rows = coverage_rows(area, period)
    title = _("Minority households visited, by area")

    def paint(figure):
        _title(figure, title, area, period)
        axes = figure.add_subplot()
        shown = list(reversed(rows))
        names = [name for name, *_rest in shown]
        shares = [float(s) if s is not None else 0.0 for *_rest, s in shown]
        axes.barh(names, [100] * len(shown), color=LIGHT)
        bars = axes.barh(names, shares, color=RED)
        labels = [f"{s}%（{v}/{h}）" if s is not None else f"—（{v}/{h}）" for _n, v, h, s in shown]
        axes.bar_label(bars, labels=labels, padding=3, fontsize=8)
        axes.set_xlim(0, 135)
        axes.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"])

    return _draw(fmt, 1.4 + 0.32 * max(len(rows), 3), paint)


CHARTS = {
    "ethnic-composition": ethnic_composition,
    "visits-by-month": visits_by_month,
    "coverage-by-community": coverage_by_community,
}


def available(name: str) -> bool:
    """Whether chart ``name`` can be drawn with the figures the catalogue holds."""
    if name == "coverage-by-community":
        return coverage_available()
    return name in CHARTS
