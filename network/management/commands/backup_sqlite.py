"""``manage.py backup_sqlite FILE``: a consistent copy of the SQLite database while the app
runs, with Python's own sqlite3 backup API (nothing to install). The copy is written beside
FILE under a temporary name, checked (``PRAGMA quick_check``) and then renamed, so FILE is
either the whole backup or absent. Restore: stop the app and copy the file back over
``db.sqlite3`` (README, "Backups")."""

import os
import sqlite3
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Copy the SQLite database to FILE while the app runs (a consistent snapshot, WAL "
        "included). Refuses an existing FILE unless --force. For PostgreSQL use pg_dump."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Where to write the copy.")
        parser.add_argument("--force", action="store_true", help="Overwrite FILE if it exists.")

    def handle(self, *args, file: Path, force: bool, **options):
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                _("The database is not SQLite: back up PostgreSQL with pg_dump (README, Backups).")
            )
        source = Path(str(database["NAME"]))
        if str(database["NAME"]) == ":memory:" or not source.is_file():
            raise CommandError(_("No SQLite database file at %(path)s.") % {"path": source})
        target = file.expanduser().resolve()
        if target == source.resolve():
            raise CommandError(_("The backup cannot overwrite the database itself."))
        if target.exists() and not force:
            raise CommandError(
                _("%(path)s exists already; give another file or --force.") % {"path": target}
            )
        if not target.parent.is_dir():
            raise CommandError(_("No folder %(path)s.") % {"path": target.parent})
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            self._copy(source, partial)
            os.replace(partial, target)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(_("Backup failed: %(error)s") % {"error": exc}) from exc
        size = target.stat().st_size
        self.stdout.write(
            self.style.SUCCESS(
                _("Backed up %(source)s to %(target)s (%(size)s bytes).")
                % {"source": source, "target": target, "size": size}
            )
        )

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        # Read-only URI: the backup never writes to the live database.
        src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=20)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)  # in steps, so the app's writers are not held up
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            result = dst.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(result)
        finally:
            dst.close()
            src.close()
