"""read side indexes and the daily stats roll-up

Stats: report_stats_daily holds per day and per agency, ward or category what queries.stats sums
(kept in step by services/reports/adapters/rollup.py), backfilled here from reports.
Feed: `ix_reports_feed` replaces `ix_reports_public_feed` (visibility, id) and carries the columns
the feed filters on, so non-matching rows are skipped inside the index (no table lookup).
`ix_reports_period` starts with submitted_at and covers every column stats read from reports
(partial days at the ends of a period, and filters the roll-up cannot answer). The single-column
indexes on agency_code and reporter_id are dropped: they are prefixes of
ix_reports_agency_status_due and ix_reports_reporter_id_id.
SQLite: reports_fts is refiled under rowids derived from the report ids (the UUIDv7's top 64 bits,
see services/reports/adapters/search.py), so FTS5 returns hits newest first and stops at LIMIT.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:05:00
"""
from __future__ import annotations

import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FEED = ['visibility', 'id', 'status', 'ward_code', 'category_code', 'kind', 'submitted_at', 'latitude', 'longitude']
PERIOD = ['submitted_at', 'agency_code', 'ward_code', 'category_code', 'status', 'resolved_at', 'resolve_due_at',
          'rating']
FTS_DDL = ("CREATE VIRTUAL TABLE reports_fts USING fts5(report_id UNINDEXED, body, "
           "tokenize='unicode61 remove_diacritics 2')")
STATUSES = ('submitted', 'assigned', 'in_progress', 'resolved', 'closed', 'rejected', 'withdrawn')
COUNTS = [f'n_{s}' for s in STATUSES] + ['resolved', 'on_time', 'ratings', 'rating_sum']


def upgrade() -> None:
    op.create_table('report_stats_daily',
    sa.Column('dim', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    *[sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS],
    sa.Column('durations', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('dim', 'day', 'key')
    )
    for statement in _backfill_sql(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_public_feed')
        batch_op.drop_index('ix_reports_agency_code')
        batch_op.drop_index('ix_reports_reporter_id')
        batch_op.create_index('ix_reports_feed', FEED, unique=False)
        batch_op.create_index('ix_reports_period', PERIOD, unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        _refile_fts()


def downgrade() -> None:
    # reports_fts keeps its derived rowids: revision 0004's code finds rows by report_id and lets
    # new rows take the next rowid, which works on either layout.
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_period')
        batch_op.drop_index('ix_reports_feed')
        batch_op.create_index('ix_reports_reporter_id', ['reporter_id'], unique=False)
        batch_op.create_index('ix_reports_agency_code', ['agency_code'], unique=False)
        batch_op.create_index('ix_reports_public_feed', ['visibility', 'id'], unique=False)
    op.drop_table('report_stats_daily')


def _backfill_sql(dialect: str) -> list[str]:
    """rollup.rebuild_sql as of this revision: the roll-up recomputed from reports (durations: 16 hex
    digits per value, int64 big-endian two's complement)."""
    if dialect == 'sqlite':
        day = 'substr(submitted_at, 1, 10)'
        sec = "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
        frac = 'CAST(substr({}, 21, 6) AS INTEGER)'
        us = (f"({sec.format('resolved_at')} - {sec.format('submitted_at')}) * 1000000 + "
              f"{frac.format('resolved_at')} - {frac.format('submitted_at')}")
        durations = f"group_concat(CASE WHEN resolved_at IS NOT NULL THEN printf('%016llx', {us}) END, '')"
    else:
        day = "(submitted_at AT TIME ZONE 'UTC')::date"
        us = 'CAST((extract(epoch FROM resolved_at) - extract(epoch FROM submitted_at)) * 1000000 AS BIGINT)'
        durations = f"string_agg(lpad(to_hex({us}), 16, '0'), '')"
    statuses = ', '.join(f"sum(CASE WHEN status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES)
    on_time = 'resolved_at IS NOT NULL AND (resolve_due_at IS NULL OR resolved_at <= resolve_due_at)'
    return [f"INSERT INTO report_stats_daily (dim, day, key, {', '.join(COUNTS)}, durations) "
            f"SELECT '{dim}', {day}, coalesce({col}, ''), {statuses}, count(resolved_at), "
            f"sum(CASE WHEN {on_time} THEN 1 ELSE 0 END), sum(CASE WHEN rating <> 0 THEN 1 ELSE 0 END), "
            f"coalesce(sum(rating), 0), coalesce({durations}, '') FROM reports GROUP BY {day}, coalesce({col}, '')"
            for dim, col in (('agency', 'agency_code'), ('category', 'category_code'), ('ward', 'ward_code'))]


def _rowid(report_id: str) -> int:
    """search.fts_rowid as of this revision: the UUIDv7's top 64 bits (a hash for other ids)."""
    try:
        return int(report_id.replace('-', '')[:16], 16) & ((1 << 63) - 1)
    except ValueError:
        return int.from_bytes(hashlib.blake2b(report_id.encode(), digest_size=8).digest()) & ((1 << 63) - 1)


def _refile_fts(batch: int = 5000) -> None:
    """Rebuild reports_fts from reports.search_text, each row under its derived rowid."""
    conn = op.get_bind()
    conn.exec_driver_sql('DROP TABLE reports_fts')
    conn.exec_driver_sql(FTS_DDL)
    taken: set[int] = set()
    last = ''
    while True:
        rows = conn.execute(sa.text('SELECT id, search_text FROM reports WHERE id > :last ORDER BY id LIMIT :n'),
                            {'last': last, 'n': batch}).all()
        if not rows:
            return
        values = []
        for report_id, body in rows:
            rowid = _rowid(report_id)
            while rowid in taken:   # two ids with the same top 64 bits: the next free rowid
                rowid += 1
            taken.add(rowid)
            values.append({'r': rowid, 'i': report_id, 'b': body})
        conn.execute(sa.text('INSERT INTO reports_fts (rowid, report_id, body) VALUES (:r, :i, :b)'), values)
        last = rows[-1][0]
