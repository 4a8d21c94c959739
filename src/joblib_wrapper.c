/* Which objects of a decoded pickle are joblib's array wrappers, and what
 * their attributes are at each BUILD where joblib reads their data (see
 * joblib.h): the class by the name find_class resolves, the attributes as
 * pickle.py's load_build sets them, one BUILD at a time, while the pickle
 * is being decoded. */
#include "joblib.h"

#include <stdlib.h>
#include <string.h>

/* At most this many BUILDs on one wrapper (joblib writes one). */
#define MAX_WRAPPER_BUILDS 16u

/* ---- which globals are joblib's wrappers --------------------------------- */

/* Every name under which Debian's joblib 1.2 makes these classes reachable
 * (found by walking sys.modules): find_class resolves any of them. */
static const struct {
    const char *path;
    pj_joblib_class cls;
} known[] = {
    {"joblib.numpy_pickle.NumpyArrayWrapper", PJ_JOBLIB_NUMPY},
    {"joblib.numpy_pickle.NDArrayWrapper", PJ_JOBLIB_ND},
    {"joblib.numpy_pickle.ZNDArrayWrapper", PJ_JOBLIB_ND},
    {"joblib.numpy_pickle_compat.NDArrayWrapper", PJ_JOBLIB_ND},
    {"joblib.numpy_pickle_compat.ZNDArrayWrapper", PJ_JOBLIB_ND},
};
static const char *const wrapper_names[] = {"NumpyArrayWrapper", "NDArrayWrapper",
                                            "ZNDArrayWrapper"};

static int blob_is(const uint8_t *p, size_t n, const char *s)
{
    return n == strlen(s) && (n == 0 || memcmp(p, s, n) == 0);
}

/* The dotted path find_class walks: module, then each component of name
 * (protocol 4 walks a dotted name; before it, a dotted name fails). */
static int global_path(const pj_graph *g, pj_id id, char *out, size_t cap)
{
    pj_blob m, n;
    pj_graph_global(g, id, &m, &n);
    if ((n.n && memchr(n.p, '.', n.n) && !(pj_graph_node(g, id)->flags & PJ_NF_DOTTED)) ||
        m.n + 1 + n.n >= cap)
        return 0;
    if (m.n)
        memcpy(out, m.p, m.n);
    out[m.n] = '.';
    if (n.n)
        memcpy(out + m.n + 1, n.p, n.n);
    out[m.n + 1 + n.n] = 0;
    return 1;
}

/* Some '.'-separated component of p[0..n) is `comp`. */
static int has_component(const uint8_t *p, size_t n, const char *comp)
{
    size_t cl = strlen(comp), start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '.') {
            if (i - start == cl && memcmp(p + start, comp, cl) == 0)
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

pj_joblib_class pj_joblib_classify_global(const pj_graph *g, pj_id global)
{
    if (pj_graph_node(g, global)->kind != PJ_K_GLOBAL)
        return PJ_JOBLIB_NONE;
    pj_blob m, n;
    pj_graph_global(g, global, &m, &n);
    int dotted = n.n && memchr(n.p, '.', n.n) != NULL;
    if (dotted && !(pj_graph_node(g, global)->flags & PJ_NF_DOTTED))
        return PJ_JOBLIB_NONE; /* getattr(module, "a.b") fails */
    char path[128];
    if (global_path(g, global, path, sizeof path))
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcmp(path, known[i].path) == 0)
                return known[i].cls;
    /* the last component of the name, whatever the length of the path */
    size_t k = n.n;
    while (k && n.p[k - 1] != '.')
        k--;
    for (size_t i = 0; i < sizeof wrapper_names / sizeof wrapper_names[0]; i++)
        if (blob_is(n.p + k, n.n - k, wrapper_names[i]) &&
            (has_component(m.p, m.n, "joblib") || has_component(n.p, k ? k - 1 : 0, "joblib")))
            return PJ_JOBLIB_AMBIGUOUS; /* e.g. sklearn.externals.joblib: depends on the host */
    return PJ_JOBLIB_NONE;
}

int pj_joblib_graph_has_wrapper(const pj_graph *g)
{
    for (pj_id i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind == PJ_K_GLOBAL && pj_joblib_classify_global(g, i) != PJ_JOBLIB_NONE)
            return 1;
    return 0;
}

/* ---- the BUILD index ---------------------------------------------------- */

