/* The built-in profiles: the compiled-in text matches policy/<name>.yaml
 * byte for byte (a stale src/policy_builtin.inc fails here: regenerate it
 * with `python3 tools/embed_policies.py`), every policy/<name>.yaml is compiled
 * in, each loads under the built-in rules, and `default` is all of them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "check.h"
#include "findings.h"
#include "policy.h"
#include "policy_internal.h"

/* Run from the source directory (ctest does); PJ_SOURCE_DIR overrides. */
static const char *root(void)
{
    const char *r = getenv("PJ_SOURCE_DIR");
    return r ? r : ".";
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void test_embedded_matches_files(void)
{
    size_t n;
    const char *const *names = pj_policy_builtin_names(&n);
    CHECK(n == 5);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/policy/%s.yaml", root(), names[i]);
        size_t flen = 0, elen = 0;
        char *file = read_file(path, &flen);
        const char *emb = pj_policy_builtin_text(names[i], &elen);
        CHECK_MSG(file != NULL, "cannot read %s", path);
        CHECK_MSG(file && emb && flen == elen && memcmp(file, emb, flen) == 0,
                  "%s differs from the compiled-in profile: run python3 "
                  "tools/embed_policies.py",
                  path);
        free(file);
    }
    /* every profile file is compiled in */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/policy", root());
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 5), de->d_name);
        CHECK_MSG(pj_policy_builtin_text(name, NULL) != NULL, "%s is not compiled in",
                  de->d_name);
    }
    if (d)
        closedir(d);
}

static void test_profiles_load(void)
{
    size_t n;
    const char *const *names = pj_policy_builtin_names(&n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        pj_policy *p = pj_policy_new();
        pj_error err;
        pj_error_clear(&err);
        int rc = pj_policy_add_builtin(p, names[i], &err);
        CHECK_MSG(rc == 0, "%s: %s", names[i], err.message);
        CHECK(pj_policy_n_warnings(p) == 0);
        CHECK(p->n_indirect == 0 && !p->buffers && p->n_exts == 0);
        for (uint32_t e = 0; e < p->n_entries; e++) {
            const pj_pentry *x = &p->entries[e];
            CHECK(!(x->uses & PJ_USE_MUTATE));
            CHECK(!pj_danger_check((const uint8_t *)x->module, x->modn,
                                   (const uint8_t *)x->name, x->namen));
            CHECK(!pj_name_has_dunder((const uint8_t *)x->name, x->namen));
        }
        if (strcmp(names[i], "default"))
            total = total > pj_policy_n_globals(p) ? total : pj_policy_n_globals(p);
        pj_policy_free(p);
    }
    /* default merges the others: it has every name any of them has */
    pj_policy *def = pj_policy_new();
    pj_error err;
    CHECK(pj_policy_add_builtin(def, "default", &err) == 0);
    for (size_t i = 0; i < n; i++) {
        pj_policy *p = pj_policy_new();
        CHECK(pj_policy_add_builtin(p, names[i], &err) == 0);
        for (uint32_t e = 0; e < p->n_entries; e++) {
            const pj_pentry *x = &p->entries[e];
            CHECK(pj_policy_lookup(def, (const uint8_t *)x->module, x->modn,
                                   (const uint8_t *)x->name, x->namen) != UINT32_MAX);
        }
        pj_policy_free(p);
    }
    CHECK(pj_policy_n_globals(def) >= total);
    pj_policy_free(def);
}

/* The loaders and resolvers the issue names are never allowed. */
static void test_never_allowed(void)
{
    static const char *const never[][2] = {
        {"pickle", "loads"}, {"_pickle", "load"}, {"pickle", "Unpickler"},
        {"torch", "load"}, {"torch.storage", "_load_from_bytes"}, {"numpy", "load"},
        {"pandas", "read_pickle"}, {"dill", "loads"}, {"marshal", "loads"},
        {"builtins", "getattr"}, {"importlib", "import_module"}, {"pkgutil", "resolve_name"},
        {"pydoc", "locate"}, {"operator", "attrgetter"}, {"operator", "methodcaller"},
        {"functools", "partial"}, {"builtins", "eval"}, {"os", "system"},
    };
    pj_policy *def = pj_policy_new();
    pj_error err;
    CHECK(pj_policy_add_builtin(def, "default", &err) == 0);
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        const char *m = never[i][0], *nm = never[i][1];
        CHECK(pj_danger_check((const uint8_t *)m, strlen(m), (const uint8_t *)nm, strlen(nm)));
        CHECK(pj_policy_lookup(def, (const uint8_t *)m, strlen(m), (const uint8_t *)nm,
                               strlen(nm)) == UINT32_MAX);
    }
    pj_policy_free(def);
}

/* The verdict of `default` on a protocol 2 pickle of defaultdict(factory),
 * the factory given as opcodes. */
static int defaultdict_verdict(const pj_policy *def, const char *factory)
{
    char pk[256];
    int n = snprintf(pk, sizeof pk, "\x80\x02" "ccollections\ndefaultdict\n%s\x85R.", factory);
    CHECK(n > 0 && (size_t)n < sizeof pk);
    pj_decode_opts opts = {.encoding = PJ_ENC_ASCII};
    pj_limits lim = pj_limits_default();
    pj_file_result r;
    pj_report rep;
    pj_error err;
    CHECK(pj_analyze_buffer((const uint8_t *)pk, (size_t)n, &opts, &lim, &r, &err) == 0);
    CHECK(r.n_pickles == 1 && r.pickles[0].status == 0);
    CHECK(pj_policy_eval(def, &r, &rep, &err) == 0);
    int v = rep.verdict;
    pj_report_free(&rep);
    pj_file_result_free(&r);
    return v;
}

/* A defaultdict's factory is called by the program on a missing key: only
 * the types real pickles hold there are allowed, not every global some
 * profile allows to be both referenced and called (numpy's bit-generator
 * factory, numpy.dtype, torch.device were, before `is()` named them). */
static void test_defaultdict_factories(void)
{
    pj_policy *def = pj_policy_new();
    pj_error err;
    CHECK(pj_policy_add_builtin(def, "default", &err) == 0);
    static const char *const ok[] = {"cbuiltins\nlist\n", "cbuiltins\nint\n",
                                     "cbuiltins\nset\n", "ccollections\nOrderedDict\n",
                                     "N"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(defaultdict_verdict(def, ok[i]) == PJ_VERDICT_ALLOWED, "factory %zu", i);
    static const char *const bad[] = {"cnumpy.random._pickle\n__bit_generator_ctor\n",
                                      "cnumpy\ndtype\n", "ctorch\ndevice\n",
                                      "cnumpy.random._pickle\n__randomstate_ctor\n",
                                      "cbuiltins\nlist\n)R"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(defaultdict_verdict(def, bad[i]) == PJ_VERDICT_REJECTED, "factory %zu", i);
    pj_policy_free(def);
}

int main(void)
{
    test_embedded_matches_files();
    test_profiles_load();
    test_never_allowed();
    test_defaultdict_factories();
    return CHECK_DONE();
}
