"""Browser tests: JupyterLab with nbgrader's extensions, driven through Debian's chromium by
Playwright, as a student and as an instructor."""
