# %% [markdown] id="grading"
# ## How this notebook is graded
#
# You implement **11 functions**, each in its own cell, in the order they are taught.
# Replace the line `raise NotImplementedError()` with your code; do not rename the functions or
# change their arguments (the grader finds them by name). Later functions may call earlier ones
# (`hutchinson_trace` and `top_eigenvalue` call `hvp`), so work top to bottom.
#
# Under every function there is
#
# * one **visible test** cell (no points: a self-check for you; the hidden tests carry the
#   grade): run it yourself — it checks the worked
#   example of the course text and simple cases with known answers (quadratic losses, whose
#   Hessian you can write down), and its messages tell you what is wrong;
# * several **hidden test** cells (1 point each), one per property of the contract
#   (the cell names the property). They are empty in your copy and run at grading time on
#   cases you have not seen (random inputs, small networks, edge cases, "does not modify its
#   inputs", bad input). A hidden cell earns its point when every case of its property passes;
#   the feedback names the first failing case, what came back and what was expected.
#
# {{points_table}}
#
# The written answers to practice problems 2 and 4, and the question about reading the landscape
# plot of section 6 (the figure drawn by the cell `demo-surface`), are part of notebook 04.
# The demonstration cells (grey, read-only) are not graded: they run your functions on real
# networks. Until the functions they use are implemented they print
# `(demonstration skipped: ...)` instead of failing, so you can run the notebook top to bottom
# at any time. The whole notebook runs in well under a minute on a laptop CPU.
