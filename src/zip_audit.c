/* Everything in an archive's structure on which two readers could disagree,
 * as notes.  PyTorch (miniz) trusts the central directory; Python's zipfile
 * too, but finds it otherwise and checks other things; streaming readers
 * trust the local headers.  An archive written by torch.save, np.savez or
 * zipfile has none of these. */
#include <stdlib.h>
#include <string.h>

#include "sort.h"
#include "zip.h"

typedef struct audit {
    pj_container_ctx *c;
    const pj_zip *z;
    const char *where;
    pj_error *err;
} audit;

#define NOTE(a, rule, sev, entry, off, ...) \
    pj_note_add((a)->c, rule, sev, entry, off, (a)->err, __VA_ARGS__)

static char *ename(const audit *a, const pj_zip_entry *e)
{
    return pj_entry_name(a->where, e->name, e->name_len);
}

/* ---- the byte map: every structure's span, then gaps and overlaps ------- */

typedef struct span {
    uint64_t start, end;
    int64_t entry; /* member index, or -1 for a directory record */
} span;

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

/* A data descriptor follows the data when bit 3 is set: 12 or 20 bytes,
 * with an optional 4-byte signature in front. */
static uint64_t descriptor_len(const pj_zip *z, const pj_zip_entry *e, uint64_t at)
{
    if (!(e->flags & PJ_ZIP_FLAG_DESCRIPTOR))
        return 0;
    uint64_t n = (e->comp >= 0xFFFFFFFFu || e->uncomp >= 0xFFFFFFFFu) ? 20 : 12;
    if (at <= z->len && z->len - at >= 4 && pj_le32(z->buf + at) == 0x08074b50u)
        n += 4;
    return at <= z->len && z->len - at >= n ? n : 0;
}

static int map_note(audit *a, const span *prev, const span *s)
{
    const pj_zip *z = a->z;
    if (s->start < prev->end) {
        const span *m = s->entry >= 0 ? s : prev;
        char *nm = m->entry >= 0 ? ename(a, &z->e[m->entry]) : NULL;
        int rc = NOTE(a, "zip-overlapping-entries", 2, nm, s->start,
                      "bytes %llu-%llu are used by two %s",
                      (unsigned long long)s->start, (unsigned long long)prev->end,
                      (prev->entry >= 0 && s->entry >= 0) ? "members" : "structures");
        free(nm);
        return rc;
    }
    if (s->start > prev->end)
        return NOTE(a, "zip-unreferenced-data", 1, a->where, prev->end,
                    "%llu bytes at %llu belong to no member or directory record",
                    (unsigned long long)(s->start - prev->end), (unsigned long long)prev->end);
    return 0;
}

static int byte_map(audit *a)
{
    const pj_zip *z = a->z;
    span *v = malloc(((size_t)z->n_all + 4) * sizeof *v);
    if (!v)
        return pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
    size_t k = 0;
    for (uint32_t i = 0; i < z->n_all; i++) {
        const pj_zip_entry *e = &z->e[i];
        if (!e->local_ok || !e->data_ok)
            continue;
        uint64_t end = e->data + e->comp;
        v[k++] = (span){e->local + z->base, end + descriptor_len(z, e, end), i};
    }
    v[k++] = (span){z->cdir, z->cdir + z->cdir_size, -1};
    if (z->zip64) {
        v[k++] = (span){z->zip64_eocd, z->zip64_eocd + PJ_ZIP64_EOCD_SIZE, -1};
        v[k++] = (span){z->eocd - PJ_ZIP64_LOCATOR_SIZE, z->eocd, -1};
    }
    uint64_t tail = z->len - z->eocd - PJ_ZIP_EOCD_SIZE;
    uint64_t eend = z->eocd + PJ_ZIP_EOCD_SIZE + (z->comment_len < tail ? z->comment_len : tail);
    v[k++] = (span){z->eocd, eend, -1};
    pj_sort(v, k, sizeof *v, span_cmp);
    int rc = 0;
    if (v[0].start > 0)
        rc = NOTE(a, "zip-prefix-data", 2, a->where, 0,
                  "%llu bytes before the first member: another reader may take them for "
                  "something else",
                  (unsigned long long)v[0].start);
    uint64_t reach = v[0].end;
    for (size_t i = 1; i < k && rc == 0; i++) {
        span prev = {0, reach, v[i - 1].entry};
        rc = map_note(a, &prev, &v[i]);
        if (v[i].end > reach)
            reach = v[i].end;
    }
    if (rc == 0 && reach < z->len)
        rc = NOTE(a, "zip-trailing-data", 1, a->where, reach,
                  "%llu bytes after the end record", (unsigned long long)(z->len - reach));
    free(v);
    return rc;
}

/* ---- the end records ---------------------------------------------------- */

