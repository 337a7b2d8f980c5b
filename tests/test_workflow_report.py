"""Pure logic of the SEO report: keyword rows from each source's result shape, merge, recommendations."""

from __future__ import annotations

from workers.workflows import keyword_rows, recommendations


def test_keyword_rows_read_each_sources_shape() -> None:
    gsc = {"rows": [{"keys": {"query": "Blue Shoes"}, "clicks": 10, "impressions": 900, "position": 7.2}]}
    semrush = {"keywords": [{"keyword": "blue shoes", "position": 5, "volume": 2400, "traffic": 3.1}]}
    assert keyword_rows(gsc) == [{"keyword": "blue shoes", "position": 7.2, "clicks": 10.0, "impressions": 900.0}]
    assert keyword_rows(semrush)[0]["volume"] == 2400.0
    assert keyword_rows({"nothing": [1, 2]}) == []


def test_recommendations_rank_quick_wins_gaps_and_protect() -> None:
    merged = {
        "a": {"keyword": "a", "sources": ["semrush"], "position": 8, "volume": 1000},
        "b": {"keyword": "b", "sources": ["search_console", "ahrefs"], "position": 2, "traffic": 50},
        "c": {"keyword": "c", "sources": ["ahrefs"], "position": 30, "volume": 5000},
    }
    rec = recommendations(merged, gsc_available=True)
    assert [e["keyword"] for e in rec["quick_wins"]] == ["a"]
    assert [e["keyword"] for e in rec["content_gaps"]] == ["c", "a"]
    assert [e["keyword"] for e in rec["protect"]] == ["b"]
    assert recommendations(merged, gsc_available=False)["content_gaps"] == []
