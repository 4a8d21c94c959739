/* numpy dtypes given a state by a pickle, audited as numpy 1.24 lays them out.
 *
 * numpy pickles a dtype as numpy.dtype(typestr, align, copy) and a BUILD with
 * (version, byteorder, subarray, names, fields, elsize, alignment, flags
 * [, metadata]).  __setstate__ copies that state into the dtype in place and
 * trusts it: the flags decide whether items hold object pointers (and so
 * whether an array's data is pickled as a list of objects or as raw bytes,
 * whether new memory is zeroed, whether items are reference-counted); field
 * offsets, the subarray's size and the names are not compared with the
 * itemsize or with each other.  Each of the following crashed numpy 1.24 or
 * read outside an item in our tests: an object field whose flags deny
 * objects (numpy fills the array from file bytes, then dereferences them);
 * an object field overlapping an integer field; a field past the itemsize;
 * a subarray larger than the itemsize; a name that is not a key of fields;
 * a second BUILD, or a first BUILD after an array was made with the dtype
 * (the array's bytes were laid out for the old state).
 *
 * So every dtype instance that gets a BUILD is evaluated on the final graph,
 * with its nested dtypes, and must look like what numpy writes; anything else,
 * or anything we cannot evaluate with certainty, gets a `numpy-dtype-state`
 * note (the file is rejected).
 *
 * numpy keeps the state's fields dict by reference: a key set after the BUILD
 * changes the live dtype.  The graph keeps every key ever set, so a replaced
 * key shows as a duplicate and an added one must still be a name or title of
 * the final state.  Limit: the graph holds no time for mutations of builtin
 * containers, so a name missing at BUILD time and added later (numpy then
 * dereferences NULL if an array is filled in between) looks like a name that
 * was always there.
 */
#include <stdlib.h>
#include <string.h>

#include "numpy_dtype_audit.h"
#include "joblib.h"
#include "sort.h"

/* numpy's dtype flags (ndarraytypes.h). */
#define F_REFCOUNT 0x01u    /* items hold references: incref, decref them */
#define F_LIST_PICKLE 0x02u /* array data is pickled as a list, not as bytes */
#define F_IS_POINTER 0x04u  /* an item is a PyObject pointer */
#define F_NEEDS_INIT 0x08u  /* new memory is zeroed before use */
#define F_NEEDS_PYAPI 0x10u
/* What numpy gives any dtype with an object inside (NPY_FROM_FIELDS)... */
#define F_HOLDER (F_REFCOUNT | F_LIST_PICKLE | F_NEEDS_INIT | F_NEEDS_PYAPI)
/* ...and the object dtype itself (NPY_OBJECT_DTYPE_FLAGS). */
#define F_OBJECT 0x3fu

#define NOTES_MAX 16u /* per pickle: one is enough to reject it */
#define NDIM_MAX 32u  /* NPY_MAXDIMS */
#define NONE_ UINT32_MAX

enum { V_NEW = 0, V_OPEN, V_DONE };

/* One dtype instance of the graph. */
typedef struct dt {
    pj_id node;
    uint64_t created;  /* offset of the event that made it */
    uint32_t build;    /* its first BUILD op, NONE_ when it has none */
    uint32_t n_builds;
    uint8_t visit;     /* V_*: where its evaluation is */
    uint8_t holds;     /* an object somewhere in its items */
    int64_t itemsize;
    const char *why;   /* evaluated: NULL, or why numpy cannot be trusted with it */
} dt;

typedef struct audit {
    pj_container_ctx *c;
    const pj_graph *g;
    const char *entry;
    pj_error *err;
    dt *d;             /* by node id */
    uint32_t n;
    uint64_t *foreign; /* sorted offsets of the ops and calls that are not the dtypes' own */
    uint32_t n_foreign;
    uint32_t *stack;   /* evaluation: dtypes to visit (the nesting is the input's) */
    uint32_t n_stack, cap_stack;
    uint32_t notes;
} audit;

/* The parts of a version 3 or 4 state numpy reads. */
typedef struct parts {
    pj_id sub, names, fields; /* PJ_NIL when None */
    int64_t elsize, flags;
} parts;

/* ---- names -------------------------------------------------------------- */

