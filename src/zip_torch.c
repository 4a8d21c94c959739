/* The checks torch.load makes possible on a zip checkpoint: every
 * persistent id in data.pkl names a storage ('storage', <storage type>, key,
 * location, numel); torch.load reads "<prefix>/data/<key>" (found by miniz's
 * case-insensitive lookup) into a buffer of the member's size, and wraps it
 * in a storage of numel × element-size bytes.  A member smaller than that is
 * an out-of-bounds read in the loader; a missing one fails the load; a larger
 * one hides bytes.  Tensor data itself is never read: the directory's sizes
 * are enough. */
#include <stdlib.h>
#include <string.h>

#include "torch_storage.h"
#include "zip.h"

static int element_size(const pj_blob *name)
{
    return pj_torch_storage_size(name->p, (size_t)name->n);
}

/* str or bytes (torch decodes bytes as ASCII): the bytes, or NULL */
static const uint8_t *text(const pj_graph *g, pj_id id, uint64_t *n)
{
    const pj_node *nd = pj_graph_node(g, id);
    if (nd->kind != PJ_K_STR && nd->kind != PJ_K_BYTES)
        return NULL;
    const uint8_t *p = pj_graph_bytes(g, id, n);
    return p ? p : (const uint8_t *)""; /* an empty string has no storage */
}

typedef struct storage_ref {
    const uint8_t *key;
    uint64_t key_len;
    pj_blob type;  /* storage type name */
    int64_t numel; /* -1: not a plain non-negative int */
} storage_ref;

static const char bytes_key[] = "storage key is bytes: torch reads the record named after its "
                                "repr (data/b'...'), which is not checked";

/* Unpack ('storage', type, key, location, numel).  0, or a reason. */
static const char *unpack(const pj_graph *g, pj_id pid, storage_ref *r)
{
    if (pj_graph_node(g, pid)->kind != PJ_K_TUPLE)
        return "persistent id is not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, pid, &n);
    uint64_t len;
    const uint8_t *tag = n ? text(g, it[0], &len) : NULL;
    if (!tag || len != 7 || memcmp(tag, "storage", 7) != 0)
        return "persistent id does not start with 'storage'";
    if (n != 5)
        return "storage persistent id does not have 5 items";
    if (pj_graph_node(g, it[1])->kind != PJ_K_GLOBAL)
        return "storage type is not a global";
    pj_blob mod;
    pj_graph_global(g, it[1], &mod, &r->type);
    /* torch decodes the type name and location from bytes, never the key:
     * it reads the record f'data/{key}', "data/b'0'" for b'0' */
    if (pj_graph_node(g, it[2])->kind == PJ_K_BYTES)
        return bytes_key;
    if (!(r->key = text(g, it[2], &r->key_len)))
        return "storage key is not a string";
    const pj_node *num = pj_graph_node(g, it[4]);
    r->numel = (num->kind == PJ_K_INT || num->kind == PJ_K_BOOL) && num->v.i >= 0 ? num->v.i : -1;
    return NULL;
}

typedef struct checker {
    pj_container_ctx *c;
    const pj_zip *z;
    const char *where;
    const uint8_t *prefix;
    size_t prefix_len;
    uint8_t *skip;
    const char *pkl;   /* data.pkl's entry name, for notes about ids */
    pj_error *err;
    /* keys already checked (torch loads each key once: the first id wins),
     * an open-addressing set: a hostile pickle can hold millions of ids */
    storage_ref *keys;
    uint32_t n_keys, cap_keys; /* cap: a power of two, kept under half full */
} checker;

static uint64_t key_hash(const uint8_t *p, uint64_t n)
{
    uint64_t h = 1469598103934665603u;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* The slot holding r's key, or the empty slot where it belongs. */
static storage_ref *slot(const checker *k, const storage_ref *r)
{
    uint64_t mask = k->cap_keys - 1, i = key_hash(r->key, r->key_len) & mask;
    for (;; i = (i + 1) & mask) {
        storage_ref *s = &k->keys[i];
        if (!s->key || (s->key_len == r->key_len && memcmp(s->key, r->key, r->key_len) == 0))
            return s;
    }
}

static int grow(checker *k)
{
    uint32_t ncap = k->cap_keys ? k->cap_keys * 2 : 64;
    storage_ref *old = k->keys;
    uint32_t ocap = k->cap_keys;
    k->keys = calloc(ncap, sizeof *k->keys);
    if (!k->keys) {
        k->keys = old;
        return pj_error_set(k->err, PJ_E_NOMEM, 0, -1, "out of memory");
    }
    k->cap_keys = ncap;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i].key)
            *slot(k, &old[i]) = old[i];
    free(old);
    return 0;
}

