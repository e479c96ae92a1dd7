"""The engine under `nablax.stateful`: tensors are lazy expressions, run as compiled programs.

Every op records an `Expr` (op, static arguments, input exprs) with its shape and dtype,
which are inferred at once, so shape errors still appear on the line that caused them. A
value is computed only when it is needed (printing, `.item()`, `.numpy()`, `backward()`):
then the pending graph behind it becomes one program, compiled by `jax.jit` and cached by
the graph's structure, so a training loop compiles once and afterwards pays one dispatch
per iteration instead of one per op (an eager JAX op costs ~5-10 us; PyTorch's ~3 us).

`backward()` (see autograd.py) uses the same machinery: the program it runs computes the
pending values, the forward pass and one `jax.vjp` of it, so JAX owns every derivative.
"""

from __future__ import annotations

import collections
import ctypes
import functools
import math
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# Pending graphs deeper than this are run at once: bounds program size and compile time
# for code that builds long chains of ops without ever looking at the result.
MAX_PENDING_DEPTH = 64
# Bounds of the compiled-program cache (see ProgramCache): programs held, executables held
# in all (JAX compiles a program once per set of input shapes), executables per program,
# and executables released before JAX's own caches are emptied.
PROGRAM_CACHE_SIZE = 512
COMPILED_CACHE_SIZE = 256
SHAPES_PER_PROGRAM = 32
RELEASED_BEFORE_CLEARING = 64
# Python numbers held as JAX scalars for the programs that take them (see scalar_argument).
DEVICE_SCALARS_HELD = 256


class Op:
    """A pure operation: `fn(*input_values, **static) -> value` (a tuple for multi-output
    ops). `name` identifies it in program signatures and error messages. `saves` says
    whether PyTorch's backward node for it keeps tensors, which a backward pass frees
    (then a second backward through it is an error)."""

    __slots__ = ("name", "fn", "saves", "__weakref__")

    def __init__(self, name: str, fn, *, saves: bool = True):
        self.name = name
        self.fn = fn
        self.saves = saves

    def __repr__(self) -> str:
        return f"Op({self.name})"


class Expr:
    """A node of the graph: a value that is known (`value` set, a source) or pending.

    `grad_edges[i]` says whether gradients flow to `inputs[i]`; `requires_grad` whether any
    does (or, for a `VAR` node, that it is a leaf variable). `owner` is a weak reference to
    the tensor storage or tensor whose current value this is: a pending node with a live
    owner is an output of the program that computes it, so it is not computed twice.
    """

    __slots__ = ("op", "static", "inputs", "grad_edges", "shape", "dtype", "value", "requires_grad",
                 "leaf", "owner", "grad_name", "saves", "freed", "depth", "node", "__weakref__")

    def __init__(self, op, static, inputs, grad_edges, shape, dtype, requires_grad, grad_name=None, saves=True):
        self.op = op
        self.static = static
        self.inputs = inputs
        self.grad_edges = grad_edges
        self.shape = shape
        self.dtype = dtype
        self.value = None
        self.requires_grad = requires_grad
        self.leaf = None
        self.owner = None
        self.grad_name = grad_name
        self.saves = saves
        self.freed = False
        self.node = None
        depth = 0
        for source in inputs:
            if source.value is not None:  # most inputs: known values add no depth
                continue
            while source.op is VAR or source.op is DETACH:  # identities: look at what they wrap
                source = source.inputs[0]
            if source.value is None and source.depth >= depth and not _of_computed_op(source):
                # (Counting the stale depth of an output of a computed op would make chains such
                # as a batch norm's running statistics one op deeper every step, until
                # MAX_PENDING_DEPTH cut each step's graph at a new place: a new program every step.)
                depth = source.depth + 1
        self.depth = depth

    @property
    def ndim(self) -> int:
        return len(self.shape)


