"""Backward: one program computes the pending values, the forward pass and one `jax.vjp`.

There are no per-op backward closures: JAX owns every derivative rule. A backward pass is
planned first (`BackwardPass(root)` walks the graph), so the layer above can look at what
it reaches (its leaves; the nodes it differentiates, to refuse a freed graph) before
`run` computes the gradients.
"""

from __future__ import annotations

from . import cache, reference
from .graph import SELECT, VAR, Expr, Op, leaf_of, settle, strip
from .plan import PlanBuilder, make_body, make_plan
from .program import build_program


class BackwardPass:
    """The backward pass of `root` (pulled back from `cotangent`, ones when None), with the
    gradient of each of `probes` (non-leaf nodes) wanted too.

        >>> import jax.numpy as jnp
        >>> from nablax.stateful import engine
        >>> leaf = object.__new__(type("Leaf", (), {"__slots__": ("__weakref__",)}))
        >>> x = engine.variable(engine.source(jnp.float32(3.0)), leaf)
        >>> square = engine.Op("square", lambda v: v * v)
        >>> y = engine.Expr(square, (), (x,), (True,), (), x.dtype, True)
        >>> backward = engine.BackwardPass(y)
        >>> [float(g) for g in backward.run([[0]])]
        [6.0]
    """

    __slots__ = ("root", "cotangent", "nodes", "_builder", "_root_ref")

    def __init__(self, root: Expr, cotangent: Expr | None = None, probes=()):
        self.root = root
        self.cotangent = cotangent
        self._builder = PlanBuilder(probes)
        self._root_ref = self._builder.number_root(root)
        # The nodes differentiated: the non-leaf nodes on gradient paths from the root (the body's
        # exprs but for the None of each probe's addition).
        exprs = self._builder.body.exprs
        self.nodes: list[Expr] = [expr for expr in exprs if expr is not None] if probes else exprs

    @property
    def variables(self) -> list[Expr]:
        """The leaf variables (`VAR` nodes) reached, then one entry per probe."""
        return self._builder.variables

    def leaves(self) -> tuple[list, list[list[int]]]:
        """The leaf tensors reached and, for each, the indices of its variables (a leaf changed
        in place between two uses enters as two variables). Variables of tensors that no
        longer exist are left out: their gradients are not wanted."""
        leaves, groups, index_of = [], [], {}
        for index, expr in enumerate(self._builder.variables):
            leaf = leaf_of(expr) if expr.op is VAR else None
            if leaf is None:
                continue
            if id(leaf) not in index_of:
                index_of[id(leaf)] = len(leaves)
                leaves.append(leaf)
                groups.append([])
            groups[index_of[id(leaf)]].append(index)
        return leaves, groups

    def probe_variable(self, probe: Expr) -> int | None:
        """The index of the variable whose gradient is `probe`'s; None if the pass does not
        reach it."""
        return next((index for index, expr in enumerate(self.variables) if expr is probe and expr.op is not VAR), None)

    def _plan(self, groups, old_gradients, as_inputs: bool = False):
        """The plan of the pass, and the exprs of its prelude and body outputs."""
        builder = self._builder
        number = builder.number
        variables = builder.variable_values(as_inputs)
        cotangent = None if self.cotangent is None else number(strip(self.cotangent))
        gradients = tuple([(tuple(group), None if old is None else number(strip(old)))
                           for group, old in zip(groups, old_gradients or [None] * len(groups))])
        body_outputs, body_refs = ([], ()) if as_inputs else builder.body_outputs(self.root)
        prelude_outputs, prelude_refs = ([], ()) if as_inputs else builder.live_outputs()
        body = make_body((tuple(builder.body.nodes), variables, self._root_ref, cotangent, body_refs, gradients))
        return make_plan((tuple(builder.prelude.nodes), body, prelude_refs)), body_outputs, prelude_outputs

    def run(self, groups: list[list[int]], old_gradients=None) -> tuple:
        """Runs the program: returns one gradient per group of variable indices, summed over
        the group and added to the group's old gradient (an expr, or None) when given."""
        if reference.INTERPRETING.active:
            return reference.gradients(self.root, self.variables, self.cotangent, groups,
                                       old_gradients or [None] * len(groups))
        plan, body_outputs, prelude_outputs = self._plan(groups, old_gradients)
        builder = self._builder
        prelude_values, root_value, body_values, grads = cache.PROGRAMS.run(plan, builder.args)

        for expr, value in zip(prelude_outputs, prelude_values):
            settle(expr, value)
        builder.settle_selections()
        for expr, value in zip(body_outputs, body_values):
            expr.value = value  # (not settled: a node autograd reaches keeps its inputs)
        if self.root.op is not VAR and self.root.value is None:
            self.root.value = root_value
        return grads

    def gradient_exprs(self, groups: list[list[int]], grad_name: str, old_gradients=None) -> list[Expr]:
        """The gradients `run` computes, recorded instead as pending nodes that gradients flow
        through (`create_graph=True`): one node runs the pass's program as its op, with the
        leaves' variables as inputs, so a later backward pass differentiates it again."""
        plan, _, _ = self._plan(groups, old_gradients, as_inputs=True)
        inputs = tuple(self._builder.argument_exprs())
        edges = tuple(expr.op is VAR for expr in inputs)
        shapes = tuple(self.variables[group[0]].shape for group in groups)
        node = Expr(GRADIENTS, (("plan", plan),), inputs, edges, shapes, None, True, grad_name)
        return [Expr(SELECT, (("index", index),), (node,), (True,), shape, self.variables[group[0]].dtype, True, grad_name)
                for index, (group, shape) in enumerate(zip(groups, shapes))]


def _gradients(*values, plan):
    return build_program(plan)(*values)[3]


GRADIENTS = Op("gradients", _gradients)
