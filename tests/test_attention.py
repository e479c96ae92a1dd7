"""scaled_dot_product_attention and MultiheadAttention against PyTorch with shared weights
(values and gradients, float32), rotary position embeddings by their properties, and the
errors that name the layer and the shapes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_twins import assert_matches_torch, assert_same_tree, data, random_params, with_params

import nablax as nx

RNG = np.random.default_rng(5)


def bool_mask(*shape, keep=0.7):
    mask = RNG.random(shape) < keep
    mask[..., 0] = True  # every query keeps a key, unless a case blanks a row on purpose
    return mask


def blank_row(mask):
    mask = mask.copy()
    mask[..., 1, :] = False
    return mask


SDPA_CASES = [
    ("plain", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), {}, None),
    ("causal-longer-query", (1, 2, 6, 4), (1, 2, 4, 4), (1, 2, 4, 4), dict(is_causal=True), None),
    ("bool-mask-per-head-extra-batch-dims", (2, 2, 3, 4, 8), (2, 2, 3, 6, 8), (2, 2, 3, 6, 8), {}, bool_mask(2, 3, 4, 6)),
    ("additive-mask-scale", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), dict(scale=0.2), data(2, 1, 4, 6)),
    ("additive-inf-mask-row-with-nothing-to-attend", (2, 2, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8), {},
     np.where(blank_row(bool_mask(4, 6)), 0.0, -np.inf).astype(np.float32)),
    ("bool-row-with-nothing-to-attend-3d", (3, 4, 8), (3, 6, 8), (3, 6, 8), {}, blank_row(bool_mask(4, 6))),
    ("gqa-causal", (2, 6, 5, 8), (2, 2, 5, 8), (2, 2, 5, 8), dict(enable_gqa=True, is_causal=True), None),
    ("value-width-differs-2d", (4, 8), (6, 8), (6, 5), {}, bool_mask(4, 6)),
]


@pytest.mark.parametrize("case, q, k, v, options, mask", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_scaled_dot_product_attention_matches_torch(torch, case, q, k, v, options, mask):
    def ours(params, q, k, v, mask):
        return nx.nn.scaled_dot_product_attention(q, k, v, mask, **options)

    def theirs(module, q, k, v, mask):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, **options)

    assert_matches_torch(torch, ours, {}, torch.nn.Module(), theirs, [data(*q), data(*k), data(*v), mask], wrt=3)


def test_a_row_with_nothing_to_attend_is_zero_with_zero_gradients():
    q, k, v = data(1, 1, 3, 4), data(1, 1, 5, 4), data(1, 1, 5, 4)
    mask = blank_row(bool_mask(3, 5))

    def attend(q):
        return nx.nn.scaled_dot_product_attention(q, k, v, mask)

    out, grads = jax.jit(lambda q: (attend(q), jax.grad(lambda q: attend(q).sum())(q)))(q)
    assert not np.any(np.asarray(out)[0, 0, 1]) and not np.any(np.asarray(grads)[0, 0, 1])
    assert np.all(np.isfinite(np.asarray(grads)))


def test_attention_dropout_draws_from_the_key_and_keeps_the_expectation():
    q, k, v = jnp.zeros((1, 1, 2, 4)), jnp.zeros((1, 1, 400, 4)), jnp.ones((1, 1, 400, 4))

    def attend(key):
        return nx.nn.scaled_dot_product_attention(q, k, v, dropout_p=0.25, key=key)

    a, b, c = attend(jax.random.key(0)), attend(jax.random.key(0)), attend(jax.random.key(1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Uniform weights 1/400 on values of 1: each output is (kept fraction) / (1 - p), about 1.
    assert np.asarray(a).mean() == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match=r"dropout_p=0.25 needs a PRNG key: pass key="):
        nx.nn.scaled_dot_product_attention(q, k, v, dropout_p=0.25)


def test_attention_without_dropout_or_weights_is_one_dot_product_attention_call(monkeypatch):
    """Without dropout the whole attention is one jax.nn.dot_product_attention call; dropout, the
    weights or a value width unlike the query's take the explicit formulation."""
    calls = []
    real = jax.nn.dot_product_attention

    def counted(*args, **kwargs):
        calls.append(kwargs.get("is_causal"))
        return real(*args, **kwargs)

    monkeypatch.setattr(jax.nn, "dot_product_attention", counted)
    q, v = jnp.ones((1, 2, 3, 4)), jnp.ones((1, 2, 3, 6))
    attend = nx.nn.scaled_dot_product_attention
    layer = nx.nn.MultiheadAttention(4, 2)
    params = layer.init(0)
    traced = [  # traced, not run: the calls are counted while tracing
        lambda q: attend(q, q, q, is_causal=True), lambda q: attend(q, q, q, jnp.ones((3, 3), bool)),
        lambda q: layer.apply(params, q[0], q[0], q[0], need_weights=False),
        lambda q: attend(q, q, q, dropout_p=0.5, key=jax.random.key(0)), lambda q: attend(q, q, v),
        lambda q: layer.apply(params, q[0], q[0], q[0]),  # need_weights=True
    ]
    for function in traced:
        jax.make_jaxpr(function)(q)
    assert calls == [True, False, False]


