/* numpy dtype states (numpy_dtype_audit.c): pickles built here byte by byte,
 * each read through pj_analyze_input, the note `numpy-dtype-state` expected
 * or not.  Every case was loaded with Debian's numpy 1.24 (pickle.load, then
 * repr, in a subprocess): the "ok" ones load and print; numpy refuses none of
 * the noted ones: the "-crash" ones die with SIGSEGV (name-missing inside
 * pickle.load, the others on repr), field-outside and mutated-after-build
 * print heap bytes, cycle loads and then recurses without end on repr.  To
 * re-check: `test_numpy_dtype --dump DIR` writes every case to
 * DIR/<name>.pkl. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "container.h"

typedef struct pb {
    uint8_t b[1u << 20];
    size_t n;
    int overflow;
} pb;

static pb P;

static void put(const void *s, size_t n)
{
    if (sizeof P.b - P.n < n) {
        P.overflow = 1;
        return;
    }
    memcpy(P.b + P.n, s, n);
    P.n += n;
}

/* A literal, NULs included. */
#define RAW(s) put((s), sizeof(s) - 1)
static void op(uint8_t c) { put(&c, 1); }

static void u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, 4);
}

static void str(const char *s)
{
    op('X');
    u32((uint32_t)strlen(s));
    put(s, strlen(s));
}
static void i32(int32_t v) { op('J'); u32((uint32_t)v); }
static void memo_put(uint32_t i) { op('r'); u32(i); }
static void memo_get(uint32_t i) { op('j'); u32(i); }

/* numpy.dtype(typestr, False, True), as numpy's __reduce__ writes it. */
static void dtype_new(const char *ts)
{
    RAW("cnumpy\ndtype\n");
    str(ts);
    RAW("\x89\x88\x87R");
}

/* Push a version 3 state tuple; subarray, names and fields are pushed by
 * the callbacks (NULL: None). */
static void state(const char *order, void (*sub)(void), void (*names)(void),
                  void (*fields)(void), int32_t elsize, int32_t align, int32_t flags)
{
    op('(');
    RAW("K\x03");
    str(order);
    if (sub) sub(); else op('N');
    if (names) names(); else op('N');
    if (fields) fields(); else op('N');
    i32(elsize);
    i32(align);
    i32(flags);
    op('t');
}

static void obj_dtype(void) { dtype_new("O8"); state("|", NULL, NULL, NULL, -1, -1, 63); op('b'); }
static void i8_dtype(void) { dtype_new("i8"); state("<", NULL, NULL, NULL, -1, -1, 0); op('b'); }

/* (dtype, offset) */
static void field(void (*type)(void), int32_t off) { type(); i32(off); op('\x86'); }

static void names_x(void) { str("x"); op('\x85'); }
static void names_xy(void) { str("x"); str("y"); op('\x86'); }

static void fields_obj_int(void)
{
    RAW("}(");
    str("x"); field(obj_dtype, 0);
    str("y"); field(i8_dtype, 8);
    op('u');
}

static void fields_obj_int_same(void)
{
    RAW("}(");
    str("x"); field(obj_dtype, 0);
    str("y"); field(i8_dtype, 0);
    op('u');
}

static void fields_int_far(void) { RAW("}("); str("x"); field(i8_dtype, 100000); op('u'); }
static void fields_x_only(void) { RAW("}("); str("x"); field(i8_dtype, 0); op('u'); }
static void fields_x_obj(void) { RAW("}("); str("x"); field(obj_dtype, 0); op('u'); }

/* numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') and the start of
 * its state (1, (1,), ...): the caller pushes the dtype, then ends it. */
static void array_begin(void)
{
    RAW("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" "C\x01" "b\x87R");
    RAW("(K\x01K\x01\x85");
}

/* ... False, raw bytes) BUILD: numpy copies them in as they are. */
static void array_end_RAW(uint32_t n)
{
    op('\x89');
    op('B');
    u32(n);
    for (uint32_t i = 0; i < n; i++)
        op('A');
    RAW("tb");
}

/* ... False, [("hi", 5)]) BUILD: a list pickle, for dtypes holding objects. */
static void array_end_list(void)
{
    RAW("\x89(l");
    str("hi");
    RAW("K\x05\x86" "atb");
}

static void start(void)
{
    P.n = 0;
    P.overflow = 0;
    RAW("\x80\x02");
}

/* ---- the cases ------------------------------------------------------------ */

/* numpy's own structured dtype with an object field: flags 0x1b. */
static void case_ok_struct_obj(void)
{
    start();
    array_begin();
    dtype_new("V16");
    state("|", NULL, names_xy, fields_obj_int, 16, 8, 0x1b);
    op('b');
    array_end_list();
    op('.');
}

/* The same with flags 0: numpy takes the pointer from the file (crash). */
static void case_flags0(void)
{
    start();
    array_begin();
    dtype_new("V16");
    state("|", NULL, names_xy, fields_obj_int, 16, 8, 0);
    op('b');
    array_end_RAW(16);
    op('.');
}

static void case_ok_f8(void)
{
    start();
    array_begin();
    dtype_new("f8");
    state("<", NULL, NULL, NULL, -1, -1, 0);
    op('b');
    array_end_RAW(8);
    op('.');
}

/* An object dtype whose flags deny objects (crash). */
static void case_o8_flags0(void)
{
    start();
    array_begin();
    dtype_new("O8");
    state("|", NULL, NULL, NULL, -1, -1, 0);
    op('b');
    array_end_RAW(8);
    op('.');
}

/* A V8 dtype fills an array from raw bytes, then a second BUILD gives it an
 * object field (crash). */
