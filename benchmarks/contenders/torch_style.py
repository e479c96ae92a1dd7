"""One PyTorch program per workload, run with `torch` bound to PyTorch (eager, on the CPU,
with its default number of threads, and again with one thread) and with `torch` bound to
`nablax.stateful`.

The loops are the notes' loops: `optimizer.zero_grad()`, `loss.backward()`,
`optimizer.step()`; for linear regression, `w * X`, the MSE written out, `w -= lr * w.grad`
under `no_grad` and `w.grad.zero_()`.
"""

from __future__ import annotations

import functools

from ..workloads import load_digits_cnn_example, load_example
from .loops import cycling_runner


def mlp(nn, sizes):
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def digits_cnn(nn):
    """`stateful_model()` of examples/digits_cnn.py, written against any `nn` module."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10),
    )


def linear_regression_step(torch, workload):
    w = torch.tensor(workload.initial["w"], requires_grad=True)
    learning_rate = workload.learning_rate

    def one_step(batch):
        x, y = batch
        y_pred = w * x
        loss = ((y_pred - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(learning_rate * w.grad)  # the notes' `w -= ...`, which a closure cannot rebind
        w.grad.zero_()
        return loss

    return one_step


def module_step(torch, workload, model, criterion):
    """The notes' loop over a module: zero the gradients, forward, loss, backward, update."""
    model.load_state_dict({name: torch.tensor(value) for name, value in workload.initial.items()})
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=workload.learning_rate, momentum=workload.momentum)

    def one_step(batch):
        x, y = batch
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return one_step


def gpt_step(torch, workload):
    """The notes' loop over examples/gpt.py's `torch_model`: zero the gradients, forward,
    loss, backward, clip the gradients' global norm, AdamW. PyTorch clips with
    `torch.nn.utils.clip_grad_norm_`; where `torch` has none, the example's written-out clip."""
    example = load_example("gpt.py")
    model = example.torch_model(torch, workload.config)
    model.load_state_dict({name: torch.tensor(value) for name, value in workload.initial.items()})
    optimizer = torch.optim.AdamW(model.parameters(), lr=workload.learning_rate, weight_decay=workload.weight_decay)
    utils = getattr(torch.nn, "utils", None)
    clip = getattr(utils, "clip_grad_norm_", None) or functools.partial(example.clip_grad_norm_, torch)
    cross_entropy = torch.nn.functional.cross_entropy

    def one_step(batch):
        tokens, targets = batch
        optimizer.zero_grad()
        logits = model(tokens)
        loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        clip(model.parameters(), workload.clip_norm)
        optimizer.step()
        return loss

    return one_step


def build_runner(torch, workload, cnn=None):
    """The workload's loop with this `torch`; `cnn` is the CNN to train (default: `digits_cnn`)."""
    torch.manual_seed(0)  # dropout's stream
    nn = torch.nn
    classify = workload.kind in ("mlp", "cnn", "gpt")
    tokens = workload.kind == "gpt"
    batches = [(torch.tensor(x).long() if tokens else torch.tensor(x), torch.tensor(y).long() if classify else torch.tensor(y))
               for x, y in workload.batches()]
    if workload.kind == "gpt":
        step = gpt_step(torch, workload)
    elif workload.kind == "linreg":
        step = linear_regression_step(torch, workload)
    elif workload.kind == "pipeline":
        step = module_step(torch, workload, nn.Linear(1, 1), nn.MSELoss())
    else:
        model = mlp(nn, workload.sizes) if workload.kind == "mlp" else cnn or digits_cnn(nn)
        step = module_step(torch, workload, model, nn.CrossEntropyLoss())
    return cycling_runner(step, batches)


def build_torch_runner(workload):
    import torch

    return build_runner(torch, workload)


def build_torch_single_thread_runner(workload):
    """PyTorch with one intra-op thread while it runs. On a small shared machine the default
    thread pool can stall at every op when another process holds a core; one thread cannot."""
    import torch

    run = build_runner(torch, workload)

    def run_on_one_thread(steps: int) -> tuple[int, float]:
        default = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return run(steps)
        finally:
            torch.set_num_threads(default)

    return run_on_one_thread


def build_stateful_runner(workload):
    import nablax.stateful as torch

    cnn = None
    if workload.kind == "cnn":
        cnn = load_digits_cnn_example().stateful_model()
        assert repr(cnn) == repr(digits_cnn(torch.nn)), "the benchmark's CNN no longer matches examples/digits_cnn.py"
    run = build_runner(torch, workload, cnn)
    run.programs_compiled = _stateful_compile_count
    return run


def _stateful_compile_count() -> int | None:
    """How many programs nablax.stateful has compiled so far in this process (None where the
    engine does not count them): a steady training loop should compile none while timed."""
    from nablax.stateful.engine import cache as program_cache

    return program_cache.PROGRAMS.compiles
