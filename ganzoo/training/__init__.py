"""Training helpers: runs (what `ganzoo train` does), strategies, callbacks, checkpoints.

Importing `ganzoo.training` is light; the pieces that need TensorFlow load on first use,
so a run can be planned (arguments and folder checked) before TensorFlow starts.
"""

import importlib

_EXPORTS = {
    "SampleGrid": "callbacks",
    "TensorBoardImages": "callbacks",
    "LearningRateScheduler": "callbacks",
    "LinearDecay": "callbacks",
    "StepDecay": "callbacks",
    "ProgressiveGrowing": "callbacks",
    "strategy": "distribute",
    "RunCheckpoint": "checkpoints",
    "NonFiniteGuard": "checkpoints",
    "TrainingDiverged": "checkpoints",
    "EvaluateEvery": "monitor",
    "HealthMonitor": "monitor",
    "HealthWarning": "monitor",
    "plan_run": "run",
    "plan_resume": "run",
    "TrainingRun": "run",
    "RunResult": "run",
    "is_run_folder": "run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"ganzoo.training.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'ganzoo.training' has no attribute {name!r}")
