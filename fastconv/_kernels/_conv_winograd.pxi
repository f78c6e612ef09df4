# Winograd's minimal filtering F(m x m, 3 x 3) (Lavin & Gray, CVPR 2016) for 3x3, stride-1,
# undilated, ungrouped 2-D convolutions (included by _conv.pyx). Each m x m tile of
# outputs comes from an alpha x alpha tile of inputs (alpha = m + 2):
#   y_tile = A^T [ sum_c (G g_ck G^T) . (B^T d_c B) ] A
# so the alpha^2 element-wise products of every tile become alpha^2 GEMMs over channels,
# M[xi] (tiles x K) = V[xi] (tiles x C) . U[xi] (C x K), on the register micro-kernel:
# alpha^2 / m^2 multiplications per output and tap-row instead of 9 (F(2x2): 4, F(4x4): 2.25).
# Tiles are processed in fixed blocks, each by one thread from start to end (input
# transform, the GEMMs, output transform): results do not depend on the thread count.
# The backward-data pass is the same computation on dy with the flipped kernel.

cdef struct WinogradTransform:
    int m, alpha
    double bt[36]     # alpha x alpha: B^T, the input transform
    double g[18]      # alpha x 3: G, the kernel transform
    double at[24]     # m x alpha: A^T, the output transform


cdef WinogradTransform WINOGRAD_F2
cdef WinogradTransform WINOGRAD_F4


cdef void set_transform(WinogradTransform *t, int m, bt, g, at):
    t.m, t.alpha = m, m + 2
    for i, v in enumerate(bt):
        t.bt[i] = v
    for i, v in enumerate(g):
        t.g[i] = v
    for i, v in enumerate(at):
        t.at[i] = v


# The interpolation points 0, 1, -1 (F(2x2)) and 0, 1, -1, 2, -2 (F(4x4)), each with the
# point at infinity: the choice that keeps float32 error near 3e-7 of the output's scale.
set_transform(&WINOGRAD_F2, 2,
              [1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1],
              [1, 0, 0, .5, .5, .5, .5, -.5, .5, 0, 0, 1],
              [1, 1, 1, 0, 0, 1, -1, -1])
set_transform(&WINOGRAD_F4, 4,
              [4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
               0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1],
              [1 / 4., 0, 0, -1 / 6., -1 / 6., -1 / 6., -1 / 6., 1 / 6., -1 / 6.,
               1 / 24., 1 / 12., 1 / 6., 1 / 24., -1 / 12., 1 / 6., 0, 0, 1],
              [1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1])

cdef enum:
    # A block's transformed inputs and products (alpha^2 x tiles x (C + K), counted in
    # float32) stay near L2 ...
    WINOGRAD_BLOCK_BYTES = 1 << 19
    # ... but a block has at least this many tiles: every block reads all of U.
    WINOGRAD_MIN_BLOCK_TILES = 24
    # Winograd needs this many blocks' worth of tiles: to share among threads, and to
    # read U (alpha^2 x C x K) fewer times than the GEMMs use it.
    WINOGRAD_MIN_BLOCKS = 4


cdef inline long winograd_block_tiles(const WinogradTransform *wt, const ConvShape *g) noexcept nogil:
    """Tiles per block: a function of the shapes alone."""
    return max(WINOGRAD_BLOCK_BYTES // (wt.alpha * wt.alpha * (g.c + g.k) * 4),
               WINOGRAD_MIN_BLOCK_TILES)


cdef inline void scale_add(floating *dst, const floating *src, floating coef, long n,
                           bint first) noexcept nogil:
    """dst = coef * src (first) or dst += coef * src, over n elements."""
    cdef long i
    if first:
        for i in range(n):
            dst[i] = coef * src[i]
    else:
        for i in range(n):
            dst[i] = dst[i] + coef * src[i]


cdef inline void combine_rows(floating *dst, const floating **src, const double *coef,
                              int count, long n) noexcept nogil:
    """dst = sum_r coef[r] * src[r] over the nonzero coefficients (zeros if none)."""
    cdef int r
    cdef bint first = True
    for r in range(count):
        if coef[r] != 0:
            scale_add(dst, src[r], <floating>coef[r], n, first)
            first = False
    if first:
        memset(dst, 0, sizeof(floating) * n)


