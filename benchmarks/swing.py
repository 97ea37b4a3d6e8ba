"""Day-to-day swings: A/A false calls and power of today's rule, the dispersion-aware rule and the naive daily
z-test, side by side on the same simulated paths (part of `benchmarks.bench_peeking`).

Each simulated test has a daily conversion rate per arm whose log moves by a normal swing (sd 0, 0.15 or
0.40) independently per arm and day, as ad auctions and placements move it; 1,000 clicks a day to the
control (the variant at 60% of that in the unequal scenarios). Every rule sees the cumulative counts at the
end of every day (dated) or at every daily read (undated) and its first better/worse call is final.

Today's rule is the previous commit's `analysis.decision`, extracted with `git archive` into a temporary
folder and run in a child process on the very same table.

The always-valid peer is confseq's two-sided normal-mixture boundary (Howard et al. 2021) at matched settings:
alpha 0.05, tuned to the plan (v_opt = 1 in plan units), on the binomial z of the same cumulative counts, calls
final. It runs when confseq is installed: its sdist needs Boost and a pybind11 newer than the one it pins
(`apt-get install libboost-dev; pip install 'pybind11>=2.11' scikit-build cmake ninja;
pip install --no-build-isolation confseq`); without it the column shows "—".
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from analysis.decision import DecisionSettings, decide_comparisons
from analysis.stats.proportions import z_statistics
from analysis.stats.sequential import information_fractions, planned_per_arm

DAILY = 1000
BASE = 0.05
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Scenario:
    label: str
    lift: float
    swing: float
    days: int
    dated: bool = True
    variant_share: float = 1.0  # the variant's clicks per control click
    by_day: int | None = None  # power: share called better by this day (None: A/A, any call)
    ever_no_difference: bool = False  # the share ever called no_difference instead


SCENARIOS = (
    Scenario("A/A swing 0, 30 days", 0.0, 0.0, 30),
    Scenario("A/A swing 0, 90 days", 0.0, 0.0, 90),
    Scenario("A/A swing 0.15, 30 days", 0.0, 0.15, 30),
    Scenario("A/A swing 0.15, 90 days", 0.0, 0.15, 90),
    Scenario("A/A swing 0.40, 30 days", 0.0, 0.40, 30),
    Scenario("A/A swing 0.40, 90 days", 0.0, 0.40, 90),
    Scenario("A/A undated 0, 30 reads", 0.0, 0.0, 30, dated=False),
    Scenario("A/A undated 0.40, 30 reads", 0.0, 0.40, 30, dated=False),
    Scenario("A/A 60% split, swing 0", 0.0, 0.0, 30, variant_share=0.6),
    Scenario("A/A 60% split, swing 0.40", 0.0, 0.40, 90, variant_share=0.6),
    Scenario("+10% swing 0, by day 30", 0.10, 0.0, 30, by_day=30),
    Scenario("+10% swing 0, by day 60", 0.10, 0.0, 60, by_day=60),
    Scenario("+20% swing 0, by day 30", 0.20, 0.0, 30, by_day=30),
    Scenario("+10% swing 0.15, by day 60", 0.10, 0.15, 60, by_day=60),
    Scenario("+10% (= min effect): 'no diff.'", 0.10, 0.0, 90, ever_no_difference=True),
)


def paths(scenario: Scenario, sims: int, rng: np.random.Generator) -> pd.DataFrame:
    """The decision's input table: one row per simulated test per day, cumulative counts."""
    days = scenario.days
    clicks = np.array([DAILY, round(DAILY * scenario.variant_share)])
    log_rate = np.log([BASE, BASE * (1 + scenario.lift)]) + rng.normal(0, scenario.swing, size=(sims, days, 2))
    conversions = rng.binomial(clicks, np.clip(np.exp(log_rate), 0, 1)).cumsum(axis=1)
    visitors = np.broadcast_to(clicks * np.arange(1, days + 1)[:, None], (sims, days, 2))
    return pd.DataFrame(
        {
            "family": np.arange(sims * days),  # one comparison per test: Holm has nothing to adjust
            "visitors_control": visitors[..., 0].ravel().astype(np.float64),
            "conversions_control": conversions[..., 0].ravel().astype(np.float64),
            "visitors": visitors[..., 1].ravel().astype(np.float64),
            "conversions": conversions[..., 1].ravel().astype(np.float64),
            "dated": scenario.dated,
            "days": np.tile(np.arange(1, days + 1), sims).astype(np.float64) if scenario.dated else np.nan,
            "path": np.repeat(np.arange(sims), days),
            "look": np.tile(np.arange(days), sims),
        }
    )


def signal(decided: pd.DataFrame, sims: int, days: int, scenario: Scenario | None = None) -> np.ndarray:
    """(sims, days) of +1 better, -1 worse, 0 otherwise, as each day shows it (for a no-difference scenario,
    1 where the day shows `no_difference`)."""
    ordered = decided.sort_values(["path", "look"])["decision"]
    if scenario is not None and scenario.ever_no_difference:
        return (ordered == "no_difference").to_numpy(dtype=np.float64).reshape(sims, days)
    shown = ordered.map({"better": 1, "worse": -1}).fillna(0)
    return shown.to_numpy(dtype=np.float64).reshape(sims, days)


