"""An assignment's notebooks as content files, and the builder that makes the notebooks.

- :mod:`autograder.content.parse`: the content format (cells as text, each with a role);
- :mod:`autograder.content.builder`: content + reference + checks → source notebooks.
"""
