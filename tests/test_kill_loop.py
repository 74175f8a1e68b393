"""A small kill loop: SIGKILL a training run at random moments, resume, and check it ends whole."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kill_loop.py"


@pytest.mark.slow
def test_a_run_killed_three_times_ends_complete(tmp_path):
    report = tmp_path / "kill_loop.json"
    work = str(tmp_path / "work")
    args = [sys.executable, str(SCRIPT), "--kills", "3", "--label-steps", "100",
            "--image-steps", "15", "--work", work, "--json", str(report)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    result = json.loads(report.read_text())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert result["ok"] and result["folder"]["exact_steps"]
    assert result["folder"]["temp_files"] == [] and result["folder"]["unreadable"] == []
    assert sum(kill["outcome"] == "killed" for kill in result["kills"]) >= 2
