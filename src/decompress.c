/* The decompression engine behind the compressed wrappers (decompress.h):
 * one small adapter per library, one bounded loop for all of them.
 *
 * Why these libraries: they are the ones CPython's gzip/zlib, bz2 and lzma
 * modules and the lz4 package link, so a stream they accept is exactly a
 * stream the loaders accept.  Their counters are 32-bit (zlib, bzip2), so
 * every call is fed at most 1 GiB in and out. */
#include "decompress.h"

#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK (1u << 30)
#define FIRST_CAP (64u << 10)
#define MAX_FIRST_CAP (16u << 20)

enum { S_MORE, S_END, S_BAD, S_NOMEM, S_MEMLIMIT };

typedef struct stream {
    pj_codec codec;
    union {
        z_stream z;
        bz_stream bz;
        lzma_stream xz;
        LZ4F_dctx *lz4;
    } u;
} stream;

static int s_init(stream *s, pj_codec codec)
{
    memset(s, 0, sizeof *s);
    s->codec = codec;
    switch (codec) {
    case PJ_CODEC_ZLIB:
    case PJ_CODEC_GZIP:
        /* 15: zlib header; 31: one gzip member (what joblib's BinaryGzipFile
         * and Python's gzip each decode per member) */
        return inflateInit2(&s->u.z, codec == PJ_CODEC_ZLIB ? 15 : 31) == Z_OK ? S_MORE
                                                                              : S_NOMEM;
    case PJ_CODEC_BZIP2:
        return BZ2_bzDecompressInit(&s->u.bz, 0, 0) == BZ_OK ? S_MORE : S_NOMEM;
    case PJ_CODEC_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        s->u.xz = init;
        lzma_ret r = lzma_auto_decoder(&s->u.xz, PJ_LZMA_MEMLIMIT, 0);
        return r == LZMA_OK ? S_MORE : r == LZMA_MEM_ERROR ? S_NOMEM : S_BAD;
    }
    case PJ_CODEC_LZ4:
        return LZ4F_isError(LZ4F_createDecompressionContext(&s->u.lz4, LZ4F_VERSION)) ? S_NOMEM
                                                                                     : S_MORE;
    }
    return S_BAD;
}

static void s_end(stream *s)
{
    switch (s->codec) {
    case PJ_CODEC_ZLIB:
    case PJ_CODEC_GZIP: inflateEnd(&s->u.z); break;
    case PJ_CODEC_BZIP2: BZ2_bzDecompressEnd(&s->u.bz); break;
    case PJ_CODEC_XZ: lzma_end(&s->u.xz); break;
    case PJ_CODEC_LZ4: LZ4F_freeDecompressionContext(s->u.lz4); break;
    }
}

static int run_zlib(z_stream *z, const uint8_t **in, size_t *il, uint8_t **out, size_t *ol)
{
    z->next_in = (Bytef *)(uintptr_t)*in;
    z->avail_in = (uInt)*il;
    z->next_out = *out;
    z->avail_out = (uInt)*ol;
    int r = inflate(z, Z_NO_FLUSH);
    *in = z->next_in;
    *il = z->avail_in;
    *out = z->next_out;
    *ol = z->avail_out;
    switch (r) {
    case Z_STREAM_END: return S_END;
    case Z_OK:
    case Z_BUF_ERROR: return S_MORE;
    case Z_MEM_ERROR: return S_NOMEM;
    default: return S_BAD;
    }
}

static int run_bz2(bz_stream *b, const uint8_t **in, size_t *il, uint8_t **out, size_t *ol)
{
    b->next_in = (char *)(uintptr_t)*in;
    b->avail_in = (unsigned)*il;
    b->next_out = (char *)*out;
    b->avail_out = (unsigned)*ol;
    int r = BZ2_bzDecompress(b);
    *in = (const uint8_t *)b->next_in;
    *il = b->avail_in;
    *out = (uint8_t *)b->next_out;
    *ol = b->avail_out;
    switch (r) {
    case BZ_STREAM_END: return S_END;
    case BZ_OK: return S_MORE;
    case BZ_MEM_ERROR: return S_NOMEM;
    default: return S_BAD;
    }
}

