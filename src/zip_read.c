/* Reading a zip as its loader would: a PyTorch checkpoint (data.pkl under
 * the archive prefix, the prefix being the first member's name up to its
 * first '/', as inline_container.cc takes it), a TorchScript archive, an
 * .npz, or any other zip — and then every member that could be unpickled or
 * opened by someone, whatever its name. */
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "zip.h"

typedef struct reader {
    pj_container_ctx *c;
    const pj_container_item *it;
    const char *where;
    pj_zip z;
    uint8_t *skip;       /* members already read, or tensor storages */
    int npy_members;
    pj_error *err;
} reader;

/* ---- one member ---------------------------------------------------------- */

static void drop_pickles(pj_file_result *out, uint32_t from)
{
    for (uint32_t i = from; i < out->n_pickles; i++) {
        pj_graph_free(out->pickles[i].g);
        free(out->pickles[i].entry);
    }
    out->n_pickles = from;
}

/* Decode a member as pickles.  With `trial`, keep them only if the first one
 * reached STOP or named or called something before failing: a text file or
 * raw tensor bytes starting with an opcode byte is not a pickle anyone loads. */
static int member_pickles(reader *r, const uint8_t *buf, size_t len, const char *nm, int trial,
                          uint32_t *first)
{
    uint32_t from = r->c->out->n_pickles;
    int rc = pj_container_pickles(r->c, buf, len, nm, first, r->err);
    if (rc || !trial || from >= r->c->out->n_pickles)
        return rc;
    const pj_pickle_result *p = &r->c->out->pickles[from];
    if (p->status != 0 && p->g->n_events == 0)
        drop_pickles(r->c->out, from);
    return 0;
}

static int nested(reader *r, uint32_t i, const char *nm, const char *kind)
{
    pj_container_ctx *c = r->c;
    uint32_t depth = r->it->depth + 1;
    int rc = pj_note_add(c, "zip-nested-archive", 1, nm, r->z.e[i].cdh, r->err,
                         "member is itself a %s: no loader opens it, its contents are read "
                         "anyway", kind);
    if (rc)
        return rc;
    if (depth > c->cl.depth)
        return pj_note_add(c, "limit-exceeded", 2, nm, r->z.e[i].cdh, r->err,
                           "containers nested more than %llu deep",
                           (unsigned long long)c->cl.depth);
    const uint8_t *buf;
    size_t len;
    uint8_t *owned;
    int whole;
    rc = pj_zip_extract(c, &r->z, i, UINT64_MAX, nm, &buf, &len, &owned, &whole, r->err);
    if (rc || !buf)
        return rc;
    if (r->it->owned && !owned) {
        /* a stored member of an inflated archive: that buffer is freed once
         * the archive is read, before the queue reaches this member */
        if (len > c->cl.total_bytes - c->inflated)
            return pj_note_add(c, "limit-exceeded", 2, nm, r->z.e[i].cdh, r->err,
                               "copying %zu more bytes would pass the input's limit of %llu",
                               len, (unsigned long long)c->cl.total_bytes);
        if (!(owned = malloc(len ? len : 1)))
            return pj_error_set(r->err, PJ_E_NOMEM, 0, -1, "out of memory");
        memcpy(owned, buf, len);
        c->inflated += len;
        buf = owned;
    }
    return pj_container_enqueue(c, buf, len, nm, depth, owned != NULL, 0, r->err);
}

static int npy_member(reader *r, uint32_t i, const char *nm, const uint8_t *head, size_t hlen)
{
    pj_container_ctx *c = r->c;
    const pj_zip_entry *e = &r->z.e[i];
    r->npy_members++;
    /* stored members cost nothing to see whole; deflated ones are inflated
     * up to their header first, and whole only for an object array */
    pj_npy_info info;
    const char *why;
    uint64_t want = UINT64_MAX;
    if (e->method == 8) {
        if (pj_npy_prefix(head, hlen, &info, &why) == 0)
            want = info.data;
        else
            want = hlen;
    }
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *buf;
        size_t len;
        uint8_t *owned;
        int whole;
        int rc = pj_zip_extract(c, &r->z, i, want, nm, &buf, &len, &owned, &whole, r->err);
        if (rc || !buf)
            return rc;
        rc = pj_npy_read(c, buf, len, e->uncomp, nm, whole, r->err);
        free(owned);
        if (rc != PJ_NPY_NEED_ALL)
            return rc;
        want = UINT64_MAX;
    }
    return 0;
}

/* Enough of a member to tell what it is. */
#define PEEK 16

