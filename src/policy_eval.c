/* Judging decoded pickles against a policy: a pure function of the policy
 * and the graphs, producing a verdict and every finding.
 *
 * Everything the pickle created is judged, not only what its result
 * reaches: the arena holds every node, and a REDUCE whose result was popped
 * still ran.  Work is linear in nodes + items + ops (plus the bounded shape
 * budget); nothing recurses on the graph. */
#include "policy_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"

/* Per-node flags: how a node is used as a value. */
#define F_REF    0x01u /* appears as a value (item, argument, state, root…) */
#define F_CALLED 0x02u /* REDUCE callable, INST/OBJ class */
#define F_NEWED  0x04u /* NEWOBJ class */
#define F_STATE  0x08u /* a BUILD state that is not a plain value: keys unknown */

/* Shape-matching steps per pickle: generous for any real file (a tensor
 * costs a dozen), bounded for a hostile one. */
#define BUDGET_PER_ELEMENT 64u
#define BUDGET_BASE (UINT64_C(1) << 20)

typedef struct ev {
    pj_match m;
    const pj_policy *p;
    const pj_pickle_result *pr;
    const pj_graph *g;
    uint32_t pickle;
    uint8_t *flags;
    pj_report *rep;
    pj_error *err;
    bool budget_reported;
} ev;

typedef struct site {
    uint64_t offset;
    int opcode;
} site;

static bool valid(const ev *e, pj_id id)
{
    return id < e->g->n_nodes;
}

static pj_kind kind(const ev *e, pj_id id)
{
    return valid(e, id) ? (pj_kind)e->g->nodes[id].kind : (pj_kind)0;
}

/* Add a finding about global id (PJ_NIL: none).  The message is the
 * global's escaped name, a space, then the formatted text; without a global,
 * the text alone. */
