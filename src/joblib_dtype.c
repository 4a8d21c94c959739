/* A pickled numpy dtype, evaluated as numpy 1.24 rebuilds it: joblib needs
 * its itemsize and hasobject to know how many raw bytes follow an array
 * wrapper.
 *
 * numpy pickles a dtype as REDUCE(numpy.dtype, (typestr, align, copy)) and a
 * BUILD whose state is (version, byteorder, subarray, names, fields, elsize,
 * alignment, flags[, metadata]).  __setstate__ trusts that state: for the
 * flexible kinds (S, U, V) the itemsize is the state's elsize whatever the
 * type string says, and hasobject is bit 0 of the state's flags, for every
 * kind.  A hostile state can therefore make an 'O' dtype report no objects,
 * so that joblib builds an object array from raw file bytes (pointers it then
 * dereferences), or make a float dtype report objects, so that joblib reads
 * a nested pickle where the writer put raw floats.  We compute exactly what
 * numpy would and also what the state really holds; anything outside the
 * forms numpy writes is refused (the caller fails closed).
 *
 * Checked against numpy 1.24 (Debian 12): 'O4' and 'O8' are both objects
 * of pointer size, flags outside a signed char overflow, versions other than
 * 3 and 4 of this format are refused or long obsolete. */
#include <string.h>

#include "joblib.h"

/* Bound on the dtype nodes one walk visits (fields of fields...): numpy's
 * own structured dtypes nest a few levels; a hostile graph can share one
 * node many times or point back at itself. */
#define WALK_MAX 4096u

typedef struct raw {
    char kind;           /* b i u f c O S U V M m */
    int64_t str_size;    /* itemsize the type string alone gives */
    int built;           /* a BUILD state was applied */
    int64_t elsize;
    int flags;
    pj_id subarray, fields; /* PJ_NIL when None */
} raw;

static int is_text(const pj_graph *g, pj_id id, const char *s)
{
    if (pj_graph_node(g, id)->kind != PJ_K_STR)
        return 0;
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, id, &n);
    return n == strlen(s) && (n == 0 || memcmp(p, s, n) == 0);
}

static int global_is(const pj_graph *g, pj_id id, const char *mod, const char *name)
{
    if (pj_graph_node(g, id)->kind != PJ_K_GLOBAL)
        return 0;
    pj_blob m, n;
    pj_graph_global(g, id, &m, &n);
    return m.n == strlen(mod) && memcmp(m.p, mod, m.n) == 0 && n.n == strlen(name) &&
           memcmp(n.p, name, n.n) == 0;
}

static int small_int(const pj_graph *g, pj_id id, int64_t *v)
{
    const pj_node *n = pj_graph_node(g, id);
    if (n->kind != PJ_K_INT && n->kind != PJ_K_BOOL)
        return 0;
    *v = n->v.i;
    return 1;
}

const char *pj_np_typestr(const uint8_t *p, uint64_t n, char *kind, int64_t *itemsize)
{
    if (n < 2 || n > 11 || (p[1] == '0' && n > 2))
        return "dtype type string is not one numpy writes";
    int64_t size = 0;
    for (uint64_t i = 1; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return "dtype type string is not one numpy writes";
        size = size * 10 + (p[i] - '0');
    }
    if (size > INT32_MAX)
        return "dtype size does not fit numpy's int";
    *kind = (char)p[0];
    *itemsize = size;
    switch (p[0]) {
    case 'b': return size == 1 ? NULL : "unknown bool size";
    case 'i':
    case 'u': return size == 1 || size == 2 || size == 4 || size == 8 ? NULL : "unknown int size";
    case 'f': return size == 2 || size == 4 || size == 8 || size == 16 ? NULL : "unknown float size";
    case 'c': return size == 8 || size == 16 || size == 32 ? NULL : "unknown complex size";
    case 'O':
        *itemsize = 8; /* a pointer on the 64-bit hosts that load these files */
        return size == 4 || size == 8 ? NULL : "unknown object size";
    case 'M':
    case 'm': return size == 8 ? NULL : "unknown datetime size";
    case 'S':
    case 'V': return NULL;
    case 'U':
        *itemsize = size * 4; /* UCS-4 characters; size <= INT32_MAX, no overflow */
        return *itemsize <= INT32_MAX ? NULL : "dtype size does not fit numpy's int";
    default: return "unknown dtype kind";
    }
}

