/* conv2d forward and backward drivers, instantiated for float and double by conv.h.
 *
 * Layouts (all C-contiguous, checked by fastconv.ops): x (N, H, W, C), w (KH, KW, C, K),
 * y / dy (N, OH, OW, K). Outputs never alias inputs. Every kernel is a GEMM whose A
 * operand is read in place from an NHWC image by the micro-kernel (microkernel_tpl.h):
 *   forward       y[pixel, k]      = sum_{r; s,c}  xpad[pixel + (r, s), c] * w[r, s, c, k]
 *   backward-data dx[pixel, c]     = sum_{r; s',k} dyexp[pixel + s', k] * w[r, KW-1-s', c, k]
 *   backward-wts  dw[(r,s,c), k]   = sum_{pixels}  xpad[pixel + (r, s), c] * dy[pixel, k]
 * Fusion: the forward adds the bias and may apply ReLU as it stores a tile; the backward
 * passes take an optional ReLU mask (the forward's output y: the gradient passes where
 * y > 0) and apply it while they copy dy into their packed or expanded buffers.
 * Each output element is written by one thread and summed in a fixed order; the dw/db
 * reduction runs over a fixed number of row groups (set by the shapes alone) summed in
 * group order, so results are bitwise identical for any thread count.
 *
 * Parameters (macros): FC_T (element type), FC_SFX (name suffix), FC_MR/FC_NR/FC_UKR
 * (selectors of the variant's tile sizes and micro-kernel for FC_T).
 */
#define FN(name) FC_CAT(FC_CAT(fc_, name), FC_CAT(_, FC_SFX))

/* Zero-padded copy of x as (N, H+pt+pb, W+pl+pr, C), or x itself when there is no padding. */
static FC_T *FN(pad_input)(const FC_T *x, long n, long h, long w, long c, long pt, long pb,
                           long pl, long pr, int nthreads)
{
    if (!(pt | pb | pl | pr)) return (FC_T *)x;
    long hp = h + pt + pb, wp = w + pl + pr;
    FC_T *xp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(n * hp * wp * c));
    if (!xp) return NULL;
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long row = 0; row < n * hp; row++) {
        long img = row / hp, ih = row % hp - pt;
        FC_T *dst = xp + row * wp * c;
        if (ih < 0 || ih >= h) {
            memset(dst, 0, sizeof(FC_T) * wp * c);
            continue;
        }
        memset(dst, 0, sizeof(FC_T) * pl * c);
        memcpy(dst + pl * c, x + (img * h + ih) * w * c, sizeof(FC_T) * w * c);
        memset(dst + (pl + w) * c, 0, sizeof(FC_T) * pr * c);
    }
    return xp;
}

/* dst = src where mask > 0, else 0 (the ReLU gradient); a plain copy when mask is NULL. */
static inline void FN(copy_masked)(FC_T *restrict dst, const FC_T *restrict src,
                                   const FC_T *restrict mask, long len)
{
    if (!mask) {
        memcpy(dst, src, sizeof(FC_T) * len);
        return;
    }
    /* src is loaded unconditionally: a load inside the ?: keeps GCC from vectorising. */
    const FC_T zero = 0;
    for (long i = 0; i < len; i++) {
        const FC_T v = src[i], m = mask[i];
        dst[i] = m > zero ? v : zero;
    }
}

/* Pack a row-major (rows x cols) matrix as B panels: dst[panel][row][j] = src[row][panel*nr + j]
 * (masked by mask, same layout as src, when not NULL), zero past the last column, so the
 * micro-kernel loads whole NR-wide aligned rows. */
static void FN(pack_panels)(FC_T *dst, const FC_T *src, const FC_T *mask, long rows, long cols,
                            int nr)
{
    long panels = (cols + nr - 1) / nr;
    for (long pn = 0; pn < panels; pn++) {
        long c0 = pn * nr, cn = cols - c0 < nr ? cols - c0 : nr;
        for (long r = 0; r < rows; r++) {
            FC_T *d = dst + (pn * rows + r) * nr;
            FN(copy_masked)(d, src + r * cols + c0, mask ? mask + r * cols + c0 : NULL, cn);
            for (long j = cn; j < nr; j++) d[j] = 0;
        }
    }
}

