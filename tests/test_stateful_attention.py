"""Attention and the transformer family of `nablax.stateful.nn` against `torch.nn` itself:
`functional.scaled_dot_product_attention`, `MultiheadAttention` and the transformer modules
holding PyTorch's weights compute its values and gradients (inputs and every parameter),
with boolean, additive, causal and key-padding masks, batch_first both ways, pre- and
post-norm; reprs, state dicts, initialisation, dropout in training only, PyTorch's errors,
and a training loop that compiles nothing new after warm-up.

Few shapes on purpose: each case compiles its own program.
"""

import warnings

import numpy as np
import pytest
from torch_diff import assert_same, check_raises, gradients, module_gradients, torch_twins

import nablax.stateful as nxt
from nablax.stateful.engine import cache

RNG = np.random.default_rng(3)
BATCH, TARGET, SOURCE, WIDTH, HEADS, FEEDFORWARD = 3, 5, 6, 8, 2, 16


def data(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def allowed(*shape):
    """A boolean mask with at least one True in every row."""
    mask = RNG.random(shape) > 0.4
    mask[..., 0] = True
    return mask


def causal(length):
    return np.triu(np.full((length, length), -np.inf, np.float32), 1)


Q, K, V = data(BATCH, HEADS, TARGET, WIDTH), data(BATCH, HEADS, SOURCE, WIDTH), data(BATCH, HEADS, SOURCE, 4)
X, Y = data(TARGET, BATCH, WIDTH), data(SOURCE, BATCH, WIDTH)  # (length, batch, width)
PADDING = ~allowed(BATCH, SOURCE)  # True: padding, never attended
ALLOWED = allowed(TARGET, SOURCE)
ADDITIVE = np.where(allowed(BATCH * HEADS, TARGET, SOURCE), RNG.standard_normal((BATCH * HEADS, TARGET, SOURCE)),
                    -np.inf).astype(np.float32)


def F(T):
    return T.nn.functional


# -- scaled_dot_product_attention ----------------------------------------------------------------

SDPA_CASES = {
    "value width differs": (lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v), Q, K, V),
    "boolean mask": (lambda T, q, k: F(T).scaled_dot_product_attention(q, k, k, T.tensor(ALLOWED)), Q, K),
    "additive mask per batch": (lambda T, q, k: F(T).scaled_dot_product_attention(
        q, k, k, T.tensor(ADDITIVE.reshape(BATCH, HEADS, TARGET, SOURCE)[:, :1])), Q, K),
    "causal with a scale": (lambda T, q, k: F(T).scaled_dot_product_attention(q, k, k, is_causal=True, scale=0.3), Q, K),
    "grouped-query": (lambda T, q, k: F(T).scaled_dot_product_attention(q, k[:, :1], k[:, :1], enable_gqa=True), Q, K),
    "broadcast batch": (lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k[:1], v[:1]), Q, K, V),
    "unbatched": (lambda T, q, k: F(T).scaled_dot_product_attention(q[0, 0], k[0, 0], k[0, 0]), Q, K),
}


@pytest.mark.parametrize("name", list(SDPA_CASES))
def test_scaled_dot_product_attention_matches_torch(torch, name):
    fn, *arrays = SDPA_CASES[name]
    assert_same(gradients(nxt, fn, *arrays), gradients(torch, fn, *arrays))


SDPA_ERRORS = {
    "dtypes": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 3), T.ones(2, 3, dtype=T.float64), T.ones(2, 3)),
    "one dimension": lambda T: F(T).scaled_dot_product_attention(T.ones(3), T.ones(3), T.ones(3)),
    "integer mask": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 3), T.ones(4, 3), T.ones(4, 3),
                                                                T.ones(2, 4, dtype=T.int64)),
    "dropout range": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 3), T.ones(4, 3), T.ones(4, 3), dropout_p=1.5),
    "mask and causal": lambda T: F(T).scaled_dot_product_attention(T.ones(1, 2, 3), T.ones(1, 4, 3), T.ones(1, 4, 3),
                                                                   T.ones(2, 4), dropout_p=0.2, is_causal=True),
    "group sizes": lambda T: F(T).scaled_dot_product_attention(T.ones(1, 3, 2, 4), T.ones(1, 2, 5, 4),
                                                               T.ones(1, 2, 5, 4), enable_gqa=True),
    "heads": lambda T: F(T).scaled_dot_product_attention(T.ones(1, 3, 2, 4), T.ones(1, 2, 5, 4), T.ones(1, 2, 5, 4)),
    "features": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 2, 4), T.ones(2, 5, 3), T.ones(2, 5, 4)),
    "value length": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 2, 4), T.ones(2, 5, 4), T.ones(2, 3, 4)),
    "mask shape": lambda T: F(T).scaled_dot_product_attention(T.ones(2, 3, 2, 4), T.ones(2, 3, 5, 4),
                                                              T.ones(2, 3, 5, 4), T.ones(2, 2, 5, dtype=T.bool)),
}


