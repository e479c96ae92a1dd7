"""`nablax.stateful` autograd against PyTorch's: `backward`, `.grad` accumulation, grad
mode, `detach`, `torch.autograd.grad/backward`, `grad_fn` objects and PyTorch's errors."""

import re
import warnings

import numpy as np
import pytest
from torch_diff import check, check_raises, grad_fn_name, same_repr

import nablax.stateful as nxt

RNG = np.random.default_rng(1)
A = RNG.standard_normal((2, 3)).astype(np.float32)
B = RNG.standard_normal((3, 2)).astype(np.float32)


def leaf(T, data=A, **kwargs):
    return T.tensor(data, requires_grad=True, **kwargs)


# -- backward ------------------------------------------------------------------------------------------


def test_backward_of_a_scalar(torch):
    def case(T):
        x, w = leaf(T), leaf(T, B)
        loss = ((x @ w).relu() ** 2).mean()
        loss.backward()
        return loss, x.grad, w.grad, x.grad.requires_grad, x.grad.grad_fn, x.grad.is_leaf

    check(torch, case)


def test_backward_with_a_gradient_for_a_non_scalar(torch):
    def case(T):
        x = leaf(T)
        y = x.exp() * 2
        y.backward(T.tensor(A[::-1].copy()))
        z = leaf(T, [1.0, 2.0])
        (z * z).backward(gradient=T.tensor([1.0, 10.0]))
        return x.grad, z.grad

    check(torch, case)


def test_backward_of_a_leaf_and_of_a_float64_graph(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0], dtype=T.float64)
        x.backward(T.tensor([3.0, 4.0], dtype=T.float64))
        y = leaf(T, 2.0)
        y.backward()
        return x.grad, y.grad

    check(torch, case)


def test_gradients_through_views_and_repeated_uses(torch):
    def case(T):
        x = leaf(T)
        y = x[0] * x.view(3, 2)[:, 0] + x.T[:, 1] * x.sum() + x[:, 1:].flatten()[:3]
        y.sum().backward()
        return y, x.grad

    check(torch, case)


BACKWARD_ERRORS = {
    "non_scalar_without_gradient": lambda T: (leaf(T) * 2).backward(),
    "no_grad_fn": lambda T: T.tensor([1.0, 2.0]).backward(),
    "sum_without_grad_fn": lambda T: T.tensor([1.0, 2.0]).sum().backward(),
    "gradient_of_wrong_shape": lambda T: (leaf(T, [1.0, 2.0]) * 2).backward(T.tensor([1.0, 10, 3])),
    "created_under_no_grad": lambda T: _under_no_grad(T, lambda x: (x * 2).sum()).backward(),
}


def _under_no_grad(T, fn):
    x = leaf(T)
    with T.no_grad():
        return fn(x)


@pytest.mark.parametrize("name", list(BACKWARD_ERRORS))
def test_backward_errors_match_torch(torch, name):
    check_raises(torch, BACKWARD_ERRORS[name], phrase="Mismatch in shape" if name == "gradient_of_wrong_shape" else None)


# Which graphs a second backward may walk again: PyTorch frees what nodes saved for backward.
SECOND_BACKWARD = {
    "add_scalar": lambda T, x: x + 2, "add": lambda T, x: x + x, "sub": lambda T, x: x - 2, "rsub": lambda T, x: 2 - x,
    "neg": lambda T, x: -x, "mul_scalar": lambda T, x: x * 2, "mul": lambda T, x: x * x, "div": lambda T, x: x / 2,
    "rdiv": lambda T, x: 2 / x, "pow": lambda T, x: x ** 2, "exp": lambda T, x: x.exp(), "relu": lambda T, x: x.relu(),
    "abs": lambda T, x: x.abs(), "sigmoid": lambda T, x: x.sigmoid(), "softmax": lambda T, x: x.softmax(0),
    "clamp": lambda T, x: x.clamp(0, 1), "view": lambda T, x: x.view(2), "select": lambda T, x: x[0],
    "index": lambda T, x: x[[0, 1]], "expand": lambda T, x: x.expand(2, 2), "clone": lambda T, x: x.clone(),
    "to": lambda T, x: x.double(), "mean": lambda T, x: x.mean(), "sum": lambda T, x: x.sum(),
    "cat": lambda T, x: T.cat([x, x]), "stack": lambda T, x: T.stack([x, x]), "where": lambda T, x: T.where(x > 1, x, 0.0),
    "max": lambda T, x: x.max(), "max_dim": lambda T, x: x.max(0).values, "matmul": lambda T, x: x @ x,
}


