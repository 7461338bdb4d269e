"""The internal "who watches whom" network (person → person), changing over time.

Ties are homophilous by department and, inside a department, by a latent affinity trait (which can
also drive adoption: the homophily confounder); people also follow up the hierarchy (their manager,
their department head, the CEO). Some ties form during the window and some end (unfollows).
On the platform a tie appears as a ``follows`` edge once both people have adopted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialens.simulate.config import SimConfig
from socialens.simulate.org import Org

__all__ = ["Network", "build_network", "TIE_KINDS"]

TIE_KINDS = ("peer", "manager", "department_head", "ceo")
NEVER = np.iinfo(np.int32).max


@dataclass
class Network:
    """Ties ``src → dst`` (src watches/follows dst), active on days ``[start, end)``.

    ``by_dst`` is a CSR over ties sorted by dst (the followers of each person): the ties of person
    ``j``'s followers are ``order[indptr[j]:indptr[j + 1]]``.
    """

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray   # int8 index into TIE_KINDS
    start: np.ndarray  # int32 day
    end: np.ndarray    # int32 day, NEVER = open
    affinity: np.ndarray  # float64 per person
    order: np.ndarray
    indptr: np.ndarray

    @property
    def n_ties(self) -> int:
        return len(self.src)

    def follower_ties(self, people: np.ndarray) -> np.ndarray:
        """Indices of the ties pointing at any of ``people`` (vectorized CSR gather)."""
        people = np.asarray(people, dtype=np.int64)
        lo, hi = self.indptr[people], self.indptr[people + 1]
        lens = hi - lo
        total = int(lens.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        offs = np.repeat(lo - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        return self.order[np.arange(total) + offs]


def build_network(cfg: SimConfig, org: Org, rng: np.random.Generator) -> Network:
    n = org.n
    dept = org.department
    n_dept = max(org.n_departments, 1)
    dept_effect = rng.normal(0.0, cfg.affinity_dept_sd, size=n_dept + 1)
    affinity = dept_effect[dept + 1] + rng.normal(0.0, 1.0, size=n)
    # peer ties
    k = rng.poisson(cfg.out_degree, size=n)
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    m = len(src)
    same = rng.random(m) < cfg.p_same_department
    dst = rng.integers(0, n, size=m, dtype=np.int64)
    # inside the department, near in affinity rank
    order = np.lexsort((affinity, dept))
    rank = np.empty(n, dtype=np.int64)
    dsorted = dept[order]
    first = np.searchsorted(dsorted, dsorted, side="left")
    rank[order] = np.arange(n) - first
    bounds = np.searchsorted(dsorted, np.arange(-1, n_dept + 1), side="left")
    dsize = np.diff(bounds)
    dstart = bounds[:-1]
    sd = dept[src[same]] + 1
    size = dsize[sd]
    jump = np.rint(rng.normal(0.0, np.maximum(cfg.affinity_bandwidth * size, 1.0))).astype(np.int64)
    jump[jump == 0] = 1
    target_rank = np.mod(rank[src[same]] + jump, np.maximum(size, 1))
    dst[same] = order[dstart[sd] + target_rank]
    kind = np.zeros(m, dtype=np.int8)
    # ties up the hierarchy
    people = np.arange(n, dtype=np.int64)
    extra_src, extra_dst, extra_kind = [], [], []
    has_mgr = org.manager >= 0
    pick = has_mgr & (rng.random(n) < cfg.p_follow_manager)
    extra_src.append(people[pick])
    extra_dst.append(org.manager[pick])
    extra_kind.append(np.full(pick.sum(), 1, np.int8))
    head = _department_heads(org)
    has_head = dept >= 0
    pick = has_head & (rng.random(n) < cfg.p_follow_department_head)
    extra_src.append(people[pick])
    extra_dst.append(head[dept[pick]])
    extra_kind.append(np.full(pick.sum(), 2, np.int8))
    pick = rng.random(n) < cfg.p_follow_ceo
    extra_src.append(people[pick])
    extra_dst.append(np.zeros(pick.sum(), dtype=np.int64))
    extra_kind.append(np.full(pick.sum(), 3, np.int8))
    src = np.concatenate([*extra_src, src])
    dst = np.concatenate([*extra_dst, dst])
    kind = np.concatenate([*extra_kind, kind])
    # drop self ties and duplicates (keep the first: hierarchy kinds win over peer); sort by (src, dst)
    keep = src != dst
    src, dst, kind = src[keep], dst[keep], kind[keep]
    _, first_idx = np.unique(src * n + dst, return_index=True)
    src, dst, kind = src[first_idx], dst[first_idx], kind[first_idx]
    m = len(src)
    # change over time
    start = np.zeros(m, dtype=np.int32)
    late = rng.random(m) < cfg.tie_late_share
    start[late] = rng.integers(1, cfg.days, size=int(late.sum()), dtype=np.int32)
    end = np.full(m, NEVER, dtype=np.int32)
    ends = rng.random(m) < cfg.tie_end_share
    span = cfg.days - start[ends]
    end[ends] = start[ends] + 1 + np.floor(rng.random(int(ends.sum())) * np.maximum(span - 1, 1)).astype(np.int32)
    by_dst = np.argsort(dst, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))]).astype(np.int64)
    return Network(src, dst, kind, start, end, affinity, by_dst, indptr)


def _department_heads(org: Org) -> np.ndarray:
    heads = np.zeros(max(org.n_departments, 1), dtype=np.int64)
    c_suite = np.flatnonzero(org.level == 1)
    heads[org.department[c_suite]] = c_suite
    return heads