static int blob_is(pj_blob b, const char *s)
{
    size_t n = strlen(s);
    return b.n == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

static pj_kind kind_of(const pj_graph *g, pj_id id)
{
    return (pj_kind)pj_graph_node(g, id)->kind;
}

static int is_int(const pj_graph *g, pj_id id, int64_t *v)
{
    const pj_node *n = pj_graph_node(g, id);
    if (n->kind != PJ_K_INT && n->kind != PJ_K_BOOL)
        return 0;
    *v = n->v.i;
    return 1;
}

/* A component of a dotted name equals s (a protocol 4 name such as
 * "core.multiarray.dtype" is walked attribute by attribute). */
static int has_part(pj_blob b, const char *s, int suffix)
{
    size_t n = strlen(s);
    uint64_t start = 0;
    for (uint64_t i = 0; i <= b.n; i++) {
        if (i < b.n && b.p[i] != '.')
            continue;
        uint64_t len = i - start;
        if (suffix ? len >= n && memcmp(b.p + i - n, s, n) == 0
                   : len == n && memcmp(b.p + start, s, n) == 0)
            return 1;
        start = i + 1;
    }
    return 0;
}

/* A class whose instances are numpy dtypes: numpy.dtype under any name that
 * reaches it (numpy.core.multiarray, numpy._core..., any module that imported
 * numpy, through a dotted path), and numpy 2's DType classes.  Broad on
 * purpose: a false match only means its state gets checked. */
static int is_dtype_class(const pj_graph *g, pj_id id)
{
    if (kind_of(g, id) != PJ_K_GLOBAL)
        return 0;
    pj_blob m, n;
    pj_graph_global(g, id, &m, &n);
    if (has_part(n, "dtype", 0))
        return 1;
    int numpy = blob_is(m, "numpy") || (m.n > 6 && memcmp(m.p, "numpy.", 6) == 0);
    return numpy && has_part(n, "DType", 1);
}

static int is_global(const pj_graph *g, pj_id id, const char *mod, const char *name)
{
    if (kind_of(g, id) != PJ_K_GLOBAL)
        return 0;
    pj_blob m, n;
    pj_graph_global(g, id, &m, &n);
    return blob_is(m, mod) && blob_is(n, name);
}

/* copyreg's constructors, which protocols 0-2 use to instantiate a class. */
static int is_copyreg_ctor(const pj_graph *g, pj_id id)
{
    return is_global(g, id, "copyreg", "_reconstructor") ||
           is_global(g, id, "copyreg", "__newobj__") ||
           is_global(g, id, "copyreg", "__newobj_ex__") ||
           is_global(g, id, "copy_reg", "_reconstructor");
}

/* Whether node id is a dtype made by calling or instantiating a dtype class,
 * directly or through copyreg. */
static int is_dtype_creation(const pj_graph *g, pj_id id)
{
    const pj_node *n = pj_graph_node(g, id);
    if (n->kind != PJ_K_REDUCE && n->kind != PJ_K_NEWOBJ && n->kind != PJ_K_INST)
        return 0;
    if (is_dtype_class(g, n->v.r.a))
        return 1;
    if (n->kind != PJ_K_REDUCE || !is_copyreg_ctor(g, n->v.r.a) ||
        kind_of(g, n->v.r.b) != PJ_K_TUPLE)
        return 0;
    uint32_t k;
    const pj_id *it = pj_graph_items(g, n->v.r.b, &k);
    return k >= 1 && is_dtype_class(g, it[0]);
}

/* The cheap first look: does anything in the graph name a dtype class? */
static int names_a_dtype(const pj_graph *g)
{
    for (uint32_t i = 0; i < g->n_events; i++) {
        pj_id id = g->events[i].node;
        if (kind_of(g, id) == PJ_K_GLOBAL ? is_dtype_class(g, id) : is_dtype_creation(g, id))
            return 1;
    }
    return 0;
}

/* ---- the dtypes and what runs around them -------------------------------- */

static uint32_t find(const audit *a, pj_id id)
{
    uint32_t lo = 0, hi = a->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->d[mid].node < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n && a->d[lo].node == id ? lo : NONE_;
}

static int by_node(const void *x, const void *y)
{
    pj_id a = ((const dt *)x)->node, b = ((const dt *)y)->node;
    return (a > b) - (a < b);
}

static int by_offset(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static void *alloc_array(size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    return n > SIZE_MAX / size ? NULL : malloc(n * size);
}

static int collect(audit *a)
{
    const pj_graph *g = a->g;
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n_events; i++)
        n += (uint32_t)is_dtype_creation(g, g->events[i].node);
    if (!(a->d = alloc_array(n, sizeof *a->d)))
        return pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
    int sorted = 1;
    for (uint32_t i = 0; i < g->n_events; i++) {
        const pj_event *e = &g->events[i];
        if (!is_dtype_creation(g, e->node))
            continue;
        if (a->n && a->d[a->n - 1].node >= e->node)
            sorted = 0;
        a->d[a->n++] = (dt){.node = e->node, .created = e->offset, .build = NONE_};
    }
    if (!sorted)
        pj_sort(a->d, a->n, sizeof *a->d, by_node);
    return 0;
}

/* What may run between a dtype's creation and its BUILD without touching it:
 * naming a global, other dtypes being made, and the calls protocols 0-2 use
 * to write bytes (a datetime dtype's metadata holds some). */
static int quiet_event(const audit *a, pj_id id)
{
    const pj_graph *g = a->g;
    const pj_node *n = pj_graph_node(g, id);
    switch (n->kind) {
    case PJ_K_GLOBAL:
    case PJ_K_EXT:
    case PJ_K_BUFFER: return 1;
    case PJ_K_REDUCE:
        if (is_global(g, n->v.r.a, "_codecs", "encode") ||
            is_global(g, n->v.r.a, "builtins", "bytes"))
            return 1;
        break;
    default: break;
    }
    return find(a, id) != NONE_;
}

/* Count each dtype's BUILDs; list the offsets of everything else that ran. */
static int scan(audit *a)
{
    const pj_graph *g = a->g;
    if (!(a->foreign = alloc_array((size_t)g->n_ops + g->n_events, sizeof *a->foreign)))
        return pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const pj_op *op = &g->ops[i];
        uint32_t k = op->kind == PJ_OP_BUILD ? find(a, op->target) : NONE_;
        if (k == NONE_)
            a->foreign[a->n_foreign++] = op->offset;
        else if (a->d[k].n_builds++ == 0)
            a->d[k].build = i;
    }
    for (uint32_t i = 0; i < g->n_events; i++)
        if (!quiet_event(a, g->events[i].node))
            a->foreign[a->n_foreign++] = g->events[i].offset;
    if (a->n_foreign)
        pj_sort(a->foreign, a->n_foreign, sizeof *a->foreign, by_offset);
    return 0;
}