static int grow_u32(uint32_t **a, uint32_t *cap, uint32_t need, pj_error *err)
{
    if (need <= *cap)
        return 0;
    uint32_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap = ncap > UINT32_MAX / 2 ? need : ncap * 2;
    uint32_t *p = realloc(*a, (size_t)ncap * sizeof *p);
    if (!p)
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    *a = p;
    *cap = ncap;
    return 0;
}

int pj_build_index_update(pj_build_index *ix, const pj_graph *g, pj_error *err)
{
    int rc = grow_u32(&ix->last, &ix->cap_nodes, g->n_nodes, err);
    if (rc == 0)
        rc = grow_u32(&ix->prev, &ix->cap_ops, g->n_ops, err);
    if (rc)
        return rc;
    for (; ix->n_nodes < g->n_nodes; ix->n_nodes++)
        ix->last[ix->n_nodes] = UINT32_MAX;
    for (; ix->n_ops < g->n_ops; ix->n_ops++) {
        const pj_op *op = &g->ops[ix->n_ops];
        ix->prev[ix->n_ops] = UINT32_MAX;
        if (op->kind != PJ_OP_BUILD || op->target >= ix->n_nodes)
            continue;
        ix->prev[ix->n_ops] = ix->last[op->target];
        ix->last[op->target] = ix->n_ops;
    }
    return 0;
}

void pj_build_index_free(pj_build_index *ix)
{
    free(ix->last);
    free(ix->prev);
    memset(ix, 0, sizeof *ix);
}

uint32_t pj_build_last(const pj_build_index *ix, const pj_graph *g, pj_id id)
{
    if (ix && id < ix->n_nodes)
        return ix->last[id];
    uint32_t last = UINT32_MAX;
    for (uint32_t i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == PJ_OP_BUILD && g->ops[i].target == id)
            last = i;
    return last;
}

uint32_t pj_build_prev(const pj_build_index *ix, const pj_graph *g, uint32_t i)
{
    if (ix && i < ix->n_ops)
        return ix->prev[i];
    for (uint32_t k = i; k-- > 0;)
        if (g->ops[k].kind == PJ_OP_BUILD && g->ops[k].target == g->ops[i].target)
            return k;
    return UINT32_MAX;
}

/* ---- what the wrapper's attributes are at this BUILD --------------------- */

/* How an instance was made tells its class (joblib's test is isinstance). */
pj_joblib_class pj_joblib_instance_class(const pj_graph *g, pj_id inst, pj_id *ctor_args)
{
    const pj_node *n = pj_graph_node(g, inst);
    pj_id cls;
    *ctor_args = PJ_NIL;
    if (n->kind == PJ_K_NEWOBJ || n->kind == PJ_K_INST) {
        cls = n->v.r.a;
        if (n->kind == PJ_K_INST)
            *ctor_args = n->v.r.b; /* pickle.py calls klass(*args) when args are given */
    } else if (n->kind == PJ_K_REDUCE) {
        pj_id f = n->v.r.a;
        pj_joblib_class direct = pj_joblib_classify_global(g, f);
        if (direct != PJ_JOBLIB_NONE) {
            *ctor_args = n->v.r.b; /* the class called: __init__ runs */
            return direct;
        }
        char path[256];
        if (pj_graph_node(g, f)->kind != PJ_K_GLOBAL || !global_path(g, f, path, sizeof path) ||
            (strcmp(path, "copyreg._reconstructor") && strcmp(path, "copyreg.__newobj__") &&
             strcmp(path, "copyreg.__newobj_ex__")))
            return PJ_JOBLIB_NONE; /* whatever the callable returns: the policy judges it */
        /* pickle.py calls func(*args): a list works as well as a tuple, but
         * a SETITEM can replace its class after the call, and the graph
         * holds only the list as it is now */
        if (pj_graph_node(g, n->v.r.b)->kind != PJ_K_TUPLE)
            return PJ_JOBLIB_AMBIGUOUS;
        uint32_t na;
        const pj_id *a = pj_graph_items(g, n->v.r.b, &na);
        if (na == 0)
            return PJ_JOBLIB_NONE;
        cls = a[0];
    } else {
        return PJ_JOBLIB_NONE;
    }
    if (pj_graph_node(g, cls)->kind != PJ_K_GLOBAL)
        return PJ_JOBLIB_AMBIGUOUS; /* a computed class: could be a wrapper */
    return pj_joblib_classify_global(g, cls);
}

