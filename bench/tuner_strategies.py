"""How many trials each strategy needs to get within 5% of the exhaustive optimum.

Replays bench/data/mobilenet_se_space.json (84 configurations of the demo model measured for real on
this machine: 3 variants x 7 resolutions x batch 1,2 x threads 1,2) deterministically over several
seeds. Prints trials-to-hit per strategy and objective, the TPE / grid ratio, and how many iterations
early stopping saved. Run: python bench/tuner_strategies.py [--seeds 10]
"""
from __future__ import annotations

import argparse
import statistics
import threading
from pathlib import Path

from workbench.core.tuner.measurement import violations
from workbench.core.tuner.recorded import RecordedSpace
from workbench.core.tuner.space import Constraints, Objective, TrialConfig
from workbench.core.tuner.study import run_study
from workbench.core.tuner.strategies import STRATEGIES

DATA = Path(__file__).resolve().parent / "data" / "mobilenet_se_space.json"


def optimum(rec: RecordedSpace, space) -> tuple[TrialConfig, object]:
    from workbench.core.tuner.measurement import score
    cands = [(c, rec.measurement(c)) for c in space.configs()]
    cands = [(c, m) for c, m in cands if not violations(m, space.constraints)]
    return max(cands, key=lambda cm: score(cm[0], cm[1], space.objective))


def close_enough(kind: str, cfg: TrialConfig, m, opt_cfg: TrialConfig, opt_m, tol: float) -> bool:
    if kind == "latency":
        return m.p90_ms <= opt_m.p90_ms * (1 + tol)
    # fidelity first (same 1e-3 class), then resolution within 5%
    return round(m.fidelity / 1e-3) >= round(opt_m.fidelity / 1e-3) and cfg.resolution >= opt_cfg.resolution * (1 - tol)


def trials_to_hit(rec: RecordedSpace, space, strategy: str, seed: int, kind: str, tol: float) -> tuple[int, int]:
    opt_cfg, opt_m = optimum(rec, space)
    hit = threading.Event()
    iterations = [0]

    def measure(config, should_stop):
        m = rec.measure(config, should_stop)
        iterations[0] += m.iterations
        if not violations(m, space.constraints) and close_enough(kind, config, m, opt_cfg, opt_m, tol):
            hit.set()  # the study stops before asking for another trial
        return m

    result = run_study(space, measure, strategy=strategy, seed=seed, cancel=hit)
    return (len(result.trials) if hit.is_set() else space.size() + 1), iterations[0]


def reverse_grid_hit(rec: RecordedSpace, space, kind: str, tol: float) -> int:
    opt_cfg, opt_m = optimum(rec, space)
    for n, cfg in enumerate(reversed(space.configs()), 1):
        m = rec.measurement(cfg)
        if not violations(m, space.constraints) and close_enough(kind, cfg, m, opt_cfg, opt_m, tol):
            return n
    return space.size() + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--budget-p90-ms", type=float, default=4.0)
    args = ap.parse_args()
    rec = RecordedSpace.load(DATA)
    constraints = Constraints(p90_ms=args.budget_p90_ms, min_fidelity=0.998)
    full_iters = sum(len(r["latencies_ms"]) for r in rec.records.values())
    print(f"space: {DATA.name}, {len(rec.records)} configs, budget p90 <= {args.budget_p90_ms} ms, "
          f"min cosine 0.998, target within {args.tolerance:.0%} of the exhaustive optimum, seeds 0..{args.seeds - 1}")
    for kind in ("latency", "fidelity_resolution"):
        space = rec.space(constraints, Objective(kind=kind))
        opt_cfg, opt_m = optimum(rec, space)
        feasible = sum(1 for c in space.configs() if not violations(rec.measurement(c), constraints))
        print(f"\nobjective {kind}: optimum {opt_cfg.label()} p90 {opt_m.p90_ms:.2f} ms "
              f"({feasible}/{space.size()} configs feasible)")
        print(f"  {'strategy':8s} {'mean':>6s} {'median':>6s} {'min':>4s} {'max':>4s}  iterations run (early stop)")
        means = {}
        for strategy in STRATEGIES:
            seeds = [0] if strategy == "grid" else range(args.seeds)
            runs = [trials_to_hit(rec, space, strategy, s, kind, args.tolerance) for s in seeds]
            counts = [r[0] for r in runs]
            means[strategy] = statistics.mean(counts)
            iters = statistics.mean(r[1] for r in runs)
            print(f"  {strategy:8s} {means[strategy]:6.1f} {statistics.median(counts):6.1f} {min(counts):4d} "
                  f"{max(counts):4d}  {iters:7.0f}")
        rev = reverse_grid_hit(rec, space, kind, args.tolerance)
        print(f"  {'grid-rev':8s} {rev:6d}  (same grid enumerated in reverse: ordered grids are only as good as "
              f"their order)")
        print(f"  TPE / grid trial ratio: {means['tpe'] / means['grid']:.2f} (declared order), "
              f"{means['tpe'] / rev:.2f} (reverse), {2 * means['tpe'] / (means['grid'] + rev):.2f} (mean of both); "
              f"TPE / random: {means['tpe'] / means['random']:.2f}")
    exhaust = run_study(rec.space(constraints), rec.measure, strategy="grid")
    used = sum(t.measurement.iterations for t in exhaust.trials)
    print(f"\nearly stop: exhaustive grid ran {used} of {full_iters} recorded iterations "
          f"({1 - used / full_iters:.0%} saved, {sum(t.measurement.stopped_early for t in exhaust.trials)} "
          f"trials stopped)")


if __name__ == "__main__":
    main()
