# %% [markdown] id="title"
# # Notebook 02 — Landscape geometry: curvature, sharpness, scale invariance and 2-D pictures
#
# *Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 2 of 4.*
#
# Notebook 01 walked *between* solutions; this one looks closely at *one*: how curved is the loss
# around it, in which directions, and do "flat minima generalise better"? You measure flatness
# without forming the Hessian, test the idea on large- and small-batch training, break it with a
# reparameterisation that keeps the function, and draw normalised 2-D pictures.
#
# **Learning objectives.** After this notebook you can
#
# 1. multiply by the Hessian of a network's loss without forming it (Pearlmutter, 1994), and
#    explain why finite differences are not good enough;
# 2. estimate the trace of the Hessian with Hutchinson's estimator (Hutchinson, 1989) and say
#    how noisy the estimate is;
# 3. connect the trace to the loss increase under random parameter noise (worked example 2),
#    and compute the traces of model spectra exactly (practice problem 2);
# 4. find the largest Hessian eigenvalue by power iteration and classify a critical point from
#    its spectrum;
# 5. compare the minima of large- and small-batch training (Keskar et al., 2017), and show with
#    the rescaling symmetry of ReLU networks why raw sharpness is not a property of the function
#    (Dinh et al., 2017; practice problem 4);
# 6. draw filter-normalised 2-D pictures of a loss landscape (Li et al., 2018) and say what they
#    can and cannot show.
