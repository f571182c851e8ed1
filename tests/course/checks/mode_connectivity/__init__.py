"""Tests of the hidden checks of notebook 01 (mode connectivity), one file per notebook section."""
