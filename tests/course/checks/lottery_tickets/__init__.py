"""Tests of the hidden checks of notebook 03 (lottery tickets), one file per notebook section."""