/* d += src, len elements (distinct buffers). */
static inline void FN(add_to)(FC_T *restrict d, const FC_T *restrict src, long len)
{
    for (long j = 0; j < len; j++) d[j] += src[j];
}

/* Row pointers of a tile: dst[i] = base + i*ld for i < m, NULL (dropped) for m <= i < mr. */
static inline void FN(tile_rows)(FC_T **dst, FC_T *base, long ld, long m, int mr)
{
    for (int i = 0; i < mr; i++) dst[i] = i < m ? base + i * ld : NULL;
}

/* Rows m of a finished tile into y (row stride ldy): + bias, then ReLU if asked. */
static inline void FN(store_tile)(FC_T *y, long ldy, const FC_T *ct, int nr, long m, long kn,
                                  const FC_T *bias, int relu)
{
    const FC_T zero = 0;
    for (long i = 0; i < m; i++) {
        FC_T *yrow = y + i * ldy;
        const FC_T *crow = ct + i * nr;
        if (bias)
            for (long j = 0; j < kn; j++) yrow[j] = crow[j] + bias[j];
        else
            for (long j = 0; j < kn; j++) yrow[j] = crow[j];
        /* v < 0 ? 0 : v keeps NaN, as np.maximum(z, 0) does. */
        if (relu)
            for (long j = 0; j < kn; j++) yrow[j] = yrow[j] < zero ? zero : yrow[j];
    }
}

static int FN(conv2d_forward)(const FC_T *x, long n, long h, long w, long c, const FC_T *wt,
                              long kh, long kw, long k, const FC_T *bias, int relu, FC_T *y,
                              long oh, long ow, long sh, long sw, long pt, long pb, long pl,
                              long pr, int nthreads)
{
    const fc_variant *var = fc_active_variant();
    const int mr = FC_MR(var), nr = FC_NR(var);
    const long hp = h + pt + pb, wp = w + pl + pr, kd = kh * kw * c;
    const long panels = (k + nr - 1) / nr, m_total = n * oh * ow;
    const long tiles = (m_total + mr - 1) / mr;

    FC_T *xp = FN(pad_input)(x, n, h, w, c, pt, pb, pl, pr, nthreads);
    FC_T *wf = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(panels * kd * nr));
    if (!xp || !wf) {
        if (xp != x) free(xp);
        free(wf);
        return -1;
    }
    FN(pack_panels)(wf, wt, NULL, kd, k, nr);

#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long t = 0; t < tiles; t++) {
        long off[FC_MR_MAX];
        FC_T ct[FC_MR_MAX * FC_NR_MAX] __attribute__((aligned(64)));
        const long m0 = t * mr, m = m_total - m0 < mr ? m_total - m0 : mr;
        /* Tiles run over flattened (n, oh, ow) pixels, so rows never go to waste at the
         * end of an output row; rows past the last pixel repeat it. */
        for (int i = 0; i < mr; i++) {
            long pix = m0 + (i < m ? i : m - 1);
            long img = pix / (oh * ow), rem = pix % (oh * ow);
            off[i] = ((img * hp + (rem / ow) * sh) * wp + (rem % ow) * sw) * c;
        }
        for (long pn = 0; pn < panels; pn++) {
            const long k0 = pn * nr, kn = k - k0 < nr ? k - k0 : nr;
            const FC_T *b_panel = wf + pn * kd * nr;
            FC_T *dst[FC_MR_MAX];
            if (kn == nr) { /* whole rows: straight into y, epilogue included */
                FN(tile_rows)(dst, y + m0 * k + k0, k, m, mr);
                FC_UKR(var)(kh, kw * c, xp, off, wp * c, 1, b_panel, kw * c * nr, dst,
                            bias ? bias + k0 : NULL, relu ? FC_UKR_RELU : 0);
                continue;
            }
            FN(tile_rows)(dst, ct, nr, mr, mr);
            FC_UKR(var)(kh, kw * c, xp, off, wp * c, 1, b_panel, kw * c * nr, dst, NULL, 0);
            FN(store_tile)(y + m0 * k + k0, k, ct, nr, m, kn, bias ? bias + k0 : NULL, relu);
        }
    }
    if (xp != x) free(xp);
    free(wf);
    return 0;
}

