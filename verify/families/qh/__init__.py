"""Quasi-hyperbolic claims (spec 02-quasi-hyperbolic.md, section 2.4): one module per claim.

Sources: Ma & Yarats, "Quasi-hyperbolic momentum and Adam for deep learning" (ICLR 2019, arXiv
1810.06801) and its library qhoptim 1.1.0, whose converters are untested there; each target
algorithm's own paper (cited per claim). ``_targets`` holds the targets as plain loops written
from their papers; ``_common`` the gradient sources, statistics and figures; ``sizes`` the sizes
of every claim. See docs/claims/qh.md.
"""
