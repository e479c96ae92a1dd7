"""Composite layers: a layer whose fields are layers gets init, state, keys and repr from one
rule, with PyTorch's names; a residual block and a small transformer written that way match
the same torch.nn modules; Remat recomputes without changing a thing."""

import dataclasses

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from torch_twins import assert_matches_torch, assert_same_tree, data, parameter_names, random_params, with_params

import nablax as nx
from nablax import nn


@dataclasses.dataclass(frozen=True, repr=False)
class ResidualBlock(nn.Layer):
    """x + linear2(relu(linear1(norm(x))))."""

    norm: nn.LayerNorm
    linear1: nn.Linear
    linear2: nn.Linear

    @classmethod
    def create(cls, width, hidden):
        return cls(nn.LayerNorm(width), nn.Linear(width, hidden), nn.Linear(hidden, width))

    def apply(self, params, x, *, key=None, train=False):
        layers = self.bind(params, key=key, train=train)
        return x + layers.linear2(nn.relu(layers.linear1(layers.norm(x))))


@dataclasses.dataclass(frozen=True, repr=False)
class Block(nn.Layer):
    """A pre-norm decoder block: causal self-attention, then an MLP."""

    ln_1: nn.LayerNorm
    attn: nn.MultiheadAttention
    ln_2: nn.LayerNorm
    mlp: nn.Sequential

    @classmethod
    def create(cls, width, heads):
        mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        return cls(nn.LayerNorm(width), nn.MultiheadAttention(width, heads, batch_first=True), nn.LayerNorm(width), mlp)

    def apply(self, params, x, *, key=None, train=False):
        layers = self.bind(params, key=key, train=train)
        h = layers.ln_1(x)
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        x = x + layers.attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=False)[0]
        return x + layers.mlp(layers.ln_2(x))


@dataclasses.dataclass(frozen=True, repr=False)
class TinyGPT(nn.Layer):
    wte: nn.Embedding
    wpe: nn.Embedding
    blocks: tuple
    ln_f: nn.LayerNorm
    head: nn.Linear

    @classmethod
    def create(cls, vocab, width, heads, depth, context):
        blocks = [Block.create(width, heads) for _ in range(depth)]  # a list becomes a tuple
        return cls(nn.Embedding(vocab, width), nn.Embedding(context, width), blocks, nn.LayerNorm(width),
                   nn.Linear(width, vocab))

    def apply(self, params, tokens, *, key=None, train=False):
        layers = self.bind(params, key=key, train=train)
        x = layers.wte(tokens) + layers.wpe(jnp.arange(tokens.shape[1]))
        for block in layers.blocks:
            x = block(x)
        return layers.head(layers.ln_f(x))


def torch_twins(torch):
    """The same three modules in torch.nn, written the way PyTorch users write them (and named
    alike, so that the reprs can be compared)."""
    class ResidualBlock(torch.nn.Module):
        def __init__(self, width, hidden):
            super().__init__()
            self.norm, self.linear1, self.linear2 = torch.nn.LayerNorm(width), torch.nn.Linear(width, hidden), torch.nn.Linear(hidden, width)

        def forward(self, x):
            return x + self.linear2(torch.relu(self.linear1(self.norm(x))))

    class Block(torch.nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.ln_1, self.attn = torch.nn.LayerNorm(width), torch.nn.MultiheadAttention(width, heads, batch_first=True)
            self.ln_2 = torch.nn.LayerNorm(width)
            self.mlp = torch.nn.Sequential(torch.nn.Linear(width, 4 * width), torch.nn.GELU(), torch.nn.Linear(4 * width, width))

        def forward(self, x):
            h = self.ln_1(x)
            mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            x = x + self.attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=False)[0]
            return x + self.mlp(self.ln_2(x))

    class TinyGPT(torch.nn.Module):
        def __init__(self, vocab, width, heads, depth, context):
            super().__init__()
            self.wte, self.wpe = torch.nn.Embedding(vocab, width), torch.nn.Embedding(context, width)
            self.blocks = torch.nn.ModuleList([Block(width, heads) for _ in range(depth)])
            self.ln_f, self.head = torch.nn.LayerNorm(width), torch.nn.Linear(width, vocab)

        def forward(self, tokens):
            x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return ResidualBlock, TinyGPT


