/* Reading a pickle as joblib.load does (see joblib.h): after each BUILD of
 * an array wrapper, how many raw bytes joblib reads (or which nested pickle),
 * and both readings when pickle.load would see other opcodes. */
#include "joblib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many object arrays in one pickle: each is a graph of its own. */
#define MAX_NESTED 4096u

/* ---- the hook ------------------------------------------------------------ */

typedef struct nested {
    pj_graph *g;
    size_t offset, length;
    int status;
    pj_error error;
    uint32_t ordinal; /* which array of the pickle */
} nested;

typedef struct jctx {
    pj_container_ctx *c;
    const uint8_t *buf;
    size_t len;
    const char *entry;
    pj_joblib_mode mode;
    pj_build_index ix;
    pj_wrapper_table wt;    /* each wrapper's attributes, BUILD by BUILD */
    nested *arr;
    uint32_t n_arr, cap_arr;
    uint32_t arrays;        /* wrappers whose data was read */
    int consumed;           /* raw bytes were taken from the stream */
    uint64_t first_raw;     /* where the first were */
} jctx;

/* Add a note; a failure to add it is the only error it can return. */
static int note(jctx *j, const char *rule, int sev, uint64_t at, const char *what,
                const char *why, pj_error *err)
{
    pj_error nerr;
    if (pj_note_add(j->c, rule, sev, j->entry, at, &nerr, "%s%s%s", what, why ? ": " : "",
                    why ? why : ""))
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    return 0;
}

/* Note why joblib's reading cannot be followed, and fail the decode. */
static int refuse(jctx *j, uint64_t at, int code, const char *what, const char *why,
                  pj_error *err)
{
    int rc = note(j, "joblib-array-invalid", 2, at, what, why, err);
    if (rc)
        return rc;
    return pj_error_set(err, code, 0, -1, "%s: %s", what, why);
}

static int keep_nested(jctx *j, pj_graph *g, size_t off, size_t n, int status, const pj_error *e,
                       pj_error *err)
{
    if (j->n_arr == MAX_NESTED) {
        pj_graph_free(g);
        return pj_error_set(err, PJ_E_LIMIT, 0, -1, "more than %u object arrays in one pickle",
                            MAX_NESTED);
    }
    if (j->n_arr == j->cap_arr) {
        uint32_t ncap = j->cap_arr ? j->cap_arr * 2 : 4;
        nested *p = realloc(j->arr, ncap * sizeof *p);
        if (!p) {
            pj_graph_free(g);
            return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
        }
        j->arr = p;
        j->cap_arr = ncap;
    }
    j->arr[j->n_arr++] = (nested){.g = g, .offset = off, .length = n, .status = status,
                                  .error = *e, .ordinal = j->arrays};
    return 0;
}

/* An object array: joblib calls pickle.load on the file (the C unpickler,
 * defaults), and goes on after its STOP. */
static int read_object_array(jctx *j, size_t at, size_t *consumed, pj_error *err)
{
    pj_decode_opts o = {.encoding = PJ_ENC_ASCII};
    pj_graph *g = NULL;
    pj_error e;
    pj_error_clear(&e);
    size_t end = at;
    int rc = pj_decode(j->buf, j->len, at, &o, j->c->limits, &g, &end, &e);
    if (!g)
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    int krc = keep_nested(j, g, at, end - at, rc, &e, err);
    if (krc)
        return krc;
    j->arrays++;
    if (rc)
        return pj_error_set(err, rc == PJ_E_NOMEM || rc == PJ_E_LIMIT ? rc : PJ_E_MALFORMED, 0, -1,
                            "the object array's pickle does not decode: %s", e.message);
    *consumed = end - at;
    return 0;
}

/* A numeric array: the padding byte and padding (when the wrapper's
 * alignment is not None), then count x itemsize bytes. */
static int read_raw_array(jctx *j, const pj_joblib_attrs *a, uint64_t count, const pj_np_dtype *dt,
                          size_t at, size_t *consumed, pj_error *err)
{
    size_t left = j->len - at, pos = 0;
    int rc;
    if (a->align == PJ_JOBLIB_ALIGN_SET) {
        if (left < 1)
            return refuse(j, at, PJ_E_TRUNCATED, "joblib array", "the input ends before the "
                          "padding-length byte", err);
        size_t pad = j->buf[at];
        if (left - 1 < pad)
            return refuse(j, at, PJ_E_TRUNCATED, "joblib array", "padding runs past the input",
                          err);
        int odd = 0;
        for (size_t i = 0; i < pad; i++)
            odd |= j->buf[at + 1 + i] != 0xff;
        int64_t al = a->align_val;
        if (al < 1 || al > 255)
            odd = 1;
        else if ((uint64_t)pad != (uint64_t)al - ((at + 1) % (uint64_t)al))
            odd = 1;
        if (odd && (rc = note(j, "joblib-padding", 2, at, "joblib array padding",
                              "not what joblib writes at this position (length, alignment "
                              "or 0xff bytes): bytes hidden between opcodes", err)))
            return rc;
        pos = 1 + pad;
    }
    if (dt->itemsize == 0)
        return refuse(j, at, PJ_E_TYPE, "joblib array", "itemsize 0 (joblib divides by it)", err);
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)dt->itemsize, &bytes))
        return refuse(j, at, PJ_E_MALFORMED, "joblib array", "count x itemsize overflows", err);
    if (left - pos < bytes) {
        char why[160];
        snprintf(why, sizeof why, "%llu bytes of array data declared, %llu left in the input",
                 (unsigned long long)bytes, (unsigned long long)(left - pos));
        return refuse(j, at, PJ_E_TRUNCATED, "joblib array length", why, err);
    }
    *consumed = pos + (size_t)bytes;
    j->arrays++;
    return 0;
}

