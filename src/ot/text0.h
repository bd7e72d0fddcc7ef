/*
 * text0: the string subtype that json0 embeds ({p, t:"text0", o:[…]}) and that its old
 * string components (si/sd) are converted to. Components are {"p":offset,"i":"text"} or
 * {"p":offset,"d":"text"}; offsets count UTF-16 code units over UTF-8 text.
 *
 * Behaves exactly like text0.js of ot-json0@1.1.0 on valid input. Applying text0 ops to a
 * document is json0's job (json0.c), which edits strings in place.
 * Ownership: inputs are borrowed and never modified; returned trees and strings are new
 * (cJSON_Delete / cJSON_free).
 */
#ifndef KONSIL_OT_TEXT0_H
#define KONSIL_OT_TEXT0_H

#include "ot/json0.h"

int ot_text0_check_op(const cJSON *op, ot_error *err);

int ot_text0_append(cJSON *dest, const cJSON *c, ot_error *err);
cJSON *ot_text0_compose(const cJSON *op1, const cJSON *op2, ot_error *err);
cJSON *ot_text0_transform(const cJSON *op, const cJSON *other, ot_side side, ot_error *err);
cJSON *ot_text0_invert(const cJSON *op, ot_error *err);

#endif
