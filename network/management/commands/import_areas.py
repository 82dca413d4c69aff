from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError(f"无法读取文件 {file}: {exc.strerror}") from exc
        try:
            rows = read_table(data, file.name, ["代码", "名称"])
            result = areas_import(rows=rows)
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except ImportRefused as exc:
            raise CommandError(
                "\n".join([f"{file.name}: nothing was imported.", *exc.errors])
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{file.name}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )
