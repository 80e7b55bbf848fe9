"""The fuzzers' inputs, shared: character edits of valid files, and trees of JSON-like values of wrong shapes."""
from __future__ import annotations

from hypothesis import strategies as st


def mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    chars = list(text)
    for kind, position, char in edits:
        if not chars:
            chars = [char]
            continue
        at = position % len(chars)
        if kind == 0:
            chars.insert(at, char)
        elif kind == 1:
            del chars[at]
        else:
            chars[at] = char
    return "".join(chars)


EDITS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.sampled_from(list(":-[]{}&*!|>'\"#%@`\t\n\r ,?x0\x00\xe9\u2028"))), max_size=8)
LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
TREES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=25)
