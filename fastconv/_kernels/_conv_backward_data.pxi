# Convolution backward-data (included by _conv.pyx): dx for dy, in one of three forms.
#   transposed: dx[pixel, c] = sum_{r; s',k} dyexp[pixel + s', k] * w[r, KW-1-s', c, k],
#               a stride-1 correlation of dy (spread over the input's width) with the
#               flipped kernel, vectorised over input channels (2-D, groups = 1, no
#               dilation);
#   col2im:     per group, dcols = dy . W^T, vectorised over (a, r, s, c), scattered back
#               into dx;
#   depthwise:  each dx pixel gathers dy * w over the taps that reach it, vectorised over
#               channels.
# Every dx element is written by one thread, in a fixed order.


cdef void spread_dy_row(floating *dyexp__ndhwk, const floating *dy__ndhwk, const floating *mask,
                        long row, long we, long lead, const ConvShape *g) noexcept nogil:
    """Row `row` of dyexp (N, OH, W+KW-1, K): dy pixel ox at column lead + ox*sw (masked
    by ReLU), zeros elsewhere."""
    cdef long k = g.k, ox, at
    cdef floating *dst = dyexp__ndhwk + row * we * k
    memset(dst, 0, sizeof(floating) * we * k)
    for ox in range(g.ow):
        at = (row * g.ow + ox) * k
        copy_masked(dst + (lead + ox * g.sw) * k, dy__ndhwk + at,
                    NULL if mask == NULL else mask + at, k)


