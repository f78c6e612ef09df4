# conv2d forward (included by _conv.pyx):
#   y[pixel, k] = sum_{r; s,c} xpad[pixel + (r, s), c] * w[r, s, c, k]   (+ bias, ReLU)
# A GEMM whose A operand the micro-kernel reads in place from the padded NHWC image
# (implicit im2col): for each tap row r, the (s, c) run is KW*C contiguous elements.
# Tiles run over flattened (n, oh, ow) pixels, so no rows go to waste at the end of an
# output row; each tile is written by one thread.


cdef inline void forward_tile(const fc_variant *var, long t, const floating *xp__nhwc,
                       const floating *wpack__pkn, const floating *bias, bint relu,
                       floating *y__nhwk, long hp, long wp, long c, long kh, long kw, long k,
                       long oh, long ow, long sh, long sw, long m_total, long *off,
                       floating *tile) noexcept nogil:
    cdef int mr = tile_rows_of(var, y__nhwk), nr = tile_cols_of(var, y__nhwk), i
    cdef long m0 = t * mr, m = min(m_total - m0, mr), kd = kh * kw * c
    cdef long img = m0 // (oh * ow), oy = m0 % (oh * ow) // ow, ox = m0 % ow, pn, k0, kn
    cdef floating *dst[FC_MR_MAX]
    cdef const floating *b_panel
    # Walk the tile's pixels in (n, oh, ow) order: one division per tile, not three per row.
    for i in range(m):
        off[i] = ((img * hp + oy * sh) * wp + ox * sw) * c
        ox = ox + 1
        if ox == ow:
            ox = 0
            oy = oy + 1
            if oy == oh:
                oy = 0
                img = img + 1
    for i in range(m, mr):
        off[i] = off[m - 1]   # rows past the last pixel repeat it (read, never stored)
    for pn in range((k + nr - 1) // nr):
        k0 = pn * nr
        kn = min(k - k0, nr)
        b_panel = wpack__pkn + pn * kd * nr
        if kn == nr:
            # Whole rows: straight into y, bias and ReLU in the micro-kernel's epilogue.
            point_rows(dst, y__nhwk + m0 * k + k0, k, m, mr)
            microkernel(var, kh, kw * c, xp__nhwc, off, wp * c, 1, b_panel, kw * c * nr, dst,
                        NULL if bias == NULL else bias + k0, FC_UKR_RELU if relu else 0)
        else:
            point_rows(dst, tile, nr, mr, mr)
            microkernel(var, kh, kw * c, xp__nhwc, off, wp * c, 1, b_panel, kw * c * nr, dst,
                        NULL, 0)
            store_tile(y__nhwk + m0 * k + k0, k, tile, nr, m, kn,
                       NULL if bias == NULL else bias + k0, relu)


cdef int conv2d_forward_driver(const floating *x__nhwc, long n, long h, long w, long c,
                               const floating *w__hwck, long kh, long kw, long k,
                               const floating *bias, bint relu, floating *y__nhwk, long oh,
                               long ow, long sh, long sw, long pt, long pb, long pl, long pr,
                               int nthreads) noexcept nogil:
    """y for x and w; 0, or -1 if a workspace could not be allocated."""
    cdef const fc_variant *var = active_variant
    cdef int mr = tile_rows_of(var, x__nhwc), nr = tile_cols_of(var, x__nhwc), tid = 0
    cdef long hp = h + pt + pb, wp = w + pl + pr, kd = kh * kw * c
    cdef long panels = (k + nr - 1) // nr, m_total = n * oh * ow
    cdef long t, tiles = (m_total + mr - 1) // mr
    cdef TileScratch scratch
    cdef floating *xp__nhwc = pad_input(x__nhwc, n, h, w, c, pt, pb, pl, pr, nthreads)
    cdef floating *wpack__pkn = <floating *>fc_alloc(sizeof(floating) * panels * kd * nr)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and xp__nhwc != NULL and wpack__pkn != NULL:
        pack_panels(wpack__pkn, w__hwck, <floating *>NULL, kd, k, nr)
        with parallel(num_threads=nthreads):
            tid = threadid()
            for t in prange(tiles, schedule='static'):
                forward_tile(var, t, xp__nhwc, wpack__pkn, bias, relu, y__nhwk, hp, wp, c, kh,
                             kw, k, oh, ow, sh, sw, m_total, scratch.offsets + tid * FC_MR_MAX,
                             <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
    else:
        ok = False
    if xp__nhwc != NULL:
        free_padded(xp__nhwc, x__nhwc)
    fc_free(wpack__pkn)
    free_tile_scratch(&scratch)
    return 0 if ok else -1