static int run_xz(lzma_stream *x, const uint8_t **in, size_t *il, uint8_t **out, size_t *ol)
{
    x->next_in = *in;
    x->avail_in = *il;
    x->next_out = *out;
    x->avail_out = *ol;
    lzma_ret r = lzma_code(x, LZMA_RUN);
    *in = x->next_in;
    *il = x->avail_in;
    *out = x->next_out;
    *ol = x->avail_out;
    switch (r) {
    case LZMA_STREAM_END: return S_END;
    case LZMA_OK:
    case LZMA_BUF_ERROR: return S_MORE;
    case LZMA_MEM_ERROR: return S_NOMEM;
    case LZMA_MEMLIMIT_ERROR: return S_MEMLIMIT;
    default: return S_BAD;
    }
}

static int run_lz4(LZ4F_dctx *d, const uint8_t **in, size_t *il, uint8_t **out, size_t *ol)
{
    size_t src = *il, dst = *ol;
    size_t hint = LZ4F_decompress(d, *out, &dst, *in, &src, NULL);
    if (LZ4F_isError(hint))
        return S_BAD;
    *in += src;
    *il -= src;
    *out += dst;
    *ol -= dst;
    return hint == 0 ? S_END : S_MORE;
}

/* Take what fits from in and give what comes out; at most CHUNK each way. */
static int s_run(stream *s, const uint8_t **in, size_t *il, uint8_t **out, size_t *ol)
{
    size_t ci = *il > CHUNK ? CHUNK : *il, co = *ol > CHUNK ? CHUNK : *ol;
    size_t ri = *il - ci, ro = *ol - co;
    int r;
    switch (s->codec) {
    case PJ_CODEC_ZLIB:
    case PJ_CODEC_GZIP: r = run_zlib(&s->u.z, in, &ci, out, &co); break;
    case PJ_CODEC_BZIP2: r = run_bz2(&s->u.bz, in, &ci, out, &co); break;
    case PJ_CODEC_XZ: r = run_xz(&s->u.xz, in, &ci, out, &co); break;
    default: r = run_lz4(s->u.lz4, in, &ci, out, &co); break;
    }
    *il = ci + ri;
    *ol = co + ro;
    return r;
}

/* ---- the bounded loop ----------------------------------------------------- */

typedef struct sink {
    pj_unpacked *r;
    size_t cap;
    uint64_t max_out;
} sink;

/* Room for more output: grow by doubling, never past max_out.  0 when
 * there is room; 1 when max_out is reached; PJ_E_NOMEM. */
static int make_room(sink *k)
{
    if (k->r->len < k->cap)
        return 0;
    if (k->cap >= k->max_out)
        return 1;
    uint64_t ncap = (uint64_t)k->cap * 2;
    if (ncap > k->max_out)
        ncap = k->max_out;
    if (ncap > SIZE_MAX)
        return 1;
    uint8_t *p = realloc(k->r->data, (size_t)ncap);
    if (!p)
        return PJ_E_NOMEM;
    k->r->data = p;
    k->cap = (size_t)ncap;
    return 0;
}

