"""The resampling, padding, transposed convolution, 3-D pooling, folding and per-instance
functions of `nablax.stateful.nn.functional` against PyTorch: values, gradients and one
error message per family (op_db covers the breadth; tests/test_opinfo.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablax.stateful as nb  # noqa: E402

RNG = np.random.default_rng(0)


def _pair(array):
    return nb.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _compare(call_nb, call_torch, *arrays, atol=1e-5):
    """Same value and same gradients (of the sum of the output times fixed weights)."""
    ours, theirs = zip(*(_pair(a) for a in arrays))
    out, expected = call_nb(*ours), call_torch(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=atol)
    weights = RNG.standard_normal(tuple(expected.shape)).astype(np.float32)
    (out * nb.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol)


def _image(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
@pytest.mark.parametrize("options", [{"size": (7, 3)}, {"scale_factor": 1.7}])
def test_interpolate(mode, options):
    corners = {"align_corners": True} if mode in ("bilinear", "bicubic") and "size" in options else {}
    _compare(lambda x: nb.nn.functional.interpolate(x, mode=mode, **options, **corners),
             lambda x: torch.nn.functional.interpolate(x, mode=mode, **options, **corners), _image(2, 3, 5, 4))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    _compare(lambda x: nb.nn.functional.pad(x, (2, -1, 1, 3), mode), lambda x: torch.nn.functional.pad(x, (2, -1, 1, 3), mode),
             _image(2, 3, 5, 4))


def test_conv_transpose_with_groups_and_dilation():
    options = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2}
    _compare(lambda x, w, b: nb.nn.functional.conv_transpose2d(x, w, b, **options),
             lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **options),
             _image(2, 4, 5, 5), _image(4, 3, 3, 3), _image(6))


def test_pools_3d_and_unpool():
    _compare(lambda x: nb.nn.functional.max_pool3d(x, 2, ceil_mode=True), lambda x: torch.nn.functional.max_pool3d(x, 2, ceil_mode=True),
             _image(1, 2, 5, 4, 3))
    _compare(lambda x: nb.nn.functional.avg_pool3d(x, 3, 2, 1), lambda x: torch.nn.functional.avg_pool3d(x, 3, 2, 1),
             _image(1, 2, 5, 4, 3))
    values, indices = torch.nn.functional.max_pool3d(torch.tensor(_image(1, 2, 4, 4, 4)), 2, return_indices=True)
    ours = nb.nn.functional.max_unpool3d(nb.tensor(values.numpy()), nb.tensor(indices.numpy()), 2)
    np.testing.assert_array_equal(ours.numpy(), torch.nn.functional.max_unpool3d(values, indices, 2).numpy())


def test_unfold_fold_and_shuffles():
    _compare(lambda x: nb.nn.functional.unfold(x, (2, 3), dilation=2, padding=1, stride=(1, 2)),
             lambda x: torch.nn.functional.unfold(x, (2, 3), dilation=2, padding=1, stride=(1, 2)), _image(2, 3, 6, 7))
    _compare(lambda x: nb.nn.functional.fold(x, (4, 5), 2), lambda x: torch.nn.functional.fold(x, (4, 5), 2), _image(2, 8, 12))
    _compare(lambda x: nb.nn.functional.pixel_shuffle(x, 2), lambda x: torch.nn.functional.pixel_shuffle(x, 2), _image(1, 8, 2, 3))


def test_instance_norm_updates_running_statistics():
    x = _image(3, 4, 5)
    ours = (nb.zeros(4), nb.ones(4))
    theirs = (torch.zeros(4), torch.ones(4))
    out = nb.nn.functional.instance_norm(nb.tensor(x), *ours, momentum=0.3)
    expected = torch.nn.functional.instance_norm(torch.tensor(x), *theirs, momentum=0.3)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_bilinear_and_local_response_norm():
    _compare(nb.nn.functional.bilinear, torch.nn.functional.bilinear, _image(4, 3), _image(4, 2), _image(5, 3, 2), _image(5))
    _compare(lambda x: nb.nn.functional.local_response_norm(x, 3), lambda x: torch.nn.functional.local_response_norm(x, 3),
             _image(2, 5, 3, 3))


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample(mode, padding_mode):
    grid = RNG.uniform(-1.3, 1.3, (2, 3, 4, 2)).astype(np.float32)
    _compare(lambda x, g: nb.nn.functional.grid_sample(x, g, mode, padding_mode, align_corners=False),
             lambda x, g: torch.nn.functional.grid_sample(x, g, mode, padding_mode, align_corners=False),
             _image(2, 3, 5, 4), grid, atol=1e-4)


@pytest.mark.parametrize(("call", "error"), [
    (lambda F, x: F.interpolate(x, size=3, mode="bilinear"), NotImplementedError),
    (lambda F, x: F.pad(x, (3, 3), "reflect"), RuntimeError),
    (lambda F, x: F.conv_transpose1d(x, x.transpose(0, 1)[:, :, :2], output_padding=2), RuntimeError),
    (lambda F, x: F.unfold(x.unsqueeze(0), 5), RuntimeError),
    (lambda F, x: F.pixel_shuffle(x, 2), RuntimeError),
    (lambda F, x: F.max_pool3d(x, 2), RuntimeError),
])
def test_errors_are_pytorchs(call, error):
    x = np.ones((2, 3, 3), np.float32)
    with pytest.raises(error) as expected:
        call(torch.nn.functional, torch.tensor(x))
    with pytest.raises(error) as ours:
        call(nb.nn.functional, nb.tensor(x))
    assert str(ours.value) == str(expected.value)
