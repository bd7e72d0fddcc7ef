/*
 * The server's own retention work (protocol/retention.md), from the tick:
 *
 *   - every --retention-interval-secs (and once right after the start), the retention
 *     job: deletion dates are settled for closed cases that have none yet (closed before
 *     retention existed), then every closed case past its deletion date, without a
 *     standing legal hold and not restricted, is erased, each in a call of its own (a
 *     failure leaves the others erased), and so is every case whose data is sealed under
 *     a key the key store no longer has; afterwards the WAL is checkpointed and truncated;
 *   - every HUB_AUTH_REFRESH_MS, erasures made elsewhere (`konsil case erase`, `konsil
 *     retention run` while the server runs) reach the live state: the case's connections
 *     close, its room goes, whatever this server wrote of it since is purged and the key
 *     store is read again.
 *
 * Everything runs as store calls; nothing here blocks the service thread.
 */
#include "hub/hub_internal.h"

#include <stdio.h>
#include <string.h>

#include "store/store_api.h"
#include "store/store_erase.h"
#include "store/store_retention.h"
#include "util/klog.h"

static void erase_done(hub *h, hub_req *req, store_job *job)
{
    (void)req;
    if (hub_call_ok(job) && cJSON_IsObject(job->out))
        hub_case_erased(h, job->out);
    else if (!hub_call_ok(job)) {
        klog_line l;
        klog_begin(&l, KLOG_ERROR, "retention", "a case was not erased");
        klog_str(&l, "case", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job->in, "id")));
        klog_str(&l, "error", job->error[0] ? job->error : job->err_message);
        klog_end(&l);
    }
}

static void submit_erasures(hub *h, const cJSON *ids, const char *how)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, ids) {
        cJSON *in = cJSON_CreateObject();
        store_job *job;
        cJSON_AddStringToObject(in, "id", cJSON_GetStringValue(e));
        cJSON_AddStringToObject(in, "how", how);
        cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
        job = store_call_new(store_api_erase_due, STORE_WRITER, in);
        if (job)
            hub_call(h, NULL, job, erase_done);
    }
}

static void due_listed(hub *h, hub_req *req, store_job *job)
{
    (void)req;
    h->retention_running = 0;
    if (!hub_call_ok(job))
        return;
    submit_erasures(h, cJSON_GetObjectItemCaseSensitive(job->out, "key_destroyed"),
                    "key_destroyed");
    submit_erasures(h, cJSON_GetObjectItemCaseSensitive(job->out, "due"), "due");
}

static void settled(hub *h, hub_req *req, store_job *job)
{
    cJSON *in = cJSON_CreateObject();
    store_job *list;

    (void)req;
    if (!hub_call_ok(job)) {
        klog_line l;
        klog_begin(&l, KLOG_ERROR, "retention", "deletion dates not settled");
        klog_str(&l, "error", job->error[0] ? job->error : job->err_message);
        klog_end(&l);
    }
    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    list = store_call_new(store_api_erase_due_list, STORE_READER, in);
    if (list)
        hub_call(h, NULL, list, due_listed);
    else
        h->retention_running = 0;
}

/* The retention job: settle deletion dates, then erase what is due. */
static void run_job(hub *h)
{
    cJSON *in = cJSON_CreateObject();
    store_job *job;

    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    job = store_call_new(store_api_retention_settle, STORE_WRITER, in);
    if (!job)
        return;
    h->retention_running = 1;
    hub_call(h, NULL, job, settled);
}

/* Whether the erasure of id, at erasures_since, was handled already. */
static int seen(const hub *h, const char *id)
{
    for (int i = 0; i < h->n_erasures_seen; i++)
        if (strcmp(h->erasures_seen[i], id) == 0)
            return 1;
    return 0;
}

static void erasures_read(hub *h, hub_req *req, store_job *job)
{
    const cJSON *e;

    (void)req;
    h->erasures_refreshing = 0;
    if (!hub_call_ok(job))
        return;
    /* In erased_at order: those at erasures_since were seen unless listed as seen. */
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(job->out, "erasures")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "case_id"));
        int64_t at = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e,
                                                                                  "erased_at"));
        cJSON *in;
        store_job *purge;
        if (!id || at < h->erasures_since || (at == h->erasures_since && seen(h, id)))
            continue;
        if (at > h->erasures_since) {
            h->erasures_since = at;
            h->n_erasures_seen = 0;
        }
        if (h->n_erasures_seen < HUB_ERASURES_SEEN)
            snprintf(h->erasures_seen[h->n_erasures_seen++], AUTH_ID_MAX, "%s", id);
        hub_case_erased(h, e);
        in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "id", id);
        purge = store_call_new(store_api_erase_purge, STORE_WRITER, in);
        if (purge)
            hub_call(h, NULL, purge, NULL);
    }
}

int hub_retention_start(hub *h, char *err, size_t n)
{
    cJSON *in = cJSON_CreateObject();
    store_job *list, *job;
    const cJSON *e;
    int rc = 0;

    cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
    list = store_call_new(store_api_erase_due_list, STORE_READER, in);
    if (!list) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    store_run_now(h->store, list);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(list->out, "key_destroyed")) {
        in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "id", cJSON_GetStringValue(e));
        cJSON_AddStringToObject(in, "how", "key_destroyed");
        cJSON_AddNumberToObject(in, "now", (double)hub_now_ms());
        if (!(job = store_call_new(store_api_erase_due, STORE_WRITER, in))) {
            rc = -1;
            break;
        }
        store_run_now(h->store, job);
        if (!hub_call_ok(job)) {
            snprintf(err, n, "case %s, whose key is gone, could not be erased: %s",
                     e->valuestring, job->error[0] ? job->error : job->err_message);
            rc = -1;
        } else {
            klog_line l;
            klog_begin(&l, KLOG_WARN, "retention", "a case's key is gone (a database restored "
                       "from a backup taken before its erasure?): what was left of it is "
                       "erased");
            klog_str(&l, "case", e->valuestring);
            klog_end(&l);
        }
        store_job_free(job);
    }
    if (!hub_call_ok(list) && !rc) {
        snprintf(err, n, "retention: %s", list->error);
        rc = -1;
    }
    store_job_free(list);
    return rc;
}

void hub_retention_tick(hub *h)
{
    int64_t now = hub_now_ms();

    if (!h->retention_running && now >= h->retention_next_at) {
        h->retention_next_at = now + (int64_t)h->cfg.retention_interval_secs * 1000;
        run_job(h);
    }
    if (!h->erasures_refreshing && now - h->erasures_refresh_at >= HUB_AUTH_REFRESH_MS) {
        cJSON *in = cJSON_CreateObject();
        store_job *job;
        cJSON_AddNumberToObject(in, "since", (double)h->erasures_since);
        job = store_call_new(store_api_erasures_since, STORE_READER, in);
        h->erasures_refresh_at = now;
        if (job) {
            h->erasures_refreshing = 1;
            hub_call(h, NULL, job, erasures_read);
        }
    }
}
