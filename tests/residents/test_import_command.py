"""``manage.py import_residents FILE [--dry-run] [--user USERNAME]``."""

import pytest
from django.core.management import CommandError, call_command

from residents.models import Household, Person
from tests.residents.test_import_ledger import ledger_xlsx, messy_rows, person_row


@pytest.fixture
def ledger_file(tmp_path):
    def _write(rows, name="台账.xlsx"):
        path = tmp_path / name
        path.write_bytes(ledger_xlsx(rows))
        return str(path)

    return _write


def test_the_command_imports_as_the_system_and_prints_the_summary(world, ledger_file, capsys):
    call_command("import_residents", ledger_file(messy_rows()))
    out = capsys.readouterr().out
    assert "5" in out
    assert Person.objects.count() == 5
    assert Person.objects.get(name="马建华").history.get().history_user is None


def test_dry_run_writes_nothing_and_exits_zero(world, ledger_file, capsys):
    call_command("import_residents", ledger_file(messy_rows()), "--dry-run")
    assert "5" in capsys.readouterr().out
    assert not Person.objects.exists()
    assert not Household.objects.exists()


def test_a_refused_row_exits_non_zero_and_writes_nothing(world, ledger_file, capsys):
    rows = [*messy_rows(), person_row(姓名="马德明", 性别="男", 民族="拉牯族")]
    with pytest.raises(CommandError) as refused:
        call_command("import_residents", ledger_file(rows))
    assert refused.value.returncode != 0
    assert "拉牯族" in capsys.readouterr().err
    assert not Person.objects.exists()


def test_dry_run_with_a_refused_row_also_exits_non_zero(world, ledger_file):
    rows = [person_row(姓名="马德明", 性别="女", 身份证号="320508198407140113")]
    with pytest.raises(CommandError):
        call_command("import_residents", ledger_file(rows), "--dry-run")


def test_acting_for_a_user_limits_rows_to_their_communities(world, ledger_file):
    rows = [*messy_rows(), person_row(社区="道前社区", 姓名="穆永祥", 性别="男")]
    with pytest.raises(CommandError):
        call_command("import_residents", ledger_file(rows), "--user", "pingjiang")
    assert not Person.objects.exists()
    call_command("import_residents", ledger_file(messy_rows()), "--user", "pingjiang")
    assert Person.objects.get(name="白雪").history.get().history_user == world.pingjiang_staff


@pytest.mark.parametrize("username", ["pingjianglu", "pingjianglu_llz", "lizhi", "nobody"])
def test_a_user_who_may_not_import_is_refused(world, ledger_file, username):
    with pytest.raises(CommandError):
        call_command("import_residents", ledger_file(messy_rows()), "--user", username)
    assert not Person.objects.exists()


def test_a_missing_or_unreadable_file_is_a_clean_error(world, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_residents", str(tmp_path / "missing.xlsx"))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(CommandError):
        call_command("import_residents", str(bad))
