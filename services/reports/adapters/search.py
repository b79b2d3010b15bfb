"""Full-text index over folded text: SQLite FTS5 in embedded mode, PostgreSQL GIN otherwise."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, insert, literal_column, select, table, column, text

from services.reports.adapters.orm import Report
from services.reports.domain.text import fold, search_terms

_fts = table("reports_fts", column("report_id"), column("body"))


def document(report: Report) -> str:
    """What a report is found by: category, address and description, folded."""
    return fold(" ".join([report.category_code.replace("_", " "), report.address or "", report.description]))


async def index_report(session, report: Report) -> None:  # noqa: ANN001
    """Store the folded text (and the FTS5 row on SQLite) in the caller's transaction."""
    report.search_text = document(report)
    if session.bind.dialect.name == "sqlite":
        await session.execute(delete(_fts).where(_fts.c.report_id == report.id))
        await session.execute(insert(_fts).values(report_id=report.id, body=report.search_text))


def matches(dialect: str, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause selecting reports whose text has every word of `query` (diacritics optional)."""
    terms = search_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        fts_query = " ".join(f'"{t}"' for t in terms)
        hits = select(_fts.c.report_id).where(text("reports_fts MATCH :fts_q").bindparams(fts_q=fts_query))
        return Report.id.in_(hits)
    tsquery = func.plainto_tsquery(literal_column("'simple'"), " ".join(terms))
    return func.to_tsvector(literal_column("'simple'"), Report.search_text).op("@@")(tsquery)
