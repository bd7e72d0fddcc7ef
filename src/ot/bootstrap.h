/*
 * Transform of whole ops built from a per-component transform (json0's and text0's
 * bootstrapTransform): the N×M component walk, including the recursion when one
 * component splits into several. Both json0 and its text0 subtype use it, so the two
 * stay step-for-step identical to the JavaScript library.
 *
 * Ownership: inputs are borrowed and never modified; outputs are new arrays.
 */
#ifndef KONSIL_OT_BOOTSTRAP_H
#define KONSIL_OT_BOOTSTRAP_H

#include "ot/json0.h"

typedef struct ot_component_type {
    /* Appends to dest the transform of component c against component other. */
    int (*transform_component)(cJSON *dest, const cJSON *c, const cJSON *other, ot_side side,
                               ot_error *err);
    /* Appends a copy of c to dest, merging it into dest's last component where the type
     * does so. */
    int (*append)(cJSON *dest, const cJSON *c, ot_error *err);
} ot_component_type;

cJSON *ot_bootstrap_transform(const ot_component_type *type, const cJSON *op,
                              const cJSON *other, ot_side side, ot_error *err);

#endif