static int end_records(audit *a)
{
    const pj_zip *z = a->z;
    int rc = 0;
    /* Both miniz and zipfile only look at the last 64 KiB + 22 bytes. */
    uint64_t from = z->len > 0xFFFFu + 4096 + PJ_ZIP_EOCD_SIZE
                        ? z->len - (0xFFFFu + 4096 + PJ_ZIP_EOCD_SIZE) : 0;
    uint64_t others = 0, first = 0;
    for (uint64_t i = from; i + 4 <= z->len; i++) {
        if (i != z->eocd && pj_le32(z->buf + i) == 0x06054b50u && others++ == 0)
            first = i;
    }
    if (others)
        rc = NOTE(a, "zip-multiple-end-records", 2, a->where, first,
                  "%llu more end-of-directory signatures besides the one at %llu: readers "
                  "that pick another see another archive",
                  (unsigned long long)others, (unsigned long long)z->eocd);
    if (rc == 0 && (z->zf_zip64 != z->zip64 || (z->zip64 && z->zf_zip64_eocd != z->zip64_eocd)))
        rc = NOTE(a, "zip-zip64-mismatch", 2, a->where, z->eocd,
                  "PyTorch's reader takes the ZIP64 end record %s, Python's zipfile %s: the two "
                  "can read different directories",
                  z->zip64 ? "where the locator points" : "from nowhere (none there)",
                  z->zf_zip64 ? "from the 56 bytes before the locator" : "from nowhere");
    if (rc == 0 && z->base)
        rc = NOTE(a, "zip-offsets-shifted", 2, a->where, z->base,
                  "offsets are relative to byte %llu: Python's zipfile reads this archive, "
                  "PyTorch's reader refuses it",
                  (unsigned long long)z->base);
    else if (rc == 0 && z->zf_shift)
        rc = NOTE(a, "zip-offsets-shifted", 2, a->where, z->cdir,
                  "Python's zipfile would look for the directory %lld bytes away from where "
                  "PyTorch's reader finds it",
                  (long long)z->zf_shift);
    if (rc == 0 && z->cdir_used < z->cdir_size && z->n_all == z->n)
        rc = NOTE(a, "zip-unreferenced-data", 1, a->where, z->cdir + z->cdir_used,
                  "%llu bytes of the central directory past its last record",
                  (unsigned long long)(z->cdir_size - z->cdir_used));
    return rc;
}

/* ---- names -------------------------------------------------------------- */

static int odd_name(const pj_zip_entry *e)
{
    if (e->name_len == 0 || e->name[0] == '/')
        return 1;
    for (size_t i = 0; i < e->name_len; i++) {
        uint8_t b = e->name[i];
        if (b < 0x20 || b == 0x7f || b == '\\')
            return 1;
        /* a ".." path component */
        if (b == '.' && i + 1 < e->name_len && e->name[i + 1] == '.' &&
            (i == 0 || e->name[i - 1] == '/') &&
            (i + 2 == e->name_len || e->name[i + 2] == '/'))
            return 1;
    }
    return 0;
}

static int same_name(const pj_zip_entry *x, const pj_zip_entry *y, int fold)
{
    if (x->name_len != y->name_len)
        return 0;
    for (size_t i = 0; i < x->name_len; i++) {
        uint8_t p = x->name[i], q = y->name[i];
        if (fold) {
            p = (p >= 'A' && p <= 'Z') ? (uint8_t)(p + 32) : p;
            q = (q >= 'A' && q <= 'Z') ? (uint8_t)(q + 32) : q;
        }
        if (p != q)
            return 0;
    }
    return 1;
}

static int dup_note(audit *a, uint32_t i, uint32_t j)
{
    const pj_zip *z = a->z;
    const pj_zip_entry *x = &z->e[i], *y = &z->e[j];
    int exact = same_name(x, y, 0);
    int64_t hit = pj_zip_locate(z, x->name, x->name_len);
    char *nm = ename(a, x);
    int rc = NOTE(a, exact ? "zip-duplicate-name" : "zip-duplicate-name-case", 2, nm, y->cdh,
                  "two members named alike (directory records at %llu and %llu): PyTorch "
                  "looks up the one at %lld, case-insensitively; zipfile takes the last",
                  (unsigned long long)x->cdh, (unsigned long long)y->cdh,
                  hit >= 0 ? (long long)z->e[hit].cdh : -1LL);
    free(nm);
    return rc;
}

static int duplicates(audit *a)
{
    const pj_zip *z = a->z;
    int rc = 0;
    /* miniz's order is sorted by lowercased name: equal names are adjacent */
    for (uint32_t k = 1; k < z->n && rc == 0; k++)
        if (same_name(&z->e[z->sorted[k - 1]], &z->e[z->sorted[k]], 1))
            rc = dup_note(a, z->sorted[k - 1], z->sorted[k]);
    for (uint32_t i = z->n; i < z->n_all && rc == 0; i++) {
        char *nm = ename(a, &z->e[i]);
        rc = NOTE(a, "zip-hidden-entry", 2, nm, z->e[i].cdh,
                  "directory record past the end record's count: Python's zipfile lists "
                  "this member, PyTorch's reader does not");
        free(nm);
        int64_t hit = pj_zip_locate(z, z->e[i].name, z->e[i].name_len);
        if (rc == 0 && hit >= 0)
            rc = dup_note(a, (uint32_t)hit, i);
    }
    return rc;
}

