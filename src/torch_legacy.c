/* Reading PyTorch's legacy format as torch 1.13's _legacy_load does (see
 * torch_legacy.h). */
#include "torch_legacy.h"
#include "torch_storage.h"

#include <stdlib.h>
#include <string.h>

#include "joblib.h" /* pj_joblib_graph_has_wrapper */
#include "zip.h"    /* pj_le64 */

/* 0x1950a86a20f9469cfc6c as LONG1 stores it: minimal little-endian two's
 * complement. */
static const uint8_t magic_le[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
#define PROTOCOL_VERSION 1001

static int element_size(const pj_graph *g, pj_id type)
{
    if (pj_graph_node(g, type)->kind != PJ_K_GLOBAL)
        return 0;
    pj_blob mod, name;
    pj_graph_global(g, type, &mod, &name);
    return pj_torch_storage_size(name.p, (size_t)name.n);
}

/* ---- the header pickles -------------------------------------------------- */

static int root_is_magic(const pj_graph *g)
{
    if (g->root == PJ_NIL || pj_graph_node(g, g->root)->kind != PJ_K_BIGINT)
        return 0;
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, g->root, &n);
    return n == sizeof magic_le && memcmp(p, magic_le, n) == 0;
}

static int root_is_version(const pj_graph *g)
{
    if (g->root == PJ_NIL)
        return 0;
    const pj_node *n = pj_graph_node(g, g->root);
    return n->kind == PJ_K_INT && n->v.i == PROTOCOL_VERSION;
}

/* A value made by a call, whose comparison with an int is up to its class
 * (an int subclass, a Decimal, an object whose __ne__ says False...). */
static int root_computed(const pj_graph *g)
{
    if (g->root == PJ_NIL)
        return 0;
    switch (pj_graph_node(g, g->root)->kind) {
    case PJ_K_GLOBAL:
    case PJ_K_REDUCE:
    case PJ_K_NEWOBJ:
    case PJ_K_INST:
    case PJ_K_PERSID:
    case PJ_K_EXT:
        return 1;
    default:
        return 0;
    }
}

/* Any other value is plain data and its comparison is known: a container,
 * a string or None never equals an int; int == float is exact in Python,
 * and no float holds the 77-bit magic (1001.0 is handled below). */
static int magic_fit(const pj_graph *g)
{
    return root_is_magic(g) ? 1 : root_computed(g) ? -1 : 0;
}

static int root_is_version_float(const pj_graph *g)
{
    if (g->root == PJ_NIL)
        return 0;
    const pj_node *n = pj_graph_node(g, g->root);
    return n->kind == PJ_K_FLOAT && n->v.f == (double)PROTOCOL_VERSION;
}

static int version_fits(const pj_graph *g)
{
    return root_is_version(g) || root_is_version_float(g) || root_computed(g);
}

/* As pj_torch_legacy_detect, for the graphs g[0..n). */
static int header_fit(const pj_graph *const *g, uint32_t n)
{
    int m = magic_fit(g[0]);
    if (m >= 0)
        return m;
    if (n == 1)
        return -1;
    return version_fits(g[1]) ? 2 : 0;
}

int pj_torch_legacy_detect(const pj_file_result *out, const uint32_t *idx, uint32_t n)
{
    const pj_graph *g[2] = {out->pickles[idx[0]].g, n == 2 ? out->pickles[idx[1]].g : NULL};
    return header_fit(g, n);
}

typedef struct lreader {
    pj_container_ctx *c;
    const pj_container_item *it;
    const char *where;
    pj_error *err;
} lreader;

#define NOTE(r, rule, sev, at, ...) pj_note_add((r)->c, rule, sev, (r)->where, at, (r)->err, __VA_ARGS__)

