/* Fuzz target: the policy loader (YAML parser, schema checks, shape
 * language, includes of built-in profiles) on arbitrary bytes, and the
 * judgement of a fixed set of decoded pickles by whatever policy loaded.
 *
 * Input: the text of a policy file.
 *
 * A policy file is written by a person, but `--policy FILE` may name
 * anything, so the loader must survive any bytes.  Each input is loaded twice:
 * as a user profile (pj_policy_add_text) and with the stricter rules of a
 * built-in one.  Including a *path* would read a file, which a target must
 * not do: when the document could include one (it has an "include" scalar
 * and a scalar that is not a built-in profile name), only the built-in load
 * runs — that load refuses path includes before touching the filesystem.
 *
 * Invariants checked (a failure is a bug, reported by a trap):
 *   - loading fails only with PJ_E_POLICY, PJ_E_ARG or for lack of memory;
 *   - every warning reads "file:line:column: message";
 *   - a policy that loaded judges the fixed pickles without failing, never
 *     allows one that names os.system, and the suggester runs with it as
 *     hint. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* open_memstream */
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "fuzz_common.h"
#include "policy.h"
#include "policy_internal.h"

/* Decoded pickles a policy is asked to judge: each exercises a different
 * part of a policy (calls, instantiation, ops on instances, persistent ids,
 * extensions, buffers).  None is ever loaded by Python; some name dangerous
 * globals on purpose. */
static const char fixed_pickles[] =
    /* an OrderedDict: REDUCE of a global, SETITEMS on the result */
    "\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00" "aq\x02K\x01X\x01\x00\x00\x00" "bq\x03]q\x04(G\x3f\xf8\x00\x00\x00\x00\x00\x00Neu."
    /* a legacy PyTorch tensor: BINPERSID, nested REDUCE */
    "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\nq\x00((X\x07\x00\x00\x00storageq\x01" "ctorch\nFloatStorage\nq\x02X\x01\x00\x00\x00" "0q\x03X\x03\x00\x00\x00" "cpuq\x04K\x04tq\x05QK\x00K\x04\x85q\x06K\x01\x85q\x07\x89" "ccollections\nOrderedDict\nq\x08)Rq\x09tq\nRq\x0b."
    /* a numpy array: _reconstruct, dtype, BUILD with tuple states */
    "cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntC\x01" "btR(I1\n(I3\ntcnumpy\ndtype\n(S'f8'\nI0\nI1\ntR(I3\nS'<'\nNNNI-1\nI-1\nI0\ntbI00\nC\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00tb."
    /* os.system called */
    "cos\nsystem\n(S'echo hi'\ntR."
    /* NEWOBJ of a class, BUILD with a dict */
    "\x80\x04\x95+\x00\x00\x00\x00\x00\x00\x00\x8c\x05mymod\x94\x8c\x03" "Foo\x94\x93\x94)\x81\x94}\x94(\x8c\x01x\x94K\x01\x8c\x01y\x94]\x94(K\x01K\x02" "eub."
    /* a list subclass: APPENDS and BUILD on an instance */
    "\x80\x02" "cmymod\nL\nq\x00)\x81q\x01(K\x01K\x02" "e}q\x02X\x01\x00\x00\x00zq\x03K\x03sb."
    /* a dict subclass: SETITEMS on an instance */
    "\x80\x02" "cmymod\nD\nq\x00)\x81q\x01X\x01\x00\x00\x00" "aq\x02K\x01s."
    /* builtin values only */
    "\x80\x05\x95" "3\x00\x00\x00\x00\x00\x00\x00\x8f\x94((K\x01\x91\x94G@\x04\x00\x00\x00\x00\x00\x00" "C\x01x\x94\x8a\x0d\x00\x00\x00@\xea\xedtF\xd0\x9c,\x9f\x0c\x90\x96\x01\x00\x00\x00\x00\x00\x00\x00y\x94\x86\x94."
    /* EXT1 */
    "\x80\x02\x82\x01\x85."
    /* PERSID, REDUCE of builtins.len */
    "(Pmy-pid\nI1\ntcbuiltins\nlen\n(S'abc'\ntR\x86."
    /* NEXT_BUFFER, READONLY_BUFFER */
    "\x80\x05\x97\x98."
    /* ADDITEMS on the result of a call */
    "\x80\x04" "c__builtin__\nset\n\x8c\x01" "a\x85R\x94(\x8c\x01" "b\x90."
    ;

