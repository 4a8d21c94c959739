/* Opening an archive as miniz's mz_zip_reader_init does (see zip.h): the end
 * record, the ZIP64 records, the central directory with miniz's sanity
 * checks, then every local header.  Where miniz refuses an archive that
 * Python's zipfile reads (zipfile shifts every offset when data was put in
 * front), the zipfile view is opened instead and z->base says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zip.h"

#define SIG_EOCD 0x06054b50u
#define SIG_CDH 0x02014b50u
#define SIG_LDH 0x04034b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_Z64_EOCD 0x06064b50u
#define U32MAX 0xFFFFFFFFu

static int refuse(pj_zip *z, const char *why)
{
    snprintf(z->why, sizeof z->why, "%s", why);
    return PJ_E_MALFORMED;
}

/* miniz scans backwards in 4096-byte windows overlapping by 3 bytes and
 * takes, in the first window that has one, the last signature with at least
 * 22 bytes after it; it gives up once a window starts 64 KiB + 22 from the
 * end. */
int pj_zip_find_eocd(const uint8_t *buf, size_t len, uint64_t *ofs)
{
    if (len < PJ_ZIP_EOCD_SIZE)
        return -1;
    size_t cur = len > 4096 ? len - 4096 : 0;
    for (;;) {
        size_t n = len - cur < 4096 ? len - cur : 4096;
        for (size_t i = n - 4 + 1; i-- > 0;) {
            if (pj_le32(buf + cur + i) == SIG_EOCD && len - (cur + i) >= PJ_ZIP_EOCD_SIZE) {
                *ofs = cur + i;
                return 0;
            }
        }
        if (cur == 0 || len - cur >= 0xFFFFu + PJ_ZIP_EOCD_SIZE)
            return -1;
        cur = cur > 4093 ? cur - 4093 : 0;
    }
}

typedef struct eocd_info {
    uint64_t total, on_disk, this_disk, cdir_disk, cdir_size, cdir_ofs;
} eocd_info;

/* The ZIP64 locator sits right before the end record; miniz only looks when
 * there is room for both ZIP64 records before it. */
static int read_zip64(pj_zip *z, eocd_info *ei)
{
    const uint8_t *b = z->buf;
    if (z->eocd < PJ_ZIP64_LOCATOR_SIZE + PJ_ZIP64_EOCD_SIZE)
        return 0;
    const uint8_t *loc = b + z->eocd - PJ_ZIP64_LOCATOR_SIZE;
    if (pj_le32(loc) != SIG_Z64_LOC)
        return 0;
    uint64_t at = pj_le64(loc + 8);
    if (at > z->len - PJ_ZIP64_EOCD_SIZE)
        return refuse(z, "the ZIP64 locator points past the end");
    const uint8_t *r = b + at;
    if (pj_le32(r) != SIG_Z64_EOCD)
        return 0;
    z->zip64 = 1;
    z->zip64_eocd = at;
    if (pj_le64(r + 4) < PJ_ZIP64_EOCD_SIZE - 12)
        return refuse(z, "the ZIP64 end record is too short");
    if (pj_le32(loc + 16) != 1)
        return refuse(z, "multi-disk ZIP64 archive");
    ei->total = pj_le64(r + 32);
    ei->on_disk = pj_le64(r + 24);
    if (ei->total > U32MAX || ei->on_disk > U32MAX)
        return refuse(z, "more than 2^32 entries");
    ei->cdir_size = pj_le64(r + 40);
    if (ei->cdir_size > U32MAX)
        return refuse(z, "central directory over 4 GiB");
    ei->this_disk = pj_le32(r + 16);
    ei->cdir_disk = pj_le32(r + 20);
    ei->cdir_ofs = pj_le64(r + 48);
    return 0;
}

static int read_end(pj_zip *z, eocd_info *ei)
{
    const uint8_t *e = z->buf + z->eocd;
    ei->this_disk = pj_le16(e + 4);
    ei->cdir_disk = pj_le16(e + 6);
    ei->on_disk = pj_le16(e + 8);
    ei->total = pj_le16(e + 10);
    ei->cdir_size = pj_le32(e + 12);
    ei->cdir_ofs = pj_le32(e + 16);
    z->comment_len = pj_le16(e + 20);
    int rc = read_zip64(z, ei);
    if (rc)
        return rc;
    if (ei->total != ei->on_disk)
        return refuse(z, "entry counts disagree (multi-disk archive)");
    if ((ei->this_disk | ei->cdir_disk) != 0 && (ei->this_disk != 1 || ei->cdir_disk != 1))
        return refuse(z, "multi-disk archive");
    if (ei->cdir_size < ei->total * PJ_ZIP_CDH_SIZE)
        return refuse(z, "central directory too small for its entry count");
    return 0;
}