def naive(table: pd.DataFrame, sims: int, days: int) -> np.ndarray:
    z = z_statistics(
        *(table[c].to_numpy(dtype=np.float64) for c in ("visitors_control", "conversions_control")),
        *(table[c].to_numpy(dtype=np.float64) for c in ("visitors", "conversions")),
    )
    called = np.abs(z) >= special.ndtri(0.975)
    return np.where(called, np.sign(z), 0.0).reshape(sims, days)


def peer(table: pd.DataFrame, sims: int, days: int) -> np.ndarray | None:
    """confseq's normal-mixture boundary on |Z| * sqrt(t) (t in plan units); None without confseq."""
    try:
        from confseq.boundaries import normal_mixture_bound
    except ImportError:
        return None
    counts = [table[c].to_numpy(dtype=np.float64) for c in ("visitors_control", "conversions_control")]
    counts += [table[c].to_numpy(dtype=np.float64) for c in ("visitors", "conversions")]
    z = z_statistics(*counts)
    pooled = (counts[1] + counts[3]) / (counts[0] + counts[2])
    t = information_fractions(counts[0], counts[2], planned_per_arm(pooled, 0.10, 0.05, 0.8))
    t = np.nan_to_num(t, nan=1e-9)
    enough = (np.minimum(counts[1], counts[3]) >= 5).reshape(sims, days)
    bound = np.asarray(normal_mixture_bound(np.maximum(t, 1e-9), 0.05, 1.0, 0.05, False), dtype=np.float64)
    crossed = (np.abs(z) * np.sqrt(t) >= bound).reshape(sims, days) & enough
    ever = np.maximum.accumulate(crossed, axis=1)
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), 0)
    sign = np.sign(z.reshape(sims, days)[np.arange(sims), first])
    return np.where(ever, sign[:, None], 0.0)


_CHILD = """
import pickle, sys
sys.path.insert(0, sys.argv[1])
from analysis.decision import DecisionSettings, decide_comparisons
with open(sys.argv[2], "rb") as f:
    tables = pickle.load(f)
out = [decide_comparisons(t, DecisionSettings())[["path", "look", "decision"]] for t in tables]
with open(sys.argv[3], "wb") as f:
    pickle.dump(out, f)
"""


def previous_rule(tables: list[pd.DataFrame], commit: str) -> list[pd.DataFrame]:
    """Today's rule (the code at `commit`) on the same tables, in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "analysis"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(base / "")], input=archive.stdout, check=True)
        (base / "in.pkl").write_bytes(pickle.dumps(tables))
        subprocess.run(
            [sys.executable, "-c", _CHILD, str(base), str(base / "in.pkl"), str(base / "out.pkl")], check=True
        )
        decided: list[pd.DataFrame] = pickle.loads((base / "out.pkl").read_bytes())
    return decided


def share(signal_: np.ndarray, scenario: Scenario) -> tuple[float, float]:
    """The false-call rate (A/A: any call) or the power (called better by the day); its standard error."""
    shown = signal_ != 0
    first = np.where(shown.any(axis=1), shown.argmax(axis=1), -1)
    call = np.where(first >= 0, signal_[np.arange(len(signal_)), np.maximum(first, 0)], 0)
    hit = call != 0 if scenario.by_day is None else (call > 0) & (first >= 0) & (first < scenario.by_day)
    rate = float(hit.mean())
    return rate, float(np.sqrt(rate * (1 - rate) / len(hit)))


def run(sims: int, seed: int, commit: str) -> None:
    rng = np.random.default_rng(seed)
    tables = [paths(s, sims, rng) for s in SCENARIOS]
    before = previous_rule(tables, commit)
    print(f"\nDay-to-day swings: {sims:,} tests per scenario, {DAILY:,} control clicks a day, {BASE:.0%} base rate")
    print(f"today's rule = analysis/ at {commit}; A/A: any false call; lifts: share called better by the day")
    print("peer = confseq's two-sided normal mixture at alpha 0.05, tuned to the plan, on the binomial z")
    print(f"{'scenario':<30}{'naive daily z':>16}{'peer':>16}{'today':>16}{'new rule':>16}")
    for scenario, table, old in zip(SCENARIOS, tables, before, strict=True):
        new = decide_comparisons(table, DecisionSettings())
        calls_only = scenario.ever_no_difference
        cells = []
        for shown in (
            None if calls_only else naive(table, sims, scenario.days),
            None if calls_only else peer(table, sims, scenario.days),
            signal(old, sims, scenario.days, scenario),
            signal(new, sims, scenario.days, scenario),
        ):
            if shown is None:
                cells.append("—")
                continue
            rate, se = share(shown, scenario)
            cells.append(f"{rate * 100:5.1f}% ±{se * 100:.1f}")
        print(f"{scenario.label:<30}" + "".join(f"{c:>16}" for c in cells))
    print("Targets: A/A ≤ 5% everywhere; +10% by day 30 ≥ 68%, +20% ≥ 99%, +10% by day 60 ≥ 75% (plain binomial);")
    print("a true lift at the minimum effect ever called 'no difference' ≤ 5% (90 daily looks).")
