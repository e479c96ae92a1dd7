"""The activations, distances, margin/embedding/likelihood losses, feature dropouts and
embedding bags of `nn.functional` against PyTorch: values, gradients, one error of each
family (op_db checks their breadth). Their grad_fn names are those of the ops they are
composed of, so the comparisons are of detached values."""

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

import nablax.stateful as nxt

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 6)).astype(np.float32)
Y = RNG.standard_normal((4, 6)).astype(np.float32)
Z = RNG.standard_normal((4, 6)).astype(np.float32)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
CLASSES = np.array([2, 0, 5, 1])
LABELS = np.array([[1, 3, -1, 0, 0, 0], [5, 5, 2, -1, 1, 1], [0, 1, 2, 3, 4, 5], [-1, 2, 2, 2, 2, 2]])


def F(T):
    return T.nn.functional


def detached(T, fn, *arrays):
    out, grads = gradients(T, fn, *arrays)
    return [out.detach(), *grads]


CASES = {
    "glu": (lambda T, x: F(T).glu(x, 1), X),
    "hardshrink": (lambda T, x: F(T).hardshrink(x, 0.6), X),
    "softshrink": (lambda T, x: F(T).softshrink(x, 0.6), X),
    "tanhshrink": (lambda T, x: F(T).tanhshrink(x), X),
    "rrelu-eval": (lambda T, x: F(T).rrelu(x, 0.1, 0.3), X),
    "cosine_similarity": (lambda T, x, y: F(T).cosine_similarity(x, y), X, Y),
    "pairwise_distance-p1": (lambda T, x, y: F(T).pairwise_distance(x, y, 1.0, keepdim=True), X, Y),
    "pdist": (lambda T, x: F(T).pdist(x, 3.0), X),
    "cosine_embedding_loss": (lambda T, x, y: F(T).cosine_embedding_loss(x, y, T.tensor(SIGNS), 0.2), X, Y),
    "hinge_embedding_loss": (lambda T, x: F(T).hinge_embedding_loss(x, T.tensor(np.sign(Y)), reduction="none"), X),
    "margin_ranking_loss": (lambda T, x, y: F(T).margin_ranking_loss(x, y, T.tensor(np.sign(Z)), 0.1), X, Y),
    "soft_margin_loss": (lambda T, x: F(T).soft_margin_loss(x, T.tensor(np.sign(Y)), reduction="sum"), X),
    "multilabel_soft_margin_loss": (
        lambda T, x, w: F(T).multilabel_soft_margin_loss(x, T.tensor((Y > 0).astype(np.float32)), w[0]), X, Z),
    "multi_margin_loss-p2": (
        lambda T, x: F(T).multi_margin_loss(x, T.tensor(CLASSES), 2, 0.7, T.tensor(Z[0]).abs(), reduction="none"), X),
    "multilabel_margin_loss": (lambda T, x: F(T).multilabel_margin_loss(x, T.tensor(LABELS), reduction="none"), X),
    "poisson_nll_loss-full": (lambda T, x, t: F(T).poisson_nll_loss(x, t.abs() * 3, full=True), X, Y),
    "poisson_nll_loss-rates": (lambda T, x, t: F(T).poisson_nll_loss(x.abs(), t.abs(), False), X, Y),
    "gaussian_nll_loss": (lambda T, x, t, v: F(T).gaussian_nll_loss(x, t, v[:, :1] ** 2, True, reduction="sum"), X, Y, Z),
    "triplet_margin_loss-swap": (lambda T, a, p, n: F(T).triplet_margin_loss(a, p, n, 0.5, swap=True), X, Y, Z),
}


@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_match_torch(torch, case):
    fn, *arrays = CASES[case]
    check(torch, detached, fn, *arrays)


def test_embedding_max_norm_renormalizes_looked_up_rows_in_place_and_scales_gradients(torch):
    def case(T):
        weight = T.tensor(3 * X, requires_grad=True)
        indices = T.tensor([[0, 2, 2], [1, 2, 0]])
        out = F(T).embedding(indices, weight, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True)
        (out * T.tensor(np.arange(36, dtype=np.float32).reshape(2, 3, 6) / 10)).sum().backward()
        return out.detach(), weight.detach(), weight.grad

    check(torch, case)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(torch, mode):
    def case(T):
        weight = T.tensor(X, requires_grad=True)
        indices, offsets = T.tensor([1, 3, 3, 0, 2, 1]), T.tensor([0, 2, 2, 5])
        out = F(T).embedding_bag(indices, weight, offsets, mode=mode, padding_idx=1)
        (out * T.tensor(Y[:, :6])).sum().backward()
        last = F(T).embedding_bag(indices, weight, T.tensor([0, 2, 2, 6]), mode=mode, include_last_offset=True)
        return out.detach(), weight.grad, last.detach()

    check(torch, case)


