"""logs.analyze over real SSH: the analyzer runs on the lab host, only results travel."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.analysis import analyze_paths

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def _run(playbook: Path, inventory: Path, runs: Path, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "runbook", "run", str(playbook), "-i", str(inventory),
                           "--runs-dir", str(runs), "--json", "--yes", *extra],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    # "stderr" is what a failed assertion shows: give it the results too
    return {"code": proc.returncode, "doc": json.loads(proc.stdout) if proc.stdout.strip() else None,
            "stderr": proc.stderr + proc.stdout}


@pytest.fixture
def web_logs(lab, tmp_path: Path) -> Path:
    """web1's nginx logs: real nginx output (fixtures), plus a rotated, gzipped older file."""
    root = Path(lab.hosts["web1"].root) / "srv-analyze"
    logs = root / "var" / "log" / "nginx"
    logs.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "nginx-access-combined.log", logs / "access.log")
    shutil.copy(FIXTURES / "nginx-error.log", logs / "error.log")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _playbook(tmp_path: Path, *steps: str) -> Path:
    path = tmp_path / "analyze.yml"
    path.write_text("name: analyse\ntargets: [web1]\nsteps:\n" + "".join(steps))
    return path


ANALYZE = ("  - name: analyse\n    action: logs.analyze\n"
           "    params: {sets: [nginx-access, nginx-error]}\n")
ARCHIVE = ("  - name: secure\n    action: logs.archive\n"
           "    params: {sets: [nginx-access, nginx-error]}\n")


def test_remote_analysis_equals_local_and_only_results_travel(lab, lab_inventory, web_logs, tmp_path):
    result = _run(_playbook(tmp_path, ANALYZE), lab_inventory, tmp_path / "runs", "-e", f"log_root={web_logs}")
    assert result["code"] == 0, result["stderr"]
    data = result["doc"]["results"][0]["data"]
    assert data["mode"] == "remote"
    remote = {Path(s["name"]).name: s for s in data["analysis"]["sets"]}
    logs = web_logs / "var" / "log" / "nginx"
    for name in ("access.log", "error.log"):
        fmt = "nginx-access" if name == "access.log" else "nginx-error"
        local = json.loads(analyze_paths([str(logs / name)], fmt=fmt).to_json())["sets"][0]
        assert remote[name] == local, f"remote and local analysis of {name} differ"
    access = remote["access.log"]["access"]
    # what a person reads off the real nginx log: 22 requests, 8 of them 5xx
    assert access["requests"] == 22 and access["status_classes"]["5xx"] == 8
    assert data["bytes_received"] > 0 and data["bytes_read"] >= (logs / "access.log").stat().st_size


def test_without_python_the_archived_copy_is_analysed_locally(lab, lab_inventory, web_logs, tmp_path):
    playbook = _playbook(tmp_path, ARCHIVE, ANALYZE)
    result = _run(playbook, lab_inventory, tmp_path / "runs", "-e", f"log_root={web_logs}",
                  "-e", "analysis_python=/nonexistent/python3")
    assert result["code"] == 0, result["stderr"]
    analysed = result["doc"]["results"][-1]
    assert analysed["data"]["mode"].startswith("local from archive")
    assert "[local from archive" in analysed["message"]
    sets = {Path(s["name"]).name: s for s in analysed["data"]["analysis"]["sets"]}
    assert sets["access.log"]["access"]["requests"] == 22


def test_without_python_and_without_archive_the_step_fails_and_says_why(lab, lab_inventory, web_logs, tmp_path):
    result = _run(_playbook(tmp_path, ANALYZE), lab_inventory, tmp_path / "runs", "-e", f"log_root={web_logs}",
                  "-e", "analysis_python=/nonexistent/python3")
    assert result["code"] == 4
    message = result["doc"]["results"][0]["message"]
    assert "no python3" in message and "logs.archive" in message


def _cli_analyze(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "runbook", "logs", "analyze", *args],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    return proc


def _comparable(log_set: dict) -> dict:
    """A set's results without where the files lay (the archive is unpacked elsewhere)."""
    return {k: v for k, v in log_set.items() if k not in ("name", "files")}


def test_logs_analyze_reads_an_archive_made_by_logs_archive(lab, lab_inventory, web_logs, tmp_path):
    result = _run(_playbook(tmp_path, ARCHIVE), lab_inventory, tmp_path / "runs", "-e", f"log_root={web_logs}")
    assert result["code"] == 0, result["stderr"]
    (archive,) = (tmp_path / "runs").glob("*/artifacts/web1/logs-*.tar.gz")
    proc = _cli_analyze(str(archive), "--json")
    assert proc.returncode == 0, proc.stderr
    from_archive = {Path(s["name"]).name: s for s in json.loads(proc.stdout)["sets"]}
    logs = web_logs / "var" / "log" / "nginx"
    for name in ("access.log", "error.log"):
        original = json.loads(analyze_paths([str(logs / name)]).to_json())["sets"][0]
        assert _comparable(from_archive[name]) == _comparable(original)
    assert from_archive["access.log"]["access"]["status_classes"]["5xx"] == 8


def test_logs_analyze_cli_reports_a_broken_gzip_and_fails_only_when_nothing_was_read(tmp_path):
    text = (FIXTURES / "nginx-access-combined.log").read_bytes()
    packed = gzip.compress(text)
    (tmp_path / "access.log.1.gz").write_bytes(packed[:-9])
    (tmp_path / "access.log").write_bytes(text)
    proc = _cli_analyze(str(tmp_path / "access.log"), str(tmp_path / "access.log.1.gz"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "access.log.1.gz: read 22 lines, then stopped: gzip data ends early" in proc.stderr
    assert json.loads(proc.stdout)["sets"][0]["access"]["requests"] == 44

    (tmp_path / "junk.log.gz").write_bytes(packed[:10] + bytes(range(256)) * 4)
    proc = _cli_analyze(str(tmp_path / "junk.log.gz"))
    assert proc.returncode == 4
    assert "corrupt gzip data" in proc.stderr + proc.stdout and "nothing could be read" in proc.stderr


def test_a_cut_off_rotated_gzip_is_analysed_up_to_the_break_on_the_host(lab, lab_inventory, web_logs, tmp_path):
    logs = web_logs / "var" / "log" / "nginx"
    text = (FIXTURES / "nginx-access-combined.log").read_bytes()
    (logs / "access.log.1.gz").write_bytes(gzip.compress(text)[:-9])  # logrotate caught mid-compress
    try:
        result = _run(_playbook(tmp_path, ANALYZE), lab_inventory, tmp_path / "runs", "-e", f"log_root={web_logs}")
    finally:
        (logs / "access.log.1.gz").unlink()
    assert result["code"] == 0, result["stderr"]
    step = result["doc"]["results"][0]
    assert step["data"]["mode"] == "remote"
    assert "note: " in step["message"] and "access.log.1.gz: read 22 lines, then stopped: gzip data ends early" in step["message"]
    access = {Path(s["name"]).name: s for s in step["data"]["analysis"]["sets"]}["access.log"]
    assert access["access"]["requests"] == 44  # 22 before the break + 22 in access.log