static int member(reader *r, uint32_t i)
{
    pj_container_ctx *c = r->c;
    const pj_zip_entry *e = &r->z.e[i];
    if (e->uncomp == 0)
        return 0;
    char *nm = pj_entry_name(r->where, e->name, e->name_len);
    if (!nm)
        return pj_error_set(r->err, PJ_E_NOMEM, 0, -1, "out of memory");
    const uint8_t *head;
    size_t hlen;
    uint8_t *owned;
    int whole;
    int rc = pj_zip_extract(c, &r->z, i, PEEK, nm, &head, &hlen, &owned, &whole, r->err);
    if (rc || !head || hlen == 0)
        goto out;
    uint8_t peek[PEEK];
    memcpy(peek, head, hlen);
    free(owned);
    owned = NULL;
    pj_sniff_kind k = pj_sniff(peek, hlen);
    if (k == PJ_SNIFF_NPY) {
        rc = npy_member(r, i, nm, peek, hlen);
    } else if (k == PJ_SNIFF_PICKLE) {
        if (!pj_sniff_pickle_start(peek, hlen))
            goto out;
        const uint8_t *buf;
        size_t len;
        rc = pj_zip_extract(c, &r->z, i, UINT64_MAX, nm, &buf, &len, &owned, &whole, r->err);
        if (rc == 0 && buf)
            rc = member_pickles(r, buf, len, nm, 1, NULL);
    } else {
        rc = nested(r, i, nm, pj_sniff_name(k));
    }
out:
    free(owned);
    free(nm);
    return rc;
}

/* ---- PyTorch ------------------------------------------------------------- */

typedef struct torch_view {
    const uint8_t *prefix; /* the first member's name up to its first '/' */
    size_t prefix_len;
    int64_t data_pkl, constants_pkl, version;
    int code;              /* a member under "<prefix>/code/" */
} torch_view;

/* miniz's lookup of "<prefix>/<name>", as getRecord builds the key.  key has
 * room for prefix_len + 1 + strlen(name): the prefix can be as long as a
 * member name (64 KiB); a fixed buffer that gave up on a long one made the
 * archive look like no PyTorch archive at all. */
static int64_t record(const reader *r, const torch_view *t, uint8_t *key, const char *name)
{
    size_t n = strlen(name);
    memcpy(key, t->prefix, t->prefix_len);
    key[t->prefix_len] = '/';
    memcpy(key + t->prefix_len + 1, name, n);
    return pj_zip_locate(&r->z, key, t->prefix_len + 1 + n);
}

static int under(const pj_zip_entry *e, const torch_view *t, const char *dir)
{
    size_t d = strlen(dir);
    return e->name_len > t->prefix_len + 1 + d && memcmp(e->name, t->prefix, t->prefix_len) == 0 &&
           e->name[t->prefix_len] == '/' && memcmp(e->name + t->prefix_len + 1, dir, d) == 0;
}

/* 1 when the archive is PyTorch's: a prefix, and data.pkl, constants.pkl or
 * version under it; 0 when not; PJ_E_NOMEM. */
static int torch_detect(reader *r, torch_view *t)
{
    memset(t, 0, sizeof *t);
    if (r->z.n == 0)
        return 0;
    const pj_zip_entry *e0 = &r->z.e[0];
    const uint8_t *slash = memchr(e0->name, '/', e0->name_len);
    if (!slash)
        return 0;
    t->prefix = e0->name;
    t->prefix_len = (size_t)(slash - e0->name);
    uint8_t *key = malloc(t->prefix_len + 1 + sizeof ".data/version");
    if (!key)
        return PJ_E_NOMEM;
    t->data_pkl = record(r, t, key, "data.pkl");
    t->constants_pkl = record(r, t, key, "constants.pkl");
    t->version = record(r, t, key, "version");
    if (t->version < 0)
        t->version = record(r, t, key, ".data/version");
    free(key);
    for (uint32_t i = 0; i < r->z.n_all; i++)
        t->code |= under(&r->z.e[i], t, "code/");
    return t->data_pkl >= 0 || t->constants_pkl >= 0 || t->version >= 0;
}

static int torch_data_pkl(reader *r, const torch_view *t)
{
    pj_container_ctx *c = r->c;
    uint32_t i = (uint32_t)t->data_pkl;
    const pj_zip_entry *e = &r->z.e[i];
    r->skip[i] = 1;
    char *nm = pj_entry_name(r->where, e->name, e->name_len);
    if (!nm)
        return pj_error_set(r->err, PJ_E_NOMEM, 0, -1, "out of memory");
    const uint8_t *buf;
    size_t len;
    uint8_t *owned;
    int whole;
    uint32_t first = 0;
    int rc = pj_zip_extract(c, &r->z, i, UINT64_MAX, nm, &buf, &len, &owned, &whole, r->err);
    /* torch unpickles it whatever it holds: no trial */
    if (rc == 0 && buf)
        rc = member_pickles(r, buf, len, nm, 0, &first);
    free(owned);
    free(nm);
    if (rc == 0 && buf && first < c->out->n_pickles)
        rc = pj_zip_torch(c, &r->z, r->where, t->prefix, t->prefix_len, first, r->skip, r->err);
    return rc;
}

