"""schemathesis against our own /openapi: thousands of generated requests, never a 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def test_no_request_built_from_the_openapi_document_gets_a_server_error(portal, tmp_path):
    cli = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    result = subprocess.run(
        [cli, "run", f"{portal.url}/openapi?f=json", "--checks", "not_a_server_error",
         "--max-examples", "20", "--workers", "1", "--phases", "coverage,fuzzing",
         "--request-timeout", "30", "--seed", "20261123"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    tail = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, tail
    assert "passed" in tail
