"""Why a target is missed, written by a person after reading the measurement (the benchmark
cannot know it). Keyed by the target's name as the benchmark prints it; ``targets_lines``
writes the reason under the gap, or a placeholder when none is written here. A reason that no
longer applies (the target is met) is simply not shown."""

# The small lists: what every page of ours costs before its rows, against an admin page that
# is itself cheap because the table is small.
_FIXED_COST = (
    "the page's own rows and queries are now cheap ({detail}); what is left is what every "
    "page of ours costs before its rows — the session and idle-timeout check, the user's posts "
    "and permissions for the scope, the navigation of every app the user may use, the filter "
    "form and the CSP header — about 10 ms of CPU on this machine, against a stock admin "
    "changelist that itself takes only 25–40 ms on a table of a few thousand rows. Half of "
    "that would need the shared page frame (base template, navigation, middleware) made "
    "cheaper for every page, which was not done in this issue; on the large tables (register, "
    "visits, consultations, compliance) the same frame is well inside the target."
)

REASONS: dict[str, str] = {
    "Meeting list: time / admin's": _FIXED_COST.format(
        detail="5 ms of SQL in 9 queries for 40,000 meetings; rows and filters drawn in Python"
    ),
    "Pairing list: time / admin's": _FIXED_COST.format(
        detail="12 ms of SQL in 8 queries, of which about 7 ms is planning its 9-table join; "
        "splitting it (page ids first, then the joins) is the next step"
    ),
    "Merchant list: time / admin's": _FIXED_COST.format(
        detail="4 ms of SQL for 300 merchants, rows built in Python"
    ),
    "Agreement list: time / admin's": _FIXED_COST.format(
        detail="6 ms of SQL, rows built in Python; its filter offers all 300 merchants"
    ),
    "Consent list: time / admin's": _FIXED_COST.format(
        detail="3 ms of SQL, an index for its order"
    ),
    "Card list: time / admin's": _FIXED_COST.format(detail="5 ms of SQL, an index for its order"),
    "Card use list: time / admin's": (
        "the page shows the exact totals (uses, value, benefit) of every use the filters match: "
        "an aggregate over all 100,000 uses (about 27 ms of its 36 ms of SQL), which the stock "
        "admin does not show. The page itself now comes from an index in about 1 ms and the "
        "count is taken from the totals. Meeting the target needs those totals cached under a "
        "version that every write to card uses bumps, as the compliance figures are "
        "(outreach/compliance_cache.py); services cannot import outreach, so it needs a shared "
        "versioned cache in network/ first — left for a later issue."
    ),
    "Load test: register list req/s / admin changelist's": (
        "both cores are saturated by gunicorn, PostgreSQL and locust together; the CPU per "
        "request beside each run shows the ratio is the servers' own (locust is about 2 ms of "
        "40, the same for both). The register list spends about half of its workers' CPU "
        "rendering its 50 rows and the page frame (navigation, filters); the ratio moved from "
        "1.37 to about 1.9 once a sub-district's first page stopped scanning the persons of the "
        "communities registered before it. Another cut of the page frame, shared with every "
        "page, is what remains."
    ),
}
