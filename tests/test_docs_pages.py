"""The committed result pages are what their committed records generate: never typed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_results_page_is_generated_from_its_record(monkeypatch):
    from skyclass.experiments.results import recorded_runs, results_markdown

    monkeypatch.chdir(ROOT)
    record = Path("docs/results_runs")
    page = results_markdown(recorded_runs(record), record=record)
    assert page == Path("docs/results.md").read_text()


def test_leaderboard_page_is_generated_from_its_record(monkeypatch):
    from skyclass.experiments.leaderboard import collect_runs, leaderboard_markdown

    monkeypatch.chdir(ROOT)
    command = "skyclass leaderboard docs/leaderboard_runs -o docs/leaderboard.md"
    page = leaderboard_markdown(
        collect_runs(["docs/leaderboard_runs"]), command=command, title="Leaderboard"
    )
    assert page == Path("docs/leaderboard.md").read_text()
