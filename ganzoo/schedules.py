"""Learning-rate schedules for models with one optimizer per network.

Keras callbacks, in a module below the families so that a family can name the schedule
its paper uses (`default_callbacks`: cyclegan's `LinearDecay`, srgan's `StepDecay`); `ganzoo.training`
exports them too.
"""

import keras
import numpy as np


class LearningRateScheduler(keras.callbacks.Callback):
    """Set the learning rate of every optimizer of a ganzoo model at each epoch's start.

    Keras' own `LearningRateScheduler` and `ReduceLROnPlateau` drive `model.optimizer`,
    which a GAN does not have (it trains with one optimizer per network). This one drives
    all of them: `schedule(epoch, base_lr)` is called for each optimizer with the learning
    rate it had when training began (so the two time-scale rates of a family keep their
    ratio), and its result becomes that optimizer's rate for the epoch. Learning-rate
    schedules passed to the optimizers themselves (`keras.optimizers.schedules`) keep
    working without this callback.

    Args:
        schedule: callable `(epoch, base_lr) -> lr`, epoch counted from 0.
        optimizers: iterable of str or None. Names (from `model.optimizers()`) to drive;
            all by default.

    Examples:
    ```python
    halve_every_10 = ganzoo.training.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5 ** (epoch // 10))
    gan.fit(data, epochs=30, callbacks=[halve_every_10])
    ```
    """

    def __init__(self, schedule, optimizers=None):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"schedule must be callable. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.names = None if optimizers is None else tuple(optimizers)
        self.base_rates = None

    def _driven(self):
        found = self.model.optimizers()
        names = self.names or tuple(found)
        unknown = [name for name in names if name not in found]
        if unknown:
            raise ValueError(
                f"Unknown optimizer {unknown[0]!r}; this model has {sorted(found)}"
            )
        return {name: found[name] for name in names}

    def on_train_begin(self, logs=None):
        if self.base_rates is None:
            self.base_rates = {
                name: float(keras.ops.convert_to_numpy(optimizer.learning_rate))
                for name, optimizer in self._driven().items()
            }

    def on_epoch_begin(self, epoch, logs=None):
        for name, optimizer in self._driven().items():
            rate = float(self.schedule(epoch, self.base_rates[name]))
            if not np.isfinite(rate) or rate < 0:
                raise ValueError(
                    f"The schedule gave learning rate {rate} for {name} at epoch {epoch}; "
                    "expected a finite number >= 0"
                )
            optimizer.learning_rate = rate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            for name, optimizer in self._driven().items():
                logs[f"{name}_lr"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class LinearDecay(LearningRateScheduler):
    """Constant learning rates, then a linear decay to zero (CycleGAN's schedule).

    Args:
        epochs: int. Total epochs of the run.
        decay_from: int. The epoch the decay starts at (0-based); defaults to half of
            `epochs`, as in Zhu et al. 2017.
        optimizers: as in `LearningRateScheduler`.
    """

    def __init__(self, epochs, decay_from=None, optimizers=None):
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
        decay_from = epochs // 2 if decay_from is None else decay_from
        if not 0 <= decay_from < epochs:
            raise ValueError(
                f"decay_from must lie in [0, epochs). Received: decay_from={decay_from}, "
                f"epochs={epochs}"
            )
        span = epochs - decay_from

        def schedule(epoch, base_lr):
            if epoch < decay_from:
                return base_lr
            return base_lr * max(0.0, 1.0 - (epoch - decay_from) / span)

        super().__init__(schedule, optimizers=optimizers)
        self.epochs = epochs
        self.decay_from = decay_from


class StepDecay(LearningRateScheduler):
    """Constant learning rates, then the rates times `factor` from one epoch on (SRGAN's
    schedule: 1e-4, then 1e-5 for the second half of the adversarial updates).

    Args:
        epochs: int. Total epochs of the run.
        factor: float in (0, 1]. What the rates are multiplied by. Defaults to 0.1.
        skip_steps: int. Steps before the span the decay halves (SRGAN's pre-training
            phase); the rates drop at the first epoch that starts at or after
            `skip_steps + (total steps - skip_steps) / 2`, reckoned when training begins
            from the steps per epoch. Defaults to 0 (half of the run).
        optimizers: as in `LearningRateScheduler`.
    """

    def __init__(self, epochs, factor=0.1, skip_steps=0, optimizers=None):
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 1:
            raise ValueError(f"factor must lie in (0, 1]. Received: factor={factor!r}")
        if isinstance(skip_steps, bool) or not isinstance(skip_steps, int) or skip_steps < 0:
            raise ValueError(
                f"skip_steps must be a whole number >= 0. Received: skip_steps={skip_steps!r}")
        super().__init__(self._rate, optimizers=optimizers)
        self.epochs = epochs
        self.factor = float(factor)
        self.skip_steps = skip_steps
        self.decay_from = epochs // 2

    def decay_epoch(self, steps_per_epoch):
        """The first epoch (0-based) trained at the lower rates; `epochs` or more (no
        decay) when the run is too short to have one after the middle."""
        total = self.epochs * steps_per_epoch
        middle = self.skip_steps + max(0, total - self.skip_steps) / 2
        return max(1, int(-(-middle // steps_per_epoch)))

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        steps = (self.params or {}).get("steps")
        if steps:
            self.decay_from = self.decay_epoch(int(steps))

    def _rate(self, epoch, base_lr):
        return base_lr if epoch < self.decay_from else base_lr * self.factor
