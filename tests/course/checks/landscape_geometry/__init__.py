"""Tests of the hidden checks of notebook 02 (landscape geometry), one file per notebook section."""
