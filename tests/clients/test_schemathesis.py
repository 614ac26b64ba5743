"""schemathesis against our own /openapi: thousands of generated requests, never a 5xx, and
every answer as the document says (its status, its Content-Type, its JSON schema).

One run per store checks all four; the tests read its report. Its cost: about 25-40 s per
store on 2 cores (20 examples per operation, the coverage and fuzzing phases, one worker).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
# the failure kinds schemathesis prints ("- ST101 Server error"), by code
_FAILURE = re.compile(r"^- (ST\d+) (.+)$", re.MULTILINE)
SERVER_ERROR = "ST101"
CLIENT = "192.0.2.20"  # TEST-NET-1 (RFC 5737)


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str

    @property
    def failures(self) -> list[tuple[str, str]]:
        """(code, title) of every failure found, as printed."""
        return _FAILURE.findall(self.output)

    @property
    def tail(self) -> str:
        return "\n".join(self.output.splitlines()[-60:])


@pytest.fixture(scope="module")
def run(portal, tmp_path_factory) -> Run:
    """One schemathesis run of the four checks against ``portal`` (both stores)."""
    cli = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    result = subprocess.run(
        [cli, "run", f"{portal.url}/openapi?f=json", "--checks", ",".join(CHECKS),
         "--max-examples", "20", "--workers", "1", "--phases", "coverage,fuzzing",
         "--request-timeout", "30", "--seed", "20261123", "--continue-on-failure",
         # a client of its own for the rate limits (the portal believes X-Forwarded-For from
         # 127.0.0.1): its heavy requests, far over the limit, leave the budget of the other
         # tests that share this portal untouched
         "--header", f"X-Forwarded-For: {CLIENT}"],
        capture_output=True, text=True, timeout=600,
        cwd=tmp_path_factory.mktemp("schemathesis"))
    return Run(result.returncode, result.stdout + result.stderr)


def test_no_request_built_from_the_openapi_document_gets_a_server_error(run):
    assert "generated" in run.tail, run.tail  # it ran: test cases were generated
    assert not [f for f in run.failures if f[0] == SERVER_ERROR], run.tail


def test_every_answer_has_a_documented_status_content_type_and_schema(run):
    assert run.returncode == 0 and not run.failures, run.tail
    assert "passed" in run.tail
