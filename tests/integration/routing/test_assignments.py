"""Assignment, triage, the status consumer's clock stops and reopen, transfers: real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.routing.domain import errors
from services.routing.service_layer import handlers, views
from servicekit.auth import Principal
from tests.integration.routing.conftest import BEN_THANH, OFFICER, OPERATOR, T0, received

H = timedelta(hours=1)


async def view(env, report_id: str):  # noqa: ANN001, ANN201
    async with env.uow() as uow:
        return await views.assignment(uow.session, report_id)


def clocks(v) -> dict:  # noqa: ANN001
    return {c.deadline: c for c in v.clocks}


async def transfer(env, principal: Principal, to: str, report_id: str = "r1",  # noqa: ANN001, ANN201
                   reason: str = "not our area"):
    async with env.uow() as uow:
        return await handlers.transfer_report(uow, principal=principal, report_id=report_id, to_agency_code=to,
                                              reason=reason, now=lambda: T0 + H)


async def test_submission_is_assigned_once_with_rule_version_deadlines_and_clocks(env):
    await env.submit("r1")
    await env.submit("r1")  # re-announced: nothing new
    [assigned] = await env.events("ReportAssigned")
    assert (assigned.agency_code, assigned.rule_id, assigned.rule_version) == ("thoatnuoc", "r-drainage-city", 1)
    v = await view(env, "r1")
    assert v.assignment.resolve_due_at == T0 + 6 * H  # flooding: 6 calendar hours
    c = clocks(v)
    assert c["ack"].due_at == T0 + 0.5 * H and c["ack"].warn_at == T0 + 0.4 * H
    assert c["resolve"].next_at == T0 + 4.8 * H
    assert not await env.events("TriageNeeded")


async def test_a_report_announced_twice_in_one_batch_is_assigned_once(env):
    msg = reports_events.ReportSubmitted(report_id="r1", kind=reports_pb2.REPORT_KIND_INCIDENT,
                                         category_code="flooding", category_group="drainage", ward_code=BEN_THANH)
    async with env.uow() as uow:  # one unit of work, as the consumer applies a fetched batch
        for _ in range(2):
            await handlers.assign_submitted(received(msg), uow, now=lambda: T0)
        await uow.commit()
    assert len(await env.events("ReportAssigned")) == 1
    assert len((await view(env, "r1")).clocks) == 2


async def test_unclaimed_report_goes_to_ioc_triage_and_raises_an_alert(env):
    await env.submit("r1", "mystery", "mystery")
    [assigned] = await env.events("ReportAssigned")
    [alert] = await env.events("TriageNeeded")
    assert assigned.agency_code == "ioc" and assigned.triage
    assert alert.report_id == "r1" and "triage" in alert.reason


async def test_acknowledge_stops_the_ack_clock_and_resolution_the_other(env):
    await env.submit("r1")
    await env.status("r1", "assigned", "in_progress", at=T0 + 0.1 * H)
    c = clocks(await view(env, "r1"))
    assert c["ack"].stopped_at == T0 + 0.1 * H and c["ack"].next_at is None and c["resolve"].next_at is not None
    await env.status("r1", "in_progress", "resolved", at=T0 + H)
    c = clocks(await view(env, "r1"))
    assert c["resolve"].stopped_at == T0 + H and c["resolve"].next_at is None


@pytest.mark.parametrize("final", ["rejected", "withdrawn", "closed"])
async def test_finished_reports_stop_every_clock(env, final):
    await env.submit("r1")
    await env.status("r1", "assigned", final)
    assert all(c.next_at is None for c in (await view(env, "r1")).clocks)
    assert (await view(env, "r1")).assignment.report_status == final


async def test_reopen_by_the_resident_reassigns_to_the_same_agency_with_fresh_deadlines(env):
    await env.submit("r1")
    await env.status("r1", "in_progress", "resolved", at=T0 + H)
    await env.status("r1", "resolved", "assigned", actor_role="reporter", at=T0 + 30 * H)
    first, again = await env.events("ReportAssigned")
    assert again.reopened and again.agency_code == first.agency_code
    assert again.resolve_due_at.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + 36 * H
    c = clocks(await view(env, "r1"))
    assert c["ack"].stopped_at is None and c["ack"].next_at == T0 + 30.4 * H


async def test_an_officer_moving_back_to_assigned_is_not_a_reopen(env):
    await env.submit("r1")
    await env.status("r1", "resolved", "assigned", actor_role="officer")
    assert len(await env.events("ReportAssigned")) == 1


async def test_a_status_change_before_the_assignment_is_retried_later(env):
    with pytest.raises(errors.AssignmentNotYetKnown):
        await env.status("r-unknown", "submitted", "rejected")
    await env.status("r-unknown", "submitted", "assigned")  # nothing to stop: ignored


async def test_officer_transfers_with_a_reason_and_new_deadlines(env):
    await env.submit("r1", "illegal_dumping", "waste")  # -> ubnd_26743
    a = await transfer(env, OFFICER, "ctmt", reason="waste collection belongs to the company")
    assert (a.agency_code, a.transfers) == ("ctmt", 1)
    [moved] = await env.events("ReportTransferred")
    assert (moved.from_agency_code, moved.to_agency_code, moved.transfer_count) == ("ubnd_26743", "ctmt", 1)
    assert moved.to_agency_name.en.startswith("HCMC Urban Environment")
    assert moved.resolve_due_at.ToDatetime() > T0.replace(tzinfo=None) + H
    v = await view(env, "r1")
    assert [t.reason for t in v.transfers] == ["waste collection belongs to the company"]
    assert clocks(v)["ack"].agency_code == "ctmt" and clocks(v)["ack"].started_at == T0 + H


async def test_only_the_assigned_agency_or_an_operator_may_transfer(env):
    await env.submit("r1", "illegal_dumping", "waste")
    stranger = Principal(user_id="u2", role="officer", agency_code="ubnd_26740")
    with pytest.raises(errors.NotYourAgency):
        await transfer(env, stranger, "ctmt")
    assert (await transfer(env, OPERATOR, "ctmt")).agency_code == "ctmt"


@pytest.mark.parametrize(("to", "reason", "err"), [
    ("ubnd_26743", "still ours really", errors.InvalidTransfer), ("nope", "not our area", errors.InvalidTransfer),
    ("ctmt", "no", errors.InvalidTransfer)])
async def test_bad_transfers_are_refused(env, to, reason, err):
    await env.submit("r1", "illegal_dumping", "waste")
    with pytest.raises(err):
        await transfer(env, OFFICER, to, reason=reason)


async def test_a_finished_report_cannot_be_transferred(env):
    await env.submit("r1", "illegal_dumping", "waste")
    await env.status("r1", "in_progress", "resolved")
    with pytest.raises(errors.NotTransferable):
        await transfer(env, OFFICER, "ctmt")


async def test_after_three_transfers_the_report_goes_to_the_operations_centre(env):
    await env.submit("r1", "illegal_dumping", "waste")
    chain = [("ubnd_26743", "ctmt"), ("ctmt", "so_nnmt"), ("so_nnmt", "ubnd_26740"), ("ubnd_26740", "so_xd")]
    for current, to in chain:
        await transfer(env, Principal(user_id="u", role="officer", agency_code=current), to)
    last = (await env.events("ReportTransferred"))[-1]
    assert (last.to_agency_code, last.requested_agency_code, last.transfer_count) == ("ioc", "so_xd", 4)
    v = await view(env, "r1")
    assert v.assignment.agency_code == "ioc" and v.assignment.triage
    with pytest.raises(errors.NotTransferable) as err:
        await transfer(env, Principal(user_id="u", role="officer", agency_code="ioc"), "so_xd")
    assert err.value.code == "transfer_limit_reached"
    assert (await transfer(env, OPERATOR, "so_xd")).agency_code == "so_xd"  # the IOC itself decides


async def test_feedback_without_a_ward_goes_to_the_ioc_by_its_kind_rule(env):
    await env.submit("r1", "feedback_service_quality", "feedback", ward_code="", kind=reports_pb2.REPORT_KIND_FEEDBACK)
    [assigned] = await env.events("ReportAssigned")
    assert assigned.agency_code == "ioc" and assigned.rule_id == "r-feedback-city" and not assigned.triage
