"""Auto-tuner: search spaces, strategies, resumable studies, switching thresholds and policy replay.

Strategies never see a device: they are driven through an injected `measure(config, should_stop)`,
so recorded measurements and live runs go through the same code.
"""
from workbench.core.tuner.log import TrialLog
from workbench.core.tuner.measurement import Measure, TrialMeasurement, budget_stopper
from workbench.core.tuner.space import Constraints, Objective, SpaceError, TrialConfig, TuningSpace, load_space
from workbench.core.tuner.study import StudyResult, TrialRecord, run_study

__all__ = [
    "Constraints", "Measure", "Objective", "SpaceError", "StudyResult", "TrialConfig", "TrialLog",
    "TrialMeasurement", "TrialRecord", "TuningSpace", "budget_stopper", "load_space", "run_study",
]