static int check_header(lreader *r, const uint32_t *p)
{
    const pj_pickle_result *m = &r->c->out->pickles[p[0]];
    const pj_pickle_result *v = &r->c->out->pickles[p[1]];
    int rc = 0;
    if (!root_is_magic(m->g))
        rc = NOTE(r, "torch-legacy-magic", 3, m->offset,
                  "the magic number is not an integer literal: torch.load only compares the "
                  "first pickle's value, which a call can compute");
    else if (m->g->n_events || m->g->n_ops)
        rc = NOTE(r, "torch-legacy-magic", 3, m->offset,
                  "the magic-number pickle also names or calls something");
    if (rc == 0 && (v->g->n_events || v->g->n_ops))
        rc = NOTE(r, "torch-legacy-header", 3, v->offset,
                  "the protocol-version pickle names or calls something");
    else if (rc == 0 && root_is_version_float(v->g))
        rc = NOTE(r, "torch-legacy-header", 2, v->offset,
                  "the protocol version is a float, which torch.load's != takes for %d: "
                  "torch.save never writes it", PROTOCOL_VERSION);
    else if (rc == 0 && !root_is_version(v->g))
        rc = NOTE(r, "torch-legacy-header", 1, v->offset,
                  "the protocol version is not %d: torch.load refuses the file",
                  PROTOCOL_VERSION);
    return rc;
}

/* ---- storages: what the persistent ids declare ---------------------------- */

typedef struct skey {
    uint8_t kind;        /* PJ_K_STR or PJ_K_BYTES: 'a' and b'a' are two dict keys */
    const uint8_t *p;
    uint64_t n;
    int esz;             /* element size, 0: unknown storage type */
    uint64_t nbytes;     /* numel x esz */
    uint8_t root;        /* created as a storage of its own, not a view */
    uint8_t read;        /* named in the storage keys: filled from the file */
} skey;

typedef struct smap {
    skey *slot;
    uint32_t n, cap;     /* cap: a power of two, kept under half full */
} smap;

static uint64_t key_hash(uint8_t kind, const uint8_t *p, uint64_t n)
{
    uint64_t h = 1469598103934665603u ^ kind;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static skey *find(const smap *m, uint8_t kind, const uint8_t *p, uint64_t n)
{
    if (!m->cap)
        return NULL;
    uint64_t mask = m->cap - 1;
    for (uint64_t i = key_hash(kind, p, n) & mask;; i = (i + 1) & mask) {
        skey *s = &m->slot[i];
        if (!s->p || (s->kind == kind && s->n == n && (n == 0 || memcmp(s->p, p, n) == 0)))
            return s;
    }
}

static int grow(smap *m, pj_error *err)
{
    if (m->cap > UINT32_MAX / 4)
        return pj_error_set(err, PJ_E_LIMIT, 0, -1, "too many storages");
    smap nm = {.cap = m->cap ? m->cap * 2 : 64};
    nm.slot = calloc(nm.cap, sizeof *nm.slot);
    if (!nm.slot)
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->slot[i].p)
            *find(&nm, m->slot[i].kind, m->slot[i].p, m->slot[i].n) = m->slot[i];
    nm.n = m->n;
    free(m->slot);
    *m = nm;
    return 0;
}

/* deserialized_objects.setdefault(key, storage): the first id wins. */
static int add_key(smap *m, const pj_graph *g, pj_id key, int esz, uint64_t nbytes, int root,
                   pj_error *err)
{
    int rc;
    if (m->n >= m->cap / 2 && (rc = grow(m, err)))
        return rc;
    uint8_t kind = pj_graph_node(g, key)->kind;
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, key, &n);
    if (!p)
        p = (const uint8_t *)""; /* an empty key still marks its slot */
    skey *s = find(m, kind, p, n);
    if (s->p)
        return 0;
    *s = (skey){.kind = kind, .p = p, .n = n, .esz = esz, .nbytes = nbytes, .root = (uint8_t)root};
    m->n++;
    return 0;
}

static int is_key(const pj_graph *g, pj_id id)
{
    pj_kind k = (pj_kind)pj_graph_node(g, id)->kind;
    return k == PJ_K_STR || k == PJ_K_BYTES;
}

static int text_is(const pj_graph *g, pj_id id, const char *s)
{
    if (!is_key(g, id)) /* torch decodes a bytes tag as ASCII */
        return 0;
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, id, &n);
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int nonneg(const pj_graph *g, pj_id id, uint64_t *v)
{
    const pj_node *n = pj_graph_node(g, id);
    if ((n->kind != PJ_K_INT && n->kind != PJ_K_BOOL) || n->v.i < 0)
        return 0;
    *v = (uint64_t)n->v.i;
    return 1;
}

/* One persistent id, as legacy persistent_load takes it: ('module', ...) is a
 * class, ('storage', type, root_key, location, numel, view_metadata) a
 * storage (and maybe a view into it).  NULL, or why torch.load fails on it. */
