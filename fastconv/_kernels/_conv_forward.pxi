# conv2d forward (included by _conv.pyx), per group j of output channels:
#   y[pixel, k] = sum_{r, s, c in group j} xpad[pixel + (r*dh, s*dw), c] * w[r, s, c, k]
# (+ bias, ReLU). A GEMM whose A operand the micro-kernel reads in place from the padded
# NHWC image (implicit im2col). Tiles run over flattened (n, oh, ow) pixels, so no rows
# go to waste at the end of an output row; each tile is written by one thread.
# Depthwise convolutions (one input channel per group) have their own kernel, below.


cdef inline void tap_product(const fc_variant *var, const floating *a, const long *off,
                             const floating *b_panel, floating **dst, const floating *bias,
                             bint relu, const ConvShape *g) noexcept nogil:
    """dst = act(bias + sum over the taps) for one tile of pixels and one B panel, from
    the group's first input channel `a` and the pixels' offsets `off`."""
    cdef int nr = tile_cols_of(var, a), flags
    cdef long a_run = g.dh * g.wp * g.c, s
    if g.dw == 1 and g.groups == 1:
        # Each kernel row's (s, c) run is KW*C contiguous elements: one call.
        microkernel(var, g.kh, g.kw * g.c, a, off, a_run, 1, b_panel, g.kw * g.c * nr, dst,
                    bias, FC_UKR_RELU if relu else 0)
    elif g.cg == 1:
        # One channel per tap: a kernel row's taps lie dw*C apart.
        microkernel(var, g.kh, g.kw, a, off, a_run, g.dw * g.c, b_panel, g.kw * nr, dst, bias,
                    FC_UKR_RELU if relu else 0)
    else:
        # Dilated or grouped: one call per kernel column s, adding into the tile.
        for s in range(g.kw):
            flags = FC_UKR_ACCUMULATE if s > 0 else 0
            if relu and s == g.kw - 1:
                flags = flags | FC_UKR_RELU
            microkernel(var, g.kh, g.cg, a + s * g.dw * g.c, off, a_run, 1,
                        b_panel + s * g.cg * nr, g.kw * g.cg * nr, dst,
                        bias if s == 0 else NULL, flags)


cdef inline void forward_tile(const fc_variant *var, long t, const floating *xp__nhwc,
                              const floating *wpack__gpkn, const floating *bias, bint relu,
                              floating *y__nhwk, const ConvShape *g, long *off,
                              floating *tile) noexcept nogil:
    cdef int mr = tile_rows_of(var, y__nhwk), nr = tile_cols_of(var, y__nhwk), i
    cdef long m_total = g.n * g.oh * g.ow, k = g.k
    cdef long m0 = t * mr, m = min(m_total - m0, mr), kdg = g.kh * g.kw * g.cg
    cdef long panels = (g.kg + nr - 1) // nr
    cdef long img = m0 // (g.oh * g.ow), oy = m0 % (g.oh * g.ow) // g.ow, ox = m0 % g.ow
    cdef long j, pn, k0, kn
    cdef floating *dst[FC_MR_MAX]
    # Walk the tile's pixels in (n, oh, ow) order: one division per tile, not three per row.
    for i in range(m):
        off[i] = ((img * g.hp + oy * g.sh) * g.wp + ox * g.sw) * g.c
        ox = ox + 1
        if ox == g.ow:
            ox = 0
            oy = oy + 1
            if oy == g.oh:
                oy = 0
                img = img + 1
    for i in range(m, mr):
        off[i] = off[m - 1]   # rows past the last pixel repeat it (read, never stored)
    for j in range(g.groups):
        for pn in range(panels):
            k0 = j * g.kg + pn * nr
            kn = min(g.kg - pn * nr, nr)
            if kn == nr:
                # Whole rows: straight into y, bias and ReLU in the micro-kernel's epilogue.
                point_rows(dst, y__nhwk + m0 * k + k0, k, m, mr)
                tap_product(var, xp__nhwc + j * g.cg, off,
                            wpack__gpkn + (j * panels + pn) * kdg * nr, dst,
                            NULL if bias == NULL else bias + k0, relu, g)
            else:
                point_rows(dst, tile, nr, mr, mr)
                tap_product(var, xp__nhwc + j * g.cg, off,
                            wpack__gpkn + (j * panels + pn) * kdg * nr, dst, NULL, False, g)
                store_tile(y__nhwk + m0 * k + k0, k, tile, nr, m, kn,
                           NULL if bias == NULL else bias + k0, relu)


