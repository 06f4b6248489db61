"""The README's commands are the ones CI runs, and its example runs."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    assert len(blocks) >= 2, "README must open with two commands"
    main_job, tests = blocks[0], blocks[1]
    assert "stochopt verify" in main_job and "pip install" in main_job
    test_cmd = tests.split("&&")[-1].strip()
    assert test_cmd.startswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1].strip() == test_cmd
    assert "torch==2.13.0" in tests and any("torch==2.13.0" in line for line in ci)


def test_readme_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)\n```", readme, re.S)[0]
    code = code.replace("steps=5_000", "steps=200")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "run.npz").exists()
