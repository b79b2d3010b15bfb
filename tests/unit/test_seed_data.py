"""Consistency checks for the reports and routing seed data."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from services.reports import seed_data as reports_seed
from services.routing import seed_data as routing_seed

KINDS = {"incident", "feedback", "proposal"}
AGENCY_KINDS = {"ward_committee", "department", "utility", "police", "operations_centre"}
CALENDARS = {"working", "calendar"}


def _nfc(s: str) -> bool:
    return isinstance(s, str) and s.strip() != "" and unicodedata.is_normalized("NFC", s)


def _categories_by_code() -> dict[str, dict]:
    return {c["code"]: c for c in reports_seed.CATEGORIES}


# --- wards -------------------------------------------------------------------


def test_hcmc_wards_counts_and_codes():
    wards = reports_seed.hcmc_wards()
    assert len(wards) == 168
    counts = Counter(w["division_type"] for w in wards)
    assert counts == {"phường": 113, "xã": 54, "đặc khu": 1}
    codes = [w["code"] for w in wards]
    assert len(set(codes)) == 168
    assert all(re.fullmatch(r"\d{5}", c) for c in codes)
    assert codes == sorted(codes)
    assert all(set(w) == {"code", "name", "division_type"} for w in wards)
    assert all(_nfc(w["name"]) for w in wards)
    by_code = {w["code"]: w for w in wards}
    assert by_code["25747"]["name"] == "Phường Thủ Dầu Một"


# --- categories --------------------------------------------------------------


def test_categories_shape_and_text():
    cats = reports_seed.CATEGORIES
    assert 30 <= len(cats) <= 45
    keys = {"code", "name_vi", "name_en", "kind", "group", "photo_required", "urgent"}
    for c in cats:
        assert set(c) == keys, c
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", c["code"]), c["code"]
        assert _nfc(c["name_vi"]), c
        assert _nfc(c["name_en"]), c
        assert c["kind"] in KINDS, c
        assert c["group"] in reports_seed.GROUPS, c
        assert isinstance(c["photo_required"], bool)
        assert isinstance(c["urgent"], bool)


def test_category_codes_unique():
    codes = [c["code"] for c in reports_seed.CATEGORIES]
    assert len(codes) == len(set(codes))


def test_every_group_used_and_named():
    used = {c["group"] for c in reports_seed.CATEGORIES}
    assert used == set(reports_seed.GROUPS)
    for code, (vi, en) in reports_seed.GROUPS.items():
        assert re.fullmatch(r"[a-z_]+", code)
        assert _nfc(vi) and _nfc(en)


def test_feedback_and_proposal_groups_match_kind():
    for c in reports_seed.CATEGORIES:
        if c["group"] in ("feedback", "proposal"):
            assert c["kind"] == c["group"], c
            assert c["photo_required"] is False and c["urgent"] is False, c
        else:
            assert c["kind"] == "incident", c
    kinds = Counter(c["kind"] for c in reports_seed.CATEGORIES)
    assert kinds["feedback"] >= 3 and kinds["proposal"] >= 3


def test_urgent_categories():
    urgent = {c["code"] for c in reports_seed.CATEGORIES if c["urgent"]}
    assert {"flooding", "fallen_tree", "live_wire_hazard"} <= urgent


# --- agencies ----------------------------------------------------------------


def test_agencies_codes_and_parents():
    agencies = routing_seed.build_agencies()
    assert agencies == routing_seed.AGENCIES
    codes = [a["code"] for a in agencies]
    assert len(codes) == len(set(codes))
    by_code = {a["code"]: a for a in agencies}
    keys = {"code", "name_vi", "name_en", "kind", "parent_code", "ward_code"}
    for a in agencies:
        assert set(a) == keys, a
        assert a["kind"] in AGENCY_KINDS, a
        assert _nfc(a["name_vi"]) and _nfc(a["name_en"]), a
        assert a["parent_code"] is None or a["parent_code"] in by_code, a
    assert "ioc" in by_code
    assert by_code["ioc"]["parent_code"] is None
    assert by_code["ioc"]["kind"] == "operations_centre"
    roots = [a for a in agencies if a["parent_code"] is None]
    assert [a["code"] for a in roots] == ["ioc"]
    for code in ("so_xd", "so_nnmt", "so_yt", "so_gddt", "so_vhtt", "evnhcmc", "sawaco",
                 "chieusang", "thoatnuoc", "ctmt", "ca_tphcm"):
        assert by_code[code]["parent_code"] == "ioc"


def test_ward_committees():
    wards = {w["code"]: w for w in reports_seed.hcmc_wards()}
    committees = [a for a in routing_seed.AGENCIES if a["kind"] == "ward_committee"]
    assert len(committees) == 168
    assert {a["ward_code"] for a in committees} == set(wards)
    for a in committees:
        w = wards[a["ward_code"]]
        assert a["code"] == f"ubnd_{a['ward_code']}"
        assert a["name_vi"] == f"UBND {w['name']}"
        assert a["parent_code"] == "ioc"
        assert a["name_en"].isascii(), a
        assert a["name_en"].startswith("People's Committee of ")
    others = [a for a in routing_seed.AGENCIES if a["kind"] != "ward_committee"]
    assert all(a["ward_code"] is None for a in others)
    by_ward = {a["ward_code"]: a for a in committees}
    assert by_ward["25747"]["name_en"] == "People's Committee of Thu Dau Mot Ward"
    special = [w for w in wards.values() if w["division_type"] == "đặc khu"]
    assert by_ward[special[0]["code"]]["name_en"] == "People's Committee of Con Dao Special Zone"


def test_strip_accents():
    assert routing_seed.strip_accents("Đặc khu Côn Đảo") == "Dac khu Con Dao"
    assert routing_seed.strip_accents("Phường Đông Hưng Thuận") == "Phuong Dong Hung Thuan"
    assert routing_seed.strip_accents("đường Nguyễn Huệ") == "duong Nguyen Hue"


# --- rules -------------------------------------------------------------------


def test_rules_reference_existing_things():
    agency_codes = {a["code"] for a in routing_seed.AGENCIES}
    cats = _categories_by_code()
    ward_codes = {w["code"] for w in reports_seed.hcmc_wards()}
    keys = {"id", "kind", "category_code", "category_group", "ward_codes", "agency_code", "priority"}
    ids = [r["id"] for r in routing_seed.RULES]
    assert len(ids) == len(set(ids))
    for r in routing_seed.RULES:
        assert set(r) == keys, r
        assert r["agency_code"] in agency_codes or r["agency_code"] == "@ward", r
        assert r["kind"] is None or r["kind"] in KINDS, r
        assert isinstance(r["priority"], int), r
        if r["category_code"] is not None:
            assert r["category_code"] in cats, r
            cat = cats[r["category_code"]]
            assert r["kind"] is None or r["kind"] == cat["kind"], r
            assert r["category_group"] is None or r["category_group"] == cat["group"], r
        if r["category_group"] is not None:
            assert r["category_group"] in reports_seed.GROUPS, r
        if r["ward_codes"] is not None:
            assert r["ward_codes"], r
            assert set(r["ward_codes"]) <= ward_codes, r


def test_rules_catch_all_exists():
    catch_all = [
        r for r in routing_seed.RULES
        if r["kind"] is None and r["category_code"] is None and r["category_group"] is None
        and r["ward_codes"] is None
    ]
    assert len(catch_all) == 1
    assert catch_all[0]["id"] == "r-fallback"
    assert catch_all[0]["agency_code"] == "ioc"
    assert catch_all[0]["priority"] == 0


def test_rules_no_duplicates():
    seen = set()
    for r in routing_seed.RULES:
        key = (
            r["kind"],
            r["category_code"],
            r["category_group"],
            None if r["ward_codes"] is None else frozenset(r["ward_codes"]),
            r["priority"],
        )
        assert key not in seen, r
        seen.add(key)


def test_every_incident_group_has_city_wide_rule():
    incident_groups = {c["group"] for c in reports_seed.CATEGORIES if c["kind"] == "incident"}
    city_groups = {
        r["category_group"] for r in routing_seed.RULES
        if r["category_group"] is not None and r["ward_codes"] is None and r["category_code"] is None
    }
    assert incident_groups <= city_groups
    city_kinds = {
        r["kind"] for r in routing_seed.RULES
        if r["category_code"] is None and r["category_group"] is None and r["ward_codes"] is None
        and r["kind"] is not None
    }
    assert {"feedback", "proposal"} <= city_kinds


# --- SLAs --------------------------------------------------------------------


def _check_sla(sla: dict) -> None:
    assert set(sla) == {"ack_hours", "resolve_hours", "calendar"}, sla
    assert sla["calendar"] in CALENDARS, sla
    assert isinstance(sla["ack_hours"], float) and isinstance(sla["resolve_hours"], float)
    assert 0 < sla["ack_hours"] < sla["resolve_hours"], sla


def test_every_group_has_sla():
    assert set(reports_seed.GROUPS) <= set(routing_seed.SLAS)
    assert set(routing_seed.SLAS) <= set(reports_seed.GROUPS)
    for sla in routing_seed.SLAS.values():
        _check_sla(sla)


def test_sla_overrides_reference_categories():
    cats = _categories_by_code()
    for code, sla in routing_seed.SLA_OVERRIDES.items():
        assert code in cats, code
        _check_sla(sla)
    for c in reports_seed.CATEGORIES:
        if c["urgent"]:
            sla = routing_seed.SLA_OVERRIDES[c["code"]]
            assert sla["calendar"] == "calendar", c
            assert sla["ack_hours"] <= 1, c
