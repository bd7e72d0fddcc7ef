'use strict';
// Editors of one case sheet from Node, for recording a session's history: each a stock
// sharedb client on /ws under a principal's cookie that types text one character per
// op and adds list items, every op waiting for the hub's acknowledgement, so every op
// becomes one version.
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');
const { COOKIE } = require('./rest');

const valueAt = (data, path) => path.reduce((node, step) => (node === undefined ? undefined : node[step]), data);

// Resolves with {doc, submit(op), type(path, text), close()} once the sheet is loaded.
async function openEditor(server, cookie, caseId) {
  const socket = new WebSocket(server.wsUrl, { headers: { Cookie: `${COOKIE}=${cookie}` } });
  const connection = new ShareDB.Connection(socket);
  const doc = connection.get('cases', caseId);
  await new Promise((resolve, reject) => doc.subscribe((err) => (err ? reject(err) : resolve())));
  const submit = (op) => new Promise((resolve, reject) => doc.submitOp(op, (err) => (err ? reject(err) : resolve())));
  return {
    doc,
    submit,
    // Appends text to the string at path, one op per character.
    async type(path, text) {
      for (const ch of text) await submit([{ p: [...path, valueAt(doc.data, path).length], si: ch }]);
    },
    append: (listPath, item) => submit([{ p: [...listPath, valueAt(doc.data, listPath).length], li: item }]),
    close: () => connection.close(),
  };
}

module.exports = { openEditor, valueAt };
