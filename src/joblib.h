/* joblib files: a pickle stream in which joblib.load reads raw bytes straight
 * from the file after some objects.
 *
 * joblib.dump replaces every numpy array by a NumpyArrayWrapper, pickles the
 * wrapper (NEWOBJ, BUILD with its attribute dict), commits the frame, and
 * then writes the array itself: for a dtype without objects, a padding-length
 * byte, that many 0xff bytes (joblib >= 1.2, to align the data to 16), and
 * count x itemsize raw bytes; for an object dtype, a whole nested protocol-2
 * pickle.  joblib.load (NumpyUnpickler, a pickle._Unpickler) reads those bytes
 * after the wrapper's BUILD and goes on decoding opcodes after them.  A reader
 * that does not skip exactly the same bytes sees other opcodes than joblib
 * does: the array length is an attacker's lever to hide or invent opcodes.
 *
 * So the bytes to skip are computed here from the decoded wrapper state
 * exactly as NumpyArrayWrapper.read_array computes them, with overflow
 * checks; whatever cannot be computed with certainty fails the decode
 * (fails closed) with a note saying why.  Object arrays are decoded as their
 * own pickles (pickle.load: the C unpickler) and judged by the same policy.
 * The older NDArrayWrapper loads a companion file named by the pickle: noted,
 * since its content is out of our sight.
 */
#ifndef PJ_JOBLIB_H
#define PJ_JOBLIB_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "graph.h"

typedef enum pj_joblib_class {
    PJ_JOBLIB_NONE = 0,  /* not one of joblib's array wrappers */
    PJ_JOBLIB_NUMPY,     /* joblib.numpy_pickle.NumpyArrayWrapper: raw bytes follow */
    PJ_JOBLIB_ND,        /* NDArrayWrapper or ZNDArrayWrapper: a companion file */
    PJ_JOBLIB_AMBIGUOUS, /* a wrapper name under a joblib module we cannot place */
} pj_joblib_class;

/* What a GLOBAL node names, as find_class would resolve it. */
pj_joblib_class pj_joblib_classify_global(const pj_graph *g, pj_id global);

/* Non-zero when some GLOBAL node of g names a joblib wrapper class. */
int pj_joblib_graph_has_wrapper(const pj_graph *g);

/* Where the BUILD ops of a graph being decoded are, by target: updated at
 * each hook call with the ops added since, so that finding the states of a
 * node costs the number of its BUILDs, not a scan of every op. */
typedef struct pj_build_index {
    uint32_t *last;     /* per node: its last BUILD op, or UINT32_MAX */
    uint32_t *prev;     /* per op: the BUILD op on the same target before it */
    uint32_t n_nodes, n_ops;  /* how much of the graph is indexed */
    uint32_t cap_nodes, cap_ops;
} pj_build_index;

/* Index the ops and nodes g gained since the last call.  0 or PJ_E_NOMEM. */
int pj_build_index_update(pj_build_index *ix, const pj_graph *g, pj_error *err);
void pj_build_index_free(pj_build_index *ix);
/* The last BUILD op on node id (UINT32_MAX: none); ix may be NULL (scan). */
uint32_t pj_build_last(const pj_build_index *ix, const pj_graph *g, pj_id id);
/* The BUILD op on the same target before op i (UINT32_MAX: none). */
uint32_t pj_build_prev(const pj_build_index *ix, const pj_graph *g, uint32_t i);

/* The class of an instance as joblib's isinstance test sees it: made by
 * NEWOBJ/INST/OBJ of a wrapper class, by calling the class (then *ctor_args
 * are its __init__ arguments), or by copyreg's constructors.  A computed
 * class is AMBIGUOUS, and so is a class taken from an argument list: the
 * list can be changed (SETITEM) after the call that used its old item. */
pj_joblib_class pj_joblib_instance_class(const pj_graph *g, pj_id inst, pj_id *ctor_args);

enum { PJ_JOBLIB_ALIGN_NONE = 0, PJ_JOBLIB_ALIGN_SET };

/* The attributes of a wrapper that decide how many bytes joblib reads.  An
 * attribute holds an object, not a copy of it: shape and dtype are the node
 * ids of those objects, read at each BUILD as the graph holds them then (a
 * list named by `shape` and changed later is changed for joblib too). */
