"""The finite-weights guard shared by presets, export and training (NumPy only).

A model whose training diverged holds NaN or Inf weights; saved, it loads fine and draws
black images, and exported, it fails the parity check for a reason the message cannot
name. Every writer checks with `check_finite` first and says what really happened.
"""

import numpy as np


def networks_of(model):
    """`[(name, keras model)]` of a ganzoo family, or `[("generator", model)]` for a plain one."""
    if getattr(model, "generator", None) is None:
        return [("generator", model)]
    saved = getattr(model, "saved_networks", None)
    if saved is not None:
        return [(name, network) for name, network in saved().items() if network is not None]
    names = ["generator", "discriminator"]
    return [(name, getattr(model, name)) for name in names
            if getattr(model, name, None) is not None]


def first_non_finite(model, networks=None):
    """`(network name, variable path)` of the first NaN or Inf weight, or None.

    Args:
        model: a ganzoo family model, or any Keras model (checked as "generator").
        networks: iterable of str or None. Names of the networks to check (`("generator",)`
            for export). Defaults to all of them: every network the model saves.
    """
    for name, network in networks_of(model):
        if networks is not None and name not in networks:
            continue
        for variable in network.weights:
            values = np.asarray(variable)
            if np.issubdtype(values.dtype, np.inexact) and not np.all(np.isfinite(values)):
                return name, getattr(variable, "path", None) or variable.name
    return None


def check_finite(model, networks=None):
    """Raise a one-line ValueError if a weight of `model` is NaN or Inf.

    Args:
        model: a ganzoo family model, or any Keras model (checked as "generator").
        networks: iterable of str or None. As for `first_non_finite`.

    Raises:
        ValueError: naming the network and the first non-finite variable, saying the model
            diverged and what to do about it.
    """
    found = first_non_finite(model, networks)
    if found is not None:
        name, path = found
        raise ValueError(
            f"The {name} has NaN or Inf weights (first: {path}): the model diverged in "
            "training. Lower the learning rate and resume from the last good checkpoint"
        )