static const char *add_persid(smap *m, const pj_graph *g, pj_id pid, int *rc, pj_error *err)
{
    *rc = 0;
    if (pj_graph_node(g, pid)->kind != PJ_K_TUPLE)
        return "persistent id is not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, pid, &n);
    if (n >= 1 && text_is(g, it[0], "module"))
        return NULL;
    if (n == 0 || !text_is(g, it[0], "storage"))
        return "persistent id is neither a module nor a storage";
    uint64_t numel, nbytes;
    if (n != 6)
        return "storage persistent id does not have 6 items";
    if (!is_key(g, it[2]))
        return "storage key is not a string";
    int esz = element_size(g, it[1]);
    if (!nonneg(g, it[4], &numel) || __builtin_mul_overflow(numel, (uint64_t)esz, &nbytes))
        return "storage element count is not a sane int";
    if ((*rc = add_key(m, g, it[2], esz, nbytes, 1, err)))
        return NULL;
    pj_kind vk = (pj_kind)pj_graph_node(g, it[5])->kind;
    if (vk == PJ_K_NONE)
        return NULL;
    if (vk != PJ_K_TUPLE)
        return "storage view is not (key, offset, size)";
    uint32_t vn;
    const pj_id *v = pj_graph_items(g, it[5], &vn);
    uint64_t off, size;
    if (vn != 3 || !is_key(g, v[0]) || !nonneg(g, v[1], &off) ||
        !nonneg(g, v[2], &size) || __builtin_mul_overflow(size, (uint64_t)esz, &nbytes))
        return "storage view is not (key, offset, size)";
    *rc = add_key(m, g, v[0], esz, nbytes, 0, err);
    return NULL;
}

static uint64_t event_offset(const pj_graph *g, pj_id id)
{
    for (uint32_t i = 0; i < g->n_events; i++)
        if (g->events[i].node == id)
            return g->events[i].offset;
    return 0;
}

/* Every PERSID node in creation order (torch's persistent_load ran for
 * each, also for ids a later opcode discarded).  *broken: torch fails. */
static int collect(lreader *r, smap *m, const pj_pickle_result *obj, int *broken)
{
    const pj_graph *g = obj->g;
    *broken = 0;
    for (pj_id id = 0; id < g->n_nodes; id++) {
        if (g->nodes[id].kind != PJ_K_PERSID)
            continue;
        int rc;
        const char *why = add_persid(m, g, g->nodes[id].v.r.a, &rc, r->err);
        if (rc)
            return rc;
        if (why) {
            *broken = 1;
            return NOTE(r, "torch-persid-malformed", 1, event_offset(g, id),
                        "%s: torch.load fails on it, the storages cannot be located", why);
        }
    }
    return 0;
}

/* ---- storages: where they are --------------------------------------------- */

/* torch.load creates each storage as UntypedStorage(nbytes), uninitialised,
 * and fills only those the storage keys name: any other one hands the
 * program whatever the allocator held (heap contents, pointers). */
static int unread(lreader *r, const smap *m, const pj_pickle_result *keys)
{
    for (uint32_t i = 0; i < m->cap; i++) {
        const skey *s = &m->slot[i];
        if (s->p && s->root && !s->read && s->nbytes)
            return NOTE(r, "torch-storage-unread", 2, keys->offset,
                        "a storage of %llu bytes is named by a persistent id but not by the "
                        "storage keys: torch.load leaves it uninitialised memory",
                        (unsigned long long)s->nbytes);
    }
    return 0;
}

/* Walk the storages in the keys' order from *off.  0 with *off past the last
 * one read; a note when the walk cannot go on, or when a storage is never
 * read. */
