"""Delete audit records older than a cut-off date, never younger than the retention period.

    manage.py purge_audit --before 2025-01-01          # how many would go (nothing deleted)
    manage.py purge_audit --before 2025-01-01 --yes    # delete them, and record the purge

Records are kept at least six months (183 days, 等保 2.0), and at least AUDIT_RETENTION_DAYS
(default 365) when that is longer: a younger cut-off is refused with a non-zero exit.
Without --before the cut-off is today less AUDIT_RETENTION_DAYS.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from network import audit
from network.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Delete audit records older than --before YYYY-MM-DD (dry run unless --yes). A cut-off "
        "younger than the retention period (at least 183 days) is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", help="cut-off date, YYYY-MM-DD")
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *args, before=None, yes=False, **options):
        today = timezone.localdate()
        keep_days = audit.retention_days()
        if before:
            try:
                cutoff = datetime.date.fromisoformat(before.strip())
            except ValueError as exc:
                raise CommandError(
                    _("%(value)s is not a date: write it as YYYY-MM-DD, e.g. 2025-01-01.")
                    % {"value": before}
                ) from exc
        else:
            cutoff = today - datetime.timedelta(days=keep_days)
        youngest = today - datetime.timedelta(days=keep_days)
        if cutoff > youngest:
            raise CommandError(
                _(
                    "Refused: audit records are kept for %(days)d days, so the cut-off must be "
                    "%(youngest)s or earlier, not %(cutoff)s."
                )
                % {"days": keep_days, "youngest": youngest, "cutoff": cutoff}
            )
        start = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
        if not yes:
            count = AuditEvent.objects.filter(at__lt=start).count()
            self.stdout.write(
                _(
                    "Dry run: %(count)d audit records are older than %(cutoff)s. "
                    "Run again with --yes to delete them."
                )
                % {"count": count, "cutoff": cutoff}
            )
            return
        count = audit.purge_before(cutoff, note="manage.py purge_audit")
        self.stdout.write(
            self.style.SUCCESS(
                _("Deleted %(count)d audit records older than %(cutoff)s.")
                % {"count": count, "cutoff": cutoff}
            )
        )
