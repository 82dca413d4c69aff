from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from network.models import User
from network.tabular import TableError
from residents.ledger_import import IMPORT_PERMISSION, LedgerRefused, import_ledger


class Command(BaseCommand):
    help = (
        "Import a resident ledger (xlsx or csv, one row per person, the columns of the "
        "template at /register/import/template/). All rows or none: any refused row writes "
        "nothing and exits non-zero. Without --user it acts as the system for the whole district."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--user",
            help="Import as this user: only their communities, and their name in the history.",
        )

    def handle(self, *args, file: Path, dry_run: bool, user: str | None, **options):
        by = self._user(user) if user else None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        try:
            plan = import_ledger(data, file.name, by=by, dry_run=dry_run)
        except TableError as exc:
            raise CommandError(f"{file.name}: {exc}") from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except LedgerRefused as exc:
            self._report(exc.plan, options["verbosity"])
            raise CommandError(f"{file.name}: nothing was imported.") from exc
        self._report(plan, options["verbosity"])
        if dry_run:
            self.stdout.write(f"{file.name}: dry run, nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{file.name}: imported."))

    def _user(self, username: str) -> User:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username}.") from exc
        if not user.is_active or not user.has_perm(IMPORT_PERMISSION):
            raise CommandError(f"{username} may not import the ledger ({IMPORT_PERMISSION}).")
        return user

    def _report(self, plan, verbosity: int) -> None:
        """The preview's summary, every refused row, and with -v 2 every row."""
        self.stdout.write(plan.summary())
        for note in plan.notes:
            self.stdout.write(note)
        for line in plan.error_lines():
            self.stderr.write(line)
        for message, count, numbers in plan.warnings():
            self.stdout.write(f"{message} ({count}: {numbers})")
        for row in plan.rows:
            if verbosity >= 2 and row.outcome != "error":
                changes = "、".join(row.changes)
                self.stdout.write(f"{row.number}\t{row.outcome_label}\t{row.name}\t{changes}")
