"""Delivery helpers: back-off, mobile numbers only, masking, keyed rate keys, message registry."""

from datetime import timedelta

import pytest

from services.notify.domain.delivery import backoff, mask, mobile_e164, rate_key
from services.notify.domain.errors import NotAMobileNumber
from services.notify.domain.messages import GROUPS, MESSAGE_TYPES


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, base=10, cap=60) for n in (1, 2, 3, 4, 5)] == [
        timedelta(seconds=s) for s in (10, 20, 40, 60, 60)]


@pytest.mark.parametrize(("given", "e164"), [("0901234567", "+84901234567"), ("+84 912 345 678", "+84912345678"),
                                              ("84987654321", "+84987654321")])
def test_mobile_numbers_are_normalised(given, e164):
    assert mobile_e164(given) == e164


@pytest.mark.parametrize("given", ["02838123456", "+842838123456", "12345", "not a number", "+14155550100x"])
def test_landlines_and_junk_are_not_mobile(given):
    with pytest.raises(NotAMobileNumber):
        mobile_e164(given)


def test_masking_keeps_little():
    assert mask("+84901234567") == "+8490*****67"
    assert mask("an.nguyen@example.org") == "a***@example.org"
    assert "1234" not in mask("+84901234567")


def test_rate_key_depends_on_the_secret_and_hides_the_number():
    assert rate_key("+84901234567", "s1") == rate_key("+84901234567", "s1")
    assert rate_key("+84901234567", "s1") != rate_key("+84901234567", "s2")
    assert "0901234567" not in rate_key("+84901234567", "s1")


def test_every_message_type_belongs_to_a_group_and_urgent_groups_are_locked():
    for kind in MESSAGE_TYPES.values():
        assert kind.group in GROUPS
        if kind.urgent:
            assert GROUPS[kind.group].locked
