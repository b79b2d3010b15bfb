"""Full-text index over folded text: SQLite FTS5 in embedded mode, PostgreSQL GIN otherwise.

On SQLite a report's FTS5 row is filed under a rowid derived from its UUIDv7 id (the id's top
64 bits: millisecond time, version, 12 random bits), so rowid order is id order and FTS5 itself
walks the hits newest first (`ORDER BY rowid DESC LIMIT n`), stopping after one page instead of
materialising every hit. The same rowid finds the row again when the text changes.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, func, insert, literal_column, select, table, column, text, update

from services.reports.adapters.orm import Report
from services.reports.domain.text import fold, search_terms

fts = table("reports_fts", column("rowid"), column("report_id"), column("body"))
# FTS5's own content table (documented layout: id = rowid, c0 = report_id, c1 = body). Joining it
# on the rowid is a plain B-tree lookup; reading report_id through reports_fts costs ~10x more.
fts_content = table("reports_fts_content", column("id"), column("c0"))
PROBE = 64   # rowids after the derived one tried when two ids share their top 64 bits (same ms, 1/4096)
_MAX_ROWID = (1 << 63) - 1
# index_report's probe in one statement: walk from the derived rowid while rowids are taken; the
# last one walked to is the first free (almost always the derived one itself: one B-tree lookup).
_file_new = text(
    "WITH RECURSIVE probe(r) AS (SELECT :base UNION ALL SELECT r + 1 FROM probe "
    f"WHERE r < :base + {PROBE - 1} AND EXISTS (SELECT 1 FROM reports_fts WHERE rowid = r)) "
    "INSERT INTO reports_fts (rowid, report_id, body) SELECT max(r), :report_id, :body FROM probe")


def document_text(category_code: str, address: str, description: str) -> str:
    """What a report is found by: category, address and description, folded."""
    return fold(" ".join([category_code.replace("_", " "), address or "", description]))


def document(report: Report) -> str:
    """The folded search document of a report."""
    return document_text(report.category_code, report.address, report.description)


def fts_rowid(report_id: str) -> int:
    """The FTS5 rowid a report is filed under (or probed from): its UUIDv7 id's top 64 bits."""
    try:
        return int(report_id.replace("-", "")[:16], 16) & _MAX_ROWID
    except ValueError:   # not a UUID (hand-made ids in tests): any stable number, unordered
        return int.from_bytes(hashlib.blake2b(report_id.encode(), digest_size=8).digest()) & _MAX_ROWID


def rowid_at(ms: int) -> int:
    """The smallest rowid of ids minted at Unix millisecond `ms` (a seek bound for time windows)."""
    return min(max(ms, 0) << 16, _MAX_ROWID)


async def index_report(session, report: Report) -> None:  # noqa: ANN001
    """Store the folded text (and the FTS5 row on SQLite) in the caller's transaction."""
    report.search_text = document(report)
    if session.bind.dialect.name != "sqlite":
        return
    base = fts_rowid(report.id)
    taken = dict((await session.execute(
        select(fts.c.rowid, fts.c.report_id).where(fts.c.rowid >= base, fts.c.rowid < base + PROBE))).all())
    mine = next((rowid for rowid, report_id in taken.items() if report_id == report.id), None)
    if mine is not None:
        await session.execute(update(fts).where(fts.c.rowid == mine).values(body=report.search_text))
        return
    rowid = next(r for r in range(base, base + PROBE) if r not in taken)
    await session.execute(insert(fts).values(rowid=rowid, report_id=report.id, body=report.search_text))


async def index_new(connection, report_id: str, body: str) -> None:  # noqa: ANN001
    """SQLite: file a new report's FTS5 row, its folded text (document_text) being already stored
    in the report's search_text; index_report for a report inserted without the ORM."""
    if connection.dialect.name != "sqlite":
        return
    await connection.execute(_file_new, {"base": fts_rowid(report_id), "report_id": report_id, "body": body})


def fts_match(query: str) -> ColumnElement[bool] | None:
    """SQLite: the MATCH clause on reports_fts for every word of `query` (None without words)."""
    terms = search_terms(query)
    if not terms:
        return None
    return text("reports_fts MATCH :fts_q").bindparams(fts_q=" ".join(f'"{t}"' for t in terms))


def matches(dialect: str, query: str, text_column=None) -> ColumnElement[bool] | None:  # noqa: ANN001
    """A WHERE clause selecting reports whose text has every word of `query` (diacritics optional);
    on PostgreSQL `text_column` may name search_text of an alias."""
    terms = search_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        hits = select(fts_content.c.c0).select_from(fts).join(fts_content, fts_content.c.id == fts.c.rowid)
        return Report.id.in_(hits.where(fts_match(query)))
    tsquery = func.plainto_tsquery(literal_column("'simple'"), " ".join(terms))
    column = Report.search_text if text_column is None else text_column
    return func.to_tsvector(literal_column("'simple'"), column).op("@@")(tsquery)
