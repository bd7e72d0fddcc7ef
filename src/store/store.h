/*
 * The store: Konsil's SQLite database in WAL mode with synchronous=FULL, a versioned
 * schema, one writer thread doing group commit and one reader thread for history.
 * The op log (commits, loads, op ranges, snapshots) runs on the database layer (db/db.h),
 * so also on PostgreSQL (cfg.path postgresql://…); the STORE_CALL functions run on SQLite
 * only so far (protocol/cluster.md, "Where this stands").
 *
 * The service thread never touches SQLite. It hands jobs to the store with
 * store_submit(); the writer takes every queued commit at once and writes them in one
 * transaction (ops of many documents share one fsync); the reader loads documents and
 * reads history on its own connection; a worker thread runs slow work that must not
 * hold up either (password hashing for logins) on a third, read-only connection.
 * Everything else the server stores (accounts, login sessions, cases, their sessions
 * and links, templates, the audit trail) goes through STORE_CALL jobs on one of these threads, so the REST
 * API never blocks the service thread either. Finished jobs go to one done list and the store
 * calls the wake function (the hub passes one that calls lws_cancel_service()); the
 * service thread collects them with store_take_done().
 *
 * Invariants:
 *   - commit jobs finish in the order they were submitted, and a job is reported done
 *     only after its transaction committed (invariant 2: acked means durable);
 *   - after one failed commit the store refuses every later commit, so the op log
 *     never has a gap; the hub then stops (fail-stop);
 *   - store_close() returns only after every submitted commit finished.
 *
 * Ownership: a job belongs to the caller until store_submit(), to the store until it
 * comes back from store_take_done(), and is freed by the caller with store_job_free().
 */
#ifndef KONSIL_STORE_H
#define KONSIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "doc/doc.h"
#include "util/histo.h"

typedef struct store store;

/* What an op does, by the value the ops.kind column stores (these never change). */
typedef enum store_op_kind {
    STORE_OP_EDIT = 0,
    STORE_OP_CREATE = 1,
    STORE_OP_DEL = 2
} store_op_kind;

/* One row of the op log. Strings and the tree are owned by the row. */
typedef struct store_op {
    int64_t v;          /* the version the op was applied at */
    store_op_kind kind;
    char *src;
    int64_t seq;
    int64_t ts;         /* when the hub applied it (its commit follows within ms), ms
                           since the epoch, non-decreasing per document */
    char *author;       /* principal id */
    char *op_text;      /* edit: component array; create: {type,data}; del: NULL */
    cJSON *op;          /* op_text parsed (read results only) */
} store_op;

typedef enum store_job_kind {
    STORE_COMMIT,       /* append one op (and maybe a milestone) */
    STORE_LOAD,         /* a document's latest state and the ops since its last milestone */
    STORE_READ_OPS,     /* committed ops [from, to), at most max_ops of them */
    STORE_SNAPSHOT,     /* the document at a version, at a time, or latest */
    STORE_CALL          /* run `call` on the thread `thread` names */
} store_job_kind;

typedef enum store_thread { STORE_WRITER, STORE_READER, STORE_WORKER } store_thread;

/* STORE_CONFLICT (PostgreSQL only): a commit whose (doc, v) another node on the same
 * database committed first. Nothing of
 * it was written, nor of the commits of the same document after it in its batch (each was
 * applied on top of it); the other documents' commits of the batch committed. The store
 * goes on; the hub still stops on it, as on any failed commit (protocol/cluster.md). */
enum { STORE_OK = 0, STORE_FAILED = -1, STORE_NEWER = -2, STORE_CONFLICT = -3 };

/* Why a STORE_CALL refused, in the store's terms. The store never speaks HTTP: the hub
 * alone turns these into a status and an error body (src/hub/hub_reply.c). */
typedef enum store_err {
    STORE_ERR_NONE = 0,
    STORE_ERR_UNAUTHENTICATED,  /* the credentials match no enabled account */
    STORE_ERR_FORBIDDEN,        /* the actor takes part but may not do this */
    STORE_ERR_NOT_FOUND,        /* no such thing, or not one the actor takes part in */
    STORE_ERR_CONFLICT,         /* its state does not allow it (closed, already there) */
    STORE_ERR_GONE,             /* it was valid and no longer is (a used-up link) */
    STORE_ERR_INVALID,          /* it names something that cannot take this part */
    STORE_ERR_VERSION_RANGE,    /* a version beyond the document's latest */
    STORE_ERR_BAD_REQUEST,      /* the input names nothing usable (an unknown template) */
    STORE_ERR_INTERNAL          /* the database or memory failed */
} store_err;

