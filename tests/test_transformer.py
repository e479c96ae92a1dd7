"""The transformer family against torch.nn with shared weights: values and gradients (float32),
pre- and post-norm, batch_first both ways, causal, boolean and padding masks; names, reprs,
initialisation, dropout in training and the errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from torch_twins import assert_matches_torch, assert_same_tree, data, random_params, with_params

import nablax as nx

RNG = np.random.default_rng(7)
D_MODEL, HEADS, FEEDFORWARD, BATCH = 8, 2, 16, 3


def causal(length):
    return np.asarray(nx.nn.Transformer.generate_square_subsequent_mask(length))


def padding(length):
    mask = RNG.random((BATCH, length)) < 0.3
    mask[:, 0] = False  # every sequence keeps a token
    return mask


def sequence(length, batch_first):
    return data(BATCH, length, D_MODEL) if batch_first else data(length, BATCH, D_MODEL)


def build(nn, name, options):
    """The same architecture from nablax.nn or torch.nn."""
    layer_options = dict(dim_feedforward=FEEDFORWARD, dropout=0.0, **options)
    if name == "TransformerEncoder":
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(D_MODEL, HEADS, **layer_options), 2,
                                     norm=nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
    if name == "TransformerDecoder":
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(D_MODEL, HEADS, **layer_options), 2)
    if name == "Transformer":
        return nn.Transformer(D_MODEL, HEADS, 1, 1, **layer_options)
    return getattr(nn, name)(D_MODEL, HEADS, **layer_options)


# name, options, (inputs, keyword masks) maker; inputs are (src,) or (tgt, memory) or (src, tgt).
CASES = [
    ("TransformerEncoderLayer", dict(), lambda bf: ([sequence(5, bf)], dict(src_mask=causal(5), src_key_padding_mask=padding(5)))),
    ("TransformerEncoderLayer", dict(norm_first=True, batch_first=True, activation="gelu", bias=False),
     lambda bf: ([sequence(5, bf)], dict(src_mask=RNG.random((5, 5)) < 0.3))),
    ("TransformerDecoderLayer", dict(batch_first=True),
     lambda bf: ([sequence(4, bf), sequence(6, bf)], dict(tgt_mask=causal(4), memory_key_padding_mask=padding(6)))),
    ("TransformerDecoderLayer", dict(norm_first=True),
     lambda bf: ([sequence(4, bf), sequence(6, bf)], dict(tgt_mask=causal(4), tgt_key_padding_mask=padding(4)))),
    ("TransformerEncoder", dict(norm_first=True), lambda bf: ([sequence(5, bf)], dict(mask=causal(5)))),
    ("Transformer", dict(batch_first=True),
     lambda bf: ([sequence(6, bf), sequence(4, bf)], dict(tgt_mask=causal(4), src_key_padding_mask=padding(6),
                                                            memory_key_padding_mask=padding(6)))),
]
IDS = ["encoder-layer-post-norm-masks", "encoder-layer-pre-norm-gelu-no-bias", "decoder-layer-post-norm",
       "decoder-layer-pre-norm", "encoder-pre-norm", "transformer-batch-first"]


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("name, options, make_inputs", CASES, ids=IDS)
def test_matches_torch(torch, name, options, make_inputs):
    layer, module = build(nx.nn, name, options), build(torch.nn, name, options)
    assert_same_tree(layer, module)
    params = random_params(layer, scale=0.5)
    module = with_params(torch, module, params)
    inputs, masks = make_inputs(options.get("batch_first", False))
    names = list(masks)

    def ours(params, *arrays):
        return layer.apply(params, *arrays[: len(inputs)], **dict(zip(names, arrays[len(inputs):])))

    def theirs(module, *tensors):
        return module(*tensors[: len(inputs)], **dict(zip(names, tensors[len(inputs):])))

    assert_matches_torch(torch, ours, params, module, theirs, inputs + list(masks.values()), wrt=len(inputs))


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_the_decoder_reprs_and_names_match_torch(torch):
    for name in ("TransformerDecoder", "Transformer"):
        assert_same_tree(build(nx.nn, name, {}), build(torch.nn, name, {}))


def test_square_subsequent_mask_matches_torch(torch):
    np.testing.assert_array_equal(causal(5), torch.nn.Transformer.generate_square_subsequent_mask(5).numpy())


def test_transformer_init_is_xavier_for_matrices_as_in_torch():
    model = nx.nn.Transformer(64, 4, 1, 1, dim_feedforward=128)
    params = nx.state_dict(jax.jit(model.init)(rbg_key(0)))
    weight = np.asarray(params["encoder.layers.0.linear1.weight"])  # [128, 64]
    bound = np.sqrt(6 / (64 + 128))
    assert np.abs(weight).max() <= bound and weight.var() == pytest.approx(bound**2 / 3, rel=0.05)
    np.testing.assert_array_equal(params["decoder.norm.weight"], np.ones(64))  # vectors keep their own init
    assert not np.asarray(params["decoder.layers.0.self_attn.in_proj_bias"]).any()


def rbg_key(seed):
    """A key of the RngBitGenerator kind: its dropout masks compile several times faster on the
    CPU than threefry's, which keeps these tests quick; the layers take either kind."""
    return jax.random.key(seed, impl="rbg")