cdef void winograd_kernel_channel(const WinogradTransform *wt, const floating *w__rsio,
                                  long ci, long cin, long cout, int nr, floating *tmp,
                                  floating *u__xpcn) noexcept nogil:
    """U[xi][panel][ci][j] = (G g G^T)[xi] for the 3x3 kernels g of input channel ci,
    g[r][s] = w[r, s, ci, co] with co = panel*nr + j (zero past cout), vectorised over
    co; tmp holds (alpha + 1) x 3 x cout elements."""
    cdef int alpha = wt.alpha, i, j, r, s
    cdef long panels = (cout + nr - 1) // nr, pn, kn
    cdef const floating *rows[3]
    cdef floating *u_row = tmp + alpha * 3 * cout    # one U row, all output channels
    for i in range(alpha):                  # tmp[i][s] = sum_r G[i][r] g[r][s]
        for s in range(3):
            for r in range(3):
                rows[r] = w__rsio + ((r * 3 + s) * cin + ci) * cout
            combine_rows(tmp + (i * 3 + s) * cout, rows, wt.g + i * 3, 3, cout)
    for i in range(alpha):                  # U[i][j] = sum_s G[j][s] tmp[i][s]
        for s in range(3):
            rows[s] = tmp + (i * 3 + s) * cout
        for j in range(alpha):
            combine_rows(u_row, rows, wt.g + j * 3, 3, cout)
            for pn in range(panels):
                kn = min(cout - pn * nr, nr)
                memcpy(u__xpcn + (((i * alpha + j) * panels + pn) * cin + ci) * nr,
                       u_row + pn * nr, sizeof(floating) * kn)
                memset(u__xpcn + (((i * alpha + j) * panels + pn) * cin + ci) * nr + kn, 0,
                       sizeof(floating) * (nr - kn))


cdef void winograd_input_tile(const WinogradTransform *wt, const floating *xp__nhwc,
                              const floating *zeros, long tile, long tb, long t,
                              const ConvShape *g, long tiles_h, long tiles_w,
                              floating *v__xtc, floating *tmp) noexcept nogil:
    """V[xi][t][c] = (B^T d B)[xi] for input tile `tile` (its block row t), vectorised
    over channels; input rows and columns past the padded image read as zeros."""
    cdef int alpha = wt.alpha, m = wt.m, i, j, r, s
    cdef long c = g.c, img = tile // (tiles_h * tiles_w), ty = tile // tiles_w % tiles_h
    cdef long tx = tile % tiles_w, iy, ix
    cdef const floating *d[36]
    cdef const floating *col[6]
    for r in range(alpha):
        for s in range(alpha):
            iy = ty * m + r
            ix = tx * m + s
            d[r * alpha + s] = (xp__nhwc + ((img * g.hp + iy) * g.wp + ix) * c
                                if iy < g.hp and ix < g.wp else zeros)
    for i in range(alpha):                  # tmp[i][s] = sum_r B^T[i][r] d[r][s]
        for s in range(alpha):
            for r in range(alpha):
                col[r] = d[r * alpha + s]
            combine_rows(tmp + (i * alpha + s) * c, col, wt.bt + i * alpha, alpha, c)
    for i in range(alpha):                  # V[i][j] = sum_s B^T[j][s] tmp[i][s]
        for s in range(alpha):
            col[s] = tmp + (i * alpha + s) * c
        for j in range(alpha):
            combine_rows(v__xtc + ((i * alpha + j) * tb + t) * c, col, wt.bt + j * alpha,
                         alpha, c)


