/* An input (or member) that is a stream of pickles, as the loaders that take
 * it read it: pickle.load and np.load read one pickle; joblib.load reads one
 * with its array data between the opcodes (joblib.c); torch.load reads the
 * five pickles and the raw storages of its legacy format (torch_legacy.c).
 * Which of these applies is decided by content, pickle by pickle: a pickle
 * naming a joblib wrapper is read as joblib reads it; a header that
 * torch.load's comparisons would pass (its magic number and version, read
 * as pickle.load reads them, literal or computed) makes the stream a legacy
 * checkpoint, read both ways when joblib would read it too.  Everything is
 * still decoded, one pickle after another, until the input ends or a pickle
 * fails. */
#include <stdlib.h>
#include <string.h>

#include "joblib.h"
#include "numpy_dtype_audit.h"
#include "torch_legacy.h"

int pj_container_add_pickle(pj_container_ctx *c, pj_graph *g, const char *entry, size_t offset,
                            size_t length, int status, const pj_error *perr, pj_error *err)
{
    pj_pickle_result *p = NULL;
    int rc = pj_file_result_push(c->out, &p, err);
    if (rc) {
        pj_graph_free(g);
        return rc;
    }
    if (entry && !(p->entry = strdup(entry))) {
        c->out->n_pickles--;
        pj_graph_free(g);
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    }
    p->g = g;
    p->offset = offset;
    p->length = length;
    p->status = status;
    if (status && perr)
        p->error = *perr;
    /* Every pickle, whatever read it (plain, joblib, legacy; zip members
     * and npy object arrays in container.c), has its numpy dtype states
     * checked: numpy trusts them. */
    return pj_numpy_dtype_audit(c, c->out->n_pickles - 1, err);
}

int pj_decode_append(pj_container_ctx *c, const uint8_t *buf, size_t len, size_t pos,
                     const char *entry, size_t *end, int *status, uint32_t *index,
                     pj_error *err)
{
    pj_graph *g = NULL;
    pj_error e;
    pj_error_clear(&e);
    *end = pos;
    *index = c->out->n_pickles;
    pj_decode_opts o = c->opts ? *c->opts : (pj_decode_opts){.encoding = PJ_ENC_ASCII};
    o.build_hook = NULL;
    *status = pj_decode(buf, len, pos, &o, c->limits, &g, end, &e);
    if (!g)
        return pj_error_set(err, PJ_E_NOMEM, pos, -1, "out of memory");
    return pj_container_add_pickle(c, g, entry, pos, *end - pos, *status, &e, err);
}

/* The stream's kind, for the result (the outermost reader's wins). */
static int set_kind(pj_container_ctx *c, int legacy, int joblib, int compat, pj_error *err)
{
    if (legacy)
        return pj_container_set_kind(c, "torch-legacy", err);
    if (compat)
        return pj_container_set_kind(c, "joblib-compat", err);
    return pj_container_set_kind(c, joblib ? "joblib" : "pickle", err);
}

int pj_read_pickle_stream(pj_container_ctx *c, const pj_container_item *it, int top,
                          pj_error *err)
{
    const char *where = *it->name ? it->name : NULL;
    pj_joblib_mode mode = it->kind == PJ_SNIFF_JOBLIB_COMPAT ? PJ_JOBLIB_COMPAT : PJ_JOBLIB_AUTO;
    size_t pos = 0, last_stop = 0;
    uint32_t idx[2], n = 0;
    int any_joblib = 0, rc = 0, maybe_legacy = mode == PJ_JOBLIB_AUTO;
    do {
        size_t end;
        int status, jb, lg;
        uint32_t first;
        rc = pj_joblib_decode(c, it->buf, it->len, pos, where, mode, &end, &status, &first, &jb,
                              err);
        if (rc)
            return rc;
        any_joblib |= jb;
        /* torch.load reads the header as pickle.load does, whatever joblib
         * makes of it (and whether or not joblib's reading fails) */
        if (maybe_legacy && jb) {
            maybe_legacy = 0;
            rc = pj_torch_legacy_plain(c, it, top, pos, idx, n, &lg, err);
            if (rc || (lg && n))
                return rc;
        }
        if (status)
            break;
        pos = last_stop = end;
        if (maybe_legacy) {
            idx[n++] = first;
            lg = pj_torch_legacy_detect(c->out, idx, n);
            if (lg == 2) {
                rc = pj_torch_legacy_maybe(c, it, top, pos, idx, &lg, err);
                if (rc || lg)
                    return rc;
            } else if (lg > 0) {
                if ((rc = set_kind(c, 1, 0, 0, err)))
                    return rc;
                return pj_torch_legacy_read(c, it, top, where, pos, idx, n, err);
            }
            maybe_legacy = lg < 0;
        }
    } while (pos < it->len);
    if (top)
        c->out->trailing_bytes = it->len - last_stop;
    return set_kind(c, 0, any_joblib, mode == PJ_JOBLIB_COMPAT, err);
}

int pj_trial_pickles(pj_container_ctx *c, const pj_container_item *it, const char *entry,
                     int *kept, pj_error *err)
{
    uint32_t from = c->out->n_pickles;
    size_t pos = 0;
    int rc = 0;
    *kept = 0;
    do {
        size_t end;
        int status;
        uint32_t index;
        rc = pj_decode_append(c, it->buf, it->len, pos, entry, &end, &status, &index, err);
        if (rc || status)
            break;
        pos = end;
    } while (pos < it->len);
    if (rc || from >= c->out->n_pickles)
        return rc;
    const pj_pickle_result *p = &c->out->pickles[from];
    if (p->status == 0 || p->g->n_events) {
        *kept = 1;
        return 0;
    }
    for (uint32_t i = from; i < c->out->n_pickles; i++) {
        pj_graph_free(c->out->pickles[i].g);
        free(c->out->pickles[i].entry);
    }
    c->out->n_pickles = from;
    return 0;
}
