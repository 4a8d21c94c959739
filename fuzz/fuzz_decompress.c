/* Fuzz target: the decompression wrappers — zlib, gzip, bzip2, xz/lzma and
 * lz4 streams as joblib and the compressed-file readers hand them to
 * pj_decompress, with its output bound and concatenated streams — and
 * joblib's old "ZF" header.
 *
 * Input: one options byte, then the compressed bytes.
 *   bits 0-2  the codec: 1 zlib, 2 gzip, 3 bzip2, 4 xz, 5 lz4 (0, 6, 7:
 *             zlib, gzip, bzip2 again, so every value means something)
 *   bit  3    follow concatenated streams (multi)
 *   bits 4-7  unused
 *
 * The libraries are well fuzzed on their own; what is ours is the bounded
 * loop around them (doubling buffer, output cap, stream boundaries,
 * trailing bytes) and the status it reports.  Invariants (a trap):
 *   - pj_decompress fails only for lack of memory; on success the output
 *     is at most the cap, exactly the cap when `limit` says the cap was hit,
 *     and at most one of truncated/corrupt/limit/memlimit is set;
 *   - it consumed no more than the input, and a single-stream call decoded
 *     at most one stream;
 *   - with a smaller cap the output is a prefix of the larger cap's output
 *     (the cap cuts, it never changes what was produced), and all of it
 *     unless the cap was hit or both runs found the stream corrupt;
 *   - the ZF header parser puts the stream inside the input. */
#include <stdlib.h>
#include <string.h>

#include "decompress.h"
#include "fuzz_common.h"

/* An output cap small enough that bombs stop at once under ASan. */
#define CAP (UINT64_C(1) << 20)

static const pj_codec codecs[8] = {
    PJ_CODEC_ZLIB, PJ_CODEC_ZLIB, PJ_CODEC_GZIP, PJ_CODEC_BZIP2,
    PJ_CODEC_XZ,   PJ_CODEC_LZ4,  PJ_CODEC_GZIP, PJ_CODEC_BZIP2,
};

static void check_one(const pj_unpacked *r, size_t len, uint64_t cap, int multi)
{
    PJ_FUZZ_CHECK(r->data != NULL && r->len <= cap);
    PJ_FUZZ_CHECK(r->consumed <= len);
    PJ_FUZZ_CHECK(multi || r->streams <= 1);
    PJ_FUZZ_CHECK(r->truncated + r->corrupt + r->limit + r->memlimit <= 1);
    if (r->limit)
        PJ_FUZZ_CHECK(r->len == cap);
}

static void check_zf(const uint8_t *buf, size_t len)
{
    size_t data = 0;
    uint64_t declared = 0;
    const char *why = NULL;
    if (pj_zfile_header(buf, len, &data, &declared, &why) == 0)
        PJ_FUZZ_CHECK(data <= len);
    else
        PJ_FUZZ_CHECK(why && *why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pj_codec codec = codecs[data[0] & 7];
    int multi = (data[0] >> 3) & 1;
    const uint8_t *in = data + 1;
    size_t len = size - 1;

    check_zf(in, len);

    pj_unpacked big, small;
    pj_error err;
    int rc = pj_decompress(codec, in, len, CAP, multi, &big, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    if (rc)
        return 0;
    check_one(&big, len, CAP, multi);
    /* a cap a third of what came out, or of the cap when it was hit */
    uint64_t cap2 = big.len / 3;
    rc = pj_decompress(codec, in, len, cap2, multi, &small, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    if (rc == 0) {
        check_one(&small, len, cap2, multi);
        PJ_FUZZ_CHECK(small.len <= big.len && memcmp(small.data, big.data, small.len) == 0);
        /* cut short by the cap, or the same whole output; or both found
         * the stream corrupt, which a decoder may notice sooner with less
         * room for output (liblzma decodes ahead into its dictionary) */
        PJ_FUZZ_CHECK(small.limit || small.len == big.len || (small.corrupt && big.corrupt));
        free(small.data);
    }
    free(big.data);
    return 0;
}
