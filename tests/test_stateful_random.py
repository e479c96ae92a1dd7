"""Random draws: `torch.Generator` and `generator=` on every draw, `normal` (all its
overloads), `bernoulli`/`bernoulli_`, `multinomial`, `randint` (both signatures), `randperm`
and the `*_like` forms. The numbers are JAX's, not PyTorch's (another generator): compared
with PyTorch are shapes, dtypes, `grad_fn` names, gradients and errors; the values are
checked for their distributions, their ranges, reproducibility per seed and the
independence of generators."""

import numpy as np
import pytest
from torch_diff import check, check_raises

import nablax.stateful as nxt


def signature(result):
    """What a draw shares with PyTorch's: its shape, dtype, requires_grad and grad_fn name."""
    if isinstance(result, (tuple, list)):
        return [signature(item) for item in result]
    return (tuple(result.shape), str(result.dtype), result.requires_grad,
            None if result.grad_fn is None else type(result.grad_fn).__name__)


DRAWS = {
    "rand": lambda T, g: T.rand(2, 3, generator=g), "rand_size": lambda T, g: T.rand(size=(4,), generator=g, dtype=T.float64),
    "randn": lambda T, g: T.randn((2, 2), generator=g), "randint_high": lambda T, g: T.randint(5, (3,), generator=g),
    "randint_low_high": lambda T, g: T.randint(2, 5, (3, 1), generator=g, dtype=T.int32),
    "randint_keywords": lambda T, g: T.randint(low=-3, high=3, size=(2,), generator=g),
    "randint_float": lambda T, g: T.randint(2, (3,), dtype=T.float32, generator=g),
    "randint_bool": lambda T, g: T.randint(2, (3,), dtype=T.bool, generator=g),
    "randperm": lambda T, g: T.randperm(6, generator=g), "randperm_float": lambda T, g: T.randperm(3, dtype=T.float32, generator=g),
    "rand_like": lambda T, g: T.rand_like(T.ones(2, dtype=T.float64), generator=g),
    "randn_like": lambda T, g: T.randn_like(T.ones(2, 3), generator=g),
    "randint_like": lambda T, g: T.randint_like(T.ones(2, 3), 5, generator=g),
    "randint_like_low_high": lambda T, g: T.randint_like(T.ones(2), 1, 5, generator=g),
    "normal_numbers": lambda T, g: T.normal(0.0, 1.0, (2, 3), generator=g),
    "normal_int_numbers": lambda T, g: T.normal(2, 3, size=(2,), generator=g, dtype=T.float64),
    "normal_tensors": lambda T, g: T.normal(T.zeros(2, 3, requires_grad=True), T.ones(2, 3, requires_grad=True), generator=g),
    "normal_tensor_mean": lambda T, g: T.normal(T.zeros(2, 3, requires_grad=True), 2.0, generator=g),
    "normal_tensor_std": lambda T, g: T.normal(0.0, T.ones(3, requires_grad=True), generator=g),
    "normal_broadcast": lambda T, g: T.normal(T.zeros(2, 1), T.ones(3), generator=g),
    "normal_mean_keyword": lambda T, g: T.normal(mean=T.zeros(2)),
    "normal_dtypes": lambda T, g: (T.normal(T.zeros(2, dtype=T.float64), T.ones(2)), T.normal(T.zeros(2), T.ones(2, dtype=T.float64)),
                                   T.normal(2.0, T.ones(2, dtype=T.float64))),
    "normal_requires_grad": lambda T, g: T.normal(0.0, 1.0, (2,), requires_grad=True),
    "bernoulli": lambda T, g: T.bernoulli(T.full((2, 3), 0.5), generator=g),
    "bernoulli_p": lambda T, g: T.bernoulli(T.zeros(2, dtype=T.float64), 0.3, generator=g),
    "bernoulli_grad": lambda T, g: (T.bernoulli(T.full((2,), 0.5, requires_grad=True)),
                                    T.bernoulli(T.full((2,), 0.5, requires_grad=True), 0.3)),
    "bernoulli_method": lambda T, g: T.ones(2).bernoulli(),
    "bernoulli_in_place": lambda T, g: (T.zeros(3).bernoulli_(0.5, generator=g), T.zeros(3, dtype=T.long).bernoulli_(0.5),
                                        T.zeros(3, dtype=T.bool).bernoulli_(T.full((3,), 0.5), generator=g)),
    "multinomial": lambda T, g: T.multinomial(T.tensor([0.2, 0.8]), 4, True, generator=g),
    "multinomial_rows": lambda T, g: T.multinomial(T.ones(3, 4), 2, generator=g),
    "multinomial_method": lambda T, g: T.ones(5).multinomial(5, generator=g),
    "multinomial_requires_grad": lambda T, g: T.multinomial(T.ones(2, requires_grad=True), 1),
    "in_place_fills": lambda T, g: (T.zeros(3).normal_(generator=g), T.zeros(3).uniform_(-1, 1, generator=g)),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_draws_have_torchs_shapes_dtypes_and_nodes(torch, name):
    theirs = DRAWS[name](torch, torch.Generator().manual_seed(0))
    ours = DRAWS[name](nxt, nxt.Generator().manual_seed(0))
    assert signature(ours) == signature(theirs)


def test_gradients_of_draws_are_zero_as_in_torch(torch):
    def case(T):
        mean, std = T.zeros(3, requires_grad=True), T.ones(3, requires_grad=True)
        probability = T.full((3,), 0.5, requires_grad=True)
        (T.normal(mean, std).sum() + T.normal(mean, 1.0).sum() + T.normal(0.0, std).sum() + T.bernoulli(probability).sum()).backward()
        return mean.grad, std.grad, probability.grad

    check(torch, case)
    check_raises(torch, lambda T: T.bernoulli(T.full((3,), 0.5, requires_grad=True), 0.3).sum().backward())


def test_draws_are_reproducible_per_seed_and_generators_are_independent():
    first = nxt.Generator().manual_seed(7)
    a = [nxt.rand(4, generator=first), nxt.randn(3, generator=first), nxt.randint(10, (5,), generator=first),
         nxt.randperm(6, generator=first), nxt.multinomial(nxt.ones(4), 2, generator=first),
         nxt.normal(nxt.zeros(3), 1.0, generator=first), nxt.bernoulli(nxt.full((4,), 0.5), generator=first)]
    nxt.manual_seed(0)
    global_draw = nxt.rand(3)
    second = nxt.Generator().manual_seed(7)
    nxt.rand(100)  # draws from the global stream do not move a generator
    b = [nxt.rand(4, generator=second), nxt.randn(3, generator=second), nxt.randint(10, (5,), generator=second),
         nxt.randperm(6, generator=second), nxt.multinomial(nxt.ones(4), 2, generator=second),
         nxt.normal(nxt.zeros(3), 1.0, generator=second), nxt.bernoulli(nxt.full((4,), 0.5), generator=second)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    nxt.manual_seed(0)
    np.testing.assert_array_equal(nxt.rand(3).numpy(), global_draw.numpy())  # generators do not move the global stream
    assert not np.array_equal(nxt.rand(4, generator=nxt.Generator().manual_seed(8)).numpy(), a[0].numpy())


def test_generator_state_seed_and_manual_seed_return_the_generator(torch):
    generator = nxt.Generator()
    assert generator.manual_seed(3) is generator and generator.initial_seed() == 3
    assert type(torch.Generator().manual_seed(3)).__name__ == "Generator"
    state = generator.get_state()
    first = nxt.rand(3, generator=generator)
    generator.set_state(state)
    np.testing.assert_array_equal(nxt.rand(3, generator=generator).numpy(), first.numpy())
    seed = generator.seed()
    assert generator.initial_seed() == seed and str(generator.device) == "cpu"
    state = nxt.get_rng_state()
    first = nxt.randn(2)
    nxt.set_rng_state(state)
    np.testing.assert_array_equal(nxt.randn(2).numpy(), first.numpy())
    with pytest.raises(TypeError, match="expected a torch.Generator"):
        nxt.rand(2, generator=3)


def test_distributions_and_ranges():
    generator = nxt.Generator().manual_seed(1)
    normal = nxt.normal(nxt.full((20000,), 2.0), nxt.full((20000,), 3.0), generator=generator).numpy()
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    scalar_normal = nxt.normal(-1.0, 0.5, (20000,), generator=generator).numpy()
    assert abs(scalar_normal.mean() + 1.0) < 0.03 and abs(scalar_normal.std() - 0.5) < 0.03
    coins = nxt.bernoulli(nxt.full((20000,), 0.3), generator=generator).numpy()
    assert set(np.unique(coins)) <= {0.0, 1.0} and abs(coins.mean() - 0.3) < 0.02
    filled = nxt.zeros(20000, dtype=nxt.long).bernoulli_(0.8, generator=generator).numpy()
    assert abs(filled.mean() - 0.8) < 0.02
    counts = np.bincount(nxt.multinomial(nxt.tensor([1.0, 2.0, 7.0]), 20000, True, generator=generator).numpy(), minlength=3)
    np.testing.assert_allclose(counts / 20000, [0.1, 0.2, 0.7], atol=0.02)
    integers = nxt.randint(-3, 4, (5000,), generator=generator).numpy()
    assert integers.min() == -3 and integers.max() == 3
    assert sorted(nxt.randperm(50, generator=generator).tolist()) == list(range(50))


def test_multinomial_without_replacement_draws_distinct_categories():
    generator = nxt.Generator().manual_seed(2)
    rows = nxt.multinomial(nxt.rand(50, 10, generator=generator) + 0.01, 10, generator=generator).numpy()
    assert all(sorted(row) == list(range(10)) for row in rows)
    first = nxt.multinomial(nxt.tensor([[1e-6, 1.0, 1e-6]] * 200), 1, generator=generator).numpy()
    assert (first == 1).mean() > 0.99
    zero_weight = nxt.multinomial(nxt.tensor([0.0, 1.0, 1.0]), 2, generator=generator).numpy()
    assert sorted(zero_weight) == [1, 2]


RANDOM_ERRORS = {
    "normal_numbers_without_size": lambda T: T.normal(0.0, 1.0),
    "normal_int_mean": lambda T: T.normal(T.tensor([1, 2]), 1.0),
    "normal_negative_std": lambda T: T.normal(T.zeros(2), -1.0),
    "normal_negative_std_number": lambda T: T.normal(0.0, -1.5, (2,)),
    "normal_negative_std_tensor": lambda T: T.normal(T.zeros(2), -T.ones(2)),
    "normal_shapes": lambda T: T.normal(T.zeros(2), T.ones(3)),
    "normal_in_place_negative_std": lambda T: T.zeros(3).normal_(0, -1),
    "normal_in_place_long": lambda T: T.zeros(3, dtype=T.long).normal_(),
    "uniform_in_place_reversed": lambda T: T.zeros(3).uniform_(2, 1),
    "uniform_in_place_long": lambda T: T.zeros(3, dtype=T.long).uniform_(),
    "multinomial_negative": lambda T: T.multinomial(T.tensor([-1.0, 2.0]), 1),
    "multinomial_zero_sum": lambda T: T.multinomial(T.tensor([0.0, 0.0]), 1),
    "multinomial_inf": lambda T: T.multinomial(T.tensor([float("inf"), 0.0]), 1),
    "multinomial_nan": lambda T: T.multinomial(T.tensor([float("nan"), 1.0]), 1),
    "multinomial_3d": lambda T: T.multinomial(T.ones(1, 1, 2), 1),
    "multinomial_0d": lambda T: T.multinomial(T.tensor(1.0), 1),
    "multinomial_no_samples": lambda T: T.multinomial(T.ones(2), 0),
    "multinomial_too_many": lambda T: T.multinomial(T.tensor([0.2, 0.8]), 3),
    "multinomial_long": lambda T: T.multinomial(T.tensor([1, 2]), 1),
    "multinomial_long_3d": lambda T: T.multinomial(T.ones(1, 1, 2, dtype=T.long), 0),
    "bernoulli_out_of_range": lambda T: T.bernoulli(T.tensor([2.0])),
    "bernoulli_long": lambda T: T.bernoulli(T.tensor([1])),
    "bernoulli_p_out_of_range": lambda T: T.bernoulli(T.ones(2), 1.5),
    "bernoulli_in_place_p": lambda T: T.zeros(3).bernoulli_(1.5),
    "bernoulli_in_place_shapes": lambda T: T.zeros(3).bernoulli_(T.ones(2)),
    "bernoulli_in_place_range": lambda T: T.zeros(3).bernoulli_(T.ones(3) * 2),
    "bernoulli_in_place_long_p": lambda T: T.zeros(3).bernoulli_(T.tensor([1, 0, 1])),
    "bernoulli_in_place_leaf": lambda T: T.zeros(3, requires_grad=True).bernoulli_(),
    "randint_empty_range": lambda T: T.randint(5, 2, (3,)),
    "randint_uint8_range": lambda T: T.randint(300, (3,), dtype=T.uint8),
    "randint_uint8_low": lambda T: T.randint(-1, 5, (2,), dtype=T.uint8),
    "randint_int32_high": lambda T: T.randint(0, 2**40, (2,), dtype=T.int32),
    "randint_requires_grad": lambda T: T.randint(3, (2,), requires_grad=True),
    "randperm_negative": lambda T: T.randperm(-1),
    "randperm_bool": lambda T: T.randperm(3, dtype=T.bool),
    "randperm_uint8_overflow": lambda T: T.randperm(300, dtype=T.uint8),
    "rand_long": lambda T: T.rand(2, dtype=T.long),
    "randn_long": lambda T: T.randn(2, dtype=T.long),
}
# PyTorch lists every overload in these messages; ours give the first line and shorter lists.
PHRASES = {"normal_numbers_without_size": "normal() received an invalid combination of arguments - got (float, float)"}


@pytest.mark.parametrize("name", list(RANDOM_ERRORS))
def test_random_errors_match_torch(torch, name):
    check_raises(torch, RANDOM_ERRORS[name], phrase=PHRASES.get(name))


@pytest.mark.parametrize("case", [lambda T: T.randint(5), lambda T: T.randint(3.0, 5.0, (2,))], ids=["no_size", "floats"])
def test_randint_signature_errors(torch, case):
    check_raises(torch, case, phrase="randint() received an invalid combination of arguments - got (")


def test_initialisers_take_a_generator(torch):
    import nablax.stateful.nn as nn

    def drawn(seed):
        generator = nxt.Generator().manual_seed(seed)
        weights = [nxt.empty(3, 4) for _ in range(6)]
        nn.init.uniform_(weights[0], -1, 1, generator=generator)
        nn.init.normal_(weights[1], 0, 2, generator=generator)
        nn.init.xavier_uniform_(weights[2], generator=generator)
        nn.init.xavier_normal_(weights[3], generator=generator)
        nn.init.kaiming_uniform_(weights[4], generator=generator)
        nn.init.kaiming_normal_(weights[5], generator=generator)
        return [w.numpy() for w in weights]

    for first, again in zip(drawn(4), drawn(4)):
        np.testing.assert_array_equal(first, again)
    assert not np.array_equal(drawn(4)[0], drawn(5)[0])
    generator = torch.Generator().manual_seed(0)
    torch.nn.init.kaiming_uniform_(torch.empty(3, 4), generator=generator)  # PyTorch's signature, too
