"""Vectorised interval arithmetic behind the unit counts (numpy, imported by the callers lazily).

Each function is the array form of a per-coding loop in units.py / cooccurrence.py and gives the
same answer; the loops read clearer, these stay under a second at 100,000 codings.
"""

from __future__ import annotations

import numpy as np


def distinct(a):
    """np.unique(a) for integers, by sorting: numpy 2.4's np.unique hashes and is 20× slower here."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def ranges(lo, counts):
    """(i repeated counts[i] times, lo[i], lo[i]+1, … for each i): expand index ranges to pairs."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(lo, counts) + offset


def overlap_pairs(q_doc, q_start, q_end, u_doc, u_start, u_end, n_docs: int):
    """(query index, unit index) for every query span [start, end) and unit of the same document
    sharing at least one character.

    Units are sorted by document, then start (ties in any fixed order). As in
    `_Intervals.overlapping`, a document's search starts at the last unit starting at or before the
    span's start (its first unit if none) and runs while units start before the span's end. Queries
    with document -1 get nothing.
    """
    if len(q_doc) == 0 or len(u_doc) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    width = int(max(u_end.max(), u_start.max(), q_end.max())) + 1  # document d's keys: [d*width, (d+1)*width)
    ukey = u_doc.astype(np.int64) * width + u_start
    first = np.searchsorted(u_doc, np.arange(n_docs), side="left")
    known = q_doc >= 0
    d = np.where(known, q_doc, 0).astype(np.int64)
    lo = np.maximum(np.searchsorted(ukey, d * width + q_start, side="right") - 1, first[d])
    hi = np.searchsorted(ukey, d * width + q_end, side="left")
    counts = np.where(known, np.maximum(hi - lo, 0), 0)
    q, u = ranges(lo, counts)
    hit = u_end[u] > q_start[q]
    return q[hit], u[hit]


def gram(unit, label, n_labels: int):
    """n_labels × n_labels int matrix: [i][j] = units holding both label i and label j (diagonal:
    units holding i). `unit`, `label`: one entry per (unit, label) incidence, repeats allowed."""
    out = np.zeros((n_labels, n_labels), dtype=np.int64)
    if len(unit) == 0 or n_labels == 0:
        return out
    keys = distinct(unit.astype(np.int64) * n_labels + label)
    unit_of, label_of = keys // n_labels, keys % n_labels
    row = np.cumsum(np.r_[True, unit_of[1:] != unit_of[:-1]]) - 1  # units renumbered 0..m-1 (keys are sorted)
    n_rows = int(row[-1]) + 1
    chunk = 1 << 15  # dense incidence by blocks of units, so memory stays bounded
    for lo in range(0, n_rows, chunk):
        sel = (row >= lo) & (row < lo + chunk)
        block = np.zeros((min(chunk, n_rows - lo), n_labels), dtype=np.float64)
        block[row[sel] - lo, label_of[sel]] = 1.0
        # einsum, not block.T @ block: BLAS's threaded syrk took 0.1–0.7 s on odd label counts on a
        # busy machine; exact either way (0/1 sums far below 2**53)
        out += np.rint(np.einsum("ij,ik->jk", block, block)).astype(np.int64)
    return out


def overlapping_span_pairs(doc, start, end, label, n_labels: int, n_docs: int):
    """n_labels × n_labels int matrix: off the diagonal, pairs of spans (same document, different
    labels) that overlap; on it, spans per label. Needs end > start (the codings table checks it).

    Counted without listing the pairs: of the n_i·n_j same-document pairs of labels i and j, the
    ones that do not overlap are those where one span ends at or before the other starts, and
    E[i][j] = #{(c of i, a of j): a.end <= c.start} comes from prefix counts in end order.
    """
    n = len(doc)
    if n == 0 or n_labels == 0:
        return np.zeros((n_labels, n_labels), dtype=np.int64)
    per_doc = np.bincount(doc.astype(np.int64) * n_labels + label, minlength=n_docs * n_labels)
    per_doc = per_doc.reshape(n_docs, n_labels)
    pairs = per_doc.T @ per_doc
    width = int(end.max()) + 1
    base = doc.astype(np.int64) * width
    by_end = np.argsort(base + end, kind="stable")
    end_keys = (base + end)[by_end]
    end_labels = label[by_end]
    upto = np.searchsorted(end_keys, base + start, side="right")  # spans ending at or before my start…
    doc_first = np.searchsorted(end_keys, base, side="left")  # …counted from my document's first
    by_label = np.argsort(label, kind="stable")
    groups = np.flatnonzero(np.r_[True, label[by_label][1:] != label[by_label][:-1]])
    group_labels = label[by_label][groups]
    ended = np.zeros((n_labels, n_labels), dtype=np.int64)
    step = 16  # labels per block: a block's prefix table is (n + 1) × step
    for j0 in range(0, n_labels, step):
        j1 = min(n_labels, j0 + step)
        mine = (end_labels >= j0) & (end_labels < j1)
        prefix = np.zeros((n + 1, j1 - j0), dtype=np.int64)
        prefix[np.flatnonzero(mine) + 1, end_labels[mine] - j0] = 1
        np.cumsum(prefix, axis=0, out=prefix)
        before = prefix[upto[by_label]] - prefix[doc_first[by_label]]
        ended[group_labels, j0:j1] = np.add.reduceat(before, groups, axis=0)
    out = pairs - ended - ended.T
    np.fill_diagonal(out, per_doc.sum(axis=0))
    return out
