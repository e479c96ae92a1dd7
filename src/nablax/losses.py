"""Losses as pure functions, equal to `torch.nn.functional`'s for the same inputs.

Each takes `(input, target)` in PyTorch's order and a `reduction` of `'mean'` (default),
`'sum'` or `'none'`. Unlike PyTorch, the regression losses do not broadcast a target of a
different shape (a classic silent bug): they raise and say how to fix it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(loss: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_same_shape(loss: str, input: jax.Array, target: jax.Array) -> None:
    if jnp.shape(input) != jnp.shape(target):
        raise ValueError(
            f"{loss}: target shape {tuple(jnp.shape(target))} does not match input shape "
            f"{tuple(jnp.shape(input))}; reshape the target (e.g. target.reshape(input.shape)), "
            f"nablax does not broadcast loss targets"
        )


def _reduce(loss: jax.Array, reduction: str) -> jax.Array:
    if reduction == "mean":
        return jnp.mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


def mse(input: jax.Array, target: jax.Array, reduction: str = "mean") -> jax.Array:
    """Mean squared error, `(input - target)**2` reduced; `torch.nn.functional.mse_loss`.

        >>> import jax.numpy as jnp
        >>> float(mse(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
        2.0
    """
    _check_reduction("mse", reduction)
    _check_same_shape("mse", input, target)
    return _reduce(jnp.square(input - target), reduction)


def l1(input: jax.Array, target: jax.Array, reduction: str = "mean") -> jax.Array:
    """Mean absolute error, `|input - target|` reduced; `torch.nn.functional.l1_loss`."""
    _check_reduction("l1", reduction)
    _check_same_shape("l1", input, target)
    return _reduce(jnp.abs(input - target), reduction)


def smooth_l1(input: jax.Array, target: jax.Array, reduction: str = "mean", beta: float = 1.0) -> jax.Array:
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta, for d = input - target;
    `torch.nn.functional.smooth_l1_loss`. `beta=0` is the L1 loss.

        >>> import jax.numpy as jnp
        >>> smooth_l1(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none").tolist()
        [0.125, 2.5]
    """
    _check_reduction("smooth_l1", reduction)
    _check_same_shape("smooth_l1", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1: beta must be non-negative, got {beta}")
    distance = jnp.abs(input - target)
    if beta == 0:
        return _reduce(distance, reduction)
    return _reduce(jnp.where(distance < beta, 0.5 * jnp.square(input - target) / beta, distance - 0.5 * beta), reduction)


def huber(input: jax.Array, target: jax.Array, reduction: str = "mean", delta: float = 1.0,
          weight: jax.Array | None = None) -> jax.Array:
    """0.5 * d**2 where |d| <= delta, else delta * (|d| - 0.5 * delta), for d = input - target,
    times `weight` if given; `torch.nn.functional.huber_loss`. It is `delta * smooth_l1(..., beta=delta)`.

        >>> import jax.numpy as jnp
        >>> huber(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none", delta=2.0).tolist()
        [0.125, 4.0]
    """
    _check_reduction("huber", reduction)
    _check_same_shape("huber", input, target)
    if delta <= 0:
        raise ValueError(f"huber: delta must be positive, got {delta}")
    distance = jnp.abs(input - target)
    loss = jnp.where(distance <= delta, 0.5 * jnp.square(input - target), delta * (distance - 0.5 * delta))
    if weight is not None:
        _check_same_shape("huber (weight)", input, weight)
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: jax.Array, target: jax.Array, reduction: str = "mean", log_target: bool = False) -> jax.Array:
    """The Kullback-Leibler divergence of `target` from the distribution whose log-probabilities
    are `input`: `target * (log(target) - input)` pointwise (0 where target is 0), or with
    `log_target=True` a target given as log-probabilities; `torch.nn.functional.kl_div`.
    `reduction='batchmean'` divides the sum by the batch size (axis 0), which is the KL
    divergence per sample; `'mean'` divides by the number of elements, as PyTorch does.

        >>> import jax, jax.numpy as jnp
        >>> p = jnp.array([[0.5, 0.5]])
        >>> float(kl_div(jnp.log(p), p, reduction="batchmean"))
        0.0
    """
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    _check_same_shape("kl_div", input, target)
    if log_target:
        pointwise = jnp.exp(target) * (target - input)
    else:
        pointwise = jax.scipy.special.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return jnp.sum(pointwise) / (jnp.shape(input)[0] if jnp.ndim(input) else 1)
    return _reduce(pointwise, reduction)


def _class_axis(loss: str, input: jax.Array) -> int:
    """PyTorch's layout: classes along axis 1 of `[N, C, d1, ...]`, or axis 0 of an unbatched `[C]`."""
    ndim = jnp.ndim(input)
    if ndim == 0:
        raise ValueError(f"{loss}: input must have a class dimension, got a scalar")
    return 0 if ndim == 1 else 1


def _check_class_targets(loss: str, input: jax.Array, target: jax.Array, axis: int) -> None:
    expected = jnp.shape(input)[:axis] + jnp.shape(input)[axis + 1 :]
    if jnp.shape(target) != expected:
        raise ValueError(
            f"{loss}: class-index target must have shape {expected} (input {tuple(jnp.shape(input))} "
            f"without its class dimension {axis}), got {tuple(jnp.shape(target))}"
        )


def _check_weight(loss: str, weight: jax.Array | None, num_classes: int) -> None:
    if weight is not None and jnp.shape(weight) != (num_classes,):
        raise ValueError(f"{loss}: weight must have one entry per class, shape ({num_classes},), got {tuple(jnp.shape(weight))}")


def _nll_terms(log_probs, target, axis, weight, ignore_index):
    """Per-element `-weight[t] * log_probs[t]` and the weights, with ignored targets at 0."""
    num_classes = log_probs.shape[axis]
    keep = target != ignore_index
    class_target = target if weight is None else jnp.where(keep, target, 0)  # the weight lookup needs a class
    # A masked sum over the classes rather than a gather: the same value exactly (one term is
    # kept, the rest are zeros), and XLA compiles it faster than a gather and its scatter-add
    # gradient, at the cost of the O(classes) pass the log-softmax makes anyway.
    class_shape = [1] * log_probs.ndim
    class_shape[axis] = num_classes
    is_target = jnp.arange(num_classes).reshape(class_shape) == jnp.expand_dims(class_target, axis)
    if weight is None and 0 <= ignore_index < num_classes:
        # An ignore_index outside [0, C), like PyTorch's default -100, matches no class, so the
        # masked sum is already 0 for ignored targets; one inside needs masking out.
        is_target = is_target & jnp.expand_dims(keep, axis)
    terms = -jnp.sum(jnp.where(is_target, log_probs, 0), axis=axis)
    weights = keep.astype(log_probs.dtype)
    if weight is None:
        return terms, weights
    weights = weights * jnp.asarray(weight, log_probs.dtype)[class_target]
    return terms * weights, weights


def _reduce_weighted(terms, weights, reduction):
    if reduction == "mean":
        return jnp.sum(terms) / jnp.sum(weights)  # PyTorch's weighted mean: over the targets' weights
    return _reduce(terms, reduction)


def nll(
    input: jax.Array,
    target: jax.Array,
    weight: jax.Array | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> jax.Array:
    """Negative log likelihood of class indices `target` under log-probabilities `input`;
    `torch.nn.functional.nll_loss`. Targets equal to `ignore_index` do not count.

    Out-of-range targets are not checked (they cannot be inside `jit`); keep them in `[0, C)`.
    """
    _check_reduction("nll", reduction)
    axis = _class_axis("nll", input)
    _check_class_targets("nll", input, target, axis)
    _check_weight("nll", weight, jnp.shape(input)[axis])
    terms, weights = _nll_terms(input, target, axis, weight, ignore_index)
    return _reduce_weighted(terms, weights, reduction)


def cross_entropy(
    input: jax.Array,
    target: jax.Array,
    weight: jax.Array | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> jax.Array:
    """Softmax cross-entropy of logits `input` (classes along axis 1, or 0 when unbatched);
    `torch.nn.functional.cross_entropy`.

    `target` holds class indices (an integer array, the input's shape without the class axis)
    or class probabilities (a float array of the input's shape).

        >>> import jax.numpy as jnp
        >>> logits = jnp.array([[2.0, 0.0], [0.0, 2.0]])
        >>> round(float(cross_entropy(logits, jnp.array([0, 1]))), 4)
        0.1269
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    axis = _class_axis("cross_entropy", input)
    num_classes = jnp.shape(input)[axis]
    _check_weight("cross_entropy", weight, num_classes)
    log_probs = jax.nn.log_softmax(input, axis=axis)
    class_weight = None if weight is None else _along(jnp.asarray(weight, log_probs.dtype), axis, jnp.ndim(input))

    if jnp.issubdtype(jnp.asarray(target).dtype, jnp.floating):
        _check_same_shape("cross_entropy (probability target)", input, target)
        if label_smoothing > 0:
            target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
        weighted = log_probs * target if class_weight is None else log_probs * target * class_weight
        terms = -jnp.sum(weighted, axis=axis)
        if reduction == "mean":  # PyTorch divides by the number of samples, weights or not
            return jnp.sum(terms) / (log_probs.size // num_classes)
        return _reduce(terms, reduction)

    _check_class_targets("cross_entropy", input, target, axis)
    terms, weights = _nll_terms(log_probs, target, axis, weight, ignore_index)
    loss = _reduce_weighted(terms, weights, reduction)
    if label_smoothing == 0:
        return loss
    # PyTorch mixes in the loss against the uniform distribution, masked and normalised like nll.
    smooth = -jnp.sum(log_probs if class_weight is None else log_probs * class_weight, axis=axis)
    smooth = jnp.where(target != ignore_index, smooth, 0.0)
    smooth = _reduce_weighted(smooth, weights, reduction)
    return (1.0 - label_smoothing) * loss + (label_smoothing / num_classes) * smooth


def _along(vector: jax.Array, axis: int, ndim: int) -> jax.Array:
    """Reshapes a per-class vector to broadcast along `axis` of an `ndim`-dimensional array."""
    return jnp.reshape(vector, (-1,) + (1,) * (ndim - axis - 1))


def binary_cross_entropy(
    input: jax.Array,
    target: jax.Array,
    weight: jax.Array | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Binary cross-entropy of probabilities `input`; `torch.nn.functional.binary_cross_entropy`.
    Like PyTorch, each log is clamped at -100 so a probability of exactly 0 or 1 stays finite."""
    _check_reduction("binary_cross_entropy", reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    log_p = jnp.maximum(jnp.log(input), -100.0)
    log_not_p = jnp.maximum(jnp.log1p(-input), -100.0)
    loss = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: jax.Array,
    target: jax.Array,
    weight: jax.Array | None = None,
    reduction: str = "mean",
    pos_weight: jax.Array | None = None,
) -> jax.Array:
    """Sigmoid then binary cross-entropy, computed stably from logits `input`;
    `torch.nn.functional.binary_cross_entropy_with_logits`. `pos_weight` scales the positive
    term and broadcasts along the last (class) axis."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    log_sig = jax.nn.log_sigmoid(input)
    log_not_sig = jax.nn.log_sigmoid(-input)
    positive = target * log_sig if pos_weight is None else pos_weight * target * log_sig
    loss = -(positive + (1.0 - target) * log_not_sig)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# Stands for log(0) in the CTC recursion: finite, so that no gradient meets inf - inf, and so
# low that a path through it is still impossible after any number of steps.
_CTC_IMPOSSIBLE = -1e30


def _ctc_extended_labels(targets: jax.Array, blank: int) -> jax.Array:
    """[N, 2S + 1]: each target sequence with a blank before, between and after its labels."""
    samples, length = targets.shape
    extended = jnp.full((samples, 2 * length + 1), blank, targets.dtype)
    return extended.at[:, 1::2].set(targets)


def _ctc_alphas(log_probs, extended, input_lengths, skips):
    """The forward variables log alpha[n, s] after each sample's last time step."""
    emitted = jnp.take_along_axis(log_probs, extended[None], axis=2)  # [T, N, 2S + 1]
    first = jnp.full(extended.shape, _CTC_IMPOSSIBLE, log_probs.dtype).at[:, :2].set(emitted[0, :, :2])

    def step(alpha, inputs):
        time, emission = inputs
        stay = alpha
        advance = jnp.pad(alpha, ((0, 0), (1, 0)), constant_values=_CTC_IMPOSSIBLE)[:, :-1]
        skip = jnp.pad(alpha, ((0, 0), (2, 0)), constant_values=_CTC_IMPOSSIBLE)[:, :-2]
        skip = jnp.where(skips, skip, _CTC_IMPOSSIBLE)
        new = jnp.logaddexp(jnp.logaddexp(stay, advance), skip) + emission
        return jnp.where((time < input_lengths)[:, None], new, alpha), None

    times = jnp.arange(1, log_probs.shape[0])
    alpha, _ = jax.lax.scan(step, first, (times, emitted[1:]))
    return alpha


def ctc(log_probs: jax.Array, targets: jax.Array, input_lengths: jax.Array, target_lengths: jax.Array, blank: int = 0,
        reduction: str = "mean", zero_infinity: bool = False) -> jax.Array:
    """`torch.nn.functional.ctc_loss` of log-probabilities [T, N, C] and padded targets [N, S]:
    -log of the total probability of the alignments of each target (its first
    `target_lengths[n]` labels) to the first `input_lengths[n]` steps. 'mean' divides each
    loss by its target length first. An impossible target gives inf (0 with `zero_infinity`).
    The gradient is PyTorch's: that of the loss of log_softmax(log_probs), which for
    normalised log-probabilities adds exp(log_probs) to the plain derivative.

        >>> import jax.numpy as jnp
        >>> log_probs = jnp.log(jnp.full((2, 1, 2), 0.5))
        >>> round(float(ctc(log_probs, jnp.array([[1]]), jnp.array([2]), jnp.array([1]), reduction="sum")), 4)
        0.2877
    """
    _check_reduction("ctc", reduction)
    input_lengths, target_lengths = jnp.asarray(input_lengths), jnp.asarray(target_lengths)
    extended = _ctc_extended_labels(jnp.clip(targets, 0, log_probs.shape[2] - 1), blank)
    repeated = jnp.pad(extended, ((0, 0), (2, 0)), constant_values=-1)[:, :-2] == extended
    skips = (jnp.arange(extended.shape[1]) % 2 == 1) & ~repeated
    alpha = _ctc_alphas(log_probs, extended, input_lengths, skips)
    last = 2 * target_lengths
    ends = jnp.take_along_axis(alpha, jnp.stack([last, jnp.maximum(last - 1, 0)], 1), axis=1)
    ends = ends.at[:, 1].set(jnp.where(target_lengths > 0, ends[:, 1], _CTC_IMPOSSIBLE))
    loss = -jax.nn.logsumexp(ends, axis=1)
    impossible = loss > -_CTC_IMPOSSIBLE / 2
    # PyTorch's backward adds exp(log_probs) over each sample's steps: a term of value 0 here.
    steps = jnp.arange(log_probs.shape[0])[:, None] < input_lengths[None]
    normaliser = jnp.sum(jnp.where(steps[..., None], jnp.exp(log_probs), 0), axis=(0, 2))
    loss = loss + (normaliser - jax.lax.stop_gradient(normaliser))
    loss = jnp.where(impossible, 0.0 if zero_infinity else jnp.inf, loss)
    if reduction == "mean":
        return jnp.mean(loss / jnp.maximum(target_lengths, 1).astype(loss.dtype))
    return _reduce(loss, reduction)
