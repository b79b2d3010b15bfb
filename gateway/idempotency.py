"""The `Idempotency-Key` request header of creating POSTs, forwarded to the services as gRPC metadata.

The services remember each (caller, key, method) for 24 hours (servicekit.idempotency): a retry with
the same key and body gets the first answer again, another body under the same key a 409
`idempotency_key_reused`, a retry while the first request still runs a 409 `idempotency_key_in_progress`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from gateway.errors import Problem

KEY_PATTERN = r"^[\x21-\x7e]+$"

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=128, pattern=KEY_PATTERN,
    description="1-128 printable ASCII characters (a UUID is a good choice). A retry with the same key and "
                "body within 24 hours returns the first response again without a second effect.")]

CONFLICTS = "idempotency_key_reused, idempotency_key_in_progress"


def with_conflicts(responses: dict[int | str, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI `responses` plus the two idempotency 409s (merged into its own 409, if any)."""
    out = dict(responses or {})
    own = out.get(409, {}).get("description")
    out[409] = {"model": Problem, "description": f"{own}, {CONFLICTS}" if own else CONFLICTS}
    return out