/* The first foreign offset after `after`, UINT64_MAX if none. */
static uint64_t next_foreign(const audit *a, uint64_t after)
{
    uint32_t lo = 0, hi = a->n_foreign;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->foreign[mid] <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n_foreign ? a->foreign[lo] : UINT64_MAX;
}

static uint64_t build_offset(const audit *a, const dt *t)
{
    return a->g->ops[t->build].offset;
}

/* ---- one dtype ------------------------------------------------------------ */

/* The type string numpy writes ("f8", "U5", "O8", "V16"): a kind and a size
 * without sign or leading zeros; numpy.dtype accepts far more (comma strings,
 * lists, dicts), which we cannot lay out here. */
static const char *type_string(const pj_graph *g, pj_id node, char *kind, int64_t *size)
{
    const pj_node *nd = pj_graph_node(g, node);
    if (!is_dtype_class(g, nd->v.r.a))
        return "it is made through copyreg: its type cannot be evaluated";
    if ((nd->kind == PJ_K_NEWOBJ && nd->aux != PJ_NIL) || kind_of(g, nd->v.r.b) != PJ_K_TUPLE)
        return "its constructor arguments cannot be evaluated";
    uint32_t n;
    const pj_id *args = pj_graph_items(g, nd->v.r.b, &n);
    int64_t flag;
    if (n < 1 || n > 3 || (n > 1 && !is_int(g, args[1], &flag)) ||
        (n > 2 && !is_int(g, args[2], &flag)) || kind_of(g, args[0]) != PJ_K_STR)
        return "its constructor arguments are not (str, bool, bool)";
    uint64_t len;
    const uint8_t *p = pj_graph_bytes(g, args[0], &len);
    return pj_np_typestr(p, len, kind, size);
}

