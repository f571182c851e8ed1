# %% [markdown] id="title"
# # Notebook 03 — Lottery tickets: magnitude masks, IMP with rewinding, schedules, supermasks
#
# *Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 3 of 4.*
#
# A trained network can usually lose most of its weights with little loss of accuracy. The
# **lottery ticket hypothesis** (Frankle & Carbin, 2019) claims more: the sparse network that
# survives pruning could have been trained on its own *from the start*, from the initial weights
# it had in the big network. You write the pruning machinery and use it to find tickets in a
# small network, test them against random re-initialisation and random pruning, try late
# rewinding, train a *supermask* over frozen weights, and compare tickets found on different data.
#
# **Learning objectives.** After this notebook you can
#
# 1. say exactly how many weights "prune 30%" removes, and build magnitude masks with a
#    deterministic tie rule (worked example 3 of the course text);
# 2. implement iterative magnitude pruning (IMP) with rewinding, layer by layer and globally,
#    and compute its sparsity schedule $1-(1-p)^r$;
# 3. run the lottery-ticket experiment: the rewound ticket against the same mask with a fresh
#    random initialisation, over rising sparsity;
# 4. explain late rewinding and its link to stability under SGD noise and linear mode
#    connectivity (Frankle et al., 2020);
# 5. train a supermask over frozen random weights with a straight-through estimator
#    (Zhou et al., 2019; Ramanujan et al., 2020);
# 6. compare two tickets by the overlap of their masks (practice problem 3).