def source(value, requires_grad: bool = False) -> Expr:
    """An expr whose value is known: a JAX or NumPy array, or a Python scalar."""
    if isinstance(value, (jax.Array, np.ndarray)):
        expr = Expr(None, (), (), (), value.shape, value.dtype, requires_grad)
    else:
        expr = Expr(None, (), (), (), (), None, requires_grad)
    expr.value = value
    return expr


def _identity(x):
    return x


VAR = Op("variable", _identity)  # a leaf tensor's value where gradients are taken
SELECT = Op("select_output", lambda values, *, index: values[index])  # one output of a multi-output op
DETACH = Op("detach", jax.lax.stop_gradient)


def variable(value_expr: Expr, leaf) -> Expr:
    """The expr through which a leaf tensor that requires grad enters the graph."""
    expr = Expr(VAR, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, True)
    expr.leaf = weakref.ref(leaf)
    return expr


def _no_leaf():
    return None


def dead_end(value_expr: Expr) -> Expr:
    """A leaf that requires grad but whose gradient goes nowhere: what PyTorch makes of a
    view taken under `no_grad` of a tensor that requires grad."""
    expr = Expr(VAR, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, True)
    expr.leaf = _no_leaf
    return expr


@jax.custom_jvp
def _with_history(old, new):
    return new


@_with_history.defjvp
def _with_history_jvp(primals, tangents):
    return primals[1], tangents[0]


KEEP_HISTORY = Op("keep_history", _with_history, saves=False)


def with_history(old: Expr, new: Expr) -> Expr:
    """`new`'s value with `old`'s gradient history: an in-place write that autograd does
    not record (under `no_grad`, or through a detached alias) leaves a tensor that requires
    grad with its old `grad_fn`, and gradients flow into the old graph, as in PyTorch."""
    return Expr(KEEP_HISTORY, (), (old, new), (True, False), old.shape, old.dtype, True, old.grad_name, saves=False)


def detached(value_expr: Expr) -> Expr:
    """`value_expr` with gradients cut: what `detach()` and `.data` see."""
    return Expr(DETACH, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, False)


def strip(expr: Expr) -> Expr:
    """The expr that computes `expr`'s value, looking through identity wrappers."""
    while expr.op is VAR or expr.op is DETACH:
        expr = expr.inputs[0]
    return expr


# ---------------------------------------------------------------------------------------
# Plans: a pending graph flattened into a hashable description, and its compiled program.
#
# A ref is an int, `index << 2 | kind`: the index-th ARG (a known value passed in), PRELUDE
# node (values computed without differentiation), BODY node (computed inside the
# differentiated function) or VARIABLE. (Ints rather than pairs: a plan key is hashed and
# compared on every run, and small ints are neither built nor compared item by item.)
ARG, PRELUDE, BODY, VARIABLE = 0, 1, 2, 3


