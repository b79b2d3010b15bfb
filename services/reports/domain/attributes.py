"""Categories' typed extra fields (the Open311 GeoReport v2 attribute model), without I/O."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from servicekit.errors import InvalidArgument

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ATTRIBUTES, MAX_VALUES, MAX_STRING, MAX_TEXT = 20, 50, 200, 2000


def _bad(message: str, field: str) -> InvalidArgument:
    return InvalidArgument(message, code="invalid_attribute", field=field)


def check_definition(attrs: list[dict]) -> list[dict]:
    """Validate and normalise a category's attribute definitions (operator input)."""
    if len(attrs) > MAX_ATTRIBUTES:
        raise _bad(f"at most {MAX_ATTRIBUTES} attributes", "attributes")
    seen: set[str] = set()
    out = []
    for i, a in enumerate(attrs):
        where = f"attributes[{i}]"
        if not CODE.match(a.get("code", "")) or a["code"] in seen:
            raise _bad("attribute codes are unique lower-case identifiers", f"{where}.code")
        if a.get("datatype") not in DATATYPES:
            raise _bad(f"datatype must be one of {', '.join(DATATYPES)}", f"{where}.datatype")
        values = a.get("values") or []
        if (a["datatype"] in LIST_TYPES) != bool(values) or len(values) > MAX_VALUES:
            raise _bad("list types need 1..50 values; other types none", f"{where}.values")
        keys = [v.get("key", "") for v in values]
        if len(set(keys)) != len(keys) or not all(CODE.match(k) or k.isdigit() for k in keys):
            raise _bad("value keys are unique identifiers", f"{where}.values")
        seen.add(a["code"])
        out.append({"code": a["code"], "datatype": a["datatype"], "required": bool(a.get("required")),
                    "order": int(a.get("order") or i + 1), "variable": a.get("variable", True) is not False,
                    "description_vi": _nfc(a.get("description_vi", "")), "description_en": _nfc(a.get("description_en", "")),
                    "values": [{"key": v["key"], "name_vi": _nfc(v.get("name_vi", "")),
                                "name_en": _nfc(v.get("name_en", ""))} for v in values]})
    return sorted(out, key=lambda a: (a["order"], a["code"]))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", (text or "").strip())


def check_values(definition: list[dict], values: dict[str, str]) -> dict[str, str]:
    """Validate a report's attribute values against its category's definition."""
    known = {a["code"]: a for a in definition if a.get("variable", True)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise _bad(f"unknown attributes: {', '.join(unknown)}", f"attributes.{unknown[0]}")
    out: dict[str, str] = {}
    for code, a in known.items():
        raw = _nfc(values.get(code, ""))
        if not raw:
            if a["required"]:
                raise InvalidArgument(f"attribute {code} is required", code="attribute_required",
                                      field=f"attributes.{code}")
            continue
        out[code] = _check_one(a, raw, f"attributes.{code}")
    return out


def _check_one(a: dict, raw: str, field: str) -> str:
    """One value of the attribute's datatype (lists hold value keys)."""
    kind, keys = a["datatype"], {v["key"] for v in a["values"]}
    if kind == "number":
        try:
            float(raw)
        except ValueError as exc:
            raise _bad("not a number", field) from exc
    elif kind == "datetime":
        try:
            datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise _bad("not an ISO 8601 date-time", field) from exc
    elif kind == "singlevaluelist" and raw not in keys:
        raise _bad("not one of the listed values", field)
    elif kind == "multivaluelist":
        chosen = [k.strip() for k in raw.split(",") if k.strip()]
        if not chosen or not set(chosen) <= keys:
            raise _bad("not among the listed values", field)
        raw = ",".join(dict.fromkeys(chosen))
    elif len(raw) > (MAX_TEXT if kind == "text" else MAX_STRING):
        raise _bad("too long", field)
    return raw
