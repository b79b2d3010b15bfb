"""The report lifecycle of DESIGN.md §5 and input checks."""

import pytest

from services.reports.domain.errors import InvalidTransition, OutsideCity
from services.reports.domain.model import TRANSITIONS, Action, Status, check_point, clean_text, next_status
from servicekit.errors import InvalidArgument, PermissionDenied


@pytest.mark.parametrize(("start", "action", "actor", "end"), [
    (Status.SUBMITTED, Action.ASSIGN, "system", Status.ASSIGNED),
    (Status.ASSIGNED, Action.ACKNOWLEDGE, "officer", Status.IN_PROGRESS),
    (Status.IN_PROGRESS, Action.RESOLVE, "officer", Status.RESOLVED),
    (Status.RESOLVED, Action.CONFIRM, "reporter", Status.CLOSED),
    (Status.RESOLVED, Action.AUTO_CLOSE, "system", Status.CLOSED),
    (Status.RESOLVED, Action.REOPEN, "reporter", Status.ASSIGNED),
    (Status.IN_PROGRESS, Action.TRANSFER, "officer", Status.ASSIGNED),
    (Status.SUBMITTED, Action.REJECT, "operator", Status.REJECTED),
    (Status.ASSIGNED, Action.WITHDRAW, "reporter", Status.WITHDRAWN),
])
def test_allowed_transitions(start, action, actor, end):
    assert next_status(start, action, actor) == end


def test_terminal_states_allow_nothing():
    for terminal in (Status.CLOSED, Status.REJECTED, Status.WITHDRAWN):
        for action, (_, _, roles) in TRANSITIONS.items():
            with pytest.raises(InvalidTransition):
                next_status(terminal, action, next(iter(roles)))


def test_wrong_role_is_permission_denied_before_state_is_considered():
    with pytest.raises(PermissionDenied):
        next_status(Status.IN_PROGRESS, Action.RESOLVE, "reporter")
    with pytest.raises(PermissionDenied):
        next_status(Status.SUBMITTED, Action.WITHDRAW, "officer")


def test_cannot_withdraw_once_work_started():
    with pytest.raises(InvalidTransition):
        next_status(Status.IN_PROGRESS, Action.WITHDRAW, "reporter")


def test_text_is_nfc_normalised_and_bounded():
    decomposed = "đươ\u0300ng ngập nước"  # "ờ" typed as o-horn + combining grave
    assert clean_text(decomposed, field="description", minimum=5, maximum=50) == "đường ngập nước"
    with pytest.raises(InvalidArgument):
        clean_text("  ngắn ", field="description", minimum=10, maximum=50)


def test_points_outside_the_city_are_refused():
    check_point(10.7769, 106.7009)   # Bến Thành
    check_point(8.68, 106.61)        # Côn Đảo
    with pytest.raises(OutsideCity):
        check_point(21.0285, 105.8542)  # Hà Nội
