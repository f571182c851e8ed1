# %% [markdown] id="part-b"
# ## Part B — Key topological features of loss landscapes
#
# Section 2 of the course text describes five features of a loss landscape. Match each
# description to its term: **Barrier**, **Basin**, **Narrow valley**, **Plateau**, **Saddle point**. Each term matches exactly one description.
#
# Fill in the dictionary below: its keys are the descriptions (keep them exactly as given),
# each value is the term as a string (e.g. `"Plateau"`). Then delete the line
# `raise NotImplementedError()`.

# %% id="key_terms" role="answer" value="key_terms"
key_terms = {
    'Connected region of low loss': None,
    'Ridge of high loss between basins': None,
    'Gradient zero, mixed curvature': None,
    'Region of near-zero gradient': None,
    'Low-loss corridor with steep walls': None,
}
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="key_terms"
# Format check of `key_terms` (0 points): every description mapped to one of the five terms.
check_key_terms_format(key_terms)

# %% role="hidden" item="key_terms" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="key_terms"
# **Explanation of the key terms.** Section 2 of the course text:
#
# | description | term | why |
# |---|---|---|
# | Connected region of low loss | **Basin** | where training ends up; solutions in one basin are joined by low-loss paths |
# | Ridge of high loss between basins | **Barrier** | what a straight path between two basins has to climb over |
# | Gradient zero, mixed curvature | **Saddle point** | critical point with eigenvalues of both signs: a minimum along some directions, a maximum along others (common in high dimension) |
# | Region of near-zero gradient | **Plateau** | flat over a whole region, so gradient descent slows down there |
# | Low-loss corridor with steep walls | **Narrow valley** | flat along the corridor, sharp across it (high curvature in a few directions) |
