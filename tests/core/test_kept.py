"""The bounded memory of answers: the least recently used goes first."""

from __future__ import annotations

from npldesk.core.kept import Kept


def test_the_least_recently_used_answer_is_let_go_first() -> None:
    kept: Kept[str, int] = Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" read: "b" is now the oldest
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    kept.clear()
    assert kept.get("a") is None
