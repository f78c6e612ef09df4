# conv2d backward-weights (included by _conv.pyx):
#   dw[(r,s,c), k] = sum_{pixels} xpad[pixel + (r, s), c] * dy[pixel, k],   db[k] = sum dy
# The reduction over pixels is split into a fixed number of row groups (set by the shapes
# alone, never by the thread count); each group sums into its own partial, and the
# partials are added in group order: bitwise the same result for any thread count.

# Pixels per block: its packed dy (block x NR) stays in L2.
cdef enum:
    DW_BLOCK_PIXELS = 512
# At most this many row groups (enough for 16 threads), and at most DW_PARTIAL_BUDGET
# elements of partial sums (16 MiB of float32).
cdef enum:
    DW_MAX_GROUPS = 16
    DW_PARTIAL_BUDGET = 1 << 22


cdef inline long dw_groups(long rows, long dw_len) noexcept nogil:
    """Number of row groups of the dw reduction: a function of the shapes only."""
    return max(min(DW_MAX_GROUPS, rows, DW_PARTIAL_BUDGET // dw_len), 1)


cdef void weights_group(const fc_variant *var, long g, long groups, long rows_total,
                        const floating *dy__nhwk,
                        const floating *mask, const floating *xp__nhwc, long hp, long wp,
                        long c, long kh, long kw, long k, long oh, long ow, long sh, long sw,
                        const long *off_kd, floating *part, floating *dypack__pkn,
                        long *off, floating *tile) noexcept nogil:
    """Group g's partial sums: dw into part[0 : KD*K], db into part[KD*K : KD*K + K]."""
    cdef int mr = tile_rows_of(var, part), nr = tile_cols_of(var, part), i
    cdef long kd = kh * kw * c, panels = (k + nr - 1) // nr
    cdef long block_rows = max(DW_BLOCK_PIXELS // ow, 1)
    cdef long row, r1, img, oy, nrows, pixels, pn, k0, kn, p, kd0, m, tile_index
    cdef floating *pdb = part + kd * k
    cdef floating *prow
    cdef const floating *d
    cdef const floating *a
    cdef floating *dst[FC_MR_MAX]
    memset(part, 0, sizeof(floating) * (kd * k + k))
    row = g * rows_total // groups
    r1 = (g + 1) * rows_total // groups
    while row < r1:
        # A block: consecutive output rows of one image, at most block_rows of them.
        img = row // oh
        oy = row % oh
        nrows = min(r1 - row, oh - oy, block_rows)
        pixels = nrows * ow
        pack_panels(dypack__pkn, dy__nhwk + row * ow * k,
                    NULL if mask == NULL else mask + row * ow * k, pixels, k, nr)
        # db from the packed (masked) dy: panel by panel, pixel by pixel.
        for pn in range(panels):
            k0 = pn * nr
            kn = min(k - k0, nr)
            for p in range(pixels):
                d = dypack__pkn + (pn * pixels + p) * nr
                add_to(pdb + k0, d, kn)
        a = xp__nhwc + (img * hp + oy * sh) * wp * c
        for tile_index in range((kd + mr - 1) // mr):
            kd0 = tile_index * mr
            m = min(kd - kd0, mr)
            for i in range(mr):
                off[i] = off_kd[kd0 + (i if i < m else m - 1)]
            for pn in range(panels):
                k0 = pn * nr
                kn = min(k - k0, nr)
                if kn == nr:
                    # Whole rows: added straight into the partial.
                    point_rows(dst, part + kd0 * k + k0, k, m, mr)
                    microkernel(var, nrows, ow, a, off, sh * wp * c, sw * c,
                                dypack__pkn + pn * pixels * nr, ow * nr, dst,
                                <floating *>NULL, FC_UKR_ACCUMULATE)
                    continue
                point_rows(dst, tile, nr, mr, mr)
                microkernel(var, nrows, ow, a, off, sh * wp * c, sw * c,
                            dypack__pkn + pn * pixels * nr, ow * nr, dst, <floating *>NULL, 0)
                for i in range(m):
                    add_to(part + (kd0 + i) * k + k0, tile + i * nr, kn)
        row = row + nrows


cdef int conv2d_backward_weights_driver(const floating *dy__nhwk, const floating *mask,
                                        const floating *x__nhwc, long n, long h, long w, long c,
                                        long kh, long kw, long k, long oh, long ow, long sh,
                                        long sw, long pt, long pb, long pl, long pr,
                                        floating *dw__hwck, floating *db,
                                        int nthreads) noexcept nogil:
    """dw and db for dy; 0, or -1 if a workspace could not be allocated."""
    cdef const fc_variant *var = active_variant
    cdef int nr = tile_cols_of(var, dw__hwck), tid = 0
    cdef long hp = h + pt + pb, wp = w + pl + pr, kd = kh * kw * c
    cdef long panels = (k + nr - 1) // nr, rows_total = n * oh
    cdef long groups = dw_groups(rows_total, kd * k), g, gg, e, r, s, cc
    cdef long part_len = kd * k + k          # dw partial, then db partial
    cdef long dypack_len = panels * max(DW_BLOCK_PIXELS // ow, 1) * ow * nr
    cdef floating total
    cdef TileScratch scratch
    cdef floating *xp__nhwc = pad_input(x__nhwc, n, h, w, c, pt, pb, pl, pr, nthreads)
    cdef floating *partials = <floating *>fc_alloc(sizeof(floating) * groups * part_len)
    # One packed-dy buffer per group, not per thread: a group's work is the same whichever
    # thread runs it.
    cdef floating *dypacks = <floating *>fc_alloc(sizeof(floating) * groups * dypack_len)
    cdef long *off_kd = <long *>fc_alloc(sizeof(long) * kd)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and xp__nhwc != NULL and partials != NULL and dypacks != NULL and off_kd != NULL:
        for r in range(kh):
            for s in range(kw):
                for cc in range(c):
                    off_kd[(r * kw + s) * c + cc] = (r * wp + s) * c + cc
        with parallel(num_threads=nthreads):
            tid = threadid()
            for g in prange(groups, schedule='static'):
                weights_group(var, g, groups, rows_total, dy__nhwk, mask, xp__nhwc, hp, wp, c,
                              kh, kw, k, oh, ow, sh, sw, off_kd, partials + g * part_len,
                              dypacks + g * dypack_len, scratch.offsets + tid * FC_MR_MAX,
                              <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
        # The partials in group order. `total = total + ...`, not `+=`: inside prange,
        # Cython would turn `+=` into an OpenMP reduction of no fixed order.
        for e in prange(part_len, num_threads=nthreads, schedule='static'):
            total = 0
            for gg in range(groups):
                total = total + partials[gg * part_len + e]
            if e < kd * k:
                dw__hwck[e] = total
            else:
                db[e - kd * k] = total
    else:
        ok = False
    if xp__nhwc != NULL:
        free_padded(xp__nhwc, x__nhwc)
    fc_free(partials)
    fc_free(dypacks)
    fc_free(off_kd)
    free_tile_scratch(&scratch)
    return 0 if ok else -1
