"""Validation rules on a draft's figures (issue 6, section 3): a figure missing, outside a
configured range, or changed by more than a configured share against the previous period.

Rules (``FigureRule``) are kept in the admin. A rule without an area holds everywhere; a rule
with an area holds in that area and below it, and for one figure the rule of the nearest area
wins over a wider one (a 平江街道 rule overrides the district's for 平江路社区). Two rules on
the same figure and area: the later one wins.

One flag needs no rule: a share whose denominator is missing (no population row for the year
gives no minority share) is flagged, since the share is then not zero but unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _

from network.models import Area
from reports.catalogue import SHARE, Computation, Figure, catalogue
from reports.models import FigureRule
from reports.periods import Period

MISSING, BELOW, ABOVE, CHANGE, NO_DENOMINATOR = (
    "missing",
    "below",
    "above",
    "change",
    "no_denominator",
)


@dataclass(frozen=True)
class Flag:
    key: str
    label: str
    message: str
    value: object
    kind: str = ""  # one of MISSING, BELOW, ABOVE, CHANGE, NO_DENOMINATOR


def rules_for(area: Area, keys) -> dict[str, FigureRule]:
    """The rule that holds for each figure of ``keys`` in ``area`` (one query): the one of
    the nearest area at or above ``area``, else the one without an area."""
    found = (
        FigureRule.objects.filter(key__in=list(keys))
        .filter(Q(area__isnull=True) | Q(area_id__in=area.ancestor_ids()))
        .select_related("area")
        .order_by("pk")
    )
    chosen: dict[str, FigureRule] = {}
    for rule in found:
        depth = len(rule.area.path) if rule.area_id else 0
        held = chosen.get(rule.key)
        held_depth = (len(held.area.path) if held.area_id else 0) if held else -1
        if depth >= held_depth:
            chosen[rule.key] = rule
    return chosen


def check_figures(
    area: Area,
    period: Period,
    keys,
    current: Computation,
    previous: Computation | None,
) -> list[Flag]:
    """The flags of ``area``'s figures ``keys`` in ``current`` (against ``previous``, the
    previous period's computation, for the largest change), in the order of ``keys``."""
    known = catalogue()
    keys = [key for key in dict.fromkeys(keys) if key in known]
    rules = rules_for(area, keys)
    flags: list[Flag] = []
    for key in keys:
        figure = known[key]
        value = current.value(key, area)
        old = previous.value(key, area) if previous is not None else None
        flags.extend(_flags_of(figure, area, period, current, rules.get(key), value, old))
    return flags


def _flags_of(figure: Figure, area, period, current, rule, value, old):
    label = str(figure.label)
    if value is None:
        if figure.measure == SHARE and current.value(figure.denominator, area) is None:
            denominator = catalogue().get(figure.denominator)
            yield Flag(
                key=figure.key,
                label=label,
                message=_(
                    "Could not be worked out: %(part)s for %(year)s is missing, so there is "
                    "nothing to take the share of."
                )
                % {
                    "part": denominator.label if denominator else figure.denominator,
                    "year": period.year,
                },
                value=None,
                kind=NO_DENOMINATOR,
            )
        elif rule is not None and rule.required:
            yield Flag(
                key=figure.key,
                label=label,
                message=_("Could not be worked out, but this figure is required."),
                value=None,
                kind=MISSING,
            )
        return
    if rule is None:
        return
    number = _decimal(value)
    if number is None:
        return
    if rule.minimum is not None and number < rule.minimum:
        yield Flag(
            key=figure.key,
            label=label,
            message=_("%(value)s is below the minimum of %(limit)s.")
            % {"value": format_value(figure, value), "limit": format_value(figure, rule.minimum)},
            value=value,
            kind=BELOW,
        )
    if rule.maximum is not None and number > rule.maximum:
        yield Flag(
            key=figure.key,
            label=label,
            message=_("%(value)s is above the maximum of %(limit)s.")
            % {"value": format_value(figure, value), "limit": format_value(figure, rule.maximum)},
            value=value,
            kind=ABOVE,
        )
    before = _decimal(old)
    if rule.max_change is not None and before is not None:
        flag = _change_flag(figure, rule, before, number, old, value)
        if flag is not None:
            yield flag


def _change_flag(figure, rule, before: Decimal, now: Decimal, old, value) -> Flag | None:
    words = {
        "old": format_value(figure, old),
        "new": format_value(figure, value),
        "limit": rule.max_change,
    }
    if before == 0:
        if now == 0:
            return None
        message = _(
            "Changed from %(old)s to %(new)s against the previous period "
            "(a change from nothing; at most %(limit)s%% is expected)."
        )
    else:
        change = (now - before) * 100 / abs(before)
        if abs(change) <= rule.max_change:
            return None
        words["change"] = f"{change:+.1f}%"
        message = _(
            "Changed from %(old)s to %(new)s (%(change)s) against the previous period, "
            "more than the %(limit)s%% expected."
        )
    return Flag(
        key=figure.key,
        label=str(figure.label),
        message=message % words,
        value=value,
        kind=CHANGE,
    )


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_value(figure: Figure, value) -> str:
    """A figure's value as a flag says it: whole numbers without decimals, money with two,
    shares with a per cent sign."""
    number = _decimal(value)
    if number is None:
        return "—"
    if figure.measure == SHARE:
        return f"{number.normalize():f}%" if number == number.to_integral() else f"{number}%"
    if figure.is_money:
        return f"{number.quantize(Decimal('0.01')):,}"
    if number == number.to_integral():
        return f"{int(number):,}"
    return f"{number:f}"