static int report(ev *e, pj_severity sev, const char *rule, const char *use, pj_id id,
                  site at, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int report(ev *e, pj_severity sev, const char *rule, const char *use, pj_id id,
                  site at, const char *fmt, ...)
{
    const uint8_t *mod = NULL, *name = NULL;
    size_t modn = 0, namen = 0;
    char shown[200] = "", text[300];
    if (id != PJ_NIL && pj_match_global(&e->m, id, &mod, &modn, &name, &namen)) {
        pj_escape_name(shown, sizeof shown - 1, mod, modn, name, namen);
        strcat(shown, " ");
    } else {
        mod = name = NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return pj_report_add(e->rep, sev, rule, use, mod, modn, name, namen, e->pickle, at.offset,
                         at.opcode, e->pr->entry, e->err, "%s%s", shown, text);
}

static bool dangerous(const ev *e, pj_id id)
{
    const uint8_t *mod, *name;
    size_t modn, namen;
    return pj_match_global(&e->m, id, &mod, &modn, &name, &namen) &&
           pj_danger_check(mod, modn, name, namen);
}

static int budget_check(ev *e, site at)
{
    if (!e->m.exhausted || e->budget_reported)
        return 0;
    e->budget_reported = true;
    return report(e, PJ_SEV_HIGH, "limit-exceeded", NULL, PJ_NIL, at,
                  "argument shapes are too costly to check; the rest fail closed");
}

/* ---- use flags --------------------------------------------------------------- */

static void mark(ev *e, pj_id id, uint8_t f)
{
    if (valid(e, id))
        e->flags[id] |= f;
}

static void mark_uses(ev *e)
{
    const pj_graph *g = e->g;
    for (pj_id i = 0; i < g->n_nodes; i++) {
        const pj_node *n = &g->nodes[i];
        pj_kind k = (pj_kind)n->kind;
        if (pj_kind_is_container(k)) {
            uint32_t count;
            const pj_id *it = pj_graph_items(g, i, &count);
            for (uint32_t j = 0; j < count; j++)
                mark(e, it[j], F_REF);
        } else if (k == PJ_K_REDUCE || k == PJ_K_INST) {
            mark(e, n->v.r.a, F_CALLED);
            mark(e, n->v.r.b, F_REF);
        } else if (k == PJ_K_NEWOBJ) {
            mark(e, n->v.r.a, F_NEWED);
            mark(e, n->v.r.b, F_REF);
            if (n->aux != PJ_NIL)
                mark(e, n->aux, F_REF);
        } else if (k == PJ_K_PERSID || k == PJ_K_MEMORYVIEW) {
            mark(e, n->v.r.a, F_REF);
        }
    }
    for (uint32_t i = 0; i < g->n_ops; i++) {
        mark(e, g->ops[i].a, F_REF);
        if (g->ops[i].b != PJ_NIL)
            mark(e, g->ops[i].b, F_REF);
    }
    mark(e, g->root, F_REF);
    for (uint32_t i = 0; i < g->n_stack; i++)
        mark(e, g->stack[i], F_REF);
}

/* ---- globals -------------------------------------------------------------------- */

static int judge_not_allowed(ev *e, pj_id id, const char *use, site at)
{
    if (dangerous(e, id))
        return report(e, PJ_SEV_CRITICAL, "dangerous-global", use, id, at,
                      "is known to be dangerous and the policy does not allow it");
    return report(e, PJ_SEV_HIGH, "global-not-allowed", use, id, at,
                  "is not allowed by the policy");
}

static int judge_use(ev *e, pj_id id, unsigned use, site at)
{
    uint32_t ent = pj_match_entry(&e->m, id);
    if (ent == UINT32_MAX)
        return judge_not_allowed(e, id, pj_use_name(use), at);
    if (pj_match_granted(&e->m, ent, use))
        return 0;
    return report(e, dangerous(e, id) ? PJ_SEV_CRITICAL : PJ_SEV_HIGH, "use-not-allowed",
                  pj_use_name(use), id, at, "is not allowed for use '%s'", pj_use_name(use));
}

/* A GLOBAL node (or an EXT node) at its own opcode: the name itself. */
static int judge_global_node(ev *e, pj_id id, site at)
{
    const pj_node *n = &e->g->nodes[id];
    if (n->kind == PJ_K_EXT && !pj_policy_ext(e->p, n->v.i)) {
        return report(e, PJ_SEV_HIGH, "extension-code", NULL, PJ_NIL, at,
                      "extension code %lld is not mapped to a global by the policy",
                      (long long)n->v.i);
    }
    uint8_t f = e->flags[id];
    /* A name that is only called is judged at its call; one that is also a
     * value, or nothing at all (still imported), is judged here. */
    if ((f & F_REF) || !(f & (F_CALLED | F_NEWED)))
        return judge_use(e, id, PJ_USE_REFERENCE, at);
    return 0;
}

/* ---- calls ------------------------------------------------------------------------ */

static const char *what_is(const ev *e, pj_id id)
{
    switch (kind(e, id)) {
    case PJ_K_REDUCE:
    case PJ_K_INST: return "the result of another call";
    case PJ_K_NEWOBJ: return "an object made by NEWOBJ";
    case PJ_K_PERSID: return "a persistent id";
    case PJ_K_EXT: return "an unmapped extension code";
    case PJ_K_BUFFER: return "an out-of-band buffer";
    case PJ_K_MEMORYVIEW: return "a memoryview";
    default: return "a value that is not a global";
    }
}

/* Does some indirect_calls entry allow this call?  Its index, or -1. */
static int32_t indirect_match(ev *e, const pj_node *call, unsigned use)
{
    pj_id kw = call->kind == PJ_K_NEWOBJ ? call->aux : PJ_NIL;
    for (uint32_t i = 0; i < e->p->n_indirect; i++) {
        const pj_indirect *ind = &e->p->indirect[i];
        if ((ind->uses & use) && pj_match_shape(&e->m, ind->callable, call->v.r.a) &&
            pj_match_form(&e->m, &ind->form, call->v.r.b, kw))
            return (int32_t)i;
    }
    return -1;
}

static int judge_args(ev *e, const pj_node *call, pj_id callable, unsigned use, site at)
{
    pj_id kw = call->kind == PJ_K_NEWOBJ ? call->aux : PJ_NIL;
    const pj_pentry *first = NULL;
    for (uint32_t i = pj_match_entry(&e->m, callable); i != UINT32_MAX;
         i = e->p->entries[i].next_same) {
        const pj_pentry *x = &e->p->entries[i];
        if (!(x->uses & use))
            continue;
        if (pj_match_form(&e->m, &x->form, call->v.r.b, kw))
            return 0;
        if (!first)
            first = x;
    }
    int rc = budget_check(e, at);
    if (rc)
        return rc;
    return report(e, PJ_SEV_HIGH, "argument-mismatch", pj_use_name(use), callable, at,
                  "is given arguments outside its allowed form %.180s",
                  first && first->form.args_text ? first->form.args_text : "(...)");
}

static int judge_call(ev *e, pj_id id, site at)
{
    const pj_node *call = &e->g->nodes[id];
    unsigned use = call->kind == PJ_K_NEWOBJ ? PJ_USE_INSTANTIATE : PJ_USE_CALL;
    pj_id callable = call->v.r.a;
    const uint8_t *mod, *name;
    size_t modn, namen;
    if (!pj_match_global(&e->m, callable, &mod, &modn, &name, &namen)) {
        if (indirect_match(e, call, use) >= 0)
            return 0;
        int rc = budget_check(e, at);
        return rc ? rc : report(e, PJ_SEV_CRITICAL, "indirect-call", pj_use_name(use), PJ_NIL,
                                at, "a call of %s, not of a named global",
                                what_is(e, callable));
    }
    uint32_t ent = pj_match_entry(&e->m, callable);
    if (ent == UINT32_MAX || !pj_match_granted(&e->m, ent, use))
        return judge_use(e, callable, use, at);
    return judge_args(e, call, callable, use, at);
}

/* ---- persistent ids and buffers ---------------------------------------------------- */

static int judge_persid(ev *e, pj_id id, site at)
{
    pj_id value = e->g->nodes[id].v.r.a;
    for (uint32_t i = 0; i < e->p->n_pids; i++)
        if (pj_match_shape(&e->m, e->p->pids[i].shape, value))
            return 0;
    int rc = budget_check(e, at);
    return rc ? rc : report(e, PJ_SEV_HIGH, "persistent-id", NULL, PJ_NIL, at,
                            "a persistent id (%s) that no policy shape accepts",
                            pj_kind_name(kind(e, value)));
}

/* ---- operations on objects ---------------------------------------------------------- */

static unsigned op_use(const pj_op *op)
{
    switch (op->kind) {
    case PJ_OP_APPEND:
    case PJ_OP_EXTEND: return PJ_USE_APPEND;
    case PJ_OP_SETITEM: return PJ_USE_SETITEM;
    case PJ_OP_ADDITEM: return PJ_USE_ADDITEM;
    default: return PJ_USE_BUILD;
    }
}

static bool str_is_dunder(const ev *e, pj_id id)
{
    uint64_t n;
    const uint8_t *b = pj_graph_bytes(e->g, id, &n);
    return n >= 4 && b[0] == '_' && b[1] == '_' && b[n - 1] == '_' && b[n - 2] == '_';
}

/* The keys a dict state would set: a __dunder__ one can plant __class__,
 * __dict__, __setstate__ or __reduce__ on the object; a key computed by a
 * call may be a str subclass that compares equal to one. */
static int check_state_dict(ev *e, pj_id d, site at)
{
    uint32_t count;
    const pj_id *it = pj_graph_items(e->g, d, &count);
    for (uint32_t i = 0; i + 1 < count; i += 2) {
        pj_kind k = kind(e, it[i]);
        if (k == PJ_K_STR && str_is_dunder(e, it[i])) {
            char name[120];
            uint64_t n;
            const uint8_t *b = pj_graph_bytes(e->g, it[i], &n);
            pj_escape_name(name, sizeof name, b, (size_t)n, NULL, 0);
            int rc = report(e, PJ_SEV_CRITICAL, "dunder-state", "build", PJ_NIL, at,
                            "a BUILD state sets the attribute %s", name);
            if (rc)
                return rc;
        } else if (k != PJ_K_STR && k != PJ_K_INT && k != PJ_K_BIGINT && k != PJ_K_BOOL &&
                   k != PJ_K_NONE && k != PJ_K_FLOAT && k != PJ_K_BYTES && k != PJ_K_TUPLE) {
            int rc = report(e, PJ_SEV_CRITICAL, "dunder-state", "build", PJ_NIL, at,
                            "a BUILD state has a key that is %s", what_is(e, it[i]));
            if (rc)
                return rc;
        }
    }
    return 0;
}

static bool opaque(pj_kind k)
{
    return k == PJ_K_GLOBAL || k == PJ_K_REDUCE || k == PJ_K_NEWOBJ || k == PJ_K_INST ||
           k == PJ_K_PERSID || k == PJ_K_EXT || k == PJ_K_BUFFER;
}

static int check_state(ev *e, pj_id state, site at)
{
    pj_kind k = kind(e, state);
    if (k == PJ_K_DICT)
        return check_state_dict(e, state, at);
    if (opaque(k)) {
        mark(e, state, F_STATE);
        return 0;
    }
    if (k != PJ_K_TUPLE)
        return 0;
    uint32_t count;
    const pj_id *it = pj_graph_items(e->g, state, &count);
    if (count != 2)
        return 0;
    for (uint32_t i = 0; i < 2; i++) {
        if (kind(e, it[i]) == PJ_K_DICT) {
            int rc = check_state_dict(e, it[i], at);
            if (rc)
                return rc;
        } else if (opaque(kind(e, it[i]))) {
            mark(e, it[i], F_STATE);
        }
    }
    return 0;
}

/* The object is a global itself: BUILD/items set attributes of a function,
 * class or module for the rest of the process. */
static int judge_mutation(ev *e, const pj_op *op, site at)
{
    uint32_t ent = pj_match_entry(&e->m, op->target);
    if (ent != UINT32_MAX && pj_match_granted(&e->m, ent, PJ_USE_MUTATE))
        return 0;
    return report(e, PJ_SEV_CRITICAL, "global-mutation", "mutate", op->target, at,
                  "is changed in place: the pickle %s the global itself",
                  op->kind == PJ_OP_BUILD ? "sets attributes of" : "adds items to");
}

static int judge_state_shape(ev *e, pj_id cls, const pj_op *op, site at)
{
    const pj_pentry *first = NULL;
    for (uint32_t i = pj_match_entry(&e->m, cls); i != UINT32_MAX;
         i = e->p->entries[i].next_same) {
        const pj_pentry *x = &e->p->entries[i];
        if (!(x->uses & PJ_USE_BUILD))
            continue;
        if (x->state == PJ_SHAPE_NONE || pj_match_shape(&e->m, x->state, op->a))
            return 0;
        first = x;
    }
    int rc = budget_check(e, at);
    if (rc || !first)
        return rc;
    return report(e, PJ_SEV_HIGH, "argument-mismatch", "build", cls, at,
                  "is given a BUILD state outside its allowed shape");
}

static int judge_op(ev *e, const pj_op *op)
{
    site at = {op->offset, op->opcode};
    unsigned use = op_use(op);
    int rc = op->kind == PJ_OP_BUILD ? check_state(e, op->a, at) : 0;
    if (rc)
        return rc;
    pj_kind tk = kind(e, op->target);
    if (tk == PJ_K_GLOBAL || tk == PJ_K_EXT)
        return judge_mutation(e, op, at);
    if (tk == PJ_K_REDUCE || tk == PJ_K_NEWOBJ || tk == PJ_K_INST) {
        pj_id cls = pj_match_class(&e->m, op->target);
        if (cls == PJ_NIL) {
            const pj_node *call = &e->g->nodes[op->target];
            int32_t ind = indirect_match(e, call, call->kind == PJ_K_NEWOBJ
                                                      ? PJ_USE_INSTANTIATE : PJ_USE_CALL);
            if (ind < 0 || (e->p->indirect[ind].uses & use))
                return 0; /* the call itself is the finding */
            return report(e, PJ_SEV_HIGH, "use-not-allowed", pj_use_name(use), PJ_NIL, at,
                          "%s on an object an indirect call made", pj_use_name(use));
        }
        uint32_t ent = pj_match_entry(&e->m, cls);
        if (ent == UINT32_MAX)
            return 0; /* making the object is already a finding */
        if (!pj_match_granted(&e->m, ent, use))
            return judge_use(e, cls, use, at);
        return op->kind == PJ_OP_BUILD ? judge_state_shape(e, cls, op, at) : 0;
    }
    return report(e, PJ_SEV_HIGH, "use-not-allowed", pj_use_name(use), PJ_NIL, at,
                  "%s on %s", pj_use_name(use), what_is(e, op->target));
}

/* Items set on an object that then serves as a BUILD state: the keys a
 * __dict__ update would set. */
static int judge_state_items(ev *e)
{
    for (uint32_t i = 0; i < e->g->n_ops; i++) {
        const pj_op *op = &e->g->ops[i];
        if (!valid(e, op->target) || !(e->flags[op->target] & F_STATE))
            continue;
        site at = {op->offset, op->opcode};
        if (op->kind != PJ_OP_SETITEM)
            continue;
        pj_kind k = kind(e, op->a);
        if ((k == PJ_K_STR && str_is_dunder(e, op->a)) || opaque(k)) {
            int rc = report(e, PJ_SEV_CRITICAL, "dunder-state", "build", PJ_NIL, at,
                            "an object used as a BUILD state gets a __dunder__ or "
                            "computed key");
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- one pickle ---------------------------------------------------------------------- */

static int judge_status(ev *e)
{
    const pj_pickle_result *pr = e->pr;
    if (pr->status == 0)
        return 0;
    site at = {pr->error.offset, pr->error.opcode};
    char msg[PJ_ERROR_MSG_MAX + 8];
    pj_escape_name(msg, sizeof msg, (const uint8_t *)pr->error.message,
                   strnlen(pr->error.message, sizeof pr->error.message), NULL, 0);
    if (pr->status == PJ_E_LIMIT)
        return report(e, PJ_SEV_HIGH, "limit-exceeded", NULL, PJ_NIL, at,
                      "decoding stopped at a limit: %s", msg);
    if (e->pickle > 0)
        return report(e, PJ_SEV_MEDIUM, "trailing-data", NULL, PJ_NIL, at,
                      "bytes after the previous pickle do not form a complete pickle: %s",
                      msg);
    return report(e, PJ_SEV_HIGH, "malformed", NULL, PJ_NIL, at,
                  "the pickle does not decode: %s", msg);
}

static int judge_divergences(ev *e)
{
    for (uint32_t i = 0; i < e->g->n_divs; i++) {
        const pj_divergence *d = &e->g->divs[i];
        char detail[300];
        snprintf(detail, sizeof detail, "%s: %s", pj_reader_name((pj_reader)d->reader),
                 d->what ? d->what : "");
        int rc = report(e, PJ_SEV_CRITICAL, "reader-divergence", NULL, PJ_NIL,
                        (site){d->offset, d->opcode},
                        "another reader sees these bytes differently (%.250s)", detail);
        if (rc)
            return rc;
    }
    return 0;
}

static int judge_event(ev *e, const pj_event *evn)
{
    site at = {evn->offset, evn->opcode};
    if (!valid(e, evn->node))
        return report(e, PJ_SEV_HIGH, "malformed", NULL, PJ_NIL, at,
                      "the decoded graph is inconsistent");
    switch (kind(e, evn->node)) {
    case PJ_K_GLOBAL:
    case PJ_K_EXT:
        return judge_global_node(e, evn->node, at);
    case PJ_K_REDUCE:
    case PJ_K_NEWOBJ:
    case PJ_K_INST:
        return judge_call(e, evn->node, at);
    case PJ_K_PERSID:
        return judge_persid(e, evn->node, at);
    case PJ_K_BUFFER:
        if (e->p->buffers)
            return 0;
        return report(e, PJ_SEV_HIGH, "out-of-band-buffer", NULL, PJ_NIL, at,
                      "an out-of-band buffer, which the policy does not allow");
    default:
        return 0;
    }
}

/* READONLY_BUFFER on an object (not a buffer) asks it for a buffer. */
static int judge_views(ev *e)
{
    for (pj_id i = 0; i < e->g->n_nodes; i++) {
        const pj_node *n = &e->g->nodes[i];
        if (n->kind != PJ_K_MEMORYVIEW || kind(e, n->v.r.a) == PJ_K_BYTEARRAY ||
            kind(e, n->v.r.a) == PJ_K_BUFFER)
            continue;
        int rc = report(e, PJ_SEV_HIGH, "use-not-allowed", NULL, PJ_NIL,
                        (site){0, PJ_OPC_READONLY_BUFFER},
                        "READONLY_BUFFER applied to %s", what_is(e, n->v.r.a));
        if (rc)
            return rc;
    }
    return 0;
}

static int judge_pickle(ev *e)
{
    int rc = judge_status(e);
    if (rc == 0)
        rc = judge_divergences(e);
    if (rc)
        return rc;
    mark_uses(e);
    for (uint32_t i = 0; i < e->g->n_events && rc == 0; i++)
        rc = judge_event(e, &e->g->events[i]);
    for (uint32_t i = 0; i < e->g->n_ops && rc == 0; i++)
        rc = judge_op(e, &e->g->ops[i]);
    if (rc == 0)
        rc = judge_state_items(e);
    if (rc == 0)
        rc = judge_views(e);
    return rc;
}

static int eval_one(const pj_policy *p, const pj_pickle_result *pr, uint32_t index,
                    pj_report *rep, pj_error *err)
{
    const pj_graph *g = pr->g;
    if (!g)
        return pj_report_add(rep, PJ_SEV_HIGH, "malformed", NULL, NULL, 0, NULL, 0, index,
                             pr->offset, -1, pr->entry, err, "no decoded graph");
    ev e = {.p = p, .pr = pr, .g = g, .pickle = index, .rep = rep, .err = err};
    e.flags = calloc(g->n_nodes ? g->n_nodes : 1, 1);
    e.m.ent = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *e.m.ent);
    int rc = 0;
    if (!e.flags || !e.m.ent) {
        rc = pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    } else {
        for (uint32_t i = 0; i < g->n_nodes; i++)
            e.m.ent[i] = PJ_ENT_UNKNOWN;
        e.m.p = p;
        e.m.g = g;
        e.m.budget = BUDGET_BASE + BUDGET_PER_ELEMENT * ((uint64_t)g->n_nodes + g->n_items);
        rc = judge_pickle(&e);
    }
    free(e.flags);
    free(e.m.ent);
    return rc;
}

/* What the container readers found around the pickles (a zip entry named
 * twice, a compression bomb...): each note is a finding as it stands, but
 * for severity 0: those only say what was read (an object array's pickle,
 * judged on its own), and the dump shows them.  (A note dropped past the
 * note cap turns the last kept one into a rejecting limit-exceeded.) */
static int judge_notes(const pj_file_result *r, pj_report *rep, pj_error *err)
{
    static const pj_severity sev[4] = {PJ_SEV_LOW, PJ_SEV_MEDIUM, PJ_SEV_HIGH,
                                       PJ_SEV_CRITICAL};
    for (uint32_t i = 0; i < r->n_notes; i++) {
        const pj_note *n = &r->notes[i];
        if (n->severity == 0)
            continue;
        char msg[300];
        const char *text = n->message ? n->message : "";
        pj_escape_name(msg, sizeof msg, (const uint8_t *)text, strlen(text), NULL, 0);
        int s = n->severity >= 0 && n->severity <= 3 ? n->severity : 3;
        int rc = pj_report_add(rep, sev[s], n->rule ? n->rule : "container", NULL, NULL, 0,
                               NULL, 0, 0, n->offset, -1, n->entry, err, "%s", msg);
        if (rc)
            return rc;
    }
    return 0;
}

/* A .npy, .npz or other zip read member by member in which no pickle was
 * found: its loaders read arrays and bytes and unpickle nothing.  Anything
 * else without a pickle is not what it claims to be. */
static bool holds_data_only(const pj_file_result *r)
{
    return r->container && (!strcmp(r->container, "npy") || !strcmp(r->container, "npz") ||
                            !strcmp(r->container, "zip"));
}

int pj_policy_eval(const pj_policy *p, const pj_file_result *r, pj_report *rep, pj_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->verdict = PJ_VERDICT_ALLOWED;
    rep->n_pickles = r->n_pickles;
    if (r->container && !(rep->container = strdup(r->container))) {
        rep->verdict = PJ_VERDICT_REJECTED;
        return pj_error_set(err, PJ_E_NOMEM, 0, -1, "out of memory");
    }
    int rc = judge_notes(r, rep, err);
    if (rc == 0 && r->n_pickles == 0 && !holds_data_only(r))
        rc = pj_report_add(rep, PJ_SEV_HIGH, "malformed", NULL, NULL, 0, NULL, 0, 0, 0, -1,
                           NULL, err, "the input holds no pickle");
    for (uint32_t i = 0; i < r->n_pickles && rc == 0; i++)
        rc = eval_one(p, &r->pickles[i], i, rep, err);
    bool last_ok = r->n_pickles && r->pickles[r->n_pickles - 1].status == 0;
    if (rc == 0 && r->trailing_bytes && last_ok)
        rc = pj_report_add(rep, PJ_SEV_MEDIUM, "trailing-data", NULL, NULL, 0, NULL, 0,
                           r->n_pickles - 1, r->input_bytes - r->trailing_bytes, -1, NULL, err,
                           "%llu bytes after the last pickle",
                           (unsigned long long)r->trailing_bytes);
    if (rc)
        rep->verdict = PJ_VERDICT_REJECTED; /* fail closed */
    pj_report_sort(rep);
    return rc;
}
