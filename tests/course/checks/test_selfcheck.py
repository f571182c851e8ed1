"""`autograder selfcheck`, the README's main job until the pipeline demo replaces it."""

from __future__ import annotations

from landscapes_checks import selfcheck

from autograder import cli


def test_worked_examples_all_hold():
    """Every worked-example fact of the course text is reproduced by the reference."""
    facts = selfcheck.worked_examples()
    assert len(facts) >= 10
    assert all(f.ok for f in facts), [f for f in facts if not f.ok]


def test_selfcheck_command_prints_what_it_verified(capsys):
    """The command prints each fact and each graded item, ends with a verdict, and exits 0."""
    code = cli.main(["selfcheck", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "worked example 1: barrier height" in out
    assert "magnitude_mask" in out and "answer_q1" in out
    assert "all good" in out.splitlines()[-1]
