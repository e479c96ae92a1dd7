"""`nablax.stateful.nn` against `torch.nn` itself: modules, layers, losses, `functional` and
`init`, with weights copied from PyTorch (random streams differ by design)."""

import collections
import warnings

import numpy as np
import pytest
from conftest import to_numpy

import nablax.stateful as nxt

ATOL = 1e-5
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3)).astype(np.float32)  # the one input shape of most cases: few compilations
Y = RNG.standard_normal((4, 3)).astype(np.float32)
COTANGENT = RNG.standard_normal((4, 3)).astype(np.float32)


def both(torch):
    """The two frameworks, PyTorch first."""
    return ((torch, torch), (nxt, nxt))


def outcome(fn):
    """What calling `fn` did: ('ok', result) or (exception type name, message)."""
    try:
        return "ok", fn()
    except Exception as error:  # noqa: BLE001 - the point is to compare any error
        return type(error).__name__, str(error)


def assert_same_error(torch_fn, nablax_fn):
    expected, got = outcome(torch_fn), outcome(nablax_fn)
    assert expected[0] != "ok", f"PyTorch raised nothing: {expected}"
    assert got == expected


def assert_close(ours, theirs, name=""):
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=ATOL, rtol=1e-5, err_msg=name)


# -- Module ----------------------------------------------------------------------------------------


def make_net(T):
    """A custom module with parameters, a buffer, child modules and a ModuleList."""

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = T.nn.Linear(3, 4)
            self.act = T.nn.ReLU()
            self.blocks = T.nn.ModuleList([T.nn.Linear(4, 4), T.nn.Linear(4, 2)])
            self.register_buffer("shift", T.ones(2))
            self.scale = T.nn.Parameter(T.full((1,), 2.0))
            self.note = "plain attribute"

        def forward(self, x):
            return self.blocks[1](self.blocks[0](self.act(self.fc(x)))) * self.scale + self.shift

    return Net()


def test_module_registers_parameters_modules_and_buffers_like_torch(torch):
    theirs, ours = make_net(torch), make_net(nxt)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(isinstance(p, nxt.nn.Parameter) and p.requires_grad and p.is_leaf for p in ours.parameters())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.note == "plain attribute" and "note" not in ours.state_dict()
    assert ours.get_submodule("blocks.1") is ours.blocks[1]