static int read_array(jctx *j, pj_graph *g, pj_id inst, pj_id ctor, pj_id state,
                      const uint8_t *rest, size_t *consumed, uint64_t op_at, pj_error *err)
{
    pj_joblib_attrs a;
    uint64_t count = 0;
    pj_np_dtype dt;
    const char *why;
    int rc = pj_wrapper_build(&j->wt, g, inst, ctor, state, &a, &why, err);
    if (rc)
        return rc;
    if (!why)
        why = pj_joblib_shape_count(g, a.shape, &count);
    if (!why)
        why = pj_np_dtype_eval(g, &j->ix, a.dtype, &dt);
    if (why)
        return refuse(j, op_at, PJ_E_UNSUPPORTED, "joblib array wrapper", why, err);
    if (dt.holds_objects && !dt.hasobject) {
        if ((rc = note(j, "joblib-dtype-object-lie", 3, op_at, "joblib array dtype",
                       "holds objects but its flags say it does not: joblib would build "
                       "object pointers from raw file bytes", err)))
            return rc;
        return pj_error_set(err, PJ_E_MALFORMED, 0, -1, "object dtype read as raw bytes");
    }
    if (dt.odd && (rc = note(j, "joblib-dtype-inconsistent", 2, op_at, "joblib array dtype",
                             dt.odd, err)))
        return rc;
    if (!rest) {
        /* BUILD inside a frame that goes on: joblib would read the bytes after
         * the frame while the opcodes continue inside it */
        if (!dt.hasobject && a.align == PJ_JOBLIB_ALIGN_NONE && (count == 0 || dt.itemsize == 0))
            return 0;
        return refuse(j, op_at, PJ_E_MALFORMED, "joblib array",
                      "its data is read from the file while a frame is still open", err);
    }
    size_t at = (size_t)(rest - j->buf);
    rc = dt.hasobject ? read_object_array(j, at, consumed, err)
                      : read_raw_array(j, &a, count, &dt, at, consumed, err);
    if (rc == 0 && !j->consumed && *consumed) {
        j->consumed = 1;
        j->first_raw = at;
    }
    return rc;
}

static int hook(void *ctx, pj_graph *g, pj_id inst, pj_id state, const uint8_t *rest,
                size_t rest_len, size_t *consumed, pj_error *err)
{
    (void)rest_len; /* rest runs to the end of j->buf */
    jctx *j = ctx;
    *consumed = 0;
    pj_id ctor;
    pj_joblib_class k = pj_joblib_instance_class(g, inst, &ctor);
    if (k == PJ_JOBLIB_NONE || (j->mode == PJ_JOBLIB_COMPAT && k == PJ_JOBLIB_NUMPY))
        return 0; /* ZipNumpyUnpickler only replaces NDArrayWrappers */
    int rc = pj_build_index_update(&j->ix, g, err);
    if (rc)
        return rc;
    uint64_t op_at = g->n_ops ? g->ops[g->n_ops - 1].offset : 0;
    switch (k) {
    case PJ_JOBLIB_AMBIGUOUS:
        return refuse(j, op_at, PJ_E_UNSUPPORTED, "joblib array wrapper",
                      "a wrapper class we cannot place (a computed class, one taken from a "
                      "list that can change after the call, or a joblib copy whose identity "
                      "depends on the host): its data cannot be followed",
                      err);
    case PJ_JOBLIB_ND:
        return note(j, "joblib-companion-file", 2, op_at, "joblib NDArrayWrapper",
                    "joblib loads a companion file named by the pickle with "
                    "np.load(allow_pickle=True): its content is not in this input",
                    err);
    default:
        return read_array(j, g, inst, ctor, state, rest, consumed, op_at, err);
    }
}

/* ---- one pickle, as both loaders read it --------------------------------- */

static void free_nested(jctx *j, uint32_t from)
{
    for (uint32_t i = from; i < j->n_arr; i++)
        pj_graph_free(j->arr[i].g);
    free(j->arr);
    j->arr = NULL;
    j->n_arr = j->cap_arr = 0;
}

static int add_named(pj_container_ctx *c, pj_graph *g, const char *parent, const char *name,
                     size_t off, size_t n, int status, const pj_error *e, pj_error *err)
{
    char *nm = pj_entry_name(parent, (const uint8_t *)name, strlen(name));
    if (!nm) {
        pj_graph_free(g);
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    }
    int rc = pj_container_add_pickle(c, g, nm, off, n, status, e, err);
    free(nm);
    return rc;
}

