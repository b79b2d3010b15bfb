"""Resident-registry rows as the city exports them (CSV), checked one by one."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date

from services.identity.domain import personal_id
from servicekit.errors import AppError

COLUMNS = ("personal_id", "full_name", "birth_date", "sex")


@dataclass(frozen=True)
class RegistryEntry:
    """One resident as the registry knows them."""

    personal_id: str
    full_name: str
    birth_date: date
    sex: str


@dataclass(frozen=True)
class RowError:
    """Why one CSV line was refused (line numbers count the header as line 1)."""

    line: int
    message: str


def same_name(a: str, b: str) -> bool:
    """Names compare equal after NFC, case folding and whitespace collapsing (diacritics matter)."""
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s or "").casefold().split())
    return norm(a) == norm(b)


def parse_row(row: dict[str, str]) -> RegistryEntry:
    """A registry entry from one CSV row, or an AppError saying what is wrong."""
    name = " ".join(unicodedata.normalize("NFC", row.get("full_name") or "").split())
    if not 1 <= len(name) <= 120:
        raise AppError("full_name must be 1 to 120 characters")
    born = personal_id.parse_birth_date(row.get("birth_date") or "")
    sex = (row.get("sex") or "").strip().lower()
    pid = personal_id.check(row.get("personal_id") or "", born, sex)
    return RegistryEntry(personal_id=pid.number, full_name=name, birth_date=born, sex=sex)


def parse_csv(text: str) -> tuple[list[RegistryEntry], list[RowError]]:
    """Good entries and per-row errors of a registry CSV (header: personal_id,full_name,birth_date,sex)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(1, f"missing column(s): {', '.join(missing)}")]
    entries: dict[str, RegistryEntry] = {}
    errors: list[RowError] = []
    for row in reader:
        line = reader.line_num
        try:
            entry = parse_row(row)
        except AppError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        if entry.personal_id in entries:
            errors.append(RowError(line, "duplicate personal_id in the file"))
            continue
        entries[entry.personal_id] = entry
    return list(entries.values()), errors
