"""The shared adversarial trainer that every ganzoo family extends.

`AdversarialModel` is a `keras.Model` with no `call`: it owns a `generator` and a
`discriminator` (built in `__init__`, so `fit` never has to infer shapes), two optimizers
built under the active `tf.distribute` strategy, and one `keras.metrics.Mean` tracker per
logged loss. It is correct under `MirroredStrategy` and `MultiWorkerMirroredStrategy`:

- each replica's loss is its per-example losses summed and divided by the *global* batch
  size (`tf.nn.compute_average_loss`), so the gradients Keras all-reduces (sums) across
  replicas are those of the global batch;
- the logged losses are the true losses whatever the replica count: a `Mean` tracker
  averages over replicas, so each replica records its share times the replica count;
- every replica draws different noise: the model-owned `SeedGenerator` gives one seed per
  step and the replica id is folded into it.

It holds the step machinery every family shares: the networks (`build_generator` /
`build_discriminator`, or `build_networks` for more; every `keras.Model` attribute is saved,
see `saved_networks`), optimizers by name (`optimizer_names`, `default_optimizers`,
`optimizer_variables`), the loss trackers (`loss_names`, `record`), phases (`phases`),
separate regularisation steps every few steps (`lazy_intervals`, StyleGAN2's lazy R1 and
path length),
the EMA generator (`ema_decay`, `update_ema`), augmentation of what the discriminator sees,
the data-range checks of `fit`, and presets. Families do not subclass it directly but one
of the two tasks in `ganzoo.models.tasks`: `NoiseToImage` (latents, class labels,
truncation, seeded sampling, the standard one-D-one-G step) or `ImageToImage` (paired or
unpaired image batches, previews of training images, translate / upscale). A family
writes `train_step` only when its step differs, using `average_loss`, `apply_gradients`,
`noise_seed` and `record` from here.
"""

import functools
import inspect
import threading

import keras
import tensorflow as tf

from ganzoo import _tasks, _validation
from ganzoo import augment as augment_lib
from ganzoo import losses as losses_lib
from ganzoo import precision as precision_lib
from ganzoo import presets

# Registered families by name: the one place a family's name is given is its
# `@register_family(name)` decorator.
_FAMILIES = {}
# The logged count of steps a float16 overflow skipped (see `record`).
SKIPPED_STEPS = "skipped_steps"


def register_family(name):
    """Class decorator that names a family and registers it, once, everywhere.

    Sets `cls.family = name`, adds the class to the registry behind `ganzoo.models.get`
    and registers it with Keras' serialisation (package "ganzoo", the class name).

    Args:
        name: str. Registry name (`"dcgan"`), used by presets, the CLI and bundles.
    """

    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, AdversarialModel)
                and cls.task in _tasks.TASKS):
            raise ValueError(
                "register_family takes subclasses of ganzoo.models.NoiseToImage or "
                f"ImageToImage. Received: {cls!r}")
        if _FAMILIES.get(name, cls) is not cls:
            raise ValueError(
                f"Family name {name!r} is already taken by {_FAMILIES[name].__name__}"
            )
        cls.family = name
        keras.saving.register_keras_serializable(package="ganzoo", name=cls.__name__)(cls)
        _FAMILIES[name] = cls
        return cls

    return decorate


def registered_families():
    """`{name: class}` of every registered family."""
    return dict(_FAMILIES)


