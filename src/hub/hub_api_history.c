/*
 * History and snapshot reads of a case or of one of its sessions (protocol/http-api.md,
 * "History and snapshots"): the query is checked here, the read runs on the store's
 * reader thread, and the answer leaves only once its audit entry (history.read,
 * snapshot.read, naming the case) is committed.
 */
#include "hub/hub_api.h"

#include <string.h>

#include "store/store_api.h"
#include "store/store_history.h"

/* Reads the version argument `name` of the query into *out: absent (0, *out untouched),
 * a plain decimal integer up to 2^53 - 1 (1), or anything else, a repeat included (-1). */
static int query_version(const char *query, const char *name, int64_t *out)
{
    size_t n = strlen(name);
    const char *p = query;
    int found = 0;

    while (*p) {
        const char *end = strchr(p, '&'), *v;
        int64_t x = 0;
        size_t digits = 0;
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            if (found++)
                return -1;
            for (v = p + n + 1; v < end; v++, digits++) {
                if (*v < '0' || *v > '9' || digits == 16)
                    return -1;
                x = x * 10 + (*v - '0');
            }
            if (digits == 0 || x > ((int64_t)1 << 53) - 1)
                return -1;
            *out = x;
        } else if ((size_t)(end - p) == n && strncmp(p, name, n) == 0) {
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return found;
}

/* Whether the query asks for identified reading (`identified=1`): granted or not is the
 * store's decision. */
static int query_identified(const char *query)
{
    size_t n = strlen("identified=1");

    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, "identified=1", n) == 0 && (p[n] == '&' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The audit entry of a read committed: only now does the reader get what it read. */
static void read_audited(hub *h, hub_req *req, store_job *job)
{
    (void)h;
    if (!hub_call_ok(job)) {
        hub_req_error(req, 500, "internal", "the read could not be audited");
        return;
    }
    hub_req_reply_text(req, 200, req->held);
    req->held = NULL;
}

/* A read came back: audit it (req->ctx's action: history.read, snapshot.read, copy.read,
 * client_view.read, lobby.read; job->audit its details), and answer once the entry is
 * written, so no read leaves without its trace. Only a read whose ctx says "optional"
 * may come back without details (a lobby nobody waits in discloses nothing): it is
 * answered at once. */
void hub_api_read_done(hub *h, hub_req *req, store_job *job)
{
    const char *action = hub_api_str(req->ctx, "action");
    cJSON *in;
    store_job *audit_job;

    if (!hub_call_ok(job) ||
        (!job->audit && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->ctx, "optional")))) {
        hub_reply_job(req, job, 200);
        return;
    }
    if (!job->audit) {
        hub_req_error(req, 500, "internal", "the read could not be audited");
        return;
    }
    req->held = cJSON_PrintUnformatted(job->out);
    if (!req->held) {
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    in = cJSON_CreateObject();
    cJSON_AddNumberToObject(in, "ts", (double)hub_now_ms());
    cJSON_AddStringToObject(in, "actor", req->login.who.id);
    cJSON_AddStringToObject(in, "action", action);
    cJSON_AddStringToObject(in, "session", job->doc);     /* the case read */
    cJSON_AddItemToObject(in, "details", job->audit);
    job->audit = NULL;
    audit_job = store_call_new(store_api_audit, STORE_WRITER, in);
    if (!audit_job) {
        hub_req_error(req, 500, "internal", "out of memory");
        return;
    }
    hub_call(h, req, audit_job, read_audited);
}

void hub_api_history(hub *h, hub_req *req, const char *id, int of_session)
{
    int64_t from = 0, to = 0;
    int has_from, has_to;
    cJSON *in;

    if (hub_api_need_login(h, req, 0) != 0)
        return;
    has_from = query_version(req->query, "from", &from);
    has_to = query_version(req->query, "to", &to);
    if (req->bad_query || has_from < 0 || has_to < 0 || (has_to && to < from)) {
        hub_req_error(req, 400, "bad_request", "from and to must be versions (integers "
                      ">= 0) with from <= to");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "history.read");
    in = hub_api_in(req, id);
    cJSON_AddBoolToObject(in, "of_session", of_session);
    if (has_from)
        cJSON_AddNumberToObject(in, "from", (double)from);
    if (has_to)
        cJSON_AddNumberToObject(in, "to", (double)to);
    cJSON_AddBoolToObject(in, "identified", query_identified(req->query));
    cJSON_AddNumberToObject(in, "page", (double)h->cfg.history_page);
    cJSON_AddNumberToObject(in, "page_bytes", (double)h->cfg.history_page_bytes);
    hub_api_then(h, req, store_history_read, STORE_READER, in, hub_api_read_done);
}

void hub_api_snapshot(hub *h, hub_req *req, const char *id, int of_session)
{
    int64_t v = 0;
    int has_v;
    cJSON *in;

    if (hub_api_need_login(h, req, 0) != 0)
        return;
    has_v = query_version(req->query, "v", &v);
    if (req->bad_query || has_v < 0) {
        hub_req_error(req, 400, "bad_request", "v must be a version (an integer >= 0)");
        return;
    }
    req->ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(req->ctx, "action", "snapshot.read");
    in = hub_api_in(req, id);
    cJSON_AddBoolToObject(in, "of_session", of_session);
    if (has_v)
        cJSON_AddNumberToObject(in, "v", (double)v);
    cJSON_AddBoolToObject(in, "identified", query_identified(req->query));
    hub_api_then(h, req, store_history_snapshot, STORE_READER, in, hub_api_read_done);
}
