"""The network algorithm of :mod:`analysis.stats.fisher`, compiled with numba.

Same nodes, bounds and merging as the pure-Python network there (``_network_pvalue_python``):
columns are filled one per stage, smallest first (there, largest first); a node is the
multiset of row totals still to fill (sorted, coded as one integer), and it carries the
partial log-weights of the paths that reach it, merged when equal to 1e-9, each with its
multiplicity. Bounds on the most and
least probable completion of a child decide whether all of a path's completions count (their
mass has a closed form), none does, or the path is carried to the next stage.

``@njit(cache=True)`` compiles each function once per machine and keeps the machine code in
numba's cache (see :func:`_choose_cache_dir` and docs/operations.md). A cold cache costs
some seconds of compilation on the first call of a process; a warm one about 0.3 s of
loading; then a call costs microseconds.
"""

from __future__ import annotations

import math
import os
import tempfile
import time

import numpy as np


def _choose_cache_dir() -> None:
    """Numba keeps the compiled code in ``__pycache__`` next to this file; where that is not
    writable (code installed read-only) and ``NUMBA_CACHE_DIR`` is not set, in
    ``$CCDG_VAR_DIR/numba-cache``, or without ``CCDG_VAR_DIR`` in the temporary directory
    (numba reads the variable when it is imported, and fails where it cannot write)."""
    if "NUMBA_CACHE_DIR" in os.environ or os.access(os.path.dirname(__file__), os.W_OK):
        return
    var_dir = os.environ.get("CCDG_VAR_DIR") or tempfile.gettempdir()
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(var_dir, "numba-cache")


_choose_cache_dir()

from numba import njit  # noqa: E402 (after the cache directory is chosen)

#: Status of a stage: finished, stopped at the work limit, stopped at the memory cap.
DONE, WORK, MEMORY = 0, 1, 2
#: Pairs (child, partial log-weight) one stage may hold after merging (24 bytes each and
#: 16 to 32 in the hash table that merges them: under 400 MB in all). R's FEXACT with
#: ``workspace = 2e7`` holds at most about 1.9 million past probabilities per stage.
MAX_PAIRS = 5_000_000


