"""The ``lion`` claims (spec 03-lion.md section 3.5), one module per claim: box invariance, KKT
convergence, the Lion-K Lyapunov function (identity, flow, discrete steps), the rate bound with
horizon-dependent hyperparameters, the l1/l2 gradient ratio of ReLU networks, and the exact
identities of the implementation. Sizes: ``sizes.SIZES``; shared pieces: ``_common``; the theory
they check: ``verify.lion_theory``; the page: docs/claims/lion.md.
"""
