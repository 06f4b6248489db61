"""Claim families, one package per family and one module per claim, discovered by ``verify.registry``.

Each claim module defines a ``verify.registry.Claim`` with its parts and each part's control; see
docs/contributing.md.
"""
