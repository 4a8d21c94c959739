/* Fuzz target: joblib's framing — a pickle stream in which joblib.load
 * reads raw array bytes (or a nested object-array pickle) right after each
 * NumpyArrayWrapper's BUILD, with the number of bytes computed from the
 * wrapper's decoded state (shape, dtype, order, padding).  That computation
 * is the attacker's lever: too few or too many skipped bytes and the reader
 * sees other opcodes than joblib does.
 *
 * Input: one options byte, then the file.
 *   bits 0-2  as the pickle targets (fuzz_common.h): the Python 2 str
 *             encoding and pickle.py's rules for the plain pickle.load
 *             reading (joblib's own reading always uses pickle.py's)
 *   bit  3    read as a decompressed old "ZF" file (ZipNumpyUnpickler)
 *             instead of deciding by content
 *   bits 4-7  unused
 *
 * Pickles are read one after another, as the stream reader does.
 * Invariants (a trap):
 *   - pj_joblib_decode fails only for lack of memory or a limit;
 *   - it ends inside the input, after where it started when the pickle
 *     reached STOP (so a stream always advances), and the results it
 *     appends start at *first;
 *   - every pickle appended is well formed, and the printers accept them. */
#include <string.h>

#include "fuzz_common.h"
#include "joblib.h"

#define OPT_COMPAT 0x08u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pj_decode_opts opts = pj_fuzz_decode_opts(data[0]);
    pj_joblib_mode mode = (data[0] & OPT_COMPAT) ? PJ_JOBLIB_COMPAT : PJ_JOBLIB_AUTO;
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    pj_limits lim = pj_fuzz_limits();
    pj_file_result out;
    memset(&out, 0, sizeof out);
    pj_container_ctx c = {
        .opts = &opts, .limits = &lim, .cl = pj_fuzz_container_limits(), .out = &out};
    size_t pos = 0;
    int rc = 0;
    do {
        size_t end = SIZE_MAX;
        int status = 1, joblib = -1;
        uint32_t first = UINT32_MAX, before = out.n_pickles;
        pj_error err;
        rc = pj_joblib_decode(&c, buf, len, pos, "fuzz", mode, &end, &status, &first, &joblib,
                              &err);
        PJ_FUZZ_CHECK(rc == 0 || rc == PJ_E_NOMEM || rc == PJ_E_LIMIT);
        if (rc)
            break;
        PJ_FUZZ_CHECK(first == before && out.n_pickles > before);
        PJ_FUZZ_CHECK(joblib == 0 || joblib == 1);
        PJ_FUZZ_CHECK(end >= pos && end <= len);
        PJ_FUZZ_CHECK(status <= 0 && status >= PJ_E_MIN);
        if (status)
            break;
        PJ_FUZZ_CHECK(end > pos);
        pos = end;
    } while (pos < len);
    if (rc == 0) {
        pj_fuzz_check_pickles(&out, 0);
        pj_fuzz_print(&out);
    }
    pj_file_result_free(&out);
    return 0;
}