cdef void winograd_output_tile(const WinogradTransform *wt, const floating *m__xtk, long tile,
                               long tb, long t, long kp, const floating *bias, bint relu,
                               floating *y__nhwk, const ConvShape *g, long tiles_h,
                               long tiles_w, floating *tmp) noexcept nogil:
    """The m x m outputs of `tile` (block row t): A^T M A, plus bias, ReLU; the rows and
    columns past the output's edge are dropped."""
    cdef int alpha = wt.alpha, m = wt.m, i, j, r, s
    cdef long k = g.k, img = tile // (tiles_h * tiles_w), ty = tile // tiles_w % tiles_h
    cdef long tx = tile % tiles_w, oy, ox, e
    cdef const floating *col[6]
    cdef floating *out
    for i in range(m):                      # tmp[i][s] = sum_r A^T[i][r] M[r][s]
        for s in range(alpha):
            for r in range(alpha):
                col[r] = m__xtk + ((r * alpha + s) * tb + t) * kp
            combine_rows(tmp + (i * alpha + s) * kp, col, wt.at + i * alpha, alpha, k)
    for i in range(m):
        oy = ty * m + i
        if oy >= g.oh:
            break
        for s in range(alpha):
            col[s] = tmp + (i * alpha + s) * kp
        for j in range(m):
            ox = tx * m + j
            if ox >= g.ow:
                break
            out = y__nhwk + ((img * g.oh + oy) * g.ow + ox) * k
            combine_rows(out, col, wt.at + j * alpha, alpha, k)
            if bias != NULL:
                for e in range(k):
                    out[e] = out[e] + bias[e]
            if relu:
                for e in range(k):
                    out[e] = 0 if out[e] < 0 else out[e]