/* Python truth of a builtin value: 1, 0, or -1 when it cannot be known. */
static int truthy(const pj_graph *g, pj_id id)
{
    const pj_node *n = pj_graph_node(g, id);
    uint32_t k;
    uint64_t b;
    switch ((pj_kind)n->kind) {
    case PJ_K_NONE: return 0;
    case PJ_K_BOOL:
    case PJ_K_INT: return n->v.i != 0;
    case PJ_K_BIGINT: return 1;
    case PJ_K_FLOAT: return n->v.f != 0.0;
    case PJ_K_STR:
    case PJ_K_BYTES:
    case PJ_K_BYTEARRAY: pj_graph_bytes(g, id, &b); return b != 0;
    case PJ_K_LIST:
    case PJ_K_TUPLE:
    case PJ_K_DICT:
    case PJ_K_SET:
    case PJ_K_FROZENSET: pj_graph_items(g, id, &k); return k != 0;
    default: return -1;
    }
}

/* getattr(self, 'numpy_array_alignment_bytes', None) is not None.  A
 * global or the result of a call may be None (os.altsep is): unknown. */
static const char *set_align(const pj_graph *g, pj_id v, pj_joblib_attrs *a)
{
    const pj_node *n = pj_graph_node(g, v);
    if (!(n->kind >= PJ_K_NONE && n->kind <= PJ_K_FROZENSET) && n->kind != PJ_K_MEMORYVIEW)
        return "the wrapper's alignment is an object that may be None";
    a->align = n->kind == PJ_K_NONE ? PJ_JOBLIB_ALIGN_NONE : PJ_JOBLIB_ALIGN_SET;
    a->align_val = n->kind == PJ_K_INT ? n->v.i : -1;
    return NULL;
}

/* The attributes joblib writes.  Any other name is refused: an instance
 * attribute shadows a method of the class (read, read_array...), and a
 * dunder one changes how pickle treats the object (__setstate__ is called
 * by the next BUILD, a slot __class__ changes its class). */
enum { A_SHAPE, A_DTYPE, A_ALIGN, A_OTHER };
static const char *const attr_names[] = {"shape", "dtype", "numpy_array_alignment_bytes",
                                         "subclass", "order", "allow_mmap"};

static int attr_of(const pj_graph *g, pj_id k)
{
    if (pj_graph_node(g, k)->kind != PJ_K_STR)
        return -1;
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, k, &n);
    for (int i = 0; i < (int)(sizeof attr_names / sizeof attr_names[0]); i++)
        if (blob_is(p, (size_t)n, attr_names[i]))
            return i < A_OTHER ? i : A_OTHER;
    return -1;
}

/* One dict of a BUILD state, as pickle.py applies it: `if state:`, then
 * each item in order (inst.__dict__[k] = v, or setattr for the slot
 * state), so the last value of a key wins.  The dict's items are read now,
 * at the BUILD: later SETITEMs on it do not reach the instance. */
static const char *apply_state(const pj_graph *g, pj_id st, pj_joblib_attrs *a)
{
    int t = truthy(g, st);
    if (t == 0)
        return NULL;
    if (pj_graph_node(g, st)->kind != PJ_K_DICT)
        return "the wrapper's state is not a dict";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, st, &n);
    const char *why = NULL;
    for (uint32_t i = 0; i + 1 < n && !why; i += 2) {
        switch (attr_of(g, it[i])) {
        case A_SHAPE: a->shape = it[i + 1]; break;
        case A_DTYPE: a->dtype = it[i + 1]; break;
        case A_ALIGN: why = set_align(g, it[i + 1], a); break;
        case A_OTHER: break;
        default: why = "the wrapper's state sets an attribute joblib never writes";
        }
    }
    return why;
}

/* A BUILD state: a dict, or a (dict, slot dict) pair. */
static const char *apply_build(const pj_graph *g, pj_id st, pj_joblib_attrs *a)
{
    pj_id slots = PJ_NIL;
    if (pj_graph_node(g, st)->kind == PJ_K_TUPLE) {
        uint32_t k;
        const pj_id *it = pj_graph_items(g, st, &k);
        if (k == 2) {
            st = it[0];
            slots = it[1];
        }
    }
    const char *why = apply_state(g, st, a);
    if (!why && slots != PJ_NIL)
        why = apply_state(g, slots, a);
    return why;
}

/* NumpyArrayWrapper.__init__(subclass, shape, order, dtype, allow_mmap=False,
 * numpy_array_alignment_bytes=16), when the class itself was called. */