/* Inside an object array's pickle that decoded on its own: pickle.load
 * running those opcodes inline runs the same calls (a pickle that decodes
 * alone never reaches below its own stack or reads a memo slot it did not
 * fill), then stops at its STOP. */
static int in_nested(const jctx *j, uint64_t off, int at_end)
{
    for (uint32_t i = 0; i < j->n_arr; i++) {
        const nested *a = &j->arr[i];
        if (a->status == 0 && off >= a->offset &&
            (at_end ? off == a->offset + a->length : off < a->offset + a->length))
            return 1;
    }
    return 0;
}

/* The plain reading matters too when pickle.load would run other opcodes
 * than joblib.load: it reached STOP where joblib failed, or, among the bytes
 * joblib takes as array data, it named or called something, applied a
 * state, or reached a STOP that is not an object array's own. */
static int plain_differs(const jctx *j, const pj_graph *pg, int prc, size_t pend, int jrc)
{
    if (!j->consumed)
        return prc == 0 && jrc != 0;
    if (prc == 0 && !in_nested(j, pend, 1))
        return 1;
    for (uint32_t i = 0; i < pg->n_events; i++)
        if (pg->events[i].offset >= j->first_raw && !in_nested(j, pg->events[i].offset, 0))
            return 1;
    for (uint32_t i = 0; i < pg->n_ops; i++)
        if (pg->ops[i].offset >= j->first_raw && !in_nested(j, pg->ops[i].offset, 0))
            return 1;
    return 0;
}

static int emit(jctx *j, pj_graph *jg, size_t pos, size_t jend, int jrc, const pj_error *jerr,
                pj_graph *pg, size_t pend, int prc, const pj_error *perr, pj_error *err)
{
    pj_container_ctx *c = j->c;
    int keep_plain = pg && plain_differs(j, pg, prc, pend, jrc);
    int rc = pj_container_add_pickle(c, jg, j->entry, pos, jend - pos, jrc, jerr, err);
    uint32_t i = 0;
    for (; i < j->n_arr && rc == 0; i++) {
        char name[48];
        snprintf(name, sizeof name, "[joblib-array-%u]", j->arr[i].ordinal);
        nested *a = &j->arr[i];
        rc = add_named(c, a->g, j->entry, name, a->offset, a->length, a->status, &a->error, err);
    }
    free_nested(j, i);
    if (rc == 0 && keep_plain && j->consumed)
        rc = note(j, "joblib-polyglot", 2, j->first_raw, "joblib array data",
                  "pickle.load reads these bytes as opcodes, joblib.load as array data: the "
                  "two loaders see different pickles (both are judged)", err);
    if (rc == 0 && keep_plain)
        return add_named(c, pg, j->entry, "[pickle.load]", pos, pend - pos, prc, perr, err);
    pj_graph_free(pg);
    return rc;
}

int pj_joblib_decode(pj_container_ctx *c, const uint8_t *buf, size_t len, size_t pos,
                     const char *entry, pj_joblib_mode mode, size_t *end, int *status,
                     uint32_t *first, int *joblib, pj_error *err)
{
    *first = c->out->n_pickles;
    *joblib = 0;
    pj_graph *pg = NULL;
    pj_error perr;
    pj_error_clear(&perr);
    size_t pend = pos;
    int prc = 0;
    if (mode == PJ_JOBLIB_AUTO) {
        pj_decode_opts plain = c->opts ? *c->opts : (pj_decode_opts){.encoding = PJ_ENC_ASCII};
        plain.build_hook = NULL;
        prc = pj_decode(buf, len, pos, &plain, c->limits, &pg, &pend, &perr);
        if (!pg)
            return pj_error_set(err, PJ_E_NOMEM, pos, -1, "out of memory");
        if (!pj_joblib_graph_has_wrapper(pg)) {
            *end = pend;
            *status = prc;
            return pj_container_add_pickle(c, pg, entry, pos, pend - pos, prc, &perr, err);
        }
    }
    /* joblib.load: NumpyUnpickler is a pickle._Unpickler with its defaults */
    jctx j = {.c = c, .buf = buf, .len = len, .entry = entry, .mode = mode};
    pj_decode_opts jo = {.encoding = PJ_ENC_ASCII, .python_reader = true, .build_hook = hook,
                         .build_ctx = &j};
    pj_graph *jg = NULL;
    pj_error jerr;
    pj_error_clear(&jerr);
    size_t jend = pos;
    int jrc = pj_decode(buf, len, pos, &jo, c->limits, &jg, &jend, &jerr);
    pj_build_index_free(&j.ix);
    pj_wrapper_table_free(&j.wt);
    if (!jg || jrc == PJ_E_NOMEM) {
        pj_graph_free(jg);
        pj_graph_free(pg);
        free_nested(&j, 0);
        return pj_error_set(err, PJ_E_NOMEM, pos, -1, "out of memory");
    }
    *joblib = 1;
    *end = jend;
    *status = jrc;
    return emit(&j, jg, pos, jend, jrc, &jerr, pg, pend, prc, &perr, err);
}