/* The state of a built dtype, as __setstate__ reads versions 3 and 4 (the
 * ones numpy has written since 1.7; older ones are refused here). */
static const char *read_state(const audit *a, const dt *t, parts *p)
{
    const pj_graph *g = a->g;
    pj_id st = g->ops[t->build].a;
    if (kind_of(g, st) != PJ_K_TUPLE)
        return "its state is not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, st, &n);
    int64_t version, align;
    if (n < 8 || !is_int(g, it[0], &version) ||
        !((version == 3 && n == 8) || (version == 4 && n == 9)))
        return "its state is not version 3 or 4 of numpy's format";
    uint64_t bn;
    const uint8_t *bo = kind_of(g, it[1]) == PJ_K_STR ? pj_graph_bytes(g, it[1], &bn) : NULL;
    if (!bo || bn != 1 || !memchr("<>|=", bo[0], 4))
        return "its byte order is not one numpy writes";
    pj_kind sk = kind_of(g, it[2]), nk = kind_of(g, it[3]), fk = kind_of(g, it[4]);
    int sub_ok = sk == PJ_K_NONE;
    if (sk == PJ_K_TUPLE) {
        uint32_t m;
        const pj_id *s = pj_graph_items(g, it[2], &m);
        sub_ok = m == 2 && kind_of(g, s[1]) == PJ_K_TUPLE;
    }
    if (!sub_ok || (nk != PJ_K_NONE && nk != PJ_K_TUPLE) || (fk != PJ_K_NONE && fk != PJ_K_DICT) ||
        (nk == PJ_K_NONE) != (fk == PJ_K_NONE))
        return "its subarray, names or fields are not what numpy writes";
    if (!is_int(g, it[5], &p->elsize) || !is_int(g, it[6], &align) ||
        !is_int(g, it[7], &p->flags))
        return "its elsize, alignment or flags is not a small int";
    if (p->flags < -128 || p->flags > 127)
        return "its flags overflow numpy's char";
    p->sub = sk == PJ_K_NONE ? PJ_NIL : it[2];
    p->names = nk == PJ_K_NONE ? PJ_NIL : it[3];
    p->fields = fk == PJ_K_NONE ? PJ_NIL : it[4];
    return NULL;
}

/* ---- fields --------------------------------------------------------------- */

typedef struct key {
    const uint8_t *p;
    uint64_t n;
    pj_id val;
} key;

typedef struct span {
    int64_t lo, hi;
    int holds;
} span;

static int key_cmp(const void *x, const void *y)
{
    const key *a = x, *b = y;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return a->n ? memcmp(a->p, b->p, a->n) : 0;
}

static int id_cmp(const void *x, const void *y)
{
    pj_id a = *(const pj_id *)x, b = *(const pj_id *)y;
    return (a > b) - (a < b);
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return (a->lo > b->lo) - (a->lo < b->lo);
}

/* Str items as sorted keys; why on anything else or on a repeat. */
static const char *sorted_keys(const pj_graph *g, const pj_id *it, uint32_t n, uint32_t step,
                               key *out)
{
    for (uint32_t i = 0, k = 0; i < n; i += step, k++) {
        if (kind_of(g, it[i]) != PJ_K_STR)
            return "a field name or key is not a str";
        out[k].p = pj_graph_bytes(g, it[i], &out[k].n);
        out[k].val = step == 2 ? it[i + 1] : PJ_NIL;
    }
    uint32_t m = n / step;
    if (m > 1)
        pj_sort(out, m, sizeof *out, key_cmp);
    for (uint32_t k = 1; k < m; k++)
        if (key_cmp(&out[k - 1], &out[k]) == 0)
            return "a field name or key appears twice (set again after the state was built?)";
    return NULL;
}

/* The field dtype of a (dtype, offset[, title]) value, evaluated. */
static const char *field_type(const audit *a, const dt *t, pj_id val, const dt **out,
                              int64_t *off)
{
    const pj_graph *g = a->g;
    if (kind_of(g, val) != PJ_K_TUPLE)
        return "a field is not a (dtype, offset) tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, val, &n);
    if (n < 2 || n > 3 || !is_int(g, it[1], off))
        return "a field is not a (dtype, offset) tuple";
    uint32_t c = find(a, it[0]);
    if (c == NONE_)
        return "a field's type is not a numpy.dtype";
    *out = &a->d[c];
    if ((*out)->visit != V_DONE)
        return "a field's type could not be evaluated";
    if ((*out)->why)
        return (*out)->why;
    if ((*out)->n_builds > 1)
        return "a field's type is given several states";
    if ((*out)->build != NONE_ && build_offset(a, *out) > build_offset(a, t))
        return "a field's type is given its state after the dtype holding it";
    return NULL;
}

