"""The compiled programs, by plan: a cache with bounds on what it holds."""

from __future__ import annotations

import collections
import ctypes
import enum
import functools
import inspect
import os
import time

import jax

from . import explain
from .program import build_program, call_program

# Bounds of the compiled-program cache (see ProgramCache): programs held, executables held
# in all (JAX compiles a program once per set of input shapes), executables per program,
# and executables released before JAX's own caches are emptied.
PROGRAM_CACHE_SIZE = 512
COMPILED_CACHE_SIZE = 256
SHAPES_PER_PROGRAM = 32
RELEASED_BEFORE_CLEARING = 64

# Compiling in tiers. On the CPU, most of XLA's time compiling a program goes into optimizing
# the machine code it generates, which a program run a few times never pays back (a learner's
# script builds tens of programs and runs most of them a handful of times). So a program is
# compiled first at Level.QUICK: XLA's backend optimizations off (LLVM's level 0) and XLA:CPU's
# older fusion emitters (straight to LLVM IR), together three to five times faster to compile
# than XLA's defaults. Small programs run as fast that way (the notes' loop: 127-130 us an
# iteration either way), but large ones can run twice as slow (a digits CNN's training step),
# and random bits ten times. So once a program's runs add up to OPTIMIZED_AFTER_SECONDS, about
# what compiling it again costs (timed on one run, the one the cache waits for: its second,
# or the next that compiled nothing new for its input shapes), it is compiled again at
# Level.MIDDLE: LLVM's level 1 with the older emitters, whose code runs as fast as the
# defaults' on large ops (the CNN's step: 0.28 s against 0.47 s quick) for under half their
# compile time (1.0 s against 3.1 s). After OPTIMIZED_AFTER_RUNS runs a program is compiled at
# Level.FULL, XLA's defaults, whose newer emitters vectorize elementwise code a little better
# (a large MLP's step: 6% faster): a training loop gets it after its first thousand steps, and
# a loop of a hundred small steps never pays for it. Other backends compile at Level.FULL from the start.
# `NABLAX_OPTIMIZED_AFTER_RUNS` in the environment sets the count; 0 compiles at Level.FULL
# from the start.
BASIC_QUICK_OPTIONS = {"xla_backend_optimization_level": 0}
QUICK_COMPILER_OPTIONS = {**BASIC_QUICK_OPTIONS, "xla_cpu_use_fusion_emitters": False}
# Level 1 also gives the numbers of XLA's defaults where level 0 does not: LLVM's level 0
# leaves `a * b + c` two roundings where the others contract it into one FMA. (So the draws of
# stateful layers' initial parameters, which must be the functional face's to the bit, compile
# at this level.)
MIDDLE_COMPILER_OPTIONS = {**QUICK_COMPILER_OPTIONS, "xla_backend_optimization_level": 1}
OPTIMIZED_AFTER_RUNS = int(os.environ.get("NABLAX_OPTIMIZED_AFTER_RUNS", "1000"))
OPTIMIZED_AFTER_SECONDS = 0.25


class Level(enum.IntEnum):
    """How hard XLA optimizes a program (see above)."""

    QUICK = 0
    MIDDLE = 1
    FULL = 2


class _Entry:
    __slots__ = ("program", "held", "runs", "seconds", "level", "tiered")

    def __init__(self, program, level: Level):
        self.program = program
        self.held = 0  # executables the program held after its last call
        self.runs = 0  # runs of the program after the first, while below Level.FULL
        self.seconds = 0.0  # how long one run took at Level.QUICK (its second, or the next that compiled nothing)
        self.level = level
        self.tiered = level != Level.FULL  # whether its runs are counted toward a higher level

    def due_level(self, runs: int, seconds: float) -> Level:
        """The level the program is due: FULL after `runs` runs, MIDDLE once its runs add up
        to about `seconds`, else its own."""
        if self.runs >= runs:
            return Level.FULL
        if self.level == Level.QUICK and self.runs * self.seconds >= seconds:
            return Level.MIDDLE
        return self.level


@functools.lru_cache(maxsize=1)
def quick_options() -> dict | None:
    """The compiler options of the quick tier here, or None where programs are compiled fully
    optimized from the start: on the CPU backend, with a JAX whose `jit` takes compiler options;
    an XLA that does not know an option of QUICK_COMPILER_OPTIONS (it refuses to compile) gets
    BASIC_QUICK_OPTIONS. (Asked on first use: asking at import would start JAX's backends.)"""
    if jax.default_backend() != "cpu" or "compiler_options" not in inspect.signature(jax.jit).parameters:
        return None
    if not _known(QUICK_COMPILER_OPTIONS):
        return BASIC_QUICK_OPTIONS
    return QUICK_COMPILER_OPTIONS


@functools.lru_cache(maxsize=1)
def middle_options() -> dict | None:
    """MIDDLE_COMPILER_OPTIONS where the quick tier has its options (see `quick_options`) and
    this XLA knows them; else None: XLA's defaults."""
    return MIDDLE_COMPILER_OPTIONS if quick_options() == QUICK_COMPILER_OPTIONS and _known(MIDDLE_COMPILER_OPTIONS) else None


def _options(level: Level) -> dict | None:
    return quick_options() if level == Level.QUICK else middle_options() if level == Level.MIDDLE else None


def _known(options: dict) -> bool:
    """Whether this XLA knows every one of `options` (it refuses to compile with one it does not)."""
    try:
        jax.jit(lambda: 0, compiler_options=options).lower().compile()
    except jax.errors.JaxRuntimeError:
        return False
    return True