typedef struct pj_joblib_attrs {
    pj_id shape, dtype;
    int align;          /* PJ_JOBLIB_ALIGN_SET: not None, a padding byte is read */
    int64_t align_val;  /* the alignment when an int, else -1 */
    uint32_t builds;    /* BUILDs applied so far */
} pj_joblib_attrs;

/* Per wrapper instance, its attributes as its BUILDs so far set them.
 * pickle.py's load_build copies a state's items into the instance when the
 * BUILD runs.  The state dict can change afterwards (a memoised dict given a
 * SETITEM) while the attributes do not, so they are carried from one BUILD
 * to the next here, never recomputed from the states later.  Zero it
 * before use. */
typedef struct pj_wrapper_table {
    uint32_t *of_node;       /* per node: 1 + its record in rec, or 0 */
    pj_joblib_attrs *rec;
    uint32_t n_nodes, cap_nodes, n_rec, cap_rec;
} pj_wrapper_table;

/* A BUILD with `state` on wrapper inst, applied as load_build applies it:
 * call it at that BUILD, with g as it is then.  The first BUILD of inst
 * starts from its constructor arguments ctor (or PJ_NIL).  *a: the
 * attributes after it; *why: NULL, or why they cannot be known (the caller
 * fails closed).  0 or PJ_E_NOMEM. */
int pj_wrapper_build(pj_wrapper_table *t, const pj_graph *g, pj_id inst, pj_id ctor, pj_id state,
                     pj_joblib_attrs *a, const char **why, pj_error *err);
void pj_wrapper_table_free(pj_wrapper_table *t);

/* The element count of a shape as joblib's int64 product gives it.  NULL,
 * or why joblib would fail (negative, overflow, not ints). */
const char *pj_joblib_shape_count(const pj_graph *g, pj_id shape, uint64_t *count);

/* A numpy dtype as numpy rebuilds it from a pickle: numpy.dtype(typestr,
 * align, copy), then __setstate__ with the BUILD state. */
typedef struct pj_np_dtype {
    int64_t itemsize;    /* bytes per element, as dtype.itemsize reports it */
    int hasobject;       /* dtype.hasobject: bit 0 of the state's flags */
    int holds_objects;   /* an 'O' somewhere inside (fields, subarray) */
    const char *odd;     /* NULL, or why the state is not what numpy writes */
} pj_np_dtype;

/* Evaluate the dtype node `id` of g.  NULL on success, else a static reason
 * why we cannot tell what numpy would make of it (the caller fails closed). */
const char *pj_np_dtype_eval(const pj_graph *g, const pj_build_index *ix, pj_id id,
                             pj_np_dtype *out);

/* The type strings numpy writes ("f8", "U5", "O8", "M8"...): a kind and a
 * decimal size without sign or leading zeros; numpy accepts more ("f08",
 * "S+1", "float64"), which no writer emits: refused.  NULL with *kind and
 * *itemsize (the bytes the string alone gives: 'U' counts 4 per character,
 * 'O' is a pointer), or why not. */
const char *pj_np_typestr(const uint8_t *p, uint64_t n, char *kind, int64_t *itemsize);

/* How to read a pickle stream. */
typedef enum pj_joblib_mode {
    PJ_JOBLIB_AUTO = 0, /* a plain pickle, read as joblib.load too if it names a wrapper */
    PJ_JOBLIB_COMPAT,   /* decompressed from joblib's old "ZF" file: ZipNumpyUnpickler */
} pj_joblib_mode;

/* Decode the pickle at buf[pos] as pickle.load and, when it names a joblib
 * wrapper, as joblib.load does; append the result(s) to c->out: the pickle
 * as joblib reads it, each object array inside it (entry
 * "<entry>![joblib-array-N]"), and, when pickle.load reads other opcodes to
 * STOP, that reading too (note `joblib-polyglot`).  *end: where the next
 * pickle would start; *status: 0 when the pickle (as its loader reads it)
 * reached STOP; *first: index of the first result appended; *joblib: 1 when
 * the joblib reading was used.  0, or PJ_E_NOMEM / PJ_E_LIMIT. */
int pj_joblib_decode(pj_container_ctx *c, const uint8_t *buf, size_t len, size_t pos,
                     const char *entry, pj_joblib_mode mode, size_t *end, int *status,
                     uint32_t *first, int *joblib, pj_error *err);

#endif