def test_module_forward_call_and_state_dict_values_match_torch(torch):
    theirs, ours = make_net(torch), make_net(nxt)
    result = ours.load_state_dict(theirs.state_dict())  # a real torch state dict, tensors and all
    assert repr(result) == repr(theirs.load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, value in ours.state_dict().items():
        assert not value.requires_grad, name  # detached, as in PyTorch
        assert_close(value, theirs.state_dict()[name], name)
    out = ours(nxt.tensor(X))
    assert out.grad_fn.name() == theirs(torch.tensor(X)).grad_fn.name() == "AddBackward0"
    assert_close(out.detach(), theirs(torch.tensor(X)))
    assert_close(ours.forward(nxt.tensor(X)).detach(), out.detach())


def test_state_dict_keep_vars_and_sharing(torch):
    ours = make_net(nxt)
    assert ours.state_dict(keep_vars=True)["fc.weight"] is ours.fc.weight
    assert list(ours.state_dict(prefix="net.")) == list(make_net(torch).state_dict(prefix="net."))


def test_load_state_dict_strict_errors_have_torchs_text(torch):
    theirs, ours = make_net(torch), make_net(nxt)
    source = {k: v.clone() for k, v in theirs.state_dict().items()}
    del source["fc.bias"]
    source["extra"] = torch.zeros(1)
    source["blocks.0.weight"] = torch.zeros(2, 4)
    assert_same_error(lambda: theirs.load_state_dict(source), lambda: ours.load_state_dict(source))
    del source["blocks.0.weight"]
    assert_same_error(lambda: theirs.load_state_dict({"fc.weight": torch.zeros(4, 3)}),
                      lambda: ours.load_state_dict({"fc.weight": nxt.zeros(4, 3)}))
    # Not strict: the same key lists, and a shape mismatch still raises.
    expected, got = theirs.load_state_dict(source, strict=False), ours.load_state_dict(source, strict=False)
    assert repr(got) == repr(expected)
    assert (got.missing_keys, got.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)
    source["fc.weight"] = torch.zeros(1, 1)
    assert_same_error(lambda: theirs.load_state_dict(source, strict=False),
                      lambda: ours.load_state_dict(source, strict=False))
    # Lists are not tensors: both refuse them by name, and nothing is copied.
    before = ours.fc.weight.tolist()
    listed = {"fc.weight": [[0.0] * 3] * 4, "fc.bias": 0.5}
    assert_same_error(lambda: theirs.load_state_dict(listed, strict=False),
                      lambda: ours.load_state_dict(listed, strict=False))
    assert ours.fc.weight.tolist() == before


def test_load_state_dict_takes_functional_params_and_numpy(torch):
    ours = make_net(nxt)
    apply_fn, params = ours.to_functional()
    assert set(params) == {"fc", "blocks", "shift", "scale"} and set(params["blocks"]) == {"0", "1"}
    doubled = {"fc": {"weight": params["fc"]["weight"] * 2, "bias": params["fc"]["bias"] * 2}}
    before = ours.fc.weight
    result = ours.load_state_dict(doubled, strict=False)
    assert ours.fc.weight is before  # copied in place: an optimizer holding the parameter sees it
    assert "blocks.0.weight" in result.missing_keys and result.unexpected_keys == []
    assert_close(ours.fc.weight.detach(), np.asarray(params["fc"]["weight"]) * 2)
    weights = {k: to_numpy(v) * 0 for k, v in ours.state_dict().items()}
    assert repr(ours.load_state_dict(weights)) == "<All keys matched successfully>"
    assert float(ours.fc.weight.abs().sum()) == 0.0


def test_zero_grad_sets_grads_to_none(torch):
    for T, _ in both(torch):
        net = make_net(T)
        net(T.tensor(X)).sum().backward()
        assert all(p.grad is not None for p in net.parameters())
        net.zero_grad()
        assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_set_training_on_every_module(torch):
    for T, _ in both(torch):
        net = make_net(T)
        assert net.training and net.blocks[0].training
        assert net.eval() is net
        assert [m.training for m in net.modules()] == [False] * len(list(net.modules()))
        net.train()
        assert all(m.training for m in net.modules())
        net.train(False)
        assert not net.fc.training


def test_module_reprs_equal_torchs(torch):
    def sequential(T):
        nn = T.nn
        return nn.Sequential(
            nn.Linear(3, 4), nn.ReLU(), nn.ReLU(inplace=True), nn.Dropout(0.25), nn.Linear(4, 2, bias=False),
            nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU(approximate="tanh"), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1),
            nn.Softmax(), nn.Flatten(), nn.Flatten(0, 2), nn.Identity(), nn.ModuleList([nn.Tanh(), nn.Linear(1, 1)]),
            nn.Sequential(collections.OrderedDict(inner=nn.Linear(2, 2))), nn.MSELoss(), nn.L1Loss(),
            nn.CrossEntropyLoss(), nn.NLLLoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(),
        )

    assert repr(sequential(nxt)) == repr(sequential(torch))
    assert repr(make_net(nxt)) == repr(make_net(torch))
    assert str(make_net(nxt)) == str(make_net(torch))
    assert repr(nxt.nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"


def test_parameter_repr_and_identity(torch):
    ours, theirs = nxt.nn.Parameter(nxt.tensor([1.0, 2.5])), torch.nn.Parameter(torch.tensor([1.0, 2.5]))
    assert repr(ours) == repr(theirs)
    assert repr(ours).startswith("Parameter containing:\n")
    assert str(ours) == str(theirs)
    frozen = nxt.nn.Parameter(nxt.ones(2), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert type(ours).__module__ == type(theirs).__module__ == "torch.nn.parameter"


def test_attribute_errors_and_assignments_have_torchs_messages(torch):
    theirs, ours = make_net(torch), make_net(nxt)
    assert_same_error(lambda: theirs.missing, lambda: ours.missing)

    def assign(module, name, value):
        return lambda: setattr(module, name, value)

    assert_same_error(assign(theirs, "scale", torch.ones(1)), assign(ours, "scale", nxt.ones(1)))
    assert_same_error(assign(theirs, "fc", 3), assign(ours, "fc", 3))
    assert_same_error(assign(theirs, "shift", [1.0]), assign(ours, "shift", [1.0]))
    assert_same_error(lambda: theirs.register_parameter("p", torch.ones(1)),
                      lambda: ours.register_parameter("p", nxt.ones(1)))

    for T in (torch, nxt):
        ours_or_theirs = make_net(T)
        ours_or_theirs.scale = None  # None is allowed in place of a parameter, and drops it
        assert "scale" not in dict(ours_or_theirs.named_parameters())
        ours_or_theirs.fc = T.nn.Linear(3, 4)  # replacing a child keeps its place
        assert [n for n, _ in ours_or_theirs.named_children()][0] == "fc"
        del ours_or_theirs.act
        assert "act" not in dict(ours_or_theirs.named_children())

    def early(T, value):
        class Early(T.nn.Module):
            def __init__(self):
                self.value = value  # before super().__init__()

        return Early

    assert_same_error(early(torch, torch.nn.Parameter(torch.ones(1))), early(nxt, nxt.nn.Parameter(nxt.ones(1))))
    assert outcome(early(nxt, nxt.nn.Parameter(nxt.ones(1)))) == (
        "AttributeError", "cannot assign parameters before Module.__init__() call")
    assert_same_error(early(torch, torch.nn.Linear(1, 1)), early(nxt, nxt.nn.Linear(1, 1)))

    class NoForward(nxt.nn.Module):
        pass

    class NoForwardTorch(torch.nn.Module):
        pass

    NoForward.__name__ = NoForwardTorch.__name__ = "NoForward"
    assert_same_error(lambda: NoForwardTorch()(torch.ones(1)), lambda: NoForward()(nxt.ones(1)))


def test_sequential_and_module_list_containers(torch):
    for T, _ in both(torch):
        seq = T.nn.Sequential(T.nn.Linear(3, 3), T.nn.ReLU(), T.nn.Linear(3, 1))
        assert len(seq) == 3 and isinstance(seq[1], T.nn.ReLU) and isinstance(seq[-1], T.nn.Linear)
        assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
        head = seq[1:]
        assert isinstance(head, T.nn.Sequential) and list(head.state_dict()) == ["2.weight", "2.bias"]
        seq.append(T.nn.Sigmoid())
        assert len(seq) == 4
        named = T.nn.Sequential(collections.OrderedDict(first=T.nn.Linear(2, 2), act=T.nn.Tanh()))
        assert list(named.state_dict()) == ["first.weight", "first.bias"] and named.first is named[0]

        layers = T.nn.ModuleList([T.nn.Linear(2, 2)])
        layers.append(T.nn.Tanh()).extend([T.nn.Linear(2, 1)])
        assert len(layers) == 3 and [type(m).__name__ for m in layers] == ["Linear", "Tanh", "Linear"]
        assert isinstance(layers[1:], T.nn.ModuleList) and len(layers[1:]) == 2
        assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]

    assert_same_error(lambda: torch.nn.Sequential(torch.nn.ReLU())[3], lambda: nxt.nn.Sequential(nxt.nn.ReLU())[3])
    assert_same_error(lambda: torch.nn.ModuleList([torch.nn.ReLU()])[-2], lambda: nxt.nn.ModuleList([nxt.nn.ReLU()])[-2])


# -- layers ----------------------------------------------------------------------------------------


def linear_pair(torch, bias):
    theirs = torch.nn.Linear(3, 2, bias=bias)
    ours = nxt.nn.Linear(3, 2, bias=bias)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 4, 3)])