/* miniz's init-time look at the ZIP64 extra field: it only feeds the sanity
 * checks, and unlike file_stat it reads the values across the whole rest of
 * the extra data.  Returns 0 or -1 (miniz refuses). */
static int init_zip64(const uint8_t *x, uint32_t rem, uint64_t *comp, uint64_t *unc,
                      uint64_t *local)
{
    do {
        if (rem < 4)
            return -1;
        uint32_t id = pj_le16(x), sz = pj_le16(x + 2);
        if (sz + 4u > rem)
            return -1;
        if (id == 1)
            break;
        x += 4 + sz;
        rem -= 4 + sz;
    } while (rem);
    if (rem < 4)
        return 0;
    rem -= 4;
    x += 4;
    uint64_t *v[3] = {unc, comp, local};
    for (int k = 0; k < 3; k++) {
        if (*v[k] == U32MAX && rem >= 8) {
            *v[k] = pj_le64(x);
            x += 8;
            rem -= 8;
        }
    }
    return 0;
}

/* miniz's file_stat: the ZIP64 field's values, bounded by that field.
 * Returns 1 (stat succeeds) or 0. */
static int stat_zip64(const uint8_t *x, uint32_t rem, pj_zip_entry *e)
{
    if (e->comp != U32MAX && e->uncomp != U32MAX && e->local != U32MAX)
        return 1;
    while (rem) {
        if (rem < 4)
            return 0;
        uint32_t id = pj_le16(x), sz = pj_le16(x + 2);
        if (sz + 4u > rem)
            return 0;
        if (id == 1) {
            const uint8_t *f = x + 4;
            uint64_t *v[3] = {&e->uncomp, &e->comp, &e->local};
            for (int k = 0; k < 3; k++) {
                if (*v[k] != U32MAX)
                    continue;
                if (sz < 8)
                    return 0;
                *v[k] = pj_le64(f);
                f += 8;
                sz -= 8;
            }
            return 1;
        }
        x += 4 + sz;
        rem -= 4 + sz;
    }
    return 1;
}

/* One central record at p with n bytes of directory left.  Applies miniz's
 * checks when `strict` (the entries its count covers).  *size gets the
 * record's length.  0 or -1 with z->why set. */
static int read_cdh(pj_zip *z, const uint8_t *p, uint64_t n, const eocd_info *ei, int strict,
                    pj_zip_entry *e, uint64_t *size)
{
    if (n < PJ_ZIP_CDH_SIZE || pj_le32(p) != SIG_CDH)
        return refuse(z, "bad central directory record"), -1;
    uint32_t name_len = pj_le16(p + 28), ext_len = pj_le16(p + 30), com_len = pj_le16(p + 32);
    uint64_t total = (uint64_t)PJ_ZIP_CDH_SIZE + name_len + ext_len + com_len;
    if (total > n)
        return refuse(z, "central directory record overruns the directory"), -1;
    memset(e, 0, sizeof *e);
    e->name = p + PJ_ZIP_CDH_SIZE;
    e->name_len = (uint16_t)name_len;
    e->flags = pj_le16(p + 8);
    e->method = pj_le16(p + 10);
    e->time = pj_le16(p + 12);
    e->crc = pj_le32(p + 16);
    e->comp = pj_le32(p + 20);
    e->uncomp = pj_le32(p + 24);
    e->ext_attr = pj_le32(p + 38);
    e->local = pj_le32(p + 42);
    e->cdh = (uint64_t)(p - z->buf);
    *size = total;
    const uint8_t *extra = p + PJ_ZIP_CDH_SIZE + name_len;
    if (strict) {
        uint64_t c = e->comp, u = e->uncomp, l = e->local;
        if (ext_len && (c == U32MAX || u == U32MAX || l == U32MAX) &&
            init_zip64(extra, ext_len, &c, &u, &l))
            return refuse(z, "bad extra field"), -1;
        /* miniz reads method and time as one 32-bit word here */
        if (c != U32MAX && u != U32MAX && ((pj_le32(p + 10) == 0 && u != c) || (u && !c)))
            return refuse(z, "stored sizes disagree"), -1;
        uint32_t disk = pj_le16(p + 34);
        if (disk == 0xFFFF || (disk != ei->this_disk && disk != 1))
            return refuse(z, "entry on another disk"), -1;
        uint64_t end;
        if (c != U32MAX && (__builtin_add_overflow(l, z->base, &end) ||
                            __builtin_add_overflow(end, PJ_ZIP_LDH_SIZE, &end) ||
                            __builtin_add_overflow(end, c, &end) || end > z->len))
            return refuse(z, "entry data past the end of the archive"), -1;
        if (e->flags & PJ_ZIP_FLAG_MASKED)
            return refuse(z, "masked local headers (central directory encryption)"), -1;
    }
    e->stat_ok = stat_zip64(extra, ext_len, e);
    return 0;
}

