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
# Basin: where solutions end up; barrier: what separates basins; saddle point: zero gradient
# with curvature of both signs (common in high dimension); plateau: near-zero gradient over a
# whole region; narrow valley: a low-loss corridor with steep walls (sharp across it).
### END SOLUTION

# %% role="visible" item="key_terms"
# Format check of `key_terms` (0 points): every description mapped to one of the five terms.
check_key_terms_format(key_terms)

# %% role="hidden" item="key_terms" call="check_answer" part_points={"format": 0}