def test_linear_values_grads_and_grad_fn_match_torch(torch, bias, shape):
    theirs, ours = linear_pair(torch, bias)
    x = RNG.standard_normal(shape).astype(np.float32)
    out_shape = shape[:-1] + (2,)
    cotangent = np.arange(np.prod(out_shape), dtype=np.float32).reshape(out_shape) / 7 - 1
    results = []
    for T, module in ((torch, theirs), (nxt, ours)):
        inp = T.tensor(x, requires_grad=True)
        out = module(inp)
        name = out.grad_fn.name()
        (out * T.tensor(cotangent)).sum().backward()
        grads = [module.weight.grad, inp.grad] + ([module.bias.grad] if bias else [])
        results.append((out.detach(), name, grads))
    (t_out, t_name, t_grads), (o_out, o_name, o_grads) = results
    assert o_name == t_name
    assert tuple(o_out.shape) == tuple(t_out.shape) == out_shape
    assert_close(o_out, t_out)
    for index, (ours_grad, their_grad) in enumerate(zip(o_grads, t_grads)):
        assert_close(ours_grad, their_grad, f"grad {index}")


def test_linear_shape_errors_have_torchs_text(torch):
    theirs, ours = linear_pair(torch, True)
    for shape in [(4, 5), (5,), (2, 4, 5)]:
        assert_same_error(lambda: theirs(torch.ones(*shape)), lambda: ours(nxt.ones(*shape)))
    assert outcome(lambda: ours(nxt.ones(4, 5))) == (
        "RuntimeError", "mat1 and mat2 shapes cannot be multiplied (4x5 and 3x2)")