typedef struct store_job {
    store_job_kind kind;
    struct store_job *next;
    void *owner;            /* the caller's; the store never looks at it */
    int status;             /* STORE_OK, STORE_FAILED (message in error), STORE_NEWER */
    char error[160];
    char *doc;              /* document id, owned */

    /* STORE_COMMIT input: op and, when has_follow, the op applied right after it (the
     * server's stamping op), written in the same transaction */
    store_op op;
    store_op follow;
    int has_follow;
    char *milestone;        /* document after the op (after follow, when there is one) as
                               JSON text, or NULL for none */

    /* STORE_LOAD result: the document at its latest version, the ops since the
     * milestone it was rebuilt from, the time of its latest op (in `ts`), and its
     * latest create op (create_v < 0: none) */
    doc_state state;
    store_op *ops;          /* also the STORE_READ_OPS result */
    size_t n_ops;
    int64_t create_v;
    char *create_src;
    int64_t create_seq;
    char *create_author;

    /* STORE_READ_OPS input; with_doc: also the document at `from` into `state` */
    int64_t from, to;
    size_t max_ops;
    int with_doc;

    /* STORE_SNAPSHOT input: by_ts selects ts, otherwise has_v selects v, else latest.
     * Result: state (v, exists, data). */
    int by_ts;
    int64_t ts;
    int has_v;
    int64_t v;

    /* STORE_LOAD and STORE_SNAPSHOT also read the case the document belongs to
     * (store_case_meta) into `out`; NULL when it is no case's document. STORE_SNAPSHOT
     * adds the frame of the time of the read to it (store_case_frame). With cases_only
     * set, a document of no case is neither read nor rebuilt (it is answered as one that
     * does not exist, at version 0): a request for an id of no case costs one lookup. On
     * PostgreSQL, where the cases are not read through the layer yet, `out` stays NULL
     * and cases_only is not applied. */
    int cases_only;

    /* STORE_CALL: call(db, job) runs on `thread` with that thread's connection. The
     * writer runs it inside its batch transaction under a savepoint: a nonzero return
     * undoes what it wrote and the batch goes on. The reader runs it in a read
     * transaction, the worker without one. It reads `in` and answers with data in
     * `out` (NULL: none), or refuses with `err` (store_refuse); `status` is
     * STORE_FAILED when the transaction itself failed. On PostgreSQL the functions do
     * not run yet: the job is refused (STORE_ERR_INTERNAL). */
    int (*call)(sqlite3 *db, struct store_job *job);
    store_thread thread;
    cJSON *in;              /* owned */
    cJSON *out;             /* owned */
    cJSON *audit;           /* owned: what a read's audit entry records, or NULL */
    store_err err;          /* STORE_ERR_NONE unless the call refused */
    const char *err_code;   /* the error code clients see, a static string; NULL: the
                               one of err (the hub's table) */
    char err_message[160];  /* what clients are told */
} store_job;

typedef struct store_config {
    const char *path;       /* an SQLite file, or postgresql://… (db.h) */
    int busy_timeout_ms;
    size_t max_batch;       /* most commits in one transaction */
    const char *keys_path;  /* the key store (store_keys.h); NULL: path + ".keys" */
    const unsigned char *master_key;    /* 32 bytes: case data is encrypted at rest under
                                           per-case keys in the key store; NULL: not (a
                                           database whose data is encrypted is refused) */
    int64_t commit_wait_us; /* most a commit may wait for others to share its
                               transaction (0: never wait; see store.c) */
    const char *node;       /* PostgreSQL: this node's id (letters, digits, - and _), named
                               in the notification each committed batch sends on channel
                               STORE_CHANNEL, one per document: "op NODE DOC FROM TO" (its
                               ops [FROM, TO) committed); NULL: none sent */
} store_config;

/* What the writer measures, for /metrics and /readyz: written by the writer thread (and
 * the timing VFS under it, store_vfs.h), read by any thread without a lock. */
