# Helpers shared by the conv2d drivers (included by _conv.pyx): the call's geometry,
# padding, window corners, masked copies of dy, packing of B panels, and a tile's row
# pointers and epilogue.
# Pointer names carry their layout: x__ndhwc, w__dhwck, pack__pkn (panel, row, lane).

from cython.parallel cimport prange
from libc.string cimport memcpy, memset



cdef struct ConvShape:
    # One convolution, as fastconv.ops validated it; a 2-D one has d = kd = od = 1.
    long n, d, h, w, c, kd, kh, kw, k, od, oh, ow
    long sd, sh, sw, dd, dh, dw    # strides, dilation
    long pf, pk, pt, pb, pl, pr    # padding: front/back (depth), top/bottom, left/right
    long groups, cg, kg            # groups; input and output channels per group
    long dp, hp, wp                # the padded input's depth, height and width


cdef floating *pad_input(const floating *x__ndhwc, const ConvShape *g,
                         int nthreads) noexcept nogil:
    """Zero-padded copy of x as (N, DP, HP, WP, C); x itself when there is no padding;
    NULL if the copy cannot be allocated."""
    if not (g.pf | g.pk | g.pt | g.pb | g.pl | g.pr):
        return <floating *>x__ndhwc
    cdef long row, plane, iz, ih, c = g.c
    cdef floating *xp__ndhwc = <floating *>fc_alloc(
        sizeof(floating) * g.n * g.dp * g.hp * g.wp * c)
    cdef floating *dst
    if xp__ndhwc == NULL:
        return NULL
    for row in prange(g.n * g.dp * g.hp, num_threads=nthreads, schedule='static'):
        plane = row // g.hp
        iz = plane % g.dp - g.pf
        ih = row % g.hp - g.pt
        dst = xp__ndhwc + row * g.wp * c
        if iz < 0 or iz >= g.d or ih < 0 or ih >= g.h:
            memset(dst, 0, sizeof(floating) * g.wp * c)
        else:
            memset(dst, 0, sizeof(floating) * g.pl * c)
            memcpy(dst + g.pl * c, x__ndhwc + (((plane // g.dp) * g.d + iz) * g.h + ih) * g.w * c,
                   sizeof(floating) * g.w * c)
            memset(dst + (g.pl + g.w) * c, 0, sizeof(floating) * g.pr * c)
    return xp__ndhwc


cdef inline void free_padded(floating *xp, const floating *x) noexcept nogil:
    """Free a pad_input result unless it is x itself."""
    if xp != x:
        fc_free(xp)


cdef void pack_panels(floating *pack__pkn, const floating *src, const floating *mask,
                      long rows, long cols, long ld, int nr) noexcept nogil:
    """Pack a (rows x cols) matrix of row stride ld as B panels:
    pack[panel][row][j] = src[row*ld + panel*nr + j] (masked by mask, src's layout, unless
    NULL), zero past the last column, so the micro-kernel loads whole NR-wide rows."""
    cdef long panels = (cols + nr - 1) // nr, pn, r, c0, cn, j
    cdef floating *d
    for pn in range(panels):
        c0 = pn * nr
        cn = min(cols - c0, nr)
        for r in range(rows):
            d = pack__pkn + (pn * rows + r) * nr
            copy_masked(d, src + r * ld + c0, NULL if mask == NULL else mask + r * ld + c0, cn)
            for j in range(cn, nr):
                d[j] = 0


cdef inline long pixel_position(long p, const ConvShape *g, long *oz, long *oy,
                                long *ox) noexcept nogil:
    """Output pixel p of N*OD*OH*OW as (image, returned; oz, oy, ox). Two divisions, the
    remainders by multiplication, and none by a depth of 1: the five of `%` and `//`
    were a sixth of the forward driver's time on one-channel layers."""
    cdef long rows = p // g.ow, plane = rows // g.oh, img = plane
    ox[0] = p - rows * g.ow
    oy[0] = rows - plane * g.oh
    oz[0] = 0
    if g.od != 1:
        img = plane // g.od
        oz[0] = plane - img * g.od
    return img


cdef inline void window_corners(long *out, long p0, long count,
                                const ConvShape *g) noexcept nogil:
    """out[i]: the padded input's offset of the window corner of output pixel p0 + i (of
    N*OD*OH*OW), walking the pixels in (n, od, oh, ow) order: divisions once, not per
    pixel. The shape's fields are read into locals once: through g they would be reloaded
    after every store into out (long, like them), a third of the forward's driver
    instructions on small layers."""
    cdef long ow = g.ow, oh = g.oh, od = g.od, step = g.sw * g.c, i, ox, oy, oz
    cdef long img = pixel_position(p0, g, &oz, &oy, &ox)
    cdef long offset = corner_offset(g, img, oz, oy) + ox * step
    for i in range(count):
        out[i] = offset
        ox = ox + 1
        offset = offset + step
        if ox == ow:
            ox = 0
            oy = oy + 1
            if oy == oh:
                oy = 0
                oz = oz + 1
                if oz == od:
                    oz = 0
                    img = img + 1
            offset = corner_offset(g, img, oz, oy)


cdef inline long corner_offset(const ConvShape *g, long img, long oz, long oy) noexcept nogil:
    """The padded input's offset of the window corner of output pixel (img, oz, oy, 0)."""
    return (((img * g.dp + oz * g.sd) * g.hp + oy * g.sh) * g.wp) * g.c


cdef floating *masked_copy(const floating *dy, const floating *mask, long rows, long row_len,
                           int nthreads) noexcept nogil:
    """dy taken through ReLU (kept where mask > 0) as a new array, for kernels that read dy
    in place; NULL if it cannot be allocated."""
    cdef long row
    cdef floating *out = <floating *>fc_alloc(sizeof(floating) * rows * row_len)
    if out != NULL:
        for row in prange(rows, num_threads=nthreads, schedule='static'):
            copy_masked(out + row * row_len, dy + row * row_len, mask + row * row_len,
                        row_len)
    return out


cdef inline void point_rows(floating **dst, floating *base, long ld, long m,
                            int mr) noexcept nogil:
    """A tile's row pointers: dst[i] = base + i*ld for i < m, NULL (dropped) up to mr."""
    cdef int i
    for i in range(m):
        dst[i] = base
        base = base + ld
    for i in range(m, mr):
        dst[i] = NULL


cdef inline void store_tile(floating *y, long ldy, const floating *tile, int nr, long m,
                            long kn, const floating *bias, bint relu) noexcept nogil:
    """The first m rows and kn columns of a finished tile into y (row stride ldy), plus
    bias, then ReLU if asked (v < 0 ? 0 : v keeps NaN, as np.maximum(z, 0) does)."""
    cdef long i, j
    cdef floating *yrow
    cdef const floating *trow
    for i in range(m):
        yrow = y + i * ldy
        trow = tile + i * nr
        if bias != NULL:
            for j in range(kn):
                yrow[j] = trow[j] + bias[j]
        else:
            for j in range(kn):
                yrow[j] = trow[j]
        if relu:
            for j in range(kn):
                yrow[j] = 0 if yrow[j] < 0 else yrow[j]


cdef enum:
    # Longs between two threads' row offsets: FC_MR_MAX rounded up to whole 64-byte cache
    # lines. At 12 longs (96 bytes) apart, two threads wrote one shared cache line on
    # every tile (0.1.0's C drivers kept the offsets on each thread's stack).
    OFFSETS_STRIDE = (FC_MR_MAX + 7) // 8 * 8


cdef struct TileScratch:
    # Per-thread scratch of the tile loops, allocated once per call before the parallel
    # region and indexed by threadid(): row offsets and a tile buffer for partial tiles.
    long *offsets       # nthreads x OFFSETS_STRIDE
    void *tiles         # nthreads x FC_MR_MAX x FC_NR_MAX elements, 64-byte aligned


cdef inline bint alloc_tile_scratch(TileScratch *s, int nthreads, size_t itemsize) noexcept nogil:
    s.offsets = <long *>fc_alloc(sizeof(long) * OFFSETS_STRIDE * nthreads)
    s.tiles = fc_alloc(itemsize * FC_MR_MAX * FC_NR_MAX * nthreads)
    return s.offsets != NULL and s.tiles != NULL


cdef inline void free_tile_scratch(TileScratch *s) noexcept nogil:
    fc_free(s.offsets)
    fc_free(s.tiles)
