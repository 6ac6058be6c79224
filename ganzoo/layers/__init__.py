"""Building blocks shared by the ganzoo families."""

from ganzoo.layers.maxout import Maxout

__all__ = ["Maxout"]
