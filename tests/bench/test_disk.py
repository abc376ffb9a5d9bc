"""The benchmarks' disk check (bench/disk.py): a run the disk cannot hold is refused before it starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import namedtuple

import pytest

from bench import disk
from core.errors import UserError
from core.settings import PROJECT_ROOT

Usage = namedtuple("Usage", "total used free")


def test_the_need_grows_with_the_requests_and_stops_growing_with_the_addresses():
    assert disk.bytes_needed(1_000_000) > disk.bytes_needed(100_000) > disk.SLACK_BYTES
    assert disk.bytes_needed(10_000_000) - disk.bytes_needed(1_000_000) == 9_000_000 * (
        disk.CSV_BYTES_PER_REQUEST + disk.STORED_BYTES_PER_REQUEST + disk.STAGING_BYTES_PER_REQUEST
    )  # a million addresses at most, whatever the requests


def test_a_run_the_disk_cannot_hold_is_refused_with_what_fits(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(100_000_000_000, 80_000_000_000, 20_000_000_000))
    with pytest.raises(
        UserError, match=r"10,000,000 requests needs about \d+ GB .* 20 GB free.*--total 2,\d00,000 fits"
    ):
        disk.check_disk(10_000_000, tmp_path / "not" / "made" / "yet")
    assert disk.check_disk(1_000_000, tmp_path).enough


def test_the_command_says_so_before_it_starts():
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--total", "2000000000", "reports"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "bench.run: A benchmark of 2,000,000,000 requests needs about" in done.stderr
    assert "Traceback" not in done.stderr
