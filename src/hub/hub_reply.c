/*
 * How a finished store call becomes an HTTP response. The store answers in its own
 * terms (data in job->out, or a refusal: a store_err with an error code and message);
 * this is the one place where a refusal becomes an HTTP status, in the table below,
 * and the error body {"error":{"code","message"}} (protocol/http-api.md). A call
 * that did not refuse but whose transaction failed (nothing it wrote is kept) is a
 * 500, never its success status.
 */
#include "hub/hub_internal.h"

/* Each refusal's status, and the error code clients see when the store names none. */
static const struct {
    int status;
    const char *code;
} refusals[] = {
    [STORE_ERR_UNAUTHENTICATED] = {401, "unauthorized"},
    [STORE_ERR_FORBIDDEN] = {403, "forbidden"},
    [STORE_ERR_NOT_FOUND] = {404, "not_found"},
    [STORE_ERR_CONFLICT] = {409, "conflict"},
    [STORE_ERR_GONE] = {410, "gone"},
    [STORE_ERR_INVALID] = {422, "invalid"},
    [STORE_ERR_VERSION_RANGE] = {400, "version_out_of_range"},
    [STORE_ERR_BAD_REQUEST] = {400, "bad_request"},
    [STORE_ERR_INTERNAL] = {500, "internal"},
};

int hub_call_ok(const store_job *job)
{
    return job->status == STORE_OK && job->err == STORE_ERR_NONE;
}

void hub_reply_job(hub_req *req, store_job *job, int ok)
{
    store_err err = job->err;

    if (err != STORE_ERR_NONE) {
        if ((size_t)err >= sizeof refusals / sizeof refusals[0] || !refusals[err].status)
            err = STORE_ERR_INTERNAL;
        hub_req_error(req, refusals[err].status,
                      job->err_code ? job->err_code : refusals[err].code, job->err_message);
        return;
    }
    if (job->status != STORE_OK) {
        hub_req_error(req, 500, "internal", "the database could not answer");
        return;
    }
    if (ok == 204 || !job->out) {
        hub_req_reply(req, ok, NULL);
        return;
    }
    hub_req_reply(req, ok, job->out);
    job->out = NULL;
}