def load_preset(name_or_path, load_weights=True, expected_class=None):
    """Rebuild the family a preset holds, weights verified, then loaded.

    Args:
        name_or_path: a preset name, a preset folder or a finished run folder.
        load_weights: bool. Load (and first verify) the weights. Defaults to True.
        expected_class: class or None. Refuse a preset of a family that is not this class
            or a subclass of it (`Family.from_preset`).

    Raises:
        ValueError: one line: not a preset, a checksum that does not match, a config.json
            that does not describe its family, or weights that do not fit it.
    """
    path = presets.resolve(name_or_path)
    if load_weights:
        # The checksums first: an edited config.json is reported as such, not as whatever
        # building from it breaks.
        presets.verify(path)
    config = presets.read_config(path)
    if config["family"] not in _FAMILIES:
        raise ValueError(
            f"{path / presets.CONFIG_FILE} names family {config['family']!r}; expected one "
            f"of {sorted(_FAMILIES)}"
        )
    family_class = _FAMILIES[config["family"]]
    if expected_class is not None and not issubclass(family_class, expected_class):
        raise ValueError(
            f"Preset {path} is a {config['family']!r} model, not a {expected_class.__name__}"
        )
    config_file = presets.CONFIG_FILE
    recorded = config.get("class_name")
    if recorded is not None and recorded != family_class.__name__:
        raise ValueError(
            f"{path / config_file} says family {config['family']!r} (class "
            f"{family_class.__name__}) but its options were saved from a {recorded}: was "
            f"{config_file} edited?"
        )
    try:
        model = family_class.from_config(config["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path / config_file} does not describe a {config['family']!r} model "
            f"({presets.first_line(error)}): was {config_file} edited?"
        ) from None
    if load_weights:
        presets.load_weights(model, path / presets.WEIGHTS_FILE)
    model.preset_name = config.get("preset") or path.name
    # Where it came from: export copies the preset's card.md into the bundle.
    model.preset_path = path
    if config.get("class_names") is not None:
        model.class_names = config["class_names"]
    return model


def _finishing(init):
    """Wrap a family's `__init__` so the networks are built when the outermost one ends."""

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        # Bypass Keras' attribute tracking: these are bookkeeping, not state.
        depth = self.__dict__.get("_ganzoo_init_depth", 0)
        self.__dict__["_ganzoo_init_depth"] = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            self.__dict__["_ganzoo_init_depth"] = depth
        if depth == 0 and not self.__dict__.get("_ganzoo_networks_built"):
            self._finish_init()

    # Keras reads the constructor's arguments from its signature (auto get_config).
    __init__.__signature__ = inspect.signature(init)
    return __init__


def _restoring_statistics(train_step):
    """Wrap a family's `train_step`: under float16 loss scaling, a step that skipped an
    update (its gradients overflowed) also leaves the networks' statistics as they were:
    batch norm's moving mean and variance, spectral normalisation's power-iteration
    vectors, the tracked mean w, which the forward pass updates and an overflowing one
    would fill with Inf. Only the outermost `train_step` of a family that calls its
    parent's does this."""

    @functools.wraps(train_step)
    def wrapped(self, data):
        key = self._step_key()
        running = self.__dict__.setdefault("_steps_running", set())
        if key in running or not self.loss_scaled_optimizers():
            return train_step(self, data)
        statistics = self.network_statistics()
        before = [tf.identity(variable.value) for variable in statistics]
        running.add(key)
        try:
            logs = train_step(self, data)
        finally:
            running.discard(key)
        skipped = self.__dict__.setdefault("_skipped_by_step", {}).pop(key, None)
        if skipped is not None:
            for variable, old in zip(statistics, before):
                variable.assign(tf.where(skipped, old, variable.value))
        return logs

    return wrapped


# Float training images may exceed [-1, 1] by this much (resampling overshoot).
_RANGE_TOLERANCE = 1e-3
# In-graph checks of the training data (`tf.debugging.Assert`): each marker leads the
# assertion's data, its values follow; `fit` turns a failed one into one line.
_RANGE_MARKER = "ganzoo: training images outside [-1, 1]"
_LABEL_MARKER = "ganzoo: class labels outside 0..num_classes-1"


def _range_text(values):
    seen = f" (a batch spans [{values[0]}, {values[1]}])" if len(values) >= 2 else ""
    return (
        f"fit was given float images outside [-1, 1]{seen}; ganzoo models train on images "
        "in [-1, 1]: pass uint8 images (scaled from [0, 255]) or load them with "
        "ganzoo.data.load(..., value_range=(low, high))"
    )


def _label_text(values):
    seen = (f" (a batch holds {values[0]} to {values[1]}; num_classes={values[2]})"
            if len(values) >= 3 else "")
    return (
        f"fit was given class labels that are not whole numbers in 0..num_classes-1{seen}: "
        "pass int class indices, one per image (ganzoo.data.load(..., labels=True) gives "
        "them for class folders)"
    )


_CHECK_TEXTS = {_RANGE_MARKER: _range_text, _LABEL_MARKER: _label_text}


def _failed_check_message(text):
    """The one-line error for a failed data check in `text` (an error's message), or None."""
    import re

    for marker, describe in _CHECK_TEXTS.items():
        if marker in text:
            values = re.findall(r"\[(-?[0-9.e+-]+|-?inf|nan)\]", text.split(marker, 1)[1])
            return describe(values)
    return None


def _in_multi_worker_mode():
    strategy = tf.distribute.get_strategy()
    extended = getattr(strategy, "extended", None)
    in_multi_worker = getattr(extended, "_in_multi_worker_mode", None)
    return bool(in_multi_worker and in_multi_worker())


class AdversarialModel(keras.Model):
    """The step machinery under both tasks: networks, optimizers, trackers, phases, EMA.

    Subclass `ganzoo.models.NoiseToImage` or `ganzoo.models.ImageToImage`, not this.

    Args:
        image_shape: tuple. `(height, width, channels)` of the images, 1 or 3 channels.
        seed: int or None. Seed of the training noise; None draws a fresh one.
        name: str or None. Name of the model; defaults to the family name.
    """

    family = None
    # "noise_to_image" or "image_to_image" (`ganzoo._tasks`): set by the task classes of
    # ganzoo.models.tasks, which every family subclasses.
    task = None
    # What `ganzoo train` uses when no --batch-size is given.
    default_batch_size = 64
    # What `ganzoo train` uses when no --image-size is given.
    default_image_size = 32
    default_loss = "non_saturating"
    loss_names = ("d_loss", "g_loss")
    # Every optimizer the model trains with, each an attribute of that name.
    optimizer_names = ("g_optimizer", "d_optimizer")
    # Decay of the generator's exponential moving average; None keeps no EMA generator.
    ema_decay = None
    # Families whose discriminator judges generated images against real ones take
    # `compile(augment=...)`; the others set a one-line reason here.
    refuses_augmentation = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Every family's networks are built right after its own `__init__` ends (the
        # outermost one, for subclasses of families): nothing to remember, nothing to
        # forget.
        if "__init__" in cls.__dict__:
            cls.__init__ = _finishing(cls.__dict__["__init__"])
        if "train_step" in cls.__dict__:
            cls.train_step = _restoring_statistics(cls.__dict__["train_step"])

    def __init__(self, image_shape, seed=None, name=None, **kwargs):
        super().__init__(name=name or self.family, **kwargs)
        self.image_shape = _validation.check_image_shape(image_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.num_classes = getattr(self, "num_classes", None)
        self.preset_name = None
        self.preset_path = None

    def _finish_init(self):
        """Build both networks and mark the wrapper built.

        Called for every family when its `__init__` ends (see `__init_subclass__`); a
        family never calls it itself.
        """
        self.__dict__["_ganzoo_networks_built"] = True
        # The dtype policy the networks are built with (`ganzoo.precision`); a training
        # setting, never saved in configs: presets load into any policy.
        self.__dict__["precision"] = precision_lib.current()
        self.build_networks()
        if self.ema_decay is not None:
            if not 0.0 <= float(self.ema_decay) < 1.0:
                raise ValueError(f"ema_decay must lie in [0, 1). Received: ema_decay={self.ema_decay!r}")
            self.generator_ema = self.build_generator()
            self.generator_ema.set_weights(self.generator.get_weights())
            self.generator_ema.trainable = False
        self.noise_seeds = keras.random.SeedGenerator(self.seed, name="noise_seeds")
        self.loss_trackers = {
            loss_name: keras.metrics.Mean(name=loss_name) for loss_name in self.loss_names
        }
        for optimizer_name in self.optimizer_names:
            setattr(self, optimizer_name, None)
        if len(self.phases()) > 1:
            # Steps trained so far, which decides the phase: saved in checkpoints and
            # presets, so a resumed run or a fine-tuned preset goes on where it was.
            self.phase_steps = keras.Variable(
                0, dtype="int64", trainable=False, name="phase_steps",
                aggregation="only_first_replica",
            )
        self.phase = self.phases()[0][0]
        if self.counts_lazy_steps():
            # Steps trained so far, which decides the lazy regularisation steps due (see
            # `lazy_intervals`): saved in checkpoints and presets like `phase_steps`.
            self.lazy_steps = keras.Variable(
                0, dtype="int64", trainable=False, name="lazy_steps",
                aggregation="only_first_replica",
            )
        self.regularizers_due = None
        # Set by `compile(augment=...)`; kept out of Keras' tracking on purpose, so that
        # presets and exported generators are the same with or without augmentation.
        self.__dict__["_augmentation"] = None
        self.built = True

    # -- what a family provides -------------------------------------------------------

    def build_generator(self):
        raise NotImplementedError(f"{type(self).__name__} must implement build_generator")

    def build_discriminator(self):
        raise NotImplementedError(f"{type(self).__name__} must implement build_discriminator")

    def build_networks(self):
        """Build and set the networks: `generator` and `discriminator` here. A family with
        more (cyclegan's second generator and discriminator) overrides this, calls it, and
        sets its own as attributes: every `keras.Model` attribute is saved (see
        `saved_networks`)."""
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()

    def saved_networks(self):
        """`{attribute name: network}` of every network Keras tracks on the model (what
        its weights file holds), in the order they were set: what presets and checkpoints
        save and what finite checks look at. Networks kept out of tracking on purpose
        (srgan's frozen VGG features) are not among them."""
        tracked = {id(layer) for layer in self.layers}
        return {name: value for name, value in vars(self).items()
                if isinstance(value, keras.Model) and id(value) in tracked}

    def generator_names(self):
        """Names `inference_generator` takes, the default first: `("generator",)` here;
        a family with several generators (cyclegan: "a2b", "b2a") overrides both."""
        return ("generator",)

    def inference_generator(self, name=None):
        """The generator users sample, export or load (`name` from `generator_names()`;
        None: the default): the EMA generator when the family keeps one."""
        self.check_generator_name(name)
        return self.generator_ema if self.ema_decay is not None else self.generator

    def check_generator_name(self, name):
        """One line when `name` is not None and not one of `generator_names()`."""
        names = self.generator_names()
        if name is not None and name not in names:
            raise ValueError(f"{self.family} has no generator {name!r}; it has {', '.join(names)}")

    def phases(self):
        """`(name, steps)` pairs of the training phases in order, the last with steps None.

        `train_step` reads `self.phase` (a Python str, fixed while a train function is
        traced); with more than one phase, `fit` switches it and retraces at the step
        where a phase ends.
        """
        return (("adversarial", None),)

    def phase_at(self, step):
        """The phase training is in after `step` steps."""
        start = 0
        for name, steps in self.phases():
            if steps is None or step < start + steps:
                return name
            start += steps
        return self.phases()[-1][0]

    def lazy_intervals(self):
        """`{name: interval}` of the regularisation steps the family takes apart from its
        main steps, each every `interval` training steps (0: never); none here.

        `fit` (and `train_on_batch`) trace one train function per set of names due and
        pick it before each step from `lazy_steps`, the steps trained so far: step s runs
        the names whose interval divides s. `train_step` reads the due names from
        `self.regularizers_due` (a frozenset, fixed while a function is traced). A custom
        loop that calls `train_step` itself sets `regularizers_due` before each step.
        """
        return {}

    def counts_lazy_steps(self):
        """Whether the model keeps the `lazy_steps` count in its weights (families with
        `lazy_intervals`; a family whose old presets lack it says False for those)."""
        return False

    def due_regularizers(self):
        """The names of `lazy_intervals` the step being traced takes: `regularizers_due`
        as `fit` sets it, or, when unset (`train_step` called directly), those due at step
        0: all of them."""
        if self.regularizers_due is None:
            return self.due_at(0)
        return self.regularizers_due

    def due_at(self, step):
        """The names of `lazy_intervals` due at training step `step` (from 0)."""
        return frozenset(name for name, interval in self.lazy_intervals().items()
                         if interval and step % interval == 0)

    def training_state(self):
        """`{name: variable}` of the model's own training state outside the networks
        (step counts, running means): what presets carry beside the networks."""
        return {name: getattr(self, name) for name in ("phase_steps", "lazy_steps")
                if getattr(self, name, None) is not None}

    def make_train_function(self, force=False):
        """Keras' train function, or, with `lazy_intervals`, one per set of due names,
        chosen before each step from `lazy_steps` (which it then advances)."""
        if not any(self.lazy_intervals().values()):
            self.regularizers_due = frozenset()
            return super().make_train_function(force=force)
        if self.train_function is not None and not force:
            return self.train_function
        if int(getattr(self, "steps_per_execution", 1) or 1) > 1:
            raise ValueError(
                f"{type(self).__name__} takes its lazy regularisation steps "
                f"({', '.join(sorted(self.lazy_intervals()))}) between Keras steps, so it "
                "trains with steps_per_execution=1. Received: "
                f"steps_per_execution={self.steps_per_execution}")
        make_keras_function = super().make_train_function
        functions = {}

        def train_function(iterator):
            due = self.due_at(int(keras.ops.convert_to_numpy(self.lazy_steps)))
            if due not in functions:
                make_keras_function(force=True)
                functions[due] = self.train_function
                self.train_function = train_function
            # Read by `train_step` when the function for `due` is traced (first call).
            self.regularizers_due = due
            logs = functions[due](iterator)
            self.lazy_steps.assign_add(1)
            return logs

        self.train_function = train_function
        return train_function

    def default_optimizers(self):
        """The optimizers from the family's paper: a dict `{name: optimizer}` over
        `optimizer_names`, or a tuple in that order; Adam(2e-4, 0.5) (DCGAN) here."""
        return (
            keras.optimizers.Adam(2e-4, beta_1=0.5, name="g_adam"),
            keras.optimizers.Adam(2e-4, beta_1=0.5, name="d_adam"),
        )

    def configure_losses(self, **loss_options):
        """Take family-specific loss options from `compile`; the base knows none."""
        if loss_options:
            raise ValueError(
                f"Unknown compile options for {type(self).__name__}: {sorted(loss_options)}"
            )

    # -- compile ----------------------------------------------------------------------

    def compile(self, g_optimizer=None, d_optimizer=None, loss=None, augment=None,
                **options):
        """Set the optimizers and losses; defaults follow the family's paper.

        Args:
            g_optimizer: `keras.optimizers.Optimizer`, name or None. Generator optimizer.
            d_optimizer: `keras.optimizers.Optimizer`, name or None. Discriminator
                optimizer.
            loss: str or None. Adversarial loss name (see `ganzoo.losses.names()`);
                defaults to the family's.
            augment: None, "none", "diffaugment", "ada", a DiffAugment policy such as
                "color,translation", or a `ganzoo.augment.Augmentation`. Differentiable
                augmentation of every image the discriminator sees in training (real and
                generated, independent draws); the generator is trained through it.
                Sampling, presets and export are unchanged. Defaults to None.
            **options: further optimizers by name (every name in `optimizer_names`) and
                family-specific loss options (gradient penalty weight, ...).
        """
        # No optimizer for the wrapper itself: Keras would otherwise build an unused
        # RMSprop over every weight.
        super().compile(optimizer=None)
        given = {"g_optimizer": g_optimizer, "d_optimizer": d_optimizer}
        for name in self.optimizer_names:
            if name in options:
                given[name] = options.pop(name)
        unknown = [name for name, value in given.items()
                   if value is not None and name not in self.optimizer_names]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} trains with {', '.join(self.optimizer_names)}. "
                f"Received: {', '.join(unknown)}"
            )
        augmentation = self._check_augmentation(augment)
        self.loss_name = loss or self.default_loss
        self.d_loss_fn, self.g_loss_fn = losses_lib.get(self.loss_name)
        self.configure_losses(**options)
        if augmentation is not None:
            with self.distribute_strategy.scope():
                augmentation.build()
        self.__dict__["_augmentation"] = augmentation
        with self.distribute_strategy.scope():
            defaults = self.default_optimizers()
        if not isinstance(defaults, dict):
            defaults = dict(zip(self.optimizer_names, defaults))
        # Optimizer slots must exist, as mirrored variables, before `fit` traces the
        # step under a strategy.
        for name in self.optimizer_names:
            with self.distribute_strategy.scope():
                optimizer = self._ensure_optimizer(given.get(name) or defaults[name], name)
            if self.precision == "mixed_float16" and not isinstance(
                    optimizer, keras.optimizers.LossScaleOptimizer):
                # Dynamic loss scaling: a step whose gradients overflow in float16 is
                # skipped (on every replica alike) and the scale halved. Its variables
                # are the strategy's, like the slots below.
                with self.distribute_strategy.scope():
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            setattr(self, name, optimizer)
            with self.distribute_strategy.scope():
                optimizer.build(self.optimizer_variables(name))
        self.loss_trackers.pop(SKIPPED_STEPS, None)
        if self.loss_scaled_optimizers():
            # Steps a float16 overflow made an optimizer skip, this epoch (`record`).
            with self.distribute_strategy.scope():
                self.loss_trackers[SKIPPED_STEPS] = keras.metrics.Sum(name=SKIPPED_STEPS)

    @staticmethod
    def _ensure_optimizer(optimizer, name):
        """An optimizer from an instance, a Keras name ("adam") or a Keras config dict
        (`{"class_name": "Adam", "config": {"learning_rate": 1e-4}}`, as
        `--compile-option` gives it)."""
        if isinstance(optimizer, (str, dict)):
            try:
                optimizer = keras.optimizers.get(optimizer)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"{name} must be a Keras optimizer, its name or its config. Received: "
                    f"{name}={optimizer!r} ({str(error).splitlines()[0]})") from None
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                f"{name} must be a keras.optimizers.Optimizer. Received: {name}={optimizer!r}"
            )
        return optimizer

    def _check_augmentation(self, augment):
        if augment is None:
            return None
        augmentation = augment_lib.get(augment)
        if augmentation is not None and self.refuses_augmentation:
            raise ValueError(
                f"{self.family} takes no augment= ({self.refuses_augmentation}). "
                f"Received: augment={augment!r}"
            )
        return augmentation

    @property
    def augmentation(self):
        """The `ganzoo.augment.Augmentation` set by `compile(augment=...)`, or None."""
        return self.__dict__.get("_augmentation")

    @property
    def metrics(self):
        return list(self.loss_trackers.values())

    def fit(self, x=None, *args, **kwargs):
        self._check_global_batch(x)
        if len(self.phases()) > 1:
            callbacks = list(kwargs.get("callbacks") or [])
            kwargs["callbacks"] = [_PhaseSwitch(), *callbacks]
        try:
            return super().fit(x, *args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            message = _failed_check_message(str(error))
            if message is None:
                raise
            raise ValueError(message) from None
        finally:
            # The due set of fit's last step is not the next direct `train_step`'s.
            self.regularizers_due = None

    def _check_global_batch(self, data):
        """A global batch must split evenly over the replicas: each replica's losses are
        divided by the global batch size, which is only right for equal shares."""
        replicas = self.distribute_strategy.num_replicas_in_sync
        spec = getattr(data, "element_spec", None)
        if replicas == 1 or spec is None:
            return
        first = tf.nest.flatten(spec)[0]
        batch = first.shape[0] if first.shape.rank else None
        if batch is not None and batch % replicas:
            raise ValueError(
                f"The global batch of {batch} does not split evenly over {replicas} "
                f"replicas: use a batch size that is a multiple of {replicas}"
            )

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a model from a first batch that it reduces across replicas; under
        # MultiWorkerMirroredStrategy that reduction fails on (images, labels) batches.
        # The networks are built in __init__ and the optimizers in compile, so there is
        # nothing to infer from data.
        if all(layer.built for layer in self._flatten_layers()):
            return None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    # -- pieces of a train step -------------------------------------------------------

    @staticmethod
    def model_images(images, tolerance=None):
        """A batch of training images as float32 in [-1, 1], the range every generator of
        the zoo makes: uint8 images are scaled from [0, 255] (as `ganzoo.data.load` does);
        float images must already lie in [-1, 1] (give or take `tolerance`, 1e-3 by
        default; bicubic resampling overshoots by a few percent), checked before the step
        uses them, so a batch of 0-255 or other values stops `fit` with one line instead
        of training on it."""
        tolerance = _RANGE_TOLERANCE if tolerance is None else float(tolerance)
        images = tf.convert_to_tensor(images)
        if images.dtype == tf.uint8:
            return tf.cast(images, tf.float32) / 127.5 - 1.0
        if not images.dtype.is_floating:
            raise ValueError(
                f"Training images must be uint8 in [0, 255] or float in [-1, 1]; the data "
                f"gives {images.dtype.name}: load it with ganzoo.data.load(..., "
                "value_range=(low, high))"
            )
        images = tf.cast(images, tf.float32)
        low, high = tf.reduce_min(images), tf.reduce_max(images)
        check = tf.debugging.Assert(
            tf.logical_and(low >= -1.0 - tolerance, high <= 1.0 + tolerance),
            [_RANGE_MARKER, low, high], summarize=2)
        with tf.control_dependencies([check]):
            return tf.identity(images)

    @staticmethod
    def num_replicas():
        return tf.distribute.get_strategy().num_replicas_in_sync

    # -- augmentation ----------------------------------------------------------------

    def augment_seed(self):
        """A fresh stateless seed for one augmentation draw, the same on every replica:
        the augmentation draws for the global batch and each replica takes its rows."""
        return tf.cast(self.noise_seeds.next(), tf.int64)

    def augment_images(self, images, seed=None):
        """`images` as the discriminator sees them in training: augmented by
        `compile(augment=...)` (a fresh draw per call unless `seed` is given), or as they
        are.

        The draws are made for the global batch and sliced by replica (a replica's images
        are rows `replica_id * B ...` of it), so a global row gets the same augmentation on
        one device and on several.
        """
        augmentation = self.augmentation
        if augmentation is None:
            return images
        rows = tf.shape(images)[0]
        replicas = self.num_replicas()
        context = tf.distribute.get_replica_context()
        replica_id = 0 if context is None else context.replica_id_in_sync_group
        offset = tf.cast(replica_id, tf.int32) * rows
        seed = self.augment_seed() if seed is None else seed
        return augmentation(images, seed, offset=offset, total=rows * replicas)

    def observe_real_logits(self, real_logits):
        """Pass the discriminator's logits on augmented real images to the augmentation
        (ADA adjusts its probability from their signs); nothing without augmentation."""
        if self.augmentation is not None:
            self.augmentation.observe(real_logits)

    def augmentation_logs(self):
        """What the augmentation logs each step (ADA: `aug_p`, `r_t`)."""
        if self.augmentation is None:
            return {}
        return dict(self.augmentation.logs())

    def noise_seed(self):
        """A fresh stateless seed for this step, different on every replica."""
        seed = tf.cast(self.noise_seeds.next(), tf.int64)
        context = tf.distribute.get_replica_context()
        replica_id = 0 if context is None else context.replica_id_in_sync_group
        replica_id = tf.cast(replica_id, tf.int64)
        return seed + tf.stack([replica_id * 1_000_003, tf.constant(0, tf.int64)])

    @staticmethod
    def average_loss(per_example_loss):
        """Sum of per-example losses divided by the global batch size."""
        return tf.nn.compute_average_loss(per_example_loss)

    def network_losses(self, *networks):
        """Losses the layers of `networks` added in their last call (kernel regularisers,
        `add_loss`), scaled for distribution: gradients are summed over replicas, so each
        replica contributes its 1/N share. Zero when there are none."""
        found = [loss for network in networks for loss in network.losses]
        if not found:
            return tf.constant(0.0)
        return tf.add_n([tf.cast(loss, tf.float32) for loss in found]) / tf.cast(
            self.num_replicas(), tf.float32)

    def apply_gradients(self, optimizer, tape, scaled_loss, variables, only_connected=False):
        """Apply the gradients of `scaled_loss`, which is `optimizer.scale_loss(loss)`
        computed inside `tape` (loss scaling for mixed precision; the identity otherwise).

        With `only_connected`, variables the loss does not depend on (the logit's bias
        for R1) are left out, untouched as in the authors' code, and unwarned about.

        A `LossScaleOptimizer` skips an update whose gradients overflow (and halves its
        scale); the step's `record` then leaves its losses out of the logs and counts it
        in `skipped_steps`.
        """
        gradients = tape.gradient(scaled_loss, variables)
        pairs = list(zip(gradients, variables))
        if only_connected:
            pairs = [(gradient, variable) for gradient, variable in pairs
                     if gradient is not None]
        if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer.apply_gradients(pairs)
            return
        before = tf.identity(optimizer.dynamic_scale.value)
        optimizer.apply_gradients(pairs)
        # Only a skipped update lowers the scale (a finite one keeps or doubles it).
        self._step_skips().append(optimizer.dynamic_scale.value < before)

    @staticmethod
    def _step_key():
        """Which step is being run or traced: its graph and thread (MirroredStrategy runs
        each replica's step in its own thread, in the same graph)."""
        return id(tf.compat.v1.get_default_graph()), threading.get_ident()

    def _step_skips(self, take=False):
        """The skipped flags `apply_gradients` noted in the step being run or traced;
        `take` hands them over and forgets them."""
        skips = self.__dict__.setdefault("_skips_by_step", {})
        if take:
            return skips.pop(self._step_key(), [])
        return skips.setdefault(self._step_key(), [])

    def _step_skipped(self):
        """Whether an update of the step so far was skipped (a bool tensor), or None
        when no update of it is loss-scaled."""
        skips = self._step_skips()
        return tf.reduce_any(tf.stack(skips)) if skips else None

    def network_statistics(self):
        """The float variables of the trained networks that the forward pass updates
        (batch-norm statistics, power-iteration vectors, the tracked mean w): their
        non-trainable weights, the EMA generator's aside."""
        found = []
        for name, network in self.saved_networks().items():
            if name == "generator_ema":
                continue
            found += [variable for variable in network.non_trainable_weights
                      if "float" in str(variable.dtype)]
        return found

    def loss_scaled_optimizers(self):
        """`{name: optimizer}` of the optimizers that scale their loss (float16)."""
        return {name: optimizer for name, optimizer in self.optimizers().items()
                if isinstance(optimizer, keras.optimizers.LossScaleOptimizer)}

    def optimizers(self):
        """`{name: optimizer}` of every optimizer the model trains with (schedules set
        their learning rates through this)."""
        return {name: getattr(self, name) for name in self.optimizer_names}

    def optimizer_variables(self, name):
        """The variables the optimizer called `name` updates: the generator's trainable
        variables for `g_optimizer`, the discriminator's for `d_optimizer`. A family with
        more networks or optimizers overrides this."""
        if name == "g_optimizer":
            return self.generator.trainable_variables
        if name == "d_optimizer":
            return self.discriminator.trainable_variables
        raise NotImplementedError(
            f"{type(self).__name__} must say what {name} updates (optimizer_variables)")

    def update_ema(self, decay=None):
        """Move the EMA generator towards the generator: trainable weights averaged with
        `decay` (a float or a tensor, e.g. one set by the step's global batch; default
        `ema_decay`), the others (batch-norm statistics) copied.

        Call right after the generator update. Exact under distribution: the update runs
        once, in cross-replica context, on weights that are equal on every replica. A
        step whose float16 update was skipped leaves the EMA generator as it was.
        """
        decay = tf.cast(self.ema_decay if decay is None else decay, tf.float32)
        pairs = list(zip(self.generator_ema.weights, self.generator.weights))
        trainable = {id(v) for v in self.generator.trainable_weights}
        skipped = self._step_skipped()

        def update(*_):
            for ema_weight, weight in pairs:
                value = weight.value if hasattr(weight, "value") else weight
                if id(weight) in trainable:
                    value = decay * ema_weight.value + (1.0 - decay) * value
                if skipped is not None:
                    value = tf.where(skipped, ema_weight.value, value)
                ema_weight.assign(value)

        context = tf.distribute.get_replica_context()
        if context is None or not tf.distribute.has_strategy():
            update()
        else:
            context.merge_call(update)

    def generator_variables(self):
        """The variables `g_optimizer` updates (`optimizer_variables("g_optimizer")`)."""
        return self.optimizer_variables("g_optimizer")

    def discriminator_variables(self):
        """The variables `d_optimizer` updates (`optimizer_variables("d_optimizer")`)."""
        return self.optimizer_variables("d_optimizer")

    def record(self, **replica_losses):
        """Update the trackers with replica losses; return the logs `fit` shows.

        With float16 loss scaling, a step one of whose updates overflowed and was skipped
        (its weights untouched) adds nothing to the losses shown (they may be Inf or NaN)
        and one to `skipped_steps`; the logs also show each such optimizer's loss scale
        (`g_optimizer_loss_scale`, ...).
        """
        replicas = tf.cast(self.num_replicas(), tf.float32)
        skipped = self._step_skipped()
        self._step_skips(take=True)
        if skipped is not None:
            # For `train_step`'s wrapper, which restores the statistics of a skipped step.
            self.__dict__.setdefault("_skipped_by_step", {})[self._step_key()] = skipped
        for loss_name, value in replica_losses.items():
            value = tf.cast(value, tf.float32) * replicas
            if skipped is None:
                self.loss_trackers[loss_name].update_state(value)
            else:
                self.loss_trackers[loss_name].update_state(
                    tf.where(skipped, tf.zeros_like(value), value),
                    sample_weight=1.0 - tf.cast(skipped, tf.float32))
        if SKIPPED_STEPS in self.loss_trackers:
            # Every replica skips alike, and trackers are averaged over replicas when read.
            self.loss_trackers[SKIPPED_STEPS].update_state(
                tf.cast(skipped if skipped is not None else False, tf.float32))
        logs = {name: tracker.result() for name, tracker in self.loss_trackers.items()}
        logs.update({f"{name}_loss_scale": tf.identity(optimizer.dynamic_scale.value)
                     for name, optimizer in self.loss_scaled_optimizers().items()})
        # Global values, equal on every replica (ADA's p and r_t).
        logs.update({name: tf.identity(value) for name, value in self.augmentation_logs().items()})
        if _in_multi_worker_mode():
            # Keras reduces step outputs with `strategy.reduce("MEAN", v, axis=0)` under
            # MultiWorkerMirroredStrategy, which fails on scalars: give it a batch axis.
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    # -- the standard step: one discriminator update, then one generator update ------

    def check_batch(self, real_images):
        """One clear error when the data's images do not have the model's shape."""
        got = tuple(real_images.shape[1:])
        if len(got) != 3 or any(
            have is not None and have != want for have, want in zip(got, self.image_shape)
        ):
            raise ValueError(
                f"{self.family} was built for images of shape {self.image_shape} "
                f"(height, width, channels); the data gives {got}: load the data with "
                f"image_size={self.image_shape[0]} and channels={self.image_shape[2]}"
            )

    # -- inference --------------------------------------------------------------------

    # -- config and presets -----------------------------------------------------------

    def get_config(self):
        return {"image_shape": list(self.image_shape), "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save_to_preset(self, preset_dir, overwrite=False, card=None, preset_name=None,
                       **training):
        """Write a preset folder (config.json, model.weights.h5, card.md, sha256.txt).

        See `ganzoo.presets.save_to_preset` for the arguments.
        """
        return presets.save_to_preset(
            self, preset_dir, overwrite=overwrite, card=card, preset_name=preset_name,
            **training
        )

    @classmethod
    def from_preset(cls, preset, load_weights=True):
        """Build the family from a preset name or folder, weights verified and loaded."""
        return load_preset(preset, load_weights=load_weights, expected_class=cls)


class _PhaseSwitch(keras.callbacks.Callback):
    """Keeps `model.phase` in step with the steps trained; retraces on a change.

    Added by `AdversarialModel.fit` for families with several phases. The count lives in
    the model's `phase_steps` variable, so checkpoints and presets carry it. With
    `steps_per_execution` > 1 a phase switches at the first execution boundary after its
    step.
    """

    def on_train_begin(self, logs=None):
        self._steps = int(keras.ops.convert_to_numpy(self.model.phase_steps))
        self._switch()

    def on_train_batch_begin(self, batch, logs=None):
        self._switch()

    def on_train_batch_end(self, batch, logs=None):
        self._steps += int(getattr(self.model, "steps_per_execution", 1) or 1)
        self.model.phase_steps.assign(self._steps)

    def _switch(self):
        phase = self.model.phase_at(self._steps)
        if phase != self.model.phase:
            self.model.phase = phase
            self.model.make_train_function(force=True)
