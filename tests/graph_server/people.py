"""A generated HR roster of any size, in the HR columns of DESIGN.md (deterministic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DEPARTMENTS = ("Finance", "IT", "HR", "Sales", "Operations", "Legal", "Engineering", "Marketing")
_FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gita", "Hugo", "Iris", "Jon", "Kai", "Lea")
_LAST = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hill", "Ito", "Jones")


def make_people(count: int, *, seed: int = 11, as_of: str = "2026-11-21") -> pd.DataFrame:
    """``count`` people: mostly active employees, some contractors, ~6 % leavers."""
    rng = np.random.default_rng(seed)
    number = np.arange(1, count + 1)
    employee_id = pd.Series([f"E{n:05d}" for n in number])
    first = pd.Series(np.array(_FIRST)[number % len(_FIRST)])
    last = pd.Series(np.array(_LAST)[(number // len(_FIRST)) % len(_LAST)])
    name = first + " " + last + " " + employee_id.str[-3:]
    email = (first + "." + last + "." + employee_id).str.lower() + "@example.com"
    department = pd.Series(np.array(DEPARTMENTS)[rng.integers(0, len(DEPARTMENTS), count)])
    department.iloc[:8] = DEPARTMENTS  # every department has someone from the start
    terminated = rng.random(count) < 0.06
    terminated[:8] = False
    now = pd.Timestamp(as_of, tz="UTC")
    start = now - pd.to_timedelta(rng.integers(60, 3000, count), unit="D")
    end = pd.Series(now - pd.to_timedelta(rng.integers(1, 300, count), unit="D")).where(terminated)
    return pd.DataFrame(
        {
            "employee_id": employee_id,
            "name": name,
            "email": email,
            "department": department,
            "title": "Staff",
            "manager_id": employee_id.shift(1),
            "status": np.where(terminated, "terminated", "active"),
            "worker_type": np.where(number % 9 == 0, "contractor", "employee"),
            "start_date": pd.Series(start).dt.strftime("%Y-%m-%d"),
            "end_date": end.dt.strftime("%Y-%m-%d"),
        }
    )
