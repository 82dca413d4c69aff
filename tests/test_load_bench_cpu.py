"""The load test's CPU accounting (bench/load_bench.py): where the machine's time went."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench import load_bench

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

BUSY = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\n"


def test_the_server_group_and_the_waited_child_are_counted_apart():
    server = subprocess.Popen(
        [sys.executable, "-c", BUSY + "time.sleep(5)"], start_new_session=True
    )
    try:
        with load_bench._CpuMeter(server.pid, "no_such_database") as meter:
            subprocess.run([sys.executable, "-c", BUSY], check=True)  # plays locust
    finally:
        server.kill()
        server.wait()
    assert 0.4 < meter.seconds["locust"] < 3
    assert meter.seconds["server"] < 1.5  # what it burnt since the meter started, not before
    assert meter.seconds["postgres"] == 0


def test_cpu_per_request_in_the_report():
    result = {
        "pages": [{"name": "all", "requests": 500}],
        "cpu_seconds": {"server": 10.0, "postgres": 2.5, "locust": 1.0},
    }
    assert load_bench._cpu_per_request(result) == {"server": 20.0, "postgres": 5.0, "locust": 2.0}
    assert load_bench._cpu_cells(result) == "20.0 | 5.0 | 2.0"
    assert "gunicorn 20.0 ms, PostgreSQL 5.0 ms, locust 2.0 ms" in load_bench._cpu_line(result)
    assert load_bench._cpu_cells({"pages": [{"name": "all", "requests": 5}]}) == "– | – | –"
