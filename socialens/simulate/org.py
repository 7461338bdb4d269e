"""The org chart: CEO → C-suite → VPs → managers → staff, departments, roles with dates, promotions.

Everything is vectorized over people; person ``0`` is the CEO and people are numbered level by level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialens.simulate.config import SimConfig

__all__ = ["Org", "build_org", "DEPARTMENTS", "level_title"]

DEPARTMENTS = (
    "Operations", "Finance", "Marketing", "Technology", "People", "Merchandising",
    "Customer Loyalty", "Legal", "Logistics", "Brand", "Content", "Sales",
)
_TITLES = ("CEO", "Chief Officer", "VP", "Manager", "Staff")
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
          "Robin", "Drew", "Kim", "Lee", "Pat", "Sky", "Noor", "Ari", "Dana", "Reese", "Eli")
_LAST = ("Smith", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kowalski", "Haddad", "Ito",
         "Larsen", "Moreau", "Patel", "Rossi", "Nguyen", "Schmidt", "Adeyemi", "Brown", "Kaur",
         "Jensen", "Costa", "Dubois", "Ivanova", "Murphy")


def level_title(level: int, depth: int, department: str) -> str:
    """Title of a role at ``level`` in a chart of ``depth`` levels."""
    if level == 0:
        return "CEO"
    if level == depth - 1:
        return "Staff"
    if level == 1:
        return f"Chief {department} Officer"
    if depth == 5:
        return _TITLES[level]
    return "VP" if level == 2 else f"Manager (level {level})"


def department_name(d: int) -> str:
    return DEPARTMENTS[d] if d < len(DEPARTMENTS) else f"Department {d + 1}"


@dataclass
class Org:
    """Arrays over people (index = person number)."""

    n: int
    level: np.ndarray          # int8, level at the start of the window
    manager: np.ndarray        # int64, -1 for the CEO
    department: np.ndarray     # int32, -1 = the CEO's "Executive" office
    is_leader: np.ndarray      # bool, fixed over the window
    promoted_day: np.ndarray   # int32, day of promotion, -1 if none
    depth: int
    n_departments: int
    width: int                 # digits of person numbers

    def person_ids(self, idx: np.ndarray | None = None) -> np.ndarray:
        idx = np.arange(self.n) if idx is None else np.asarray(idx)
        return np.char.add("p", np.char.zfill(idx.astype(str), self.width)).astype(object)

    def department_names(self) -> np.ndarray:
        names = np.array(["Executive"] + [department_name(d) for d in range(self.n_departments)],
                         dtype=object)
        return names[self.department + 1]

    def names(self) -> np.ndarray:
        i = np.arange(self.n)
        first = np.array(_FIRST, dtype=object)[i % len(_FIRST)]
        last = np.array(_LAST, dtype=object)[(i // len(_FIRST) + 7 * i) % len(_LAST)]
        return first + " " + last


def build_org(cfg: SimConfig, rng: np.random.Generator) -> Org:
    """Build the chart top-down: each level fills before the next, spans as configured."""
    n = cfg.people
    sizes = [1]
    for s in cfg.spans:
        sizes.append(sizes[-1] * s)
    # truncate management levels when there are not enough people, keeping ≥ 1 staff level
    levels, left = [], n
    for s in sizes:
        if left <= 0:
            break
        levels.append(min(s, left))
        left -= levels[-1]
    if left > 0:
        levels.append(left)
    depth = len(levels)
    level = np.repeat(np.arange(depth, dtype=np.int8), levels)
    starts = np.concatenate([[0], np.cumsum(levels)])
    manager = np.full(n, -1, dtype=np.int64)
    for lv in range(1, depth):
        k = np.arange(levels[lv])
        n_up = levels[lv - 1]
        if lv < len(sizes) and levels[lv] == sizes[lv]:  # a full management level: balanced tree
            span = cfg.spans[lv - 1]
            up = k // span
        else:  # staff (or a truncated level): spread evenly over the level above
            up = k % n_up
        manager[starts[lv]:starts[lv + 1]] = starts[lv - 1] + up
    department = np.full(n, -1, dtype=np.int32)
    if depth > 1:
        department[starts[1]:starts[2]] = np.arange(levels[1])
        for lv in range(2, depth):
            sl = slice(starts[lv], starts[lv + 1])
            department[sl] = department[manager[sl]]
    is_leader = level <= cfg.leader_max_level
    # promotions: staff → the level above, and managers → the level above, never into leader levels
    promoted = np.full(n, -1, dtype=np.int32)
    u = rng.random(n)
    day = rng.integers(1, cfg.days, size=n, dtype=np.int32)
    eligible = (level - 1 > cfg.leader_max_level) & (level >= 2)
    chosen = eligible & (u < cfg.promotion_rate)
    promoted[chosen] = day[chosen]
    width = max(len(str(n - 1)), 4)
    return Org(n, level, manager, department, is_leader, promoted, depth, levels[1] if depth > 1 else 0,
               width)
