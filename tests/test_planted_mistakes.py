"""Planted mistakes (issue 13): each must make at least one claim not verified, or fail a named test.

The table is assembled from ``planted/<family>.py`` (``ROWS``); each row names what it
plants and what catches it. A claim catcher runs in quick mode at seed 0 (only the named part when
one is named); it must come out NOT verified.
"""
import pytest

import verify
from planted import all_rows, no_planted

ROWS = all_rows()


def test_the_table_is_large_and_ids_are_unique():
    ids = [r.id for r in ROWS]
    assert len(ids) >= 30, f"the table has {len(ids)} rows; the trust issue asks for at least 30"
    assert len(ids) == len(set(ids)), "duplicate planted-mistake ids"


def test_every_claim_catches_a_planted_mistake_or_says_why_none_reaches_it():
    caught = {r.claim_id for r in ROWS}
    silent = [c.id for c in verify.claims() if c.id not in caught and c.id not in no_planted()]
    assert not silent, f"claims that catch no planted mistake and give no reason (NO_PLANTED): {silent}"


def test_every_named_catcher_exists():
    for row in ROWS:
        if row.claim_id is not None:
            claim = verify.get_claim(row.claim_id)
            assert row.part is None or row.part in [p.name for p in claim.parts], (row.id, row.part)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_planted_mistake_is_caught(row, monkeypatch):
    row.patch(monkeypatch)
    if row.claim_id is None:
        assert row.detector is not None, f"{row.id}: a test catcher needs a detector"
        with pytest.raises(AssertionError):
            row.detector()
        return
    cl = verify.get_claim(row.claim_id)
    result = cl.run("quick", 0, draw=False, parts=row.part)
    assert not result.ok, (f"planted mistake {row.id!r} ({row.plants}) was NOT caught by {row.caught_by}: "
                           f"every part passed and every control failed")


def test_no_planted_reasons_are_given():
    for cid, why in no_planted().items():
        assert isinstance(why, str) and len(why) > 20, cid
