# Convolution backward-weights (included by _conv.pyx), 2-D or 3-D:
#   dw[(a,r,s,c), k] = sum_{pixels} xpad[pixel + (a*dd, r*dh, s*dw), c] * dy[pixel, k],
#   db[k] = sum dy[pixel, k]                       (c and k of the same group)
# The reduction over pixels is split into a fixed number of row groups (set by the shapes
# alone, never by the thread count); each row group sums into its own partial, and the
# partials are added in order: bitwise the same result for any thread count.

# Pixels per block: its packed dy (block x NR) stays in L2.
cdef enum:
    DW_BLOCK_PIXELS = 512
# At most this many row groups (enough for 16 threads), and at most DW_PARTIAL_BUDGET
# elements of partial sums (16 MiB of float32).
cdef enum:
    DW_MAX_GROUPS = 16
    DW_PARTIAL_BUDGET = 1 << 22


cdef inline long dw_row_groups(long rows, long dw_len) noexcept nogil:
    """Number of row groups of the dw reduction: a function of the shapes only."""
    return max(min(DW_MAX_GROUPS, rows, DW_PARTIAL_BUDGET // dw_len), 1)


cdef void weights_block(const fc_variant *var, const floating *dy__ndhwk, const floating *mask,
                        const floating *xp__ndhwc, long row, long nrows, const ConvShape *g,
                        const long *off_kd, floating *part, floating *dypack__pkn, long *off,
                        floating *tile) noexcept nogil:
    """Add rows row .. row+nrows (of N*OD*OH, one output plane) into the partial: dw,
    then db."""
    cdef int mr = tile_rows_of(var, part), nr = tile_cols_of(var, part), i
    cdef long k = g.k, kdg = g.kd * g.kh * g.kw * g.cg, panels = (g.kg + nr - 1) // nr
    cdef long plane = row // g.oh, oy = row % g.oh, pixels = nrows * g.ow
    cdef long img = plane // g.od, oz = plane % g.od
    cdef long j, pn, k0, kn, p, kd0, m, tile_index
    cdef floating *pdb = part + kdg * k
    cdef const floating *a = xp__ndhwc + ((img * g.dp + oz * g.sd) * g.hp + oy * g.sh) * g.wp * g.c
    cdef floating *dst[FC_MR_MAX]
    for j in range(g.groups):
        # The group's columns of dy, masked by ReLU, as B panels.
        pack_panels(dypack__pkn, dy__ndhwk + row * g.ow * k + j * g.kg,
                    NULL if mask == NULL else mask + row * g.ow * k + j * g.kg, pixels, g.kg,
                    k, nr)
        # db from the packed (masked) dy: panel by panel, pixel by pixel.
        for pn in range(panels):
            k0 = j * g.kg + pn * nr
            kn = min(g.kg - pn * nr, nr)
            for p in range(pixels):
                add_to(pdb + k0, dypack__pkn + (pn * pixels + p) * nr, kn)
        for tile_index in range((kdg + mr - 1) // mr):
            kd0 = tile_index * mr
            m = min(kdg - kd0, mr)
            for i in range(mr):
                off[i] = off_kd[kd0 + (i if i < m else m - 1)] + j * g.cg
            for pn in range(panels):
                k0 = j * g.kg + pn * nr
                kn = min(g.kg - pn * nr, nr)
                if kn == nr:
                    # Whole rows: added straight into the partial.
                    point_rows(dst, part + kd0 * k + k0, k, m, mr)
                    microkernel(var, nrows, g.ow, a, off, g.sh * g.wp * g.c, g.sw * g.c,
                                dypack__pkn + pn * pixels * nr, g.ow * nr, dst,
                                <floating *>NULL, FC_UKR_ACCUMULATE)
                    continue
                point_rows(dst, tile, nr, mr, mr)
                microkernel(var, nrows, g.ow, a, off, g.sh * g.wp * g.c, g.sw * g.c,
                            dypack__pkn + pn * pixels * nr, g.ow * nr, dst, <floating *>NULL,
                            0)
                for i in range(m):
                    add_to(part + (kd0 + i) * k + k0, tile + i * nr, kn)


cdef void depthwise_weights_block(const floating *dy__ndhwk, const floating *mask,
                                  const floating *xp__ndhwc, long row, long nrows,
                                  const ConvShape *g, floating *part,
                                  floating *dy_row) noexcept nogil:
    """The depthwise case of weights_block, vectorised over channels: part holds dw as
    (KD, KH, KW, K), then db (K)."""
    cdef long k = g.k, c = g.c, m = g.kg, rr, ox, a, r, s, ci, jj, o, at
    cdef long plane, img, oz, oy
    cdef floating *pdb = part + g.kd * g.kh * g.kw * k
    cdef floating *taps
    cdef const floating *pixel
    for rr in range(row, row + nrows):
        plane = rr // g.oh
        oy = rr % g.oh
        img = plane // g.od
        oz = plane % g.od
        for ox in range(g.ow):
            at = (rr * g.ow + ox) * k
            copy_masked(dy_row, dy__ndhwk + at, NULL if mask == NULL else mask + at, k)
            add_to(pdb, dy_row, k)
            for a in range(g.kd):
                for r in range(g.kh):
                    for s in range(g.kw):
                        pixel = tap_pixel(xp__ndhwc, g, img, oz, oy, ox, a, r, s)
                        taps = part + ((a * g.kh + r) * g.kw + s) * k
                        if m == 1:
                            multiply_add(taps, pixel, dy_row, c)
                        else:
                            for ci in range(c):
                                for jj in range(m):
                                    o = ci * m + jj
                                    taps[o] = taps[o] + pixel[ci] * dy_row[o]


cdef void weights_row_group(const fc_variant *var, long grp, long row_groups,
                            const floating *dy__ndhwk, const floating *mask,
                            const floating *xp__ndhwc, const ConvShape *g, const long *off_kd,
                            floating *part, long part_len, floating *dypack__pkn, long *off,
                            floating *tile) noexcept nogil:
    """Row group grp's partial sums of dw and db, block by block: a block is consecutive
    output rows of one output plane, at most enough pixels to keep its packed dy in L2."""
    cdef long rows_total = g.n * g.od * g.oh, block_rows = max(DW_BLOCK_PIXELS // g.ow, 1), nrows
    cdef long row = grp * rows_total // row_groups, r1 = (grp + 1) * rows_total // row_groups
    memset(part, 0, sizeof(floating) * part_len)
    while row < r1:
        nrows = min(r1 - row, g.oh - row % g.oh, block_rows)
        if g.cg == 1 and g.groups > 1:
            depthwise_weights_block(dy__ndhwk, mask, xp__ndhwc, row, nrows, g, part, dypack__pkn)
        else:
            weights_block(var, dy__ndhwk, mask, xp__ndhwc, row, nrows, g, off_kd, part,
                          dypack__pkn, off, tile)
        row = row + nrows


# The tiled form, for weight gradients with many (a, r, s, c) x k tiles: the rows of dw
# are split into chunks, and each chunk runs over the pixels in blocks, in order: it
# packs the block's dy, gathers each of its MR-row slivers of the block's im2col, and
# adds whole dw tiles. No partial sums, no barrier between blocks, and each dw element's
# sum runs over the pixels in one order: the same for any thread count.
cdef enum:
    # The packed dy block (pixels x K) stays in L2: at most this many elements ...
    DW_TILED_B_BUDGET = 1 << 16
    # ... and between these many pixels: long sums, bounded scratch.
    DW_TILED_MIN_PIXELS = 128
    DW_TILED_MAX_PIXELS = 1024
    # The tiled form needs this many row tiles of dw to share among threads ...
    DW_TILED_MIN_TILES = 32
    # ... output planes this small (the row-group form's sums run over one plane at a
    # time) and this many output channels (gathering a sliver is paid once per dy panel
    # of NR channels). Measured (one thread, CPU time): 128->256 on 6x6 (16 pixels per
    # plane) 10.7 -> 6.0 ms, 128->128 on 10x10 (64 pixels) 10.3 -> 9.6; but 32->64 5x5 on
    # 12x12 (64 pixels, K = 64) 12.1 -> 15.7, and with longer planes 64->128 on 12x12
    # (100) 7.6 -> 10.5 and 64->64 on 26x26 22 -> 29.
    DW_TILED_MAX_PLANE = 64
    DW_TILED_MIN_CHANNELS = 128
    # Chunks per thread: a thread slowed by a neighbour leaves its later chunks to others.
    DW_TILED_CHUNKS_PER_THREAD = 4


cdef inline bint use_tiled_weights(const ConvShape *g, int mr) noexcept nogil:
    """The shapes alone choose the form (never the thread count: results must not depend
    on it): the tiled form for ungrouped convolutions with small output planes, many
    output channels and enough dw row tiles."""
    return (g.groups == 1 and g.oh * g.ow <= DW_TILED_MAX_PLANE and g.k >= DW_TILED_MIN_CHANNELS
            and (g.kd * g.kh * g.kw * g.c + mr - 1) // mr >= DW_TILED_MIN_TILES)


cdef void weights_chunk(const fc_variant *var, long t0, long t1, long block,
                        const floating *dy__ndhwk, const floating *mask,
                        const floating *xp__ndhwc, const long *off_kd, floating *dw__dhwck,
                        const ConvShape *g, floating *dypack__pkn, floating *sliver,
                        long *base, floating *tile) noexcept nogil:
    """dw rows t0*MR .. t1*MR (whole, over every pixel)."""
    cdef int mr = tile_rows_of(var, dw__dhwck), nr = tile_cols_of(var, dw__dhwck), i
    cdef long k = g.k, kdg = g.kd * g.kh * g.kw * g.c, panels = (k + nr - 1) // nr
    cdef long pixels = g.n * g.od * g.oh * g.ow, p0, pb, p, pn, k0, kn, t, q0, m
    cdef long lanes[FC_MR_MAX]
    cdef long zero_off[FC_MR_MAX]
    cdef floating *dst[FC_MR_MAX]
    cdef const floating *src
    cdef floating *row
    for i in range(mr):
        zero_off[i] = i
    for t in range(t0, t1):
        memset(dw__dhwck + t * mr * k, 0, sizeof(floating) * min(kdg - t * mr, mr) * k)
    p0 = 0
    while p0 < pixels:
        pb = min(block, pixels - p0)
        for pn in range(panels):
            k0 = pn * nr
            pack_panels(dypack__pkn + pn * pb * nr, dy__ndhwk + p0 * k + k0,
                        NULL if mask == NULL else mask + p0 * k + k0, pb, min(k - k0, nr),
                        k, nr)
        window_corners(base, p0, pb, g)
        for t in range(t0, t1):
            q0 = t * mr
            m = min(kdg - q0, mr)
            for i in range(mr):
                lanes[i] = off_kd[q0 + (i if i < m else m - 1)]
            # The sliver: MR columns of the block's im2col, pixel-major, in L1.
            for p in range(pb):
                src = xp__ndhwc + base[p]
                row = sliver + p * mr
                for i in range(mr):
                    row[i] = src[lanes[i]]
            for pn in range(panels):
                k0 = pn * nr
                kn = min(k - k0, nr)
                if kn == nr:
                    point_rows(dst, dw__dhwck + q0 * k + k0, k, m, mr)
                    microkernel(var, 1, pb, sliver, zero_off, 0, mr,
                                dypack__pkn + pn * pb * nr, 0, dst, <floating *>NULL,
                                FC_UKR_ACCUMULATE)
                    continue
                point_rows(dst, tile, nr, mr, mr)
                microkernel(var, 1, pb, sliver, zero_off, 0, mr, dypack__pkn + pn * pb * nr,
                            0, dst, <floating *>NULL, 0)
                for i in range(m):
                    add_to(dw__dhwck + (q0 + i) * k + k0, tile + i * nr, kn)
        p0 = p0 + pb


cdef int backward_weights_tiled(const fc_variant *var, const floating *dy__ndhwk,
                                const floating *mask, const floating *xp__ndhwc,
                                const long *off_kd, floating *dw__dhwck, floating *db,
                                const ConvShape *g, int nthreads) noexcept nogil:
    cdef int mr = tile_rows_of(var, dw__dhwck), nr = tile_cols_of(var, dw__dhwck), tid = 0
    cdef long k = g.k, kdg = g.kd * g.kh * g.kw * g.c, panels = (k + nr - 1) // nr
    cdef long pixels = g.n * g.od * g.oh * g.ow, tiles = (kdg + mr - 1) // mr
    cdef long block = min(max(DW_TILED_B_BUDGET // (panels * nr), DW_TILED_MIN_PIXELS),
                          DW_TILED_MAX_PIXELS)
    cdef long chunks = min(tiles, DW_TILED_CHUNKS_PER_THREAD * nthreads), ch, kk, p
    # The dy block, then the sliver; a multiple of 64 bytes, so that every thread's dy
    # panels keep the alignment the micro-kernel's B loads need.
    cdef long pack_len = (panels * block * nr + block * mr + 15) // 16 * 16
    cdef floating total
    cdef TileScratch scratch
    cdef floating *packs = <floating *>fc_alloc(sizeof(floating) * nthreads * pack_len)
    cdef long *bases = <long *>fc_alloc(sizeof(long) * nthreads * block)
    cdef floating *mine
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and packs != NULL and bases != NULL:
        with parallel(num_threads=nthreads):
            tid = threadid()
            mine = packs + tid * pack_len
            for ch in prange(chunks, schedule='dynamic'):
                weights_chunk(var, ch * tiles // chunks, (ch + 1) * tiles // chunks, block,
                              dy__ndhwk, mask, xp__ndhwc, off_kd, dw__dhwck, g, mine,
                              mine + panels * block * nr, bases + tid * block,
                              <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
        # db: each channel's sum over the pixels, in order (`total = total + ...`: inside
        # prange, `+=` would become an OpenMP reduction of no fixed order).
        for kk in prange(k, num_threads=nthreads, schedule='static'):
            total = 0
            for p in range(pixels):
                if mask == NULL or mask[p * k + kk] > 0:
                    total = total + dy__ndhwk[p * k + kk]
            db[kk] = total
    else:
        ok = False
    fc_free(packs)
    fc_free(bases)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


cdef int backward_weights_row_groups(const fc_variant *var, const floating *dy__ndhwk,
                                     const floating *mask, const floating *xp__ndhwc,
                                     const long *off_kd, floating *dw__dhwck, floating *db,
                                     const ConvShape *g, int nthreads) noexcept nogil:
    """The row-group form: each fixed row group sums into its own partial of dw and db,
    then the partials are added in order."""
    cdef int nr = tile_cols_of(var, dw__dhwck), tid = 0
    cdef long kdg = g.kd * g.kh * g.kw * g.cg, panels = (g.kg + nr - 1) // nr
    cdef long row_groups = dw_row_groups(g.n * g.od * g.oh, kdg * g.k), grp, gg, e
    cdef long part_len = kdg * g.k + g.k          # dw partial, then db partial
    # A packed-dy block for the GEMM form; one masked dy pixel for the depthwise form.
    cdef long dypack_len = max(panels * max(DW_BLOCK_PIXELS // g.ow, 1) * g.ow * nr, g.k)
    cdef floating total
    cdef TileScratch scratch
    cdef floating *partials = <floating *>fc_alloc(sizeof(floating) * row_groups * part_len)
    # One packed-dy buffer per row group, not per thread: a row group's work is the same
    # whichever thread runs it.
    cdef floating *dypacks = <floating *>fc_alloc(sizeof(floating) * row_groups * dypack_len)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and partials != NULL and dypacks != NULL:
        with parallel(num_threads=nthreads):
            tid = threadid()
            for grp in prange(row_groups, schedule='static'):
                weights_row_group(var, grp, row_groups, dy__ndhwk, mask, xp__ndhwc, g, off_kd,
                                  partials + grp * part_len, part_len,
                                  dypacks + grp * dypack_len, scratch.offsets + tid * OFFSETS_STRIDE,
                                  <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
        # The partials in order. `total = total + ...`, not `+=`: inside prange, Cython
        # would turn `+=` into an OpenMP reduction of no fixed order.
        for e in prange(part_len, num_threads=nthreads, schedule='static'):
            total = 0
            for gg in range(row_groups):
                total = total + partials[gg * part_len + e]
            if e < kdg * g.k:
                dw__dhwck[e] = total
            else:
                db[e - kdg * g.k] = total
    else:
        ok = False
    fc_free(partials)
    fc_free(dypacks)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


cdef int conv_backward_weights_driver(const floating *dy__ndhwk, const floating *mask,
                                        const floating *x__ndhwc, floating *dw__dhwck,
                                        floating *db, const ConvShape *g,
                                        int nthreads) noexcept nogil:
    """dw and db for dy; 0, or -1 if a workspace could not be allocated."""
    cdef const fc_variant *var = active_variant
    cdef long kdg = g.kd * g.kh * g.kw * g.cg, a, r, s, cc
    cdef int rc = -1
    cdef floating *xp__ndhwc = pad_input(x__ndhwc, g, nthreads)
    cdef long *off_kd = <long *>fc_alloc(sizeof(long) * kdg)
    if xp__ndhwc != NULL and off_kd != NULL:
        # Offset of row (a, r, s, c) of the GEMM (group 0's channels) from a pixel's corner.
        for a in range(g.kd):
            for r in range(g.kh):
                for s in range(g.kw):
                    for cc in range(g.cg):
                        off_kd[((a * g.kh + r) * g.kw + s) * g.cg + cc] = (
                            ((a * g.dd * g.hp + r * g.dh) * g.wp + s * g.dw) * g.c + cc)
        if use_tiled_weights(g, tile_rows_of(var, dw__dhwck)):
            rc = backward_weights_tiled(var, dy__ndhwk, mask, xp__ndhwc, off_kd, dw__dhwck, db,
                                        g, nthreads)
        else:
            rc = backward_weights_row_groups(var, dy__ndhwk, mask, xp__ndhwc, off_kd, dw__dhwck,
                                             db, g, nthreads)
    if xp__ndhwc != NULL:
        free_padded(xp__ndhwc, x__ndhwc)
    fc_free(off_kd)
    return rc