static int torch_notes(reader *r, const torch_view *t)
{
    pj_container_ctx *c = r->c;
    int rc = 0;
    if (t->constants_pkl >= 0 || t->code)
        rc = pj_note_add(c, "torchscript", 3, r->where, 0, r->err,
                         "TorchScript archive (code/ or constants.pkl): torch.load hands it to "
                         "torch.jit.load, which runs its code");
    if (rc == 0 && t->data_pkl < 0)
        rc = pj_note_add(c, "torch-no-data-pkl", 2, r->where, 0, r->err,
                         "PyTorch archive without data.pkl under its prefix");
    for (uint32_t i = 0; i < r->z.n_all && rc == 0; i++) {
        const pj_zip_entry *e = &r->z.e[i];
        if (e->name_len > t->prefix_len && memcmp(e->name, t->prefix, t->prefix_len) == 0 &&
            e->name[t->prefix_len] == '/')
            continue;
        char *nm = pj_entry_name(r->where, e->name, e->name_len);
        rc = pj_note_add(c, "torch-outside-prefix", 1, nm, e->cdh, r->err,
                         "member outside the archive's prefix directory: PyTorch cannot name "
                         "it, other readers see it");
        free(nm);
    }
    return rc;
}

/* ---- the archive --------------------------------------------------------- */

static int open_notes(reader *r, int rc, pj_error *zerr)
{
    if (rc == PJ_E_MALFORMED)
        return pj_note_add(r->c, "zip-malformed", 2, r->where, zerr->offset, r->err,
                           "PyTorch's zip reader refuses it: %s", r->z.why);
    if (rc == PJ_E_LIMIT)
        return pj_note_add(r->c, "limit-exceeded", 2, r->where, zerr->offset, r->err, "%s",
                           zerr->message);
    *r->err = *zerr;
    return rc;
}

int pj_read_zip(pj_container_ctx *c, const pj_container_item *it, pj_error *err)
{
    reader r = {.c = c, .it = it, .where = *it->name ? it->name : NULL, .err = err};
    pj_error zerr;
    pj_error_clear(&zerr);
    int rc = pj_zip_open(&r.z, it->buf, it->len, c->cl.entries, &zerr);
    if (rc) {
        int k = pj_container_set_kind(c, "zip", err);
        return k ? k : open_notes(&r, rc, &zerr);
    }
    torch_view t;
    int torch = torch_detect(&r, &t);
    r.skip = torch < 0 ? NULL : calloc(r.z.n_all ? r.z.n_all : 1, 1);
    if (!r.skip) {
        pj_zip_close(&r.z);
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    }
    rc = pj_zip_audit(c, &r.z, r.where, err);
    if (rc == 0 && torch)
        rc = torch_notes(&r, &t);
    if (rc == 0 && torch && t.data_pkl >= 0)
        rc = torch_data_pkl(&r, &t);
    for (uint32_t i = 0; i < r.z.n_all && rc == 0; i++)
        if (!r.skip[i])
            rc = member(&r, i);
    if (rc == 0) {
        const char *kind = torch ? (t.constants_pkl >= 0 || t.code ? "torchscript-zip" : "torch-zip")
                                 : r.npy_members ? "npz" : "zip";
        rc = pj_container_set_kind(c, kind, err);
    }
    free(r.skip);
    pj_zip_close(&r.z);
    return rc;
}

/* A pickle or .npy file is read from byte 0 by its loader; zipfile, miniz
 * and every scanner built on them find a zip by its end record instead.  If
 * one is there, the file is two things: read the zip too, here and now (the
 * zip view does not probe again, so this goes one level deep only). */
int pj_probe_trailing_zip(pj_container_ctx *c, const pj_container_item *it, const char *kind,
                          pj_error *err)
{
    uint64_t eocd;
    if (pj_zip_find_eocd(it->buf, it->len, &eocd))
        return 0;
    pj_zip z;
    pj_error zerr;
    int rc = pj_zip_open(&z, it->buf, it->len, c->cl.entries, &zerr);
    if (rc == PJ_E_NOMEM)
        return pj_error_set(err, rc, 0, -1, "out of memory");
    const char *where = *it->name ? it->name : NULL;
    if (rc == PJ_E_MALFORMED)
        return 0; /* a stray signature: no reader finds a zip here */
    if (rc == 0)
        pj_zip_close(&z);
    rc = pj_note_add(c, "polyglot", 2, where, eocd, err,
                     "this %s is also a zip archive (end record at %llu): its loader reads "
                     "one, zip readers and scanners the other; both were decoded",
                     kind, (unsigned long long)eocd);
    if (rc)
        return rc;
    pj_container_item view = *it;
    view.owned = 0;
    view.kind = PJ_SNIFF_ZIP;
    return pj_read_zip(c, &view, err);
}