/* Object fields must not share bytes with any other field: writing the other
 * field would forge the pointer (numpy refuses to make such dtypes). */
static const char *overlaps(span *s, uint32_t n)
{
    if (n > 1)
        pj_sort(s, n, sizeof *s, span_cmp);
    int64_t end = 0;
    int members = 0, holds = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i].hi == s[i].lo)
            continue;
        if (members && s[i].lo < end) {
            members++;
            holds |= s[i].holds;
            end = s[i].hi > end ? s[i].hi : end;
        } else {
            members = 1;
            holds = s[i].holds;
            end = s[i].hi;
        }
        if (members > 1 && holds)
            return "a field holding objects overlaps another field";
    }
    return NULL;
}

/* Every key of fields is a name, or a title aliasing a name's very entry. */
static const char *aliases(const pj_graph *g, const key *keys, uint32_t nk, const key *names,
                           uint32_t nn, pj_id *vals)
{
    for (uint32_t i = 0; i < nn; i++)
        vals[i] = names[i].val;
    if (nn > 1)
        pj_sort(vals, nn, sizeof *vals, id_cmp);
    for (uint32_t i = 0; i < nk; i++) {
        if (bsearch(&keys[i], names, nn, sizeof *names, key_cmp))
            continue;
        pj_id v = keys[i].val;
        uint32_t m;
        const pj_id *it = kind_of(g, v) == PJ_K_TUPLE ? pj_graph_items(g, v, &m) : NULL;
        uint64_t tn;
        const uint8_t *tp = it && m == 3 && kind_of(g, it[2]) == PJ_K_STR
                                ? pj_graph_bytes(g, it[2], &tn) : NULL;
        if (!tp || tn != keys[i].n || (tn && memcmp(tp, keys[i].p, tn)) ||
            !bsearch(&v, vals, nn, sizeof *vals, id_cmp))
            return "fields has a key that is neither a name nor a title";
    }
    return NULL;
}

static const char *check_names(const audit *a, dt *t, key *keys, uint32_t nk, key *names,
                               uint32_t nn, span *spans)
{
    for (uint32_t i = 0; i < nn; i++) {
        const key *k = bsearch(&names[i], keys, nk, sizeof *keys, key_cmp);
        if (!k)
            return "a name is not a key of fields";
        names[i].val = k->val;
        const dt *f;
        int64_t off;
        const char *why = field_type(a, t, k->val, &f, &off);
        if (why)
            return why;
        if (off < 0 || off > INT32_MAX || f->itemsize > t->itemsize - off)
            return "a field lies outside the item";
        spans[i] = (span){off, off + f->itemsize, f->holds};
        t->holds |= f->holds;
    }
    return NULL;
}

static int check_fields(audit *a, dt *t, const parts *p, const char **why)
{
    const pj_graph *g = a->g;
    uint32_t nn, nk2;
    const pj_id *nit = pj_graph_items(g, p->names, &nn);
    const pj_id *kit = pj_graph_items(g, p->fields, &nk2);
    uint32_t nk = nk2 / 2;
    key *names = alloc_array(nn, sizeof *names), *keys = alloc_array(nk, sizeof *keys);
    span *spans = alloc_array(nn, sizeof *spans);
    pj_id *vals = alloc_array(nn, sizeof *vals);
    int rc = 0;
    if (!names || !keys || !spans || !vals) {
        rc = pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
        goto out;
    }
    if (!(*why = sorted_keys(g, nit, nn, 1, names)) && !(*why = sorted_keys(g, kit, nk2, 2, keys)) &&
        !(*why = check_names(a, t, keys, nk, names, nn, spans)) &&
        !(*why = aliases(g, keys, nk, names, nn, vals)))
        *why = overlaps(spans, nn);
out:
    free(names);
    free(keys);
    free(spans);
    free(vals);
    return rc;
}

