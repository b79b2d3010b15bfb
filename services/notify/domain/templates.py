"""Template texts: default versions shipped with the service, checks on save and on render."""

from __future__ import annotations

import functools
import string

from services.notify.domain.errors import TemplateInvalid, TemplateValuesMissing, UnknownMessageType
from services.notify.domain.messages import LANGUAGES, MESSAGE_TYPES, TEMPLATE_CHANNELS

# (type, channel, language) -> (subject, body); version 1 of every template, seeded into the DB.
DEFAULTS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("report_submitted", "inbox", "vi"): ("Đã nhận phản ánh", "Phản ánh {short_id} đã được tiếp nhận và đang được chuyển đến cơ quan xử lý."),
    ("report_submitted", "inbox", "en"): ("Report received", "Report {short_id} was received and is being routed to the agency in charge."),
    ("report_assigned", "inbox", "vi"): ("Phản ánh đã được phân công", "Phản ánh {short_id} được giao cho {agency_name}; hạn xử lý {due}."),
    ("report_assigned", "inbox", "en"): ("Report assigned", "Report {short_id} was assigned to {agency_name}; due {due}."),
    ("report_acknowledged", "inbox", "vi"): ("Phản ánh đang được xử lý", "{agency_name} đã tiếp nhận và đang xử lý phản ánh {short_id}."),
    ("report_acknowledged", "inbox", "en"): ("Report in progress", "{agency_name} acknowledged report {short_id} and is working on it."),
    ("report_resolved", "inbox", "vi"): ("Phản ánh đã được xử lý", "Phản ánh {short_id} đã được xử lý: {note}. Hãy xác nhận hoặc mở lại nếu chưa đạt."),
    ("report_resolved", "inbox", "en"): ("Report resolved", "Report {short_id} was resolved: {note}. Please confirm, or reopen it if the problem remains."),
    ("report_closed", "inbox", "vi"): ("Phản ánh đã đóng", "Phản ánh {short_id} đã đóng. Cảm ơn bạn đã đóng góp."),
    ("report_closed", "inbox", "en"): ("Report closed", "Report {short_id} is closed. Thank you for your contribution."),
    ("report_rejected", "inbox", "vi"): ("Phản ánh bị từ chối", "Phản ánh {short_id} bị từ chối. Lý do: {reason}."),
    ("report_rejected", "inbox", "en"): ("Report rejected", "Report {short_id} was rejected. Reason: {reason}."),
    ("report_status_changed", "inbox", "vi"): ("Cập nhật phản ánh", "Phản ánh {short_id} chuyển sang trạng thái: {status}."),
    ("report_status_changed", "inbox", "en"): ("Report update", "Report {short_id} is now: {status}."),
    ("report_commented", "inbox", "vi"): ("Cơ quan xử lý đã trả lời", "Có bình luận mới của cơ quan xử lý về phản ánh {short_id}."),
    ("report_commented", "inbox", "en"): ("The agency replied", "The agency commented on report {short_id}."),
    ("report_merged", "inbox", "vi"): ("Phản ánh đã được gộp", "Phản ánh {short_id} được gộp vào phản ánh {parent_short_id}; theo dõi tiến độ tại đó."),
    ("report_merged", "inbox", "en"): ("Report merged", "Report {short_id} was merged into report {parent_short_id}; follow progress there."),
    ("agency_new_assignment", "inbox", "vi"): ("Phản ánh mới được giao", "Phản ánh {short_id} được giao cho đơn vị; hạn xử lý {due}."),
    ("agency_new_assignment", "inbox", "en"): ("New report assigned", "Report {short_id} was assigned to your agency; due {due}."),
    ("agency_report_commented", "inbox", "vi"): ("Người dân bình luận", "Người phản ánh đã bình luận về phản ánh {short_id}."),
    ("agency_report_commented", "inbox", "en"): ("Resident commented", "The resident commented on report {short_id}."),
    ("agency_report_reopened", "inbox", "vi"): ("Phản ánh bị mở lại", "Người dân đã mở lại phản ánh {short_id}."),
    ("agency_report_reopened", "inbox", "en"): ("Report reopened", "The resident reopened report {short_id}."),
    ("sla_warning", "inbox", "vi"): ("Sắp quá hạn", "Phản ánh {short_id} sắp quá hạn {deadline} lúc {due}."),
    ("sla_warning", "inbox", "en"): ("Deadline approaching", "Report {short_id} is close to its {deadline} deadline at {due}."),
    ("report_escalated", "inbox", "vi"): ("Phản ánh bị chuyển cấp", "Phản ánh {short_id} quá hạn {deadline} ({due}) và đã được chuyển lên {agency_code}."),
    ("report_escalated", "inbox", "en"): ("Report escalated", "Report {short_id} missed its {deadline} deadline ({due}) and was escalated to {agency_code}."),
    ("otp", "sms", "vi"): ("", "Ma xac thuc Cong dan so cua ban la {code}. Hieu luc 5 phut. Khong chia se ma nay."),
    ("otp", "sms", "en"): ("", "Your Cong dan so code is {code}. Valid for 5 minutes. Do not share it."),
    ("report_assigned", "email", "vi"): ("[Công dân số] Phản ánh {short_id} đã được phân công",
                                         "Xin chào,\n\nPhản ánh {short_id} của bạn được giao cho {agency_name}; hạn xử lý {due}.\n\nCông dân số TP.HCM"),
    ("report_assigned", "email", "en"): ("[Cong dan so] Report {short_id} assigned",
                                         "Hello,\n\nYour report {short_id} was assigned to {agency_name}; due {due}.\n\nCong dan so, Ho Chi Minh City"),
    ("report_assigned", "sms", "vi"): ("", "Cong dan so: phan anh {short_id} da giao cho {agency_name}, han {due}."),
    ("report_assigned", "sms", "en"): ("", "Cong dan so: report {short_id} assigned to {agency_name}, due {due}."),
}


