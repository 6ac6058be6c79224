"""Feature statistics accumulated batch by batch, so evaluation memory does not grow with N.

`FeatureStats` keeps what FID needs (count, mean, covariance) in O(D²) memory.
`FeatureReservoir` keeps a uniform random sample of at most `capacity` rows for the metrics
that need the features themselves (KID, precision/recall). NumPy only.
"""

import numpy as np

from ganzoo.metrics import _checks

# 10,000 rows of 2048 Inception features are 80 MB of float32. KID's default subsets hold
# 1,000 rows, and precision/recall costs N²·D, so 10k is where both stay practical on CPU.
DEFAULT_RESERVOIR_CAPACITY = 10_000


class FeatureStats:
    """Running mean and covariance (ddof=1) of feature batches, in float64.

    Instead of a raw sum of outer products, it keeps the mean and the sum of centred outer
    products and combines batches with the pairwise update of Chan et al. (1979): the same
    numbers, without the cancellation of sum(x xᵀ) - N·mu muᵀ when the mean is large
    relative to the spread.

    Args:
        feature_dim: int or None. Feature dimension D; taken from the first batch if None.

    Examples:
    >>> stats = FeatureStats()
    >>> for batch in np.array_split(np.random.default_rng(0).standard_normal((100, 4)), 3):
    ...     stats = stats.update(batch)
    >>> stats.count, stats.mean.shape, stats.covariance.shape
    (100, (4,), (4, 4))
    """

    def __init__(self, feature_dim=None):
        if feature_dim is not None:
            feature_dim = _checks.positive_int(feature_dim, "feature_dim")
        self.feature_dim = feature_dim
        self.count = 0
        self._mean = None
        self._centered_outer_sum = None

    def update(self, batch):
        """Add a (B, D) batch of features. Returns `self`."""
        batch = _checks.features_2d(batch, "batch")
        self._check_dim(batch.shape[1], f"batch of shape={batch.shape}")
        batch_mean = batch.mean(axis=0)
        centered = batch - batch_mean
        self._combine(len(batch), batch_mean, centered.T @ centered)
        return self

    def merge(self, other):
        """Add another `FeatureStats` (e.g. one per worker or data shard). Returns `self`."""
        if not isinstance(other, FeatureStats):
            raise ValueError(f"Expected a FeatureStats. Received: {type(other).__name__}")
        if other.count == 0:
            return self
        self._check_dim(other.feature_dim, f"FeatureStats with feature_dim={other.feature_dim}")
        self._combine(other.count, other._mean, other._centered_outer_sum)
        return self

    @property
    def mean(self):
        """(D,) float64 mean of the features seen so far."""
        if self.count < 1:
            raise ValueError("FeatureStats holds no features yet. Received: count=0")
        return self._mean.copy()

    @property
    def covariance(self):
        """(D, D) float64 sample covariance (ddof=1) of the features seen so far."""
        if self.count < 2:
            raise ValueError(
                f"A covariance needs at least 2 samples. Received: count={self.count}"
            )
        outer = self._centered_outer_sum
        return (outer + outer.T) / (2.0 * (self.count - 1))

    def _check_dim(self, dim, received):
        if self.feature_dim is None:
            self.feature_dim = dim
        elif dim != self.feature_dim:
            raise ValueError(
                f"Expected features of dimension {self.feature_dim}. Received: {received}"
            )

    def _combine(self, count, mean, centered_outer_sum):
        if self.count == 0:
            self.count = count
            self._mean = np.array(mean, dtype=np.float64)
            self._centered_outer_sum = np.array(centered_outer_sum, dtype=np.float64)
            return
        total = self.count + count
        delta = mean - self._mean
        self._mean = self._mean + delta * (count / total)
        self._centered_outer_sum = (
            self._centered_outer_sum
            + centered_outer_sum
            + np.outer(delta, delta) * (self.count * count / total)
        )
        self.count = total


class FeatureReservoir:
    """A uniform random sample of at most `capacity` feature rows (reservoir sampling).

    Every row seen has the same chance capacity/count of being kept (Vitter's Algorithm R,
    vectorised per batch), so KID and precision/recall over a stream of N images need
    O(capacity·D) memory. Until `capacity` rows have been seen it simply keeps all of them.
    Rows are stored as float32.

    Args:
        capacity: int. Most rows kept. Defaults to 10,000 (80 MB for 2048 features).
        seed: int or None. Seed of the choice of rows. Defaults to 0.
        feature_dim: int or None. Feature dimension D; taken from the first batch if None.
    """

    def __init__(self, capacity=DEFAULT_RESERVOIR_CAPACITY, seed=0, feature_dim=None):
        self.capacity = _checks.positive_int(capacity, "capacity")
        if feature_dim is not None:
            feature_dim = _checks.positive_int(feature_dim, "feature_dim")
        self.feature_dim = feature_dim
        self.count = 0
        self._rng = np.random.default_rng(seed)
        self._chunks = []
        self._buffer = None

    def __len__(self):
        return min(self.count, self.capacity)

    def update(self, batch):
        """Offer a (B, D) batch of features. Returns `self`."""
        batch = _checks.features_2d(batch, "batch").astype(np.float32)
        if self.feature_dim is None:
            self.feature_dim = batch.shape[1]
        elif batch.shape[1] != self.feature_dim:
            raise ValueError(
                f"Expected features of dimension {self.feature_dim}. "
                f"Received: batch of shape={batch.shape}"
            )
        n_fill = min(len(batch), max(self.capacity - self.count, 0))
        if n_fill:
            self._chunks.append(batch[:n_fill])
        rest = batch[n_fill:]
        if len(rest):
            self._replace(rest, first_index=self.count + n_fill)
        self.count += len(batch)
        return self

    @property
    def features(self):
        """(min(count, capacity), D) float32 array of the rows kept."""
        if self.count == 0:
            raise ValueError("FeatureReservoir holds no features yet. Received: count=0")
        self._consolidate()
        return self._buffer.copy()

    def _consolidate(self):
        if self._chunks:
            parts = ([self._buffer] if self._buffer is not None else []) + self._chunks
            self._buffer = np.concatenate(parts, axis=0)
            self._chunks = []

    def _replace(self, rows, first_index):
        self._consolidate()
        # Row number i (0-based over the whole stream) replaces slot j ~ U{0..i} if j < capacity.
        stream_index = first_index + np.arange(len(rows))
        slots = self._rng.integers(0, stream_index + 1)
        keep = slots < self.capacity
        slots, rows = slots[keep], rows[keep]
        # When two rows of one batch draw the same slot the later one wins, as it would
        # row by row: keep each slot's last occurrence.
        unique_slots, last_reversed = np.unique(slots[::-1], return_index=True)
        self._buffer[unique_slots] = rows[::-1][last_reversed]