def test_embedding_bag_per_sample_weights_get_gradients(torch):
    check(torch, detached, lambda T, w, s: F(T).embedding_bag(T.tensor([[0, 1], [3, 3]]), w, mode="sum",
                                                              per_sample_weights=s[0, :4].reshape(2, 2)), X, Y)


def test_feature_dropout_zeroes_whole_channels_and_alpha_dropout_keeps_moments():
    nxt.manual_seed(0)
    out = nxt.nn.functional.dropout2d(nxt.ones(8, 16, 5, 5), 0.5).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    selu_like = nxt.nn.functional.alpha_dropout(nxt.randn(200_000), 0.3, training=True).numpy()
    assert abs(selu_like.mean()) < 0.02 and abs(selu_like.std() - 1) < 0.02


ERRORS = {
    "glu": lambda T: F(T).glu(T.ones(3)),
    "softshrink": lambda T: F(T).softshrink(T.ones(3), -1.0),
    "pdist": lambda T: F(T).pdist(T.ones(3)),
    "cosine_embedding_loss": lambda T: F(T).cosine_embedding_loss(T.ones(3), T.ones(2, 3), T.ones(2)),
    "multi_margin_loss": lambda T: F(T).multi_margin_loss(T.ones(2, 3), T.tensor([1, 5])),
    "multi_margin_loss-weight": lambda T: F(T).multi_margin_loss(T.ones(2, 3), T.tensor([1, 0]),
                                                                 weight=T.ones(3, requires_grad=True)),
    "gaussian_nll_loss": lambda T: F(T).gaussian_nll_loss(T.ones(2, 3), T.ones(2, 3), T.ones(2, 2)),
    "triplet_margin_loss": lambda T: F(T).triplet_margin_loss(T.ones(2, 3), T.ones(3), T.ones(3)),
    "dropout2d": lambda T: F(T).dropout2d(T.ones(2, 3), 1.5),
    "embedding_bag": lambda T: F(T).embedding_bag(T.tensor([1, 2]), T.ones(3, 2), T.tensor([1, 2])),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(torch, name):
    check_raises(torch, ERRORS[name])


def test_modules_print_and_compute_like_torchs(torch):
    def case(T):
        nn = T.nn
        modules = [nn.GLU(), nn.Hardshrink(0.3), nn.Softshrink(), nn.Tanhshrink(), nn.RReLU(inplace=True),
                   nn.CosineSimilarity(0), nn.PairwiseDistance(1.0), nn.HingeEmbeddingLoss(margin=2.0),
                   nn.MultiMarginLoss(p=2), nn.PoissonNLLLoss(full=True), nn.GaussianNLLLoss(eps=0.1),
                   nn.TripletMarginLoss(swap=True), nn.Dropout2d(0.2), nn.AlphaDropout(), nn.EmbeddingBag(5, 3, mode="max"),
                   nn.Embedding(4, 2, max_norm=1.0, scale_grad_by_freq=True, sparse=True)]
        x = T.tensor(X)
        values = [modules[0](x), modules[1](x), modules[5](x, T.tensor(Y)), modules[6](x, T.tensor(Y)),
                  modules[8](x, T.tensor(CLASSES)), modules[11](x, T.tensor(Y), T.tensor(Z))]
        return [repr(m) for m in modules], [v.detach() for v in values]

    check(torch, case)


LOG_PROBS = np.log(np.exp(RNG.standard_normal((8, 3, 5))) / np.exp(RNG.standard_normal((8, 3, 5))).sum(2, keepdims=True))


def test_ctc_loss_matches_torch_for_padded_and_concatenated_targets(torch):
    lp = np.log(np.exp(LOG_PROBS) / np.exp(LOG_PROBS).sum(2, keepdims=True)).astype(np.float32)
    padded, lengths = np.array([[1, 2, 2], [3, 3, 0], [4, 1, 3]]), [3, 2, 3]
    concatenated = np.concatenate([row[:n] for row, n in zip(padded, lengths)])

    def case(T, targets, reduction):
        return detached(T, lambda T, x: F(T).ctc_loss(x, T.tensor(targets), T.tensor([8, 7, 2]), T.tensor(lengths),
                                                      reduction=reduction, zero_infinity=True), lp)

    check(torch, case, padded, "none")
    check(torch, case, concatenated, "mean")
    check(torch, lambda T: (T.nn.CTCLoss(reduction="sum")(T.tensor(lp), T.tensor(padded), [8, 7, 2], lengths),
                            repr(T.nn.CTCLoss(blank=1))))


def test_ctc_loss_of_one_unbatched_sequence_and_its_errors(torch):
    lp = np.log(np.full((6, 4), 0.25, np.float32))
    check(torch, lambda T: F(T).ctc_loss(T.tensor(lp), T.tensor([1, 2]), T.tensor(6), T.tensor(2), reduction="none"))
    check_raises(torch, lambda T: F(T).ctc_loss(T.tensor(lp[:, None]), T.tensor([[1, 2]]), [7], [2]))
