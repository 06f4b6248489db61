"""The sizes of every gsgd claim, per mode: ``SIZES[claim_key][mode] -> dict``.

One table for the family (quick: CI, every claim at every seed 0-19; full: a researcher's
machine). docs/claims/gsgd.md lists each claim's sizes with their run times.
"""

SIZES: dict = {}
