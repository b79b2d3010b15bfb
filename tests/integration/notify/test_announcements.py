"""Announcement fan-out: bulk INSERT ... SELECT in chunks reaches exactly the targeted residents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.notify.adapters.orm import Announcement, Notification
from services.notify.domain.errors import AnnouncementInvalid, AnnouncementScope
from services.notify.service_layer import announcements
from services.notify.service_layer.announcements import PublishAnnouncement
from servicekit.auth import Principal
from tests.integration.notify.conftest import recipient

OPERATOR = Principal(user_id="op-1", role="operator")
WARD_ADMIN = Principal(user_id="adm-1", role="agency_admin", agency_code="ubnd_26743")


def cmd(**overrides) -> PublishAnnouncement:  # noqa: ANN003
    values = dict(title_vi="Cắt nước", title_en="Water cut", body_vi="Cắt nước 8:00-12:00 ngày 12/3.",
                  body_en="No water 8:00-12:00 on 12 March.")
    return PublishAnnouncement(**{**values, **overrides})


async def residents(db, ward: str, n: int, language: str = "vi") -> set[str]:  # noqa: ANN001
    people = [recipient(ward=ward, language=language) for _ in range(n)]
    await db.add(*people)
    return {p.user_id for p in people}


async def items_of(db, announcement_id: str) -> list[Notification]:  # noqa: ANN001
    return await db.all(Notification, Notification.announcement_id == announcement_id)


async def test_fan_out_reaches_exactly_the_residents_of_the_targeted_wards(db, clock):
    ben_thanh = await residents(db, "26743", 13) | await residents(db, "26743", 4, language="en")
    saigon = await residents(db, "26734", 9)
    await residents(db, "27000", 11)                      # not targeted
    async with db.uow() as uow:
        ann = await announcements.publish(uow, cmd(ward_codes=("26743", "26734")), OPERATOR, clock=clock)
    assert ann.fanout_status == "pending"
    written = await announcements.fan_out_pending(db.uow, chunk=5)
    items = await items_of(db, ann.id)
    assert written == len(items) == 26
    assert {i.user_id for i in items} == ben_thanh | saigon
    assert len({i.id for i in items}) == 26 and all(len(i.id) == 36 for i in items)
    english = [i for i in items if i.title == "Water cut"]
    assert len(english) == 4 and all(i.type == "announcement" for i in items)
    [done] = await db.all(Announcement, Announcement.id == ann.id)
    assert (done.fanout_status, done.recipients) == ("done", 26)
    assert await announcements.fan_out_pending(db.uow, chunk=5) == 0


async def test_fan_out_resumes_chunk_by_chunk_and_items_sort_with_the_inbox(db, clock):
    everyone = await residents(db, "26743", 7) | await residents(db, "27000", 5)
    async with db.uow() as uow:
        ann = await announcements.publish(uow, cmd(), OPERATOR, clock=clock)      # city-wide
    async with db.uow() as uow:
        row = await uow.session.get(Announcement, ann.id)
        assert await announcements.fan_out_chunk(uow, row, 5) == 5
    [partial] = await db.all(Announcement, Announcement.id == ann.id)
    assert (partial.fanout_status, partial.recipients) == ("pending", 5)
    assert await announcements.fan_out_pending(db.uow, chunk=5) == 7   # resumes where it stopped
    assert {i.user_id for i in await items_of(db, ann.id)} == everyone
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Notification))
    assert count == 12


async def test_ward_admins_announce_to_their_own_ward_only(db, clock):
    async with db.uow() as uow:
        ann = await announcements.publish(uow, cmd(ward_codes=("26743",)), WARD_ADMIN, clock=clock)
        assert ann.ward_codes == "26743"
        for wards in ((), ("26734",), ("26743", "26734")):
            with pytest.raises(AnnouncementScope):
                await announcements.publish(uow, cmd(ward_codes=wards), WARD_ADMIN, clock=clock)
        with pytest.raises(AnnouncementScope):
            await announcements.publish(uow, cmd(), Principal(user_id="c", role="citizen"), clock=clock)


@pytest.mark.parametrize("bad", [dict(title_en=""), dict(body_vi=" "), dict(ward_codes=("2674",)),
                                 dict(ward_codes=("abcde",))])
async def test_invalid_announcements_are_rejected(db, clock, bad):
    async with db.uow() as uow:
        with pytest.raises(AnnouncementInvalid):
            await announcements.publish(uow, cmd(**bad), OPERATOR, clock=clock)
        with pytest.raises(AnnouncementInvalid):
            await announcements.publish(uow, cmd(expires_at=clock.now - timedelta(minutes=1)), OPERATOR, clock=clock)


async def test_same_idempotency_key_returns_the_same_announcement(db, clock):
    async with db.uow() as uow:
        first = await announcements.publish(uow, cmd(idempotency_key="k1"), OPERATOR, clock=clock)
    async with db.uow() as uow:
        again = await announcements.publish(uow, cmd(idempotency_key="k1"), OPERATOR, clock=clock)
    assert first.id == again.id


async def test_feed_filters_by_ward_and_hides_expired(db, clock):
    async with db.uow() as uow:
        city = await announcements.publish(uow, cmd(), OPERATOR, clock=clock)
        ward = await announcements.publish(uow, cmd(ward_codes=("26743",)), OPERATOR, clock=clock)
        other = await announcements.publish(uow, cmd(ward_codes=("27000",)), OPERATOR, clock=clock)
        short = await announcements.publish(uow, cmd(expires_at=clock.now + timedelta(hours=1)), OPERATOR,
                                            clock=clock)

    async def feed(**kw) -> list[str]:  # noqa: ANN003
        q = announcements.feed_query(now=clock.now, cursor="", limit=50, **kw)
        async with db.uow() as uow:
            return [a.id for a in (await uow.session.scalars(q)).all()]

    assert await feed(ward_code="26743", include_expired=False) == [short.id, ward.id, city.id]
    assert await feed(ward_code="", include_expired=False) == [short.id, other.id, ward.id, city.id]
    clock.advance(hours=2)
    assert await feed(ward_code="26743", include_expired=False) == [ward.id, city.id]
    assert short.id in await feed(ward_code="26743", include_expired=True)
