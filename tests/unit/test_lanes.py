"""The test lanes (tests/conftest.py ``pytest_collection_modifyitems``): what ``-m`` selects
from real test modules, collected by a real pytest in a subprocess (nothing runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

PATHS = ("tests/integration/test_coverages.py", "tests/integration/test_tiles.py",
         "tests/integration/test_health.py", "tests/clients/test_owslib.py",
         "tests/browser/test_pages.py", "tests/unit/test_review_fixes.py",
         "tests/unit/test_cql2_text.py", "tests/cli/test_cli.py", "tests/cluster")
# a plugin that prints the lanes of every collected test as one JSON line
SCRIPT = """
import json, sys, pytest
class Lanes:
    def pytest_collection_finish(self, session):
        lanes = {item.nodeid.split("[")[0]: sorted({m.name for m in item.iter_markers()}
                 & {"integration", "client", "cluster"}) for item in session.items}
        print("LANES " + json.dumps(lanes))
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]],
                     plugins=[Lanes()]))
"""


@pytest.fixture(scope="module")
def lanes() -> dict[str, set[str]]:
    """Each test function of PATHS (parameters left out) and its lane markers."""
    result = subprocess.run([sys.executable, "-c", SCRIPT, *PATHS], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("LANES "))
    return {name: set(marks) for name, marks in json.loads(line[6:]).items()}


def _in(lanes: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    return {name: marks for name, marks in lanes.items() if name.startswith(prefix)}


def test_a_test_that_drives_owslib_or_a_gdal_program_is_in_the_client_lane(lanes) -> None:
    coverages = "tests/integration/test_coverages.py::"
    assert "client" in lanes[coverages + "test_gdal_reads_a_coverage_url"]  # require_tool
    assert "client" in lanes[coverages + "test_owslib_lists_both_rasters_and_reads_a_subset_"
                                         "equal_to_the_source"]  # module-level import
    assert "client" in lanes["tests/integration/test_tiles.py::"  # imported in the test
                             "test_owslib_follows_the_links_to_a_vector_and_a_map_tile"]
    assert lanes[coverages + "test_revalidation_gets_a_304"] == {"integration"}  # requests
    assert all("client" in marks for marks in _in(lanes, "tests/clients/").values())
    assert all("client" in marks for marks in _in(lanes, "tests/browser/").values())


def test_every_test_under_integration_clients_and_browser_is_integration(lanes) -> None:
    for folder in ("tests/integration/", "tests/clients/", "tests/browser/"):
        found = _in(lanes, folder)
        assert found and all("integration" in marks for marks in found.values()), folder


def test_the_unit_lane_leaves_out_only_unit_tests_that_start_a_server(lanes) -> None:
    assert lanes["tests/unit/test_review_fixes.py::test_an_upload_refuses_split_geometry"] \
        == {"integration"}  # the portal fixture: a real server
    unmarked = {name for name, marks in lanes.items() if not marks}
    assert len(_in(lanes, "tests/unit/test_review_fixes.py::")) - 1 == \
        len({name for name in unmarked if name.startswith("tests/unit/test_review_fixes.py")})
    assert all(not marks for marks in _in(lanes, "tests/unit/test_cql2_text.py").values())
    assert len({name for name in unmarked if name.startswith("tests/cli/test_cli.py::")}) > 10


def test_the_cluster_lane_is_tests_cluster_alone(lanes) -> None:
    cluster = {name for name, marks in lanes.items() if "cluster" in marks}
    assert cluster and cluster == set(_in(lanes, "tests/cluster/"))