static const char *parse_typestr(const pj_graph *g, pj_id id, raw *r)
{
    if (pj_graph_node(g, id)->kind != PJ_K_STR)
        return "dtype type string is not a str";
    uint64_t n;
    const uint8_t *p = pj_graph_bytes(g, id, &n);
    return pj_np_typestr(p, n, &r->kind, &r->str_size);
}

/* The one BUILD numpy's __setstate__ ran on this dtype so far, or PJ_NIL;
 * *many is set when there were several (each would replace the last). */
static pj_id build_state(const pj_graph *g, const pj_build_index *ix, pj_id id, int *many)
{
    uint32_t i = pj_build_last(ix, g, id);
    *many = i != UINT32_MAX && pj_build_prev(ix, g, i) != UINT32_MAX;
    return i == UINT32_MAX ? PJ_NIL : g->ops[i].a;
}

static const char *parse_state(const pj_graph *g, pj_id st, raw *r)
{
    if (pj_graph_node(g, st)->kind != PJ_K_TUPLE)
        return "dtype state is not a tuple";
    uint32_t n;
    const pj_id *it = pj_graph_items(g, st, &n);
    int64_t version, flags;
    if (n < 8 || !small_int(g, it[0], &version) || !((version == 3 && n == 8) ||
                                                     (version == 4 && n == 9)))
        return "dtype state is not version 3 or 4 of numpy's format";
    if (!is_text(g, it[1], "<") && !is_text(g, it[1], ">") && !is_text(g, it[1], "|") &&
        !is_text(g, it[1], "="))
        return "dtype byte order is not one numpy writes";
    pj_kind sk = pj_graph_node(g, it[2])->kind, nk = pj_graph_node(g, it[3])->kind,
            fk = pj_graph_node(g, it[4])->kind;
    if ((sk != PJ_K_NONE && sk != PJ_K_TUPLE) || (nk != PJ_K_NONE && nk != PJ_K_TUPLE) ||
        (fk != PJ_K_NONE && fk != PJ_K_DICT) || (nk == PJ_K_NONE) != (fk == PJ_K_NONE))
        return "dtype subarray, names or fields are not what numpy writes";
    if (r->kind != 'V' && (sk != PJ_K_NONE || fk != PJ_K_NONE))
        return "fields or a subarray on a dtype that is not void";
    int64_t align;
    if (!small_int(g, it[5], &r->elsize) || !small_int(g, it[6], &align) ||
        !small_int(g, it[7], &flags))
        return "dtype elsize, alignment or flags is not a small int";
    /* numpy stores flags in a signed char: anything else overflows */
    if (flags < -128 || flags > 127)
        return "dtype flags overflow numpy's char";
    if (r->elsize < -1 || r->elsize > INT32_MAX || align < -1 || align > INT32_MAX)
        return "dtype elsize or alignment out of numpy's range";
    r->built = 1;
    r->flags = (int)flags;
    r->subarray = sk == PJ_K_NONE ? PJ_NIL : it[2];
    r->fields = fk == PJ_K_NONE ? PJ_NIL : it[4];
    return NULL;
}

