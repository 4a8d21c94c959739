/* Fuzz target: the zip grammar alone — the archive reader that sees an
 * archive as PyTorch's miniz does, its structure audit, name lookup and
 * member extraction — without the pickles inside.  fuzz_container runs the
 * same code behind the content sniffer and the decoder; here every
 * execution goes to the archive itself.
 *
 * Input: the archive's bytes.
 *
 * Invariants checked (a trap):
 *   - pj_zip_open fails only as PyTorch would refuse the archive
 *     (MALFORMED), past the entry limit, or for lack of memory;
 *   - what it returns points inside the input: names, local headers where
 *     local_ok says so, member data where data_ok says so; n <= n_all;
 *   - names are in miniz's order (case-insensitive, then shorter first), and
 *     looking up each member's name finds a member of that name;
 *   - the audit adds notes and fails only for lack of memory;
 *   - an extracted member is at most what was asked for, exactly its
 *     declared size when complete, and in place in the input unless it was
 *     inflated (or is empty: a directory's "" is a static string). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "zip.h"

static uint8_t lower(uint8_t x)
{
    return (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
}

/* -1, 0, 1 as miniz orders two names: byte by byte ignoring ASCII case,
 * then the shorter first. */
static int name_cmp(const pj_zip_entry *a, const pj_zip_entry *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = lower(a->name[i]), y = lower(b->name[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a->name_len == b->name_len ? 0 : a->name_len < b->name_len ? -1 : 1;
}

static void check_entries(const pj_zip *z, const uint8_t *buf, size_t len)
{
    PJ_FUZZ_CHECK(z->n <= z->n_all);
    PJ_FUZZ_CHECK(z->eocd <= len && z->base <= len);
    for (uint32_t i = 0; i < z->n_all; i++) {
        const pj_zip_entry *e = &z->e[i];
        PJ_FUZZ_CHECK(e->name >= buf && e->name_len <= len - (size_t)(e->name - buf));
        /* local is as the directory says, relative to base; data absolute */
        if (e->local_ok)
            PJ_FUZZ_CHECK(e->local <= len - z->base &&
                          len - z->base - e->local >= PJ_ZIP_LDH_SIZE);
        if (e->data_ok)
            PJ_FUZZ_CHECK(e->local_ok && e->data <= len && e->comp <= len - e->data);
    }
    for (uint32_t k = 0; k + 1 < z->n; k++) {
        PJ_FUZZ_CHECK(z->sorted[k] < z->n);
        PJ_FUZZ_CHECK(name_cmp(&z->e[z->sorted[k]], &z->e[z->sorted[k + 1]]) <= 0);
    }
    for (uint32_t i = 0; i < z->n; i++) {
        const pj_zip_entry *e = &z->e[i];
        if (memchr(e->name, 0, e->name_len))
            continue; /* the key would be cut at its NUL */
        int64_t j = pj_zip_locate(z, e->name, e->name_len);
        PJ_FUZZ_CHECK(j >= 0 && j < (int64_t)z->n);
        PJ_FUZZ_CHECK(name_cmp(e, &z->e[j]) == 0);
    }
}

static void extract_all(pj_container_ctx *c, const pj_zip *z)
{
    /* alternately whole members and a few bytes of one, as the npy reader
     * asks for a header first */
    /* hidden members too (past the end record's count): they are read */
    for (uint32_t i = 0; i < z->n_all; i++) {
        uint64_t want = (i & 1) ? 64 : UINT64_MAX;
        const uint8_t *out = NULL;
        size_t n = 0;
        uint8_t *owned = NULL;
        int complete = 0;
        pj_error err;
        int rc = pj_zip_extract(c, z, i, want, "member", &out, &n, &owned, &complete, &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
        if (rc == 0 && out) {
            PJ_FUZZ_CHECK(n <= want);
            if (complete)
                PJ_FUZZ_CHECK(n == z->e[i].uncomp);
            if (owned) /* inflated */
                PJ_FUZZ_CHECK(out == owned);
            else if (n) /* stored: in place, inside the input (nothing: anywhere) */
                PJ_FUZZ_CHECK(out >= z->buf && n <= z->len - (size_t)(out - z->buf));
        }
        free(owned);
        if (rc)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pj_limits lim = pj_fuzz_limits();
    pj_file_result out;
    memset(&out, 0, sizeof out);
    pj_container_ctx c = {.limits = &lim, .cl = pj_fuzz_container_limits(), .out = &out};
    pj_zip z;
    pj_error err;
    int rc = pj_zip_open(&z, data, size, c.cl.entries, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_MALFORMED || rc == PJ_E_LIMIT || rc == PJ_E_NOMEM);
    if (rc == 0) {
        check_entries(&z, data, size);
        rc = pj_zip_audit(&c, &z, NULL, &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
        PJ_FUZZ_CHECK(out.n_notes <= c.cl.notes);
        extract_all(&c, &z);
        pj_zip_close(&z);
    } else {
        PJ_FUZZ_CHECK(z.e == NULL && z.sorted == NULL);
    }
    pj_file_result_free(&out);
    return 0;
}