static int walk(lreader *r, smap *m, const pj_pickle_result *keys, size_t *off)
{
    const pj_graph *g = keys->g;
    const uint8_t *buf = r->it->buf;
    size_t len = r->it->len;
    pj_kind k = g->root == PJ_NIL ? PJ_K_NONE : (pj_kind)pj_graph_node(g, g->root)->kind;
    if (k != PJ_K_LIST && k != PJ_K_TUPLE)
        return NOTE(r, "torch-legacy-keys", 2, keys->offset,
                    "the storage-keys pickle is not a list: the storages cannot be located");
    uint32_t n;
    const pj_id *it = pj_graph_items(g, g->root, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (!is_key(g, it[i]))
            return NOTE(r, "torch-legacy-keys", 2, keys->offset,
                        "storage key %u is not a string: the storages cannot be located", i);
        uint64_t kn;
        const uint8_t *kp = pj_graph_bytes(g, it[i], &kn);
        skey *s = find(m, pj_graph_node(g, it[i])->kind, kp ? kp : (const uint8_t *)"", kn);
        if (!s || !s->p)
            return NOTE(r, "torch-storage-missing", 2, keys->offset,
                        "storage key %u names no storage of the object pickle: torch.load "
                        "fails", i);
        if (!s->esz)
            return NOTE(r, "torch-storage-type-unknown", 2, *off,
                        "storage %u has a type PyTorch does not know: its size is unknown", i);
        if (len - *off < 8)
            return NOTE(r, "torch-legacy-truncated", 2, *off,
                        "the input ends before storage %u's element count", i);
        uint64_t count = pj_le64(buf + *off), nbytes;
        if (count > INT64_MAX || __builtin_mul_overflow(count, (uint64_t)s->esz, &nbytes) ||
            nbytes != s->nbytes)
            return NOTE(r, "torch-legacy-storage-size", 2, *off,
                        "storage %u holds %llu elements of %d bytes, its persistent id says "
                        "%llu bytes: torch.load fails",
                        i, (unsigned long long)count, s->esz, (unsigned long long)s->nbytes);
        if (len - *off - 8 < nbytes)
            return NOTE(r, "torch-legacy-truncated", 2, *off,
                        "storage %u (%llu bytes) runs past the end of the input", i,
                        (unsigned long long)nbytes);
        *off += 8 + (size_t)nbytes;
        s->read = 1;
    }
    return unread(r, m, keys);
}

static int finish(lreader *r, int top, size_t off)
{
    size_t left = r->it->len - off;
    if (top) {
        r->c->out->trailing_bytes = left;
        return 0;
    }
    if (!left)
        return 0;
    return NOTE(r, "torch-legacy-trailing", 1, off,
                "%zu bytes after the last storage, which torch.load never reads", left);
}

int pj_torch_legacy_read(pj_container_ctx *c, const pj_container_item *it, int top,
                         const char *where, size_t pos, const uint32_t *idx, uint32_t n,
                         pj_error *err)
{
    lreader r = {.c = c, .it = it, .where = where, .err = err};
    uint32_t p[5];
    memcpy(p, idx, n * sizeof *p);
    size_t off = pos;
    int rc;
    for (uint32_t k = n; k < 5; k++) {
        if (off >= it->len) {
            rc = NOTE(&r, "torch-legacy-truncated", 2, off,
                      "the input ends after %u of the format's five pickles", k);
            return rc ? rc : finish(&r, top, off);
        }
        int status;
        rc = pj_decode_append(c, it->buf, it->len, off, r.where, &off, &status, &p[k], err);
        if (rc || status)
            return rc; /* the failed pickle is reported as such */
    }
    if ((rc = check_header(&r, p)))
        return rc;
    smap m = {0};
    int broken = 0;
    rc = collect(&r, &m, &c->out->pickles[p[3]], &broken);
    if (rc == 0 && !broken)
        rc = walk(&r, &m, &c->out->pickles[p[4]], &off);
    free(m.slot);
    return rc ? rc : finish(&r, top, off);
}

/* ---- where torch.load's reading and the stream reader's part ------------ */

/* Pickles decoded here as pickle.load reads them: own[i] spans at[i] to
 * at[i + 1]. */
typedef struct plain {
    pj_graph *own[4];
    size_t at[5];
    uint32_t n;
} plain;

/* Decode the next one; *ok: it reached STOP (else torch.load fails on it,
 * as it does at the end of the input). */
static int plain_next(pj_container_ctx *c, const pj_container_item *it, plain *pl, int *ok,
                      pj_error *err)
{
    size_t at = pl->at[pl->n], end = at;
    *ok = 0;
    if (at >= it->len)
        return 0;
    pj_decode_opts o = c->opts ? *c->opts : (pj_decode_opts){.encoding = PJ_ENC_ASCII};
    o.build_hook = NULL;
    pj_error e;
    pj_error_clear(&e);
    int st = pj_decode(it->buf, it->len, at, &o, c->limits, &pl->own[pl->n], &end, &e);
    if (!pl->own[pl->n])
        return pj_error_set(err, PJ_E_NOMEM, at, -1, "out of memory");
    pl->at[++pl->n] = end;
    *ok = st == 0;
    return 0;
}

