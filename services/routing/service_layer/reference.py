"""Reference data every routed report reads: rules, agencies, SLAs, the working calendar.

Consumers read these for every event, operators change them a few times a day, so they come from
per-process caches (servicekit.cache) of immutable snapshots:

- rules: exact. Each read checks a fingerprint of the rules table (row count and newest
  created_at: every save inserts a version row) in the caller's transaction and reloads when it
  moved, so the rule id and version recorded on an assignment are those a fresh read would give
  (on SQLite the fingerprint cannot move within a transaction: read once per transaction).
- agencies, SLAs, calendar days: CACHE_SECONDS. Changes made in this process drop the cache at
  once (directory.py); another replica's change is seen within CACHE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from services.routing.adapters.orm import Agency, CalendarDay, RoutingRule, Sla
from services.routing.domain import rules as rules_mod
from services.routing.domain.calendar import WorkingCalendar
from servicekit.cache import TtlCache

CACHE_SECONDS = 5.0
RULES_KEEP_SECONDS = 300.0  # rules are checked against the table on every read; this only bounds memory


@dataclass(frozen=True)
class AgencyInfo:
    """What routing decisions and events need of an agency (a snapshot)."""

    code: str
    name_vi: str
    name_en: str
    active: bool
    parent_code: str | None


@dataclass(frozen=True)
class SlaTerms:
    """An SLA's hours and how they count (a snapshot of an Sla row, or the default)."""

    ack_hours: float
    resolve_hours: float
    calendar: str


DEFAULT_SLA = SlaTerms(ack_hours=8, resolve_hours=80, calendar="working")
_rules = TtlCache(RULES_KEEP_SECONDS, max_entries=8)
_RULES_FINGERPRINT = select(func.count(), func.max(RoutingRule.created_at))  # built once: read per report
_FINGERPRINT_MEMO = "routing.rules_fingerprint"  # session.info key: (transaction, fingerprint)
_tables = TtlCache(CACHE_SECONDS)


def forget_cached() -> None:
    """Drop this process's cached reference data (after a change here)."""
    _rules.clear()
    _tables.clear()


def to_rule(r: RoutingRule) -> rules_mod.Rule:
    """Table row -> domain rule."""
    return rules_mod.Rule(id=r.id, version=r.version, agency_code=r.agency_code, priority=r.priority,
                          kind=r.kind or None, category_code=r.category_code or None,
                          category_group=r.category_group or None,
                          ward_codes=frozenset(r.ward_codes) if r.ward_codes is not None else None)


async def load_active_rules(session) -> list[rules_mod.Rule]:  # noqa: ANN001
    """The current, enabled version of every rule, read now (rule saves use this)."""
    rows = (await session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True),
                                                            RoutingRule.enabled.is_(True)))).all()
    return [to_rule(r) for r in rows]


async def rules_fingerprint(session) -> tuple:  # noqa: ANN001
    """Row count and newest created_at of the rules table, as the caller's transaction sees it now.

    SQLite: nothing but the transaction itself can change the table while it lasts (one writer per
    file, and a reader's WAL snapshot is fixed), and rule saves never read it through here, so it is
    read once per transaction (a consumer's whole batch). PostgreSQL (READ COMMITTED) may see
    another replica's save at any statement, so it is read every time.
    """
    memo = session.info.get(_FINGERPRINT_MEMO)
    if memo is not None and memo[0] is session.sync_session.get_transaction():
        return memo[1]
    conn = await session.connection()  # no autoflush: there are never pending rule rows here
    fingerprint = tuple((await conn.execute(_RULES_FINGERPRINT)).one())
    if conn.dialect.name == "sqlite":
        session.info[_FINGERPRINT_MEMO] = (session.sync_session.get_transaction(), fingerprint)
    return fingerprint


async def active_rules(session) -> list[rules_mod.Rule]:  # noqa: ANN001
    """`load_active_rules`, served from the cache while the rules table has not changed."""
    fingerprint = await rules_fingerprint(session)

    async def load() -> tuple[rules_mod.Rule, ...]:
        return tuple(await load_active_rules(session))
    return list(await _rules.get(session, fingerprint, load))


async def agency(session, code: str) -> AgencyInfo | None:  # noqa: ANN001
    """One agency by code, or None (all agencies are cached together)."""
    async def load() -> dict[str, AgencyInfo]:
        rows = (await session.execute(select(Agency.code, Agency.name_vi, Agency.name_en, Agency.active,
                                             Agency.parent_code))).all()
        return {r.code: AgencyInfo(r.code, r.name_vi, r.name_en, r.active, r.parent_code) for r in rows}
    return (await _tables.get(session, "agencies", load)).get(code)


async def sla_for(session, category_code: str, category_group: str) -> SlaTerms:  # noqa: ANN001
    """The category's own SLA if it has one, else its group's, else the default."""
    async def load() -> dict[tuple[str, str], SlaTerms]:
        rows = (await session.execute(select(Sla.scope, Sla.code, Sla.ack_hours, Sla.resolve_hours,
                                             Sla.calendar))).all()
        return {(r.scope, r.code): SlaTerms(r.ack_hours, r.resolve_hours, r.calendar) for r in rows}
    slas = await _tables.get(session, "slas", load)
    return slas.get(("category", category_code)) or slas.get(("group", category_group)) or DEFAULT_SLA


async def working_calendar(session) -> WorkingCalendar:  # noqa: ANN001
    """Public holidays plus the city's own days off and make-up days."""
    async def load() -> WorkingCalendar:
        days = (await session.execute(select(CalendarDay.day, CalendarDay.working))).all()
        return WorkingCalendar(days_off=frozenset(d.day for d in days if not d.working),
                               make_up_days=frozenset(d.day for d in days if d.working))
    return await _tables.get(session, "calendar", load)
