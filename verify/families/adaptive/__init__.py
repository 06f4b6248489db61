"""The adaptive family (spec 04): SDEs and scaling rules, Adam dynamics, Adan, AdamSSM, delta-GClip.

One module per claim (or per small group of claims on one theorem); shared experiment code in
``_common.py`` and ``_weak.py``; every claim's sizes in ``sizes.py``. docs/claims/adaptive.md
lists each claim's statistic, threshold and source, and the range over which its verdict held.
"""
