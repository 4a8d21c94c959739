/* Compressed wrappers: what joblib.dump(compress=...) writes around its
 * pickle (zlib, gzip, bz2, lzma "alone", xz, lz4 frames, and joblib's old
 * "ZF" zlib file), and what anyone may put around any pickle (a gzip'd
 * checkpoint loaded through gzip.open).  Decompressed here, in the sandboxed
 * child, with the libraries the Python readers themselves use (zlib,
 * libbz2, liblzma, liblz4), into a buffer grown in steps, each step checked
 * against the container limits first: per-entry bytes, total bytes for the
 * input, and the decompressed/compressed ratio.  A bomb stops at the limit
 * and is noted `limit-exceeded`; what came out before is still read.
 *
 * Concatenated streams are followed as Python's gzip, bz2, lzma and lz4
 * readers follow them; joblib's own zlib and gzip readers stop after the
 * first, which is a disagreement and noted.  Bytes after the last stream,
 * truncated or corrupt streams are noted too.  The decompressed bytes are
 * then read as a nested input (sniffed again), one level deeper. */
#ifndef PJ_DECOMPRESS_H
#define PJ_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"

typedef enum pj_codec {
    PJ_CODEC_ZLIB = 1, /* zlib header and adler32 (joblib 'zlib', "ZF" files) */
    PJ_CODEC_GZIP,     /* one or more gzip members */
    PJ_CODEC_BZIP2,
    PJ_CODEC_XZ,       /* liblzma's auto decoder: .xz or lzma "alone", as LZMAFile */
    PJ_CODEC_LZ4,      /* lz4 frames */
} pj_codec;

/* The memory liblzma may use for one stream (its dictionary): xz -9 needs
 * 65 MiB; a hostile "alone" header can ask for 4 GiB. */
#define PJ_LZMA_MEMLIMIT (UINT64_C(256) << 20)

typedef struct pj_unpacked {
    uint8_t *data;      /* malloc'd, never NULL after success; free it */
    size_t len;
    uint64_t consumed;  /* input bytes the complete and partial streams took */
    uint32_t streams;   /* streams decoded to their end */
    int truncated;      /* the input ended inside a stream */
    int corrupt;        /* a stream was corrupt after it had started */
    int limit;          /* the output reached max_out with more to come */
    int memlimit;       /* the decoder needed more memory than allowed */
    /* at most one of truncated, corrupt, limit, memlimit is set */
} pj_unpacked;

/* Decompress in[0..len) as `codec`: up to max_out bytes, following
 * concatenated streams when `multi`.  0 (what happened is in *r), or
 * PJ_E_NOMEM. */
int pj_decompress(pj_codec codec, const uint8_t *in, size_t len, uint64_t max_out, int multi,
                  pj_unpacked *r, pj_error *err);

/* Parse joblib's "ZF" header (read_zfile): "ZF", the length in hex
 * ("0x..." left-justified in 19 bytes), an optional space.  0 with *data the
 * offset of the zlib stream and *declared the length, or -1 with *why (when
 * the header is not what write_zfile writes; *data is still set when there
 * are at least 21 bytes). */
int pj_zfile_header(const uint8_t *buf, size_t len, size_t *data, uint64_t *declared,
                    const char **why);

#endif
