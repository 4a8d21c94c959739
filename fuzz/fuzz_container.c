/* Fuzz target: a whole input file as the sandboxed child reads it — the
 * content sniffer and every container reader (zip archives: PyTorch,
 * TorchScript, .npz; .npy; PyTorch's legacy format; the wrappers it
 * recognises), then the pickles inside.
 *
 * Input: the file's bytes exactly as on disk (no options byte; the decoder
 * runs with the CLI's defaults).
 *
 * Zip and npy parsing are the largest hostile-input surface after the
 * decoder itself, and the child's whole result, container notes and entry
 * names included, then crosses the wire.  Invariants checked (a trap):
 *   - pj_analyze_input fails only for lack of memory (or a limit on the
 *     result itself);
 *   - every pickle it reports has a graph and a status in range;
 *   - the dump printers succeed on the result;
 *   - the child's encoding of the result is one the parent accepts under the
 *     same limits, and the parent's re-encoding is byte for byte the same. */
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "fuzz_common.h"
#include "wire.h"

static void check_wire(const pj_file_result *r, const pj_limits *lim)
{
    uint8_t *msg = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    pj_error err;
    int rc = pj_wire_encode(r, &msg, &n, &err);
    /* the notes a hostile archive can pile up are capped below the wire's */
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    if (rc)
        return;
    pj_file_result back;
    rc = pj_wire_decode(msg, n, lim, &back, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
    if (rc == 0) {
        PJ_FUZZ_CHECK(back.n_pickles == r->n_pickles && back.n_notes == r->n_notes);
        rc = pj_wire_encode(&back, &again, &n2, &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM);
        if (rc == 0)
            PJ_FUZZ_CHECK(n2 == n && memcmp(msg, again, n) == 0);
        free(again);
        pj_file_result_free(&back);
    }
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pj_limits lim = pj_fuzz_limits();
    pj_container_limits cl = pj_fuzz_container_limits();
    pj_file_result r;
    pj_error err;
    int rc = pj_analyze_input(data, size, NULL, &lim, &cl, &r, &err);
    PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM || rc == PJ_E_LIMIT);
    if (rc == 0) {
        pj_fuzz_check_pickles(&r, 0);
        pj_fuzz_print(&r);
        check_wire(&r, &lim);
    }
    pj_file_result_free(&r);
    return 0;
}
