/* What the fuzz targets share: the lowered limits, the meaning of the
 * options byte, and how a target reports a broken invariant.
 *
 * Good-target rules (fuzz/README.md): no exit or abort on any input the code
 * handles correctly, no I/O, no global state, deterministic.  A target stops
 * the process only through PJ_FUZZ_CHECK, and only when the code under test
 * broke a promise it makes (a successful validate that does not round-trip,
 * a printer that fails on a graph the decoder built...): that is a bug the
 * engine must report, not the handling of a bad input. */
#ifndef PJ_FUZZ_COMMON_H
#define PJ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "container_limits.h"
#include "decode.h"
#include "limits.h"

/* Every target defines this; the engines (libFuzzer, AFL++ through
 * standalone_main.c, the replay driver) call it once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: trap, so libFuzzer, AFL++ and the sanitizers all see a
 * crash (no message: a target does no I/O).  The failed condition and its
 * place are the argument of pj_fuzz_fail, visible in the stack trace and in
 * a debugger; one call per check keeps the compiler from folding all traps
 * into one, which would make every failure look alike. */
#define PJ_FUZZ_STR2(x) #x
#define PJ_FUZZ_STR(x) PJ_FUZZ_STR2(x)
#define PJ_FUZZ_CHECK(cond)                                                     \
    do {                                                                        \
        if (!(cond))                                                            \
            pj_fuzz_fail(__FILE__ ":" PJ_FUZZ_STR(__LINE__) ": " #cond);        \
    } while (0)

__attribute__((noinline, noreturn, cold, unused)) static void pj_fuzz_fail(const char *what)
{
    /* keep the text alive in the frame for the debugger */
    const char *volatile keep = what;
    (void)keep;
    __builtin_trap();
}

/* The decoder's limits lowered so that no single input can take more than a
 * fraction of a second or more than a few hundred MiB, whatever it holds:
 * a slow unit is a finding only when the code is slow, not when an input is
 * allowed to be big.  The defaults are what production uses; the ceilings
 * are checked by pj_limits_check like every other caller's. */
static inline pj_limits pj_fuzz_limits(void)
{
    pj_limits l = pj_limits_default();
    l.input_bytes = UINT64_C(1) << 20;
    l.nodes = UINT64_C(1) << 16;
    l.items = UINT64_C(1) << 18;
    l.memo = UINT64_C(1) << 16;
    l.stack = UINT64_C(1) << 16;
    l.marks = UINT64_C(1) << 14;
    l.string_bytes = UINT64_C(1) << 20;
    l.bigint_bytes = UINT64_C(1) << 12;
    l.payload_bytes = UINT64_C(1) << 22;
    return l;
}

/* The pickle targets (decode, roundtrip) read their first byte as options,
 * so one corpus file fixes everything the decoder depends on and replaying
 * it is deterministic:
 *   bits 0-1  Python 2 str encoding: ascii, latin1, utf-8, bytes
 *   bit  2    python_reader (pickle.py's rules, as joblib reads)
 *   bits 3-5  judge target only: k in 1..n, the k-th built-in profile of
 *             pj_policy_builtin_names; anything else an empty policy
 *             (every global a finding)
 *   bits 6-7  unused (ignored, so old corpus files keep their meaning)
 * The pickle bytes follow. */
#define PJ_FUZZ_OPT_ENC_MASK 0x03u
#define PJ_FUZZ_OPT_PYREADER 0x04u
#define PJ_FUZZ_OPT_POLICY_SHIFT 3
#define PJ_FUZZ_OPT_POLICY_MASK 0x07u

static inline pj_decode_opts pj_fuzz_decode_opts(uint8_t opt)
{
    pj_decode_opts o = {0};
    o.encoding = (pj_py2enc)(opt & PJ_FUZZ_OPT_ENC_MASK);
    o.python_reader = (opt & PJ_FUZZ_OPT_PYREADER) != 0;
    return o;
}

/* The container limits lowered like the decoder's (container, zip, npy,
 * joblib, decompress targets): one input must not be allowed to inflate
 * hundreds of MiB. */
static inline pj_container_limits pj_fuzz_container_limits(void)
{
    pj_container_limits c = pj_container_limits_default();
    c.entries = 1u << 10;
    c.entry_bytes = UINT64_C(4) << 20;
    c.total_bytes = UINT64_C(16) << 20;
    c.npy_header = UINT64_C(64) << 10;
    c.notes = 256;
    return c;
}

/* What every reader promises of the pickles it appends to a result from
 * index `from` on: each has a graph and a status in the PJ_E_* range, a
 * failed one carries its error, a decoded one a root. */
static inline void pj_fuzz_check_pickles(const pj_file_result *r, uint32_t from)
{
    for (uint32_t i = from; i < r->n_pickles; i++) {
        const pj_pickle_result *p = &r->pickles[i];
        PJ_FUZZ_CHECK(p->g != NULL);
        PJ_FUZZ_CHECK(p->status <= 0 && p->status >= PJ_E_MIN);
        if (p->status == 0)
            PJ_FUZZ_CHECK(p->g->root < p->g->n_nodes);
        else
            PJ_FUZZ_CHECK(p->error.code == p->status);
    }
}

/* fuzz_consume.c, what the CLI does with a decoded file.  Each traps when
 * a consumer fails on r other than for lack of memory.
 *   pj_fuzz_print: both dump printers, into memory;
 *   pj_fuzz_judge: pj_policy_eval with the profile-th built-in profile
 *     (1..n; anything else: an empty policy), both report printers and the
 *     policy suggester, into memory. */
void pj_fuzz_print(const pj_file_result *r);
void pj_fuzz_judge(const pj_file_result *r, unsigned profile);
/* pj_policy_suggest with p as the hint, into memory. */
struct pj_policy;
void pj_fuzz_suggest(const struct pj_policy *p, const pj_file_result *r);

/* 1 + the index of a built-in profile name, 0 when there is none. */
unsigned pj_fuzz_profile_index(const char *name);

#endif