/* backward-data as a stride-1 correlation of dy with the flipped kernel: vectorised over
 * input channels, so it wants C >= NR; writes every dx element. */
static int FN(backward_data_transposed)(const fc_variant *var, const FC_T *dy,
                                        const FC_T *mask, long n, long oh, long ow, long k,
                                        const FC_T *wt, long kh, long kw, long c, FC_T *dx,
                                        long h, long w, long sh, long sw, long pt, long pl,
                                        int nthreads)
{
    const int mr = FC_MR(var), nr = FC_NR(var);
    /* dyexp: dy spread over the input's width, (N, OH, W+KW-1, K): dy pixel ox sits at
     * column (KW-1-pl) + ox*sw and every other column is zero, so each dx row is a
     * stride-1 correlation over s' with the horizontally flipped kernel. Rows are not
     * expanded: only the taps r that land on a dy row are visited. */
    const long we = w + kw - 1, lead = kw - 1 - pl;
    const long panels = (c + nr - 1) / nr, kdd = kh * kw * k;
    const long wtiles = (w + mr - 1) / mr, tiles = n * h * wtiles;

    FC_T *dyexp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(n * oh * we * k));
    FC_T *wd = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(panels * kdd * nr));
    if (!dyexp || !wd) {
        free(dyexp);
        free(wd);
        return -1;
    }
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long row = 0; row < n * oh; row++) {
        FC_T *dst = dyexp + row * we * k;
        memset(dst, 0, sizeof(FC_T) * we * k);
        for (long ox = 0; ox < ow; ox++) {
            const long at = (row * ow + ox) * k;
            FN(copy_masked)(dst + (lead + ox * sw) * k, dy + at, mask ? mask + at : NULL, k);
        }
    }
    /* wd[panel][r][s'][kk][j] = w[r][KW-1-s'][panel*nr + j][kk]: B rows for dx channels. */
    for (long pn = 0; pn < panels; pn++)
        for (long r = 0; r < kh; r++)
            for (long s2 = 0; s2 < kw; s2++)
                for (long kk = 0; kk < k; kk++) {
                    FC_T *d = wd + (((pn * kh + r) * kw + s2) * k + kk) * nr;
                    for (long j = 0; j < nr; j++) {
                        long cc = pn * nr + j;
                        d[j] = cc < c ? wt[((r * kw + (kw - 1 - s2)) * c + cc) * k + kk] : 0;
                    }
                }

#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long t = 0; t < tiles; t++) {
        long off[FC_MR_MAX];
        FC_T ct[FC_MR_MAX * FC_NR_MAX] __attribute__((aligned(64)));
        const long img = t / (h * wtiles), ih = (t / wtiles) % h, iw0 = (t % wtiles) * mr;
        const long m = w - iw0 < mr ? w - iw0 : mr;
        /* Taps r that reach this row: r = ih+pt (mod sh) with dy row (ih+pt-r)/sh in [0, OH). */
        long lo = ih + pt - (oh - 1) * sh;
        if (lo < 0) lo = 0;
        const long r_start = lo + (ih + pt - lo) % sh;
        const long r_end = ih + pt < kh - 1 ? ih + pt : kh - 1;
        const long nruns = r_start <= r_end ? (r_end - r_start) / sh + 1 : 0;
        const long oy0 = nruns ? (ih + pt - r_start) / sh : 0;
        const FC_T *a = dyexp + ((img * oh + oy0) * we + iw0) * k;
        for (int i = 0; i < mr; i++) off[i] = (i < m ? i : m - 1) * k;
        for (long pn = 0; pn < panels; pn++) {
            const long c0 = pn * nr, cn = c - c0 < nr ? c - c0 : nr;
            FC_T *dx_tile = dx + ((img * h + ih) * w + iw0) * c + c0;
            FC_T *dst[FC_MR_MAX];
            if (cn == nr) FN(tile_rows)(dst, dx_tile, c, m, mr);
            else FN(tile_rows)(dst, ct, nr, mr, mr);
            /* Successive taps r += sh meet dy rows one above: a_run is one row back. */
            FC_UKR(var)(nruns, kw * k, a, off, -we * k, 1,
                        wd + pn * kdd * nr + r_start * kw * k * nr, sh * kw * k * nr, dst,
                        NULL, 0);
            if (cn < nr) FN(store_tile)(dx_tile, c, ct, nr, m, cn, NULL, 0);
        }
    }
    free(dyexp);
    free(wd);
    return 0;
}

