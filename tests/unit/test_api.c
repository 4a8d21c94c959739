/* The public API, used only through include/picklejail.h, as a loader would.
 *
 * The pickles below are the exact bytes CPython 3.11 writes (the Python
 * expression is beside each) or, for the hand-made ones, bytes whose meaning
 * pickletools.dis confirms; the values the graph view must show are what
 * pickle.loads returns for them.  tests/py/test_install.py builds and runs
 * this same file against the installed shared library. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "picklejail.h"

/* Hex escapes throughout: C's \x escape is greedy ("\x00a" is one byte).
 *
 * pickle.dumps({'a': [1, 2.5, 'x'], 'b': (True, None)}, protocol=2) */
static const unsigned char DICT_P2[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71"
    "\x02\x28\x4b\x01\x47\x40\x04\x00\x00\x00\x00\x00\x00\x58\x01\x00"
    "\x00\x00\x78\x71\x03\x65\x58\x01\x00\x00\x00\x62\x71\x04\x88\x4e"
    "\x86\x71\x05\x75\x2e";
/* GLOBAL 'os system', MARK, STRING 'echo hi', TUPLE, REDUCE, STOP: what a
 * class whose __reduce__ returns (os.system, ('echo hi',)) pickles to. */
static const unsigned char MALICIOUS_P0[] =
    "cos\nsystem\n(S'echo hi'\ntR.";
/* l = []; l.append(l); pickle.dumps(l, protocol=2) */
static const unsigned char CYCLE_P2[] =
    "\x80\x02\x5d\x71\x00\x68\x00\x61\x2e";
/* a = [1]; pickle.dumps([a, a], protocol=2) */
static const unsigned char SHARED_P2[] =
    "\x80\x02\x5d\x71\x00\x28\x5d\x71\x01\x4b\x01\x61\x68\x01\x65\x2e";
/* class C: pass (in __main__); o = C(); o.x = 1; pickle.dumps(o, protocol=2) */
static const unsigned char NEWOBJ_P2[] =
    "\x80\x02\x63\x5f\x5f\x6d\x61\x69\x6e\x5f\x5f\x0a\x43\x0a\x71\x00"
    "\x29\x81\x71\x01\x7d\x71\x02\x58\x01\x00\x00\x00\x78\x71\x03\x4b"
    "\x01\x73\x62\x2e";
/* pickle.dumps(collections.OrderedDict(a=1), protocol=2) */
static const unsigned char ODICT_P2[] =
    "\x80\x02\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f"
    "\x72\x64\x65\x72\x65\x64\x44\x69\x63\x74\x0a\x71\x00\x29\x52\x71"
    "\x01\x58\x01\x00\x00\x00\x61\x71\x02\x4b\x01\x73\x2e";
/* SHORT_BINSTRING b'\xe9', STOP: pickle.loads raises UnicodeDecodeError with
 * encoding='ASCII', gives 'é' with 'latin1' and b'\xe9' with 'bytes'. */
static const unsigned char PY2STR[] = "U\x01\xe9.";

#define BYTES(a) (a), (sizeof(a) - 1)

static const char C_POLICY[] = "version: 1\n"
                               "name: test-c\n"
                               "globals:\n"
                               "  - module: __main__\n"
                               "    name: C\n"
                               "    uses: [instantiate, build]\n";

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static bool span_is(const uint8_t *p, uint64_t n, const char *s)
{
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

static pj_policy *policy_of(const char *builtin)
{
    pj_policy *p = pj_policy_new();
    CHECK(p != NULL);
    if (p && builtin)
        CHECK(pj_policy_add_builtin(p, builtin, NULL) == 0);
    return p;
}

static pj_result *scan_buf(const pj_scanner *s, const pj_policy *p, const void *buf, size_t len)
{
    pj_result *r = NULL;
    pj_error err;
    int rc = pj_scan_buffer(s, p, buf, len, &r, &err);
    CHECK_MSG(rc == 0 && r, "scan: %d %s", rc, rc ? err.message : "");
    return rc == 0 ? r : NULL;
}

static bool has_rule(const pj_result *r, const char *rule)
{
    pj_finding_info f;
    for (size_t i = 0; i < pj_result_n_findings(r); i++)
        if (pj_result_get_finding(r, i, &f) == 0 && strcmp(f.rule, rule) == 0)
            return true;
    return false;
}

static pj_node_view node(const pj_pickle *pk, pj_node_id id)
{
    pj_node_view v;
    memset(&v, 0, sizeof v);
    CHECK(pj_pickle_get_node(pk, id, &v) == 0);
    return v;
}

/* Count the nodes reachable from root: an explicit stack and a visited set,
 * as the header asks (the depth is the attacker's).  Each node is pushed
 * once, so the stack never holds more than n_nodes ids. */
static size_t walk(const pj_pickle *pk, pj_node_id root)
{
    pj_pickle_info info;
    if (pj_pickle_get_info(pk, &info) || root == PJ_NO_NODE)
        return 0;
    bool *seen = calloc(info.n_nodes, sizeof *seen);
    pj_node_id *stack = malloc(info.n_nodes * sizeof *stack);
    size_t n = 0, count = 0;
    if (!seen || !stack)
        goto out;
    seen[root] = true;
    stack[n++] = root;
    while (n) {
        pj_node_view v = node(pk, stack[--n]);
        count++;
        pj_node_id refs[4] = {v.callable, v.args, v.kwargs, v.value};
        for (uint32_t i = 0; i < v.n_items + 4; i++) {
            pj_node_id id = i < v.n_items ? v.items[i] : refs[i - v.n_items];
            if (id == PJ_NO_NODE || seen[id])
                continue;
            CHECK(id < info.n_nodes);
            seen[id] = true;
            stack[n++] = id;
        }
    }
out:
    free(seen);
    free(stack);
    return count;
}

static void test_errors_and_names(void)
{
    for (int c = PJ_E_MIN; c <= 0; c++)
        CHECK_MSG(strcmp(pj_strerror(c), "unknown error") != 0, "code %d", c);
    /* the library knows no code the header does not */
    CHECK(strcmp(pj_strerror(PJ_E_MIN - 1), "unknown error") == 0);
    CHECK(strcmp(pj_strerror(1), "unknown error") == 0);
    pj_error e;
    memset(&e, 0x55, sizeof e);
    pj_error_clear(&e);
    CHECK(e.code == 0 && e.opcode == -1 && e.message[0] == '\0' && e.offset == 0);
    pj_error_clear(NULL);
    CHECK(strcmp(pj_version(), PICKLEJAIL_VERSION) == 0);
    CHECK(strcmp(pj_value_kind_name(PJ_VALUE_LIST), "list") == 0);
    CHECK(strcmp(pj_value_kind_name(PJ_VALUE_MEMORYVIEW), "memoryview") == 0);
    CHECK(strcmp(pj_value_kind_name(0), "?") == 0);
    CHECK(strcmp(pj_value_kind_name(PJ_VALUE_MEMORYVIEW + 1), "?") == 0);
    CHECK(strcmp(pj_mutation_kind_name(PJ_MUTATION_BUILD), "build") == 0);
    CHECK(strcmp(pj_mutation_kind_name(99), "?") == 0);
    CHECK(strcmp(pj_severity_name(PJ_SEVERITY_CRITICAL), "critical") == 0);
    CHECK(strcmp(pj_verdict_name(PJ_SCAN_REJECTED), "rejected") == 0);
    CHECK(strcmp(pj_opcode_name('R'), "REDUCE") == 0);
    CHECK(pj_opcode_name(0xff) == NULL);
}

static void test_policy(void)
{
    size_t n = 0;
    const char *const *names = pj_policy_builtin_names(&n);
    bool has_default = false;
    for (size_t i = 0; i < n; i++)
        has_default |= strcmp(names[i], "default") == 0;
    CHECK(n >= 2 && has_default);

    pj_policy *p = pj_policy_new();
    pj_error err;
    pj_error_clear(&err);
    CHECK(pj_policy_add_builtin(p, "no-such-profile", &err) == PJ_E_ARG);
    CHECK(err.code == PJ_E_ARG && err.message[0]);
    const char bad[] = "version: 1\nname: x\nglobals: [\n";
    CHECK(pj_policy_add_text(p, "bad.yaml", bad, sizeof bad - 1, &err) == PJ_E_POLICY);
    CHECK(err.code == PJ_E_POLICY && strncmp(err.message, "bad.yaml:", 9) == 0);
    CHECK(pj_policy_add_file(p, "/nonexistent/policy.yaml", &err) < 0);
    CHECK(err.code < 0 && err.message[0]);
    CHECK(pj_policy_add_text(p, "c.yaml", C_POLICY, sizeof C_POLICY - 1, &err) == 0);
    CHECK(pj_policy_add(p, "numpy", &err) == 0);
    CHECK(pj_policy_n_warnings(p) == 0);
    pj_policy_free(p);
    pj_policy_free(NULL);
}

static void test_scanner_limits(void)
{
    pj_scanner *s = NULL;
    pj_error err;
    CHECK(pj_scanner_new(NULL, &err) == PJ_E_ARG);
    CHECK(pj_scanner_new(&s, &err) == 0 && s);
    uint64_t v = 0;
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_NODES, &v) == 0 && v > 1000);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_NODES, 1000, &err) == 0);
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_NODES, &v) == 0 && v == 1000);
    /* 0, past the ceiling, past the field's width: refused, value kept */
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_NODES, 0, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_NODES, UINT64_C(1) << 40, &err) == PJ_E_ARG);
    CHECK(err.code == PJ_E_ARG && strstr(err.message, "nodes"));
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_NODES, &v) == 0 && v == 1000);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_RATIO, UINT64_C(1) << 40, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_TIMEOUT_MS, UINT64_C(1) << 32, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_TIMEOUT_MS, 5000, &err) == 0);
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_TIMEOUT_MS, &v) == 0 && v == 5000);
    CHECK(pj_scanner_set_limit(s, 0, 1, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_OUTPUT_BYTES + 1, 1, &err) == PJ_E_ARG);
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_OUTPUT_BYTES + 1, &v) == PJ_E_ARG);
    CHECK(pj_scanner_get_limit(s, PJ_LIMIT_INPUT_BYTES, NULL) == PJ_E_ARG);
    CHECK(pj_scanner_set_limit(NULL, PJ_LIMIT_NODES, 1, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_encoding(s, 4, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_encoding(s, -1, &err) == PJ_E_ARG);
    CHECK(pj_scanner_set_encoding(s, PJ_ENCODING_UTF8, &err) == 0);
    for (int id = PJ_LIMIT_INPUT_BYTES; id <= PJ_LIMIT_OUTPUT_BYTES; id++)
        CHECK_MSG(pj_scanner_get_limit(s, id, &v) == 0 && v > 0, "limit %d", id);
    pj_scanner_free(s);
    pj_scanner_free(NULL);
}

/* {'a': [1, 2.5, 'x'], 'b': (True, None)}: the graph view shows each value. */
static void check_dict_graph(const pj_result *r)
{
    CHECK(pj_result_n_pickles(r) == 1);
    const pj_pickle *pk = pj_result_pickle(r, 0);
    pj_pickle_info info;
    CHECK(pk && pj_pickle_get_info(pk, &info) == 0);
    if (!pk)
        return;
    CHECK(info.status == 0 && info.error == NULL && info.protocol == 2);
    CHECK(info.offset == 0 && info.length == sizeof DICT_P2 - 1 && info.entry == NULL);
    pj_node_view d = node(pk, info.root);
    CHECK(d.kind == PJ_VALUE_DICT && d.n_items == 4);
    if (d.kind != PJ_VALUE_DICT || d.n_items != 4)
        return;
    pj_node_view ka = node(pk, d.items[0]), va = node(pk, d.items[1]);
    pj_node_view kb = node(pk, d.items[2]), vb = node(pk, d.items[3]);
    CHECK(ka.kind == PJ_VALUE_STR && span_is(ka.bytes, ka.n_bytes, "a"));
    CHECK(kb.kind == PJ_VALUE_STR && span_is(kb.bytes, kb.n_bytes, "b"));
    CHECK(va.kind == PJ_VALUE_LIST && va.n_items == 3);
    CHECK(vb.kind == PJ_VALUE_TUPLE && vb.n_items == 2);
    if (va.n_items == 3) {
        pj_node_view one = node(pk, va.items[0]), f = node(pk, va.items[1]);
        pj_node_view x = node(pk, va.items[2]);
        CHECK(one.kind == PJ_VALUE_INT && one.integer == 1);
        CHECK(f.kind == PJ_VALUE_FLOAT && f.real == 2.5);
        CHECK(x.kind == PJ_VALUE_STR && span_is(x.bytes, x.n_bytes, "x"));
    }
    if (vb.n_items == 2) {
        pj_node_view t = node(pk, vb.items[0]), none = node(pk, vb.items[1]);
        CHECK(t.kind == PJ_VALUE_BOOL && t.integer == 1);
        CHECK(none.kind == PJ_VALUE_NONE && none.bytes == NULL && none.items == NULL);
        CHECK(none.callable == PJ_NO_NODE && none.value == PJ_NO_NODE);
    }
    CHECK(walk(pk, info.root) == 10);
    CHECK(info.n_ops == 0);
    pj_node_view bad;
    CHECK(pj_pickle_get_node(pk, info.n_nodes, &bad) == PJ_E_ARG);
    CHECK(pj_pickle_get_node(pk, PJ_NO_NODE, &bad) == PJ_E_ARG);
    CHECK(pj_pickle_get_node(pk, 0, NULL) == PJ_E_ARG);
    pj_op_view op;
    CHECK(pj_pickle_get_op(pk, 0, &op) == PJ_E_ARG);
}

static void test_benign_buffer(const pj_scanner *s)
{
    pj_policy *p = policy_of(NULL); /* builtin values need no entry at all */
    pj_result *r = scan_buf(s, p, BYTES(DICT_P2));
    pj_policy_free(p); /* a result does not depend on its policy */
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    CHECK(pj_result_n_findings(r) == 0 && pj_result_n_omitted(r) == 0);
    CHECK(pj_result_worst_severity(r) == 0);
    CHECK(pj_result_input_bytes(r) == sizeof DICT_P2 - 1);
    const char *c = pj_result_container(r);
    CHECK(c && strcmp(c, "pickle") == 0);
    check_dict_graph(r);
    pj_finding_info f;
    CHECK(pj_result_get_finding(r, 0, &f) == PJ_E_ARG);
    CHECK(pj_result_pickle(r, 1) == NULL);
    pj_result_free(r);
}

static void test_malicious_buffer(const pj_scanner *s)
{
    pj_policy *p = policy_of("default");
    pj_result *r = scan_buf(s, p, BYTES(MALICIOUS_P0));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED);
    CHECK(pj_result_worst_severity(r) == PJ_SEVERITY_CRITICAL);
    CHECK(pj_result_n_findings(r) >= 1);
    pj_finding_info f;
    bool found = false;
    for (size_t i = 0; i < pj_result_n_findings(r); i++) {
        CHECK(pj_result_get_finding(r, i, &f) == 0);
        if (strcmp(f.rule, "dangerous-global"))
            continue;
        found = true;
        CHECK(f.severity == PJ_SEVERITY_CRITICAL);
        CHECK(span_is(f.module, f.module_len, "os") && span_is(f.name, f.name_len, "system"));
        CHECK(f.use && strcmp(f.use, "call") == 0);
        CHECK(f.opcode == 'R' && f.offset == 24 && f.pickle == 0 && f.entry == NULL);
        CHECK(f.message && strstr(f.message, "os.system"));
    }
    CHECK(found);
    /* the REDUCE node: os.system called with ('echo hi',) */
    const pj_pickle *pk = pj_result_pickle(r, 0);
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(pk, &info) == 0 && info.protocol == 0);
    pj_node_view red = node(pk, info.root);
    CHECK(red.kind == PJ_VALUE_REDUCE);
    if (red.kind == PJ_VALUE_REDUCE) {
        pj_node_view g = node(pk, red.callable), a = node(pk, red.args);
        CHECK(g.kind == PJ_VALUE_GLOBAL && span_is(g.module, g.module_len, "os") &&
              span_is(g.name, g.name_len, "system"));
        CHECK(a.kind == PJ_VALUE_TUPLE && a.n_items == 1);
        if (a.n_items == 1) {
            pj_node_view arg = node(pk, a.items[0]);
            CHECK(arg.kind == PJ_VALUE_STR && span_is(arg.bytes, arg.n_bytes, "echo hi"));
        }
    }
    pj_result_free(r);
    pj_policy_free(p);
}