@njit(cache=True)
def _dual_min_bound(a, b, log_b, total, lf):  # pragma: no cover (compiled)
    """Lower bound on ``min sum log x_ij!`` over tables with row sums ``a`` and column sums
    ``b`` (sum ``total``): ``fisher._dual_min_bound``, the columns priced at ``log b_j``."""
    value = 0.0
    for j in range(b.shape[0]):
        value += log_b[j] * b[j]
    xs = np.empty(b.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        ai = a[i]
        if ai == 0:
            continue
        left = ai
        for j in range(b.shape[0]):
            xs[j] = ai * b[j] // total
            left -= xs[j]
        while left > 0:
            best = -1
            best_ratio = np.inf
            for j in range(b.shape[0]):
                if xs[j] < b[j]:
                    ratio = (xs[j] + 1) / b[j]
                    if ratio < best_ratio:
                        best_ratio = ratio
                        best = j
            xs[best] += 1
            left -= 1
        for j in range(b.shape[0]):
            value += lf[xs[j]] - log_b[j] * xs[j]
    return value


@njit(cache=True)
def _greedy_max(a, b_desc, lf):  # pragma: no cover (compiled)
    """Upper bound on ``max sum log x_ij!``: each row alone, largest columns first
    (``b_desc`` sorted largest first)."""
    value = 0.0
    for i in range(a.shape[0]):
        left = a[i]
        for j in range(b_desc.shape[0]):
            if left <= 0:
                break
            x = b_desc[j] if b_desc[j] < left else left
            value += lf[x]
            left -= x
    return value


@njit(cache=True)
def _bounds(stage, state, cols, lf, suffix_total, suffix_lf, log_rest, rest_desc, out):
    """(hi, lo, total) of the completions of ``state`` (sorted, largest first) with the
    columns ``stage..`` into ``out``: ``fisher._Network.bounds``. ``log_rest`` and
    ``rest_desc``: the logs of those columns and the columns largest first (the same for
    every node of a stage, so computed once)."""
    r = state.shape[0]
    if stage == cols.shape[0] - 1:
        w = 0.0
        for i in range(r):
            w -= lf[state[i]]
        out[0] = w
        out[1] = w
        out[2] = w
        return
    total_n = suffix_total[stage]
    s = 0.0
    nonzero = 0
    for i in range(r):
        s += lf[state[i]]
        if state[i] > 0:
            nonzero += 1
    total = lf[total_n] - s - suffix_lf[stage]
    rest = cols[stage:]
    m = state[:nonzero]  # sorted largest first: the zeros are at the end
    log_m = np.log(m.astype(np.float64))
    lower = max(
        _dual_min_bound(m, rest, log_rest, total_n, lf),
        _dual_min_bound(rest, m, log_m, total_n, lf),
    )
    upper = min(_greedy_max(m, rest_desc, lf), _greedy_max(rest, m, lf))
    out[0] = min(total, -lower)
    out[1] = -upper
    out[2] = total


@njit(cache=True)
def _merge(child, val, mult, count, n_children):  # pragma: no cover (compiled)
    """Sort the first ``count`` pairs by child, then by value, and merge the pairs of a child
    whose values are equal to 1e-9 (multiplicities added). Returns the merged count and
    where each child's pairs start (``n_children + 1`` offsets)."""
    starts = np.zeros(n_children + 1, dtype=np.int64)
    for i in range(count):
        starts[child[i] + 1] += 1
    for c in range(n_children):
        starts[c + 1] += starts[c]
    fill = starts[:-1].copy()
    s_val = np.empty(count)
    s_mult = np.empty(count)
    for i in range(count):
        c = child[i]
        s_val[fill[c]] = val[i]
        s_mult[fill[c]] = mult[i]
        fill[c] += 1
    out = 0
    merged_starts = np.zeros(n_children + 1, dtype=np.int64)
    for c in range(n_children):
        merged_starts[c] = out
        lo, hi = starts[c], starts[c + 1]
        if hi == lo:
            continue
        order = np.argsort(s_val[lo:hi]) + lo
        last_key = np.int64(0)
        for t in range(order.shape[0]):
            v = s_val[order[t]]
            key = np.int64(np.rint(v * 1e9))
            if t > 0 and key == last_key:
                mult[out - 1] += s_mult[order[t]]
            else:
                child[out] = c
                val[out] = v
                mult[out] = s_mult[order[t]]
                out += 1
                last_key = key
    merged_starts[n_children] = out
    return out, merged_starts


@njit(cache=True)
def _grow(a, size, count):  # pragma: no cover (compiled)
    """``a`` with room for ``size`` items, its first ``count`` kept."""
    grown = np.empty(size, dtype=a.dtype)
    grown[:count] = a[:count]
    return grown


@njit(cache=True)
def _hash(a, b, mask):  # pragma: no cover (compiled)
    """A slot for the pair of integers (a, b) in a table of ``mask + 1`` slots."""
    h = np.uint64(a & 0x7FFFFFFFFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
    h ^= np.uint64(b) * np.uint64(0xC2B2AE3D27D4EB4F)
    return np.int64(h >> np.uint64(32)) & mask


@njit(cache=True)
def _slot(keys, code):  # pragma: no cover (compiled)
    """Where ``code`` is, or would go, in the open-addressing table ``keys`` (-1: empty)."""
    mask = keys.shape[0] - 1
    i = _hash(code, 0, mask)
    while keys[i] != code and keys[i] != -1:
        i = (i + 1) & mask
    return i


@njit(cache=True)
def _pair_slot(table, key, cid):  # pragma: no cover (compiled)
    """Where the pair (child ``cid``, rounded value ``key``) is, or would go, in the
    open-addressing ``table``: per slot the key, and ``cid << 32 | index`` (-1: empty), side
    by side so that a probe reads one cache line."""
    mask = table.shape[0] - 1
    i = _hash(key, cid, mask)
    while table[i, 1] != -1 and (table[i, 0] != key or (table[i, 1] >> 32) != cid):
        i = (i + 1) & mask
    return i


@njit(cache=True)
def _nothing(states, ptr, values):  # pragma: no cover (compiled)
    """No next stage: empty states, pointers, values and multiplicities."""
    return states[:0].copy(), ptr[:1].copy(), values[:0].copy(), values[:0].copy()


@njit(cache=True)
def expand_stage(
    stage, states, ptr, values, mults, cols, lf, suffix_total, suffix_lf, powers,
    threshold, base, work_left, max_pairs,
):  # pragma: no cover (compiled)  # fmt: skip
    """Expand the nodes of one stage (``states[i]`` with the pairs ``ptr[i]:ptr[i + 1]`` of
    ``values``, sorted, and ``mults``) by filling column ``stage``.

    Returns (status, work, mass, next states, next ptr, next values, next mults): the mass,
    relative to ``exp(-base)`` of a table's probability, of the completions that all count,
    and the merged pairs carried to the next stage. Work: one unit per column filling and
    per pair carried; beyond ``work_left`` it stops with ``WORK``, beyond ``max_pairs``
    merged pairs with ``MEMORY``.
    """
    r = states.shape[1]
    col_total = cols[stage]
    capacity = 1 << 12
    child = np.empty(capacity, dtype=np.int64)
    val = np.empty(capacity)
    mult = np.empty(capacity)
    count = 0
    # (child, value rounded to 1e-9) -> its pair: equal ones are merged as they come
    pairs = np.full((1 << 13, 2), -1, dtype=np.int64)
    table_keys = np.full(1 << 10, -1, dtype=np.int64)  # child code -> number, hashed
    table_ids = np.empty(1 << 10, dtype=np.int64)
    child_states = np.empty((256, r), dtype=np.int64)
    child_bounds = np.empty((256, 3))
    n_children = 0
    work = 0
    mass = 0.0
    x = np.zeros(r, dtype=np.int64)
    rem = np.zeros(r + 1, dtype=np.int64)
    after = np.zeros(r + 1, dtype=np.int64)
    kid = np.empty(r, dtype=np.int64)
    prefix = np.empty(values.shape[0] + 1)
    log_next = np.log(cols[stage + 1 :].astype(np.float64))
    desc_next = np.sort(cols[stage + 1 :])[::-1].copy()
    for node in range(states.shape[0]):
        state = states[node]
        vals = values[ptr[node] : ptr[node + 1]]
        ms = mults[ptr[node] : ptr[node + 1]]
        top = vals[-1]
        prefix[0] = 0.0
        for p in range(vals.shape[0]):
            prefix[p + 1] = prefix[p] + ms[p] * math.exp(vals[p] - top)
        after[r] = 0
        for i in range(r - 1, -1, -1):
            after[i] = after[i + 1] + state[i]
        # the fillings x (0 <= x_i <= state_i, sum col_total) in odometer order
        rem[0] = col_total
        for i in range(r):
            x[i] = max(0, rem[i] - after[i + 1])
            rem[i + 1] = rem[i] - x[i]
        while True:
            weight = 0.0
            for i in range(r):
                weight -= lf[x[i]]
                kid[i] = state[i] - x[i]
            for i in range(1, r):  # insertion sort, largest first
                v = kid[i]
                j = i - 1
                while j >= 0 and kid[j] < v:
                    kid[j + 1] = kid[j]
                    j -= 1
                kid[j + 1] = v
            code = np.int64(0)
            for i in range(r):
                code += kid[i] * powers[i]
            slot = _slot(table_keys, code)
            if table_keys[slot] == code:
                cid = table_ids[slot]
            else:
                cid = n_children
                table_keys[slot] = code
                table_ids[slot] = cid
                n_children += 1
                if n_children == child_states.shape[0]:
                    grown_states = np.empty((2 * n_children, r), dtype=np.int64)
                    grown_states[:n_children] = child_states
                    child_states = grown_states
                    grown_bounds = np.empty((2 * n_children, 3))
                    grown_bounds[:n_children] = child_bounds
                    child_bounds = grown_bounds
                child_states[cid] = kid
                _bounds(
                    stage + 1, kid, cols, lf, suffix_total, suffix_lf, log_next, desc_next,
                    child_bounds[cid],
                )  # fmt: skip
                if 2 * n_children > table_keys.shape[0]:  # rehash into a table twice as big
                    old_keys, old_ids = table_keys, table_ids
                    table_keys = np.full(2 * old_keys.shape[0], -1, dtype=np.int64)
                    table_ids = np.empty(2 * old_keys.shape[0], dtype=np.int64)
                    for t in range(old_keys.shape[0]):
                        if old_keys[t] != -1:
                            moved = _slot(table_keys, old_keys[t])
                            table_keys[moved] = old_keys[t]
                            table_ids[moved] = old_ids[t]
            c_hi = child_bounds[cid, 0]
            c_lo = child_bounds[cid, 1]
            # paths whose every completion counts, and those of which some may
            cut_all = np.searchsorted(vals, threshold - weight - c_hi, side="right")
            if cut_all > 0:
                mass += prefix[cut_all] * math.exp(base + top + weight + child_bounds[cid, 2])
            cut_none = np.searchsorted(vals, threshold - weight - c_lo, side="right")
            work += 1 + cut_none - cut_all
            if work > work_left:
                return WORK, work, mass, *_nothing(states, ptr, values)
            for p in range(cut_all, cut_none):
                v = vals[p] + weight
                key = np.int64(np.rint(v * 1e9))
                at = _pair_slot(pairs, key, cid)
                if pairs[at, 1] != -1:
                    mult[pairs[at, 1] & 0xFFFFFFFF] += ms[p]
                    continue
                pairs[at, 0] = key
                pairs[at, 1] = (cid << 32) | count
                child[count] = cid
                val[count] = v
                mult[count] = ms[p]
                count += 1
                if count > max_pairs:
                    return MEMORY, work, mass, *_nothing(states, ptr, values)  # noqa: E501
                if count == capacity:
                    capacity *= 2
                    child = _grow(child, capacity, count)
                    val = _grow(val, capacity, count)
                    mult = _grow(mult, capacity, count)
                if 3 * count > 2 * pairs.shape[0]:  # rehash into a table twice as big
                    pairs = np.full((2 * pairs.shape[0], 2), -1, dtype=np.int64)
                    for t in range(count):
                        old_key = np.int64(np.rint(val[t] * 1e9))
                        moved = _pair_slot(pairs, old_key, child[t])
                        pairs[moved, 0] = old_key
                        pairs[moved, 1] = (child[t] << 32) | t
            # next filling: the deepest level that can still grow grows, those below restart
            i = r - 2
            while i >= 0 and x[i] >= min(state[i], rem[i]):
                i -= 1
            if i < 0:
                break
            x[i] += 1
            rem[i + 1] = rem[i] - x[i]
            for t in range(i + 1, r):
                x[t] = max(0, rem[t] - after[t + 1])
                rem[t + 1] = rem[t] - x[t]
    count, starts = _merge(child, val, mult, count, n_children)
    if count > max_pairs:
        return MEMORY, work, mass, *_nothing(states, ptr, values)
    used = 0
    for c in range(n_children):
        if starts[c + 1] > starts[c]:
            used += 1
    next_states = np.empty((used, r), dtype=np.int64)
    next_ptr = np.zeros(used + 1, dtype=np.int64)
    k = 0
    for c in range(n_children):
        if starts[c + 1] > starts[c]:
            next_states[k] = child_states[c]
            next_ptr[k + 1] = starts[c + 1]
            k += 1
    return DONE, work, mass, next_states, next_ptr, val[:count].copy(), mult[:count].copy()


def network_pvalue(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    *,
    max_work: int | None,
    deadline: float | None,
) -> tuple[float | None, int, int]:
    """(p-value or ``None``, status, work): the sum of the probabilities of the tables with
    log-weight ``<= threshold``, or ``None`` with the status that stopped it (``WORK``,
    ``MEMORY``, or ``DONE`` with a passed ``deadline``, checked between stages).

    ``rows`` must be the shorter side, and ``(sum(rows) + 1) ** len(rows)`` below ``2**62``
    (a node is coded as one integer).
    """
    # Smallest column first: on most tables far fewer partial probabilities to carry than
    # largest first (a tenth on 2 x 10 with n = 200, a third on 4 x 5 with n = 150).
    cols_arr = np.array(sorted(cols), dtype=np.int64)
    state = np.array([sorted(rows, reverse=True)], dtype=np.int64)
    lf_arr = np.asarray(lf, dtype=np.float64)
    k = len(cols_arr)
    suffix_total = np.zeros(k + 1, dtype=np.int64)
    suffix_lf = np.zeros(k + 1)
    for j in range(k - 1, -1, -1):
        suffix_total[j] = suffix_total[j + 1] + cols_arr[j]
        suffix_lf[j] = suffix_lf[j + 1] + lf[cols_arr[j]]
    root = np.empty(3)
    log_cols = np.log(cols_arr.astype(np.float64))
    _bounds(0, state[0], cols_arr, lf_arr, suffix_total, suffix_lf, log_cols, cols_arr[::-1], root)
    if root[0] <= threshold:
        return 1.0, DONE, 0
    radix = sum(rows) + 1
    powers = np.array([radix**i for i in range(len(rows))], dtype=np.int64)
    # Masses are accumulated relative to exp(shift), close to the observed table's.
    shift = max(log_k + threshold, -700.0)
    base = log_k - shift
    ptr = np.array([0, 1], dtype=np.int64)
    values = np.zeros(1)
    mults = np.ones(1)
    unlimited = np.iinfo(np.int64).max
    work = 0
    masses = []
    for stage in range(k - 1):
        left = unlimited if max_work is None else max_work - work
        status, spent, mass, state, ptr, values, mults = expand_stage(
            stage, state, ptr, values, mults, cols_arr, lf_arr, suffix_total, suffix_lf,
            powers, threshold, base, left, MAX_PAIRS,
        )  # fmt: skip
        work += spent
        masses.append(mass)
        if status != DONE:
            return None, status, work
        if len(state) == 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            return None, DONE, work
    return math.fsum(masses) * math.exp(shift), DONE, work
