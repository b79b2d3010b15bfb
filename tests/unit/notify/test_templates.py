"""Templates render in both languages and never leave a hole."""

import pytest

from services.notify.domain.templates import TEMPLATES, placeholders, render
from servicekit.errors import InvalidArgument


def test_every_message_type_exists_in_vi_and_en_with_the_same_placeholders():
    types = {t for t, _ in TEMPLATES}
    for t in types:
        vi, en = TEMPLATES[(t, "vi")], TEMPLATES[(t, "en")]
        assert placeholders(vi[0] + vi[1]) == placeholders(en[0] + en[1])


def test_render_in_recipient_language():
    title, body = render("report_assigned", "en", {"short_id": "1a2b", "agency_name": "Ward 1", "due": "17:00"})
    assert title == "Report assigned" and "Ward 1" in body and "17:00" in body
    title_vi, _ = render("report_assigned", "vi", {"short_id": "1a2b", "agency_name": "P1", "due": "17:00"})
    assert title_vi == "Phản ánh đã được phân công"


def test_missing_value_is_an_error_not_an_empty_hole():
    with pytest.raises(InvalidArgument):
        render("report_assigned", "vi", {"short_id": "1a2b", "agency_name": ""})