@pytest.mark.parametrize("name", list(SDPA_ERRORS))
def test_scaled_dot_product_attention_errors_are_torchs(torch, name):
    check_raises(torch, SDPA_ERRORS[name])


def test_attention_dropout_draws_from_the_global_stream():
    q = nxt.tensor(Q)
    nxt.manual_seed(5)
    first = F(nxt).scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum().item()
    compiles = cache.PROGRAMS.compiles
    second = F(nxt).scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum().item()
    assert cache.PROGRAMS.compiles == compiles  # the draw is an argument of the program, not a constant
    nxt.manual_seed(5)
    assert F(nxt).scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum().item() == first != second
    assert F(nxt).scaled_dot_product_attention(q, q, q, dropout_p=1.0).abs().max().item() == 0.0


# -- MultiheadAttention and the transformer modules ------------------------------------------------


def self_attention(module, x, **options):
    return module(x, x, x, **options)


# name -> (make(T), args, kwargs, call)
MODULE_CASES = {
    "self-attention, key padding, averaged weights": (
        lambda T: T.nn.MultiheadAttention(WIDTH, HEADS), (X,), dict(key_padding_mask=PADDING[:, :TARGET]),
        self_attention),
    "batch_first, additive 3-D mask, weights per head": (
        lambda T: T.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True), (X.swapaxes(0, 1), Y.swapaxes(0, 1),
                                                                             Y.swapaxes(0, 1)),
        dict(attn_mask=ADDITIVE, average_attn_weights=False), None),
    "kdim and vdim, bias_kv, zero attention, no bias, boolean masks": (
        lambda T: T.nn.MultiheadAttention(WIDTH, HEADS, bias=False, add_bias_kv=True, add_zero_attn=True, kdim=4, vdim=6),
        (X, Y[..., :4], data(SOURCE, BATCH, 6)), dict(attn_mask=~ALLOWED, key_padding_mask=PADDING), None),
    "unbatched causal hint without weights": (
        lambda T: T.nn.MultiheadAttention(WIDTH, HEADS), (X[:, 0],),
        dict(attn_mask=causal(TARGET), is_causal=True, need_weights=False), self_attention),
    "encoder layer, post-norm, key padding": (
        lambda T: T.nn.TransformerEncoderLayer(WIDTH, HEADS, FEEDFORWARD, dropout=0.0), (Y,),
        dict(src_key_padding_mask=PADDING), None),
    "encoder layer, pre-norm, gelu, batch_first, causal, no bias": (
        lambda T: T.nn.TransformerEncoderLayer(WIDTH, HEADS, FEEDFORWARD, 0.0, "gelu", batch_first=True, norm_first=True,
                                               bias=False),
        (X.swapaxes(0, 1),), dict(src_mask=causal(TARGET), is_causal=True), None),
    "decoder layer, batch_first, boolean causal mask, memory padding": (
        lambda T: T.nn.TransformerDecoderLayer(WIDTH, HEADS, FEEDFORWARD, dropout=0.0, batch_first=True),
        (X.swapaxes(0, 1), Y.swapaxes(0, 1)),
        dict(tgt_mask=causal(TARGET) < 0, memory_key_padding_mask=PADDING), None),
    "transformer, pre-norm, two encoder layers, an activation of tensors": (
        lambda T: T.nn.Transformer(WIDTH, HEADS, 2, 1, FEEDFORWARD, 0.0, lambda x: T.tanh(x) * 2, norm_first=True),
        (Y, X), dict(tgt_mask=causal(TARGET), src_key_padding_mask=PADDING), None),
}


@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_modules_with_torchs_weights_compute_torchs_values_and_gradients(torch, name):
    make, args, kwargs, call = MODULE_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's notes about its nested-tensor fast path
        theirs, ours = torch_twins(torch, make)
    assert_same(module_gradients(nxt, ours, args, kwargs, call), module_gradients(torch, theirs, args, kwargs, call))


