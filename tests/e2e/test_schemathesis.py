"""Schemathesis against /openapi.json of the whole running system: a bounded number of generated requests
per operation (signed in as the operator) must produce no 5xx and no response that breaks its schema.

Deterministic generation and no shrinking keep the run reproducible and short (~700 requests, 20-60 s
here); the subprocess timeout is the hard bound (`--max-time` would make fuzzing repeat until spent).
Four workers: more would queue password hashing in identity past the gateway's deadline (504) on a busy
machine."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import OPERATOR

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

MAX_EXAMPLES = 10
# The event stream never ends and logout would end the session the run uses.
EXCLUDED = r"^/api/v1/(events|auth/logout)$"


def command(base_url: str, token: str) -> list[str]:
    """The `st run` command line (printed in the failure message so it can be rerun by hand)."""
    return [str(Path(sys.executable).parent / "st"), "run", f"{base_url}/openapi.json",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--phases", "examples,fuzzing", "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
            "--no-shrink", "--workers", "4", "--request-timeout", "10",
            "--exclude-path-regex", EXCLUDED, "--header", f"Authorization: Bearer {token}",
            "--no-color", "--warnings", "off"]


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(system, tmp_path):
    token = (await system.token(OPERATOR))["Authorization"].split()[1]
    cmd = command(str(system.http.base_url).rstrip("/"), token)
    done = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=100, cwd=tmp_path)
    shown = " ".join(cmd).replace(token, "$TOKEN")
    assert done.returncode == 0, f"{shown}\n\n{done.stdout[-20000:]}\n{done.stderr[-3000:]}"
