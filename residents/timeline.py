"""The household timeline: what happened to a household, newest first.

The register cannot import the apps built on it (dependencies point one way), so those apps
register *sources* here from their ``AppConfig.ready``. A source is a function
``source(household, user, *, before, limit) -> list[TimelineEntry]`` returning at most
``limit`` entries dated strictly before ``before`` (``None``: from the newest), newest first,
already limited to what ``user`` may see. The page merges the sources, so it costs one
query per source whatever the household's age.
"""

import datetime
import unicodedata
from dataclasses import dataclass, field

from django.utils.text import Truncator

PER_PAGE = 20

_SOURCES: list = []
_ACTIONS: list = []
_MEMBER_ANNOTATIONS: list = []
_MEMBERS_ATTR = "_timeline_members"


@dataclass
class TimelineEntry:
    on: datetime.date
    sort_key: tuple  # (date, kind rank, id): a stable order within a day
    kind: str  # "visit", "pairing", "consultation", "assistance", "card use" ...
    title: str
    detail: str = ""
    url: str = ""
    badges: list[str] = field(default_factory=list)


def detail_url(name: str):
    """``pk -> url`` for a URL named ``name`` taking one integer ``pk``, reversed once: a
    timeline page links each of its entries."""
    from django.urls import reverse

    sentinel = 987654321987
    pattern = reverse(name, kwargs={"pk": sentinel})
    head, tail = pattern.split(str(sentinel), 1)
    return lambda pk: f"{head}{int(pk)}{tail}"


def shorten(text: str, chars: int) -> str:
    """``Truncator(text).chars(chars)``, without its walk through the characters of a text
    that fits (most do)."""
    if len(text) <= chars:
        return unicodedata.normalize("NFC", text)
    return Truncator(text).chars(chars)


def register_source(source) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def register_action(action) -> None:
    """``action(household, user) -> list[(label, url)]``: buttons above the timeline such as
    "Record a visit", offered by the apps that own those records."""
    if action not in _ACTIONS:
        _ACTIONS.append(action)


def actions_for(household, user) -> list[tuple[str, str]]:
    return [item for action in _ACTIONS for item in action(household, user)]


# ---------------------------------------------------------------- the members, read once


def register_member_annotations(annotations) -> None:
    """``annotations() -> {name: expression}`` on a ``Person`` queryset, for what an app's
    buttons need to know of each member (a services consent, an active card …): the
    household page reads its members once, with them, and every action reuses that read."""
    if annotations not in _MEMBER_ANNOTATIONS:
        _MEMBER_ANNOTATIONS.append(annotations)


def annotate_members(persons):
    """``persons`` with every registered member annotation."""
    for annotations in _MEMBER_ANNOTATIONS:
        persons = persons.annotate(**annotations())
    return persons


def remember_members(household, persons) -> list:
    """Keep ``persons`` (the household's members as the page read them, with
    ``annotate_members``; archived ones may be among them) for ``current_members``."""
    persons = list(persons)
    setattr(household, _MEMBERS_ATTR, persons)
    return persons


def current_members(household) -> list:
    """The household's members who are not archived, by id, with the registered
    annotations: those the page remembered (``remember_members``), or one query."""
    persons = getattr(household, _MEMBERS_ATTR, None)
    if persons is None:  # not remembered by the page: read now, and not kept (it may change)
        from residents.models import Person

        persons = annotate_members(Person.objects.filter(household=household))
    return sorted((p for p in persons if p.archived_at is None), key=lambda p: p.pk)


def parse_before(raw) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_before: datetime.date | None  # pass as ``before`` for the next (older) page


def timeline_for(household, user, *, before=None, per_page: int = PER_PAGE) -> TimelinePage:
    """One page of the timeline. Paging is by date: the next page starts at the date of
    the last entry shown, so a day's entries are never split across pages."""
    entries: list[TimelineEntry] = []
    for source in _SOURCES:
        entries.extend(source(household, user, before=before, limit=per_page + 1))
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    if len(entries) <= per_page:
        return TimelinePage(entries, None)
    last_day = entries[per_page - 1].on
    shown = [e for e in entries if e.on >= last_day]
    # Entries of ``last_day`` beyond what the sources returned would be lost by a cut at a
    # date; so the page ends at the day before the last complete day instead.
    if all(e.on == last_day for e in shown):
        return TimelinePage(shown, last_day)
    kept = [e for e in shown if e.on > last_day]
    return TimelinePage(kept, last_day + datetime.timedelta(days=1))
