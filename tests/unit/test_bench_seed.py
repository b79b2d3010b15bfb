"""The bench seeder writes reports the way the reports service would: searchable text, FTS rowids."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bench import seed
from services.reports.adapters.search import document_text, fts_rowid
from services.reports.seed_data import CATEGORIES, hcmc_wards


def rows(n: int) -> list[dict]:
    catalog = seed._Catalog([(c["code"], c["kind"], c["group"]) for c in CATEGORIES],
                            [w["code"] for w in hcmc_wards()])
    return list(seed._report_rows(catalog, 0, n, n, datetime.now(UTC), 365, random.Random(1), seed._sqlite_ts))


def test_seeded_search_text_is_the_service_document():
    for r in rows(3000):
        assert r["search_text"] == document_text(r["category_code"], r["address"], r["description"])


def test_seeded_times_and_ids_are_stored_like_sqlalchemy_does():
    r = rows(1)[0]
    assert len(r["submitted_at"]) == 26 and r["submitted_at"][10] == " " and r["submitted_at"][19] == "."
    minted = datetime.fromtimestamp((fts_rowid(r["id"]) >> 16) / 1000, UTC)   # the id's millisecond
    assert minted.strftime("%Y-%m-%d %H:%M:%S") == r["submitted_at"][:19]
