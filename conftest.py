"""Root pytest configuration: doctests of optional modules are skipped when their extra is absent."""
import importlib.util
import os

os.environ.setdefault("MPLBACKEND", "Agg")

collect_ignore_glob = ["benchmarks/*", "tools/*", "docs/*"]
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob.append("stochopt/torch/*")
