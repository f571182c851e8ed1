"""Tests of the reference solutions (solutions/): oracles and properties."""
