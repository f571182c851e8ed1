# %% [markdown] id="grading"
# ## How this notebook is graded
#
# You implement **11 functions**, each in its own cell, in the order they are taught. Replace
# `raise NotImplementedError()` with your code; do not rename the functions or change their
# arguments (the grader finds them by name). Later functions may call earlier ones
# (`magnitude_mask` calls `prune_count`, `iterative_magnitude_pruning` calls `rewind` and
# `global_prune`, ...), so work top to bottom.
#
# Under every function there is
#
# * one **visible test** cell (no points, a self-check): it checks the worked example of the
#   course text and simple cases, and its messages tell you what is wrong;
# * several **hidden test** cells (1 point each), one per property of the contract (the cell
#   names it). They are empty in your copy and run at grading time on cases you have not seen (random inputs, ties,
#   rounding traps, edge cases, "does not modify its inputs", bad input). A cell earns its point
#   when every case passes; the feedback names the first failing case.
#
# {{points_table}}
#
# The "explain" part of practice problem 3 is answered in notebook 04, not here.
# The demonstration cells (grey, read-only) are not graded. Until the functions they use are
# implemented they print `(demonstration skipped: ...)`, so you can run the notebook top to
# bottom at any time; it runs in well under a minute on a laptop CPU.
