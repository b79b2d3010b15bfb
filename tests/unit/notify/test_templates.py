"""Templates render in both languages, are checked on save, and never leave a hole."""

import pytest

from services.notify.domain.errors import TemplateInvalid, TemplateValuesMissing, UnknownMessageType
from services.notify.domain.messages import MESSAGE_TYPES
from services.notify.domain.templates import DEFAULTS, check_template, placeholders, render_text


def test_every_message_type_ships_vi_and_en_with_the_same_placeholders():
    for name in MESSAGE_TYPES:
        channels = {c for t, c, _ in DEFAULTS if t == name}
        assert channels, f"{name} has no template"
        for channel in channels:
            vi, en = DEFAULTS[(name, channel, "vi")], DEFAULTS[(name, channel, "en")]
            assert placeholders(vi[0] + vi[1]) == placeholders(en[0] + en[1])


def test_every_shipped_template_passes_the_save_check():
    for (name, channel, language), (subject, body) in DEFAULTS.items():
        check_template(name, channel, language, subject, body)


def test_render_fills_placeholders():
    subject, body = render_text("Report {short_id}", "To {agency_name}, due {due}",
                                {"short_id": "1a2b", "agency_name": "Ward 1", "due": "17:00"})
    assert subject == "Report 1a2b" and body == "To Ward 1, due 17:00"


@pytest.mark.parametrize("values", [{"short_id": "1a2b"}, {"short_id": "1a2b", "due": ""}])
def test_missing_value_is_an_error_not_an_empty_hole(values):
    with pytest.raises(TemplateValuesMissing):
        render_text("", "Report {short_id} due {due}", values)


@pytest.mark.parametrize(("subject", "body", "error"), [
    ("", "Report {short_id} {secret}", TemplateInvalid),       # placeholder the type does not have
    ("", "Report {short_id", TemplateInvalid),                  # unbalanced brace
    ("", "Report {short_id!r}", TemplateInvalid),               # conversions are not plain names
    ("", "Report {0}", TemplateInvalid),                        # positional
    ("", "   ", TemplateInvalid),
])
def test_save_check_rejects_bad_templates(subject, body, error):
    with pytest.raises(error):
        check_template("report_submitted", "inbox", "vi", subject, body)


def test_save_check_rejects_unknown_slots_and_sms_subjects():
    with pytest.raises(UnknownMessageType):
        check_template("no_such_type", "inbox", "vi", "", "x")
    with pytest.raises(UnknownMessageType):
        check_template("report_submitted", "fax", "vi", "", "x")
    with pytest.raises(TemplateInvalid):
        check_template("report_submitted", "inbox", "fr", "", "x")
    with pytest.raises(TemplateInvalid):
        check_template("report_submitted", "sms", "vi", "Subject", "x {short_id}")