MHA_CASES = [
    # case, constructor options, (L, S), masks: attn_mask, key_padding_mask, apply options
    ("self-attention", {}, (4, 4), None, None, {}),
    ("batch-first-bool-attn-mask", dict(batch_first=True), (4, 5), "bool", None, {}),
    ("float-attn-mask-per-head-and-padding", {}, (4, 5), "float3d", "bool", dict(average_attn_weights=False)),
    ("float-key-padding-no-weights", dict(batch_first=True), (3, 5), "bool", "float", dict(need_weights=False)),
    ("causal-hint", dict(batch_first=True), (5, 5), "causal", None, dict(is_causal=True, need_weights=False)),
    ("kdim-vdim-no-bias", dict(kdim=3, vdim=5, bias=False), (4, 6), "bool", "bool", {}),
    ("bias-kv-zero-attn", dict(add_bias_kv=True, add_zero_attn=True), (4, 5), "float", "bool", {}),
    ("unbatched", {}, (4, 5), "bool", "bool", dict(average_attn_weights=False)),
]


def mha_masks(kind_attn, kind_padding, heads, batch, target, source):
    attn = {
        None: None, "bool": ~bool_mask(target, source), "float": data(target, source),
        "float3d": data(batch * heads, target, source),
        "causal": np.triu(np.full((target, source), -np.inf, np.float32), 1),
    }[kind_attn]
    padding = {None: None, "bool": ~bool_mask(batch, source), "float": data(batch, source)}[kind_padding]
    return attn, padding


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask and attn_mask is deprecated")
@pytest.mark.parametrize("case, options, lengths, attn_kind, padding_kind, apply_options", MHA_CASES,
                         ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(torch, case, options, lengths, attn_kind, padding_kind, apply_options):
    embed_dim, heads, batch = 8, 2, 3
    layer = nx.nn.MultiheadAttention(embed_dim, heads, **options)
    params = random_params(layer, scale=0.5)  # weights of a trained layer's size: softmax not saturated
    module = with_params(torch, torch.nn.MultiheadAttention(embed_dim, heads, **options), params)
    assert_same_tree(layer, module)
    target, source = lengths
    unbatched = case == "unbatched"
    attn_mask, padding = mha_masks(attn_kind, padding_kind, heads, 1 if unbatched else batch, target, source)
    padding = padding[0] if unbatched and padding is not None else padding

    def shaped(length, width):
        if unbatched:
            return data(length, width)
        return data(batch, length, width) if options.get("batch_first") else data(length, batch, width)

    inputs = [shaped(target, embed_dim), shaped(source, layer.kdim), shaped(source, layer.vdim), attn_mask, padding]

    def ours(params, q, k, v, attn_mask, padding):
        return layer.apply(params, q, k, v, attn_mask=attn_mask, key_padding_mask=padding, **apply_options)

    def theirs(module, q, k, v, attn_mask, padding):
        return module(q, k, v, attn_mask=attn_mask, key_padding_mask=padding, **apply_options)

    assert_matches_torch(torch, ours, params, module, theirs, inputs, wrt=3)


def test_multihead_attention_init_follows_torch():
    """Xavier-uniform projections, zero in-projection and output biases, Linear's out_proj
    weight, Xavier-normal bias_k/bias_v."""
    params = jax.jit(nx.nn.MultiheadAttention(256, 4, add_bias_kv=True).init)(jax.random.key(0, impl="rbg"))  # rbg: a quick compile
    projection = np.asarray(params["in_proj_weight"])
    bound = np.sqrt(6 / (256 + 3 * 256))
    assert projection.shape == (768, 256) and np.abs(projection).max() <= bound
    assert projection.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert not np.asarray(params["in_proj_bias"]).any() and not np.asarray(params["out_proj"]["bias"]).any()
    assert np.abs(np.asarray(params["out_proj"]["weight"])).max() <= 1 / 16
    assert np.asarray(params["bias_k"]).std() == pytest.approx(np.sqrt(2 / 512), rel=0.3)


def test_self_attention_projects_once_and_computes_the_same():
    """query is key is value: one [3E, E] product instead of three, the same numbers."""
    layer = nx.nn.MultiheadAttention(8, 2, batch_first=True)
    params, x = layer.init(0), jnp.asarray(data(2, 5, 8))

    def products(jaxpr):
        return sum(e.primitive.name == "dot_general" for e in jaxpr.eqns)

    shared = jax.make_jaxpr(lambda x: layer.apply(params, x, x, x, need_weights=False))(x)
    separate = jax.make_jaxpr(lambda x: layer.apply(params, x, x + 0, x + 0, need_weights=False))(x)
    assert products(shared) == products(separate) - 2
    same, _ = layer.apply(params, x, x, x)
    apart, _ = layer.apply(params, x, jnp.array(x), jnp.array(x))
    np.testing.assert_allclose(np.asarray(same), np.asarray(apart), atol=1e-6)


def test_multihead_attention_dropout_is_active_only_in_training():
    layer = nx.nn.MultiheadAttention(8, 2, dropout=0.5)
    params, x = layer.init(0), jnp.asarray(data(5, 2, 8))
    evaluated, weights = layer.apply(params, x, x, x)
    again, _ = layer.apply(params, x, x, x, key=jax.random.key(0))
    np.testing.assert_array_equal(evaluated, again)  # eval: no dropout, the key unused
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, rtol=1e-5)
    _, weights = layer.apply(params, x, x, x, average_attn_weights=False)
    trained, dropped = layer.apply(params, x, x, x, key=jax.random.key(0), train=True, average_attn_weights=False)
    repeated, _ = layer.apply(params, x, x, x, key=jax.random.key(0), train=True)
    np.testing.assert_array_equal(trained, repeated)
    assert not np.allclose(trained, evaluated)
    kept = np.asarray(dropped) != 0  # dropped weights are zero, survivors scaled by 1 / (1 - p) = 2
    np.testing.assert_allclose(np.asarray(dropped)[kept], 2 * np.asarray(weights)[kept], rtol=1e-5)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=8, .*\) in training needs a PRNG key"):
        layer.apply(params, x, x, x, train=True)


