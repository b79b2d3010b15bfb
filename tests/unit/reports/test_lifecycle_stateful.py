"""Property test: no sequence of actions by anyone reaches an invalid state or skips the timeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.reports.adapters.orm import Report, TimelineEntry
from services.reports.domain.model import TRANSITIONS, Action, Status
from services.reports.service_layer import lifecycle
from servicekit.errors import AppError

ACTORS = ["reporter", "officer", "agency_admin", "operator", "system", "auditor"]


class FakeSession:
    """In-memory stand-in for the ORM session (unit-test fake, as in cosmicpython)."""

    def __init__(self, report: Report):
        self.report, self.added = report, []

    def add(self, obj) -> None:  # noqa: ANN001
        self.added.append(obj)

    async def flush(self) -> None:
        self.report.version += 1  # what version_id_col does on UPDATE


class FakeUow:
    def __init__(self, report: Report):
        self.session, self.events = FakeSession(report), []

    def emit(self, message) -> None:  # noqa: ANN001
        self.events.append(message)


class Lifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.report = Report(id="r1", kind="incident", category_code="flooding", category_group="drainage",
                             description="x" * 20, status=Status.SUBMITTED, visibility="public", reporter_id="u1",
                             agency_code="a1", agency_name_vi="", agency_name_en="", version=1, ward_code="26743",
                             submitted_at=datetime.now(UTC), updated_at=datetime.now(UTC), reject_reason="")
        self.uow = FakeUow(self.report)
        self.expected_entries = 0

    @rule(action=st.sampled_from(list(Action)), actor=st.sampled_from(ACTORS))
    def act(self, action: Action, actor: str) -> None:
        before, version = Status(self.report.status), self.report.version
        sources, target, roles = TRANSITIONS[action]
        try:
            asyncio.run(lifecycle.apply(self.uow, self.report, action, actor=actor, note="n", reason="spam",
                                        at=datetime.now(UTC)))
        except AppError:
            assert actor not in roles or before not in sources  # refused only when the table says so
            assert self.report.status == before and self.report.version == version
            return
        assert actor in roles and before in sources and self.report.status == target
        self.expected_entries += 1

    @invariant()
    def state_is_valid_and_every_change_is_on_the_timeline(self) -> None:
        assert Status(self.report.status) in Status
        entries = [o for o in self.uow.session.added if isinstance(o, TimelineEntry)]
        assert len(entries) == len(self.uow.events) == self.expected_entries
        if entries:
            assert entries[-1].status == self.report.status
        if self.report.status in (Status.CLOSED, Status.REJECTED, Status.WITHDRAWN):
            assert all(Status(self.report.status) not in TRANSITIONS[a][0] for a in Action if a != Action.ASSIGN)


Lifecycle.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
TestLifecycle = Lifecycle.TestCase