def _on_its_own(args) -> bool:
    """Whether a program called with `args` runs on its own rather than inside a JAX trace (a
    custom autograd Function's forward, a program traced by the functional face), where it
    becomes part of the program traced and JAX refuses compiler options: an argument is an
    array and none is a tracer. (Without array arguments it could be either.)"""
    arrays = False
    for arg in args:
        if isinstance(arg, jax.core.Tracer):
            return False
        arrays = arrays or isinstance(arg, jax.Array)
    return arrays


def _timed(entry: _Entry, args):
    """Runs a quick program and waits for its results, noting how long that took (after
    waiting for its arguments: work still running upstream is not the program's)."""
    jax.block_until_ready(args)
    start = time.perf_counter()
    result = jax.block_until_ready(call_program(entry.program, args))
    entry.seconds = time.perf_counter() - start
    return result


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
    """Compiled programs by plan, least recently used first out, with bounds.

    JAX compiles a jitted program once per set of input shapes and keeps every executable
    for as long as the jitted function lives, so a loop whose shapes keep changing (batch
    sizes, sequence lengths) would hold ever more of them. After each call the cache counts
    what the program holds: a program over `shapes_per_program` executables starts afresh
    (its executables are released), and while all programs hold more than `compiled_size`,
    the least recently used go. `size` bounds the number of programs. Once
    `released_before_clearing` executables have been released, JAX's own per-shape caches
    are emptied too (`release_jax_memory`), which bounds the memory of a run whatever its
    shapes; a run with a steady set of shapes releases nothing and never pays for that."""

    def __init__(self, size: int, compiled_size: int, shapes_per_program: int, released_before_clearing: int,
                 optimized_after: int = OPTIMIZED_AFTER_RUNS, optimized_after_seconds: float = OPTIMIZED_AFTER_SECONDS):
        self.size = size
        self.optimized_after = optimized_after
        self.optimized_after_seconds = optimized_after_seconds
        self.compiled_size = compiled_size
        self.shapes_per_program = shapes_per_program
        self.released_before_clearing = released_before_clearing
        self.entries: collections.OrderedDict = collections.OrderedDict()
        self.latest: _Entry | None = None  # the entry of the program run last
        self.compiled = 0  # executables held by all programs
        self.released = 0  # executables released since JAX's caches were last emptied
        self.compiles = 0  # programs built
        self.optimized = 0  # programs compiled again at a higher level (see Level)
        self.hits = 0  # runs of a program already built
        self.executables = 0  # executables compiled: one per program and set of input shapes
        self.clears = 0  # times JAX's caches were emptied

    def _build(self, plan, level: Level):
        return jax.jit(build_program(plan), compiler_options=_options(level))

    def run(self, plan, args):
        """Runs the program of `plan` on `args`, building it if needed."""
        entry = self.entries.get(plan)
        if entry is None:
            entry = self._add(plan, args)
        else:
            self.hits += 1
            if entry is not self.latest:  # (the latest is last already; moving it would hash the key again)
                self.entries.move_to_end(plan)
            if entry.tiered:
                self._count_run(plan, entry, args)
        self.latest = entry
        timed = entry.tiered and entry.level == Level.QUICK and entry.runs >= 1 and not entry.seconds
        result = _timed(entry, args) if timed else call_program(entry.program, args)
        held = _executables_held(entry.program)
        if held != entry.held:
            if timed:  # the run compiled the program for new input shapes: time a later one
                entry.seconds = 0.0
            self._held(plan, entry, held)
        return result

    def _add(self, plan, args) -> _Entry:
        """Builds the program of a new plan, at Level.QUICK where it can."""
        if explain.EXPLAINING.enabled:
            explain.report(f"building program {self.compiles + 1} ({explain.describe(plan)}): "
                           f"{explain.cause(plan, self.entries)}; asked at {explain.user_line()}")
        self.compiles += 1
        quick = self.optimized_after > 0 and quick_options() is not None and _on_its_own(args)
        level = Level.QUICK if quick else Level.FULL
        entry = self.entries[plan] = _Entry(self._build(plan, level), level)
        while len(self.entries) > self.size:
            self._release(self.entries.popitem(last=False)[1].held)
        return entry

    def _count_run(self, plan, entry: _Entry, args) -> None:
        """Counts a run of a program below Level.FULL, compiling it again at the level it is due."""
        entry.runs += 1
        due = entry.due_level(self.optimized_after, self.optimized_after_seconds)
        level = due if _on_its_own(args) else Level.FULL
        if level > entry.level:
            self._optimize(plan, entry, level)

    def _optimize(self, plan, entry: _Entry, level: Level) -> None:
        """Compiles a program again, at a higher `level` (it has run long or often)."""
        if explain.EXPLAINING.enabled:
            explain.report(f"optimizing a program ({explain.describe(plan)}) at level {level.name} after {entry.runs} "
                           f"runs (about {entry.runs * entry.seconds:.2g} s); asked at {explain.user_line()}")
        self.optimized += 1
        entry.program, entry.level, entry.tiered = self._build(plan, level), level, level != Level.FULL
        self._release(entry.held)  # (the executables of the lower level go with their jitted function)
        entry.held = 0

    def _held(self, plan, entry: _Entry, held: int) -> None:
        if held > entry.held:
            self.executables += held - entry.held
            if entry.held and explain.EXPLAINING.enabled:  # (a new program was reported as it was built)
                explain.report(f"compiling a program ({explain.describe(plan)}) again for new input shapes "
                               f"({held} shapes so far); asked at {explain.user_line()}")
        self.compiled += held - entry.held
        entry.held = held
        if held > self.shapes_per_program:
            entry.held = 0
            entry.program = self._build(plan, entry.level)
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