cdef int gemm_forward(const floating *x__nhwc, const floating *w__hwck, const floating *bias,
                      bint relu, floating *y__nhwk, const ConvShape *g,
                      int nthreads) noexcept nogil:
    cdef const fc_variant *var = active_variant
    cdef int mr = tile_rows_of(var, x__nhwc), nr = tile_cols_of(var, x__nhwc), tid = 0
    cdef long kdg = g.kh * g.kw * g.cg, panels = (g.kg + nr - 1) // nr, j
    cdef long t, tiles = (g.n * g.oh * g.ow + mr - 1) // mr
    cdef TileScratch scratch
    cdef floating *xp__nhwc = pad_input(x__nhwc, g, nthreads)
    # Per group, the weights as B panels: rows (r, s, c in the group), NR output channels.
    cdef floating *wpack__gpkn = <floating *>fc_alloc(
        sizeof(floating) * g.groups * panels * kdg * nr)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and xp__nhwc != NULL and wpack__gpkn != NULL:
        for j in range(g.groups):
            pack_panels(wpack__gpkn + j * panels * kdg * nr, w__hwck + j * g.kg,
                        <floating *>NULL, kdg, g.kg, g.k, nr)
        with parallel(num_threads=nthreads):
            tid = threadid()
            for t in prange(tiles, schedule='static'):
                forward_tile(var, t, xp__nhwc, wpack__gpkn, bias, relu, y__nhwk, g,
                             scratch.offsets + tid * FC_MR_MAX,
                             <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
    else:
        ok = False
    if xp__nhwc != NULL:
        free_padded(xp__nhwc, x__nhwc)
    fc_free(wpack__gpkn)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


cdef void depthwise_forward_row(const floating *xp__nhwc, const floating *w__hwk,
                                const floating *bias, bint relu, floating *y__nhwk, long row,
                                const ConvShape *g) noexcept nogil:
    """Output row `row` (of N*OH) of a depthwise convolution: vectorised over channels.
    Output channel o reads input channel o // m (m = K / C, the depth multiplier)."""
    cdef long img = row // g.oh, oy = row % g.oh, ox, r, s, ci, jj, o
    cdef long c = g.c, k = g.k, m = g.kg
    cdef floating *out
    cdef const floating *pixel
    cdef const floating *taps
    for ox in range(g.ow):
        out = y__nhwk + (row * g.ow + ox) * k
        if bias != NULL:
            memcpy(out, bias, sizeof(floating) * k)
        else:
            memset(out, 0, sizeof(floating) * k)
        for r in range(g.kh):
            for s in range(g.kw):
                pixel = xp__nhwc + ((img * g.hp + oy * g.sh + r * g.dh) * g.wp
                                    + ox * g.sw + s * g.dw) * c
                taps = w__hwk + (r * g.kw + s) * k
                if m == 1:
                    multiply_add(out, pixel, taps, c)
                else:
                    for ci in range(c):
                        for jj in range(m):
                            o = ci * m + jj
                            out[o] = out[o] + pixel[ci] * taps[o]
        if relu:
            for o in range(k):
                out[o] = 0 if out[o] < 0 else out[o]


cdef int depthwise_forward(const floating *x__nhwc, const floating *w__hwk,
                           const floating *bias, bint relu, floating *y__nhwk,
                           const ConvShape *g, int nthreads) noexcept nogil:
    cdef long row
    cdef floating *xp__nhwc = pad_input(x__nhwc, g, nthreads)
    if xp__nhwc == NULL:
        return -1
    for row in prange(g.n * g.oh, num_threads=nthreads, schedule='static'):
        depthwise_forward_row(xp__nhwc, w__hwk, bias, relu, y__nhwk, row, g)
    free_padded(xp__nhwc, x__nhwc)
    return 0


cdef int conv2d_forward_driver(const floating *x__nhwc, const floating *w__hwck,
                               const floating *bias, bint relu, floating *y__nhwk,
                               const ConvShape *g, int nthreads) noexcept nogil:
    """y for x and w; 0, or -1 if a workspace could not be allocated."""
    if g.cg == 1 and g.groups > 1:
        return depthwise_forward(x__nhwc, w__hwck, bias, relu, y__nhwk, g, nthreads)
    return gemm_forward(x__nhwc, w__hwck, bias, relu, y__nhwk, g, nthreads)