/* backward-data as dcols = dy . W^T (vectorised over (r, s, c)) scattered back into dx
 * (col2im): suits small C and strided convolutions. One thread owns a whole image, so the
 * scatter has no races and a fixed order; it zeroes its image of dx first. */
static int FN(backward_data_col2im)(const fc_variant *var, const FC_T *dy, const FC_T *mask,
                                    long n, long oh, long ow, long k, const FC_T *wt, long kh,
                                    long kw, long c, FC_T *dx, long h, long w, long sh,
                                    long sw, long pt, long pl, int nthreads)
{
    const int mr = FC_MR(var), nr = FC_NR(var);
    const long kd = kh * kw * c, panels = (kd + nr - 1) / nr, pixels = oh * ow;
    FC_T *wtp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(panels * k * nr));
    long *tap = (long *)fc_alloc(sizeof(long) * (size_t)(3 * kd)); /* q -> (r, s, c) */
    /* The micro-kernel reads dy in place: a masked dy must exist as a whole first. */
    FC_T *dym = mask ? (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(n * pixels * k)) : NULL;
    if (!wtp || !tap || (mask && !dym)) {
        free(wtp);
        free(tap);
        free(dym);
        return -1;
    }
    for (long q = 0; q < kd; q++) {
        tap[3 * q] = q / (kw * c);
        tap[3 * q + 1] = (q / c) % kw;
        tap[3 * q + 2] = q % c;
    }
    if (mask) {
#pragma omp parallel for num_threads(nthreads) schedule(static)
        for (long row = 0; row < n * oh; row++)
            FN(copy_masked)(dym + row * ow * k, dy + row * ow * k, mask + row * ow * k, ow * k);
        dy = dym;
    }
    /* wtp[panel][kk][j] = w[(r,s,c) = panel*nr + j][kk]: W^T packed as B panels. */
    for (long pn = 0; pn < panels; pn++)
        for (long kk = 0; kk < k; kk++)
            for (long j = 0; j < nr; j++) {
                long q = pn * nr + j;
                wtp[(pn * k + kk) * nr + j] = q < kd ? wt[q * k + kk] : 0;
            }
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long img = 0; img < n; img++) {
        long off[FC_MR_MAX];
        FC_T ct[FC_MR_MAX * FC_NR_MAX] __attribute__((aligned(64)));
        FC_T *dximg = dx + img * h * w * c;
        memset(dximg, 0, sizeof(FC_T) * h * w * c);
        for (long m0 = 0; m0 < pixels; m0 += mr) {
            const long m = pixels - m0 < mr ? pixels - m0 : mr;
            long iy0[FC_MR_MAX], ix0[FC_MR_MAX]; /* each dy pixel's window corner in x */
            for (int i = 0; i < mr; i++) {
                off[i] = (img * pixels + m0 + (i < m ? i : m - 1)) * k;
                iy0[i] = (m0 + i) / ow * sh - pt;
                ix0[i] = (m0 + i) % ow * sw - pl;
            }
            for (long pn = 0; pn < panels; pn++) {
                FC_T *dst[FC_MR_MAX];
                if (c % nr == 0) {
                    /* The panel is one tap (r, s) and nr whole channels: the micro-kernel
                     * adds each row straight into its dx pixel (NULL: outside the image). */
                    const long q0 = pn * nr, r = tap[3 * q0], s = tap[3 * q0 + 1];
                    for (int i = 0; i < mr; i++) {
                        const long iy = iy0[i] + r, ix = ix0[i] + s;
                        const int inside = i < m && iy >= 0 && iy < h && ix >= 0 && ix < w;
                        dst[i] = inside ? dximg + (iy * w + ix) * c + tap[3 * q0 + 2] : NULL;
                    }
                    FC_UKR(var)(1, k, dy, off, 0, 1, wtp + pn * k * nr, 0, dst, NULL,
                                FC_UKR_ACCUMULATE);
                    continue;
                }
                FN(tile_rows)(dst, ct, nr, mr, mr);
                FC_UKR(var)(1, k, dy, off, 0, 1, wtp + pn * k * nr, 0, dst, NULL, 0);
                /* Scatter the tile's columns q = (r, s, c) back into dx, one run of
                 * consecutive channels (one tap) at a time: contiguous vector adds. */
                const long q_end = pn * nr + (kd - pn * nr < nr ? kd - pn * nr : nr);
                for (long q = pn * nr; q < q_end;) {
                    const long r = tap[3 * q], s = tap[3 * q + 1], c0 = tap[3 * q + 2];
                    const long len = c - c0 < q_end - q ? c - c0 : q_end - q;
                    for (long i = 0; i < m; i++) {
                        const long iy = iy0[i] + r, ix = ix0[i] + s;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                            FN(add_to)(dximg + (iy * w + ix) * c + c0,
                                       ct + i * nr + q - pn * nr, len);
                    }
                    q += len;
                }
            }
        }
    }
    free(wtp);
    free(tap);
    free(dym);
    return 0;
}

