"""The register's table rows, built in Python.

Fifty rows of a dozen template variables each were the largest part of the register page's
time (measured in bench/registry_bench.py); string formatting does the same work for a
fraction of the cost. Every value is escaped with the standard library's ``html.escape``
(what Django's ``escape`` calls, without its lazy-string wrapper). The markup is the one the
template had.
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

_ROW = (
    "<tr{}>"
    '<td><a class="text-nowrap" href="{}{}/#person-{}">{}</a>{}{}'
    '<div class="small text-body-secondary d-md-none">{}</div>'
    '<div class="d-sm-none">{}</div></td>'
    '<td class="text-nowrap">{} · {}</td>'
    '<td class="text-nowrap">{}</td>'
    '<td class="d-none d-md-table-cell">{}</td>'
    '<td class="d-none d-lg-table-cell">{}</td>'
    '<td class="d-none d-md-table-cell font-monospace small">{}</td>'
    '<td class="d-none d-sm-table-cell">{}</td>'
    "</tr>\n"
)
_FLAG = '<span class="badge text-bg-warning me-1">{}</span>'


@register.simple_tag
def register_rows(rows, household_path):
    """One ``<tr>`` per PersonRow, linking to the person on their household's page."""
    archived = ' <span class="badge text-bg-secondary">{}</span>'.format(
        escape(gettext("archived"))
    )
    path = escape(household_path)
    parts = []
    for row in rows:
        flags = "".join(_FLAG.format(escape(flag)) for flag in row.flags)
        status = (
            f' <span class="badge text-bg-light border">{escape(row.status)}</span>'
            if row.person_status != "active"
            else ""
        )
        address = escape(row.address)
        parts.append(
            _ROW.format(
                ' class="text-body-secondary"' if row.archived else "",
                path,
                row.household_id,
                row.pk,
                escape(row.name),
                archived if row.archived else "",
                status,
                address,
                flags,
                escape(row.sex),
                "—" if row.age is None else row.age,
                escape(row.ethnicity),
                address,
                escape(row.community),
                escape(row.id_number or "—"),
                flags,
            )
        )
    return mark_safe("".join(parts))