/* 1 when r's key was seen before, else remembers it: 0, or PJ_E_NOMEM. */
static int seen(checker *k, const storage_ref *r)
{
    int rc;
    if (k->n_keys >= k->cap_keys / 2 && (rc = grow(k)))
        return rc;
    storage_ref *s = slot(k, r);
    if (s->key)
        return 1;
    /* an empty key still needs a non-NULL pointer to mark the slot used */
    *s = *r;
    if (!s->key)
        s->key = (const uint8_t *)"";
    k->n_keys++;
    return 0;
}

static int check_size(checker *k, const storage_ref *r, const pj_zip_entry *e, const char *nm)
{
    int esz = element_size(&r->type);
    if (!esz)
        return pj_note_add(k->c, "torch-storage-type-unknown", 1, nm, e->cdh, k->err,
                           "storage type is not one PyTorch knows: its size is not checked");
    uint64_t need;
    if (r->numel < 0 || __builtin_mul_overflow((uint64_t)r->numel, (uint64_t)esz, &need))
        return pj_note_add(k->c, "torch-storage-size-mismatch", 2, nm, e->cdh, k->err,
                           "element count is not a plain integer of sane size");
    if (need == e->uncomp)
        return 0;
    int smaller = e->uncomp < need;
    return pj_note_add(k->c, "torch-storage-size-mismatch", smaller ? 2 : 1, nm, e->cdh, k->err,
                       "member holds %llu bytes, the storage claims %llu (%lld x %d): %s",
                       (unsigned long long)e->uncomp, (unsigned long long)need,
                       (long long)r->numel, esz,
                       smaller ? "PyTorch would read past the member's buffer"
                               : "bytes no tensor uses");
}

static int check_ref(checker *k, const storage_ref *r, uint64_t at)
{
    int rc = seen(k, r);
    if (rc)
        return rc < 0 ? rc : 0;
    /* the record name torch builds: "<prefix>/data/<key>" */
    size_t n = k->prefix_len + 6 + (size_t)r->key_len;
    uint8_t *name = malloc(n);
    if (!name)
        return pj_error_set(k->err, PJ_E_NOMEM, 0, -1, "out of memory");
    memcpy(name, k->prefix, k->prefix_len);
    memcpy(name + k->prefix_len, "/data/", 6);
    memcpy(name + k->prefix_len + 6, r->key, r->key_len);
    int64_t i = pj_zip_locate(k->z, name, n);
    char *nm = pj_entry_name(k->where, name, n);
    free(name);
    if (!nm)
        return pj_error_set(k->err, PJ_E_NOMEM, 0, -1, "out of memory");
    if (i < 0) {
        rc = pj_note_add(k->c, "torch-storage-missing", 2, nm, at, k->err,
                         "data.pkl names a storage that no member holds");
    } else {
        k->skip[i] = 1;
        rc = check_size(k, r, &k->z->e[i], nm);
    }
    free(nm);
    return rc;
}

static uint64_t event_offset(const pj_graph *g, pj_id id)
{
    for (uint32_t i = 0; i < g->n_events; i++)
        if (g->events[i].node == id)
            return g->events[i].offset;
    return 0;
}

int pj_zip_torch(pj_container_ctx *c, const pj_zip *z, const char *where,
                 const uint8_t *prefix, size_t prefix_len, uint32_t pk, uint8_t *skip,
                 pj_error *err)
{
    const pj_pickle_result *p = &c->out->pickles[pk];
    const pj_graph *g = p->g;
    checker k = {.c = c, .z = z, .where = where, .prefix = prefix, .prefix_len = prefix_len,
                 .skip = skip, .pkl = p->entry, .err = err};
    int rc = 0;
    uint32_t malformed = 0;
    /* every PERSID node, in creation order: also those a later opcode threw
     * away, since torch's persistent_load ran for them all */
    for (pj_id id = 0; id < g->n_nodes && rc == 0; id++) {
        const pj_node *nd = pj_graph_node(g, id);
        if (nd->kind != PJ_K_PERSID)
            continue;
        storage_ref r;
        const char *why = unpack(g, nd->v.r.a, &r);
        if (why) {
            if (why == bytes_key)
                rc = pj_note_add(c, "torch-storage-key-bytes", 2, k.pkl, event_offset(g, id), err,
                                 "%s", why);
            else if (malformed++ == 0)
                rc = pj_note_add(c, "torch-persid-malformed", 1, k.pkl, event_offset(g, id), err,
                                 "%s: torch.load fails on it", why);
            continue;
        }
        rc = check_ref(&k, &r, event_offset(g, id));
    }
    free(k.keys);
    return rc;
}