/* A subarray (base, shape): numpy lays out prod(shape) bases in the item. */
static const char *check_subarray(const audit *a, dt *t, pj_id sub)
{
    const pj_graph *g = a->g;
    uint32_t n, nd;
    const pj_id *it = pj_graph_items(g, sub, &n);
    const pj_id *shape = pj_graph_items(g, it[1], &nd);
    uint32_t c = find(a, it[0]);
    if (c == NONE_)
        return "its subarray type is not a numpy.dtype";
    const dt *b = &a->d[c];
    if (b->visit != V_DONE)
        return "its subarray type could not be evaluated";
    if (b->why)
        return b->why;
    if (b->n_builds > 1 || (b->build != NONE_ && build_offset(a, b) > build_offset(a, t)))
        return "its subarray type is given its state late or several times";
    if (nd > NDIM_MAX)
        return "its subarray has too many dimensions";
    int zero = 0;
    int64_t total = b->itemsize;
    for (uint32_t i = 0; i < nd; i++) {
        int64_t v;
        if (!is_int(g, shape[i], &v) || v < 0 || v > INT32_MAX)
            return "its subarray shape is not small non-negative ints";
        if (v == 0)
            zero = 1;
        else if (total > INT32_MAX / v)
            total = (int64_t)INT32_MAX + 1; /* too large either way */
        else
            total *= v;
    }
    if ((zero ? 0 : total) != t->itemsize)
        return "its subarray's size is not its itemsize";
    t->holds |= b->holds;
    return NULL;
}

/* Holding objects needs numpy's object flags (without them numpy copies
 * raw bytes in and out of object slots); not holding any forbids them. */
static const char *check_flags(const dt *t, char kind, int64_t flags)
{
    unsigned f = (unsigned)flags & 0xffu;
    if (t->holds) {
        unsigned need = kind == 'O' ? F_OBJECT : F_HOLDER;
        if ((f & need) != need)
            return "it holds objects but its flags deny them: numpy would take object "
                   "pointers from raw bytes";
    } else if (f & (F_REFCOUNT | F_LIST_PICKLE | F_IS_POINTER)) {
        return "its flags claim objects it does not hold";
    }
    return NULL;
}

/* Lay out dtype k from its type string, state and (evaluated) nested dtypes. */
static int layout(audit *a, uint32_t k)
{
    dt *t = &a->d[k];
    char kind = 0;
    int64_t size = 0;
    if ((t->why = type_string(a->g, t->node, &kind, &size)))
        return 0;
    t->holds = kind == 'O';
    t->itemsize = size;
    if (t->build == NONE_)
        return 0; /* numpy.dtype(typestr) alone: numpy made all of it */
    parts p;
    if ((t->why = read_state(a, t, &p)))
        return 0;
    if (kind == 'S' || kind == 'U' || kind == 'V') {
        if (p.elsize < 0 || p.elsize > INT32_MAX)
            return (t->why = "its elsize is out of range"), 0;
        t->itemsize = p.elsize;
    }
    if (kind != 'V' && (p.sub != PJ_NIL || p.fields != PJ_NIL))
        return (t->why = "fields or a subarray on a dtype that is not void"), 0;
    if (p.sub != PJ_NIL && (t->why = check_subarray(a, t, p.sub)))
        return 0;
    if (p.fields != PJ_NIL) {
        int rc = check_fields(a, t, &p, &t->why);
        if (rc || t->why)
            return rc;
    }
    t->why = check_flags(t, kind, p.flags);
    return 0;
}

/* ---- walking nested dtypes ------------------------------------------------ */

static int push(audit *a, uint32_t k)
{
    if (a->n_stack == a->cap_stack) {
        uint32_t cap = a->cap_stack ? a->cap_stack : 16;
        if (cap > UINT32_MAX / 2)
            return pj_error_set(a->err, PJ_E_LIMIT, 0, -1, "dtypes nest too deeply");
        uint32_t *s = alloc_array((size_t)cap * 2, sizeof *s);
        if (!s)
            return pj_error_set(a->err, PJ_E_NOMEM, 0, -1, "out of memory");
        if (a->n_stack)
            memcpy(s, a->stack, (size_t)a->n_stack * sizeof *s);
        free(a->stack);
        a->stack = s;
        a->cap_stack = cap * 2;
    }
    a->stack[a->n_stack++] = k;
    return 0;
}