/* ---- one member: local header, flags, method, name, ratio -------------- */

static int local_mismatch(audit *a, const pj_zip_entry *e, const char *nm)
{
    const pj_zip *z = a->z;
    uint64_t at = e->local + z->base;
    const uint8_t *l = z->buf + at;
    uint32_t ln = pj_le16(l + 26), lx = pj_le16(l + 28);
    const char *what = NULL;
    if (z->len - at - PJ_ZIP_LDH_SIZE < ln)
        what = "name runs past the end";
    else if (ln != e->name_len || memcmp(l + PJ_ZIP_LDH_SIZE, e->name, ln) != 0)
        what = "name";
    else if (pj_le16(l + 8) != e->method)
        what = "compression method";
    else if (pj_le16(l + 6) != e->flags)
        what = "flags";
    else {
        uint64_t crc = pj_le32(l + 14), comp = pj_le32(l + 18), unc = pj_le32(l + 22);
        const uint8_t *x = l + PJ_ZIP_LDH_SIZE + ln;
        /* a local ZIP64 field holds both sizes, uncompressed first */
        if ((comp == 0xFFFFFFFFu || unc == 0xFFFFFFFFu) && z->len - at - PJ_ZIP_LDH_SIZE - ln >= lx)
            for (uint32_t r = lx; r >= 4;) {
                uint32_t id = pj_le16(x), sz = pj_le16(x + 2);
                if (sz + 4u > r)
                    break;
                if (id == 1 && sz >= 16) {
                    unc = pj_le64(x + 4);
                    comp = pj_le64(x + 12);
                    break;
                }
                x += 4 + sz;
                r -= 4 + sz;
            }
        int zero = crc == 0 && comp == 0 && unc == 0;
        int described = (pj_le16(l + 6) & PJ_ZIP_FLAG_DESCRIPTOR) && zero;
        if (!described && (crc != e->crc || comp != e->comp || unc != e->uncomp))
            what = "CRC or sizes";
    }
    if (!what)
        return 0;
    return NOTE(a, "zip-local-mismatch", 2, nm, at,
                "local header and directory disagree on the %s: streaming readers and "
                "PyTorch see different members",
                what);
}

static int member(audit *a, const pj_zip_entry *e)
{
    const pj_zip *z = a->z;
    char *nm = ename(a, e);
    if (!nm)
        return pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
    uint64_t at = e->local + z->base;
    int rc = 0;
    if (!e->stat_ok)
        rc = NOTE(a, "zip-malformed", 2, nm, e->cdh,
                  "a ZIP64 size is needed but missing: PyTorch cannot read this member");
    else if (!e->local_ok)
        rc = NOTE(a, "zip-local-header-missing", 2, nm, at,
                  "no local header at %llu: PyTorch cannot read this member",
                  (unsigned long long)at);
    else if (!e->data_ok)
        rc = NOTE(a, "zip-malformed", 2, nm, e->data,
                  "member data runs past the end of the input");
    else
        rc = local_mismatch(a, e, nm);
    if (rc == 0 && (e->flags & (PJ_ZIP_FLAG_ENCRYPTED | PJ_ZIP_FLAG_STRONG | PJ_ZIP_FLAG_PATCH)))
        rc = NOTE(a, "zip-encrypted", 2, nm, e->cdh,
                  "encryption or patch flag set (0x%04x): PyTorch refuses to read it, "
                  "it was decoded as plain data",
                  e->flags);
    else if (rc == 0 && (e->flags & ~(PJ_ZIP_FLAGS_ORDINARY | PJ_ZIP_FLAG_ENCRYPTED)))
        rc = NOTE(a, "zip-flag-bits", 1, nm, e->cdh, "unusual flag bits 0x%04x", e->flags);
    if (rc == 0 && e->method != 0 && e->method != 8)
        rc = NOTE(a, "zip-unsupported-method", 2, nm, e->cdh,
                  "compression method %u: PyTorch cannot read it, neither do we", e->method);
    if (rc == 0 && odd_name(e))
        rc = NOTE(a, "zip-odd-name", 1, nm, e->cdh,
                  "member name is empty, absolute, climbs with \"..\", or holds control "
                  "characters or backslashes");
    if (rc == 0 && e->method == 8 && e->comp && e->uncomp / e->comp > a->c->cl.ratio)
        rc = NOTE(a, "limit-exceeded", 2, nm, e->cdh,
                  "declared compression ratio %llu:1 is over the limit of %llu:1",
                  (unsigned long long)(e->uncomp / e->comp),
                  (unsigned long long)a->c->cl.ratio);
    free(nm);
    return rc;
}

int pj_zip_audit(pj_container_ctx *c, const pj_zip *z, const char *where, pj_error *err)
{
    audit a = {.c = c, .z = z, .where = where, .err = err};
    int rc = end_records(&a);
    if (rc == 0)
        rc = byte_map(&a);
    if (rc == 0)
        rc = duplicates(&a);
    for (uint32_t i = 0; i < z->n_all && rc == 0; i++)
        rc = member(&a, &z->e[i]);
    return rc;
}