cdef inline void transposed_tile(const fc_variant *var, long t, const floating *dyexp__ndhwk,
                                 const floating *wflip__prskn, floating *dx__ndhwc, long we,
                                 const ConvShape *g, long *off, floating *tile) noexcept nogil:
    cdef int mr = tile_rows_of(var, dx__ndhwc), nr = tile_cols_of(var, dx__ndhwc), i
    cdef long h = g.h, w = g.w, c = g.c, k = g.k, kh = g.kh, kw = g.kw, sh = g.sh, pt = g.pt
    cdef long wtiles = (w + mr - 1) // mr, kdd = kh * kw * k
    cdef long img = t // (h * wtiles), ih = (t // wtiles) % h, iw0 = (t % wtiles) * mr
    cdef long m = min(w - iw0, mr), pn, c0, cn
    cdef floating *dst[FC_MR_MAX]
    cdef floating *dx_tile
    # Taps r that reach this row: r = ih+pt (mod sh), with dy row (ih+pt-r)/sh in [0, OH).
    cdef long lo = max(ih + pt - (g.oh - 1) * sh, 0)
    cdef long r_start = lo + (ih + pt - lo) % sh, r_end = min(ih + pt, kh - 1)
    cdef long nruns = (r_end - r_start) // sh + 1 if r_start <= r_end else 0
    cdef long oy0 = (ih + pt - r_start) // sh if nruns else 0
    cdef const floating *a = dyexp__ndhwk + ((img * g.oh + oy0) * we + iw0) * k
    for i in range(mr):
        off[i] = (i if i < m else m - 1) * k
    for pn in range((c + nr - 1) // nr):
        c0 = pn * nr
        cn = min(c - c0, nr)
        dx_tile = dx__ndhwc + ((img * h + ih) * w + iw0) * c + c0
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


cdef int backward_data_transposed(const fc_variant *var, const floating *dy__ndhwk,
                                  const floating *mask, const floating *w__dhwck,
                                  floating *dx__ndhwc, const ConvShape *g,
                                  int nthreads) noexcept nogil:
    cdef int mr = tile_rows_of(var, dx__ndhwc), nr = tile_cols_of(var, dx__ndhwc), tid = 0
    cdef long c = g.c, k = g.k, kh = g.kh, kw = g.kw
    cdef long we = g.w + kw - 1, lead = kw - 1 - g.pl
    cdef long panels = (c + nr - 1) // nr, kdd = kh * kw * k
    cdef long t, tiles = g.n * g.h * ((g.w + mr - 1) // mr), row, pn, r, s2, kk, j, cc
    cdef floating *d
    cdef TileScratch scratch
    # Rows are not expanded: only the taps r that land on a dy row are visited. With one
    # kernel column and stride 1 along w, dy is its own expansion (unless masked).
    cdef bint dy_in_place = kw == 1 and g.sw == 1 and mask == NULL
    cdef floating *dyexp__ndhwk = <floating *>dy__ndhwk if dy_in_place else <floating *>fc_alloc(
        sizeof(floating) * g.n * g.oh * we * k)
    cdef floating *wflip__prskn = <floating *>fc_alloc(sizeof(floating) * panels * kdd * nr)
    cdef bint ok = alloc_tile_scratch(&scratch, nthreads, sizeof(floating))
    if ok and dyexp__ndhwk != NULL and wflip__prskn != NULL:
        if not dy_in_place:
            for row in prange(g.n * g.oh, num_threads=nthreads, schedule='static'):
                spread_dy_row(dyexp__ndhwk, dy__ndhwk, mask, row, we, lead, g)
        # wflip[panel][r][s'][kk][j] = w[r][KW-1-s'][panel*nr + j][kk]: B rows for dx channels.
        for pn in range(panels):
            for r in range(kh):
                for s2 in range(kw):
                    for kk in range(k):
                        d = wflip__prskn + (((pn * kh + r) * kw + s2) * k + kk) * nr
                        for j in range(nr):
                            cc = pn * nr + j
                            d[j] = w__dhwck[((r * kw + (kw - 1 - s2)) * c + cc) * k + kk] \
                                if cc < c else 0
        with parallel(num_threads=nthreads):
            tid = threadid()
            for t in prange(tiles, schedule='static'):
                transposed_tile(var, t, dyexp__ndhwk, wflip__prskn, dx__ndhwc, we, g,
                                scratch.offsets + tid * OFFSETS_STRIDE,
                                <floating *>scratch.tiles + tid * FC_MR_MAX * FC_NR_MAX)
    else:
        ok = False
    if not dy_in_place:
        fc_free(dyexp__ndhwk)
    fc_free(wflip__prskn)
    free_tile_scratch(&scratch)
    return 0 if ok else -1


# Channel runs up to this long are added by a plain loop: the vectorised add_to's set-up
# costs more than it saves (C = 1 or 3 in a network's first layer).
cdef enum:
    SHORT_RUN = 4
    TAP_FIELDS = 5   # per column q of W^T: a, r, s, c and the offset into dx (col2im)


cdef inline void input_corners(long *iz0, long *iy0, long *ix0, long *corner, bint *whole,
                               long p0, long count, const ConvShape *g) noexcept nogil:
    """The window corners in x (plane, row, column; negative in the padding) of an image's
    dy pixels p0 .. p0 + count - 1, their offsets into the image's dx (which may lie
    outside it), and whether the whole window lies inside the image (no tap needs a
    bounds check). Walks the pixels: the divisions per pixel were a tenth of col2im's
    time on a C = 1 layer."""
    cdef long ow = g.ow, oh = g.oh, sd = g.sd, sh = g.sh, sw = g.sw
    cdef long d = g.d, h = g.h, w = g.w, c = g.c, i
    # The last tap's reach beyond the corner, per axis.
    cdef long z_reach = (g.kd - 1) * g.dd, y_reach = (g.kh - 1) * g.dh
    cdef long x_reach = (g.kw - 1) * g.dw, ox, oy, oz
    pixel_position(p0, g, &oz, &oy, &ox)   # p0 < OD*OH*OW: image 0, oz the plane
    cdef long z0 = oz * sd - g.pf, y0 = oy * sh - g.pt, x0 = ox * sw - g.pl, left = -g.pl
    for i in range(count):
        iz0[i] = z0
        iy0[i] = y0
        ix0[i] = x0
        corner[i] = ((z0 * h + y0) * w + x0) * c
        whole[i] = (z0 >= 0 and z0 + z_reach < d and y0 >= 0 and y0 + y_reach < h
                    and x0 >= 0 and x0 + x_reach < w)
        ox = ox + 1
        x0 = x0 + sw
        if ox == ow:
            ox = 0
            x0 = left
            oy = oy + 1
            y0 = y0 + sh
            if oy == oh:
                oy = 0
                y0 = -g.pt
                z0 = z0 + sd


cdef inline bint all_whole(const bint *whole, long m) noexcept nogil:
    cdef long i
    for i in range(m):
        if not whole[i]:
            return False
    return True


cdef void col2im_image(const fc_variant *var, long img, const floating *dy__ndhwk,
                       const floating *wt_pack__gpkn, const long *tap, floating *dx__ndhwc,
                       const ConvShape *g) noexcept nogil:
    """dx of one image: zeroed, then every dy pixel's dcols row added into its window."""
    # The tile and its row offsets are the thread's own stack arrays (fixed size, no
    # allocation), as are the corners below.
    cdef long off[FC_MR_MAX]
    cdef floating tile[FC_MR_MAX * FC_NR_MAX]
    cdef int mr = tile_rows_of(var, dx__ndhwc), nr = tile_cols_of(var, dx__ndhwc), i, inside
    # The shape's fields in locals: through g they would be reloaded after every store.
    cdef long d = g.d, h = g.h, w = g.w, c = g.c, k = g.k, cg = g.cg, kg = g.kg
    cdef long dd = g.dd, dh = g.dh, dw = g.dw
    cdef long kdg = g.kd * g.kh * g.kw * g.cg, panels = (kdg + nr - 1) // nr
    cdef long pixels = g.od * g.oh * g.ow
    cdef long m0, m, j, pn, q, q0, q_end, c0, length, ii, tile_index, tz, ty, tx
    cdef long delta, jj
    cdef floating *target
    cdef const floating *source
    cdef long iz0[FC_MR_MAX]
    cdef long iy0[FC_MR_MAX]
    cdef long ix0[FC_MR_MAX]     # each dy pixel's window corner in x
    cdef long corner[FC_MR_MAX]  # ... as an offset into the image's dx
    cdef bint whole[FC_MR_MAX]   # ... and whether all its taps fall inside dx
    cdef bint tile_inside        # ... for every dy pixel of the tile
    cdef floating *dst[FC_MR_MAX]
    cdef floating *dximg = dx__ndhwc + img * d * h * w * c
    cdef const floating *wt_group
    memset(dximg, 0, sizeof(floating) * d * h * w * c)
    for tile_index in range((pixels + mr - 1) // mr):
        m0 = tile_index * mr
        m = min(pixels - m0, mr)
        input_corners(iz0, iy0, ix0, corner, whole, m0, mr, g)
        tile_inside = all_whole(whole, m)
        for j in range(g.groups):
            # A: the group's columns of dy, read in place.
            for i in range(mr):
                off[i] = (img * pixels + m0 + (i if i < m else m - 1)) * k + j * kg
            wt_group = wt_pack__gpkn + j * panels * kg * nr
            for pn in range(panels):
                if cg % nr == 0:
                    # The panel is one tap (a, r, s) and nr whole channels: the micro-kernel
                    # adds each row straight into its dx pixel (NULL: outside the image).
                    q0 = pn * nr
                    tz = tap[TAP_FIELDS * q0] * dd
                    ty = tap[TAP_FIELDS * q0 + 1] * dh
                    tx = tap[TAP_FIELDS * q0 + 2] * dw
                    target = dximg + tap[TAP_FIELDS * q0 + 4] + j * cg
                    for i in range(mr):
                        # One unsigned compare per axis: a negative index wraps to huge.
                        inside = i < m and (
                            whole[i] or (<unsigned long>(iz0[i] + tz) < <unsigned long>d
                                         and <unsigned long>(iy0[i] + ty) < <unsigned long>h
                                         and <unsigned long>(ix0[i] + tx) < <unsigned long>w))
                        dst[i] = target + corner[i] if inside else NULL
                    microkernel(var, 1, kg, dy__ndhwk, off, 0, 1, wt_group + pn * kg * nr,
                                0, dst, <floating *>NULL, FC_UKR_ACCUMULATE)
                    continue
                point_rows(dst, tile, nr, mr, mr)
                microkernel(var, 1, kg, dy__ndhwk, off, 0, 1, wt_group + pn * kg * nr, 0,
                            dst, <floating *>NULL, 0)
                # Scatter the tile's columns q = (a, r, s, c) back into dx, one run of
                # consecutive channels (one tap) at a time: contiguous vector adds.
                q = pn * nr
                q_end = pn * nr + min(kdg - pn * nr, nr)
                if cg == 1 and tile_inside:
                    # One channel per tap, every tap inside: one add per tile element, a
                    # dy pixel at a time (C = 1 layers: 54 scalar adds per 3x3 tile).
                    for ii in range(m):
                        target = dximg + corner[ii] + j
                        source = tile + ii * nr - pn * nr
                        for q in range(pn * nr, q_end):
                            target[tap[TAP_FIELDS * q + 4]] = (target[tap[TAP_FIELDS * q + 4]]
                                                               + source[q])
                    continue
                while q < q_end:
                    c0 = tap[TAP_FIELDS * q + 3]
                    length = min(cg - c0, q_end - q)
                    tz = tap[TAP_FIELDS * q] * dd
                    ty = tap[TAP_FIELDS * q + 1] * dh
                    tx = tap[TAP_FIELDS * q + 2] * dw
                    delta = tap[TAP_FIELDS * q + 4] + j * cg
                    for ii in range(m):
                        # One unsigned compare per axis: a negative index wraps to huge.
                        if whole[ii] or (<unsigned long>(iz0[ii] + tz) < <unsigned long>d
                                         and <unsigned long>(iy0[ii] + ty) < <unsigned long>h
                                         and <unsigned long>(ix0[ii] + tx) < <unsigned long>w):
                            target = dximg + corner[ii] + delta
                            source = tile + ii * nr + q - pn * nr
                            if length <= SHORT_RUN:  # a vector loop's set-up costs more
                                for jj in range(length):
                                    target[jj] = target[jj] + source[jj]
                            else:
                                add_to(target, source, length)
                    q = q + length


cdef int backward_data_col2im(const fc_variant *var, const floating *dy__ndhwk,
                              const floating *mask, const floating *w__dhwck,
                              floating *dx__ndhwc, const ConvShape *g,
                              int nthreads) noexcept nogil:
    cdef int nr = tile_cols_of(var, dx__ndhwc)
    cdef long kdg = g.kd * g.kh * g.kw * g.cg, panels = (kdg + nr - 1) // nr
    cdef long rows = g.n * g.od * g.oh, row_len = g.ow * g.k, img, j, pn, kk, jj, q, a, r, s, cc
    cdef floating *dst
    # Per group, W^T as B panels: rows the group's output channels, NR taps (r, s, c).
    cdef floating *wt_pack__gpkn = <floating *>fc_alloc(
        sizeof(floating) * g.groups * panels * g.kg * nr)
    # q -> (a, r, s, c, the tap's offset from the window corner in an image's dx)
    cdef long *tap = <long *>fc_alloc(sizeof(long) * TAP_FIELDS * kdg)
    # The micro-kernel reads dy in place: a masked dy must exist as a whole first.
    cdef floating *dy_masked = NULL
    cdef bint ok = True
    if mask != NULL:
        dy_masked = masked_copy(dy__ndhwk, mask, rows, row_len, nthreads)
        ok = dy_masked != NULL
        dy__ndhwk = dy_masked
    if ok and wt_pack__gpkn != NULL and tap != NULL:
        for q in range(kdg):
            a = q // (g.kh * g.kw * g.cg)
            r = q // (g.kw * g.cg) % g.kh
            s = q // g.cg % g.kw
            cc = q % g.cg
            tap[TAP_FIELDS * q] = a
            tap[TAP_FIELDS * q + 1] = r
            tap[TAP_FIELDS * q + 2] = s
            tap[TAP_FIELDS * q + 3] = cc
            tap[TAP_FIELDS * q + 4] = ((a * g.dd * g.h + r * g.dh) * g.w + s * g.dw) * g.c + cc
        # wt_pack[group][panel][kk][jj] = w[(a,r,s,c) = panel*nr + jj][group*KG + kk].
        for j in range(g.groups):
            for pn in range(panels):
                for kk in range(g.kg):
                    dst = wt_pack__gpkn + ((j * panels + pn) * g.kg + kk) * nr
                    for jj in range(nr):
                        q = pn * nr + jj
                        dst[jj] = w__dhwck[q * g.k + j * g.kg + kk] if q < kdg else 0
        # One thread owns a whole image: the scatter has no races and a fixed order.
        for img in prange(g.n, num_threads=nthreads, schedule='static'):
            col2im_image(var, img, dy__ndhwk, wt_pack__gpkn, tap, dx__ndhwc, g)
    else:
        ok = False
    fc_free(wt_pack__gpkn)
    fc_free(tap)
    fc_free(dy_masked)
    return 0 if ok else -1


cdef inline long tap_source(long i, long pad, long tap, long dilation, long stride,
                            long out) noexcept nogil:
    """The output index whose tap `tap` reads input index i along one axis, or -1."""
    cdef long t = i + pad - tap * dilation
    if t < 0 or t % stride != 0 or t // stride >= out:
        return -1
    return t // stride


cdef void depthwise_data_row(const floating *dy__ndhwk, const floating *mask,
                             const floating *w__dhwk, floating *dx__ndhwc, long row,
                             const ConvShape *g, floating *dy_pixel) noexcept nogil:
    """Input row `row` (of N*D*H) of dx for a depthwise convolution: each pixel gathers,
    over the taps (a, r, s) that reach it from a dy pixel, dy * w (summed over the m
    outputs of each channel)."""
    cdef long plane = row // g.h, iy = row % g.h, img = plane // g.d, iz = plane % g.d
    cdef long ix, a, r, s, oz, oy, ox, ci, jj, o, at
    cdef long c = g.c, k = g.k, m = g.kg
    cdef floating *out
    cdef const floating *taps
    for ix in range(g.w):
        out = dx__ndhwc + (row * g.w + ix) * c
        memset(out, 0, sizeof(floating) * c)
        for a in range(g.kd):
            oz = tap_source(iz, g.pf, a, g.dd, g.sd, g.od)
            if oz < 0:
                continue
            for r in range(g.kh):
                oy = tap_source(iy, g.pt, r, g.dh, g.sh, g.oh)
                if oy < 0:
                    continue
                for s in range(g.kw):
                    ox = tap_source(ix, g.pl, s, g.dw, g.sw, g.ow)
                    if ox < 0:
                        continue
                    at = (((img * g.od + oz) * g.oh + oy) * g.ow + ox) * k
                    taps = w__dhwk + ((a * g.kh + r) * g.kw + s) * k
                    copy_masked(dy_pixel, dy__ndhwk + at, NULL if mask == NULL else mask + at,
                                k)
                    if m == 1:
                        multiply_add(out, dy_pixel, taps, c)
                    else:
                        for ci in range(c):
                            for jj in range(m):
                                o = ci * m + jj
                                out[ci] = out[ci] + dy_pixel[o] * taps[o]


cdef int backward_data_depthwise(const floating *dy__ndhwk, const floating *mask,
                                 const floating *w__dhwk, floating *dx__ndhwc,
                                 const ConvShape *g, int nthreads) noexcept nogil:
    cdef long row
    # Per thread: one masked dy pixel.
    cdef long stride = ((g.k * sizeof(floating) + 63) // 64) * 64
    cdef char *scratch = <char *>fc_alloc(stride * nthreads)
    cdef char *mine = NULL
    if scratch == NULL:
        return -1
    with parallel(num_threads=nthreads):
        mine = scratch + threadid() * stride
        for row in prange(g.n * g.d * g.h, schedule='static'):
            depthwise_data_row(dy__ndhwk, mask, w__dhwk, dx__ndhwc, row, g, <floating *>mine)
    fc_free(scratch)
    return 0


cdef int conv_backward_data_driver(const floating *dy__ndhwk, const floating *mask,
                                     const floating *w__dhwck, floating *dx__ndhwc,
                                     const ConvShape *g, int nthreads) noexcept nogil:
    """dx for dy; 0, or -1 if a workspace could not be allocated.

    The transposed form multiplies the zeros beside each dy row (its useful fraction is
    OW/W at stride 1); col2im wastes nothing but runs shorter sums (K = dy's channels) and
    scatters. Measured on mnist-c2 (OW/W = 8/12) col2im took 10.5 ms against 12.5, on
    resnet-3x3 (OW/W = 1) 86 against 83. Small C also goes to col2im (the transposed
    form's lanes run over C), and horizontal strides (the transposed form would multiply
    zeros between dy pixels), and so do groups, dilation and 3-D convolutions."""
    cdef const fc_variant *var = active_variant
    cdef const WinogradTransform *wt = winograd_choice_backward_data(g)
    if wt != NULL:
        return winograd_backward_data(wt, dy__ndhwk, mask, w__dhwck, dx__ndhwc, g, nthreads)
    if g.cg == 1 and g.groups > 1:
        return backward_data_depthwise(dy__ndhwk, mask, w__dhwck, dx__ndhwc, g, nthreads)
    if (g.c < tile_cols_of(var, dx__ndhwc) or g.sw > 1 or 10 * g.ow < 9 * g.w
            or g.groups > 1 or g.dh > 1 or g.dw > 1 or g.kd > 1 or g.d > 1):
        return backward_data_col2im(var, dy__ndhwk, mask, w__dhwck, dx__ndhwc, g, nthreads)
    return backward_data_transposed(var, dy__ndhwk, mask, w__dhwck, dx__ndhwc, g, nthreads)
