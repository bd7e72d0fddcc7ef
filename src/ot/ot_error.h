/*
 * Error reporting inside the OT engine: every refusal carries a message for the person
 * who sent the op. ot_fail() formats into an ot_error (which may be NULL) and returns -1,
 * so failure paths read `return ot_fail(err, "...")`.
 */
#ifndef KONSIL_OT_ERROR_H
#define KONSIL_OT_ERROR_H

#include "ot/json0.h"

int ot_fail(ot_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