static const char *apply_ctor(const pj_graph *g, pj_id args, pj_joblib_attrs *a)
{
    a->shape = a->dtype = PJ_NIL;
    a->align = PJ_JOBLIB_ALIGN_NONE; /* no attribute: getattr(..., None) */
    a->align_val = -1;
    if (args == PJ_NIL)
        return NULL;
    /* a list of arguments (pickle.py calls func(*args)) can change after
     * the call; the graph holds it only as it is now */
    if (pj_graph_node(g, args)->kind != PJ_K_TUPLE)
        return "the wrapper's constructor arguments are not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, args, &n);
    if (n == 0)
        return NULL; /* pickle.py's INST without arguments only calls __new__ */
    if (n < 4 || n > 6)
        return "the wrapper's constructor gets the wrong number of arguments";
    a->shape = it[1];
    a->dtype = it[3];
    a->align = PJ_JOBLIB_ALIGN_SET;
    a->align_val = 16;
    return n == 6 ? set_align(g, it[5], a) : NULL;
}

/* ---- the attributes of each wrapper, BUILD by BUILD ---------------------- */

/* The record of inst, made (from its constructor) at its first BUILD. */
static int record_of(pj_wrapper_table *t, const pj_graph *g, pj_id inst, pj_id ctor,
                     pj_joblib_attrs **out, const char **why, pj_error *err)
{
    int rc = grow_u32(&t->of_node, &t->cap_nodes, g->n_nodes, err);
    if (rc)
        return rc;
    for (; t->n_nodes < g->n_nodes; t->n_nodes++)
        t->of_node[t->n_nodes] = 0;
    if (t->of_node[inst]) {
        *out = &t->rec[t->of_node[inst] - 1];
        return 0;
    }
    if (t->n_rec == t->cap_rec) {
        /* at most one record per node: n_rec < n_nodes <= UINT32_MAX */
        uint32_t ncap = t->cap_rec ? (t->cap_rec > UINT32_MAX / 2 ? UINT32_MAX : t->cap_rec * 2)
                                   : 16;
        pj_joblib_attrs *p = realloc(t->rec, (size_t)ncap * sizeof *p);
        if (!p)
            return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
        t->rec = p;
        t->cap_rec = ncap;
    }
    pj_joblib_attrs *a = &t->rec[t->n_rec];
    memset(a, 0, sizeof *a);
    if ((*why = apply_ctor(g, ctor, a)))
        return 0;
    t->of_node[inst] = ++t->n_rec;
    *out = a;
    return 0;
}

int pj_wrapper_build(pj_wrapper_table *t, const pj_graph *g, pj_id inst, pj_id ctor, pj_id state,
                     pj_joblib_attrs *a, const char **why, pj_error *err)
{
    pj_joblib_attrs *r = NULL;
    *why = NULL;
    if (inst >= g->n_nodes)
        return pj_error_set(err, PJ_E_ARG, 0, -1, "no such node");
    int rc = record_of(t, g, inst, ctor, &r, why, err);
    if (rc || *why)
        return rc;
    if (r->builds == MAX_WRAPPER_BUILDS)
        *why = "the wrapper was built too many times to follow";
    else
        r->builds++;
    if (!*why)
        *why = apply_build(g, state, r);
    if (!*why && (r->shape == PJ_NIL || r->dtype == PJ_NIL))
        *why = "the wrapper has no shape or no dtype";
    *a = *r;
    return 0;
}

void pj_wrapper_table_free(pj_wrapper_table *t)
{
    free(t->of_node);
    free(t->rec);
    memset(t, 0, sizeof *t);
}

/* count = product of the shape, as joblib's int64 reduce computes it; a
 * product past int64 or a negative dimension makes joblib fail. */
const char *pj_joblib_shape_count(const pj_graph *g, pj_id shape, uint64_t *count)
{
    pj_kind k = (pj_kind)pj_graph_node(g, shape)->kind;
    if (k != PJ_K_TUPLE && k != PJ_K_LIST)
        return "the wrapper's shape is not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, shape, &n);
    uint64_t c = 1;
    for (uint32_t i = 0; i < n; i++) {
        const pj_node *d = pj_graph_node(g, it[i]);
        if (d->kind != PJ_K_INT && d->kind != PJ_K_BOOL)
            return "a dimension of the wrapper's shape is not an int";
        if (d->v.i < 0)
            return "a dimension of the wrapper's shape is negative";
        if (__builtin_mul_overflow(c, (uint64_t)d->v.i, &c) || c > INT64_MAX)
            return "the wrapper's element count overflows int64";
    }
    *count = c;
    return NULL;
}