/* numpy.dtype(typestr, align, copy) and its BUILD, as numpy writes them. */
static const char *parse(const pj_graph *g, const pj_build_index *ix, pj_id id, raw *r)
{
    memset(r, 0, sizeof *r);
    r->subarray = r->fields = PJ_NIL;
    const pj_node *nd = pj_graph_node(g, id);
    if (nd->kind != PJ_K_REDUCE || !global_is(g, nd->v.r.a, "numpy", "dtype"))
        return "the dtype is not numpy.dtype(...)";
    if (pj_graph_node(g, nd->v.r.b)->kind != PJ_K_TUPLE)
        return "numpy.dtype arguments are not a tuple";
    uint32_t n;
    const pj_id *args = pj_graph_items(g, nd->v.r.b, &n);
    int64_t flag;
    if (n != 3 || !small_int(g, args[1], &flag) || !small_int(g, args[2], &flag))
        return "numpy.dtype arguments are not (str, bool, bool)";
    const char *why = parse_typestr(g, args[0], r);
    if (why)
        return why;
    int many;
    pj_id st = build_state(g, ix, id, &many);
    if (many)
        return "the dtype was given several states";
    if (st == PJ_NIL) {
        r->flags = r->kind == 'O' ? 63 : 0;
        return NULL;
    }
    return parse_state(g, st, r);
}

static int64_t itemsize_of(const raw *r)
{
    int flexible = r->kind == 'S' || r->kind == 'U' || r->kind == 'V';
    return flexible && r->built ? r->elsize : r->str_size;
}

/* Push one dtype node to follow, within the walk's bound. */
static const char *push(pj_id *stack, uint32_t *n, uint32_t *visits, pj_id id)
{
    if (*visits >= WALK_MAX)
        return "dtype nests too deeply or has too many fields to follow";
    (*visits)++;
    stack[(*n)++] = id; /* n <= visits <= WALK_MAX */
    return NULL;
}

/* Push the dtype nodes a structured or subarray dtype refers to. */
static const char *push_children(const pj_graph *g, const raw *r, pj_id *stack, uint32_t *n,
                                 uint32_t *visits)
{
    const char *why = NULL;
    if (r->subarray != PJ_NIL) {
        uint32_t m;
        const pj_id *it = pj_graph_items(g, r->subarray, &m);
        if (m != 2)
            return "dtype subarray is not (dtype, shape)";
        why = push(stack, n, visits, it[0]);
    }
    if (why || r->fields == PJ_NIL)
        return why;
    uint32_t m;
    const pj_id *it = pj_graph_items(g, r->fields, &m);
    for (uint32_t i = 1; i < m && !why; i += 2) {
        if (pj_graph_node(g, it[i])->kind != PJ_K_TUPLE)
            return "dtype field is not a (dtype, offset) tuple";
        uint32_t fm;
        const pj_id *f = pj_graph_items(g, it[i], &fm);
        if (fm < 2 || fm > 3)
            return "dtype field is not a (dtype, offset) tuple";
        why = push(stack, n, visits, f[0]);
    }
    return why;
}

/* Whether an 'O' hides in the fields or subarray of r, walking with an
 * explicit stack (the nesting is the input's choice). */
static const char *find_objects(const pj_graph *g, const pj_build_index *ix, const raw *top,
                                int *found)
{
    pj_id stack[WALK_MAX];
    uint32_t n = 0, visits = 0;
    *found = 0;
    const char *why = push_children(g, top, stack, &n, &visits);
    while (!why && n) {
        raw r;
        if ((why = parse(g, ix, stack[--n], &r)))
            break;
        if (r.kind == 'O')
            *found = 1;
        why = push_children(g, &r, stack, &n, &visits);
    }
    return why;
}

const char *pj_np_dtype_eval(const pj_graph *g, const pj_build_index *ix, pj_id id,
                             pj_np_dtype *out)
{
    memset(out, 0, sizeof *out);
    raw r;
    const char *why = parse(g, ix, id, &r);
    if (why)
        return why;
    int inside = 0;
    if ((why = find_objects(g, ix, &r, &inside)))
        return why;
    out->itemsize = itemsize_of(&r);
    if (out->itemsize < 0)
        return "negative dtype itemsize";
    out->hasobject = r.flags & 1;
    out->holds_objects = r.kind == 'O' || inside;
    if (out->hasobject && !out->holds_objects)
        out->odd = "the dtype's flags claim objects it does not hold";
    else if (r.built && (r.kind == 'S' || r.kind == 'U' || r.kind == 'V') &&
             r.elsize != r.str_size)
        out->odd = "the dtype state's itemsize differs from its type string";
    return NULL;
}
