"""Agencies and the working calendar, managed against a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.routing.domain import errors
from services.routing.service_layer import directory, handlers
from services.routing.service_layer.directory import AgencyDraft
from tests.integration.routing.conftest import T0

NEW = AgencyDraft(code="so_tc", name_vi="Sở Tài chính TP.HCM", name_en="HCMC Department of Finance",
                  kind="department", parent_code="ioc", contact="028 3829 0000")


async def test_create_then_update_and_deactivate_an_agency(env):
    async with env.uow() as uow:
        created = await directory.create_agency(uow, NEW)
    assert (created.code, created.active, created.contact) == ("so_tc", True, "028 3829 0000")
    async with env.uow() as uow:
        updated = await directory.update_agency(uow, replace(NEW, active=False, name_en="Finance"))
    assert (updated.active, updated.name_en) == (False, "Finance")
    with pytest.raises(errors.AgencyExists):
        async with env.uow() as uow:
            await directory.create_agency(uow, NEW)


@pytest.mark.parametrize(("draft", "field"), [
    (replace(NEW, kind="bank"), "kind"), (replace(NEW, code="Sở"), "code"),
    (replace(NEW, parent_code="nope"), "parent_code"),
    (replace(NEW, name_vi=" "), "name.vi"), (replace(NEW, ward_code="12"), "ward_code")])
async def test_invalid_agencies_are_refused(env, draft, field):
    with pytest.raises(errors.InvalidAgency) as err:
        async with env.uow() as uow:
            await directory.create_agency(uow, draft)
    assert err.value.field == field


async def test_parent_loops_and_a_parented_or_inactive_ioc_are_refused(env):
    async with env.uow() as uow:
        await directory.create_agency(uow, NEW)
    async with env.uow() as uow:
        await directory.create_agency(uow, replace(NEW, code="so_tc_kho_bac", parent_code="so_tc"))
    with pytest.raises(errors.InvalidAgency, match="loop"):
        async with env.uow() as uow:
            await directory.update_agency(uow, replace(NEW, parent_code="so_tc_kho_bac"))
    with pytest.raises(errors.InvalidAgency, match="root"):
        async with env.uow() as uow:
            await directory.update_agency(uow, AgencyDraft(code="ioc", name_vi="x", name_en="x",
                                                           kind="operations_centre", parent_code="so_tc"))
    with pytest.raises(errors.InvalidAgency):
        async with env.uow() as uow:
            await directory.update_agency(uow, AgencyDraft(code="ioc", name_vi="x", name_en="x",
                                                           kind="operations_centre", active=False))
    with pytest.raises(errors.AgencyNotFound):
        async with env.uow() as uow:
            await directory.update_agency(uow, replace(NEW, code="so_none"))


async def test_an_inactive_agency_gets_no_new_reports(env):
    async with env.uow() as uow:
        await directory.update_agency(uow, AgencyDraft(code="thoatnuoc", name_vi="x", name_en="x", kind="utility",
                                                       parent_code="ioc", active=False))
    await env.submit("r1")
    [assigned] = await env.events("ReportAssigned")
    assert assigned.agency_code == "ioc" and assigned.triage


async def test_calendar_days_change_future_deadlines_and_can_be_removed(env):
    start = T0  # Tuesday 3 March 2026, 09:00 local
    async with env.uow() as uow:
        before = (await handlers.deadlines(uow.session, "road_pothole", "roads", start))[1]
    async with env.uow() as uow:
        await directory.set_calendar_day(uow, day="2026-03-04", working=False, note="city day off")
    async with env.uow() as uow:
        after = (await handlers.deadlines(uow.session, "road_pothole", "roads", start))[1]
        days, public = await directory.list_calendar(uow.session, 2026)
    assert after - before >= timedelta(hours=24) - timedelta(hours=1)  # one working day later
    assert [(d.day, d.working, d.note) for d in days] == [(date(2026, 3, 4), False, "city day off")]
    assert (date(2026, 9, 2), "National Day") in public
    async with env.uow() as uow:
        await directory.delete_calendar_day(uow, day="2026-03-04")
    with pytest.raises(errors.CalendarDayNotFound):
        async with env.uow() as uow:
            await directory.delete_calendar_day(uow, day="2026-03-04")
    with pytest.raises(errors.InvalidCalendarDay):
        async with env.uow() as uow:
            await directory.set_calendar_day(uow, day="04/03/2026", working=True, note="")
