"""The benchmark command's own logic (no database, no server): how targets are judged and
written, how docs/performance.md is rewritten, and what each benchmark is run with."""

import argparse

import pytest

from bench import common, datagen
from bench.__main__ import arguments, available, earlier_rows, fallback_targets, summary


def test_a_ratio_over_its_limit_is_missed_with_its_gap():
    target = common.at_most("Registry pages", "Search, name 马晓: time / admin's", 0.31, 0.25)
    assert target.met is False
    assert target.measured == "0.31"
    assert "24% over" in target.gap
    assert common.at_most("Registry pages", "List", 0.25, 0.25).met is True


def test_a_rate_under_its_floor_is_missed():
    target = common.at_least("Ledger import", "rows/s / bulk_create's", 0.15, 0.2)
    assert target.met is False and "25% short" in target.gap
    assert common.at_least("Ledger import", "rows/s", 0.28, 0.2).met is True


def test_nothing_measured_is_neither_met_nor_missed():
    assert common.at_most("Outreach pages", "Visit list", None, 0.5).met is None
    assert common.query_target("Outreach pages", "Visit list", [None, None], ["a", "b"]).met is None


@pytest.mark.parametrize(
    ("counts", "met", "gap"),
    [
        ([6, 6], True, ""),
        ([6, 7], False, "changes with the size"),
        ([20, 20], False, "5 over 15"),
        ([15, 15], True, ""),
    ],
)
def test_query_counts_must_be_equal_at_both_sizes_and_at_most_15(counts, met, gap):
    target = common.query_target("Registry pages", "Household page", counts, ["1,000", "100,000"])
    assert target.met is met
    assert gap in target.gap
    assert target.measured == " / ".join(str(c) for c in counts)


def test_only_a_missed_target_carries_a_reason_to_be_written():
    met = common.at_most("Registry pages", "List, plain: time / admin's", 0.43, 0.5)
    missed = common.at_most("Registry pages", "Deep page: time / admin's", 0.40, 0.25)
    text = "\n".join(common.targets_lines([met, missed]))
    assert text.count(common.REASON_PLACEHOLDER) == 1
    assert "**Missed: Deep page: time / admin's** — 0.40 against ≤ 0.25: 60% over." in text
    assert "| List, plain: time / admin's | 0.43 | ≤ 0.5 | met |" in text


def test_a_section_is_replaced_and_the_others_kept(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text(
        "# Performance\n\n## Registry pages\n\nold figures\n\n## Notes\n\nby hand\n",
        encoding="utf-8",
    )
    common.write_section("## Registry pages\n\nnew figures\n", path, "## Registry pages")
    common.write_section("## Load test\n\n52 req/s\n", path, "## Load test")
    text = path.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.index("new figures") < text.index("by hand") < text.index("52 req/s")


def test_the_summary_goes_first_and_is_replaced_in_place(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text("# Performance\n\n## Registry pages\n\nfigures\n", encoding="utf-8")
    common.write_summary("## Summary\n\n3 targets met\n", path)
    common.write_summary("## Summary\n\n2 targets met, 1 missed\n", path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\n## Summary\n\n2 targets met, 1 missed\n")
    assert "3 targets met" not in text and "figures" in text


def test_the_summary_links_each_target_to_its_section():
    rows = [
        {
            "name": "registry",
            "code": 0,
            "seconds": 95.0,
            "targets": [common.at_most("Registry pages", "List, plain", 0.6, 0.5)],
        },
        {
            "name": "weight",
            "code": None,
            "seconds": 0.0,
            "targets": fallback_targets("weight", None, ""),
        },
    ]
    text = summary(rows, [("data set `tongxin_bench`", 3.0)], ".venv/bin/python -m bench")
    assert "| [Registry pages](#registry-pages) | List, plain | 0.60 | ≤ 0.5 | **missed** |" in text
    assert (
        "| [Page weight](#page-weight) | weight: runs | not built yet | exit 0 | not measured |"
        in text
    )
    assert "1 targets: 0 met, 1 missed" not in text  # two targets in all
    assert "2 targets: 0 met, 1 missed, 1 not measured" in text


def test_a_benchmark_without_targets_is_judged_by_its_exit_code():
    assert fallback_targets("cluster", 0, "")[0].met is True
    failed = fallback_targets("cluster", 1, "nginx did not start")[0]
    assert failed.met is False and "nginx did not start" in failed.gap


def _options(**given):
    return argparse.Namespace(**{"repeat": None, "no_write": False, **given})


def test_the_full_size_runs_each_benchmark_with_its_defaults():
    assert arguments("registry", "full", _options()) == []
    assert arguments("load", "full", _options()) == []
    assert arguments("import", "full", _options()) == [
        "--rows",
        "10000",
        "--database-url",
        "postgres://tongxin:tongxin@127.0.0.1:5432/tongxin_bench",
    ]


def test_the_small_size_compares_its_query_counts_with_a_smaller_data_set():
    argv = arguments("outreach", "small", _options(repeat=5, no_write=True))
    given = dict(zip(argv[::2], argv[1::2], strict=False))
    assert given["--persons"] == "1000" and given["--log-rows"] == "10000"
    assert given["--small-persons"] == "300" and given["--small-log-rows"] == "3000"
    assert given["--database-url"].endswith("/tongxin_bench_outreach_small")
    assert given["--small-database-url"].endswith("/tongxin_bench_outreach_tiny")
    assert given["--repeat"] == "5" and argv[-1] == "--no-write"


def test_every_size_is_compared_with_a_smaller_one_in_other_databases():
    for name, smaller in datagen.COMPARED_WITH.items():
        size, compared = datagen.SIZES[name], datagen.SIZES[smaller]
        assert compared.persons < size.persons and compared.log_rows < size.log_rows
        assert {compared.register_db, compared.outreach_db}.isdisjoint(
            {size.register_db, size.outreach_db}
        )


def test_the_benchmarks_run_in_the_issues_order():
    names = available()
    assert names[:5] == ["registry", "outreach", "import", "reports", "load"]


def test_a_partial_run_keeps_the_summary_rows_of_the_sections_it_did_not_run(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text(
        "# Performance\n\n## Summary\n\n| section | target | measured | required | result |\n"
        "|---|---|---:|---:|---|\n"
        "| [Registry pages](#registry-pages) | List, plain | 0.31 | ≤ 0.5 | met |\n"
        "| [Load test](#load-test) | errors | 0 | 0 | met |\n\n## Registry pages\n\nfigures\n",
        encoding="utf-8",
    )
    kept = earlier_rows(path, {"Registry pages"})
    assert kept == ["| [Load test](#load-test) | errors | 0 | 0 | met |"]
    rows = [
        {
            "name": "registry",
            "code": 0,
            "seconds": 80.0,
            "targets": [common.at_most("Registry pages", "List, plain", 0.35, 0.5)],
        }
    ]
    text = summary(rows, [], ".venv/bin/python -m bench --only registry", kept=kept)
    assert "| [Registry pages](#registry-pages) | List, plain | 0.35 | ≤ 0.5 | met |" in text
    assert "0.31" not in text
    assert "| [Load test](#load-test) | errors | 0 | 0 | met |" in text
    assert "1 targets: 1 met" in text
