/* What the CLI does with a decoded file, run by the targets on the results
 * they obtain: the decoder's own (fuzz_decode prints, fuzz_judge judges) and
 * the one the parent rebuilt from wire bytes (fuzz_wire does both: the parent
 * prints and judges exactly that).
 *
 * Everything prints into memory streams whose bytes are discarded: no file
 * is written.  The only failure allowed is running out of memory; anything
 * else means the consumer rejected a graph its producer promised was valid. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* open_memstream */
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "findings.h"
#include "fuzz_common.h"
#include "policy.h"

/* Print into a memory stream; the bytes are discarded.  Only running out of
 * memory is an acceptable failure. */
void pj_fuzz_print(const pj_file_result *r)
{
    pj_dump_pickle *pk = calloc(r->n_pickles, sizeof *pk);
    if (!pk)
        return;
    for (uint32_t i = 0; i < r->n_pickles; i++) {
        const pj_pickle_result *p = &r->pickles[i];
        pk[i] = (pj_dump_pickle){.g = p->g, .entry = p->entry, .offset = p->offset,
                                 .length = p->length, .error = p->status ? &p->error : NULL};
    }
    pj_dump_file f = {.path = "fuzz", .pickles = pk, .n_pickles = r->n_pickles,
                      .trailing_bytes = r->trailing_bytes};
    for (int json = 0; json < 2; json++) {
        char *buf = NULL;
        size_t n = 0;
        FILE *out = open_memstream(&buf, &n);
        if (!out)
            break;
        pj_error err;
        int rc = json ? pj_dump_json(out, &f, &err) : pj_dump_text(out, &f, &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
        fclose(out);
        free(buf);
    }
    free(pk);
}

static void print_report(const pj_report *rep)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    if (!out)
        return;
    pj_scan_item it = {.path = "fuzz", .rep = rep};
    const char *pol = "fuzz";
    pj_error err;
    PJ_FUZZ_CHECK(pj_report_print_text(out, &it, &err) == 0);
    PJ_FUZZ_CHECK(pj_report_print_json(out, &pol, 1, &it, 1, &err) == 0);
    fclose(out);
    free(buf);
}

void pj_fuzz_suggest(const pj_policy *p, const pj_file_result *r)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    if (!out)
        return;
    const pj_file_result *files[1] = {r};
    const char *paths[1] = {"fuzz"};
    pj_error err;
    int rc = pj_policy_suggest(out, p, files, paths, 1, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    fclose(out);
    free(buf);
}

void pj_fuzz_judge(const pj_file_result *r, unsigned profile)
{
    size_t n_names;
    const char *const *names = pj_policy_builtin_names(&n_names);
    bool empty = profile == 0 || profile > n_names;
    pj_policy *p = pj_policy_new();
    if (!p)
        return;
    pj_error err;
    /* a built-in profile that fails to load is a bug of its own */
    int rc = empty ? 0 : pj_policy_add_builtin(p, names[profile - 1], &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    if (rc == 0) {
        pj_report rep = {0};
        rc = pj_policy_eval(p, r, &rep, &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
        /* a pickle that failed to decode is never allowed */
        PJ_FUZZ_CHECK(pj_file_result_ok(r) || rep.verdict != PJ_VERDICT_ALLOWED);
        if (rc == 0)
            print_report(&rep);
        pj_report_free(&rep);
        pj_fuzz_suggest(p, r);
    }
    pj_policy_free(p);
}

unsigned pj_fuzz_profile_index(const char *name)
{
    size_t n;
    const char *const *names = pj_policy_builtin_names(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (unsigned)i + 1;
    return 0;
}