/* Queue a nested dtype to evaluate before t. */
static int child(audit *a, dt *t, pj_id id)
{
    uint32_t c = find(a, id);
    if (c == NONE_) {
        t->why = "a field or subarray type is not a numpy.dtype";
        return 0;
    }
    if (a->d[c].visit == V_OPEN) {
        t->why = "the dtype contains itself";
        return 0;
    }
    return a->d[c].visit == V_NEW ? push(a, c) : 0;
}

/* Open dtype k: queue the dtypes its state nests. */
static int expand(audit *a, uint32_t k)
{
    dt *t = &a->d[k];
    t->visit = V_OPEN;
    parts p;
    if (t->build == NONE_ || (t->why = read_state(a, t, &p)))
        return 0;
    const pj_graph *g = a->g;
    int rc = 0;
    uint32_t n;
    if (p.sub != PJ_NIL)
        rc = child(a, t, pj_graph_items(g, p.sub, &n)[0]);
    if (p.fields == PJ_NIL)
        return rc;
    const pj_id *it = pj_graph_items(g, p.fields, &n);
    for (uint32_t i = 1; i < n && rc == 0 && !t->why; i += 2) {
        uint32_t m = 0;
        const pj_id *f = kind_of(g, it[i]) == PJ_K_TUPLE ? pj_graph_items(g, it[i], &m) : NULL;
        if (m < 1) {
            t->why = "a field is not a (dtype, offset) tuple";
            break;
        }
        rc = child(a, t, f[0]);
    }
    return rc;
}

/* Evaluate dtype k and every dtype it nests, depth first, without recursion:
 * a dtype is laid out once all it nests are. */
static int evaluate(audit *a, uint32_t k)
{
    a->n_stack = 0;
    int rc = a->d[k].visit == V_DONE ? 0 : push(a, k);
    while (rc == 0 && a->n_stack) {
        uint32_t top = a->stack[a->n_stack - 1];
        dt *t = &a->d[top];
        if (t->visit == V_DONE) {
            a->n_stack--;
        } else if (t->visit == V_NEW) {
            rc = expand(a, top);
        } else {
            a->n_stack--;
            if (!t->why)
                rc = layout(a, top);
            t->visit = V_DONE;
        }
    }
    return rc;
}

/* ---- the audit ------------------------------------------------------------ */

static int note(audit *a, const dt *t, uint64_t at, const char *why)
{
    if (a->notes++ >= NOTES_MAX)
        return 0;
    return pj_note_add(a->c, "numpy-dtype-state", 2, a->entry, at, a->err,
                       "the numpy.dtype made at offset %llu: %s",
                       (unsigned long long)t->created, why);
}

static int judge(audit *a, uint32_t k)
{
    dt *t = &a->d[k];
    uint64_t at = build_offset(a, t);
    if (t->n_builds > 1)
        return note(a, t, at, "it is given several states: numpy changes it in place under "
                              "data laid out for the first");
    uint64_t f = next_foreign(a, t->created);
    if (f < at)
        return note(a, t, f, "something runs between its creation and its state: data could "
                             "be laid out for it before numpy changes it");
    int rc = evaluate(a, k);
    if (rc == 0 && t->why)
        rc = note(a, t, at, t->why);
    return rc;
}

int pj_numpy_dtype_audit(pj_container_ctx *c, uint32_t pickle_index, pj_error *err)
{
    if (pickle_index >= c->out->n_pickles)
        return 0;
    const pj_pickle_result *p = &c->out->pickles[pickle_index];
    if (!p->g || !names_a_dtype(p->g))
        return 0;
    audit a = {.c = c, .g = p->g, .entry = p->entry, .err = err};
    int rc = collect(&a);
    if (rc == 0)
        rc = scan(&a);
    for (uint32_t k = 0; rc == 0 && k < a.n; k++)
        if (a.d[k].build != NONE_)
            rc = judge(&a, k);
    if (rc == 0 && a.notes > NOTES_MAX)
        rc = pj_note_add(c, "numpy-dtype-state", 2, a.entry, 0, err,
                         "%u more numpy.dtype states not reported", a.notes - NOTES_MAX);
    free(a.d);
    free(a.foreign);
    free(a.stack);
    return rc;
}