/* dx for dy. The transposed form multiplies the zeros beside each dy row (its useful
 * fraction is OW/W at stride 1), col2im wastes nothing but runs shorter sums (K = dy's
 * channels) and scatters: measured on mnist-c2 (OW/W = 8/12) col2im took 10.5 ms against
 * 12.5, on resnet-3x3 (OW/W = 1) 86 against 83. Small C also goes to col2im (the transposed
 * form's lanes run over C), and horizontal strides (the transposed form would multiply
 * zeros between dy pixels). */
static int FN(conv2d_backward_data)(const FC_T *dy, const FC_T *mask, long n, long oh,
                                    long ow, long k, const FC_T *wt, long kh, long kw, long c,
                                    FC_T *dx, long h, long w, long sh, long sw, long pt,
                                    long pl, int nthreads)
{
    const fc_variant *var = fc_active_variant();
    if (c < FC_NR(var) || sw > 1 || 10 * ow < 9 * w)
        return FN(backward_data_col2im)(var, dy, mask, n, oh, ow, k, wt, kh, kw, c, dx, h, w,
                                        sh, sw, pt, pl, nthreads);
    return FN(backward_data_transposed)(var, dy, mask, n, oh, ow, k, wt, kh, kw, c, dx, h, w,
                                        sh, sw, pt, pl, nthreads);
}

static int FN(conv2d_backward_weights)(const FC_T *dy, const FC_T *mask, const FC_T *x, long n,
                                       long h, long w, long c, long kh, long kw, long k,
                                       long oh, long ow, long sh, long sw, long pt, long pb,
                                       long pl, long pr, FC_T *dw, FC_T *db, int nthreads)
{
    const fc_variant *var = fc_active_variant();
    const int mr = FC_MR(var), nr = FC_NR(var);
    const long hp = h + pt + pb, wp = w + pl + pr, kd = kh * kw * c;
    const long panels = (k + nr - 1) / nr, rows_total = n * oh;
    const long groups = fc_dw_groups(rows_total, kd * k);
    const long block_rows = FC_DW_BLOCK_PIXELS / ow > 0 ? FC_DW_BLOCK_PIXELS / ow : 1;
    const long part_len = kd * k + k; /* dw partial, then db partial */
    const long dyp_len = panels * block_rows * ow * nr;

    FC_T *xp = FN(pad_input)(x, n, h, w, c, pt, pb, pl, pr, nthreads);
    FC_T *partials = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(groups * part_len));
    FC_T *dyp = (FC_T *)fc_alloc(sizeof(FC_T) * (size_t)(groups * dyp_len));
    long *off_kd = (long *)fc_alloc(sizeof(long) * (size_t)kd);
    if (!xp || !partials || !dyp || !off_kd) {
        if (xp != x) free(xp);
        free(partials);
        free(dyp);
        free(off_kd);
        return -1;
    }
    for (long r = 0; r < kh; r++)
        for (long s = 0; s < kw; s++)
            for (long cc = 0; cc < c; cc++) off_kd[(r * kw + s) * c + cc] = (r * wp + s) * c + cc;