class _PlanBuilder:
    """Numbers the pending exprs a program needs, inputs first, into a plan."""

    __slots__ = ("args", "nodes", "exprs", "ref_of", "selections")

    def __init__(self):
        self.args: list[Any] = []  # the known values the program is called with
        self.nodes: list[tuple] = []  # prelude nodes: (op, static, input refs)
        self.exprs: list[Expr] = []  # the exprs of the prelude nodes, same order
        self.ref_of: dict[int, int] = {}  # id(expr) -> ref
        self.selections: list[Expr] = []

    def prelude(self, expr: Expr) -> int:
        """The ref of `expr`'s value, adding it and every pending expr it needs to the
        prelude. Recursion is safe: records run any pending graph deeper than
        MAX_PENDING_DEPTH, and known values end the walk. (This runs for every node of
        every program: inputs already numbered are looked up without a call.)"""
        ref_of = self.ref_of
        ref = ref_of.get(id(expr))
        if ref is not None:
            return ref
        if expr.value is None:
            op = expr.op
            if _of_computed_op(expr):
                _settle_output(expr)
            elif op is VAR or op is DETACH:  # identities outside differentiation
                ref = ref_of[id(expr)] = self.prelude(expr.inputs[0])
                return ref
            else:
                refs = []
                for source in expr.inputs:
                    source_ref = ref_of.get(id(source))
                    if source_ref is None:
                        source_ref = self.argument(source) if source.value is not None else self.prelude(source)
                    refs.append(source_ref)
                ref = ref_of[id(expr)] = len(self.nodes) << 2 | PRELUDE
                self.nodes.append((op, expr.static, tuple(refs)))
                self.exprs.append(expr)
                return ref
        return self.argument(expr)

    def argument(self, expr: Expr) -> int:
        """The ref of a known value not numbered yet: the program's next argument."""
        ref = self.ref_of[id(expr)] = len(self.args) << 2 | ARG
        value = expr.value
        if type(value) in _PYTHON_NUMBERS:
            value = scalar_argument(value)
        self.args.append(value)
        return ref

    def live_outputs(self, skip=()) -> list:
        """(expr, ref) of every prelude node that a live tensor or storage holds. An output of
        a multi-output node that is itself an output is left out: `settle_selections` takes
        it from its parent's value, which saves the program an output."""
        live, live_ids = [], set()
        for index, expr in enumerate(self.exprs):  # inputs come before the nodes that use them
            if not _is_live(expr) or id(expr) in skip:
                continue
            if expr.op is SELECT and id(expr.inputs[0]) in live_ids:
                self.selections.append(expr)
            else:
                live.append((expr, index << 2 | PRELUDE))
            live_ids.add(id(expr))
        return live

    def settle_selections(self) -> None:
        for expr in self.selections:
            _settle_output(expr)


def scalar_argument(number):
    """A Python number as a program argument: the same number as a JAX scalar, kept for
    the next program that takes it.

    JAX converts a Python number passed to a jitted function on every call, about 1.5 us on
    the CPU, while a JAX scalar of the same (weak) type goes through as it is and compiles to
    the same program. The numbers a loop passes are mostly the same each step (a learning
    rate, a loss's constants). Where JAX's default device is an accelerator, numbers stay
    Python numbers: a program with no array argument runs on the CPU (see `_call`), and a
    scalar on the accelerator would move it there."""
    if number != number:  # NaN never matches itself
        return number
    on_device = _SCALARS_ON_DEVICE[0]
    if on_device is None:  # (asked on first use: asking at import would start JAX's backends)
        on_device = _SCALARS_ON_DEVICE[0] = jax.default_backend() == "cpu"
    if not on_device:
        return number
    # A zero is a JAX scalar too (an lr annealed to 0 must not make a second executable); its
    # sign is part of its key, as -0.0 == 0.0.
    key = (type(number), number) if number else (type(number), number, math.copysign(1.0, number))
    scalar = _DEVICE_SCALARS.get(key)
    if scalar is None:
        if type(number) is int and not -(2**63) <= number < 2**63:
            return number  # JAX's own error, as before
        if len(_DEVICE_SCALARS) >= DEVICE_SCALARS_HELD:  # e.g. a step counter: a new number every step
            _DEVICE_SCALARS.clear()
        scalar = _DEVICE_SCALARS[key] = jax.device_put(number)
    return scalar


_DEVICE_SCALARS: dict = {}
_PYTHON_NUMBERS = frozenset({float, int})  # the numbers kept as JAX scalars
_SCALARS_ON_DEVICE: list = [None]  # whether JAX's default backend is the CPU


class Plan:
    """A flattened graph: a hashable `key` (what the program computes) and the `args`
    (known values) to call it with."""

    __slots__ = ("key", "args", "outputs")

    def __init__(self, key, args, outputs):
        self.key = key
        self.args = args
        self.outputs = outputs  # exprs (or markers) receiving the program's outputs, in order


def _resolve(ref, args, prelude, body=None, variables=None):
    kind, index = ref & 3, ref >> 2
    if kind == ARG:
        return args[index]
    if kind == PRELUDE:
        return prelude[index]
    if kind == BODY:
        return body[index]
    return variables[index]


