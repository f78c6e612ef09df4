# Convolution forward (included by _conv.pyx), 2-D or 3-D, per group j of output channels:
#   y[pixel, k] = sum_{a, r, s, c in group j} xpad[pixel + (a*dd, r*dh, s*dw), c] * w[a, r, s, c, k]
# (+ bias, ReLU). A GEMM whose A operand the micro-kernel reads in place from the padded
# NDHWC image (implicit im2col). Tiles run over flattened (n, od, oh, ow) pixels, so no
# rows go to waste at the end of an output row; each tile is written by one thread.
# Depthwise convolutions (one input channel per group) have their own kernel, below.


cdef inline void tap_product(const fc_variant *var, const floating *a, const long *off,
                             const floating *b_panel, floating **dst, const floating *bias,
                             bint relu, const ConvShape *g) noexcept nogil:
    """dst = act(bias + sum over the taps) for one tile of pixels and one B panel, from
    the group's first input channel `a` and the pixels' offsets `off`. One micro-kernel
    call per kernel plane (and per kernel column when dilated or grouped), each adding
    into the tile; the bias goes in with the first, the ReLU with the last."""
    cdef int nr = tile_cols_of(var, a), flags
    cdef long a_run = g.dh * g.wp * g.c
    # Each kernel row's (s, c) run is KW*C contiguous elements, or, with one channel per
    # tap, KW elements dw*C apart; else one call per kernel column s.
    cdef bint whole_rows = g.dw == 1 and g.groups == 1
    if whole_rows and g.kd == 1:  # the plain 2-D case: one call, nothing to add up
        microkernel(var, g.kh, g.kw * g.c, a, off, a_run, 1, b_panel, g.kw * g.c * nr, dst,
                    bias, FC_UKR_RELU if relu else 0)
        return
    cdef long a_plane = g.dd * g.hp * g.wp * g.c, b_plane = g.kh * g.kw * g.cg * nr
    cdef long columns = 1 if whole_rows or g.cg == 1 else g.kw
    cdef long steps = g.kd * columns, i, s
    cdef const floating *a_i
    cdef const floating *b_i
    for i in range(steps):
        flags = FC_UKR_ACCUMULATE if i > 0 else 0
        if relu and i == steps - 1:
            flags = flags | FC_UKR_RELU
        a_i = a + (i // columns) * a_plane
        b_i = b_panel + (i // columns) * b_plane
        if whole_rows:
            microkernel(var, g.kh, g.kw * g.c, a_i, off, a_run, 1, b_i, g.kw * g.c * nr, dst,
                        bias if i == 0 else NULL, flags)
        elif g.cg == 1:
            microkernel(var, g.kh, g.kw, a_i, off, a_run, g.dw * g.c, b_i, g.kw * nr, dst,
                        bias if i == 0 else NULL, flags)
        else:
            s = i % columns
            microkernel(var, g.kh, g.cg, a_i + s * g.dw * g.c, off, a_run, 1,
                        b_i + s * g.cg * nr, g.kw * g.cg * nr, dst, bias if i == 0 else NULL,
                        flags)


cdef inline void forward_tile(const fc_variant *var, long t, const floating *xp__ndhwc,
                              const floating *wpack__gpkn, const floating *bias, bint relu,
                              floating *y__ndhwk, const ConvShape *g) noexcept nogil:
    cdef int mr = tile_rows_of(var, y__ndhwk), nr = tile_cols_of(var, y__ndhwk), i
    cdef long m_total = g.n * g.od * g.oh * g.ow, k = g.k
    cdef long m0 = t * mr, m = min(m_total - m0, mr), kdg = g.kd * g.kh * g.kw * g.cg
    cdef long panels = (g.kg + nr - 1) // nr
    cdef long j, pn, k0, kn
    # The thread's row offsets and partial tile live on its stack, as in col2im and 0.1.0:
    # with heap scratch indexed by threadid(), mnist-c1-3x3 on 2 threads ran 1.03x 0.1.0's
    # time, on the stack 0.98-1.01x (both kernels in one process, same arrays).
    cdef long off[FC_MR_MAX]
    cdef floating tile[FC_MR_MAX * FC_NR_MAX]
    cdef floating *dst[FC_MR_MAX]
    window_corners(off, m0, m, g)
    for i in range(m, mr):
        off[i] = off[m - 1]   # rows past the last pixel repeat it (read, never stored)
    for j in range(g.groups):
        for pn in range(panels):
            k0 = j * g.kg + pn * nr
            kn = min(g.kg - pn * nr, nr)
            if kn == nr:
                # Whole rows: straight into y, bias and ReLU in the micro-kernel's epilogue.
                point_rows(dst, y__ndhwk + m0 * k + k0, k, m, mr)
                tap_product(var, xp__ndhwc + j * g.cg, off,
                            wpack__gpkn + (j * panels + pn) * kdg * nr, dst,
                            NULL if bias == NULL else bias + k0, relu, g)
            else:
                point_rows(dst, tile, nr, mr, mr)
                tap_product(var, xp__ndhwc + j * g.cg, off,
                            wpack__gpkn + (j * panels + pn) * kdg * nr, dst, NULL, False, g)
                store_tile(y__ndhwk + m0 * k + k0, k, tile, nr, m, kn,
                           NULL if bias == NULL else bias + k0, relu)


cdef int gemm_forward(const floating *x__ndhwc, const floating *w__dhwck,
                      const floating *bias, bint relu, floating *y__ndhwk, const ConvShape *g,
                      int nthreads) noexcept nogil:
    cdef const fc_variant *var = active_variant
    cdef int mr = tile_rows_of(var, x__ndhwc), nr = tile_cols_of(var, x__ndhwc)
    cdef long kdg = g.kd * g.kh * g.kw * g.cg, panels = (g.kg + nr - 1) // nr, j
    cdef long t, tiles = (g.n * g.od * g.oh * g.ow + mr - 1) // mr
    cdef floating *xp__ndhwc = pad_input(x__ndhwc, g, nthreads)
    # Per group, the weights as B panels: rows (a, r, s, c in the group), NR output channels.
    cdef floating *wpack__gpkn = <floating *>fc_alloc(
        sizeof(floating) * g.groups * panels * kdg * nr)
    cdef bint ok = xp__ndhwc != NULL and wpack__gpkn != NULL
    if ok:
        for j in range(g.groups):
            pack_panels(wpack__gpkn + j * panels * kdg * nr, w__dhwck + j * g.kg,
                        <floating *>NULL, kdg, g.kg, g.k, nr)
        for t in prange(tiles, num_threads=nthreads, schedule='static'):
            forward_tile(var, t, xp__ndhwc, wpack__gpkn, bias, relu, y__ndhwk, g)
    if xp__ndhwc != NULL:
        free_padded(xp__ndhwc, x__ndhwc)
    fc_free(wpack__gpkn)
    return 0 if ok else -1


cdef inline const floating *tap_pixel(const floating *xp__ndhwc, const ConvShape *g,
                                      long img, long oz, long oy, long ox, long a, long r,
                                      long s) noexcept nogil:
    """The padded input pixel that tap (a, r, s) of output pixel (img, oz, oy, ox) reads."""
    return xp__ndhwc + ((((img * g.dp + oz * g.sd + a * g.dd) * g.hp + oy * g.sh + r * g.dh)
                         * g.wp + ox * g.sw + s * g.dw) * g.c)


cdef void depthwise_forward_row(const fc_variant *var, const floating *xp__ndhwc,
                                const floating *w__dhwk, const floating *bias, bint relu,
                                floating *y__ndhwk, long row, const long *tap_off,
                                const ConvShape *g) noexcept nogil:
    """Output row `row` (of N*OD*OH) of a depthwise convolution. With one output per
    channel, the depthwise register kernel takes tiles of dw_p pixels x NR channels; the
    channels past the last whole NR (and every channel with a depth multiplier m > 1:
    output channel o reads input channel o // m) run the channel loops below."""
    cdef long plane = row // g.oh, oy = row % g.oh, img = plane // g.od, oz = plane % g.od
    cdef int p = var.dw_p, nr = depthwise_cols_of(var, y__ndhwk), i
    cdef long c = g.c, k = g.k, m = g.kg, ntaps = g.kd * g.kh * g.kw
    cdef long c_full = (c // nr) * nr if m == 1 else 0
    cdef long ox, ox0, tile_index, n_in, block, cb, t, ci, jj, o
    cdef long x_off[FC_DW_P_MAX]
    cdef floating *dst[FC_DW_P_MAX]
    cdef floating *out
    cdef const floating *pixel
    cdef const floating *taps
    cdef const floating *x_row = tap_pixel(xp__ndhwc, g, img, oz, oy, 0, 0, 0, 0)
    for tile_index in range((g.ow + p - 1) // p):
        ox0 = tile_index * p
        n_in = min(g.ow - ox0, p)
        for i in range(p):
            # Rows past the last pixel repeat it (read, never stored).
            x_off[i] = (ox0 + (i if i < n_in else n_in - 1)) * g.sw * c
        for block in range(c_full // nr):
            cb = block * nr
            for i in range(p):
                dst[i] = y__ndhwk + (row * g.ow + ox0 + i) * k + cb if i < n_in else NULL
            depthwise_kernel(var, ntaps, x_row + cb, x_off, tap_off, w__dhwk + cb, k, dst,
                             NULL if bias == NULL else bias + cb, FC_UKR_RELU if relu else 0)
        for ox in range(ox0, ox0 + n_in):
            out = y__ndhwk + (row * g.ow + ox) * k
            if bias != NULL:
                memcpy(out + c_full, bias + c_full, sizeof(floating) * (k - c_full))
            else:
                memset(out + c_full, 0, sizeof(floating) * (k - c_full))
            for t in range(ntaps):
                pixel = x_row + ox * g.sw * c + tap_off[t]
                taps = w__dhwk + t * k
                if m == 1:
                    multiply_add(out + c_full, pixel + c_full, taps + c_full, c - c_full)
                else:
                    for ci in range(c):
                        for jj in range(m):
                            o = ci * m + jj
                            out[o] = out[o] + pixel[ci] * taps[o]
            if relu:
                for o in range(c_full, k):
                    out[o] = 0 if out[o] < 0 else out[o]


cdef int depthwise_forward(const floating *x__ndhwc, const floating *w__dhwk,
                           const floating *bias, bint relu, floating *y__ndhwk,
                           const ConvShape *g, int nthreads) noexcept nogil:
    cdef const fc_variant *var = active_variant
    cdef long row, a, r, s
    cdef floating *xp__ndhwc = pad_input(x__ndhwc, g, nthreads)
    # Offset of tap (a, r, s) from an output pixel's window corner in the padded input.
    cdef long *tap_off = <long *>fc_alloc(sizeof(long) * g.kd * g.kh * g.kw)
    if xp__ndhwc == NULL or tap_off == NULL:
        if xp__ndhwc != NULL:
            free_padded(xp__ndhwc, x__ndhwc)
        fc_free(tap_off)
        return -1
    for a in range(g.kd):
        for r in range(g.kh):
            for s in range(g.kw):
                tap_off[(a * g.kh + r) * g.kw + s] = (
                    ((a * g.dd * g.hp + r * g.dh) * g.wp + s * g.dw) * g.c)
    for row in prange(g.n * g.od * g.oh, num_threads=nthreads, schedule='static'):
        depthwise_forward_row(var, xp__ndhwc, w__dhwk, bias, relu, y__ndhwk, row, tap_off, g)
    free_padded(xp__ndhwc, x__ndhwc)
    fc_free(tap_off)
    return 0


cdef int conv_forward_driver(const floating *x__ndhwc, const floating *w__dhwck,
                             const floating *bias, bint relu, floating *y__ndhwk,
                             const ConvShape *g, int nthreads) noexcept nogil:
    """y for x and w; 0, or -1 if a workspace could not be allocated."""
    cdef const WinogradTransform *wt = winograd_choice(g, g.n * g.oh * g.ow)
    if wt != NULL:
        return winograd_forward(wt, x__ndhwc, w__dhwck, False, bias, relu, y__ndhwk, g, nthreads)
    if g.cg == 1 and g.groups > 1:
        return depthwise_forward(x__ndhwc, w__dhwck, bias, relu, y__ndhwk, g, nthreads)
    return gemm_forward(x__ndhwc, w__dhwck, bias, relu, y__ndhwk, g, nthreads)
