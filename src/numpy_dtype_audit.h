/* numpy dtypes given a state by a pickle, audited as numpy would lay them out.
 *
 * numpy pickles a dtype as numpy.dtype(typestr, align, copy) followed by a
 * BUILD whose state numpy's __setstate__ copies in with almost no checks:
 * the flags that say whether items hold object pointers, field offsets,
 * the subarray's size, the names.  A hostile state (or a second BUILD, or a
 * BUILD after an array was made with the dtype) makes numpy fill an array
 * of objects from raw file bytes, or read and write outside its items.
 * Every such dtype of a decoded pickle is checked here; what numpy would not
 * have written, or what cannot be evaluated with certainty, gets the note
 * `numpy-dtype-state` (severity 2): the file is rejected (fails closed).
 */
#ifndef PJ_NUMPY_DTYPE_AUDIT_H
#define PJ_NUMPY_DTYPE_AUDIT_H

#include <stdint.h>

#include "container.h"

/* Audit the numpy dtypes of c->out->pickles[pickle_index]; notes are added
 * to c with that pickle's entry.  A graph naming no dtype class costs one
 * pass over its events.  0, or PJ_E_NOMEM with err filled. */
int pj_numpy_dtype_audit(pj_container_ctx *c, uint32_t pickle_index, pj_error *err);

#endif