def test_a_residual_block_matches_torch(torch):
    torch_block, _ = torch_twins(torch)
    block, module = ResidualBlock.create(6, 12), torch_block(6, 12)
    assert sorted(nx.state_dict(block.init(0))) == sorted(module.state_dict())
    assert [name for name, _ in nx.state_dict(block.init(0)).items()] == list(module.state_dict())
    params = random_params(block, scale=0.5)
    assert_matches_torch(torch, block.apply, params, with_params(torch, module, params), lambda m, x: m(x), [data(4, 6)])


def test_a_small_transformer_matches_torch_names_values_and_gradients(torch):
    _, torch_gpt = torch_twins(torch)
    assert_same_tree(TinyGPT.create(11, 8, 2, 3, 6), torch_gpt(11, 8, 2, 3, 6))  # blocks.0 to blocks.2
    model, module = TinyGPT.create(11, 8, 2, 1, 6), torch_gpt(11, 8, 2, 1, 6)  # one block: a quicker compile
    params = random_params(model, scale=0.5)
    tokens = np.random.default_rng(0).integers(0, 11, (3, 6))
    assert_matches_torch(torch, model.apply, params, with_params(torch, module, params), lambda m, t: m(t), [tokens])


def test_sublayer_keys_depend_on_names_not_on_siblings():
    @dataclasses.dataclass(frozen=True, repr=False)
    class Two(nn.Layer):
        first: nn.Linear
        second: nn.Linear

    @dataclasses.dataclass(frozen=True, repr=False)
    class Three(nn.Layer):
        extra: nn.Linear
        first: nn.Linear
        second: nn.Linear

    two, three = Two(nn.Linear(3, 3), nn.Linear(3, 3)).init(0), Three(nn.Linear(5, 5), nn.Linear(3, 3), nn.Linear(3, 3)).init(0)
    np.testing.assert_array_equal(two["first"]["weight"], three["first"]["weight"])
    assert not np.array_equal(two["first"]["weight"], two["second"]["weight"])  # equal layers, own draws
    np.testing.assert_array_equal(two["second"]["bias"], Two(nn.Linear(3, 3), nn.Linear(3, 3)).init(0)["second"]["bias"])


def test_a_sublayer_called_twice_draws_two_masks():
    @dataclasses.dataclass(frozen=True, repr=False)
    class Twice(nn.Layer):
        drop: nn.Dropout

        def apply(self, params, x, *, key=None, train=False):
            layers = self.bind(params, key=key, train=train)
            return layers.drop(x), layers.drop(x)

    first, second = Twice(nn.Dropout(0.5)).apply({}, jnp.ones(200), key=jax.random.key(0), train=True)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, Twice(nn.Dropout(0.5)).apply({}, jnp.ones(200), key=0, train=True)[0])


@dataclasses.dataclass(frozen=True, repr=False)
class ConvBlock(nn.Layer):
    conv: nn.Conv2d
    bn: nn.BatchNorm2d

    def apply(self, params, x, *, key=None, train=False, state=None):
        layers = self.bind(params, key=key, train=train, state=state)
        return layers.result(nn.relu(layers.bn(layers.conv(x))))


def test_state_threads_through_composites_as_torch_buffers(torch):
    model = nn.Sequential(ConvBlock(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)), nn.Flatten())
    twin = torch.nn.Sequential(torch.nn.Sequential(), torch.nn.Flatten())
    twin[0].add_module("conv", torch.nn.Conv2d(2, 3, 3))
    twin[0].add_module("bn", torch.nn.BatchNorm2d(3))
    twin[0].add_module("relu", torch.nn.ReLU())
    params, state = model.init(0), model.init_state()
    assert model.has_state and list(nx.state_dict(params, state)) == list(twin.state_dict())
    twin.load_state_dict({name: torch.from_numpy(np.array(v)) for name, v in nx.state_dict(params, state).items()})
    x = data(4, 2, 5, 5)
    y, new_state = model.apply(params, x, state=state, train=True)
    expected = twin(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(y), expected.detach().numpy(), atol=1e-5)
    for name, value in nx.state_dict({}, new_state).items():
        np.testing.assert_allclose(np.asarray(value), twin.state_dict()[name].numpy(), atol=1e-6, err_msg=name)
    with pytest.raises(ValueError, match=r"Sequential keeps running statistics and needs its state"):
        model.apply(params, x)


