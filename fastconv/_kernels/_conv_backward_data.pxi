# conv2d backward-data (included by _conv.pyx): dx for dy, in one of two forms.
#   transposed: dx[pixel, c] = sum_{r; s',k} dyexp[pixel + s', k] * w[r, KW-1-s', c, k],
#               a stride-1 correlation of dy (spread over the input's width) with the
#               flipped kernel, vectorised over input channels;
#   col2im:     dcols = dy . W^T, vectorised over (r, s, c), scattered back into dx.
# Every dx element is written by one thread, in a fixed order.


cdef void spread_dy_row(floating *dyexp__nhwk, const floating *dy__nhwk, const floating *mask,
                        long row, long ow, long k, long we, long lead, long sw) noexcept nogil:
    """Row `row` of dyexp (N, OH, W+KW-1, K): dy pixel ox at column lead + ox*sw (masked
    by ReLU), zeros elsewhere."""
    cdef floating *dst = dyexp__nhwk + row * we * k
    cdef long ox, at
    memset(dst, 0, sizeof(floating) * we * k)
    for ox in range(ow):
        at = (row * ow + ox) * k
        copy_masked(dst + (lead + ox * sw) * k, dy__nhwk + at,
                    NULL if mask == NULL else mask + at, k)


cdef inline void transposed_tile(const fc_variant *var, long t, const floating *dyexp__nhwk,
                          const floating *wflip__prskn, floating *dx__nhwc, long h, long w,
                          long c, long kh, long kw, long k, long oh, long we, long sh,
                          long pt, long *off, floating *tile) noexcept nogil:
    cdef int mr = tile_rows_of(var, dx__nhwc), nr = tile_cols_of(var, dx__nhwc), i
    cdef long wtiles = (w + mr - 1) // mr, kdd = kh * kw * k
    cdef long img = t // (h * wtiles), ih = (t // wtiles) % h, iw0 = (t % wtiles) * mr
    cdef long m = min(w - iw0, mr), pn, c0, cn
    cdef floating *dst[FC_MR_MAX]
    cdef floating *dx_tile
    # Taps r that reach this row: r = ih+pt (mod sh), with dy row (ih+pt-r)/sh in [0, OH).
    cdef long lo = max(ih + pt - (oh - 1) * sh, 0)
    cdef long r_start = lo + (ih + pt - lo) % sh, r_end = min(ih + pt, kh - 1)
    cdef long nruns = (r_end - r_start) // sh + 1 if r_start <= r_end else 0
    cdef long oy0 = (ih + pt - r_start) // sh if nruns else 0
    cdef const floating *a = dyexp__nhwk + ((img * oh + oy0) * we + iw0) * k
    for i in range(mr):
        off[i] = (i if i < m else m - 1) * k
    for pn in range((c + nr - 1) // nr):
        c0 = pn * nr
        cn = min(c - c0, nr)
        dx_tile = dx__nhwc + ((img * h + ih) * w + iw0) * c + c0
        if cn == nr:
            point_rows(dst, dx_tile, c, m, mr)
        else:
            point_rows(dst, tile, nr, mr, mr)
        # Successive taps r += sh meet dy rows one above: a_run is one row back.
        microkernel(var, nruns, kw * k, a, off, -we * k, 1,
                    wflip__prskn + pn * kdd * nr + r_start * kw * k * nr, sh * kw * k * nr,
                    dst, <floating *>NULL, 0)
        if cn < nr:
            store_tile(dx_tile, c, tile, nr, m, cn, <floating *>NULL, False)


cdef int backward_data_transposed(const fc_variant *var, const floating *dy__nhwk,
                                  const floating *mask, long n, long oh, long ow, long k,
                                  const floating *w__hwck, long kh, long kw, long c,
                                  floating *dx__nhwc, long h, long w, long sh, long sw,
                                  long pt, long pl, int nthreads) noexcept nogil:
    cdef int mr = tile_rows_of(var, dx__nhwc), nr = tile_cols_of(var, dx__nhwc), tid = 0
    cdef long we = w + kw - 1, lead = kw - 1 - pl
    cdef long panels = (c + nr - 1) // nr, kdd = kh * kw * k
    cdef long t, tiles = n * h * ((w + mr - 1) // mr), row, pn, r, s2, kk, j, cc
    cdef floating *d
    cdef TileScratch scratch
    # Rows are not expanded: only the taps r that land on a dy row are visited.
    cdef floating *dyexp__nhwk = <floating *>fc_alloc(sizeof(floating) * n * oh * we * k)
    cdef floating *wflip__prskn = <floating *>fc_alloc(sizeof(floating) * panels * kdd * nr)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and dyexp__nhwk != NULL and wflip__prskn != NULL:
        for row in prange(n * oh, num_threads=nthreads, schedule='static'):
            spread_dy_row(dyexp__nhwk, dy__nhwk, mask, row, ow, k, we, lead, sw)
        # wflip[panel][r][s'][kk][j] = w[r][KW-1-s'][panel*nr + j][kk]: B rows for dx channels.
        for pn in range(panels):
            for r in range(kh):
                for s2 in range(kw):
                    for kk in range(k):
                        d = wflip__prskn + (((pn * kh + r) * kw + s2) * k + kk) * nr
                        for j in range(nr):
                            cc = pn * nr + j
                            d[j] = w__hwck[((r * kw + (kw - 1 - s2)) * c + cc) * k + kk] \
                                if cc < c else 0
        with parallel(num_threads=nthreads):
            tid = threadid()
            for t in prange(tiles, schedule='static'):
                transposed_tile(var, t, dyexp__nhwk, wflip__prskn, dx__nhwc, h, w, c, kh, kw,
                                k, oh, we, sh, pt, scratch.offsets + tid * FC_MR_MAX,
                                <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
    else:
        ok = False
    fc_free(dyexp__nhwk)
    fc_free(wflip__prskn)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


cdef void col2im_image(const fc_variant *var, long img, const floating *dy__nhwk,
                       const floating *wt_pack__pkn, const long *tap, floating *dx__nhwc,
                       long h, long w, long c, long kh, long kw, long k, long oh, long ow,
                       long sh, long sw, long pt, long pl, long *off,
                       floating *tile) noexcept nogil:
    """dx of one image: zeroed, then every dy pixel's dcols row added into its window."""
    cdef int mr = tile_rows_of(var, dx__nhwc), nr = tile_cols_of(var, dx__nhwc), i, inside
    cdef long kd = kh * kw * c, panels = (kd + nr - 1) // nr, pixels = oh * ow
    cdef long m0, m, pn, q, q0, q_end, r, s, c0, length, iy, ix, ii
    cdef long iy0[FC_MR_MAX]
    cdef long ix0[FC_MR_MAX]     # each dy pixel's window corner in x
    cdef floating *dst[FC_MR_MAX]
    cdef floating *dximg = dx__nhwc + img * h * w * c
    memset(dximg, 0, sizeof(floating) * h * w * c)
    cdef long tile_index
    for tile_index in range((pixels + mr - 1) // mr):
        m0 = tile_index * mr
        m = min(pixels - m0, mr)
        for i in range(mr):
            off[i] = (img * pixels + m0 + (i if i < m else m - 1)) * k
            iy0[i] = (m0 + i) // ow * sh - pt
            ix0[i] = (m0 + i) % ow * sw - pl
        for pn in range(panels):
            if c % nr == 0:
                # The panel is one tap (r, s) and nr whole channels: the micro-kernel adds
                # each row straight into its dx pixel (NULL: outside the image).
                q0 = pn * nr
                r = tap[3 * q0]
                s = tap[3 * q0 + 1]
                for i in range(mr):
                    iy = iy0[i] + r
                    ix = ix0[i] + s
                    inside = i < m and 0 <= iy < h and 0 <= ix < w
                    dst[i] = dximg + (iy * w + ix) * c + tap[3 * q0 + 2] if inside else NULL
                microkernel(var, 1, k, dy__nhwk, off, 0, 1, wt_pack__pkn + pn * k * nr, 0, dst,
                            <floating *>NULL, FC_UKR_ACCUMULATE)
                continue
            point_rows(dst, tile, nr, mr, mr)
            microkernel(var, 1, k, dy__nhwk, off, 0, 1, wt_pack__pkn + pn * k * nr, 0, dst,
                        <floating *>NULL, 0)
            # Scatter the tile's columns q = (r, s, c) back into dx, one run of consecutive
            # channels (one tap) at a time: contiguous vector adds.
            q = pn * nr
            q_end = pn * nr + min(kd - pn * nr, nr)
            while q < q_end:
                r = tap[3 * q]
                s = tap[3 * q + 1]
                c0 = tap[3 * q + 2]
                length = min(c - c0, q_end - q)
                for ii in range(m):
                    iy = iy0[ii] + r
                    ix = ix0[ii] + s
                    if 0 <= iy < h and 0 <= ix < w:
                        add_to(dximg + (iy * w + ix) * c + c0, tile + ii * nr + q - pn * nr,
                               length)
                q = q + length


cdef int backward_data_col2im(const fc_variant *var, const floating *dy__nhwk,
                              const floating *mask, long n, long oh, long ow, long k,
                              const floating *w__hwck, long kh, long kw, long c,
                              floating *dx__nhwc, long h, long w, long sh, long sw, long pt,
                              long pl, int nthreads) noexcept nogil:
    cdef int nr = tile_cols_of(var, dx__nhwc), tid = 0
    cdef long kd = kh * kw * c, panels = (kd + nr - 1) // nr, row, img, pn, kk, j, q
    cdef TileScratch scratch
    cdef floating *wt_pack__pkn = <floating *>fc_alloc(sizeof(floating) * panels * k * nr)
    cdef long *tap = <long *>fc_alloc(sizeof(long) * 3 * kd)   # q -> (r, s, c)
    # The micro-kernel reads dy in place: a masked dy must exist as a whole first.
    cdef floating *dy_masked = NULL
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if mask != NULL:
        dy_masked = <floating *>fc_alloc(sizeof(floating) * n * oh * ow * k)
        ok = ok and dy_masked != NULL
    if ok and wt_pack__pkn != NULL and tap != NULL:
        for q in range(kd):
            tap[3 * q] = q // (kw * c)
            tap[3 * q + 1] = (q // c) % kw
            tap[3 * q + 2] = q % c
        if mask != NULL:
            for row in prange(n * oh, num_threads=nthreads, schedule='static'):
                copy_masked(dy_masked + row * ow * k, dy__nhwk + row * ow * k,
                            mask + row * ow * k, ow * k)
            dy__nhwk = dy_masked
        # wt_pack[panel][kk][j] = w[(r,s,c) = panel*nr + j][kk]: W^T packed as B panels.
        for pn in range(panels):
            for kk in range(k):
                for j in range(nr):
                    q = pn * nr + j
                    wt_pack__pkn[(pn * k + kk) * nr + j] = w__hwck[q * k + kk] if q < kd else 0
        # One thread owns a whole image: the scatter has no races and a fixed order.
        with parallel(num_threads=nthreads):
            tid = threadid()
            for img in prange(n, schedule='static'):
                col2im_image(var, img, dy__nhwk, wt_pack__pkn, tap, dx__nhwc, h, w, c, kh, kw,
                             k, oh, ow, sh, sw, pt, pl, scratch.offsets + tid * FC_MR_MAX,
                             <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
    else:
        ok = False
    fc_free(wt_pack__pkn)
    fc_free(tap)
    fc_free(dy_masked)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


cdef int conv2d_backward_data_driver(const floating *dy__nhwk, const floating *mask, long n,
                                     long oh, long ow, long k, const floating *w__hwck,
                                     long kh, long kw, long c, floating *dx__nhwc, long h,
                                     long w, long sh, long sw, long pt, long pl,
                                     int nthreads) noexcept nogil:
    """dx for dy; 0, or -1 if a workspace could not be allocated.

    The transposed form multiplies the zeros beside each dy row (its useful fraction is
    OW/W at stride 1); col2im wastes nothing but runs shorter sums (K = dy's channels) and
    scatters. Measured on mnist-c2 (OW/W = 8/12) col2im took 10.5 ms against 12.5, on
    resnet-3x3 (OW/W = 1) 86 against 83. Small C also goes to col2im (the transposed
    form's lanes run over C), and horizontal strides (the transposed form would multiply
    zeros between dy pixels)."""
    cdef const fc_variant *var = active_variant
    if c < tile_cols_of(var, dx__nhwc) or sw > 1 or 10 * ow < 9 * w:
        return backward_data_col2im(var, dy__nhwk, mask, n, oh, ow, k, w__hwck, kh, kw, c,
                                    dx__nhwc, h, w, sh, sw, pt, pl, nthreads)
    return backward_data_transposed(var, dy__nhwk, mask, n, oh, ow, k, w__hwck, kh, kw, c,
                                    dx__nhwc, h, w, sh, sw, pt, pl, nthreads)
