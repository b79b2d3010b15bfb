"""Reports service layer against a real database: durable auto-close and accent-insensitive search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.reports.adapters.orm import Report, TimelineEntry, outbox
from services.reports.service_layer import handlers, lifecycle, queries
from servicekit.auth import Principal

CITIZEN = Principal(user_id="u-1", role="citizen")


async def submit(uow_factory, description: str, category: str = "flooding") -> str:  # noqa: ANN001
    async with uow_factory() as uow:
        report = await handlers.submit_report(handlers.SubmitReport(
            kind="incident", category_code=category, description=description, latitude=10.77, longitude=106.70,
            ward_code="26743", address="Lê Lợi"), uow, CITIZEN)
    return report.id


async def resolve(uow_factory, report_id: str, at: datetime) -> None:  # noqa: ANN001
    async with uow_factory() as uow:
        report = await uow.session.get(Report, report_id)
        for action, actor in ((lifecycle.A.ASSIGN, "system"), (lifecycle.A.ACKNOWLEDGE, "officer"),
                              (lifecycle.A.RESOLVE, "officer")):
            await lifecycle.apply(uow, report, action, actor=actor, note="done", at=at)
        await uow.commit()


async def test_resolved_reports_close_after_seven_days_once(uow_factory):
    now = datetime.now(UTC)
    old, recent = await submit(uow_factory, "Ngập nước sâu trên đường"), await submit(uow_factory, "Ngập nước hẻm")
    await resolve(uow_factory, old, now - timedelta(days=8))
    await resolve(uow_factory, recent, now - timedelta(days=2))
    assert await lifecycle.close_expired(uow_factory, now=now) == 1
    assert await lifecycle.close_expired(uow_factory, now=now) == 0  # already closed: nothing again
    async with uow_factory() as uow:
        assert (await uow.session.get(Report, old)).status == "closed"
        assert (await uow.session.get(Report, recent)).status == "resolved"
        closes = (await uow.session.scalars(select(TimelineEntry).where(
            TimelineEntry.report_id == old, TimelineEntry.action == "auto_close"))).all()
        assert len(closes) == 1 and closes[0].actor_role == "system"
        events = (await uow.session.execute(select(outbox.c.subject))).scalars().all()
        assert events.count("reports.v1.report_status_changed") == 7  # 3 + 3 transitions + 1 auto-close


async def test_search_with_and_without_diacritics(uow_factory):
    hit = await submit(uow_factory, "Đường Nguyễn Huệ ngập nước sau cơn mưa")
    miss = await submit(uow_factory, "Cây đổ chắn lối đi bộ", category="fallen_tree")
    for q in ("đường ngập nước", "duong ngap nuoc", "NGAP nuoc", "nguyen hue"):
        async with uow_factory() as uow:
            rows, _ = await queries.list_reports(uow.session, queries.ReportFilter(q=q), None, cursor="", limit=50)
        ids = [r.id for r in rows]
        assert hit in ids and miss not in ids, q