typedef struct store_metrics {
    histo commit_ns;            /* each batch's transaction, BEGIN to COMMIT (fsync in) */
    histo fsync_ns;             /* each fsync of the database or its WAL */
    histo batch_jobs;           /* jobs (ops and writer calls) per batch */
    _Atomic uint64_t ops;       /* ops committed */
    _Atomic int64_t busy_since; /* ms since the epoch when the running batch began; 0 idle */
    _Atomic int failed;         /* a commit failed: the store refuses every later one */
} store_metrics;

/* Jobs waiting per thread, and finished ones not yet taken back. */
typedef struct store_queues {
    size_t writer, reader, worker, done;
} store_queues;

/* The store's measurements (valid until store_close()). */
const store_metrics *store_metrics_of(const store *s);
/* The queues' lengths now (one lock, not for hot paths). */
void store_queue_lengths(store *s, store_queues *out);
/* The channel of the notifications other nodes LISTEN on (db_listen.h). */
#define STORE_CHANNEL "konsil"

/* Allocates a job for doc (copied). NULL when memory runs out. */
store_job *store_job_new(store_job_kind kind, const char *doc);
void store_job_free(store_job *job);
void store_op_clear(store_op *op);

/* Opens (creating if needed) and migrates the database, and opens its key store (with a
 * master key: creating it if needed, binding the database to it, and sealing what is
 * still plaintext once, store_crypt.h). No threads run yet. On PostgreSQL a master key is
 * refused: encryption at rest is built on SQLite functions and not there yet. */
int store_open(const store_config *cfg, store **out, char *err, size_t errlen);
/* Whether case data is encrypted at rest (a master key was given). */
int store_encrypted(const store *s);
/* Records sealed by the one-time step when the database was opened (0 after the first
 * time). */
long store_sealed_at_open(const store *s);
/* Starts the writer and reader threads; wake(arg) is called from them after a job
 * finished. */
int store_start(store *s, void (*wake)(void *), void *arg, char *err, size_t errlen);
/* A STORE_CALL job for doc ("" when none) running call on thread, taking `in`. NULL
 * when memory runs out (in is freed then). */
store_job *store_call_new(int (*call)(sqlite3 *, store_job *), store_thread thread,
                          cJSON *in);
/* For STORE_CALL functions: refuses with err, the error code clients see (NULL: err's
 * own) and message, dropping any data already in job->out. Returns -1, so that a
 * writer call can `return store_refuse(...)` and have its writes undone. */
int store_refuse(store_job *job, store_err err, const char *code, const char *message);
/* Runs a reader or writer call at once on the calling thread; only before
 * store_start() (the server loads its login sessions this way). */
void store_run_now(store *s, store_job *job);
/* Hands a job to its thread. Never blocks on I/O. */
void store_submit(store *s, store_job *job);
/* Queues a job like store_submit() without waking its thread; the next store_kick()
 * (or any store_submit() to the writer) does. For handing several commits to the
 * writer as one batch. */
void store_submit_quiet(store *s, store_job *job);
/* Wakes the writer for the jobs store_submit_quiet() queued. */
void store_kick(store *s);
/* Every finished job, oldest first, as a list linked by `next`; NULL when none. */
store_job *store_take_done(store *s);
/* Jobs submitted and not yet taken back. */
size_t store_pending(store *s);
/* Waits for every queued job, stops the threads, checkpoints and closes. Jobs still
 * in the done list are freed. */
void store_close(store *s);

/* Schema and migrations (store_schema.c), for every command that opens the database:
 * runs the migrations not run yet, up to the latest (store_schema_latest(), the
 * schema version this konsil writes) or, with _to, up to `version` (never back). */
int store_schema_migrate(sqlite3 *db, char *err, size_t errlen);
int store_schema_migrate_to(sqlite3 *db, int version, char *err, size_t errlen);
int store_schema_latest(void);
/* The same on a connection of the database layer, SQLite or PostgreSQL (whose forms of
 * the migrations are in store_schema_pg.c). */
struct db;
int store_schema_migrate_db(struct db *d, int version, char *err, size_t errlen);
/* journal_mode=WAL, synchronous=FULL, secure_delete=ON (what is deleted is overwritten
 * with zeros, so an erased case leaves no text in free pages), busy timeout, foreign
 * keys. */
int store_schema_configure(sqlite3 *db, int busy_timeout_ms, char *err, size_t errlen);

#endif
