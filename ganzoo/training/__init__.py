"""Training helpers: distribution strategies and callbacks."""

from ganzoo.training.callbacks import SampleGrid, TensorBoardImages
from ganzoo.training.distribute import strategy

__all__ = ["SampleGrid", "TensorBoardImages", "strategy"]
