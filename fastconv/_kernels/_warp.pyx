"""Batched affine warp of channels-last images: the kernel behind the augmentation layers.

Contract: images (N, H, W, C) and out (N, OH, OW, C) C-contiguous, of one floating type;
matrices (N, 6) float64, C-contiguous. Row n maps an output pixel (column x, row y) to
the input point (a0 x + a1 y + a2, b0 x + b1 y + b2) = (column, row), Keras's transform
layout (without its projective terms). interpolation: 0 nearest (the pixel at
floor(p + 0.5)), 1 bilinear. fill_mode, for neighbours outside the image: 0 constant
(fill_value), 1 nearest (clamp), 2 reflect (d c b a | a b c d | d c b a), 3 wrap
(a b c d | a b c d). The Python wrapper (fastconv.preprocessing.warp) has checked all of
this. OpenMP runs over images: each image is written by one thread, from its own matrix.
Bilinear samples skip the neighbours of weight 0, so an integer point (the identity)
copies its pixel exactly.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport floor

cdef enum:
    FILL_CONSTANT = 0
    FILL_NEAREST = 1
    FILL_REFLECT = 2
    FILL_WRAP = 3


cdef inline long fold_index(long i, long n, int fill_mode) noexcept nogil:
    """i mapped into [0, n) by fill_mode, or -1 where the fill value is used."""
    cdef long period
    if 0 <= i < n:
        return i
    if fill_mode == FILL_CONSTANT:
        return -1
    if fill_mode == FILL_NEAREST:
        return 0 if i < 0 else n - 1
    if fill_mode == FILL_WRAP:
        i = i % n
        return i + n if i < 0 else i
    period = 2 * n  # reflect
    i = i % period
    if i < 0:
        i = i + period
    return i if i < n else period - 1 - i


cdef inline void add_pixel(const floating *image__hwc, long row, long col, long w, long c,
                           double weight, double fill_value, double *acc__c) noexcept nogil:
    cdef long k
    cdef const floating *pixel
    if row < 0 or col < 0:
        for k in range(c):
            acc__c[k] = acc__c[k] + weight * fill_value
        return
    pixel = image__hwc + (row * w + col) * c
    for k in range(c):
        acc__c[k] = acc__c[k] + weight * pixel[k]


cdef void warp_one(const floating *image__hwc, floating *out__hwc, const double *m,
                   long h, long w, long c, long oh, long ow, int interpolation,
                   int fill_mode, double fill_value, double *acc__c) noexcept nogil:
    cdef long oy, ox, k, x0, y0, r0, r1, c0, c1
    cdef double px, py, fx, fy
    cdef floating *out
    for oy in range(oh):
        for ox in range(ow):
            px = m[0] * ox + m[1] * oy + m[2]
            py = m[3] * ox + m[4] * oy + m[5]
            out = out__hwc + (oy * ow + ox) * c
            for k in range(c):
                acc__c[k] = 0.0
            if interpolation == 0:
                r0 = fold_index(<long>floor(py + 0.5), h, fill_mode)
                c0 = fold_index(<long>floor(px + 0.5), w, fill_mode)
                add_pixel(image__hwc, r0, c0 if r0 >= 0 else -1, w, c, 1.0, fill_value,
                          acc__c)
            else:
                x0 = <long>floor(px)
                y0 = <long>floor(py)
                fx = px - x0
                fy = py - y0
                r0 = fold_index(y0, h, fill_mode)
                c0 = fold_index(x0, w, fill_mode)
                add_pixel(image__hwc, r0, c0 if r0 >= 0 else -1, w, c,
                          (1 - fy) * (1 - fx), fill_value, acc__c)
                if fx != 0:
                    c1 = fold_index(x0 + 1, w, fill_mode)
                    add_pixel(image__hwc, r0, c1 if r0 >= 0 else -1, w, c,
                              (1 - fy) * fx, fill_value, acc__c)
                if fy != 0:
                    r1 = fold_index(y0 + 1, h, fill_mode)
                    add_pixel(image__hwc, r1, c0 if r1 >= 0 else -1, w, c,
                              fy * (1 - fx), fill_value, acc__c)
                    if fx != 0:
                        c1 = fold_index(x0 + 1, w, fill_mode)
                        add_pixel(image__hwc, r1, c1 if r1 >= 0 else -1, w, c,
                                  fy * fx, fill_value, acc__c)
            for k in range(c):
                out[k] = <floating>acc__c[k]


def affine_warp(const floating[:, :, :, ::1] images, const double[:, ::1] matrices,
                floating[:, :, :, ::1] out, int interpolation, int fill_mode,
                double fill_value, double[:, ::1] scratch, int nthreads):
    """Warp images[n] by matrices[n] into out[n], for every n (see the module doc).
    scratch: (N, C) float64, one accumulator row per image."""
    cdef long n_images = images.shape[0], h = images.shape[1], w = images.shape[2]
    cdef long c = images.shape[3], oh = out.shape[1], ow = out.shape[2]
    cdef long n
    if n_images == 0 or c == 0 or oh == 0 or ow == 0:
        return
    for n in prange(n_images, nogil=True, num_threads=nthreads, schedule='static'):
        warp_one(&images[n, 0, 0, 0], &out[n, 0, 0, 0], &matrices[n, 0], h, w, c, oh, ow,
                 interpolation, fill_mode, fill_value, &scratch[n, 0])