def all_kinds_of_modules(T):
    """The attention and transformer modules in the variants whose repr or state dict differ."""
    nn = T.nn
    return nn.ModuleList([
        nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 4, dropout=0.1, bias=False, add_bias_kv=True, kdim=3),
        nn.MultiheadAttention(6, 3, vdim=2, batch_first=True),
        nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU(), norm_first=True, bias=False),
        nn.TransformerDecoderLayer(8, 2, 12, dropout=0.2, layer_norm_eps=1e-3),
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, enable_nested_tensor=False),
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, nn.LayerNorm(8)),
        nn.Transformer(8, 2, 2, 1, 16, batch_first=True),
    ])


def test_reprs_and_state_dicts_equal_torchs(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's notes about its nested-tensor fast path
        theirs = all_kinds_of_modules(torch)
    ours = all_kinds_of_modules(nxt)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(v.shape)) for n, v in ours.state_dict().items()] == [
        (n, tuple(v.shape)) for n, v in theirs.state_dict().items()]
    attention, layer = ours[1], ours[3]
    assert attention.in_proj_weight is None and attention.k_proj_weight.shape == (8, 3) and attention.head_dim == 2
    assert attention._qkv_same_embed_dim is False and ours[0]._qkv_same_embed_dim is True
    assert layer.activation_relu_or_gelu == 2 and ours[4].activation is nxt.nn.functional.relu
    assert [type(m).__name__ for m in ours[0].children()] == ["NonDynamicallyQuantizableLinear"]


def test_initialisation_follows_torchs_distributions():
    nxt.manual_seed(0)
    attention, model = nxt.nn.MultiheadAttention(16, 4, add_bias_kv=True), nxt.nn.Transformer(8, 2, 1, 1, 16)
    bounds = {"in_proj_weight": np.sqrt(6 / (16 + 3 * 16)),  # Xavier-uniform over the [3E, E] projection
              "encoder.layers.0.linear1.weight": np.sqrt(6 / (8 + 16))}  # every matrix of a Transformer
    for name, bound in bounds.items():
        weights = np.abs(dict([*attention.named_parameters(), *model.named_parameters()])[name].detach().numpy())
        assert bound * 0.9 < weights.max() <= bound, name
    assert attention.in_proj_bias.abs().max().item() == 0 and attention.out_proj.bias.abs().max().item() == 0
    assert 0.1 < attention.bias_k.std().item() < 0.5  # Xavier-normal over (1, 1, E): 0.25
    nxt.manual_seed(0)
    assert nxt.equal(nxt.nn.MultiheadAttention(16, 4, add_bias_kv=True).in_proj_weight, attention.in_proj_weight)


def test_square_subsequent_mask_is_torchs(torch):
    assert_same(nxt.nn.Transformer.generate_square_subsequent_mask(4),
                torch.nn.Transformer.generate_square_subsequent_mask(4))
    mask = nxt.nn.Transformer.generate_square_subsequent_mask(3, dtype=nxt.float64)
    assert mask.dtype is nxt.float64 and mask.tolist()[0] == [0.0, -np.inf, -np.inf]


def test_attention_dropout_only_in_training(torch):
    theirs, ours = torch_twins(torch, lambda T: T.nn.MultiheadAttention(WIDTH, HEADS, dropout=0.5))
    x = nxt.tensor(X)
    _, dropped = ours(x, x, x, average_attn_weights=False)
    ours.eval()
    theirs.eval()
    _, weights = ours(x, x, x, average_attn_weights=False)
    assert_same(weights, theirs(torch.tensor(X), torch.tensor(X), torch.tensor(X), average_attn_weights=False)[1])
    dropped, weights = dropped.detach().numpy(), weights.detach().numpy()
    kept = dropped != 0
    assert 0.3 < kept.mean() < 0.7  # PyTorch returns the weights as dropped, survivors scaled by 1/(1-p)
    np.testing.assert_allclose(dropped[kept], 2 * weights[kept], rtol=1e-5)


def train(T, model, inputs, targets, steps: int, compiles: list) -> list:
    """Losses of `steps` SGD steps of the notes' loop; the programs built so far after each step
    go to `compiles`."""
    optimizer = T.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F(T).mse_loss(model(T.tensor(inputs)), T.tensor(targets))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        compiles.append(cache.PROGRAMS.compiles)
    return losses


