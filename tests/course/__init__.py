"""Tests of the course (source/landscapes/ and solutions/): reference solutions, hidden checks,
landscape_lab, the real notebooks, authoring scripts and benchmarks."""
