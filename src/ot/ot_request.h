/*
 * One request of the `konsil ot` line protocol, as pure code: a JSON text in, a JSON
 * text out. Requests are {"fn":"apply","args":[doc,op]}, {"fn":"transform","args":[op,
 * other,"left"|"right"]}, {"fn":"compose","args":[op1,op2]}, {"fn":"invert","args":[op]}
 * and {"fn":"normalize","args":[op]}; answers are {"result":...} or {"error":"message"}.
 * Every input, however malformed, gets exactly one answer.
 *
 * Ownership: the returned string is malloc'ed and freed by the caller with free().
 * Returns NULL only when memory runs out.
 */
#ifndef KONSIL_OT_REQUEST_H
#define KONSIL_OT_REQUEST_H

#include <stddef.h>

char *ot_request_handle(const char *text, size_t len);

#endif
