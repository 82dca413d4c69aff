"""Compliance figures cached, never stale (issue 4: the district compliance page at 1,000,000
log rows, at most half the time of the admin's changelist).

The figures of a compliance report (due, done and overdue of each obligation and unit, not the
HTML) are kept in Django's cache under a key made of everything they depend on: the area
chosen, the span, today, the areas the user may see, and the **version of the data**.

The version is one row (``ComplianceVersion``) that every save or delete of a record the
figures read bumps (``UPDATE … SET n = n + 1`` with a fresh random ``stamp``) in the writer's
own transaction, through the signal handlers below: visits, meetings, obligations, festivals
(and their ethnic groups), households, persons, ethnic groups, areas and liaison groups. So the
first request after a change is committed reads a new version and computes afresh; a version
that was rolled back is never met again (its stamp was random). Reading the version is one
query, which also reads the newest history row of households and persons: the register's
ledger import writes those in bulk, which sends no signal but does write history rows.

Inside a transaction that has bumped the version and not committed yet, figures are computed
and neither read from nor written to the cache: they may include writes that will be rolled
back, and no other request could see them anyway. Writes that bypass both signals and history
(``QuerySet.update()``, raw SQL) are not seen; code that changes what the figures read that
way must call ``bump()`` itself.

The handlers are connected when this module is imported: ``outreach.compliance`` imports it,
and ``outreach.apps.OutreachConfig.ready`` should too, so that management commands and shells
bump the version as well.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from network.access import scope_for
from network.models import Area, LiaisonGroup
from outreach.models import ComplianceVersion, Festival, Meeting, Obligation, Visit
from residents.models import Ethnicity, Household, Person

KEY_PREFIX = "outreach:compliance:"
TIMEOUT = 24 * 60 * 60  # a day; ``today`` is in the key anyway
VERSION_PK = 1

# Every model whose rows the figures read (outreach.compliance).
WATCHED = (Visit, Meeting, Obligation, Festival, Household, Person, Ethnicity, Area, LiaisonGroup)
# Models written in bulk with history rows but no signals (residents.ledger_import).
BULK_WITH_HISTORY = (Household, Person)


# ---------------------------------------------------------------- writing: the version


def _committed() -> None:
    """Waits in ``on_commit`` while a transaction has bumped the version: its presence
    marks the transaction's figures as not to be shared (see ``uncommitted_bump``)."""


def uncommitted_bump(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the current transaction has bumped the version and not committed yet.

    Django keeps ``on_commit`` callbacks until the transaction commits, and drops them when
    it (or the savepoint they were registered in) is rolled back: so the marker is there
    exactly while this transaction holds uncommitted changes the figures read."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return False
    return any(_committed in entry for entry in connection.run_on_commit)


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """A record the figures read has changed: a new version, atomically."""
    stamp = uuid.uuid4()
    versions = ComplianceVersion.objects.using(using)
    if not versions.filter(pk=VERSION_PK).update(n=F("n") + 1, stamp=stamp):
        try:  # the row is made by the migration; a flushed database has none
            with transaction.atomic(using=using):
                versions.create(pk=VERSION_PK, n=1, stamp=stamp)
        except IntegrityError:  # another writer made it meanwhile
            versions.filter(pk=VERSION_PK).update(n=F("n") + 1, stamp=stamp)
    if connections[using].in_atomic_block and not uncommitted_bump(using):
        transaction.on_commit(_committed, using=using)


def _changed(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    bump(using)


def _ethnicities_changed(sender, action, using=DEFAULT_DB_ALIAS, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        bump(using)


for _model in WATCHED:
    _uid = f"outreach_compliance_version_{_model._meta.label_lower}"
    post_save.connect(_changed, sender=_model, dispatch_uid=_uid + "_save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=_uid + "_delete")
m2m_changed.connect(
    _ethnicities_changed,
    sender=Festival.ethnicities.through,
    dispatch_uid="outreach_compliance_version_festival_ethnicities",
)


# ---------------------------------------------------------------- reading: the cache


def data_version(using: str = DEFAULT_DB_ALIAS) -> str:
    """The version of the data, in one query: the bump counter and stamp, and the newest
    history row of the models written in bulk."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(ComplianceVersion._meta.db_table)
    parts = [
        f"(SELECT n FROM {table} WHERE id = {VERSION_PK})",
        f"(SELECT stamp FROM {table} WHERE id = {VERSION_PK})",
    ]
    for model in BULK_WITH_HISTORY:
        history = model.history.model._meta
        column = quote(history.pk.column)
        parts.append(f"(SELECT MAX({column}) FROM {quote(history.db_table)})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return "/".join(str(value).replace("-", "") for value in row)


def current_version(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The version to cache figures under, read before the data they are computed from;
    None inside a transaction with uncommitted changes to that data (no caching)."""
    if uncommitted_bump(using):
        return None
    return data_version(using)


def report_key(context) -> str:
    """The cache key of a report's figures: area, span, today, the user's scope, version."""
    scope = scope_for(context.user)
    seen = "*" if scope.everything else ",".join(scope.visible_paths)
    root = context.root.pk if context.root is not None else ""
    raw = "|".join(
        str(part)
        for part in (
            root,
            context.span.start,
            context.span.end,
            context.today,
            seen,
            context.version,
        )
    )
    return KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def cached_report(context, compute):
    """The figures cached for ``context`` (``outreach.compliance.Context`` with a
    ``version``), or ``compute()``'s (picklable), cached for the next request."""
    key = report_key(context)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value
