/* Fuzz target: the .npy grammar alone — magic, version, header length and
 * the header literal numpy evaluates with ast.literal_eval, parsed here by
 * a strict hand-written parser — then the whole-file reader, which decodes
 * an object array's pickle.
 *
 * Input: the .npy file's bytes.  The header literal is the hostile part:
 * nested tuples and lists, string escapes, structured dtypes.
 *
 * Invariants checked (a trap):
 *   - the prefix either fails with a reason or puts the literal at or after
 *     byte 10 and its end after its start;
 *   - the literal parser returns 0, -1 with a terminated, non-empty reason,
 *     or -2 (no memory);
 *   - the reader, given the whole file, never asks for more, fails only for
 *     lack of memory or a limit, and every pickle it adds is well formed. */
#include <string.h>

#include "fuzz_common.h"
#include "npy.h"

static void check_header(const uint8_t *data, size_t size)
{
    pj_npy_info info;
    const char *why = NULL;
    if (pj_npy_prefix(data, size, &info, &why)) {
        PJ_FUZZ_CHECK(why && *why);
        return;
    }
    PJ_FUZZ_CHECK(info.header >= 10 && info.data >= info.header);
    if (info.data > size)
        return; /* the literal runs past the input: the reader says so */
    char msg[160];
    memset(msg, 0, sizeof msg);
    int rc = pj_npy_parse_header(data, size, &info, msg, sizeof msg);
    PJ_FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc == -1)
        PJ_FUZZ_CHECK(msg[0] != 0 && memchr(msg, 0, sizeof msg) != NULL);
    if (rc == 0)
        PJ_FUZZ_CHECK(info.has_object == 0 || info.has_object == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_header(data, size);

    pj_limits lim = pj_fuzz_limits();
    pj_file_result out;
    memset(&out, 0, sizeof out);
    pj_container_ctx c = {.limits = &lim, .cl = pj_fuzz_container_limits(), .out = &out};
    pj_error err;
    int rc = pj_npy_read(&c, data, size, size, "fuzz.npy", 1, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM || rc == PJ_E_LIMIT);
    if (rc == 0) {
        /* every path through the reader either accepts the array silently
         * or says why in a note; a pickle comes with its note */
        PJ_FUZZ_CHECK(out.n_pickles == 0 || out.n_notes > 0);
        pj_fuzz_check_pickles(&out, 0);
        pj_fuzz_print(&out);
    }
    pj_file_result_free(&out);
    return 0;
}
