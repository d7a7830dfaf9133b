import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tuner.reports.html import render_report
from tuner.reports.ranking import rank
from tuner.reports.records import load_run
from tuner.reports.writer import write_reports
from tuner.testing.rundirs import FakeTrial, choice, digits_space, random_trials, write_run

HOSTILE = "<script>alert(1)</script>"
INJECTED = "<img src=x onerror=\"document.title='pwned'\">"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/install-browser installs it)"
)


def _hostile_run(tmp_path: Path, name: str = HOSTILE) -> Path:
    space = [*digits_space(), choice("activation", ["relu", HOSTILE, INJECTED])]
    trials = random_trials(9, restarts=2, space=space)
    trials[0].values["activation"] = HOSTILE
    trials[1].values["activation"] = INJECTED
    failed = FakeTrial(values=dict(trials[2].values), status="FAILED", message=f"ValueError: {INJECTED}")
    return write_run(tmp_path / "run", [*trials, failed], name=name, space=space, restarts=2)


def test_hostile_run_name_and_hyperparameter_values_are_escaped(tmp_path: Path):
    run = load_run(_hostile_run(tmp_path))
    html = render_report(run, rank(run.trials))
    assert HOSTILE not in html and INJECTED not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    # The report's own script is the only one.
    assert html.count("<script") == 1
    assert "<img" not in html


def test_report_is_self_contained(tmp_path: Path):
    run = load_run(_hostile_run(tmp_path, name="plain"))
    html = render_report(run, rank(run.trials))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert html.count("<tr class=") == 10
    assert "ValueError: &lt;img" in html


def test_a_run_without_trials_still_renders(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", [])
    write_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert "none yet" in html and html.count("<tr class=") == 0


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@needs_chromium
def test_browser_loads_the_report_without_errors_and_shows_the_trials(tmp_path: Path):
    run_dir = _hostile_run(tmp_path)
    write_reports(run_dir)
    url = (run_dir / "report.html").as_uri() + "#sort=trial:desc"
    result = _chromium(tmp_path, "--dump-dom", url)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert not re.search(r"Uncaught|CONSOLE.*[Ee]rror", result.stderr), result.stderr[-2000:]
    # The inline script ran to its end and sorted the table as the link asked.
    assert 'data-ready="yes"' in dom
    body = dom.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr") == 10
    trials = re.findall(r"<tr[^>]*>\s*<td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>", body)
    assert trials == sorted(trials, reverse=True)
    assert "pwned" not in dom.split("<body")[0] and "<img" not in dom


@pytest.mark.slow
@needs_chromium
def test_browser_screenshot_of_the_report(tmp_path: Path):
    run_dir = write_run(tmp_path / "run", random_trials(20, restarts=2), restarts=2)
    write_reports(run_dir)
    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, "--window-size=1280,3000", f"--screenshot={shot}", (run_dir / "report.html").as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    # A blank page of this size compresses to a few kilobytes; tables and plots make it far larger.
    assert len(data) > 100_000
