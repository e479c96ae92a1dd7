"""Pictures and summaries: the computation graph as DOT/PNG, model summaries, history plots."""

import shutil
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import optax
import pytest

import nablax as nx
import nablax.stateful as torch
from nablax.stateful import viz


def notes_graph():
    """The notes' backpropagation example: loss = (w * x - y) ** 2."""
    x, y = torch.tensor(1.0), torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)
    return (w * x - y) ** 2, w


def test_graph_names_nodes_by_grad_fn_and_leaves_by_name_and_shape():
    loss, w = notes_graph()
    source = viz.graph(loss, {"w": w}).source
    for label in ("PowBackward0", "SubBackward0", "MulBackward0", 'label="w\\n()"', 'label="output\\n()"'):
        assert label in source
    assert source.count("->") == 4  # w -> Mul -> Sub -> Pow -> output


def test_graph_of_a_module_shows_every_parameter_once():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    out = model(torch.ones(2, 3)).sum()
    source = viz.graph(out, dict(model.named_parameters())).source
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert source.count(f'label="{name}\\n') == 1
    assert "AddmmBackward0" in source and "ReluBackward0" in source and "SumBackward0" in source


def test_graph_of_a_leaf_that_no_longer_exists():
    source = viz.graph(notes_graph()[0]).source  # the leaf w is gone, its node is not
    assert 'label="leaf"' in source


def test_graph_of_a_tensor_without_history():
    assert "tensor" in viz.graph(torch.ones(2)).source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_graph_renders_to_png_and_svg(tmp_path):
    loss, w = notes_graph()
    graph = viz.graph(loss, {"w": w})
    assert graph.save(tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in graph.save(tmp_path / "graph.svg").read_bytes()
    assert graph.save(tmp_path / "graph.dot").read_text() == graph.source


def test_graph_save_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown format '.jpeg'"):
        loss, w = notes_graph()
        viz.graph(loss).save(tmp_path / "graph.jpeg")
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="kind must be one of svg, png, pdf, got 'graph.png'"):
        viz.graph(loss).render("graph.png")


def test_functional_summary_lists_shapes_and_parameters():
    model = nx.nn.Sequential(nx.nn.Linear(4, 8), nx.nn.BatchNorm1d(8), nx.nn.ReLU(), nx.nn.Linear(8, 2))
    params = model.init(0)
    result = nx.summary(model, params, jnp.ones((5, 4)))
    assert [row[2] for row in result.rows] == [(5, 8), (5, 8), (5, 8), (5, 2)]
    assert [row[3] for row in result.rows] == [40, 16, 0, 18]
    assert result.total_parameters == nx.count_parameters(params) == 74
    text = str(result)
    assert "BatchNorm1d" in text and "Total params: 74" in text


def test_stateful_summary_matches_the_functional_one():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    functional = nx.nn.MLP([4, 8, 2])
    ours = nx.summary(model, torch.ones(5, 4))
    theirs = nx.summary(functional, functional.init(0), jnp.ones((5, 4)))
    assert ours.rows == theirs.rows
    assert ours.total_parameters == theirs.total_parameters == 58


def test_the_functional_face_summarises_and_trains_without_importing_the_stateful_face():
    script = textwrap.dedent("""
        import sys, jax.numpy as jnp, optax, nablax as nx
        model = nx.nn.MLP([4, 8, 2])
        print(nx.summary(model, model.init(0), jnp.ones((5, 4))).total_parameters)
        loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy)
        nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (jnp.ones((8, 4)), jnp.zeros(8, int)), epochs=1, batch_size=4,
               key=0, eval_data=(jnp.ones((8, 4)), jnp.zeros(8, int)), progress=False)
        print(sorted(name for name in sys.modules if name.startswith("nablax.stateful")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["58", "[]"]


def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    x = jnp.linspace(-1, 1, 32, dtype=jnp.float32).reshape(-1, 1)
    loss_fn = nx.supervised_loss(nx.nn.Linear(1, 1), nx.losses.mse)
    _, history = nx.fit(loss_fn, optax.sgd(0.3), nx.nn.Linear(1, 1).init(0), (x, 2 * x), epochs=4, batch_size=8,
                        key=0, eval_data=(x, 2 * x), progress=False)
    figure = nx.plot.history(history, tmp_path / "history.png", title="linear")
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert [axis.get_title() for axis in figure.axes] == ["loss"]
    assert len(figure.axes[0].lines) == 2  # train and evaluation curves
