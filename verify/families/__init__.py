"""Claim modules, one per family, discovered by ``verify.registry`` (every module in this package).

Each module registers its claims with ``@verify.registry.claim``; see docs/contributing.md.
"""