static void test_cycle_and_sharing(const pj_scanner *s)
{
    pj_policy *p = policy_of(NULL);
    pj_result *r = scan_buf(s, p, BYTES(CYCLE_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    const pj_pickle *pk = pj_result_pickle(r, 0);
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(pk, &info) == 0);
    pj_node_view l = node(pk, info.root);
    /* l[0] is l */
    CHECK(l.kind == PJ_VALUE_LIST && l.n_items == 1 && l.items[0] == info.root);
    CHECK(walk(pk, info.root) == 1);
    pj_result_free(r);

    r = scan_buf(s, p, BYTES(SHARED_P2));
    pk = pj_result_pickle(r, 0);
    CHECK(pj_pickle_get_info(pk, &info) == 0);
    l = node(pk, info.root);
    /* x[0] is x[1] */
    CHECK(l.kind == PJ_VALUE_LIST && l.n_items == 2 && l.items[0] == l.items[1]);
    CHECK(walk(pk, info.root) == 3);
    pj_result_free(r);
    pj_policy_free(p);
}

static void test_newobj_and_ops(const pj_scanner *s)
{
    pj_policy *p = pj_policy_new();
    CHECK(pj_policy_add_text(p, "c.yaml", C_POLICY, sizeof C_POLICY - 1, NULL) == 0);
    pj_result *r = scan_buf(s, p, BYTES(NEWOBJ_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    const pj_pickle *pk = pj_result_pickle(r, 0);
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(pk, &info) == 0 && info.n_ops == 1);
    pj_node_view o = node(pk, info.root);
    CHECK(o.kind == PJ_VALUE_NEWOBJ && o.kwargs == PJ_NO_NODE);
    pj_node_view cls = node(pk, o.callable), args = node(pk, o.args);
    CHECK(cls.kind == PJ_VALUE_GLOBAL && span_is(cls.module, cls.module_len, "__main__") &&
          span_is(cls.name, cls.name_len, "C"));
    CHECK(args.kind == PJ_VALUE_TUPLE && args.n_items == 0);
    pj_op_view op;
    CHECK(pj_pickle_get_op(pk, 0, &op) == 0);
    CHECK(op.kind == PJ_MUTATION_BUILD && op.opcode == 'b' && op.target == info.root);
    CHECK(op.b == PJ_NO_NODE && op.offset == 34);
    pj_node_view st = node(pk, op.a);
    CHECK(st.kind == PJ_VALUE_DICT && st.n_items == 2);
    CHECK(pj_pickle_get_op(pk, 1, &op) == PJ_E_ARG);
    pj_result_free(r);
    pj_policy_free(p);

    /* Not allowed by python-data: one finding, about instantiating it. */
    p = policy_of("python-data");
    r = scan_buf(s, p, BYTES(NEWOBJ_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && pj_result_n_findings(r) == 1);
    pj_finding_info f;
    CHECK(pj_result_get_finding(r, 0, &f) == 0);
    CHECK(strcmp(f.rule, "global-not-allowed") == 0 && f.use &&
          strcmp(f.use, "instantiate") == 0 && f.severity == PJ_SEVERITY_HIGH);
    pj_result_free(r);

    /* OrderedDict(a=1): a REDUCE, then a setitem on it. */
    r = scan_buf(s, p, BYTES(ODICT_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    pk = pj_result_pickle(r, 0);
    CHECK(pj_pickle_get_info(pk, &info) == 0 && info.n_ops == 1);
    CHECK(pj_pickle_get_op(pk, 0, &op) == 0);
    CHECK(op.kind == PJ_MUTATION_SETITEM && op.opcode == 's' && op.target == info.root);
    pj_node_view k = node(pk, op.a), v = node(pk, op.b);
    CHECK(k.kind == PJ_VALUE_STR && span_is(k.bytes, k.n_bytes, "a"));
    CHECK(v.kind == PJ_VALUE_INT && v.integer == 1);
    CHECK(walk(pk, info.root) == 3); /* the REDUCE, its GLOBAL and args () */
    pj_result_free(r);
    pj_policy_free(p);
}

static void test_encoding(void)
{
    pj_scanner *s = NULL;
    CHECK(pj_scanner_new(&s, NULL) == 0);
    pj_policy *p = policy_of(NULL);
    /* ASCII (the default): CPython raises UnicodeDecodeError */
    pj_result *r = scan_buf(s, p, BYTES(PY2STR));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "malformed"));
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(pj_result_pickle(r, 0), &info) == 0);
    CHECK(info.status == PJ_E_MALFORMED && info.error && info.root == PJ_NO_NODE);
    CHECK(info.error && info.error->code == PJ_E_MALFORMED && strstr(info.error->message, "ascii"));
    pj_result_free(r);
    /* latin1: 'é' */
    CHECK(pj_scanner_set_encoding(s, PJ_ENCODING_LATIN1, NULL) == 0);
    r = scan_buf(s, p, BYTES(PY2STR));
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    const pj_pickle *pk = pj_result_pickle(r, 0);
    CHECK(pj_pickle_get_info(pk, &info) == 0);
    pj_node_view v = node(pk, info.root);
    CHECK(v.kind == PJ_VALUE_STR && span_is(v.bytes, v.n_bytes, "\xc3\xa9"));
    pj_result_free(r);
    /* bytes: b'\xe9' */
    CHECK(pj_scanner_set_encoding(s, PJ_ENCODING_BYTES, NULL) == 0);
    r = scan_buf(s, p, BYTES(PY2STR));
    pk = pj_result_pickle(r, 0);
    CHECK(pj_pickle_get_info(pk, &info) == 0);
    v = node(pk, info.root);
    CHECK(v.kind == PJ_VALUE_BYTES && span_is(v.bytes, v.n_bytes, "\xe9"));
    pj_result_free(r);
    pj_policy_free(p);
    pj_scanner_free(s);
}

static bool write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    if (f)
        ok &= fclose(f) == 0;
    return ok;
}

static void test_fd_and_path(const pj_scanner *s)
{
    pj_policy *p = policy_of("default");
    char path[] = "/tmp/pj_test_api_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write_file(path, BYTES(DICT_P2)));
    pj_result *r = NULL;
    CHECK(pj_scan_path(s, p, path, &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    check_dict_graph(r);
    pj_result_free(r);
    /* a regular file is read whole, whatever the descriptor's position */
    CHECK(lseek(fd, 5, SEEK_SET) == 5);
    r = NULL;
    CHECK(pj_scan_fd(s, p, fd, &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED && pj_result_input_bytes(r) == sizeof DICT_P2 - 1);
    pj_result_free(r);
    CHECK(fcntl(fd, F_GETFD) >= 0); /* still open: the caller's */
    close(fd);
    unlink(path);

    /* a pipe is streamed */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    CHECK(write(pfd[1], MALICIOUS_P0, sizeof MALICIOUS_P0 - 1) == sizeof MALICIOUS_P0 - 1);
    close(pfd[1]);
    r = NULL;
    CHECK(pj_scan_fd(s, p, pfd[0], &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "dangerous-global"));
    pj_result_free(r);
    close(pfd[0]);

    /* the bundled examples (tests run from the source tree) */
    r = NULL;
    CHECK(pj_scan_path(s, p, "corpus/examples/checkpoint.pkl", &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_ALLOWED);
    pj_result_free(r);
    r = NULL;
    CHECK(pj_scan_path(s, p, "corpus/examples/malicious.pkl", &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED &&
          pj_result_worst_severity(r) == PJ_SEVERITY_CRITICAL);
    pj_result_free(r);

    /* an empty input holds no pickle: CPython raises EOFError */
    r = scan_buf(s, p, NULL, 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && pj_result_n_findings(r) >= 1);
    pj_result_free(r);
    /* numeric .npy and .npz files hold no pickle and unpickle nothing; a
     * benign object array's pickle is judged alone, without its note */
    static const char *const data_only[] = {"corpus/containers/real/np-f64.npy",
                                            "corpus/containers/real/np-plain.npz",
                                            "corpus/containers/real/np-object.npy"};
    for (size_t i = 0; i < sizeof data_only / sizeof data_only[0]; i++) {
        r = NULL;
        CHECK(pj_scan_path(s, p, data_only[i], &r, NULL) == 0);
        CHECK_MSG(r && pj_result_verdict(r) == PJ_SCAN_ALLOWED && pj_result_n_findings(r) == 0,
                  "%s not allowed", data_only[i]);
        pj_result_free(r);
    }
    pj_policy_free(p);
}

static void test_bad_arguments(const pj_scanner *s)
{
    pj_policy *p = policy_of(NULL);
    pj_result *const sentinel = (pj_result *)&p; /* any non-NULL value */
    pj_result *r = sentinel;
    pj_error err;
    /* outputs are set only on success */
    CHECK(pj_scan_buffer(s, NULL, BYTES(DICT_P2), &r, &err) == PJ_E_ARG && r == sentinel);
    CHECK(err.code == PJ_E_ARG && strstr(err.message, "policy"));
    CHECK(pj_scan_buffer(s, p, BYTES(DICT_P2), NULL, &err) == PJ_E_ARG);
    CHECK(pj_scan_buffer(s, p, NULL, 3, &r, &err) == PJ_E_ARG && r == sentinel);
    CHECK(pj_scan_path(s, p, NULL, &r, &err) == PJ_E_ARG && r == sentinel);
    CHECK(pj_scan_fd(s, p, -1, &r, &err) == PJ_E_ARG && r == sentinel);
    CHECK(pj_scan_path(s, p, "/nonexistent/model.pkl", &r, &err) == PJ_E_IO && r == sentinel);
    CHECK(err.code == PJ_E_IO && strstr(err.message, "/nonexistent/model.pkl"));
    CHECK(pj_scan_path(s, p, "/", &r, &err) == PJ_E_IO && r == sentinel);
    int fd = open("/dev/null", O_RDONLY);
    close(fd); /* now a closed descriptor */
    CHECK(pj_scan_fd(s, p, fd, &r, &err) == PJ_E_IO && r == sentinel);
    CHECK(pj_scan_buffer(s, p, BYTES(DICT_P2), &r, NULL) == 0 && r != sentinel);
    pj_result_free(r);
    /* accessors on NULL fail closed */
    CHECK(pj_result_verdict(NULL) == PJ_SCAN_REJECTED);
    CHECK(pj_result_n_findings(NULL) == 0 && pj_result_n_pickles(NULL) == 0);
    CHECK(pj_result_pickle(NULL, 0) == NULL && pj_result_container(NULL) == NULL);
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(NULL, &info) == PJ_E_ARG);
    pj_result_free(NULL);
    pj_policy_free(p);
}

static void test_limits_reject(void)
{
    pj_scanner *s = NULL;
    CHECK(pj_scanner_new(&s, NULL) == 0);
    pj_policy *p = policy_of(NULL);
    /* the input itself over its limit: nothing decoded, rejected */
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_INPUT_BYTES, 8, NULL) == 0);
    pj_result *r = scan_buf(s, p, BYTES(DICT_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "limit-exceeded"));
    CHECK(pj_result_n_pickles(r) == 0);
    pj_result_free(r);
    r = NULL;
    CHECK(pj_scan_path(s, p, "corpus/examples/checkpoint.pkl", &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "limit-exceeded"));
    pj_result_free(r);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_INPUT_BYTES, 1 << 20, NULL) == 0);
    /* a decoder limit: the pickle stops there */
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_NODES, 3, NULL) == 0);
    r = scan_buf(s, p, BYTES(DICT_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "limit-exceeded"));
    pj_pickle_info info;
    CHECK(pj_pickle_get_info(pj_result_pickle(r, 0), &info) == 0 && info.status == PJ_E_LIMIT);
    CHECK(info.n_nodes <= 3);
    pj_result_free(r);
    pj_policy_free(p);
    pj_scanner_free(s);
}

