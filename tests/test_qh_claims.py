"""`stochopt verify qh --quick`: every quasi-hyperbolic claim passes and every control fails."""
import json

import verify

EXPECTED = {
    "qh.converter.pid", "qh.converter.synthesized-nesterov", "qh.converter.robust-momentum",
    "qh.converter.triple-momentum", "qh.converter.accsgd", "qh.converter.two-state", "qh.converter.round-trips",
    "qh.converter.singular-inputs", "qh.special-cases.qhm", "qh.special-cases.qhadam", "qh.triple-momentum.rate",
    "qh.adam-step-bound", "qh.from-nadam.asymptotic",
}


def test_qh_claims_are_registered():
    assert {c.id for c in verify.claims("qh")} == EXPECTED


def test_every_qh_claim_passes_and_every_control_fails():
    # what `stochopt verify qh --quick` runs (without writing the report's PNGs, which is slow)
    results = [(cl, cl.run("quick", 0, render=False)) for cl in verify.claims("qh")]
    bad = {cl.id: r.problems for cl, r in results if not r.ok}
    assert not bad, bad
    for cl, r in results:
        assert r.elapsed < 8.0, cl.id
        assert cl.caption and "passing" in cl.caption.lower(), cl.id
        for which, verdict in (("check", r.parts[0].check), ("control", r.parts[0].control)):
            assert verdict.figures, (cl.id, which, "no figure")
            for item in verdict.figures:
                fig = item[0] if isinstance(item, tuple) else item
                suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
                assert fig.axes, (cl.id, which, "empty figure")
                for ax in fig.axes:
                    assert (ax.get_title() or suptitle) and ax.get_xlabel() and ax.get_ylabel(), (cl.id, which)


def test_stochopt_verify_qh_command_line(tmp_path, capsys):
    from verify.cli import main

    ids = ["qh.converter.round-trips", "qh.converter.singular-inputs"]
    status = main(["verify", *ids, "--quick", "--report", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2/2 claims verified" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(cid in json.dumps(results) for cid in ids)


def test_identity_claim_needs_a_proof_about_the_code():
    import dataclasses
    import importlib

    qh_claims = importlib.import_module("verify.families.qh")
    from verify.symbolic import converters as sc

    proof = sc.prove_synthesized_nesterov()
    assert qh_claims._proof_holds(proof)
    assert not qh_claims._proof_holds(dataclasses.replace(proof, numeric_agreement=1e-3))   # mistranscribed
    assert not qh_claims._proof_holds(dataclasses.replace(proof, numeric_agreement=None))
    assert not qh_claims._proof_holds(sc.prove_synthesized_nesterov(output="xi"))
