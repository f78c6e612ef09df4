# Helpers shared by the conv2d drivers (included by _conv.pyx): padding, packing of B
# panels, the ReLU-masked copy of dy, and a tile's row pointers and epilogue.
# Pointer names carry their layout: x__nhwc, w__hwck, pack__pkn (panel, row, lane).

from cython.parallel cimport prange
from libc.string cimport memcpy, memset



cdef floating *pad_input(const floating *x__nhwc, long n, long h, long w, long c, long pt,
                         long pb, long pl, long pr, int nthreads) noexcept nogil:
    """Zero-padded copy of x as (N, H+pt+pb, W+pl+pr, C); x itself when there is no
    padding; NULL if the copy cannot be allocated."""
    if not (pt | pb | pl | pr):
        return <floating *>x__nhwc
    cdef long hp = h + pt + pb, wp = w + pl + pr, row, ih
    cdef floating *xp__nhwc = <floating *>fc_alloc(sizeof(floating) * n * hp * wp * c)
    cdef floating *dst
    if xp__nhwc == NULL:
        return NULL
    for row in prange(n * hp, num_threads=nthreads, schedule='static'):
        ih = row % hp - pt
        dst = xp__nhwc + row * wp * c
        if ih < 0 or ih >= h:
            memset(dst, 0, sizeof(floating) * wp * c)
        else:
            memset(dst, 0, sizeof(floating) * pl * c)
            memcpy(dst + pl * c, x__nhwc + ((row // hp) * h + ih) * w * c,
                   sizeof(floating) * w * c)
            memset(dst + (pl + w) * c, 0, sizeof(floating) * pr * c)
    return xp__nhwc


cdef inline void free_padded(floating *xp, const floating *x) noexcept nogil:
    """Free a pad_input result unless it is x itself."""
    if xp != x:
        fc_free(xp)


cdef void pack_panels(floating *pack__pkn, const floating *src, const floating *mask,
                      long rows, long cols, int nr) noexcept nogil:
    """Pack a row-major (rows x cols) matrix as B panels:
    pack[panel][row][j] = src[row][panel*nr + j] (masked by mask, src's layout, unless
    NULL), zero past the last column, so the micro-kernel loads whole NR-wide rows."""
    cdef long panels = (cols + nr - 1) // nr, pn, r, c0, cn, j
    cdef floating *d
    for pn in range(panels):
        c0 = pn * nr
        cn = min(cols - c0, nr)
        for r in range(rows):
            d = pack__pkn + (pn * rows + r) * nr
            copy_masked(d, src + r * cols + c0, NULL if mask == NULL else mask + r * cols + c0,
                        cn)
            for j in range(cn, nr):
                d[j] = 0


cdef inline void point_rows(floating **dst, floating *base, long ld, long m,
                            int mr) noexcept nogil:
    """A tile's row pointers: dst[i] = base + i*ld for i < m, NULL (dropped) up to mr."""
    cdef int i
    for i in range(m):
        dst[i] = base + i * ld
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


cdef struct TileScratch:
    # Per-thread scratch of the tile loops, allocated once per call before the parallel
    # region and indexed by threadid(): row offsets and a tile buffer for partial tiles.
    long *offsets       # nthreads x FC_MR_MAX
    void *tiles         # nthreads x FC_MR_MAX x FC_NR_MAX elements, 64-byte aligned


cdef inline bint alloc_tile_scratch(TileScratch *s, int nthreads, size_t itemsize) noexcept nogil:
    s.offsets = <long *>fc_alloc(sizeof(long) * FC_MR_MAX * nthreads)
    s.tiles = fc_alloc(itemsize * FC_MR_MAX * FC_NR_MAX * nthreads)
    return s.offsets != NULL and s.tiles != NULL


cdef inline void free_tile_scratch(TileScratch *s) noexcept nogil:
    fc_free(s.offsets)
    fc_free(s.tiles)
