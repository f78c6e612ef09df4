"""conv2d_transpose: Keras's output sizes, the reference against a direct scatter,
finite differences and the adjoint identity, and the kernels against the reference."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv import reference
from fastconv._geometry import Conv2DTransposeGeometry
from conftest import FD_TOLERANCE, numeric_gradient
from kernel_cases import VARIANTS, assert_close, f64, kernel_variant, random_array

DTYPES = [np.float32, np.float64]


def scatter_transpose(x, w, strides, pads, dilation, out_hw):
    """The transposed convolution by its definition: every input pixel adds w * x into
    the output window at (i*s - pad + r*d, j*s - pad + q*d)."""
    (sh, sw), ((pt, _), (pl, _)), (dh, dw) = strides, pads, dilation
    n, h, wd, _ = x.shape
    kh, kw, c_out, _ = w.shape
    y = np.zeros((n,) + tuple(out_hw) + (c_out,))
    for i in range(h):
        for j in range(wd):
            for r in range(kh):
                for q in range(kw):
                    oy, ox = i * sh - pt + r * dh, j * sw - pl + q * dw
                    if 0 <= oy < out_hw[0] and 0 <= ox < out_hw[1]:
                        y[:, oy, ox] += x[:, i, j] @ w[r, q].T
    return y


# (x shape, w shape, strides, padding, output_padding, dilation, Keras's output H, W)
CASES = [
    ((2, 5, 6, 3), (3, 3, 4, 3), 2, "valid", None, 1, (11, 13)),
    ((1, 5, 6, 3), (3, 3, 2, 3), 2, "same", None, 1, (10, 12)),
    ((1, 4, 4, 2), (4, 4, 3, 2), 2, "same", None, 1, (8, 8)),
    ((1, 4, 5, 2), (3, 3, 3, 2), 2, "same", 1, 1, (8, 10)),
    ((1, 4, 5, 2), (3, 2, 3, 2), (3, 1), "valid", (2, 0), (1, 2), (14, 7)),
    ((2, 3, 4, 1), (2, 2, 2, 1), 1, "valid", None, 1, (4, 5)),
    ((1, 3, 3, 2), (5, 5, 1, 2), 3, "valid", None, 1, (11, 11)),
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilation, hw",
                         CASES)
def test_reference_equals_the_direct_scatter_with_kerass_sizes(x_shape, w_shape, strides,
                                                               padding, output_padding,
                                                               dilation, hw):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    g = Conv2DTransposeGeometry(x_shape, w_shape, strides, padding, output_padding, dilation)
    y = reference.conv2d_transpose(x, w, None, strides, padding, output_padding, dilation)
    assert y.shape[1:3] == hw
    f = g.forward
    np.testing.assert_allclose(y, scatter_transpose(x, w, f.strides, f.padding, f.dilation, hw),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilation, hw",
                         CASES[:5])
def test_reference_gradients_match_finite_differences(x_shape, w_shape, strides, padding,
                                                      output_padding, dilation, hw):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[2]))
    args = (strides, padding, output_padding, dilation)
    dy = rng.standard_normal(reference.conv2d_transpose(x, w, b, *args).shape)

    def loss():
        return np.sum(reference.conv2d_transpose(x, w, b, *args) * dy)

    dx, dw, db = reference.conv2d_transpose_backward(dy, x, w, *args)
    for analytic, array in [(dx, x), (dw, w), (db, b)]:
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), atol=FD_TOLERANCE)


@pytest.mark.parametrize("impl", [reference, fastconv], ids=["reference", "fastconv"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilation, hw",
                         CASES)
def test_transpose_is_the_adjoint_of_conv2d(impl, x_shape, w_shape, strides, padding,
                                            output_padding, dilation, hw):
    """<conv2d_transpose(x), z> = <x, conv2d(z)> for the conv2d it transposes."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y = impl.conv2d_transpose(x, w, None, strides, padding, output_padding, dilation)
    z = rng.standard_normal(y.shape)
    f = Conv2DTransposeGeometry(x_shape, w_shape, strides, padding, output_padding,
                                dilation).forward
    conv = impl.conv2d(z, w, None, f.strides, f.padding, dilation=f.dilation)
    assert np.isclose(np.sum(y * z), np.sum(x * conv), rtol=1e-12)


@st.composite
def cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]))
    output_padding = draw(st.one_of(st.none(), st.tuples(st.integers(0, strides[0] - 1),
                                                         st.integers(0, strides[1] - 1))))
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    c_in = draw(st.sampled_from([1, 3, 8, 17]))
    c_out = draw(st.sampled_from([1, 2, 16, 33]))
    return (n, h, w, c_in), (kh, kw, c_out, c_in), strides, padding, output_padding, dilation


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(VARIANTS),
       seed=st.integers(0, 2**16))
def test_kernels_match_reference(case, dtype, name, seed):
    x_shape, w_shape, strides, padding, output_padding, dilation = case
    try:
        Conv2DTransposeGeometry(x_shape, w_shape, strides, padding, output_padding, dilation)
    except ValueError:
        assume(False)  # "same" with an output_padding whose output does not map back
    rng = np.random.default_rng(seed)
    x, w = random_array(rng, x_shape, dtype), random_array(rng, w_shape, dtype)
    b = random_array(rng, w_shape[2], dtype)
    args = (strides, padding, output_padding, dilation)
    with kernel_variant(name):
        y = fastconv.conv2d_transpose(x, w, b, *args)
        assert y.dtype == dtype
        assert_close(y, reference.conv2d_transpose(*f64(x, w, b), *args))
        dy = random_array(rng, y.shape, dtype)
        for got, want in zip(fastconv.conv2d_transpose_backward(dy, x, w, *args),
                             reference.conv2d_transpose_backward(*f64(dy, x, w), *args)):
            assert got.dtype == dtype
            assert_close(got, want)


X = np.zeros((1, 4, 4, 3), np.float32)


@pytest.mark.parametrize("w, kwargs, error, match", [
    (np.zeros((3, 3, 2, 5), np.float32), {}, ValueError, r"5 input channels.*x has 3"),
    (np.zeros((3, 3, 2, 3), np.float32), dict(strides=2, output_padding=2), ValueError,
     r"output_padding \(2, 2\) must be smaller than strides \(2, 2\)"),
    (np.zeros((3, 3, 2, 3), np.float32), dict(padding="full"), ValueError,
     "padding must be 'valid', 'same'"),
    (np.zeros((3, 3, 2, 3), np.float32), dict(b=np.zeros(3, np.float32)), ValueError,
     r"b must have shape \(2,\)"),
    (np.zeros((3, 3, 2), np.float32), {}, ValueError, "w must be 4-D"),
    (np.zeros((3, 3, 2, 3), np.int32), {}, TypeError, "w must be a float32 or float64"),
])
def test_bad_arguments_raise_naming_them(w, kwargs, error, match):
    for impl in (fastconv, reference):
        with pytest.raises(error, match=match):
            impl.conv2d_transpose(X, w, **kwargs)