/* One stream from in[*off]: its status, *made bytes produced. */
static int one_stream(sink *k, pj_codec codec, const uint8_t *in, size_t len, size_t *off,
                      size_t *made, int *full)
{
    stream s;
    int st = s_init(&s, codec);
    size_t start_len = k->r->len;
    *full = 0;
    while (st == S_MORE) {
        int room = make_room(k);
        if (room < 0) {
            st = S_NOMEM;
            break;
        }
        uint8_t spare;
        const uint8_t *ip = in + *off;
        size_t il = len - *off, ol = room ? 1 : k->cap - k->r->len;
        uint8_t *op = room ? &spare : k->r->data + k->r->len, *o0 = op;
        st = s_run(&s, &ip, &il, &op, &ol);
        size_t took = (size_t)(ip - (in + *off)), gave = (size_t)(op - o0);
        *off += took;
        if (room && gave) {
            *full = 1; /* one byte more than max_out: a bomb or a lie */
            break;
        }
        k->r->len += gave;
        if (st == S_MORE && !took && !gave)
            break; /* no progress: the input ended inside the stream */
    }
    s_end(&s); /* each library accepts the end of a failed init */
    *made = k->r->len - start_len;
    return st;
}

int pj_decompress(pj_codec codec, const uint8_t *in, size_t len, uint64_t max_out, int multi,
                  pj_unpacked *r, pj_error *err)
{
    memset(r, 0, sizeof *r);
    sink k = {.r = r, .max_out = max_out};
    /* a guess from the input's size, bounded: the buffer doubles anyway */
    uint64_t want = len > MAX_FIRST_CAP / 4 ? MAX_FIRST_CAP : len * 4;
    if (want < FIRST_CAP)
        want = FIRST_CAP;
    k.cap = (size_t)(want < max_out ? want : max_out);
    if (!(r->data = malloc(k.cap ? k.cap : 1)))
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    size_t off = 0;
    while (off < len && (multi || r->streams == 0)) {
        size_t start = off, made;
        int full;
        int st = one_stream(&k, codec, in, len, &off, &made, &full);
        if (st == S_NOMEM) {
            free(r->data);
            r->data = NULL;
            return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
        }
        if (st == S_END && !full) {
            r->streams++;
            continue;
        }
        if (r->streams && !made && !full) {
            off = start; /* not another stream: trailing bytes, as Python's readers see them */
            break;
        }
        /* one reason only: past the cap nothing more was looked at, even
         * when the call that hit it also saw a bad trailer */
        r->limit = full;
        r->memlimit = !full && st == S_MEMLIMIT;
        r->corrupt = !full && st == S_BAD;
        r->truncated = !full && st == S_MORE;
        break;
    }
    r->consumed = off;
    return 0;
}

/* ---- joblib's "ZF" header ------------------------------------------------- */

int pj_zfile_header(const uint8_t *buf, size_t len, size_t *data, uint64_t *declared,
                    const char **why)
{
    /* "ZF" and 19 bytes: len(hex(2**64)) in read_zfile */
    enum { FIELD = 19, HEAD = 2 + FIELD };
    *data = len < HEAD ? len : HEAD;
    *declared = 0;
    if (len < HEAD) {
        *why = "the header is cut short";
        return -1;
    }
    if (len > HEAD && buf[HEAD] == ' ')
        *data = HEAD + 1; /* joblib <= 0.8.4 wrote one more space */
    const uint8_t *f = buf + 2;
    if (f[0] != '0' || f[1] != 'x') {
        *why = "the length is not written as 0x...";
        return -1;
    }
    size_t i = 2;
    uint64_t v = 0;
    for (; i < FIELD && f[i] != ' '; i++) {
        int d = f[i] >= '0' && f[i] <= '9' ? f[i] - '0' : f[i] >= 'a' && f[i] <= 'f' ? f[i] - 'a' + 10
                                                                                   : -1;
        if (d < 0 || v > (UINT64_MAX >> 4)) {
            *why = d < 0 ? "the length holds a byte hex() never writes" : "the length overflows";
            return -1;
        }
        v = v << 4 | (uint64_t)d;
    }
    if (i == 2 || (f[2] == '0' && i > 3)) {
        *why = "the length is not what hex() writes";
        return -1;
    }
    for (; i < FIELD; i++)
        if (f[i] != ' ') {
            *why = "the length field is not padded with spaces";
            return -1;
        }
    *declared = v;
    return 0;
}
