'use strict';
// Attacks on case sheets through a live server, each reproduced from issue 13 and refused
// with the error protocol/ documents, while an honest pair of participants
// (tests/hub/lib/adversary.js) keeps logging in, connecting and seeing each other's
// edits: sheets grown without bound, snapshots asked for by readers that never read, the
// room table filled, cases and sessions made in a loop, ops against ancient versions,
// participants, clients and a revoked link's clients that could not be removed, links managed
// by supervisors, presence taken over. The attacks
// on the edge (CSRF, logins, connections) are in adversarial.test.js. Loops are bounded;
// memory, database size and CPU time are measured from /proc and the file system and
// printed, never timed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const { addUser } = require('./lib/auth');
const { call, loginAs, honestPair, rssKiB, cpuMs, dbBytes, rawAs, submitAll, upgrade, subscribedRaw, clientOf,
        codes } = require('./lib/adversary');

test('an unbounded case sheet: 1 MB chat items, long strings and endless appends are refused early', async () => {
  // Plain build: the server's resident memory and the database are measured.
  const srv = await startServer();
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    const { cookie } = await clientOf(srv, lead, honest.session);
    const { r, v } = await subscribedRaw(srv, cookie, honest.doc);
    const dbBefore = dbBytes(srv.db);
    const rssBefore = rssKiB(srv.proc.pid);
    // The attack of the issue: 200 chat items of 1 MB (the chat is append-only: such
    // items could never be removed). Each is refused as it arrives, the first included.
    const mb = 'x'.repeat(1000000);
    let replies = await submitAll(r, Array.from({ length: 200 }, (_, i) => (
      { a: 'op', c: 'cases', d: honest.doc, v, seq: i + 1, op: [{ p: ['chat', 0], li: { text: mb } }] })));
    assert.deepEqual(codes(replies), { ERR_OP_SUBMIT_REJECTED: 200 });
    assert.match(replies[0].error.message, /^item size limit: component 0 inserts 1000\d+ bytes, more than 65536/);
    // Items under the item limit: the client's append budget (1 MiB per case per hour)
    // ends them after about a megabyte, and the sheet stays as it was beyond that.
    const item = 'y'.repeat(60000);
    replies = await submitAll(r, Array.from({ length: 30 }, (_, i) => (
      { a: 'op', c: 'cases', d: honest.doc, seq: 300 + i, op: [{ p: ['chat', i], li: { text: item } }] })));
    const accepted = replies.filter((m) => !m.error).length;
    assert.equal(accepted, 17, JSON.stringify(codes(replies)));
    assert.match(replies[17].error.message, /^append budget: the op adds 600\d\d bytes, \d+ left of 1048576 per 3600 s/);
    // A string grown by si: the string limit (256 KiB), for another client of the session.
    const second = await clientOf(srv, lead, honest.session, '127.0.0.21');
    const s2 = await subscribedRaw(srv, second.cookie, honest.doc);
    replies = await submitAll(s2.r, Array.from({ length: 6 }, (_, i) => (
      { a: 'op', c: 'cases', d: honest.doc, seq: 1 + i, op: [{ p: ['concern', 'own_words', 0], si: 'z'.repeat(60000) }] })));
    assert.equal(replies.filter((m) => !m.error).length, 4);
    assert.match(replies[4].error.message, /^string size limit: component 0 makes a string of 300\d\d\d bytes, more than 262144/);
    const dbAfter = dbBytes(srv.db);
    const rssAfter = rssKiB(srv.proc.pid);
    console.log(`unbounded sheet: 200 items of 1 MB refused, 17 of 60 kB accepted then the budget, a string stopped ` +
                `at 240 kB; database ${dbBefore} -> ${dbAfter} bytes (+${dbAfter - dbBefore}), ` +
                `server RSS ${rssBefore} -> ${rssAfter} KiB`);
    // Before: +700 MB of database, RSS 49 -> 254 MB, a 200 MB sheet.
    assert.ok(dbAfter - dbBefore < 8 * 1024 * 1024, `database grew ${dbAfter - dbBefore} bytes`);
    // The lead still writes the same case (her budget is her own) and the pair edits.
    const mine = await subscribedRaw(srv, lead, honest.doc);
    replies = await submitAll(mine.r, [{ a: 'op', c: 'cases', d: honest.doc, v: mine.v, seq: 1,
                                         op: [{ p: ['chat', mine.data.chat.length], li: { text: 'Guten Tag' } }] }]);
    assert.deepEqual(codes(replies), { ok: 1 }, JSON.stringify(replies[0].error));
    await honest.check();
    for (const x of [r, s2.r, mine.r]) await x.close();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a snapshot for readers that never read: shared, bounded by --max-outq, closed with 1013', async () => {
  // Plain build, default limits: the server's resident memory is what is measured.
  const srv = await startServer();
  const readers = [];
  try {
    const honest = await honestPair(srv);
    addUser(srv.db, 'hilde', 'counsellor', honest.password, 'family');
    const lead = await loginAs(srv, 'hana', honest.password);
    const added = await call(srv, 'POST', `/api/sessions/${honest.session}/participants`, lead, { username: 'hilde' });
    assert.equal(added.status, 201, added.text);
    // Three counsellors fill the case sheet to its limit (2 MiB), each within its own
    // append budget: 17 documents of 60 kB each; the sheet limit ends it.
    const filled = {};
    for (const [name, ch] of [['hana', 'a'], ['hugo', 'b'], ['hilde', 'c']]) {
      const me = await subscribedRaw(srv, await loginAs(srv, name, honest.password), honest.doc);
      const replies = await submitAll(me.r, Array.from({ length: 17 }, (_, i) => (
        { a: 'op', c: 'cases', d: honest.doc, seq: i + 1, op: [{ p: ['documents', 'list', 0], li: ch.repeat(60000) }] })));
      Object.assign(filled, Object.fromEntries(Object.entries(codes(replies)).map(([k, n]) => [k, (filled[k] || 0) + n])));
      if (name === 'hilde') assert.match(replies[16].error.message, /^sheet size limit: the op would make the case sheet 2\d{6} bytes, more than 2097152/);
      await me.r.close();
    }
    const hugo = await loginAs(srv, 'hugo', honest.password);
    const full = await subscribedRaw(srv, hugo, honest.doc);
    const sheetBytes = JSON.stringify(full.data).length;
    await full.r.close();
    assert.ok(sheetBytes <= 2097152, `${sheetBytes} bytes`);
    const rss0 = rssKiB(srv.proc.pid);
    // The attack of the issue: 20 sockets ask for the large snapshot and never read —
    // and ask again and again (s, f, nf).
    for (let i = 0; i < 20; i++) {
      const x = await subscribedRaw(srv, hugo, honest.doc);
      x.r.ws._socket.pause();
      for (let k = 0; k < 10; k++) x.r.send({ a: 'f', c: 'cases', d: honest.doc });
      for (let k = 0; k < 3; k++) x.r.send({ a: 'nf', id: k + 1, c: 'cases', d: honest.doc, v: null });
      readers.push(x.r);
    }
    await new Promise((res) => setTimeout(res, 2000));
    const rss1 = rssKiB(srv.proc.pid);
    await honest.check();
    // Live traffic for them: the lead replaces a document 150 times (the same size, so
    // no growth): some 18 MB of ops each of the 20 would have to queue.
    const me = await subscribedRaw(srv, lead, honest.doc);
    let old = me.data.documents.list[0];
    const ops = [];
    for (let i = 0; i < 150; i++) {
      const next = (i % 2 ? 'e' : 'd').repeat(60000);
      ops.push({ a: 'op', c: 'cases', d: honest.doc, seq: i + 1, op: [{ p: ['documents', 'list', 0], ld: old, li: next }] });
      old = next;
    }
    assert.deepEqual(codes(await submitAll(me.r, ops)), { ok: 150 });
    await me.r.close();
    const rss2 = rssKiB(srv.proc.pid);
    for (const r of readers) r.ws._socket.resume();
    const closes = await Promise.all(readers.map((r) => r.closed));
    const byCode = {};
    for (const cl of closes) byCode[cl.code] = (byCode[cl.code] || 0) + 1;
    const rss3 = rssKiB(srv.proc.pid);
    console.log(`oversized snapshot: a sheet of ${sheetBytes} bytes (${JSON.stringify(filled)}); server RSS ${rss0} KiB, ` +
                `${rss1} KiB with 20 readers that never read (each asked s, 10 f, 3 nf), ${rss2} KiB after 150 ` +
                `ops of 120 kB to them, ${rss3} KiB once they were closed (${JSON.stringify(byCode)})`);
    // Before: 217 MB -> 2,268 MB. Now each reader holds at most --max-outq (8 MiB), and a
    // snapshot reply is one message however many ask.
    assert.ok(rss1 - rss0 < 20 * 8 * 1024 + 64 * 1024, `grew ${rss1 - rss0} KiB`);
    assert.ok(rss2 - rss0 < 20 * 8 * 1024 + 64 * 1024, `grew ${rss2 - rss0} KiB`);
    assert.equal((byCode[1013] || 0) + (byCode[1006] || 0), 20, JSON.stringify(byCode));
    assert.ok(byCode[1013] >= 1, JSON.stringify(byCode));
    await honest.check();
  } finally {
    for (const r of readers) r.ws.terminate();
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('one counsellor cannot fill the room table: ids of no case, other cases and rooms per principal', async () => {
  const { randomUUID } = require('node:crypto');
  // A small table so that filling it would take few requests: 40 rooms, 8 per principal.
  const srv = await startServer({ asan: true, args: ['--max-rooms', '40', '--max-rooms-principal', '8'] });
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    addUser(srv.db, 'mallory', 'counsellor', 'pw-mallory');
    const mallory = await loginAs(srv, 'mallory', 'pw-mallory');
    // The attack of the issue: 10,000 documents asked for, 1,000 at a time. An id of no
    // case is refused after one lookup (no document is loaded); while 8 of mallory's
    // lookups are under way the others are refused at once; its idle rooms make way for
    // its next ones. They never crowd others out.
    const m = rawAs(srv, mallory);
    await m.handshake();
    let seen = {};
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 1000; i++) m.send({ a: 'f', c: 'cases', d: randomUUID() });
      for (let i = 0; i < 1000; i++) {
        const reply = await m.next((x) => x.a === 'f');
        const code = reply.error ? reply.error.code : 'ok';
        seen[code] = (seen[code] || 0) + 1;
      }
    }
    assert.equal((seen.ERR_FORBIDDEN || 0) + (seen.ERR_LIMIT_EXCEEDED || 0), 10000, JSON.stringify(seen));
    assert.ok(seen.ERR_FORBIDDEN >= 10, JSON.stringify(seen));
    console.log(`room flood: 10,000 ids of no case from one counsellor: ${JSON.stringify(seen)}`);
    // A client asks for any document but its own case: refused before a room is made.
    const { cookie } = await clientOf(srv, lead, honest.session);
    const cl = rawAs(srv, cookie);
    await cl.handshake();
    for (let i = 0; i < 500; i++) cl.send({ a: 's', c: 'cases', d: randomUUID() });
    seen = {};
    for (let i = 0; i < 500; i++) {
      const reply = await cl.next((x) => x.a === 's');
      seen[reply.error.code] = (seen[reply.error.code] || 0) + 1;
    }
    assert.deepEqual(seen, { ERR_FORBIDDEN: 500 });
    await honest.check();
    // Cases of its own, kept open: 8 rooms, then ERR_LIMIT_EXCEEDED for mallory alone.
    const own = [];
    for (let i = 0; i < 10; i++) {
      const res = await call(srv, 'POST', '/api/cases', mallory, { title: `Fall ${i}` });
      assert.equal(res.status, 201, res.text);
      own.push(res.json.id);
    }
    seen = {};
    for (const id of own) {
      m.send({ a: 's', c: 'cases', d: id });
      const reply = await m.next((x) => x.a === 's' && x.d === id);
      const code = reply.error ? reply.error.code : 'ok';
      seen[code] = (seen[code] || 0) + 1;
      if (reply.error) assert.match(reply.error.message, /You have 8 documents open, the most one principal may/);
    }
    assert.deepEqual(seen, { ok: 8, ERR_LIMIT_EXCEEDED: 2 });
    // Before: ERR_TOO_MANY_ROOMS for everyone. Now the others open and edit theirs.
    await honest.check();
    // Letting one go makes room for the next.
    m.send({ a: 'u', c: 'cases', d: own[0] });
    await m.next((x) => x.a === 'u');
    m.send({ a: 's', c: 'cases', d: own[8] });
    assert.equal((await m.next((x) => x.a === 's' && x.d === own[8])).error, undefined);
    await m.close();
    await cl.close();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('cases, sessions and links at 1,534/s: an account creates at most --max-creates per window', async () => {
  const srv = await startServer({ asan: true, args: ['--max-creates', '30'] });
  try {
    const honest = await honestPair(srv);
    addUser(srv.db, 'mallory', 'counsellor', 'pw-mallory');
    const mallory = await loginAs(srv, 'mallory', 'pw-mallory');
    // The attack of the issue: sessions made in a loop.
    const statuses = {};
    let refused;
    for (let i = 0; i < 40; i++) {
      const res = await call(srv, 'POST', '/api/sessions', mallory, { title: `Flut ${i}` });
      statuses[res.status] = (statuses[res.status] || 0) + 1;
      if (res.status === 429) refused = res;
    }
    assert.deepEqual(statuses, { 201: 30, 429: 10 });
    assert.equal(refused.json.error.code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) > 3500, refused.headers['retry-after']);
    // Cases, sessions of a case and links share the budget.
    const list = await call(srv, 'GET', '/api/cases', mallory);
    const some = list.json.cases[0];
    assert.equal((await call(srv, 'POST', '/api/cases', mallory, { title: 'x' })).status, 429);
    assert.equal((await call(srv, 'POST', `/api/sessions/${some.running_session}/links`, mallory,
                             { expires_in_s: 60 })).status, 429);
    // Nothing was made beyond the budget; the others create as before.
    assert.equal(list.json.cases.length, 30);
    const lead = await loginAs(srv, 'hana', honest.password);
    assert.equal((await call(srv, 'POST', '/api/cases', lead, { title: 'Neuer Fall' })).status, 201);
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('ops against a version 12,000 behind: refused at once; the stock client rolls back, fetches and submits again', async () => {
  const c = require('./lib/clients');
  // The op budget is lifted so that the history is written quickly; --max-op-lag keeps
  // its default (10,000).
  const srv = await startServer({ args: ['--op-rate', '50000', '--op-burst', '50000'] });
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    const hugo = c.stockClient(srv.url, { cookie: await loginAs(srv, 'hugo', honest.password) });
    const stale = hugo.connection.get('cases', honest.doc);
    await c.fetch(stale);
    const seenBefore = stale.data.concern.own_words;
    // 12,000 ops of typing after hugo's fetch.
    const me = await subscribedRaw(srv, lead, honest.doc);
    const typing = Array.from({ length: 12000 }, (_, i) => (
      { a: 'op', c: 'cases', d: honest.doc, seq: i + 1, op: [{ p: ['concern', 'own_words', 0], si: 'x' }] }));
    assert.deepEqual(codes(await submitAll(me.r, typing)), { ok: 12000 });
    const head = me.v + 12000;
    // The attack of the issue: 60 ops against a version far behind the head (before:
    // 19.6 s of server time for 60 ops 100,000 versions old).
    const cpu0 = cpuMs(srv.proc.pid);
    const old = await submitAll(me.r, Array.from({ length: 60 }, (_, i) => (
      { a: 'op', c: 'cases', d: honest.doc, v: 1, seq: 20000 + i, op: [{ p: ['concern', 'own_words', 0], si: 'y' }] })));
    const cpu1 = cpuMs(srv.proc.pid);
    assert.deepEqual(codes(old), { ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND: 60 });
    assert.match(old[0].error.message, /^the op is 1200\d versions behind the document, more than 10000 \(--max-op-lag\)/);
    console.log(`op lag: 60 ops ${head - 1} versions behind refused with ${cpu1 - cpu0} ms of server CPU`);
    // One within the lag is transformed and applied.
    const near = await submitAll(me.r, [{ a: 'op', c: 'cases', d: honest.doc, v: head - 5000, seq: 30000,
                                          op: [{ p: ['concern', 'own_words', 0], si: 'z' }] }]);
    assert.deepEqual(codes(near), { ok: 1 });
    // The stock client: its op is refused with that code, which sharedb hands to the op's
    // callback after rolling the op back (it inverts the op locally); it fetches and
    // submits again, and the op lands.
    let refusal;
    await new Promise((resolve) => stale.submitOp([{ p: ['concern', 'own_words', 0], si: 'H' }], (err) => {
      refusal = err;
      resolve();
    }));
    assert.equal(refusal && refusal.code, 'ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND');
    assert.equal(stale.data.concern.own_words, seenBefore, 'rolled back');
    await c.fetch(stale);
    assert.equal(stale.version, head + 1);
    await c.submit(stale, [{ p: ['concern', 'own_words', 0], si: 'H' }]);
    const check = c.stockClient(srv.url, { cookie: lead });
    const fresh = check.connection.get('cases', honest.doc);
    await c.fetch(fresh);
    assert.ok(fresh.data.concern.own_words.startsWith('H'));
    check.close();
    hugo.close();
    await me.r.close();
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('removal: a participant and an admitted client lose the case at once, their cookies too', async () => {
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    // Another case, so that the honest pair's stays as it is.
    addUser(srv.db, 'lena', 'counsellor', 'pw-lena');
    addUser(srv.db, 'paul', 'counsellor', 'pw-paul');
    const lena = await loginAs(srv, 'lena', 'pw-lena');
    const made = await call(srv, 'POST', '/api/sessions', lena, { title: 'Familie R.' });
    const session = made.json.id;
    const doc = made.json.case_id;
    assert.equal((await call(srv, 'POST', `/api/sessions/${session}/participants`, lena, { username: 'paul' })).status, 201);
    const paul = await loginAs(srv, 'paul', 'pw-paul');
    const one = await clientOf(srv, lena, session, '127.0.0.31');
    const two = await clientOf(srv, lena, session, '127.0.0.32');
    // Both clients and the second counsellor are in the room.
    const c1 = await subscribedRaw(srv, one.cookie, doc);
    const c2 = await subscribedRaw(srv, two.cookie, doc);
    const p = await subscribedRaw(srv, paul, doc);
    // Removing an admitted client: its socket closes at once and its cookie reaches
    // nothing; the other client goes on.
    const me = await call(srv, 'GET', '/api/me', one.cookie);
    assert.equal((await call(srv, 'DELETE', `/api/sessions/${session}/clients/${me.json.id}`, lena)).status, 204);
    assert.equal((await c1.r.closed).code, 4001);
    assert.equal((await call(srv, 'GET', '/api/me', one.cookie)).status, 401);
    assert.equal((await upgrade(srv, { Cookie: one.cookie })).status, 401);
    const replies = await submitAll(c2.r, [{ a: 'op', c: 'cases', d: doc, v: c2.v, seq: 1,
                                             op: [{ p: ['concern', 'own_words', 0], si: 'noch da' }] }]);
    assert.deepEqual(codes(replies), { ok: 1 });
    // Removing a participant from the team: the case is gone for it at once.
    const pm = await call(srv, 'GET', '/api/me', paul);
    assert.equal((await call(srv, 'DELETE', `/api/cases/${doc}/team/${pm.json.id}`, lena)).status, 204);
    assert.equal((await p.r.closed).code, 4001);
    const again = rawAs(srv, paul);
    await again.handshake();
    again.send({ a: 's', c: 'cases', d: doc });
    assert.equal((await again.next((m) => m.a === 's')).error.code, 'ERR_FORBIDDEN');
    await again.close();
    await c2.r.close();
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a revoked link can end its clients: their sockets close, their cookies reach nothing; only counsellors manage links', async () => {
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    // Another case, so that the honest pair's stays as it is.
    addUser(srv.db, 'lena', 'counsellor', 'pw-lena');
    addUser(srv.db, 'paul', 'counsellor', 'pw-paul');
    addUser(srv.db, 'sina', 'supervisor', 'pw-sina');
    const lena = await loginAs(srv, 'lena', 'pw-lena');
    const made = await call(srv, 'POST', '/api/sessions', lena, { title: 'Familie R.' });
    const session = made.json.id;
    const doc = made.json.case_id;
    for (const u of ['paul', 'sina']) {
      assert.equal((await call(srv, 'POST', `/api/sessions/${session}/participants`, lena, { username: u })).status, 201);
    }
    const paul = await loginAs(srv, 'paul', 'pw-paul');
    const sina = await loginAs(srv, 'sina', 'pw-sina');
    const one = await clientOf(srv, lena, session, '127.0.0.31');
    const two = await clientOf(srv, lena, session, '127.0.0.32');
    // Supervisors manage no links: before, they could revoke them.
    assert.equal((await call(srv, 'POST', `/api/sessions/${session}/links`, sina, { expires_in_s: 60 })).status, 403);
    assert.equal((await call(srv, 'GET', `/api/sessions/${session}/links`, sina)).status, 403);
    const revokeAsSina = await call(srv, 'DELETE', `/api/sessions/${session}/links/${one.link.id}`, sina);
    assert.equal(revokeAsSina.status, 403, revokeAsSina.text);
    // Counsellors of the team list them, without tokens.
    const listed = await call(srv, 'GET', `/api/sessions/${session}/links`, paul);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.links.map((l) => [l.id, l.clients, l.revoked_at]).sort(),
                     [[one.link.id, 1, null], [two.link.id, 1, null]].sort());
    assert.ok(listed.json.links.every((l) => !('token' in l)));
    // Both clients are in the room.
    const c1 = await subscribedRaw(srv, one.cookie, doc);
    const c2 = await subscribedRaw(srv, two.cookie, doc);
    // Revoking link one and ending its clients: its client's socket closes at once and
    // its cookie reaches nothing; the other client goes on.
    assert.equal((await call(srv, 'DELETE', `/api/sessions/${session}/links/${one.link.id}?end_clients=maybe`, lena)).status, 400);
    const revoked = await call(srv, 'DELETE', `/api/sessions/${session}/links/${one.link.id}?end_clients=true`, lena);
    assert.equal(revoked.status, 204, revoked.text);
    assert.equal((await c1.r.closed).code, 4001);
    assert.equal((await call(srv, 'GET', '/api/me', one.cookie)).status, 401);
    assert.equal((await upgrade(srv, { Cookie: one.cookie })).status, 401);
    let replies = await submitAll(c2.r, [{ a: 'op', c: 'cases', d: doc, v: c2.v, seq: 1,
                                           op: [{ p: ['concern', 'own_words', 0], si: 'noch da' }] }]);
    assert.deepEqual(codes(replies), { ok: 1 });
    // Revoking without ending: the admitted client stays (before: the only kind).
    assert.equal((await call(srv, 'DELETE', `/api/sessions/${session}/links/${two.link.id}`, lena)).status, 204);
    replies = await submitAll(c2.r, [{ a: 'op', c: 'cases', d: doc, seq: 2, op: [{ p: ['concern', 'own_words', 0], si: '!' }] }]);
    assert.deepEqual(codes(replies), { ok: 1 });
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});


test('presence ids are bound to their connection: a client cannot move or erase the lead\'s presence', async () => {
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    const hugo = await loginAs(srv, 'hugo', honest.password);
    const { cookie } = await clientOf(srv, lead, honest.session);
    const ch = honest.doc;
    const join = async (ck) => {
      const r = rawAs(srv, ck);
      await r.handshake();
      r.send({ a: 'ps', ch, seq: 1 });
      await r.next((m) => m.a === 'ps');
      return r;
    };
    const h = await join(lead);
    const obs = await join(hugo);
    const cl = await join(cookie);
    h.send({ a: 'p', ch, id: 'lead-caret', p: { path: ['concern', 'own_words'], index: 3 }, pv: 1 });
    let got = await obs.next((m) => m.a === 'p' && m.id === 'lead-caret');
    assert.equal(got.src, h.id);
    // The attack of the issue: the client sends presence under the lead's id, moving it
    // and then erasing it. Both are refused and relayed to nobody.
    cl.send({ a: 'p', ch, id: 'lead-caret', p: { path: ['chat'], index: 0 }, pv: 9 });
    cl.send({ a: 'p', ch, id: 'lead-caret', p: null, pv: 10 });
    for (let i = 0; i < 2; i++) {
      const refused = await cl.next((m) => m.a === 'p' && m.error);
      assert.equal(refused.error.code, 'ERR_FORBIDDEN');
    }
    // The client's own presence still goes through, and is the next the observer sees.
    cl.send({ a: 'p', ch, id: 'client-caret', p: { path: null }, pv: 1 });
    got = await obs.next((m) => m.a === 'p');
    assert.equal(got.id, 'client-caret');
    assert.equal(got.src, cl.id);
    // The lead's own next connection may carry its id on (a reconnect).
    const h2 = rawAs(srv, lead);
    await h2.handshake();
    h2.send({ a: 'p', ch, id: 'lead-caret', p: { path: ['concern', 'own_words'], index: 4 }, pv: 2 });
    got = await obs.next((m) => m.a === 'p' && m.id === 'lead-caret');
    assert.equal(got.src, h2.id);
    assert.equal(got.p.index, 4);
    for (const r of [h, h2, obs, cl]) await r.close();
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});