ACTIVATIONS = {
    "ReLU": lambda nn: nn.ReLU(),
    "Sigmoid": lambda nn: nn.Sigmoid(),
    "Tanh": lambda nn: nn.Tanh(),
    "GELU": lambda nn: nn.GELU(),
    "GELU-tanh": lambda nn: nn.GELU(approximate="tanh"),
    "Softmax": lambda nn: nn.Softmax(dim=1),
    "LogSoftmax": lambda nn: nn.LogSoftmax(dim=-1),
    "Flatten": lambda nn: nn.Flatten(),
    "Flatten-all": lambda nn: nn.Flatten(0, -1),
    "Identity": lambda nn: nn.Identity(),
    "Dropout-eval": lambda nn: nn.Dropout(0.5).eval(),
    "Sequential": lambda nn: nn.Sequential(nn.Tanh(), nn.Flatten(), nn.Softmax(dim=-1)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_layers_match_torch(torch, name):
    x = RNG.standard_normal((2, 3, 2)).astype(np.float32)
    x[0, 0, 0] = 0.0  # ReLU's gradient at 0 is 0 in both
    results = []
    for T in (torch, nxt):
        inp = T.tensor(x, requires_grad=True)
        out = ACTIVATIONS[name](T.nn)(inp)
        cotangent = T.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(tuple(out.shape)))
        grad_fn = out.grad_fn.name() if out.grad_fn is not None else None
        (out * cotangent).sum().backward()
        results.append((out.detach(), inp.grad, grad_fn, out is inp))
    (t_out, t_grad, t_name, t_same), (o_out, o_grad, o_name, o_same) = results
    assert (o_name, o_same) == (t_name, t_same)
    assert_close(o_out, t_out)
    assert_close(o_grad, t_grad)


def test_softmax_without_dim_warns_like_torch(torch):
    for T in (torch, nxt):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated") as caught:
            out = T.nn.functional.softmax(T.tensor(X))
        assert caught[0].filename == __file__  # the warning points at the calling line
        assert_close(out, torch.softmax(torch.tensor(X), 1))
        with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
            T.nn.LogSoftmax()(T.tensor(X))


def test_dropout_train_zeroes_about_p_and_scales_survivors(torch):
    nxt.manual_seed(0)
    dropout = nxt.nn.Dropout(0.25)
    x = nxt.ones(200, 50, requires_grad=True)
    out = dropout(x)
    assert out.grad_fn.name() == torch.nn.Dropout(0.25)(torch.ones(2, requires_grad=True)).grad_fn.name()
    out.backward(nxt.full((200, 50), 3.0))
    values, grad = out.detach().numpy(), x.grad.numpy()
    assert set(np.unique(values).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs((values == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(grad, values * 3.0, rtol=1e-6)  # the gradient goes through the same mask
    again = dropout(nxt.ones(200, 50)).numpy()
    assert not np.array_equal(again, values)  # a new mask every call

    dropout.eval()
    assert dropout(x) is x
    assert nxt.nn.functional.dropout(x, 0.5, training=False) is x
    assert nxt.nn.Dropout(0.0)(x) is x
    assert float(nxt.nn.functional.dropout(x, 1.0).abs().sum()) == 0.0
    assert_same_error(lambda: torch.nn.Dropout(1.5), lambda: nxt.nn.Dropout(1.5))
    assert_same_error(lambda: torch.nn.functional.dropout(torch.ones(2), -0.1),
                      lambda: nxt.nn.functional.dropout(nxt.ones(2), -0.1))


def test_reading_an_output_through_detach_numpy_keeps_its_graph(torch):
    x = nxt.ones(3, requires_grad=True)
    y = x * 2
    y.detach().numpy()
    assert y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


# -- losses -------------------------------------------------------------------------------------


PROBABILITIES = (np.exp(Y) / np.exp(Y).sum(1, keepdims=True)).astype(np.float32)
CLASSES = np.array([0, 2, 1, 2])
WEIGHT = np.array([0.2, 1.0, 3.0], np.float32)
PROBS_IN = (1 / (1 + np.exp(-X))).astype(np.float32)
TARGET01 = RNG.random((4, 3)).astype(np.float32)
TARGET01[0, 0], TARGET01[1, 1] = 0.0, 1.0

# name -> (functional name, module name, input, target, functional kwargs, module kwargs)
LOSSES = {
    "mse": ("mse_loss", "MSELoss", X, Y, {}),
    "l1": ("l1_loss", "L1Loss", X, Y, {}),
    "ce-indices": ("cross_entropy", "CrossEntropyLoss", X, CLASSES, {}),
    "ce-probabilities": ("cross_entropy", "CrossEntropyLoss", X, PROBABILITIES, {}),
    "ce-weight": ("cross_entropy", "CrossEntropyLoss", X, CLASSES, {"weight": WEIGHT}),
    "ce-ignore_index": ("cross_entropy", "CrossEntropyLoss", X, CLASSES, {"ignore_index": 2}),
    "ce-smoothing": ("cross_entropy", "CrossEntropyLoss", X, CLASSES, {"label_smoothing": 0.1}),
    "ce-smoothing-weight-ignore": ("cross_entropy", "CrossEntropyLoss", X, CLASSES,
                                   {"label_smoothing": 0.2, "weight": WEIGHT, "ignore_index": 0}),
    "ce-probabilities-smoothing-weight": ("cross_entropy", "CrossEntropyLoss", X, PROBABILITIES,
                                          {"label_smoothing": 0.1, "weight": WEIGHT}),
    "nll": ("nll_loss", "NLLLoss", X, CLASSES, {}),
    "nll-weight-ignore": ("nll_loss", "NLLLoss", X, CLASSES, {"weight": WEIGHT, "ignore_index": 1}),
    "bce": ("binary_cross_entropy", "BCELoss", PROBS_IN, TARGET01, {}),
    "bce-weight": ("binary_cross_entropy", "BCELoss", PROBS_IN, TARGET01, {"weight": WEIGHT}),
    "bce-logits": ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", X, TARGET01, {}),
    "bce-logits-weights": ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", X, TARGET01,
                           {"weight": WEIGHT, "pos_weight": np.array([1.0, 2.0, 0.5], np.float32)}),
}


def run_loss(T, case, reduction, as_module):
    functional_name, module_name, x, target, options = LOSSES[case]
    options = {k: (T.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in options.items()}
    inp = T.tensor(x, requires_grad=True)
    target = T.tensor(target, requires_grad=target.dtype == np.float32)
    if as_module:
        loss = getattr(T.nn, module_name)(reduction=reduction, **options)(inp, target)
    else:
        loss = getattr(T.nn.functional, functional_name)(inp, target, reduction=reduction, **options)
    name = loss.grad_fn.name()
    loss.backward(T.tensor(np.linspace(0.5, 1.5, loss.numel(), dtype=np.float32).reshape(tuple(loss.shape))))
    return loss.detach(), name, inp.grad, target.grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(LOSSES))
def test_losses_and_functional_match_torch(torch, case, reduction):
    expected = run_loss(torch, case, reduction, as_module=True)
    for as_module in (True, False):
        loss, name, input_grad, target_grad = run_loss(nxt, case, reduction, as_module)
        assert tuple(loss.shape) == tuple(expected[0].shape)
        assert name == expected[1]
        assert_close(loss, expected[0], "loss")
        assert_close(input_grad, expected[2], "input grad")
        if expected[3] is None:
            assert target_grad is None
        else:
            assert_close(target_grad, expected[3], "target grad")


def test_cross_entropy_unbatched_and_spatial_inputs_match_torch(torch):
    logits = RNG.standard_normal((2, 3, 2)).astype(np.float32)
    cases = [(X[0], np.array(2)), (logits, np.array([[0, 2], [1, 1]]))]
    for x, target in cases:
        expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target), reduction="none")
        got = nxt.nn.functional.cross_entropy(nxt.tensor(x), nxt.tensor(target), reduction="none")
        assert_close(got, expected)
    everything_ignored = torch.nn.functional.cross_entropy(torch.tensor(X), torch.full((4,), -100))
    assert np.isnan(float(everything_ignored))
    assert np.isnan(float(nxt.nn.functional.cross_entropy(nxt.tensor(X), nxt.full((4,), -100))))


def test_mse_target_size_warning_and_broadcasting_match_torch(torch):
    for loss in ("mse_loss", "l1_loss"):
        results = []
        for T in (torch, nxt):
            with pytest.warns(UserWarning) as caught:
                value = getattr(T.nn.functional, loss)(T.tensor(X[:, :1]), T.tensor(Y[:, 0]))
            assert caught[0].filename == __file__  # points at this line, as PyTorch's does
            results.append((str(caught[0].message), value))
        assert results[1][0] == results[0][0]
        assert results[0][0].startswith("Using a target size (torch.Size([4])) that is different to the input size "
                                         "(torch.Size([4, 1]))")
        assert_close(results[1][1], results[0][1])
    with pytest.warns(UserWarning, match="Using a target size"):
        assert_same_error(lambda: torch.nn.MSELoss()(torch.ones(3, 2), torch.ones(4)),
                          lambda: nxt.nn.MSELoss()(nxt.ones(3, 2), nxt.ones(4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same shape warns nothing
        nxt.nn.functional.mse_loss(nxt.ones(3), nxt.zeros(3))
    promoted = nxt.nn.functional.mse_loss(nxt.ones(3), nxt.zeros(3, dtype=nxt.float64))  # computed in float64
    assert str(promoted.dtype) == str(torch.nn.functional.mse_loss(torch.ones(3), torch.zeros(3, dtype=torch.float64)).dtype)


def test_loss_errors_have_torchs_types_and_text(torch):
    def pair(build):
        assert_same_error(lambda: build(torch), lambda: build(nxt))

    F = lambda T: T.nn.functional  # noqa: E731
    pair(lambda T: F(T).binary_cross_entropy(T.full((3, 1), 0.5), T.zeros(3)))
    pair(lambda T: T.nn.BCELoss()(T.full((3, 1), 0.5), T.zeros(3)))
    pair(lambda T: F(T).binary_cross_entropy_with_logits(T.ones(3, 1), T.zeros(3)))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, 1])))
    pair(lambda T: T.nn.CrossEntropyLoss()(T.ones(3, 4), T.tensor([0, 1])))
    pair(lambda T: F(T).nll_loss(T.ones(3, 4), T.tensor([0, 1, 3, 0])))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, 1, 4])))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, -1, 2])))
    pair(lambda T: F(T).nll_loss(T.ones(3, 4), T.tensor([0, 1, 7]), ignore_index=1))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0.0, 1.0, 2.0])))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, 1, 2], dtype=T.int32)))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.zeros(3, 4, dtype=T.long)))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.ones(3, 4) / 4, ignore_index=1))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, 1, 2]), label_smoothing=1.5))
    pair(lambda T: F(T).cross_entropy(T.ones(3, 4), T.tensor([0, 1, 2]), reduction="average"))
    pair(lambda T: F(T).mse_loss(T.ones(3), T.ones(3), reduction="bogus"))
    pair(lambda T: F(T).gelu(T.ones(2), approximate="exact"))
    assert outcome(lambda: nxt.nn.functional.cross_entropy(nxt.ones(3, 4), nxt.tensor([0, 1, 4]))) == (
        "IndexError", "Target 4 is out of bounds.")
    assert outcome(lambda: nxt.nn.functional.cross_entropy(nxt.ones(3, 4), nxt.tensor([0, 1]))) == (
        "ValueError", "Expected input batch_size (3) to match target batch_size (2).")
    # Targets equal to ignore_index are not out of bounds, and bytes are valid class indices.
    assert_close(nxt.nn.functional.cross_entropy(nxt.tensor(X), nxt.tensor([0, -100, 1, 2])),
                 torch.nn.functional.cross_entropy(torch.tensor(X), torch.tensor([0, -100, 1, 2])))
    assert_close(nxt.nn.functional.nll_loss(nxt.tensor(X), nxt.tensor(CLASSES, dtype=nxt.uint8)),
                 torch.nn.functional.nll_loss(torch.tensor(X), torch.tensor(CLASSES, dtype=torch.uint8)))