static void case_second_build(void)
{
    start();
    array_begin();
    dtype_new("V8");
    memo_put(1);
    state("|", NULL, NULL, NULL, 8, 1, 0);
    op('b');
    array_end_RAW(8);
    memo_put(2);
    op('0');
    memo_get(1);
    state("|", NULL, names_x, fields_x_obj, 8, 8, 0x1b);
    RAW("b0");
    memo_get(2);
    op('.');
}

/* The same with one BUILD only, after the array was filled (crash). */
static void case_build_after_use(void)
{
    start();
    dtype_new("V8");
    memo_put(1);
    op('0');
    array_begin();
    memo_get(1);
    array_end_RAW(8);
    memo_put(2);
    op('0');
    memo_get(1);
    state("|", NULL, names_x, fields_x_obj, 8, 8, 0x1b);
    RAW("b0");
    memo_get(2);
    op('.');
}

/* The fields dict is set again after the BUILD: numpy keeps it by
 * reference, so x becomes an int8 field under a filled object array. */
static void fields_memo(void)
{
    RAW("}");
    memo_put(3);
    op('(');
    str("x");
    field(obj_dtype, 0);
    op('u');
}

static void case_mutated_after_build(void)
{
    start();
    array_begin();
    dtype_new("V8");
    state("|", NULL, names_x, fields_memo, 8, 8, 0x1b);
    op('b');
    RAW("\x89(l");
    str("hi");
    RAW("\x85" "atb");
    memo_get(3);
    str("x");
    field(i8_dtype, 0);
    RAW("s0.");
}

/* An object field overlapping an int field: writing y forges x (crash). */
static void case_overlap(void)
{
    start();
    array_begin();
    dtype_new("V8");
    state("|", NULL, names_xy, fields_obj_int_same, 8, 8, 0x1b);
    op('b');
    RAW("\x89(l");
    str("hi");
    i32(0x41414141);
    RAW("\x86" "atb.");
}

/* A field 100000 bytes past an 8-byte item: numpy reads the heap. */
static void case_field_outside(void)
{
    start();
    array_begin();
    dtype_new("V8");
    state("|", NULL, names_x, fields_int_far, 8, 8, 0x10);
    op('b');
    array_end_RAW(8);
    op('.');
}

/* names ('x', 'y') with only x in fields: numpy dereferences NULL when it
 * fills the list pickle (crash). */
static void case_name_missing(void)
{
    start();
    array_begin();
    dtype_new("V16");
    state("|", NULL, names_xy, fields_x_only, 16, 8, 0x1b);
    RAW("b\x89(lK\x01K\x02\x86" "atb.");
}

/* A dtype whose field is itself: numpy recurses without end. */
static void case_cycle(void)
{
    start();
    dtype_new("V8");
    memo_put(1);
    op('(');
    RAW("K\x03");
    str("|");
    op('N');
    names_x();
    RAW("}(");
    str("x");
    memo_get(1);
    RAW("K\x00\x86u");
    i32(8);
    i32(8);
    i32(0x10);
    RAW("tb.");
}

/* A chain of nested structured dtypes, each field the previous one, with an
 * object at the bottom: numpy writes exactly this for deep nesting; the
 * audit must walk it without recursion. */
static void case_deep(void)
{
    enum { DEPTH = 5000 };
    start();
    obj_dtype();
    for (int i = 0; i < DEPTH; i++) {
        memo_put(1);
        op('0');
        dtype_new("V8");
        op('(');
        RAW("K\x03");
        str("|");
        op('N');
        names_x();
        RAW("}(");
        str("x");
        memo_get(1);
        RAW("K\x00\x86u");
        i32(8);
        i32(1);
        i32(0x1b);
        RAW("tb");
    }
    op('.');
}

static const struct {
    const char *name;
    void (*make)(void);
    int noted;
} cases[] = {
    {"ok-struct-obj", case_ok_struct_obj, 0},
    {"ok-f8", case_ok_f8, 0},
    {"ok-deep", case_deep, 0},
    {"flags0-crash", case_flags0, 1},
    {"o8-flags0-crash", case_o8_flags0, 1},
    {"second-build-crash", case_second_build, 1},
    {"build-after-use-crash", case_build_after_use, 1},
    {"mutated-after-build", case_mutated_after_build, 1},
    {"overlap-crash", case_overlap, 1},
    {"field-outside", case_field_outside, 1},
    {"name-missing-crash", case_name_missing, 1},
    {"cycle", case_cycle, 1},
};

static int count_notes(const pj_file_result *r)
{
    int n = 0;
    for (uint32_t i = 0; i < r->n_notes; i++)
        n += strcmp(r->notes[i].rule, "numpy-dtype-state") == 0;
    return n;
}

static void run(size_t i)
{
    cases[i].make();
    CHECK_MSG(!P.overflow, "%s: test pickle too large", cases[i].name);
    pj_file_result r;
    pj_error err;
    int rc = pj_analyze_input(P.b, P.n, NULL, NULL, NULL, &r, &err);
    CHECK_MSG(rc == 0, "%s: %s", cases[i].name, err.message);
    if (rc == 0) {
        CHECK_MSG(r.n_pickles == 1 && r.pickles[0].status == 0, "%s: decoded %u pickles, status %d",
                  cases[i].name, r.n_pickles, r.n_pickles ? r.pickles[0].status : 0);
        int n = count_notes(&r);
        CHECK_MSG((n > 0) == cases[i].noted, "%s: %d notes (%s)", cases[i].name, n,
                  r.n_notes ? r.notes[0].message : "-");
    }
    pj_file_result_free(&r);
}

static int dump(const char *dir)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cases[i].make();
        char path[512];
        snprintf(path, sizeof path, "%s/%s.pkl", dir, cases[i].name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(P.b, 1, P.n, f) != P.n || fclose(f)) {
            perror(path);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(i);
    return CHECK_DONE();
}