MHA = r"MultiheadAttention\(embed_dim=8, num_heads=2, .*\)"
ERRORS = [
    ("heads-do-not-divide", lambda: nx.nn.MultiheadAttention(10, 3),
     r"MultiheadAttention: embed_dim=10 must be divisible by num_heads=3"),
    ("wrong-embed-dim", lambda layer, p: layer.apply(p, jnp.ones((4, 2, 6)), jnp.ones((4, 2, 8)), jnp.ones((4, 2, 8))),
     MHA + r": expected query with embed_dim=8 features in its last dimension, got query of shape \(4, 2, 6\)"),
    ("attn-mask-shape", lambda layer, p: layer.apply(p, jnp.ones((4, 2, 8)), jnp.ones((5, 2, 8)), jnp.ones((5, 2, 8)),
                                                     attn_mask=jnp.ones((4, 4), bool)),
     MHA + r": attn_mask must have shape \(L, S\) = \(4, 5\) or \(N \* num_heads, L, S\) = \(4, 4, 5\), got \(4, 4\)"),
    ("padding-mask-shape", lambda layer, p: layer.apply(p, jnp.ones((4, 2, 8)), jnp.ones((5, 2, 8)), jnp.ones((5, 2, 8)),
                                                        key_padding_mask=jnp.ones((5, 2), bool)),
     MHA + r": key_padding_mask must have shape \(N, S\) = \(2, 5\), got \(5, 2\)"),
    ("key-value-lengths", lambda layer, p: layer.apply(p, jnp.ones((4, 2, 8)), jnp.ones((5, 2, 8)), jnp.ones((6, 2, 8))),
     MHA + r": key and value must have the same batch size and length.*\(5, 2, 8\) and \(6, 2, 8\)"),
    ("causal-hint-alone", lambda layer, p: layer.apply(p, jnp.ones((4, 2, 8)), jnp.ones((4, 2, 8)), jnp.ones((4, 2, 8)),
                                                       is_causal=True),
     MHA + r": is_causal=True is a hint that attn_mask is causal and needs attn_mask too"),
    ("params", lambda layer, p: layer.apply(nx.nn.MultiheadAttention(8, 2, kdim=4).init(0), *[jnp.ones((4, 2, 8))] * 3),
     MHA + r": params has no 'in_proj_weight' entry"),
    ("sdpa-heads", lambda: nx.nn.scaled_dot_product_attention(jnp.ones((1, 4, 3, 8)), jnp.ones((1, 2, 3, 8)), jnp.ones((1, 2, 3, 8))),
     r"scaled_dot_product_attention: query has 4 heads and key/value 2/2.*pass enable_gqa=True"),
    ("sdpa-mask-shape", lambda: nx.nn.scaled_dot_product_attention(*[jnp.ones((2, 3, 8))] * 3, jnp.ones((4, 3), bool)),
     r"scaled_dot_product_attention: attn_mask of shape \(4, 3\) can't be broadcast to \(\.\.\., L, S\) = \(2, 3, 3\)"),
    ("sdpa-mask-and-causal", lambda: nx.nn.scaled_dot_product_attention(*[jnp.ones((2, 3, 8))] * 3, jnp.ones((3, 3), bool),
                                                                         is_causal=True),
     r"pass attn_mask or is_causal=True, not both"),
    ("sdpa-widths", lambda: nx.nn.scaled_dot_product_attention(jnp.ones((2, 3, 8)), jnp.ones((2, 3, 4)), jnp.ones((2, 3, 4))),
     r"query and key must have the same last dimension \(E\), got shapes \(2, 3, 8\) and \(2, 3, 4\)"),
]


