# %% [markdown] id="title"
# # Notebook 01 — Mode connectivity: straight lines, Bezier curves, barriers, basins and merging
#
# *Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 1 of 4.*
#
# Train the same small network twice from two random seeds and you get two solutions with almost
# the same accuracy but completely different weights. Are they two separate "valleys" of the
# loss landscape, or two points of one connected low-loss region? In this notebook you write the
# tools that answer this question and use them on real (tiny) networks, trained on your CPU
# in a fraction of a second each.
#
# **Learning objectives.** After this notebook you can
#
# 1. compute points on the straight line and on a quadratic Bezier curve between two sets of
#    network parameters, and the loss of a network all along such a path;
# 2. measure a loss barrier by the two definitions in the literature (Frankle et al., 2020;
#    Entezari et al., 2022), say when they disagree, and measure it correctly for networks with
#    batch normalisation;
# 3. decide whether two solutions are *linearly mode-connected*, and group many solutions into
#    linearly connected basins (practice problem 1);
# 4. train the control point of a Bezier curve so that the curve bends around a barrier
#    (Garipov et al., 2018), and derive why the control point must be trained (practice problem 5);
# 5. explain why averaging the *weights* of two networks works as well as averaging their
#    *predictions* (an ensemble) only when the two are linearly connected.
