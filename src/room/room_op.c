/*
 * Ops as the room keeps them, and the tail: the ring of the most recent ops, which
 * serves transforms of stale submits and catch-up without the store. An op is
 * refcounted because history reads and the writer's pending list may outlive its place
 * in the tail; it keeps its payload as text and parses the tree only when a transform
 * or a projection needs it.
 *
 * Invariants: the tail holds exactly the ops [tail_v0, doc.v), in order; uncommitted
 * ops are never trimmed; committed ones are, beyond tail_ops ops or tail_bytes bytes
 * (op texts and the messages built for them).
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_internal.h"

void room_op_unref(room_op *op)
{
    if (!op || --op->refs > 0)
        return;
    free(op->src);
    free(op->author);
    cJSON_Delete(op->payload);
    free(op->text);
    room_msg_unref(op->msg);
    room_msg_unref(op->foreign);
    if (op->frame && op->frame_unref)
        op->frame_unref(op->frame);
    while (op->views) {
        struct room_op_view *ov = op->views;
        op->views = ov->next;
        room_msg_unref(ov->msg);
        free(ov);
    }
    free(op);
}

room_op *room_op_from_row(const room_row *row)
{
    room_op *op = calloc(1, sizeof *op);

    if (!op)
        return NULL;
    op->refs = 1;
    op->v = row->v;
    op->kind = row->kind;
    op->seq = row->seq;
    op->ts = row->ts;
    op->src = strdup(row->src);
    op->author = strdup(row->author);
    op->text = row->text ? strdup(row->text) : NULL;
    op->based_on = -1;
    if (!op->src || !op->author || (row->text && !op->text)) {
        room_op_unref(op);
        return NULL;
    }
    op->bytes = sizeof *op + (op->text ? strlen(op->text) : 0);
    return op;
}

/* The op's payload as a tree. An op loaded from the store keeps only its text until a
 * transform or a projection needs the tree: a freshly loaded room would otherwise hold
 * the ops since its milestone twice (a session's create op is its whole template).
 * NULL for a delete, or when memory runs out. */
const cJSON *room_op_payload(room_op *op)
{
    if (!op->payload && op->text)
        op->payload = cJSON_Parse(op->text);
    return op->payload;
}

/* json_print leaves the slack of its doubling buffer; a text the room keeps (an op in
 * the tail, a cached snapshot) is trimmed to fit. */
char *room_text_fit(char *text)
{
    char *fit = text ? realloc(text, strlen(text) + 1) : NULL;

    return fit ? fit : text;
}

/* Makes room for one more op, so that recording an applied op cannot fail. */
int room_tail_reserve(room *r)
{
    size_t cap;
    room_op **ring;

    if (r->tail_len < r->tail_cap)
        return 0;
    cap = r->tail_cap ? r->tail_cap * 2 : 16;
    ring = malloc(cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < r->tail_len; i++)
        ring[i] = r->tail[(r->tail_head + i) % r->tail_cap];
    free(r->tail);
    r->tail = ring;
    r->tail_cap = cap;
    r->tail_head = 0;
    return 0;
}

void room_tail_push(room *r, room_op *op)
{
    r->tail[(r->tail_head + r->tail_len) % r->tail_cap] = op;
    r->tail_len++;
    r->tail_bytes += op->bytes;
}

/* Drops committed ops beyond the tail limits; uncommitted ops always stay. */
void room_tail_trim(room *r)
{
    const room_config *cfg = &r->set->cfg;

    while (r->tail_len && r->tail_v0 < r->committed &&
           (r->tail_len > cfg->tail_ops || r->tail_bytes > cfg->tail_bytes)) {
        room_op *op = r->tail[r->tail_head];
        r->tail_head = (r->tail_head + 1) % r->tail_cap;
        r->tail_len--;
        r->tail_v0++;
        r->tail_bytes -= op->bytes;
        room_op_unref(op);
    }
}
