"""Tests of the course (source/landscapes/ and solutions/): reference solutions, hidden checks,
landscape_lab, the real notebooks and their content, and benchmarks."""