def test_lists_and_dicts_of_layers_are_named_and_printed_like_module_list_and_dict(torch):
    @dataclasses.dataclass(frozen=True, repr=False)
    class Heads(nn.Layer):
        trunk: list
        heads: dict

    model = Heads([nn.Linear(2, 2)] * 3 + [nn.ReLU()], {"policy": nn.Linear(2, 4), "value": nn.Linear(2, 1)})
    twin = torch.nn.Module()
    twin.trunk = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])
    twin.heads = torch.nn.ModuleDict({"policy": torch.nn.Linear(2, 4), "value": torch.nn.Linear(2, 1)})
    assert repr(model).replace("Heads(", "Module(", 1) == repr(twin)
    assert list(nx.state_dict(model.init(0))) == list(twin.state_dict())
    assert hash(model) == hash(Heads(tuple(model.trunk), dict(model.heads)))  # hashable: a static jit argument


def test_bound_sublayers_say_what_exists():
    block = ResidualBlock.create(2, 3)
    with pytest.raises(AttributeError, match=r"ResidualBlock has no sublayer 'linear3'"):
        block.bind(block.init(0)).linear3
    with pytest.raises(AttributeError, match=r"has no sublayer 'norm.x'; its sublayers are \['norm', 'linear1', 'linear2'\]"):
        block.bind(block.init(0))("norm.x", jnp.ones(2))


def test_summary_takes_a_composite_whole():
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    table = nx.summary(model, random_params(model), jnp.ones((5, 3, 8)))
    assert [row[:3] for row in table.rows] == [("TransformerEncoder", "TransformerEncoder", (5, 3, 8))]
    assert table.total_parameters == nx.count_parameters(random_params(model))


# -- rematerialisation ----------------------------------------------------------------------------


def remat_equations(jaxpr):
    """The rematerialisation equations anywhere in a jaxpr (JAX names the primitive `remat2`
    in some versions and `checkpoint` in others)."""
    found = []
    for equation in jaxpr.eqns:
        if equation.primitive.name in ("checkpoint", "remat2", "remat"):
            found.append(equation)
        for inner in jax.extend.core.jaxprs_in_params(equation.params):
            found += remat_equations(inner)
    return found


def test_remat_keeps_names_values_and_gradients_and_puts_a_checkpoint_in_the_program():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    plain, remat = nn.TransformerEncoder(layer, 2), nn.TransformerEncoder(nn.Remat(layer), 2)
    params, x = random_params(plain, scale=0.5), jnp.asarray(data(2, 5, 8))
    assert parameter_names(remat) == parameter_names(plain) and repr(remat.layers[0]).startswith("Remat(")
    linear = nn.Linear(3, 2)
    np.testing.assert_array_equal(nn.Remat(linear).init(0)["weight"], linear.init(0)["weight"])

    def loss(model):
        return lambda params, x: jnp.sum(model.apply(params, x, src_key_padding_mask=jnp.array([[False] * 4 + [True]] * 2)) ** 2)

    (plain_loss, plain_grads), (remat_loss, remat_grads) = jax.jit(
        lambda p, x: (jax.value_and_grad(loss(plain))(p, x), jax.value_and_grad(loss(remat))(p, x)))(params, x)
    np.testing.assert_allclose(remat_loss, plain_loss, rtol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(remat_grads), jax.tree_util.tree_leaves(plain_grads)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert len(remat_equations(jax.make_jaxpr(jax.grad(loss(remat)))(params, x).jaxpr)) == 2
    assert not remat_equations(jax.make_jaxpr(jax.grad(loss(plain)))(params, x).jaxpr)


def test_remat_threads_state_and_keys():
    block = ConvBlock(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3))
    wrapped = nn.Remat(block)
    assert wrapped.has_state and wrapped.init_state().keys() == block.init_state().keys()
    params, state, x = block.init(0), block.init_state(), jnp.asarray(data(4, 2, 5, 5))
    y, new_state = wrapped.apply(params, x, state=state, train=True)
    expected, expected_state = block.apply(params, x, state=state, train=True)
    np.testing.assert_allclose(np.asarray(y), np.asarray(expected), atol=1e-6)
    np.testing.assert_allclose(np.asarray(new_state["bn"]["running_mean"]), np.asarray(expected_state["bn"]["running_mean"]))
    dropped = nn.Remat(nn.Dropout(0.5)).apply({}, jnp.ones(100), key=jax.random.key(1), train=True)
    np.testing.assert_array_equal(dropped, nn.Dropout(0.5).apply({}, jnp.ones(100), key=jax.random.key(1), train=True))
    assert repr(wrapped).startswith("Remat(ConvBlock(")
