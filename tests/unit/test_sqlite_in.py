"""`in_chunks`: IN lists chunked and padded to a few statement shapes."""

from __future__ import annotations

import sqlite3

from newsflow.sqlite_in import MAX_CHUNK, in_chunks


def test_chunks_are_padded_to_powers_of_two_with_their_first_value() -> None:
    """Lengths 1..MAX_CHUNK give at most ten shapes, and every value is looked up once."""
    shapes = set()
    for length in range(1, MAX_CHUNK + 1):
        values = [f"v{i}" for i in range(length)]
        [(marks, chunk)] = list(in_chunks(values))
        assert marks.count("?") == len(chunk)
        assert chunk[:length] == values
        assert set(chunk[length:]) <= {values[0]}
        shapes.add(len(chunk))
    assert shapes == {1 << k for k in range(10)}


def test_long_lists_are_cut_at_the_maximum_and_nothing_is_empty() -> None:
    """More than MAX_CHUNK values span several chunks; no values give no chunk."""
    values = [str(i) for i in range(2 * MAX_CHUNK + 3)]
    chunks = list(in_chunks(values))
    assert [len(chunk) for _, chunk in chunks] == [MAX_CHUNK, MAX_CHUNK, 4]
    assert [v for _, chunk in chunks for v in dict.fromkeys(chunk)] == values
    assert list(in_chunks([])) == []


def test_a_padded_lookup_finds_what_an_unpadded_one_finds() -> None:
    """The repeated value changes nothing IN matches."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO t VALUES (?)", [(str(i),) for i in range(0, 100, 3)])
    wanted = [str(i) for i in range(50)]
    found = {
        row[0]
        for marks, chunk in in_chunks(wanted)
        for row in db.execute(f"SELECT v FROM t WHERE v IN ({marks})", chunk)
    }
    assert found == {str(i) for i in range(0, 50, 3)}