cdef void winograd_block(const fc_variant *var, const WinogradTransform *wt, long block,
                         long tb, long tiles, const floating *xp__nhwc, const floating *zeros,
                         const floating *u__xpcn, const floating *bias, bint relu,
                         floating *y__nhwk, const ConvShape *g, long tiles_h, long tiles_w,
                         floating *v__xtc, floating *m__xtk, floating *tmp,
                         long *off) noexcept nogil:
    """Tiles block*tb ... of the output, from input transform to output transform."""
    cdef int mr = tile_rows_of(var, v__xtc), nr = tile_cols_of(var, v__xtc), i
    cdef long c = g.c, panels = (g.k + nr - 1) // nr, kp = panels * nr
    cdef long t0 = block * tb, n = min(tiles - t0, tb), t, xi, pn, rt, r0, rows
    cdef floating *dst[FC_MR_MAX]
    for t in range(n):
        winograd_input_tile(wt, xp__nhwc, zeros, t0 + t, tb, t, g, tiles_h, tiles_w, v__xtc,
                            tmp)
    for xi in range(wt.alpha * wt.alpha):
        for rt in range((n + mr - 1) // mr):
            r0 = rt * mr
            rows = min(n - r0, mr)
            for i in range(mr):
                off[i] = (xi * tb + r0 + (i if i < rows else rows - 1)) * c
            for pn in range(panels):
                point_rows(dst, m__xtk + (xi * tb + r0) * kp + pn * nr, kp, rows, mr)
                microkernel(var, 1, c, v__xtc, off, 0, 1, u__xpcn + (xi * panels + pn) * c * nr,
                            0, dst, <floating *>NULL, 0)
    for t in range(n):
        winograd_output_tile(wt, m__xtk, t0 + t, tb, t, kp, bias, relu, y__nhwk, g, tiles_h,
                             tiles_w, tmp)


cdef int winograd_forward(const WinogradTransform *wt, const floating *x__nhwc,
                          const floating *w, bint flipped, const floating *bias, bint relu,
                          floating *y__nhwk, const ConvShape *g, int nthreads) noexcept nogil:
    """y for x by F(m x m, 3 x 3); w is (3, 3, C, K), or, flipped, the forward kernel
    (3, 3, K, C) of which this is the backward-data pass. 0, or -1 if out of memory."""
    cdef const fc_variant *var = active_variant
    cdef int mr = tile_rows_of(var, y__nhwk), nr = tile_cols_of(var, y__nhwk), tid = 0
    cdef int alpha = wt.alpha
    cdef long panels = (g.k + nr - 1) // nr, kp = panels * nr, c = g.c
    cdef long tiles_h = (g.oh + wt.m - 1) // wt.m, tiles_w = (g.ow + wt.m - 1) // wt.m
    cdef long tiles = g.n * tiles_h * tiles_w
    cdef long tb = min(winograd_block_tiles(wt, g), tiles)
    cdef long blocks = (tiles + tb - 1) // tb, block, ci, e
    cdef long scratch_len = max(alpha * alpha * tb * (c + kp) + alpha * alpha * max(c, kp),
                                (alpha + 1) * 3 * g.k)
    cdef floating *mine
    cdef floating *xp__nhwc = pad_input(x__nhwc, g, nthreads)
    cdef floating *u__xpcn = <floating *>fc_alloc(sizeof(floating) * alpha * alpha * c * kp)
    cdef floating *zeros = <floating *>fc_alloc(sizeof(floating) * c)
    cdef floating *wflip = <floating *>fc_alloc(sizeof(floating) * 9 * c * g.k) if flipped else NULL
    cdef floating *scratch = <floating *>fc_alloc(sizeof(floating) * nthreads * scratch_len)
    cdef long *offsets = <long *>fc_alloc(sizeof(long) * nthreads * OFFSETS_STRIDE)
    cdef bint ok = (xp__nhwc != NULL and u__xpcn != NULL and zeros != NULL and scratch != NULL
                    and offsets != NULL and (wflip != NULL or not flipped))
    if ok:
        memset(zeros, 0, sizeof(floating) * c)
        if flipped:
            # The backward-data kernel w'[r, s, k, c] = w[2-r, 2-s, c, k], laid out first.
            for e in prange(9 * c * g.k, num_threads=nthreads, schedule='static'):
                ci = e // g.k % c
                wflip[e] = w[((8 - e // (c * g.k)) * g.k + e % g.k) * c + ci]
            w = wflip
        with parallel(num_threads=nthreads):
            tid = threadid()
            for ci in prange(c, schedule='static'):
                winograd_kernel_channel(wt, w, ci, c, g.k, nr, scratch + tid * scratch_len,
                                        u__xpcn)
        with parallel(num_threads=nthreads):
            tid = threadid()
            mine = scratch + tid * scratch_len
            for block in prange(blocks, schedule='dynamic'):
                winograd_block(var, wt, block, tb, tiles, xp__nhwc, zeros, u__xpcn, bias, relu,
                               y__nhwk, g, tiles_h, tiles_w, mine,
                               mine + alpha * alpha * tb * c,
                               mine + alpha * alpha * tb * (c + kp), offsets + tid * OFFSETS_STRIDE)
    if xp__nhwc != NULL:
        free_padded(xp__nhwc, x__nhwc)
    fc_free(u__xpcn)
    fc_free(zeros)
    fc_free(wflip)
    fc_free(scratch)
    fc_free(offsets)
    return 0 if ok else -1


# Which algorithm the drivers may use: the cost model's choice, or always the direct one.
cdef enum:
    ALGORITHM_AUTO = 0
    ALGORITHM_DIRECT = 1
    ALGORITHM_WINOGRAD = 2
    # Fewer channels than this: the transforms cost more than the GEMMs save.
    WINOGRAD_MIN_CHANNELS = 16
    WINOGRAD_TRANSFORM_COST = 70

# Winograd when the model's cost is below the direct one's. Measured (one thread, batch
# 32, CPU time): at a model ratio of 0.95 (64->128 on 12x12) Winograd was faster, forward
# 5.2 against 5.9 ms and backward-input 6.2 against 6.5; at 1.09 (64->64 on 26x26,
# backward-input) once faster (22.7 against 25.0) and once slower (26.0 against 22.3); at
# 1.18 (128->128 on 10x10, backward-input) slower (11.6 against 9.2).
cdef double WINOGRAD_MAX_COST_RATIO = 1.0

cdef int conv_algorithm = ALGORITHM_AUTO


cdef inline double winograd_cost(const WinogradTransform *wt, const ConvShape *g) noexcept nogil:
    """The cost model's time of F(m x m, 3 x 3), in direct multiply-adds: each tile's
    alpha^2 products over C x K, plus its transforms and their memory traffic, counted
    as WINOGRAD_TRANSFORM_COST multiply-adds per channel of C + K (fitted to F(4x4) on
    64->64 and 128->128 layers: 78 and 64)."""
    cdef long tiles = g.n * ((g.oh + wt.m - 1) // wt.m) * ((g.ow + wt.m - 1) // wt.m)
    return <double>tiles * wt.alpha * wt.alpha * (g.c * g.k + WINOGRAD_TRANSFORM_COST * (g.c + g.k))


cdef const WinogradTransform *winograd_choice(const ConvShape *g, long direct_pixels) noexcept nogil:
    """The transform for this forward problem, or NULL (direct). For a 3x3 stride-1
    undilated ungrouped 2-D convolution, the cheaper of F(2x2) and F(4x4) by the cost
    model; under "auto" only if it beats the direct algorithm's 9 x C x K multiply-adds
    for each of `direct_pixels` (the direct pass's output pixels, or the dy pixels it
    spreads back), under "winograd" always."""
    if (conv_algorithm == ALGORITHM_DIRECT or g.kh != 3 or g.kw != 3 or g.kd != 1 or g.d != 1
            or g.sh != 1 or g.sw != 1 or g.dh != 1 or g.dw != 1 or g.groups != 1):
        return NULL
    cdef double f2 = winograd_cost(&WINOGRAD_F2, g), f4 = winograd_cost(&WINOGRAD_F4, g)
    cdef const WinogradTransform *wt = &WINOGRAD_F4 if f4 <= f2 else &WINOGRAD_F2
    cdef long tiles = g.n * ((g.oh + wt.m - 1) // wt.m) * ((g.ow + wt.m - 1) // wt.m)
    if conv_algorithm == ALGORITHM_WINOGRAD:
        return wt
    if (g.c < WINOGRAD_MIN_CHANNELS or g.k < WINOGRAD_MIN_CHANNELS
            or tiles < WINOGRAD_MIN_BLOCKS * winograd_block_tiles(wt, g)
            or min(f2, f4) > WINOGRAD_MAX_COST_RATIO * 9.0 * direct_pixels * g.c * g.k):
        return NULL
    return wt


cdef ConvShape backward_data_as_forward(const ConvShape *g) noexcept nogil:
    """The stride-1 3x3 forward problem whose output is dx: dy padded by 2 - p on each
    side, correlated with the flipped kernel (K input channels, C output channels)."""
    cdef ConvShape v = g[0]
    v.h, v.w, v.c, v.k = g.oh, g.ow, g.k, g.c
    v.oh, v.ow = g.h, g.w
    v.pt, v.pb, v.pl, v.pr = 2 - g.pt, 2 - g.pb, 2 - g.pl, 2 - g.pr
    v.cg, v.kg = v.c, v.k
    v.hp, v.wp = v.h + v.pt + v.pb, v.w + v.pl + v.pr
    return v


cdef const WinogradTransform *winograd_choice_backward_data(const ConvShape *g) noexcept nogil:
    """The transform for the backward-data pass, or NULL: as for the forward problem
    of backward_data_as_forward, which needs padding of at most 2 (fastconv.ops allows
    no more for a 3x3 window; the guard keeps a direct caller in bounds)."""
    if g.pt > 2 or g.pb > 2 or g.pl > 2 or g.pr > 2:
        return NULL
    cdef ConvShape v = backward_data_as_forward(g)
    return winograd_choice(&v, g.n * g.oh * g.ow)


cdef int winograd_backward_data(const WinogradTransform *wt, const floating *dy__nhwk,
                                const floating *mask, const floating *w,
                                floating *dx__nhwc, const ConvShape *g,
                                int nthreads) noexcept nogil:
    """dx by Winograd: the forward of backward_data_as_forward on dy (through ReLU first
    where mask, if given, is <= 0)."""
    cdef ConvShape v = backward_data_as_forward(g)
    cdef floating *dy_masked = NULL
    cdef int rc
    if mask != NULL:
        dy_masked = masked_copy(dy__nhwk, mask, g.n * g.oh, g.ow * g.k, nthreads)
        if dy_masked == NULL:
            return -1
        dy__nhwk = dy_masked
    rc = winograd_forward(wt, dy__nhwk, w, True, <floating *>NULL, False, dx__nhwc, &v,
                          nthreads)
    fc_free(dy_masked)
    return rc