def test_loss_modules_hold_their_options_like_torch(torch):
    for T in (torch, nxt):
        loss = T.nn.CrossEntropyLoss(weight=T.tensor(WEIGHT), ignore_index=3, label_smoothing=0.1, reduction="sum")
        assert (loss.ignore_index, loss.label_smoothing, loss.reduction) == (3, 0.1, "sum")
        assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
        logits = T.nn.BCEWithLogitsLoss(pos_weight=T.ones(3))
        assert list(logits.state_dict()) == ["pos_weight"]


# -- init --------------------------------------------------------------------------------------------


def test_init_functions_work_in_place_with_torchs_ranges(torch):
    init = nxt.nn.init
    layer = nxt.nn.Linear(40, 30)
    weight = layer.weight
    uniform_cases = {
        "uniform": (lambda: init.uniform_(weight, -2.0, 3.0), 3.0, -2.0),
        "xavier_uniform": (lambda: init.xavier_uniform_(weight), np.sqrt(6 / 70), None),
        "kaiming_uniform": (lambda: init.kaiming_uniform_(weight, a=5**0.5), 1 / np.sqrt(40), None),
        "kaiming_uniform_relu": (lambda: init.kaiming_uniform_(weight, nonlinearity="relu", mode="fan_out"),
                                 np.sqrt(6 / 30), None),
    }
    for name, (initialise, high, low) in uniform_cases.items():
        low = -high if low is None else low
        assert initialise() is weight, name
        values = weight.detach().numpy()
        assert values.min() >= low and values.max() <= high, name
        assert values.max() - values.min() > 0.8 * (high - low), name  # spread over the range
    assert layer.weight is weight and weight.is_leaf and weight.requires_grad and weight.grad_fn is None
    assert tuple(weight.shape) == (30, 40)

    init.normal_(weight, mean=1.0, std=0.5)
    assert abs(float(weight.mean()) - 1.0) < 0.05 and abs(float(weight.std()) - 0.5) < 0.05
    init.xavier_normal_(weight, gain=2.0)
    assert abs(float(weight.std()) - 2.0 * np.sqrt(2 / 70)) < 0.02
    init.kaiming_normal_(weight, nonlinearity="relu")
    assert abs(float(weight.std()) - np.sqrt(2 / 40)) < 0.02
    assert init.zeros_(layer.bias) is layer.bias and layer.bias.tolist() == [0.0] * 30
    assert init.ones_(layer.bias).tolist() == [1.0] * 30
    assert init.constant_(layer.bias, 0.5).tolist() == [0.5] * 30
    assert repr(layer.bias).startswith("Parameter containing:")

    for args in [("linear",), ("relu",), ("tanh",), ("sigmoid",), ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)]:
        assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    assert_same_error(lambda: torch.nn.init.calculate_gain("swish"), lambda: init.calculate_gain("swish"))
    assert_same_error(lambda: torch.nn.init.xavier_uniform_(torch.empty(3)), lambda: init.xavier_uniform_(nxt.empty(3)))
