"""The committed result pages are what their committed records generate: never typed."""

from __future__ import annotations

import inspect
from pathlib import Path

import skyclass

ROOT = Path(__file__).resolve().parents[1]


def test_results_page_is_generated_from_its_record(monkeypatch):
    from skyclass.experiments.results import recorded_runs, results_markdown

    monkeypatch.chdir(ROOT)
    record = Path("docs/results_runs")
    page = results_markdown(recorded_runs(record), record=record)
    assert page == Path("docs/results.md").read_text()


def _shipped(name: str) -> bool:
    """Whether a registered model comes with skyclass (not a test's or a doctest's)."""
    from skyclass.models import get_model_spec

    try:
        source = Path(inspect.getfile(get_model_spec(name).factory)).resolve()
    except TypeError:  # a builtin or C factory: not defined by a test
        return True
    return source.is_relative_to(Path(skyclass.__file__).parent.resolve())


def test_leaderboard_page_is_generated_from_its_record(monkeypatch):
    from skyclass.experiments import leaderboard
    from skyclass.experiments.leaderboard import collect_runs, leaderboard_markdown

    shipped = [m for m in leaderboard.light_curve_models() if _shipped(m)]
    monkeypatch.setattr(leaderboard, "light_curve_models", lambda task=None: shipped)
    monkeypatch.chdir(ROOT)
    command = "skyclass leaderboard docs/leaderboard_runs -o docs/leaderboard.md"
    page = leaderboard_markdown(
        collect_runs(["docs/leaderboard_runs"]), command=command, title="Leaderboard"
    )
    assert page == Path("docs/leaderboard.md").read_text()
