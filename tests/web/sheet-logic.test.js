'use strict';
// The pure parts of the web demo's case-sheet editing, in Node: the text diff that
// becomes si/sd ops (checked against ot-json0 itself, surrogate pairs kept whole), the
// caret shift under someone else's edit, path shifts under list ops, and the write
// rules of the default template as the form reads them.
const test = require('node:test');
const assert = require('node:assert/strict');
const json0 = require('ot-json0').type;
const { diffText, textEditOp } = require('../../web-demo/src/sheet/text-diff');
const { shiftIndex } = require('../../web-demo/src/sheet/caret');
const { shiftPathThroughListOp } = require('../../web-demo/src/sheet/paths');
const { createAccess } = require('../../web-demo/src/sheet/access');
const defaultTemplate = require('../../protocol/templates/default.json');

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

test('the text diff turns any text into any other through json0, never splitting a surrogate pair', () => {
  const alphabet = ['a', 'b', 'ä', '😀', '👍', ' ', 'e\u0301'];
  let seed = 7;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const text = () => Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join('');
  for (let i = 0; i < 5000; i++) {
    const before = text();
    const after = text();
    const op = textEditOp(['f'], before, after, random(after.length + 1));
    assert.equal(json0.apply({ f: before }, op).f, after, `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    for (const c of op) {
      const offset = c.p[1];
      assert.ok(!(offset > 0 && isHigh(before.charCodeAt(offset - 1)) && isLow(before.charCodeAt(offset))), 'offset inside a pair');
    }
  }
});

test('the text diff follows the caret when typing repeats a letter', () => {
  assert.deepEqual(diffText('aa', 'aaa', 1), { offset: 0, removed: '', inserted: 'a' });
  assert.deepEqual(diffText('aa', 'aaa', 3), { offset: 2, removed: '', inserted: 'a' });
  assert.deepEqual(diffText('Hallo', 'Hallo 😀', 8), { offset: 5, removed: '', inserted: ' 😀' });
  assert.deepEqual(diffText('x😀y', 'x😁y'), { offset: 1, removed: '😀', inserted: '😁' });
  assert.equal(diffText('same', 'same', 2), null);
});

test('a caret moves with text inserted or deleted before it and stays put for text at or after it', () => {
  const si = (offset, s) => ({ p: ['f', offset], si: s });
  const sd = (offset, s) => ({ p: ['f', offset], sd: s });
  assert.equal(shiftIndex(5, si(0, 'abc')), 8);
  assert.equal(shiftIndex(5, si(5, 'abc')), 5);
  assert.equal(shiftIndex(5, si(6, 'abc')), 5);
  assert.equal(shiftIndex(5, sd(0, 'ab')), 3);
  assert.equal(shiftIndex(5, sd(4, 'abc')), 4);
  assert.equal(shiftIndex(5, sd(5, 'abc')), 5);
  assert.equal(shiftIndex(2, si(0, '😀')), 4);
});

test('a path into a list follows inserts, deletes and moves of earlier items', () => {
  const path = ['help_plan', 'tasks', 2, 'what'];
  assert.deepEqual(shiftPathThroughListOp(path, { p: ['help_plan', 'tasks', 0], li: {} }), ['help_plan', 'tasks', 3, 'what']);
  assert.deepEqual(shiftPathThroughListOp(path, { p: ['help_plan', 'tasks', 3], li: {} }), path);
  assert.deepEqual(shiftPathThroughListOp(path, { p: ['help_plan', 'tasks', 1], ld: {} }), ['help_plan', 'tasks', 1, 'what']);
  assert.equal(shiftPathThroughListOp(path, { p: ['help_plan', 'tasks', 2], ld: {} }), null);
  assert.deepEqual(shiftPathThroughListOp(path, { p: ['help_plan', 'tasks', 2], lm: 0 }), ['help_plan', 'tasks', 0, 'what']);
  assert.deepEqual(shiftPathThroughListOp(path, { p: ['chat', 0], li: {} }), path);
});

test('the write rules of the default template as protocol/access.md describes them', () => {
  const rules = defaultTemplate.rules;
  const client = createAccess(rules, { role: 'client' });
  const debt = createAccess(rules, { role: 'counsellor', specialty: 'debt' });
  const housingLead = createAccess(rules, { role: 'counsellor', specialty: 'housing', lead: true });
  const supervisor = createAccess(rules, { role: 'supervisor' });

  assert.equal(client.canWrite(['person', 'display_name']), true);
  assert.equal(debt.canWrite(['person', 'display_name']), false);
  assert.equal(client.canWrite(['concern', 'own_words']), true);
  assert.equal(client.canWrite(['situation', 'assessment']), false);
  assert.equal(client.canWrite(['help_plan', 'tasks', 0, 'done']), true, 'list items follow the list key');
  assert.equal(client.canWrite(['help_plan', 'goals', 0, 'goal']), false);
  assert.equal(client.canWrite(['appointments', 0, 'place']), false);
  assert.equal(client.canWrite(['sections', 'debt', 'client_summary']), false);
  assert.equal(debt.canWrite(['sections', 'debt', 'cause']), true);
  assert.equal(debt.canWrite(['sections', 'housing', 'situation']), false);
  assert.equal(housingLead.canWrite(['sections', 'debt', 'cause']), true, 'the lead writes every section');
  assert.equal(housingLead.canWrite(['meta', 'status']), true);
  assert.equal(debt.canWrite(['meta', 'status']), false);
  assert.equal(debt.canWrite(['internal', 'notes', 0, 'text']), true);
  assert.equal(supervisor.canWrite(['concern', 'own_words']), false, 'supervisors never write');
  assert.equal(client.isAppendOnly(['chat']), true);
  assert.equal(client.isAppendOnly(['consents']), true);
  assert.equal(client.isAppendOnly(['chat', 0]), false);
  assert.equal(client.isAppendOnly(['help_plan', 'tasks']), false);
});