static void read_local(pj_zip *z, pj_zip_entry *e)
{
    if (!e->stat_ok || e->local > UINT64_MAX - z->base)
        return;
    uint64_t at = e->local + z->base;
    if (at > z->len || z->len - at < PJ_ZIP_LDH_SIZE || pj_le32(z->buf + at) != SIG_LDH)
        return;
    e->local_ok = 1;
    const uint8_t *l = z->buf + at;
    e->data = at + PJ_ZIP_LDH_SIZE + pj_le16(l + 26) + pj_le16(l + 28);
    e->data_ok = e->data <= z->len && e->comp <= z->len - e->data;
}

static int read_cdir(pj_zip *z, const eocd_info *ei, uint64_t max_entries, pj_error *err)
{
    if (ei->cdir_ofs > UINT64_MAX - z->base)
        return refuse(z, "central directory offset overflows");
    z->cdir = ei->cdir_ofs + z->base;
    z->cdir_size = ei->cdir_size;
    if (z->cdir > z->len || z->cdir_size > z->len - z->cdir)
        return refuse(z, "central directory past the end of the archive");
    /* every record is at least 46 bytes of the directory, so this bounds the
     * allocation by the input */
    uint64_t cap = z->cdir_size / PJ_ZIP_CDH_SIZE;
    if (cap > max_entries)
        cap = max_entries; /* hidden records past the limit are not read */
    if (ei->total > max_entries)
        return pj_error_set(err, PJ_E_LIMIT, z->eocd, -1,
                            "archive of %llu entries exceeds the limit of %llu",
                            (unsigned long long)ei->total, (unsigned long long)max_entries);
    z->e = calloc(cap ? cap : 1, sizeof *z->e);
    z->sorted = calloc(ei->total ? ei->total : 1, sizeof *z->sorted);
    if (!z->e || !z->sorted)
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    const uint8_t *p = z->buf + z->cdir;
    uint64_t n = z->cdir_size, size;
    for (uint64_t i = 0; i < ei->total; i++) {
        if (read_cdh(z, p, n, ei, 1, &z->e[i], &size))
            return PJ_E_MALFORMED;
        p += size;
        n -= size;
    }
    z->n = z->n_all = (uint32_t)ei->total;
    z->cdir_used = z->cdir_size - n;
    /* zipfile reads records until the directory's size is used up, not up to
     * the count: records past the count are members only it sees. */
    while (n >= PJ_ZIP_CDH_SIZE && z->n_all < cap && pj_le32(p) == SIG_CDH) {
        char keep[sizeof z->why];
        memcpy(keep, z->why, sizeof keep);
        if (read_cdh(z, p, n, ei, 0, &z->e[z->n_all], &size)) {
            memcpy(z->why, keep, sizeof keep);
            break;
        }
        z->e[z->n_all++].hidden = 1;
        p += size;
        n -= size;
    }
    for (uint32_t i = 0; i < z->n_all; i++)
        read_local(z, &z->e[i]);
    return 0;
}

/* ---- miniz's heap sort of names (lookups depend on its exact order) ---- */

static int name_less(const pj_zip *z, uint32_t a, uint32_t b)
{
    const pj_zip_entry *l = &z->e[a], *r = &z->e[b];
    size_t n = l->name_len < r->name_len ? l->name_len : r->name_len;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = l->name[i], y = r->name[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y)
            return x < y;
    }
    return l->name_len < r->name_len;
}