@pytest.mark.parametrize("case, make_error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_layer_and_the_shapes(case, make_error, message):
    layer = nx.nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=message):
        make_error() if make_error.__code__.co_argcount == 0 else make_error(layer, layer.init(0))


# -- rotary position embeddings ----------------------------------------------------------------


def rope_pair(width, interleaved):
    q, k = jnp.asarray(data(width)), jnp.asarray(data(width))
    return q, k, lambda x, position: nx.nn.rotary_embedding(x, position, interleaved=interleaved)


@settings(max_examples=10)
@given(m=st.integers(0, 500), n=st.integers(0, 500), shift=st.integers(-200, 200), interleaved=st.booleans())
def test_rope_scores_depend_only_on_the_relative_position(m, n, shift, interleaved):
    q, k, rope = rope_pair(16, interleaved)
    score = jnp.dot(rope(q, m), rope(k, n))
    shifted = jnp.dot(rope(q, m + shift + 200), rope(k, n + shift + 200))
    np.testing.assert_allclose(float(score), float(shifted), atol=2e-4, rtol=2e-4)


@settings(max_examples=10)
@given(position=st.integers(0, 10_000), interleaved=st.booleans())
def test_rope_keeps_norms_and_leaves_position_zero_alone(position, interleaved):
    q, _, rope = rope_pair(32, interleaved)
    np.testing.assert_allclose(float(jnp.linalg.norm(rope(q, position))), float(jnp.linalg.norm(q)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(rope(q, 0)), np.asarray(q), atol=1e-7)


def test_rope_layouts_and_conventions_agree():
    """Default positions run along axis -2; JAX's layout gets them by broadcasting; the
    interleaved convention is the half-split one with the features permuted."""
    x = jnp.asarray(data(2, 3, 5, 8))  # batch, heads, length, width
    torch_layout = nx.nn.rotary_embedding(x)
    jax_layout = nx.nn.rotary_embedding(jnp.swapaxes(x, 1, 2), jnp.arange(5)[:, None])
    np.testing.assert_allclose(np.asarray(torch_layout), np.asarray(jnp.swapaxes(jax_layout, 1, 2)), atol=1e-6)
    half_to_pairs = np.stack([np.arange(4), np.arange(4) + 4], axis=-1).ravel()  # (x0, x4, x1, x5, ...)
    interleaved = nx.nn.rotary_embedding(x[..., half_to_pairs], interleaved=True)
    np.testing.assert_allclose(np.asarray(interleaved), np.asarray(torch_layout[..., half_to_pairs]), atol=1e-6)
    with pytest.raises(ValueError, match=r"rotary_embedding: the last dimension of x must be even"):
        nx.nn.rotary_embedding(jnp.ones((3, 5)))


def test_rope_rotates_like_the_complex_formula():
    """Pair (x_i, x_{i+D/2}) times exp(i * position * base^(-2i/D)), written in NumPy."""
    x, positions = data(7, 6), np.arange(7)
    angles = positions[:, None] * 10000.0 ** (-np.arange(0, 6, 2) / 6)
    rotated = (x[:, :3] + 1j * x[:, 3:]) * np.exp(1j * angles)
    expected = np.concatenate([rotated.real, rotated.imag], axis=-1)
    np.testing.assert_allclose(np.asarray(nx.nn.rotary_embedding(x)), expected, atol=1e-5)