/* The pickle above that calls os.system starts with this. */
static const char os_system_pickle[] = "cos\nsystem\n(S'echo hi'\ntR.";

/* is_builtin_ref of policy_load.c: such an include names a built-in profile
 * and reads no file. */
static bool names_builtin(const char *s, size_t n)
{
    if (memchr(s, '/', n))
        return false;
    if ((n > 5 && !memcmp(s + n - 5, ".yaml", 5)) || (n > 4 && !memcmp(s + n - 4, ".yml", 4)))
        return false;
    return true;
}

/* True when loading text as a user profile could read a file. */
static bool may_include_path(const uint8_t *data, size_t size)
{
    pj_ydoc doc;
    memset(&doc, 0, sizeof doc);
    pj_error err;
    if (pj_yaml_parse("fuzz", (const char *)data, size, &doc, &err) != 0)
        return false; /* the loader stops at the same parse error */
    bool include = false, path = false;
    for (uint32_t i = 0; i < doc.count; i++) {
        const pj_ynode *n = &doc.n[i];
        if (n->kind != PJ_Y_SCALAR)
            continue;
        if (n->len == 7 && !memcmp(n->text, "include", 7))
            include = true;
        else if (!names_builtin(n->text, strlen(n->text)))
            path = true;
    }
    pj_yaml_free(&doc);
    return include && path;
}

static void check_warnings(const pj_policy *p)
{
    size_t n = pj_policy_n_warnings(p);
    for (size_t i = 0; i < n; i++) {
        const char *w = pj_policy_warning(p, i);
        PJ_FUZZ_CHECK(w != NULL && strncmp(w, "fuzz:", 5) == 0);
    }
    (void)pj_policy_n_globals(p);
}

/* Judge the fixed pickles, all together and the os.system one alone. */
static void judge(const pj_policy *p)
{
    static const struct {
        const char *p;
        size_t n;
        bool dangerous;
    } inputs[2] = {
        {fixed_pickles, sizeof fixed_pickles - 1, true},
        {os_system_pickle, sizeof os_system_pickle - 1, true},
    };
    pj_limits lim = pj_fuzz_limits();
    pj_decode_opts opts = {.encoding = PJ_ENC_ASCII};
    for (size_t k = 0; k < 2; k++) {
        pj_file_result r;
        pj_error err;
        int rc = pj_analyze_buffer((const uint8_t *)inputs[k].p, inputs[k].n, &opts, &lim,
                                   &r, &err);
        if (rc == 0) {
            PJ_FUZZ_CHECK(pj_file_result_ok(&r)); /* the fixed pickles all decode */
            pj_report rep = {0};
            rc = pj_policy_eval(p, &r, &rep, &err);
            PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
            /* no policy allows os.system: it is on the known-dangerous
             * list, and a user profile allowing it only gets a warning --
             * so this checks the verdict is at least not silently wrong */
            if (rc == 0 && inputs[k].dangerous && pj_policy_n_warnings(p) == 0)
                PJ_FUZZ_CHECK(rep.verdict == PJ_VERDICT_REJECTED);
            pj_report_free(&rep);
            if (k == 0)
                pj_fuzz_suggest(p, &r);
        }
        pj_file_result_free(&r);
    }
}

static void load(const uint8_t *data, size_t size, bool builtin)
{
    pj_policy *p = pj_policy_new();
    if (!p)
        return;
    pj_error err;
    int rc = builtin ? pj_policy_load_text(p, "fuzz", (const char *)data, size, true, &err)
                     : pj_policy_add_text(p, "fuzz", (const char *)data, size, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_POLICY || rc == PJ_E_ARG || rc == PJ_E_NOMEM);
    if (rc == 0) {
        check_warnings(p);
        judge(p);
    }
    pj_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!may_include_path(data, size))
        load(data, size, false);
    load(data, size, true);
    return 0;
}