def _run_nodes(nodes, values, lookup):
    for op, static, refs in nodes:
        values.append(op.fn(*[lookup(ref) for ref in refs], **dict(static)))


def build_program(key):
    """The program a plan key describes, as a Python function for `jax.jit`."""
    prelude_nodes, body, output_refs = key

    def program(*args):
        prelude: list = []
        _run_nodes(prelude_nodes, prelude, lambda ref: _resolve(ref, args, prelude))
        if body is None:
            return tuple(_resolve(ref, args, prelude) for ref in output_refs)
        body_nodes, variable_refs, root_ref, cotangent_ref, body_outputs, grad_groups = body

        def forward(*variables):
            values: list = []
            _run_nodes(body_nodes, values, lambda ref: _resolve(ref, args, prelude, values, variables))
            root = _resolve(root_ref, args, prelude, values, variables)
            return root, tuple(_resolve(ref, args, prelude, values, variables) for ref in body_outputs)

        root, pullback, body_values = jax.vjp(forward, *(_resolve(r, args, prelude) for r in variable_refs), has_aux=True)
        cotangent = jnp.ones_like(root) if cotangent_ref is None else _resolve(cotangent_ref, args, prelude).astype(root.dtype)
        grads = pullback(cotangent)
        accumulated = []
        for variable_indices, old_grad_ref in grad_groups:
            total = grads[variable_indices[0]]
            for index in variable_indices[1:]:
                total = total + grads[index]
            if old_grad_ref is not None:
                total = _resolve(old_grad_ref, args, prelude) + total
            # -0.0 -> 0.0: PyTorch's BLAS accumulates from +0 and never shows -0. in a gradient.
            accumulated.append(jnp.where(total == 0, jnp.zeros((), total.dtype), total))
        return (tuple(_resolve(ref, args, prelude) for ref in output_refs), root, body_values, tuple(accumulated))

    return program


class _Entry:
    __slots__ = ("program", "held")

    def __init__(self, program):
        self.program = program
        self.held = 0  # executables the program held after its last call


def _executables_held(program) -> int:
    """How many executables JAX holds for a jitted function: one per set of input shapes."""
    size = getattr(program, "_cache_size", None)
    return size() if size is not None else 1


def release_jax_memory() -> None:
    """Empties JAX's own caches and hands the memory they freed back to the system.

    Besides the executables of each jitted function, JAX keeps tracing and lowering results
    per function and input shapes in caches of its own (`trace_to_jaxpr`'s has no bound), so
    memory grows with every new shape even when the jitted function is gone. Only
    `jax.clear_caches()` empties them (every jitted function in the process then compiles
    again on its next call); glibc keeps freed memory in its arenas unless trimmed."""
    jax.clear_caches()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return None


