"""Tests of the course's hidden checks (source/landscapes/checks, imported as landscapes_checks)."""
