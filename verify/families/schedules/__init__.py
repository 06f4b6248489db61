"""Claims about the stepsize schedules stochopt ships (spec 1.2, 1.7 item 7, 5.5): one module per claim.

Each claim states which conditions of the convergence theorems a schedule satisfies (or, for
the schedules outside the theorems, which it violates), proved with sympy from the schedule's
formula by ``verify.symbolic`` - and every proof is about the code that runs: a part of each
claim compares the executed schedule with its formula (``verify.symbolic.formula_matches_code``),
and every proof repeats that comparison first (a schedule that runs differently from its formula
is never "proved"). ``_common`` holds the parts' machinery and figures, ``sizes`` the sizes.
See docs/claims/schedules.md.
"""
