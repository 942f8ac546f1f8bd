"""MarkerTruth gives, for every extra, what evaluating the marker with that extra gives."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from resolve.candidates.marker_truth import MarkerTruth
from resolve.targets.environment import TargetEnvironment

MARKERS = [
    'extra == "aws"',
    'extra != "aws"',
    'python_version >= "3.9" and extra == "aws"',
    'extra == "aws" or extra == "gcp"',
    '(extra == "aws" or extra == "Google.Cloud") and sys_platform == "linux"',
    'sys_platform == "win32" and extra == "aws"',
    'python_version < "3.10" or extra == "all"',
    '"aws" == extra',
    'extra == "extra"',
    '"aw" in extra',
    'extra in "aws gcp"',
    'sys_platform == "linux"',
    'python_version >= "3.13"',
]
EXTRAS = ["", "aws", "gcp", "google-cloud", "all", "extra", "aw", "other", "awsx", "a"]


@pytest.mark.parametrize("marker", MARKERS)
def test_every_extra_gets_the_value_evaluation_gives(marker: str) -> None:
    environment = TargetEnvironment.create("3.12", "x86_64-manylinux_2_28").markers
    truth = MarkerTruth(environment)
    text = str(Marker(marker))
    for extra in EXTRAS:
        expected = Marker(marker).evaluate({**environment, "extra": extra})
        assert truth.holds(text, extra) is expected, (marker, extra)
    assert truth.holds(None, "aws") is True
