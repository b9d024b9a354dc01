"""Markup from customers' servers (log lines, check messages, mount points, command output,
step names, the incident summary) appears as text in every report, never as markup, and a
real browser runs none of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from runbook.reports import Report, render_daily, render_immediate, render_next_day, report_title
from tests.reports.journals import SCRIPT, Scenario
from tests.support.chromium import CSP, chromium_dom, title_of


def html_reports(report: Report, scenario: Scenario) -> dict[str, str]:
    from datetime import date

    return {
        "immediate-de": render_immediate(report, "de", "html"),
        "immediate-en": render_immediate(report, "en", "html"),
        "next-day-de": render_next_day(report, "de", "html"),
        "next-day-en": render_next_day(report, "en", "html"),
        "next-day-internal-de": render_next_day(report, "de", "html", audience="internal"),
        "daily-de": render_daily(scenario.run_dirs, date(2026, 11, 25), "de", "html"),
    }


def test_hostile_text_is_escaped_in_every_html_report(hostile_report: Report, hostile: Scenario) -> None:
    for name, html in html_reports(hostile_report, hostile).items():
        lowered = html.lower()
        assert "<script" not in lowered, name
        assert "<img" not in lowered, name
        assert "<b>now</b>" not in html, name
        if name.startswith("next-day"):
            assert "/var/&lt;script&gt;alert(1)&lt;/script&gt;" in html, name     # the mount, as text
        if name.startswith("next-day-internal"):
            assert "&lt;script&gt;document.title=&#39;PWNED&#39;" in html, name   # the log line, as text
            assert "&#34;&gt;&lt;img src=x onerror=" in html, name
            assert "Restart php-fpm &lt;b&gt;now&lt;/b&gt;" in html, name
        if name.startswith(("immediate", "next-day")):
            assert "Shop down &lt;script&gt;alert(1)&lt;/script&gt;" in html, name


def test_chart_labels_are_escaped(hostile_report: Report) -> None:
    html = render_next_day(hostile_report, "en", "html")
    svg = html[html.index("<svg"):html.index("</svg>")]
    # a long label keeps its end ("…script>alert(1)</script>"): escaped all the same
    assert "&lt;/script&gt;" in svg and "<script" not in svg and "</script" not in svg


@pytest.mark.parametrize("lang", ["de", "en"])
def test_markdown_renders_hostile_text_as_text(hostile_report: Report, lang: str) -> None:
    # CommonMark with raw HTML allowed (as many viewers do): escaping must hold by itself
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for text in (render_immediate(hostile_report, lang, "markdown"),
                 render_next_day(hostile_report, lang, "markdown", audience="internal")):
        html = md.render(text).lower()
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;" in html


def test_text_report_keeps_the_text_as_is(hostile_report: Report) -> None:
    text = render_immediate(hostile_report, "en", "text")
    assert "Shop down <script>alert(1)</script>" in text   # plain text has nothing to escape


def test_the_probe_would_see_a_script_run(chromium: str, tmp_path: Path) -> None:
    # Control: the same payload, unescaped and without CSP, does change the page, so the
    # checks below would notice if a report ever let it through.
    page = tmp_path / "control.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>report</title></head><body>{SCRIPT}</body></html>")
    dom = chromium_dom(chromium, page, tmp_path / "profile")
    assert title_of(dom) == "PWNED" and "<hacked>" in dom


@pytest.mark.parametrize("kind", ["immediate", "next_day"])
@pytest.mark.parametrize("csp", [True, False], ids=["as-rendered", "without-csp"])
def test_chromium_renders_the_report_and_runs_no_hostile_script(chromium: str, hostile_report: Report,
                                                                 tmp_path: Path, kind: str, csp: bool) -> None:
    render = render_immediate if kind == "immediate" else render_next_day
    html = render(hostile_report, "de", "html", audience="internal")   # the version with the most server text
    if not csp:
        # escaping alone must hold; the CSP is only the second line of defence
        html = CSP.sub("", html)
        assert "Content-Security-Policy" not in html
    page = tmp_path / f"{kind}.html"
    page.write_text(html, encoding="utf-8")
    dom = chromium_dom(chromium, page, tmp_path / "profile")
    title = report_title(hostile_report, kind, "de")
    assert title_of(dom) == title                         # no script rewrote it
    assert f"<h1>{title}</h1>" in dom                     # it rendered, Umlaute and all
    assert "<hacked" not in dom and "<img" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the summary, shown as text
    if kind == "next_day":
        assert "&lt;script&gt;document.title='PWNED'" in dom
        assert "onerror=\"document.title='PWNED'\"&gt;" in dom


def test_chromium_screenshot_of_the_next_day_report(chromium: str, report: Report, tmp_path: Path) -> None:
    page = tmp_path / "next-day.html"
    page.write_text(render_next_day(report, "de", "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1600", f"--screenshot={shot}",
         page.as_uri()], capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
