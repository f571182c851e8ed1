# %% [markdown] id="grading"
# ## How this notebook is graded
#
# You implement **12 functions**, each in its own cell, in the order they are taught.
# Replace the line `raise NotImplementedError()` with your code; do not rename the functions or
# change their arguments (the grader finds them by name).
#
# Under every function there is
#
# * one **visible test** cell (no points: a self-check for you; the hidden tests carry the
#   grade): run it yourself — it checks the worked
#   examples of the course text and simple cases, and its messages tell you what is wrong;
# * several **hidden test** cells (1 point each), one per property of the contract
#   (the cell names the property, e.g. "alpha = 0 is theta_a, alpha = 1 is theta_b"). They are
#   empty in your copy and run at grading time on cases you have not seen (random inputs,
#   edge cases, the convention traps, "does not modify its inputs"). A hidden cell earns its
#   point when every case of its property passes; the feedback names the first failing case,
#   what came back and what was expected.
#
# {{points_table}}
#
# The "explain" part of practice problem 1 is answered in notebook 04, not here.
# The demonstration cells (grey, read-only) are not graded: they run your functions on real
# networks. Until the functions they use are implemented they print
# `(demonstration skipped: ...)` instead of failing, so you can run the notebook top to bottom
# at any time. The whole notebook runs in well under a minute on a laptop CPU.