static void plain_free(plain *pl)
{
    for (uint32_t i = 0; i < pl->n; i++)
        pj_graph_free(pl->own[i]);
}

/* Hand the pickles decoded here to the result, after the first `from` of
 * p, then read the rest of the file as legacy. */
static int take(pj_container_ctx *c, const pj_container_item *it, int top, const char *entry,
                plain *pl, uint32_t *p, uint32_t from, pj_error *err)
{
    int rc = 0;
    for (uint32_t i = 0; i < pl->n && rc == 0; i++) {
        p[from + i] = c->out->n_pickles;
        rc = pj_container_add_pickle(c, pl->own[i], entry, pl->at[i], pl->at[i + 1] - pl->at[i],
                                     0, NULL, err);
        pl->own[i] = NULL; /* the result owns it, or it was freed */
    }
    return rc ? rc : pj_torch_legacy_read(c, it, top, entry, pl->at[pl->n], p, from + pl->n, err);
}

int pj_torch_legacy_plain(pj_container_ctx *c, const pj_container_item *it, int top, size_t pos,
                          const uint32_t *idx, uint32_t n, int *taken, pj_error *err)
{
    plain pl = {.at = {pos}};
    const pj_graph *h[2] = {n ? c->out->pickles[idx[0]].g : NULL, NULL};
    uint32_t p[5] = {n ? idx[0] : 0};
    const char *name = *it->name ? it->name : NULL, *entry = name;
    char *where = NULL;
    int fit = -1, ok = 1, rc = 0;
    *taken = 0;
    /* at most two: header_fit decides on the second */
    while (rc == 0 && ok && fit < 0) {
        rc = plain_next(c, it, &pl, &ok, err);
        if (rc == 0 && ok) {
            h[n + pl.n - 1] = pl.own[pl.n - 1];
            fit = header_fit(h, n + pl.n);
        }
    }
    if (rc || !ok || fit <= 0)
        goto out;
    if (n == 0) {
        /* joblib.load reads this first pickle its own way: a second reading */
        if (!(entry = where = pj_entry_name(name, (const uint8_t *)"[torch.load]", 12))) {
            rc = pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
            goto out;
        }
        rc = pj_note_add(c, "torch-legacy-polyglot", 2, name, 0, err,
                         "joblib.load reads the first pickle with its array data, torch.load "
                         "as pickle.load does and then as a legacy checkpoint: both readings "
                         "are judged");
    } else {
        rc = pj_container_set_kind(c, "torch-legacy", err);
    }
    *taken = 1;
    if (rc == 0)
        rc = take(c, it, n ? top : 0, entry, &pl, p, n, err);
out:
    plain_free(&pl);
    free(where);
    return rc;
}

static int has_persid(const pj_graph *g)
{
    for (pj_id id = 0; id < g->n_nodes; id++)
        if (g->nodes[id].kind == PJ_K_PERSID)
            return 1;
    return 0;
}

int pj_torch_legacy_maybe(pj_container_ctx *c, const pj_container_item *it, int top,
                          size_t pos, const uint32_t *idx, int *taken, pj_error *err)
{
    plain pl = {.at = {pos}};
    uint32_t p[5] = {idx[0], idx[1]};
    int ok = 1, rc = 0, differs = 0;
    *taken = 0;
    for (uint32_t k = 0; k < 2 && ok && rc == 0; k++) {
        rc = plain_next(c, it, &pl, &ok, err);
        if (rc == 0 && ok)
            differs |= pj_joblib_graph_has_wrapper(pl.own[k]) || (k == 1 && has_persid(pl.own[k]));
    }
    if (rc == 0 && ok && differs) {
        *taken = 1;
        rc = pj_container_set_kind(c, "torch-legacy", err);
        if (rc == 0)
            rc = take(c, it, top, *it->name ? it->name : NULL, &pl, p, 2, err);
    }
    plain_free(&pl);
    return rc;
}