class ProgramCache:
    """Compiled programs by plan key, least recently used first out, with bounds.

    JAX compiles a jitted program once per set of input shapes and keeps every executable
    for as long as the jitted function lives, so a loop whose shapes keep changing (batch
    sizes, sequence lengths) would hold ever more of them. After each call the cache counts
    what the program holds: a program over `shapes_per_program` executables starts afresh
    (its executables are released), and while all programs hold more than `compiled_size`,
    the least recently used go. `size` bounds the number of programs. Once
    `released_before_clearing` executables have been released, JAX's own per-shape caches
    are emptied too (`release_jax_memory`), which bounds the memory of a run whatever its
    shapes; a run with a steady set of shapes releases nothing and never pays for that."""

    def __init__(self, size: int, compiled_size: int, shapes_per_program: int, released_before_clearing: int):
        self.size = size
        self.compiled_size = compiled_size
        self.shapes_per_program = shapes_per_program
        self.released_before_clearing = released_before_clearing
        self.entries: collections.OrderedDict = collections.OrderedDict()
        self.latest: _Entry | None = None  # the entry of the program run last
        self.compiled = 0  # executables held by all programs
        self.released = 0  # executables released since JAX's caches were last emptied
        self.compiles = 0  # programs built
        self.clears = 0  # times JAX's caches were emptied

    def _build(self, key):
        self.compiles += 1
        return jax.jit(build_program(key))

    def run(self, key, args):
        """Runs the program of `key` on `args`, building it if needed."""
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = _Entry(self._build(key))
            while len(self.entries) > self.size:
                self._release(self.entries.popitem(last=False)[1].held)
        elif entry is not self.latest:  # (the latest is last already; moving it would hash the key again)
            self.entries.move_to_end(key)
        self.latest = entry
        result = _call(entry.program, args)
        held = _executables_held(entry.program)
        if held != entry.held:
            self._held(key, entry, held)
        return result

    def _held(self, key, entry: _Entry, held: int) -> None:
        self.compiled += held - entry.held
        entry.held = held
        if held > self.shapes_per_program:
            entry.held = 0
            entry.program = self._build(key)
            self._release(held)
        while self.compiled > self.compiled_size and len(self.entries) > 1:
            self._release(self.entries.popitem(last=False)[1].held)

    def _release(self, executables: int) -> None:
        """Notes executables dropped with their programs; empties JAX's caches when due."""
        self.compiled -= executables
        self.released += executables
        if self.released >= self.released_before_clearing:
            release_jax_memory()  # the live programs' executables go too
            self.clears += 1
            self.released = self.compiled = 0
            for entry in self.entries.values():
                entry.held = 0

    def __len__(self) -> int:
        return len(self.entries)


PROGRAMS = ProgramCache(PROGRAM_CACHE_SIZE, COMPILED_CACHE_SIZE, SHAPES_PER_PROGRAM, RELEASED_BEFORE_CLEARING)


def _is_live(expr: Expr) -> bool:
    owner = expr.owner
    return owner is not None and owner() is not None


def _of_computed_op(expr: Expr) -> bool:
    """Whether `expr` is a pending output of a multi-output op whose values are known: it is
    known too, though nothing has settled it yet (`_settle_output` does)."""
    return expr.op is SELECT and expr.value is None and expr.inputs[0].value is not None


def _settle_output(expr: Expr) -> None:
    """Settles one output of a computed multi-output op from its parent's values."""
    _settle(expr, expr.inputs[0].value[expr.static[0][1]])


def _settle(expr: Expr, value) -> None:
    """Stores a computed value; a node outside autograd no longer needs its inputs."""
    expr.value = value
    if not expr.requires_grad:
        expr.inputs = ()
        expr.grad_edges = ()
    expr.depth = 0


def realize(*targets: Expr) -> None:
    """Computes the values of `targets` (and of every pending node with a live owner on the
    way) in one compiled program."""
    pending = [expr for expr in targets if expr.value is None]
    if not pending:
        return
    builder = _PlanBuilder()
    outputs = [(expr, builder.prelude(expr)) for expr in pending]
    outputs += builder.live_outputs(skip={id(expr) for expr in pending})
    if not builder.nodes:  # every value was known already (outputs of a computed multi-output op)
        return
    key = (tuple(builder.nodes), None, tuple(ref for _, ref in outputs))
    values = PROGRAMS.run(key, builder.args)
    for (expr, _), value in zip(outputs, values):
        _settle(expr, value)
    builder.settle_selections()


def _call(program, args):
    """Runs a program. One without array arguments (it only creates values) runs on the
    CPU, PyTorch's default device, even where JAX's default is a GPU."""
    for arg in args:
        if isinstance(arg, jax.Array):
            return program(*args)
    with jax.default_device(jax.devices("cpu")[0]):
        return program(*args)


def value_of(expr: Expr) -> jax.Array:
    """The value of `expr`, computing it if pending."""
    expr = strip(expr)
    if expr.value is None:
        realize(expr)
    return expr.value
