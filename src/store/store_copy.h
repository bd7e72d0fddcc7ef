/*
 * The client's own copy (GDPR Art. 15; protocol/retention.md) and the print view of the
 * case sheet as a client sees it. What the client may read is decided by the one view
 * module (src/auth/access_view.h): the sheet at its latest version projected for a
 * client of the case, under the consents it holds; nothing else of the sheet leaves.
 * Beside it, what the law asks to be told: the purposes (the template's), who received
 * the data (store_recipients.h), how long it is kept and on which basis (the case's
 * retention class, its deletion date once closed, a standing hold), and the case's
 * sessions and the client's own record.
 *
 * Both run on the reader thread and set job->doc (the case) and job->audit (copy.read /
 * client_view.read details), which the hub commits before it answers.
 */
#ifndef KONSIL_STORE_COPY_H
#define KONSIL_STORE_COPY_H

#include <sqlite3.h>

#include "store/store.h"

/* reader: in {actor, now, client_id?, id?}: the copy of client client_id of case id,
 * asked for by a counsellor of its team; or, without them, of the actor itself (a
 * client, through its link session, admitted or its session ended) -> out the copy
 * (protocol/http-api.md, "The client's copy"). */
int store_api_client_copy(sqlite3 *db, store_job *job);
/* The clients of case_id, for its counsellors: *out = [{id, name, session, joined_at}]
 * (name: the one each chose), those admitted or still waiting. 0 or -1. */
int store_copy_clients(sqlite3 *db, const char *case_id, cJSON **out);

/* reader: in {id, actor, now}: the case sheet as a client of the case reads it, for a
 * counsellor of its team to print -> out {case: {id, title, status}, v, data}. */
int store_api_client_view(sqlite3 *db, store_job *job);

#endif
