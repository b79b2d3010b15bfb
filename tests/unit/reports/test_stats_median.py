"""stats._middle (numpy) against the plain definition: sort what is left after taking one copy of each
taken-away duration, then the middle one or two."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from services.reports.adapters.rollup import decode, encode
from services.reports.service_layer.stats import _middle

durations = st.lists(st.integers(min_value=-5, max_value=40), max_size=40)


def reference(values: list[int], minus: list[int]) -> list[int]:
    left, kept = Counter(minus), []
    for v in values:
        if left[v]:
            left[v] -= 1
        else:
            kept.append(v)
    kept.sort()
    return kept[(len(kept) - 1) // 2: len(kept) // 2 + 1]


def chunks(values: list[int], size: int) -> list:
    """As the roll-up hands them over: one encoded string per row, decoded."""
    return [decode("".join(map(encode, values[i:i + size]))) for i in range(0, len(values), size)]


@given(durations, st.data(), st.integers(min_value=1, max_value=7))
def test_middle_equals_the_definition(values, data, size):
    # mostly durations that are there (a complement range's reports are in the roll-up), some that are not
    minus = data.draw(st.lists(st.sampled_from(values), max_size=len(values))) if values else []
    minus += data.draw(st.lists(st.integers(min_value=-5, max_value=45), max_size=3))
    assert _middle(chunks(values, size), chunks(minus, size)) == reference(values, minus)


def test_large_values_keep_their_microseconds():
    year = 366 * 86_400 * 10**6
    assert _middle(chunks([year + 1, year + 3, year + 2], 2), []) == [year + 2]