/* How the child ends becomes the finding: a deadline, and a memory limit so
 * small the child cannot even map its input. */
static void test_child_failures(void)
{
    pj_scanner *s = NULL;
    CHECK(pj_scanner_new(&s, NULL) == 0);
    pj_policy *p = policy_of(NULL);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_TIMEOUT_MS, 200, NULL) == 0);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    /* the write end stays open: the child waits for input forever */
    pj_result *r = NULL;
    CHECK(pj_scan_fd(s, p, pfd[0], &r, NULL) == 0);
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED && has_rule(r, "timeout"));
    CHECK(pj_result_n_pickles(r) == 0);
    pj_result_free(r);
    close(pfd[0]);
    close(pfd[1]);

    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_TIMEOUT_MS, 10000, NULL) == 0);
    CHECK(pj_scanner_set_limit(s, PJ_LIMIT_MEMORY_BYTES, 1, NULL) == 0);
    r = scan_buf(s, p, BYTES(DICT_P2));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED);
    CHECK_MSG(has_rule(r, "limit-exceeded") || has_rule(r, "decoder-crash"),
              "memory-starved child not reported");
    CHECK(pj_result_n_pickles(r) == 0);
    pj_result_free(r);
    pj_policy_free(p);
    pj_scanner_free(s);
}

