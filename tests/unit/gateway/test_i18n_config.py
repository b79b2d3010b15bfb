"""Accept-Language negotiation and settings from the environment (pure functions, no sockets)."""

from __future__ import annotations

import pytest

from gateway import i18n
from gateway.config import GatewaySettings


@pytest.mark.parametrize(("header", "lang"), [
    (None, "vi"), ("", "vi"), ("*", "vi"), ("fr-FR, de", "vi"),
    ("en", "en"), ("en-US", "en"), ("EN-gb;q=0.5", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("vi;q=0.4, en;q=0.8", "en"), ("en;q=0, vi;q=0.1", "vi"), ("en;q=0", "vi"), ("en;q=bogus, vi", "vi"),
    ("en, vi", "en"),
])
def test_negotiate(header, lang):
    assert i18n.negotiate(header) == lang


def test_every_catalogue_entry_has_both_languages():
    for code, entry in i18n.MESSAGES.items():
        assert set(entry) == set(i18n.SUPPORTED), code
    for status, entry in i18n.GENERIC.items():
        assert set(entry) == set(i18n.SUPPORTED), status


def test_unknown_codes_fall_back_to_the_status_title():
    assert i18n.message("no_such_code", 404, "en") == ("Not found", None)
    assert i18n.message("no_such_code", 418, "vi")[0] == i18n.GENERIC[400]["vi"][0]
    assert i18n.message("no_such_code", 502, "en")[0] == "Internal error"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_HTTP_ADDR", "0.0.0.0:9090")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("REPORTS_GRPC_ADDR", "reports:50052")
    settings = GatewaySettings()
    assert settings.host_port == ("0.0.0.0", 9090)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.reports_grpc_addr == "reports:50052"
    assert (settings.max_json_body, settings.grpc_deadline_s) == (64 * 1024, 5.0)


def test_settings_defaults(monkeypatch):
    for name in ("GATEWAY_HTTP_ADDR", "GATEWAY_CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings()
    assert settings.http_addr == "127.0.0.1:8080" and settings.cors_origins == []


def test_area_catalogues_have_both_languages_and_no_clashes():
    from gateway.messages import area_catalogues

    seen: set[str] = set()
    for area, catalogue in area_catalogues().items():
        assert not seen & set(catalogue), area
        seen |= set(catalogue)
        for code, entry in catalogue.items():
            assert set(entry) == {"vi", "en"} and all(entry[lang][0] for lang in entry), code
            assert code in i18n.MESSAGES