def test_a_training_loop_gives_torchs_losses_and_compiles_nothing_new_after_warm_up(torch):
    def make(T):
        return T.nn.Sequential(T.nn.TransformerEncoderLayer(WIDTH, HEADS, FEEDFORWARD, dropout=0.0, batch_first=True),
                               T.nn.Linear(WIDTH, 1))

    theirs, ours = torch_twins(torch, make)
    inputs, targets = X.swapaxes(0, 1), data(BATCH, TARGET, 1)
    compiles = []
    losses = train(nxt, ours, inputs, targets, 5, compiles)
    np.testing.assert_allclose(losses, train(torch, theirs, inputs, targets, 5, []), rtol=1e-5)
    assert compiles[2:] == [compiles[1]] * 3, compiles
    assert losses[-1] < losses[0]


MODULE_ERRORS = {
    "embed_dim": lambda T: T.nn.MultiheadAttention(0, 2),
    "heads dividing": lambda T: T.nn.MultiheadAttention(8, 3),
    "activation": lambda T: T.nn.TransformerEncoderLayer(8, 2, 16, activation="swish"),
    "query rank": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(1, 2, 3, 8), T.ones(1, 2, 3, 8), T.ones(1, 2, 3, 8)),
    "key rank": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 3, 8), T.ones(2, 8), T.ones(2, 8)),
    "padding rank": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 8), T.ones(3, 8), T.ones(3, 8),
                                                            key_padding_mask=T.ones(1, 3, dtype=T.bool)),
    "mask rank": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(3, 1, 8),
                                                         attn_mask=T.ones(2, 3, 1, 1)),
    "unbatched 3-D mask": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 8), T.ones(3, 8), T.ones(3, 8),
                                                                  attn_mask=T.ones(3, 2, 3)),
    "integer padding": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(3, 1, 8),
                                                               key_padding_mask=T.ones(1, 3, dtype=T.int64)),
    "integer mask": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(3, 1, 8),
                                                            attn_mask=T.ones(2, 3, dtype=T.int64)),
    "causal hint alone": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(2, 1, 8), T.ones(2, 1, 8),
                                                                 is_causal=True),
    "query width": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 4), T.ones(2, 1, 4), T.ones(2, 1, 4)),
    "key and value shapes": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(4, 1, 8)),
    "batch_first shapes": lambda T: T.nn.MultiheadAttention(8, 2, batch_first=True)(
        T.ones(1, 2, 8), T.ones(1, 3, 8), T.ones(2, 3, 8)),
    "separate key width": lambda T: T.nn.MultiheadAttention(8, 2, kdim=4)(T.ones(2, 1, 8), T.ones(3, 1, 5),
                                                                          T.ones(3, 1, 8)),
    "query dtype": lambda T: T.nn.MultiheadAttention(8, 2)(*(T.ones(2, 1, 8, dtype=T.float64),) * 3),
    "2-D mask shape": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(3, 1, 8),
                                                              attn_mask=T.ones(2, 2)),
    "3-D mask shape": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 1, 8), T.ones(3, 1, 8), T.ones(3, 1, 8),
                                                              attn_mask=T.ones(4, 2, 3)),
    "key batch": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 3, 8), T.ones(4, 2, 8), T.ones(4, 2, 8)),
    "padding shape": lambda T: T.nn.MultiheadAttention(8, 2)(T.ones(2, 3, 8), T.ones(4, 3, 8), T.ones(4, 3, 8),
                                                             key_padding_mask=T.ones(3, 5, dtype=T.bool)),
    "layer padding type": lambda T: T.nn.TransformerEncoderLayer(8, 2, 16)(
        T.ones(2, 1, 8), src_key_padding_mask=T.ones(1, 2, dtype=T.int64)),
    "decoder memory width": lambda T: T.nn.TransformerDecoderLayer(8, 2, 16)(T.ones(2, 1, 8), T.ones(3, 2, 8)),
    "transformer batch": lambda T: T.nn.Transformer(8, 2, 1, 1, 16)(T.ones(3, 2, 8), T.ones(3, 1, 8)),
    "transformer width": lambda T: T.nn.Transformer(8, 2, 1, 1, 16)(T.ones(3, 2, 8), T.ones(3, 2, 4)),
}


@pytest.mark.parametrize("name", list(MODULE_ERRORS))
def test_module_errors_are_torchs(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_raises(torch, MODULE_ERRORS[name])
