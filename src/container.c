/* The entry point for any input: sniff, dispatch to a reader, and read the
 * containers found inside containers from a queue (never by recursion: the
 * nesting depth is the input's choice, bounded by the depth limit). */
#include "container.h"
#include "numpy_dtype_audit.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- limits ------------------------------------------------------------- */

pj_container_limits pj_container_limits_default(void)
{
    pj_container_limits l = {
        .entries = PJ_CDEFAULT_ENTRIES,
        .depth = PJ_CDEFAULT_DEPTH,
        .entry_bytes = PJ_CDEFAULT_ENTRY_BYTES,
        .total_bytes = PJ_CDEFAULT_TOTAL_BYTES,
        .ratio = PJ_CDEFAULT_RATIO,
        .npy_header = PJ_CDEFAULT_NPY_HEADER,
        .notes = PJ_CDEFAULT_NOTES,
    };
    return l;
}

int pj_container_limits_check(const pj_container_limits *l, const char **bad)
{
    static const struct {
        const char *name;
        size_t off;
        uint64_t ceiling;
    } fields[] = {
        {"entries", offsetof(pj_container_limits, entries), PJ_CCEILING_ENTRIES},
        {"depth", offsetof(pj_container_limits, depth), PJ_CCEILING_DEPTH},
        {"entry_bytes", offsetof(pj_container_limits, entry_bytes), PJ_CCEILING_ENTRY_BYTES},
        {"total_bytes", offsetof(pj_container_limits, total_bytes), PJ_CCEILING_TOTAL_BYTES},
        {"ratio", offsetof(pj_container_limits, ratio), PJ_CCEILING_RATIO},
        {"npy_header", offsetof(pj_container_limits, npy_header), PJ_CCEILING_NPY_HEADER},
        {"notes", offsetof(pj_container_limits, notes), PJ_CCEILING_NOTES},
    };
    _Static_assert(sizeof fields / sizeof fields[0] ==
                       sizeof(pj_container_limits) / sizeof(uint64_t),
                   "every container limit is checked");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t v = *(const uint64_t *)((const char *)l + fields[i].off);
        if (v == 0 || v > fields[i].ceiling) {
            if (bad)
                *bad = fields[i].name;
            return -1;
        }
    }
    return 0;
}

/* ---- notes and names ---------------------------------------------------- */

/* Notes are one line of printable ASCII: any other byte becomes '?'. */
static void sanitize_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