#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long g = 0; g < groups; g++) {
        long off[FC_MR_MAX];
        FC_T ct[FC_MR_MAX * FC_NR_MAX] __attribute__((aligned(64)));
        FC_T *part = partials + g * part_len, *pdb = part + kd * k;
        FC_T *bpack = dyp + g * dyp_len;
        memset(part, 0, sizeof(FC_T) * part_len);
        const long r1 = (g + 1) * rows_total / groups;
        for (long row = g * rows_total / groups; row < r1;) {
            /* A block: consecutive output rows of one image, at most block_rows of them. */
            const long img = row / oh, oy = row % oh;
            long nrows = r1 - row;
            if (nrows > oh - oy) nrows = oh - oy;
            if (nrows > block_rows) nrows = block_rows;
            const long pixels = nrows * ow;
            FN(pack_panels)(bpack, dy + row * ow * k, mask ? mask + row * ow * k : NULL, pixels,
                            k, nr);
            /* db from the packed (masked) dy: panel by panel, pixel by pixel. */
            for (long pn = 0; pn < panels; pn++) {
                const long k0 = pn * nr, kn = k - k0 < nr ? k - k0 : nr;
                for (long p = 0; p < pixels; p++) {
                    const FC_T *d = bpack + (pn * pixels + p) * nr;
                    for (long j = 0; j < kn; j++) pdb[k0 + j] += d[j];
                }
            }
            const FC_T *a = xp + (img * hp + oy * sh) * wp * c;
            for (long kd0 = 0; kd0 < kd; kd0 += mr) {
                const long m = kd - kd0 < mr ? kd - kd0 : mr;
                for (int i = 0; i < mr; i++) off[i] = off_kd[kd0 + (i < m ? i : m - 1)];
                for (long pn = 0; pn < panels; pn++) {
                    const long k0 = pn * nr, kn = k - k0 < nr ? k - k0 : nr;
                    FC_T *dst[FC_MR_MAX];
                    if (kn == nr) { /* whole rows: added straight into the partial */
                        FN(tile_rows)(dst, part + kd0 * k + k0, k, m, mr);
                        FC_UKR(var)(nrows, ow, a, off, sh * wp * c, sw * c,
                                    bpack + pn * pixels * nr, ow * nr, dst, NULL,
                                    FC_UKR_ACCUMULATE);
                        continue;
                    }
                    FN(tile_rows)(dst, ct, nr, mr, mr);
                    FC_UKR(var)(nrows, ow, a, off, sh * wp * c, sw * c, bpack + pn * pixels * nr,
                                ow * nr, dst, NULL, 0);
                    for (long i = 0; i < m; i++) {
                        FC_T *prow = part + (kd0 + i) * k + k0;
                        for (long j = 0; j < kn; j++) prow[j] += ct[i * nr + j];
                    }
                }
            }
            row += nrows;
        }
    }
    /* Sum the group partials in group order: the same additions for any thread count. */
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (long e = 0; e < part_len; e++) {
        FC_T s = 0;
        for (long g = 0; g < groups; g++) s += partials[g * part_len + e];
        if (e < kd * k) dw[e] = s;
        else db[e - kd * k] = s;
    }
    if (xp != x) free(xp);
    free(partials);
    free(dyp);
    free(off_kd);
    return 0;
}

#undef FN