def test_dropout_is_active_only_in_training_and_draws_from_the_key():
    encoder = nx.nn.TransformerEncoder(nx.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True), 2)
    params, x = random_params(encoder, scale=0.5), jnp.asarray(data(2, 5, 8))
    apply = jax.jit(encoder.apply, static_argnames="train")
    evaluated = apply(params, x, key=rbg_key(3))  # eval: no dropout, whatever the key
    np.testing.assert_array_equal(evaluated, apply(params, x))
    trained = apply(params, x, key=rbg_key(3), train=True)
    np.testing.assert_array_equal(trained, apply(params, x, key=rbg_key(3), train=True))
    assert not np.allclose(trained, evaluated)
    assert not np.allclose(trained, apply(params, x, key=rbg_key(4), train=True))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        encoder.apply(params, x, train=True)


def test_unbatched_input_matches_the_batch_of_one():
    layer = nx.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    params, src, mask = random_params(layer, scale=0.5), jnp.asarray(data(4, 8)), causal(4)

    @jax.jit
    def both(params, src):
        return layer.apply(params, src, src_mask=mask), layer.apply(params, src[:, None], src_mask=mask)

    single, batched = both(params, src)
    np.testing.assert_allclose(np.asarray(single), np.asarray(batched[:, 0]), atol=1e-6)


def apply_to(shape, **masks):
    layer = nx.nn.TransformerEncoderLayer(8, 2, 16)
    return layer.apply(random_params(layer), jnp.ones(shape), **masks)


ERRORS = [
    ("heads-do-not-divide", lambda: nx.nn.TransformerEncoderLayer(10, 3),
     r"MultiheadAttention: embed_dim=10 must be divisible by num_heads=3"),
    ("activation", lambda: nx.nn.TransformerEncoderLayer(8, 2, activation="swish"), r"activation should be relu/gelu, not swish"),
    ("batch", lambda: nx.nn.Transformer(8, 2, 1, 1, 16).apply({}, jnp.ones((5, 2, 8)), jnp.ones((4, 3, 8))),
     r"Transformer\(d_model=8, .*\): the batch number of src and tgt must be equal, got src of shape \(5, 2, 8\) and tgt "
     r"of shape \(4, 3, 8\)"),
    ("features", lambda: nx.nn.Transformer(8, 2, 1, 1, 16).apply({}, jnp.ones((5, 2, 6)), jnp.ones((4, 2, 8))),
     r"the feature number of src and tgt must be equal to d_model=8, got src of shape \(5, 2, 6\)"),
    ("encoder-width", lambda: apply_to((5, 2, 6)),
     r"MultiheadAttention\(embed_dim=8, .*\): expected query with embed_dim=8 features in its last dimension, "
     r"got query of shape \(5, 2, 6\)"),
    ("mask", lambda: apply_to((5, 2, 8), src_mask=jnp.ones((4, 4))),
     r"attn_mask must have shape \(L, S\) = \(5, 5\) or \(N \* num_heads, L, S\) = \(4, 5, 5\), got \(4, 4\)"),
    ("num-layers", lambda: nx.nn.TransformerEncoder(nx.nn.TransformerEncoderLayer(8, 2), 0),
     r"TransformerEncoder: num_layers must be a positive int, got 0"),
]


@pytest.mark.parametrize("case, make_error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_layer_and_the_shapes(case, make_error, message):
    with pytest.raises(ValueError, match=message):
        make_error()