static void sift(const pj_zip *z, uint32_t *v, uint64_t root, uint64_t end)
{
    for (;;) {
        uint64_t child = root * 2 + 1;
        if (child >= end)
            return;
        if (child + 1 < end && name_less(z, v[child], v[child + 1]))
            child++;
        if (!name_less(z, v[root], v[child]))
            return;
        uint32_t t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

static void sort_names(pj_zip *z)
{
    uint32_t *v = z->sorted, size = z->n;
    for (uint32_t i = 0; i < size; i++)
        v[i] = i;
    if (size <= 1)
        return;
    for (uint32_t start = (size - 2) / 2;; start--) {
        sift(z, v, start, size);
        if (!start)
            break;
    }
    for (uint32_t end = size - 1; end > 0; end--) {
        uint32_t t = v[end];
        v[end] = v[0];
        v[0] = t;
        sift(z, v, 0, end);
    }
}

/* ---- open ---------------------------------------------------------------- */

static int open_at(pj_zip *z, uint64_t base, uint64_t max_entries, pj_error *err)
{
    z->base = base;
    eocd_info ei;
    int rc = read_end(z, &ei);
    if (rc == 0)
        rc = read_cdir(z, &ei, max_entries, err);
    if (rc == 0)
        sort_names(z);
    return rc;
}

/* Where zipfile's _EndRecData64 takes the ZIP64 end record from: it checks
 * the locator's signature before the end record, then reads the 56 bytes
 * before the locator, ignoring the offset the locator holds (miniz follows
 * that offset).  0 with *at, or -1 when zipfile reads no ZIP64 record. */
static int zipfile_zip64(const pj_zip *z, uint64_t *at)
{
    if (z->eocd < PJ_ZIP64_LOCATOR_SIZE + PJ_ZIP64_EOCD_SIZE ||
        pj_le32(z->buf + z->eocd - PJ_ZIP64_LOCATOR_SIZE) != SIG_Z64_LOC)
        return -1;
    *at = z->eocd - PJ_ZIP64_LOCATOR_SIZE - PJ_ZIP64_EOCD_SIZE;
    return pj_le32(z->buf + *at) == SIG_Z64_EOCD ? 0 : -1;
}

/* zipfile's shift: where the end record is minus where the directory says
 * it ends (minus the ZIP64 records when zipfile reads them), all from the
 * records zipfile reads. */
static int64_t zipfile_shift(const pj_zip *z, const uint8_t *buf)
{
    const uint8_t *e = buf + z->eocd;
    uint64_t size = pj_le32(e + 12), ofs = pj_le32(e + 16), at = z->eocd, z64;
    if (zipfile_zip64(z, &z64) == 0) {
        const uint8_t *r = buf + z64;
        size = pj_le64(r + 40);
        ofs = pj_le64(r + 48);
        at = z64;
    }
    if (size > at || ofs > at - size)
        return 0;
    return (int64_t)(at - size - ofs);
}

int pj_zip_open(pj_zip *z, const uint8_t *buf, size_t len, uint64_t max_entries, pj_error *err)
{
    memset(z, 0, sizeof *z);
    z->buf = buf;
    z->len = len;
    if (pj_zip_find_eocd(buf, len, &z->eocd)) {
        refuse(z, "no end of central directory record in the last 64 KiB");
        return pj_error_set(err, PJ_E_MALFORMED, 0, -1, "%s", z->why);
    }
    int rc = open_at(z, 0, max_entries, err);
    if (rc == PJ_E_MALFORMED) {
        char why[sizeof z->why];
        memcpy(why, z->why, sizeof why);
        int64_t shift = zipfile_shift(z, buf);
        uint64_t eocd = z->eocd;
        pj_zip_close(z);
        z->buf = buf;
        z->len = len;
        z->eocd = eocd;
        rc = shift > 0 ? open_at(z, (uint64_t)shift, max_entries, err) : PJ_E_MALFORMED;
        if (rc == PJ_E_MALFORMED)
            memcpy(z->why, why, sizeof why);
    }
    if (rc == 0) {
        z->zf_shift = zipfile_shift(z, buf) - (int64_t)z->base;
        z->zf_zip64 = zipfile_zip64(z, &z->zf_zip64_eocd) == 0;
    }
    if (rc) {
        char why[sizeof z->why];
        memcpy(why, z->why, sizeof why);
        if (rc == PJ_E_MALFORMED)
            pj_error_set(err, rc, z->eocd, -1, "%s", why);
        pj_zip_close(z);
        memcpy(z->why, why, sizeof why);
    }
    return rc;
}

void pj_zip_close(pj_zip *z)
{
    free(z->e);
    free(z->sorted);
    memset(z, 0, sizeof *z);
}

int64_t pj_zip_locate(const pj_zip *z, const uint8_t *key, size_t n)
{
    const uint8_t *nul = memchr(key, 0, n);
    if (nul)
        n = (size_t)(nul - key);
    int64_t l = 0, h = (int64_t)z->n - 1;
    while (l <= h) {
        int64_t m = l + ((h - l) >> 1);
        const pj_zip_entry *e = &z->e[z->sorted[m]];
        size_t k = e->name_len < n ? e->name_len : n, i = 0;
        int comp = 0;
        for (; i < k; i++) {
            uint8_t x = e->name[i], y = key[i];
            x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
            y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
            if (x != y) {
                comp = (int)x - (int)y;
                break;
            }
        }
        if (i == k)
            comp = (int)e->name_len - (int)n;
        if (comp == 0)
            return z->sorted[m];
        if (comp < 0)
            l = m + 1;
        else
            h = m - 1;
    }
    return -1;
}

int pj_zip_is_dir(const pj_zip_entry *e)
{
    return (e->name_len && e->name[e->name_len - 1] == '/') || (e->ext_attr & 0x10);
}