@pytest.mark.parametrize("name", list(SECOND_BACKWARD))
def test_second_backward_through_a_freed_graph(torch, name):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        out = SECOND_BACKWARD[name](T, x).sum()
        out.backward()
        out.backward()
        return x.grad

    check(torch, case)


def test_retain_graph_allows_a_second_backward(torch):
    def case(T):
        x = leaf(T)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        return first, x.grad

    check(torch, case)


# -- .grad accumulation ---------------------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls(torch):
    def case(T):
        x, y = leaf(T, [1.0, 2.0]), leaf(T, 1.0)
        (x * y).sum().backward()
        (x * y * 3).sum().backward()
        return x.grad, y.grad

    check(torch, case)


def test_grad_zero_keeps_the_grad_tensor(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        (x * 3).sum().backward()
        grad = x.grad
        x.grad.zero_()
        zeroed = grad.clone()
        (x * 5).sum().backward()
        return zeroed, x.grad, grad is x.grad, grad

    check(torch, case)


def test_grad_set_to_none_starts_afresh(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        (x * 3).sum().backward()
        x.grad = None
        (x * 5).sum().backward()
        return x.grad

    check(torch, case)


def test_non_leaf_tensors_get_no_grad(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        y = x * 2
        (y * y).sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns about reading .grad of a non-leaf
            return x.grad, y.grad, y.is_leaf

    check(torch, case)


# -- in-place ops and autograd ---------------------------------------------------------------------------

INPLACE_ERRORS = {
    "add_on_leaf": lambda T: leaf(T).add_(1),
    "iadd_on_leaf": lambda T: leaf(T).__iadd__(1),
    "zero_on_leaf": lambda T: leaf(T).zero_(),
    "mul_on_row_of_leaf": lambda T: leaf(T)[0].mul_(2),
    "zero_on_view_of_leaf": lambda T: leaf(T).view(6).zero_(),
    "setitem_int": lambda T: leaf(T).__setitem__(0, 1.0),
    "setitem_slice": lambda T: leaf(T).__setitem__((slice(None), slice(1, None)), 1.0),
    "setitem_whole": lambda T: leaf(T).__setitem__(slice(None), 1.0),
    "setitem_ellipsis": lambda T: leaf(T).__setitem__(Ellipsis, 1.0),
    "setitem_list": lambda T: leaf(T).__setitem__([0], 1.0),
    "setitem_mask": lambda T: (lambda x: x.__setitem__(x > 0, 1.0))(leaf(T)),
    "setitem_int_and_list": lambda T: leaf(T).__setitem__((0, [0]), 1.0),
}


@pytest.mark.parametrize("name", list(INPLACE_ERRORS))
def test_inplace_on_a_leaf_that_requires_grad_raises(torch, name):
    check_raises(torch, INPLACE_ERRORS[name])


def test_inplace_on_a_leaf_under_no_grad_and_through_data(torch):
    def case(T):
        x = leaf(T, [[1.0, 2.0]])
        with T.no_grad():
            x.add_(1)
            x[0, 1] = 5
            x.mul_(2)
        x.data.add_(1)
        x.detach().mul_(3)
        return x, x.is_leaf, x.requires_grad, x.grad_fn

    check(torch, case)


def test_inplace_in_a_graph_records_and_differentiates(torch):
    def case(T):
        x = leaf(T)
        y = x * 1
        y[0, 0] = 10
        y[:, 1].mul_(3)
        y += x
        y *= x
        y.view(-1).add_(x.view(-1))
        y.sum().backward()
        return y, x.grad

    check(torch, case)


def test_writing_a_tensor_that_requires_grad_into_a_constant(torch):
    def case(T):
        x = leaf(T)
        w = T.zeros(2, 3)
        w[0] = x[1]
        v = T.zeros(2, 3)
        v += x
        (w.sum() + (v * v).sum()).backward()
        return w, v, w.is_leaf, x.grad

    check(torch, case)


def test_sgd_loop_with_in_place_updates_under_no_grad(torch):
    """The notes' loop: `w -= lr * w.grad` under no_grad, then `w.grad.zero_()`, 20 times."""
    xs = RNG.standard_normal((16, 3)).astype(np.float32)
    ys = (xs @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)

    def case(T):
        x, y = T.tensor(xs), T.tensor(ys)
        w = T.zeros(3, 1, requires_grad=True)
        b = T.zeros(1, requires_grad=True)
        losses = []
        for _ in range(20):
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with T.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
            w.grad.zero_()
            b.grad.zero_()
            losses.append(loss.item())
        return w, b, losses, w.is_leaf, w.grad

    check(torch, case)


# -- grad mode -------------------------------------------------------------------------------------------


def test_no_grad_as_a_context_manager(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        with T.no_grad():
            y = x * 2
            inside = T.is_grad_enabled()
        return y, y.requires_grad, y.is_leaf, y.grad_fn, inside, T.is_grad_enabled()

    check(torch, case)


def test_no_grad_as_a_decorator(torch):
    def case(T):
        @T.no_grad()
        def double(t):
            return t * 2, T.is_grad_enabled()

        return double(leaf(T, [1.0, 2.0])), T.is_grad_enabled(), double.__name__

    check(torch, case)


def test_no_grad_as_a_bare_decorator(torch):
    def case(T):
        @T.no_grad
        def double(t):
            return t * 2

        return double(leaf(T, [1.0, 2.0])), T.is_grad_enabled()

    check(torch, case)


def test_enable_grad_inside_no_grad(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])

        @T.enable_grad()
        def triple(t):
            return t * 3

        with T.no_grad():
            with T.enable_grad():
                y = x * 2
            z = x * 2
            w = triple(x)
        return y, z, w

    check(torch, case)


def test_set_grad_enabled_as_a_function_and_a_context(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        with T.set_grad_enabled(False):
            y = x * 2
        after_context = T.is_grad_enabled()
        T.set_grad_enabled(False)
        z = x * 2
        off = T.is_grad_enabled()
        T.set_grad_enabled(True)
        with T.set_grad_enabled(True):
            v = x * 2
        return y, z, v, after_context, off, T.is_grad_enabled()

    check(torch, case)


def test_grad_mode_is_restored_after_an_exception(torch):
    def case(T):
        try:
            with T.no_grad():
                raise KeyError("inside")
        except KeyError:
            pass
        return T.is_grad_enabled()

    check(torch, case)


# -- detach and requires_grad ---------------------------------------------------------------------------


def test_detach_and_requires_grad_flags(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        y = x * 2
        d = y.detach()
        x2 = leaf(T, [3.0])
        x2.requires_grad_(False)
        z = T.tensor([1.0, 2.0])
        z.requires_grad = True
        i = T.tensor([1, 2]).requires_grad_(False)
        return (d, d.requires_grad, d.is_leaf, d.grad_fn, x2, x2.requires_grad, x2.is_leaf, z, z.is_leaf, i,
                y.requires_grad_(True), y.detach().requires_grad_())

    check(torch, case)


def test_detach_shares_storage(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        d = x.detach()
        d[0] = 10
        return x, d

    check(torch, case)


def test_detached_values_are_constants_of_the_graph(torch):
    def case(T):
        x = leaf(T)
        (x * x.detach() + x.detach().exp()).sum().backward()
        return x.grad

    check(torch, case)


REQUIRES_GRAD_ERRORS = {
    "requires_grad_of_int": lambda T: T.tensor([1, 2]).requires_grad_(),
    "setter_of_int": lambda T: setattr(T.tensor([1, 2]), "requires_grad", True),
    "setter_true_on_non_leaf": lambda T: setattr(leaf(T) * 2, "requires_grad", True),
    "setter_false_on_non_leaf": lambda T: setattr(leaf(T) * 2, "requires_grad", False),
    "requires_grad_false_on_non_leaf": lambda T: (leaf(T) * 2).requires_grad_(False),
    "factory_int": lambda T: T.tensor([1, 2], requires_grad=True),
}


@pytest.mark.parametrize("name", list(REQUIRES_GRAD_ERRORS))
def test_requires_grad_errors_match_torch(torch, name):
    check_raises(torch, REQUIRES_GRAD_ERRORS[name])


OTHER_ERRORS = {
    "item_of_many": lambda T: leaf(T).item(),
    "view_of_wrong_size": lambda T: leaf(T, [1.0, 2.0]).view(3),
    "view_of_non_contiguous": lambda T: leaf(T).T.view(6),
    "matmul_mismatch": lambda T: leaf(T) @ leaf(T),
    "numpy_of_requires_grad": lambda T: leaf(T).numpy(),
}


@pytest.mark.parametrize("name", list(OTHER_ERRORS))
def test_errors_on_tensors_that_require_grad(torch, name):
    check_raises(torch, OTHER_ERRORS[name])


def test_legacy_variable(torch):
    def case(T):
        x = T.tensor([1.0, 2.0])
        v = T.autograd.Variable(x, requires_grad=True)
        plain = T.autograd.Variable(x)
        (v * v).sum().backward()
        return v, type(v).__name__, v.is_leaf, v.grad, plain, plain.requires_grad

    check(torch, case)


# -- torch.autograd.grad and backward ---------------------------------------------------------------------


def test_autograd_grad_of_leaves_and_non_leaves(torch):
    def case(T):
        x = leaf(T)
        y = x * x
        z = (y.exp() * 0.1).sum()
        grads = T.autograd.grad(z, [x, y])
        return grads, x.grad, type(grads).__name__

    check(torch, case)


def test_autograd_grad_with_grad_outputs_and_single_input(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        return T.autograd.grad(x * x, x, T.tensor([1.0, 3.0])), T.autograd.grad((x ** 3).sum(), x)

    check(torch, case)


def test_autograd_grad_allow_unused_and_materialize(torch):
    def case(T):
        x, w = leaf(T, [1.0, 2.0]), leaf(T, [3.0, 4.0])
        z = (x * x).sum()
        unused = T.autograd.grad(z, [x, w], allow_unused=True, retain_graph=True)
        materialized = T.autograd.grad(z, [x, w], materialize_grads=True)
        return unused, materialized

    check(torch, case)


def test_autograd_grad_of_an_unused_input_raises(torch):
    def case(T):
        x, w = leaf(T, [1.0, 2.0]), leaf(T, [3.0, 4.0])
        return T.autograd.grad((x * x).sum(), [x, w])

    check_raises(torch, case, phrase="appears to not have been used in the graph. Set allow_unused=True")


def test_autograd_grad_of_an_unused_input_names_its_index(torch):
    def case(T):
        x, w = leaf(T, [1.0, 2.0]), leaf(T, [3.0, 4.0])
        return T.autograd.grad((x * x).sum(), [x, w])

    check_raises(torch, case)


AUTOGRAD_GRAD_ERRORS = {
    "second_call_frees": lambda T: (lambda x: (lambda z: (T.autograd.grad(z, x), T.autograd.grad(z, x)))((x * x).sum()))(leaf(T)),
    "non_scalar": lambda T: (lambda x: T.autograd.grad(x * x, x))(leaf(T)),
    "input_without_grad": lambda T: T.autograd.grad((leaf(T) * 2).sum(), T.tensor([1.0])),
}


@pytest.mark.parametrize("name", list(AUTOGRAD_GRAD_ERRORS))
def test_autograd_grad_errors(torch, name):
    check_raises(torch, AUTOGRAD_GRAD_ERRORS[name])


def test_autograd_grad_with_retain_graph_may_be_called_again(torch):
    def case(T):
        x = leaf(T)
        z = (x.exp()).sum()
        first = T.autograd.grad(z, x, retain_graph=True)
        return first, T.autograd.grad(z, x)

    check(torch, case)


def test_autograd_backward(torch):
    def case(T):
        x = leaf(T, [1.0, 2.0])
        T.autograd.backward((x * x).sum())
        first = x.grad.clone()
        T.autograd.backward(x * x, T.tensor([1.0, 2.0]))
        second = x.grad.clone()
        T.autograd.backward([(x * x).sum(), (x * 3).sum()])
        return first, second, x.grad

    check(torch, case)


# -- grad_fn objects ----------------------------------------------------------------------------------------

GRAPHS = {
    "mul_tensor_constant": lambda T, x: x * T.tensor(B.T),
    "mul_scalar": lambda T, x: x * 3,
    "add_scalar": lambda T, x: x + 3,
    "add_leaves": lambda T, x: x + x,
    "sum_of_mul": lambda T, x: (x * x + 2).sum(),
    "mean_exp": lambda T, x: x.exp().mean(),
    "matmul": lambda T, x: x @ T.tensor(B),
    "dot": lambda T, x: x[0] @ x[1],
    "cat_with_constant": lambda T, x: T.cat([x, T.ones(2, 3)]),
    "max_dim": lambda T, x: x.max(0)[0],
    "view_chain": lambda T, x: x.view(3, 2).T.unsqueeze(0),
    "clamp": lambda T, x: x.clamp(0, 1),
    "rdiv": lambda T, x: 2 / x,
    "to": lambda T, x: x.double().sum(1),
    "detached_operand": lambda T, x: x * x.detach(),
    "alpha": lambda T, x: T.add(x, x, alpha=2),
    "no_grad_operand": lambda T, x: x + _under_no_grad(T, lambda y: y * 2),
}


def structure(node, depth=4):
    """A grad_fn graph as nested (name, next) tuples, with None for edges to nothing."""
    if node is None:
        return None
    if depth == 0:
        return type(node).__name__
    return type(node).__name__, tuple((structure(child, depth - 1), index) for child, index in node.next_functions)


@pytest.mark.parametrize("name", list(GRAPHS))
def test_grad_fn_next_functions_match_torch(torch, name):
    ours = structure(GRAPHS[name](nxt, leaf(nxt)).grad_fn)
    theirs = structure(GRAPHS[name](torch, leaf(torch)).grad_fn)
    assert ours == theirs


@pytest.mark.parametrize("graph", [lambda T, x: 2 - x, lambda T, x: 2 ** x, lambda T, x: x[[0, 1]],
                                   lambda T, x: T.where(x > 0, x, 0.0)], ids=["rsub", "rpow", "index", "where"])
def test_grad_fn_next_functions_without_scalar_inputs(torch, graph):
    assert structure(graph(nxt, leaf(nxt)).grad_fn) == structure(graph(torch, leaf(torch)).grad_fn)


def test_hand_written_nodes_have_qualified_names_like_torchs(torch):
    def case(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        copied = T.zeros(2)
        copied.copy_(a)
        sliced = a * 1
        sliced[0] = 5.0
        return [t.grad_fn.name() for t in (copied, sliced, a // 1, a * 2)] + [(a * 2).grad_fn.next_functions[0][0].name()]

    assert case(nxt) == case(torch)


def test_grad_fn_objects_print_and_behave_like_torchs(torch):
    def case(T):
        x = leaf(T)
        y = x * 2
        accumulate = y.grad_fn.next_functions[0][0]
        return (repr(y.grad_fn), repr(accumulate), y.grad_fn.name(), y.grad_fn is y.grad_fn, x.grad_fn,
                accumulate.next_functions, accumulate.variable is x, type(accumulate).__name__)

    theirs, ours = case(torch), case(nxt)
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", ours[0])
    assert same_repr(ours[0], theirs[0]) and same_repr(ours[1], theirs[1])
    assert ours[2:] == theirs[2:]


def test_grad_fn_names_of_reductions_and_views(torch):
    def case(T):
        x = leaf(T)
        outs = [x.sum(), x.sum(0), x.mean(), x.mean(1), x.prod(), x.prod(0), x.max(), x.max(1).values, x[0], x[:, 1:],
                x[None], x[x > 0], x.T, x.t(), x.transpose(0, 1), x.permute(1, 0), x.unsqueeze(0).squeeze(),
                x.unsqueeze(0).squeeze(0), x.view(-1), x.reshape(3, 2), x.T.reshape(-1), x.expand(2, 2, 3), x.flatten()]
        return [grad_fn_name(o) for o in outs]

    check(torch, case)


def test_a_bias_free_linear_layer_initialised_to_zero_gets_gradients(torch):
    def case(T):
        layer = T.nn.Linear(3, 1, bias=False)
        with T.no_grad():
            layer.weight.zero_()
        layer(T.tensor(A)).sum().backward()
        return layer.weight.grad

    check(torch, case)


# -- found by differential fuzzing (tests/test_fuzz_torch.py) ------------------------------------------


def test_in_place_writes_autograd_does_not_record_keep_the_history(torch):
    def case(T):
        x = leaf(T)
        y = x * 2
        with T.no_grad():
            y.add_(1)
            y[0].mul_(3)
        z = x * 3
        z.detach().add_(1)  # through a detached alias, in grad mode
        (y * y).sum().backward()
        return y, z, grad_fn_name(y), grad_fn_name(z), x.grad

    check(torch, case)


def test_fills_and_copies_of_a_tensor_that_requires_grad_keep_requiring_grad(torch):
    def case(T):
        x = leaf(T)
        filled, zeroed, copied = x * 1, x * 2, x * 3
        filled.fill_(2.0)
        zeroed.zero_()
        copied.copy_(T.ones(3))
        ((filled + zeroed + copied) * x).sum().backward()
        same = x * 4
        same.copy_(same)
        return filled, zeroed, copied, same, x.grad

    check(torch, case)


def test_in_place_op_whose_result_is_cast_back_keeps_the_ops_name(torch):
    check(torch, lambda T: T.tensor(0.75).sub_(T.tensor(1.5, dtype=T.float64, requires_grad=True)))


def test_views_taken_under_no_grad_of_a_tensor_that_requires_grad(torch):
    def case(T):
        x = leaf(T)
        with T.no_grad():
            view = x[0]
        y = view * 2
        (y.sum() + x.sum()).backward()
        return view, view.requires_grad, view.is_leaf, view.grad_fn, y, x.grad, view.grad, repr(view)

    check(torch, case)
    check_raises(torch, lambda T: _no_grad_view_of(T, leaf(T) * 1).add_(1), phrase="created in no_grad mode")
    check_raises(torch, lambda T: _no_grad_view_of(T, leaf(T) * 1)[0].mul_(2), phrase="created in no_grad mode")


def _no_grad_view_of(T, x):
    with T.no_grad():
        return x[0]


def test_ops_without_a_derivative_raise_in_backward(torch):
    check(torch, lambda T: (grad_fn_name(leaf(T) // 2), grad_fn_name(leaf(T) % 2), grad_fn_name(leaf(T) % T.ones(3)),
                            grad_fn_name(2 % leaf(T))))
    check_raises(torch, lambda T: (leaf(T) // T.ones(3)).sum().backward())
    check_raises(torch, lambda T: (2 % leaf(T)).sum().backward())


def test_item_assignment_writes_through_a_view_only_where_an_index_selects(torch):
    def case(T):
        names = []
        for index in [slice(None, 1), slice(None), Ellipsis, (slice(None), slice(None, 5)), slice(-5, None), 0,
                      (slice(0, 2), T.tensor([0, 1])), T.tensor([0, 1])]:
            x = T.zeros(2, 3)
            x[index] = T.ones(3, requires_grad=True)[:2] if isinstance(index, tuple) and len(index) == 2 and \
                isinstance(index[1], T.Tensor) else T.ones(3, requires_grad=True)
            names.append(grad_fn_name(x))
        return names

    check(torch, case)
    check_raises(torch, lambda T: leaf(T).__setitem__((0, 1, 2), 1.0), phrase="too many indices")


def test_detach_in_place_of_a_view(torch):
    check_raises(torch, lambda T: T.ones(3)[1:].detach_(), phrase="Can't detach views in-place")
    check(torch, lambda T: T.ones(3)[1:].detach().detach_())
    check_raises(torch, lambda T: T.ones(2, 2).detach_().t().detach_(), phrase="Can't detach views in-place")


@pytest.mark.parametrize("write", [
    lambda x: x.add_(x[0]), lambda x: x.mul_(x.t()), lambda x: x[0].add_(x[1]), lambda x: x[0].add_(x[0].detach()),
    lambda x: x[::2].add_(x[:2]), lambda x: x[:2].copy_(x[1:3]), lambda x: x.__setitem__(slice(0, 2), x[1:3]),
    lambda x: x.clamp_(x[0], x[1]), lambda x: x.pow_(x[None]), lambda x: x.copy_(x), lambda x: x.copy_(x[None]),
    lambda x: x.add_(x), lambda x: x.__setitem__(0, x[1]), lambda x: x.__setitem__(None, x),
    lambda x: x.__setitem__(slice(None), x[0]), lambda x: x[0].__setitem__(-1, x[0]), lambda x: x[0].fill_(x[0, 0]),
])
@pytest.mark.parametrize("shape", [(3, 3), (1, 3), (4,), (1, 1)])
def test_in_place_ops_refuse_sources_that_partly_overlap_what_they_write(torch, write, shape):
    check(torch, lambda T: write(T.ones(shape)), phrase="")


def test_fills_may_write_into_expanded_views(torch):
    def case(T):
        x = T.tensor([1.0, 2.0])
        x[None].expand(2, 2).zero_()
        y = T.tensor(-2.0)
        y.expand(3).fill_(3.0)
        return x, y

    check(torch, case)
    check_raises(torch, lambda T: T.tensor(1.0).expand(3).add_(1.0))


def test_a_copy_of_its_own_elements_may_write_into_an_expanded_view(torch):
    def case(T):
        x = T.tensor([[[3]]])
        expanded = x.expand(2, *x.shape)
        expanded.view_as(expanded).copy_(expanded)  # the same elements in the same order
        expanded[:] = expanded  # a write through a view of its own elements: a copy_ in PyTorch
        expanded[1] = expanded[0]  # (the same storage elements, seen by another row)
        y = T.tensor([1.0, 2.0], requires_grad=True) * 2
        wide = y.expand(3, 2)
        wide.copy_(wide)
        return x, y, wide, y.grad_fn.name()  # (a hand-written node of PyTorch's: a qualified name)

    check(torch, case)
    check_raises(torch, lambda T: T.tensor([1.0, 2.0]).expand(2, 2).copy_(T.tensor([1.0, 2.0]).expand(2, 2)))
    check_raises(torch, lambda T: T.tensor([1, 2]).expand(2, 2).copy_(T.tensor([1, 2]).expand(2, 2).double()))
    check_raises(torch, lambda T: T.arange(4.0).reshape(2, 2)[:, :1].expand(2, 2).__setitem__(slice(None), T.ones(2, 2)))


def test_a_detached_alias_that_takes_in_history_keeps_it_for_itself(torch):
    def case(T):
        base, weight = T.tensor(0.25), T.tensor(0.75, requires_grad=True)
        alias = base.detach()
        alias.copy_(weight * 2)
        (alias * 3).backward()
        y = weight * 2
        other = y.detach()
        other.add_(weight)
        return base, alias, y, other, weight.grad

    check(torch, case)


def test_item_assignment_of_a_0d_tensor_without_a_view_is_a_fill(torch):
    def case(T):
        x = T.zeros(1, 1)
        x[:1] = T.tensor(-1.0, dtype=T.float64, requires_grad=True)
        return x

    check(torch, case)