@functools.lru_cache(maxsize=1024)
def placeholders(text: str) -> frozenset[str]:
    """Names used as {placeholders}; raises TemplateInvalid on malformed braces or formats.

    Cached per text: every message renders one of a few dozen template texts.
    """
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateInvalid(f"malformed template: {exc}") from exc
    names = set()
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise TemplateInvalid(f"placeholder {{{name}}} must be a plain name", field="body")
        names.add(name)
    return frozenset(names)


def check_template(message_type: str, channel: str, language: str, subject: str, body: str) -> None:
    """On save: known type/channel/language, non-empty body, only the type's placeholders."""
    if message_type not in MESSAGE_TYPES or channel not in TEMPLATE_CHANNELS:
        raise UnknownMessageType(f"no template slot {message_type}/{channel}")
    if language not in LANGUAGES:
        raise TemplateInvalid("language must be vi or en", field="language")
    if not body.strip() or len(body) > 5000 or len(subject) > 200:
        raise TemplateInvalid("body 1-5000 characters, subject at most 200", field="body")
    if channel == "sms" and subject:
        raise TemplateInvalid("an SMS has no subject", field="subject")
    unknown = (placeholders(subject) | placeholders(body)) - MESSAGE_TYPES[message_type].placeholders
    if unknown:
        raise TemplateInvalid(f"unknown placeholders {sorted(unknown)} for {message_type}", field="body")


def render_text(subject: str, body: str, values: dict[str, str]) -> tuple[str, str]:
    """Fill a template; raises TemplateValuesMissing when any placeholder has no value."""
    given = {k for k, v in values.items() if v not in (None, "")}
    missing = (placeholders(subject) | placeholders(body)) - given
    if missing:
        raise TemplateValuesMissing(f"no values for {sorted(missing)}")
    return subject.format_map(values), body.format_map(values)