int pj_note_add(pj_container_ctx *c, const char *rule, int sev, const char *entry,
                uint64_t offset, pj_error *err, const char *fmt, ...)
{
    if (c->out->n_notes >= c->cl.notes) {
        /* A dropped note must not weaken the verdict: it could be the only
         * rejecting one behind a pile of informational ones.  The last kept
         * note becomes the limit's own (cl.notes >= 1 by the limits check). */
        c->notes_dropped++;
        pj_note *last = &c->out->notes[c->out->n_notes - 1];
        char buf[128];
        snprintf(buf, sizeof buf, "%llu notes past the limit of %llu were not kept",
                 (unsigned long long)c->notes_dropped, (unsigned long long)c->cl.notes);
        char *m = strdup(buf), *r = strdup("limit-exceeded");
        if (!m || !r) {
            free(m);
            free(r);
            return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
        }
        free(last->message);
        free(last->rule);
        last->message = m;
        last->rule = r;
        if (last->severity < 2)
            last->severity = 2;
        return 0;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sanitize_line(msg);
    pj_note *n;
    int rc = pj_file_result_push_note(c->out, &n, err);
    if (rc)
        return rc;
    n->rule = strdup(rule);
    n->severity = sev;
    n->entry = entry ? strdup(entry) : NULL;
    n->offset = offset;
    n->message = strdup(msg);
    if (!n->rule || !n->message || (entry && !n->entry))
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    return 0;
}

char *pj_entry_name(const char *parent, const uint8_t *name, size_t n)
{
    size_t plen = (parent && *parent) ? strlen(parent) + 1 : 0;
    /* n comes from a 16-bit field or our own strings: 4n cannot overflow */
    char *s = malloc(plen + 4 * n + 1);
    if (!s)
        return NULL;
    size_t k = 0;
    if (plen) {
        memcpy(s, parent, plen - 1);
        s[plen - 1] = '!';
        k = plen;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        uint8_t b = name[i];
        if (b >= 0x20 && b < 0x7f && b != '\\') {
            s[k++] = (char)b;
        } else {
            s[k++] = '\\';
            s[k++] = 'x';
            s[k++] = hex[b >> 4];
            s[k++] = hex[b & 15];
        }
    }
    s[k] = 0;
    return s;
}

int pj_container_set_kind(pj_container_ctx *c, const char *kind, pj_error *err)
{
    if (c->out->container)
        return 0;
    c->out->container = strdup(kind);
    if (!c->out->container)
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    return 0;
}

/* ---- pickles ------------------------------------------------------------ */

int pj_container_pickles(pj_container_ctx *c, const uint8_t *buf, size_t len,
                         const char *entry, uint32_t *first, pj_error *err)
{
    pj_file_result *out = c->out;
    if (first)
        *first = out->n_pickles;
    size_t pos = 0;
    do {
        pj_pickle_result *p = NULL;
        int rc = pj_file_result_push(out, &p, err);
        if (rc)
            return rc;
        if (entry && !(p->entry = strdup(entry))) {
            out->n_pickles--;
            return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
        }
        size_t end;
        rc = pj_decode(buf, len, pos, c->opts, c->limits, &p->g, &end, &p->error);
        if (!p->g) {
            free(p->entry);
            out->n_pickles--;
            return pj_error_set(err, PJ_E_NOMEM, pos, -1, "out of memory");
        }
        p->offset = pos;
        p->length = end - pos;
        p->status = rc;
        int arc = pj_numpy_dtype_audit(c, out->n_pickles - 1, err);
        if (arc)
            return arc;
        if (rc)
            break;
        pos = end;
    } while (pos < len);
    return 0;
}

/* ---- the queue of nested containers ------------------------------------ */

int pj_container_enqueue(pj_container_ctx *c, const uint8_t *buf, size_t len,
                         const char *name, uint32_t depth, int owned, int kind,
                         pj_error *err)
{
    char *nm = strdup(name ? name : "");
    if (!nm || c->n_queue == UINT32_MAX)
        goto nomem;
    if (c->n_queue == c->cap_queue) {
        uint32_t ncap = c->cap_queue ? c->cap_queue * 2 : 4;
        pj_container_item *q = realloc(c->queue, ncap * sizeof *q);
        if (!q)
            goto nomem;
        c->queue = q;
        c->cap_queue = ncap;
    }
    c->queue[c->n_queue++] = (pj_container_item){
        .buf = buf, .len = len, .name = nm, .depth = depth, .owned = owned, .kind = kind};
    return 0;
nomem:
    free(nm);
    if (owned)
        free((void *)buf);
    return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
}

static void item_release(pj_container_item *it)
{
    if (it->owned)
        free((void *)it->buf);
    free(it->name);
    it->buf = NULL;
    it->name = NULL;
}

/* ---- dispatch ----------------------------------------------------------- */

static const char *unsupported_reason(pj_sniff_kind k)
{
    switch (k) {
    case PJ_SNIFF_TORCH_PREVIEW:
        return "PyTorch preview-release archive (\"PYTORCH1\"): every PyTorch release refuses it";
    case PJ_SNIFF_TAR:
        return "tar archive (PyTorch's oldest checkpoint format, which torch.load still opens "
               "from a file and runs the pickles of): its members are not read";
    case PJ_SNIFF_7Z:
        return "7z archive: no loader opens it, its members are not read";
    default:
        return "not read";
    }
}

static int read_item(pj_container_ctx *c, const pj_container_item *it, pj_error *err)
{
    pj_sniff_kind k = it->kind ? (pj_sniff_kind)it->kind : pj_sniff(it->buf, it->len);
    const char *where = *it->name ? it->name : NULL;
    int rc;
    switch (k) {
    case PJ_SNIFF_ZIP:
        return pj_read_zip(c, it, err);
    case PJ_SNIFF_NPY:
        if ((rc = pj_read_npy(c, it, err)))
            return rc;
        return pj_probe_trailing_zip(c, it, "npy", err);
    case PJ_SNIFF_PICKLE:
    case PJ_SNIFF_TORCH_LEGACY:
    case PJ_SNIFF_JOBLIB_COMPAT:
        if ((rc = pj_read_pickle_stream(c, it, 0, err)))
            return rc;
        return pj_probe_trailing_zip(c, it, "pickle", err);
    case PJ_SNIFF_GZIP:
    case PJ_SNIFF_BZIP2:
    case PJ_SNIFF_XZ:
    case PJ_SNIFF_LZMA:
    case PJ_SNIFF_ZLIB:
    case PJ_SNIFF_LZ4:
        return pj_read_compressed(c, it, k, err);
    default:
        if ((rc = pj_container_set_kind(c, pj_sniff_name(k), err)))
            return rc;
        break;
    }
    return pj_note_add(c, "container-unsupported", 2, where, 0, err, "%s: %s",
                       pj_sniff_name(k), unsupported_reason(k));
}

/* Read every queued item, then release the queue.  After a failure the rest
 * is only released. */
static int run_queue(pj_container_ctx *c, int rc, pj_error *err)
{
    uint32_t i = 0;
    /* FIFO: readers append while we go; c->queue may move, so index it. */
    for (; i < c->n_queue && rc == 0; i++) {
        pj_container_item it = c->queue[i];
        rc = read_item(c, &it, err);
        item_release(&c->queue[i]);
    }
    for (; i < c->n_queue; i++)
        item_release(&c->queue[i]);
    free(c->queue);
    c->queue = NULL;
    c->n_queue = c->cap_queue = 0;
    return rc;
}

int pj_analyze_input(const uint8_t *buf, size_t len, const pj_decode_opts *opts,
                     const pj_limits *limits, const pj_container_limits *climits,
                     pj_file_result *out, pj_error *err)
{
    memset(out, 0, sizeof *out);
    out->input_bytes = len;
    pj_container_ctx c = {.opts = opts, .limits = limits, .out = out};
    c.cl = climits ? *climits : pj_container_limits_default();
    const char *bad = NULL;
    if (pj_container_limits_check(&c.cl, &bad))
        return pj_error_set(err, PJ_E_ARG, 0, -1, "container limit %s is zero or past its ceiling",
                            bad);
    int rc;
    pj_sniff_kind k = pj_sniff(buf, len);
    if (k == PJ_SNIFF_PICKLE || k == PJ_SNIFF_TORCH_LEGACY) {
        /* The common case: the input itself, its trailing bytes recorded. */
        pj_container_item top = {.buf = buf, .len = len, .name = (char *)""};
        rc = pj_read_pickle_stream(&c, &top, 1, err);
        if (rc == 0)
            rc = pj_probe_trailing_zip(&c, &top, "pickle", err);
        return run_queue(&c, rc, err);
    }
    rc = pj_container_enqueue(&c, buf, len, "", 0, 0, 0, err);
    return run_queue(&c, rc, err);
}
