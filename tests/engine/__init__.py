"""Tests of the grading engine (autograder/): sandbox, wire, limits, pipeline verbs, CLI and
registry mechanics, on small fixture courses."""
