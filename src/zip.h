/* A small zip reader that reads an archive as PyTorch's reader does.
 *
 * Why not a library: libzip and minizip each have their own opinion of a
 * broken archive (libzip rejects what miniz accepts, minizip scans local
 * headers), and none lets us see central and local headers side by side,
 * which is exactly where readers disagree.  PyTorch reads checkpoints with
 * miniz (caffe2/serialize/inline_container.cc), built with CRC checks
 * disabled; numpy reads .npz with Python's zipfile.  So this reader follows
 * miniz's facts — the end record is the last "PK\5\6" with 22 bytes after it
 * in the file's last 64 KiB, ZIP64 records override it, the central
 * directory is trusted for sizes and offsets, only the local header's name
 * and extra lengths are read, names are looked up by a case-insensitive
 * binary search over miniz's own heap sort, CRCs are never checked, flag
 * bits are not fatal at open — and reports, as notes, everything on which
 * zipfile or a streaming reader would see other bytes.  Deflate is zlib's.
 *
 * All offsets are absolute in the buffer; every one is checked against its
 * length before use.  Nothing here allocates more than the central directory
 * itself justifies (46 bytes of input per entry).
 */
#ifndef PJ_ZIP_H
#define PJ_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "error.h"

#define PJ_ZIP_EOCD_SIZE 22u
#define PJ_ZIP_CDH_SIZE 46u
#define PJ_ZIP_LDH_SIZE 30u
#define PJ_ZIP64_LOCATOR_SIZE 20u
#define PJ_ZIP64_EOCD_SIZE 56u

/* General-purpose flag bits. */
#define PJ_ZIP_FLAG_ENCRYPTED 0x0001u
#define PJ_ZIP_FLAG_DESCRIPTOR 0x0008u
#define PJ_ZIP_FLAG_PATCH 0x0020u
#define PJ_ZIP_FLAG_STRONG 0x0040u
#define PJ_ZIP_FLAG_UTF8 0x0800u
#define PJ_ZIP_FLAG_MASKED 0x2000u
/* Bits any ordinary writer may set: encryption aside, 1-2 (deflate level),
 * 3 (data descriptor), 11 (UTF-8 names). */
#define PJ_ZIP_FLAGS_ORDINARY 0x080Eu

typedef struct pj_zip_entry {
    /* From the central directory, zip64-resolved as miniz's file_stat does. */
    const uint8_t *name;
    uint16_t name_len;
    uint16_t flags, method;
    uint16_t time;
    uint32_t crc;
    uint32_t ext_attr;
    uint64_t comp, uncomp, local;
    uint64_t cdh;        /* offset of the central header */
    int stat_ok;         /* 0: a needed zip64 field is missing (miniz's stat fails) */
    int hidden;          /* past the end record's count: zipfile reads it, miniz does not */
    /* From the local header (pj_zip_open reads it too). */
    int local_ok;        /* signature right and 30 bytes inside the input */
    uint64_t data;       /* local + 30 + local name + local extra, when local_ok */
    int data_ok;         /* data + comp inside the input */
} pj_zip_entry;

typedef struct pj_zip {
    const uint8_t *buf;
    size_t len;
    pj_zip_entry *e;
    uint32_t n;          /* entries miniz sees */
    uint32_t n_all;      /* n plus the hidden ones */
    uint32_t *sorted;    /* miniz's order for lookups: n indices */
    uint64_t base;       /* 0, or the shift zipfile applies (data in front) */
    uint64_t eocd, comment_len;
    uint64_t cdir, cdir_size;
    uint64_t cdir_used;  /* bytes of the central directory miniz's count covers */
    int zip64;
    uint64_t zip64_eocd; /* offset of the zip64 end record when zip64 */
    /* Python's zipfile finds the ZIP64 end record otherwise: the 56 bytes
     * right before the locator, whatever offset the locator holds. */
    int zf_zip64;
    uint64_t zf_zip64_eocd;
    int64_t zf_shift;    /* where zipfile would put the directory, relative to us */
    char why[160];       /* why opening failed */
} pj_zip;

/* Where miniz finds the end record: 0 and *ofs, or -1. */
int pj_zip_find_eocd(const uint8_t *buf, size_t len, uint64_t *ofs);

/* Open an archive.  0; PJ_E_MALFORMED when miniz would refuse it (z->why
 * says why; with zipfile's shift applied, a Python-readable archive still
 * opens, and z->base says so); PJ_E_LIMIT past max_entries; PJ_E_NOMEM.
 * On failure z holds nothing to free. */
int pj_zip_open(pj_zip *z, const uint8_t *buf, size_t len, uint64_t max_entries, pj_error *err);
void pj_zip_close(pj_zip *z);

/* miniz's mz_zip_reader_locate_file: case-insensitive binary search over the
 * heap-sorted names, the key cut at its first NUL (a C string).  The index,
 * or -1. */
int64_t pj_zip_locate(const pj_zip *z, const uint8_t *key, size_t n);

/* miniz's test: the name ends with '/' or the DOS directory bit is set. */
int pj_zip_is_dir(const pj_zip_entry *e);

/* The bytes of entry i as PyTorch's getRecord would produce them, at most
 * max_out of them.  Stored entries are pointed at in place; deflated ones
 * are inflated into a buffer returned in *owned (free it), counted against
 * the total-bytes limit.  *len gets what was produced; *complete is 1 when
 * that is the whole entry and its size is what the directory says.  Limits,
 * size lies, bad streams, flags PyTorch refuses and bad CRCs become notes
 * (entry = name).  0, or PJ_E_NOMEM; when the bytes cannot be had at all,
 * 0 with *out NULL. */
int pj_zip_extract(pj_container_ctx *c, const pj_zip *z, uint32_t i, uint64_t max_out,
                   const char *name, const uint8_t **out, size_t *len, uint8_t **owned,
                   int *complete, pj_error *err);

/* Structure notes: several end records, data in front or behind, gaps,
 * overlaps, duplicates, local/central disagreements, flags, methods, odd
 * names, compression ratios.  `where` names the archive (NULL: the input). */
int pj_zip_audit(pj_container_ctx *c, const pj_zip *z, const char *where, pj_error *err);

/* The torch checks for an archive whose data.pkl (under its prefix) was
 * decoded into pickle index `pk`; fills skip[i] = 1 for every entry read as
 * a tensor storage.  See zip_torch.c. */
int pj_zip_torch(pj_container_ctx *c, const pj_zip *z, const char *where,
                 const uint8_t *prefix, size_t prefix_len, uint32_t pk, uint8_t *skip,
                 pj_error *err);

static inline uint16_t pj_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t pj_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t pj_le64(const uint8_t *p)
{
    return (uint64_t)pj_le32(p) | ((uint64_t)pj_le32(p + 4) << 32);
}

#endif
