"""District bureau staff: open the annual summary, click a figure through to the records it
counts, generate and submit the district's report, download its Word and Excel files and
read them back."""

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.site import site_today

pytestmark = pytest.mark.e2e


def test_annual_summary_to_records_then_submit_and_download(site, desktop):
    page = desktop
    year = site_today().year - 1
    sign_in(page, site, "quminzongju")

    page.get_by_role("button", name="报表").click()
    page.get_by_role("link", name="期间汇总").click()
    page.get_by_role("textbox", name="周期").fill(str(year))
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(f"**period={year}**")
    assert f"姑苏区 {year}年汇总" in page.inner_text("h1")

    row = page.locator("tr").filter(has_text="少数民族人口 （人员）").first
    figure = row.locator("a").first
    total = int(figure.inner_text())
    assert total > 0
    figure.click()
    page.wait_for_url("**/reports/summary/records/**")
    records = page.inner_text("main")
    assert "少数民族人口" in records
    assert f"共 {total} 条记录" in records
    ethnic_groups = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert ethnic_groups and "汉族" not in ethnic_groups  # minorities only

    page.get_by_role("button", name="报表").click()
    page.get_by_role("link", name="报告与审批").click()
    page.wait_for_url("**/reports/reports/")
    page.get_by_role("link", name="生成报表").click()
    page.wait_for_url("**/reports/reports/generate/")
    definition = page.get_by_label("报表")
    annual = [o for o in definition.locator("option").all_inner_texts() if f"{year}年度" in o]
    definition.select_option(label=annual[0])
    page.get_by_label("区域").select_option(label="姑苏区")
    page.get_by_role("button", name="生成").click()
    page.wait_for_url("**/reports/reports/*/")
    title = page.inner_text("h1")
    assert "姑苏区" in title

    page.get_by_role("button", name="上报").click()
    expect(page.locator("#frozen-note")).to_be_visible()
    assert "已上报" in page.inner_text("main")

    with page.expect_download() as word:
        page.get_by_role("link", name="Word").click()
    document = Document(word.value.path())
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "一、基本情况" in text and "姑苏区" in text
    assert str(total) in "\n".join(
        cell.text for table in document.tables for r in table.rows for cell in r.cells
    )

    with page.expect_download() as excel:
        page.get_by_role("link", name="Excel").click()
    assert excel.value.suggested_filename.endswith(".xlsx")
    with open(excel.value.path(), "rb") as downloaded:  # saved without its .xlsx name
        workbook = load_workbook(downloaded)
    values = [
        cell
        for sheet in workbook.worksheets
        for line in sheet.iter_rows(values_only=True)
        for cell in line
    ]
    assert "少数民族人口" in " ".join(str(v) for v in values if v is not None)
    assert total in values
