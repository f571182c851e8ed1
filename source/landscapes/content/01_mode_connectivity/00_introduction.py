# %% [markdown] id="title"
# # Notebook 01 — Mode connectivity: straight lines, Bezier curves, barriers, basins and merging
#
# *Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 1 of 4.*
#
# Train the same small network from two random seeds and you get two solutions with about the
# same accuracy but different weights. Do they lie in two separate valleys of the loss
# landscape, or in one connected low-loss region? You write the tools that answer this and use
# them on tiny networks that train on your CPU in a fraction of a second.
#
# **Learning objectives.** After this notebook you can
#
# 1. compute points on the straight line and on a quadratic Bezier curve between two sets of
#    parameters, and the loss all along such a path;
# 2. measure a loss barrier by the two definitions in the literature (Frankle et al., 2020;
#    Entezari et al., 2022), say when they disagree, and measure it correctly for networks with
#    batch normalisation;
# 3. decide whether two solutions are *linearly mode-connected*, and group many solutions into
#    linear basins (practice problem 1);
# 4. train the control point of a Bezier curve to bend around a barrier (Garipov et al., 2018),
#    and say why it must be trained (practice problem 5);
# 5. explain why averaging two networks' *weights* works as well as averaging their
#    *predictions* only when the two are linearly connected.
# 6. align the hidden units of one network to another's (weight matching) without changing its
#    function, and show how much of a barrier comes from the order of the units.
