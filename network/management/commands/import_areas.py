from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.operations import ImportRefused, areas_import
from network.tabular import TableError, read_table


class Command(BaseCommand):
    help = (
        "Load a district's official division list from csv or xlsx (columns 代码, 名称, "
        "optional 级别, 上级代码). Re-running updates names; a bad file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(why)s") % {"file": file, "why": exc.strerror}
            ) from exc
        try:
            rows = read_table(data, file.name, ["代码", "名称"])
            result = areas_import(rows=rows)
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except ImportRefused as exc:
            raise CommandError(
                "\n".join([_("%(file)s: nothing was imported.") % {"file": file.name}, *exc.errors])
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{file.name}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )
