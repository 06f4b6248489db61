"""Claims of the general framework GSGD (spec 01): one module per claim.

Source: Xiao, Hu, Toh, "Convergence Guarantees for Stochastic Subgradient Methods in Nonsmooth
Nonconvex Optimization", arXiv 2307.10053 (later versions: "SGD-type Methods with Guaranteed
Global Stability in Nonsmooth Nonconvex Optimization"). The statements are written in the form we
verify; where the paper's exact statement could not be confirmed they say "reconstructed".

Shared pieces: ``_common`` (the framework's instances as method factories, schedules, small
experiment runners), ``sizes`` (the one size table of the family, quick and full).
"""