/* The unsafe in-process decode judges exactly as the sandboxed one. */
static void test_unsafe_matches(const pj_scanner *s)
{
    static const struct {
        const unsigned char *b;
        size_t n;
    } inputs[] = {{BYTES(DICT_P2)},   {BYTES(MALICIOUS_P0)}, {BYTES(CYCLE_P2)},
                  {BYTES(NEWOBJ_P2)}, {BYTES(ODICT_P2)},     {BYTES(PY2STR)}};
    pj_policy *p = policy_of("default");
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        pj_result *a = scan_buf(s, p, inputs[i].b, inputs[i].n), *b = NULL;
        CHECK(pj_unsafe_scan_buffer_in_process(s, p, inputs[i].b, inputs[i].n, &b, NULL) == 0);
        CHECK_MSG(pj_result_verdict(a) == pj_result_verdict(b), "input %zu", i);
        CHECK(pj_result_n_findings(a) == pj_result_n_findings(b));
        pj_finding_info fa, fb;
        for (size_t k = 0; k < pj_result_n_findings(a) && k < pj_result_n_findings(b); k++)
            CHECK(pj_result_get_finding(a, k, &fa) == 0 && pj_result_get_finding(b, k, &fb) == 0 &&
                  strcmp(fa.rule, fb.rule) == 0 && fa.offset == fb.offset);
        pj_pickle_info ia, ib;
        CHECK(pj_pickle_get_info(pj_result_pickle(a, 0), &ia) == 0 &&
              pj_pickle_get_info(pj_result_pickle(b, 0), &ib) == 0 && ia.n_nodes == ib.n_nodes &&
              ia.root == ib.root && ia.status == ib.status);
        pj_result_free(a);
        pj_result_free(b);
    }
    pj_policy_free(p);
}

static void test_default_scanner(void)
{
    pj_policy *p = policy_of("default");
    pj_result *r = scan_buf(NULL, p, BYTES(MALICIOUS_P0));
    CHECK(pj_result_verdict(r) == PJ_SCAN_REJECTED);
    pj_result_free(r);
    pj_policy_free(p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    int fds = count_fds();
    test_errors_and_names();
    test_policy();
    test_scanner_limits();
    pj_scanner *s = NULL;
    pj_error err;
    CHECK_MSG(pj_scanner_new(&s, &err) == 0, "%s", err.message);
    if (s) {
        test_benign_buffer(s);
        test_malicious_buffer(s);
        test_cycle_and_sharing(s);
        test_newobj_and_ops(s);
        test_fd_and_path(s);
        test_bad_arguments(s);
        test_unsafe_matches(s);
    }
    pj_scanner_free(s);
    test_encoding();
    test_limits_reject();
    test_child_failures();
    test_default_scanner();
    CHECK_MSG(count_fds() == fds, "descriptors: %d before, %d after", fds, count_fds());
    return CHECK_DONE();
}
