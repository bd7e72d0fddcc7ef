// Lists of the case sheet (tasks, appointments, consents, chat, notes, …): each item is
// shown with its fields and edited in place; items are added with li (the full item) and
// removed with ld (the exact item). Append-only lists (consents, chat) take new items
// from a small form and never change an item; when someone else appended first, the hub
// refuses the late item and it is sent again at the new end.
// Removing an item asks first when it holds anything, keeps the focus on its neighbour
// (the item now in its place, else the one before, else the list's add button), and
// offers to undo (ctx.onRemoved: the item is inserted again through a normal op).
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { valueAt, pathKey, keyPath } = require('./paths');
const layout = require('./layout');
const { fieldLabel, itemLabel, choiceLabel } = require('./labels');
const { renderField } = require('./controls');
const { formatDateTime, toDate } = require('../format');
const { isConsentList, withoutStamps } = require('./stamps');

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const CHAT = 'chat';

// Whether an item holds anything someone wrote or chose (what the server stamped, who
// and when, does not count).
function holdsSomething(value, kp = '') {
  if (value === null || value === undefined || value === '' || value === false) return false;
  if (Array.isArray(value)) return value.some((v) => holdsSomething(v, kp));
  if (typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => !layout.isAutomatic(kp ? `${kp}.${k}` : k) && holdsSomething(v, kp ? `${kp}.${k}` : k));
  }
  return true;
}

// The element to focus after the item at index of listPath went.
function neighbour(listPath, index) {
  const list = document.querySelector(`.list[data-node='${CSS.escape(pathKey(listPath))}']`);
  if (!list) return null;
  const items = list.querySelectorAll(':scope > .items > li');
  const item = items[index] || items[index - 1];
  if (item) return item.querySelector('input:not([readonly]), textarea:not([readonly]), select, button') || null;
  return list.querySelector(':scope > .add');
}

function removeItem(ctx, listPath, index, label) {
  const path = [...listPath, index];
  const item = valueAt(ctx.doc.data, path);
  if (holdsSomething(item, keyPath(listPath)) && !window.confirm(t('list.remove_confirm', { what: label }))) return;
  ctx.submit([{ p: path, ld: item }], `remove ${pathKey(listPath)}`);
  const next = neighbour(listPath, index);
  if (next) next.focus();
  if (ctx.onRemoved) {
    ctx.onRemoved({
      label,
      undo() {
        const items = valueAt(ctx.doc.data, listPath);
        if (!Array.isArray(items)) return;
        const at = Math.min(index, items.length);
        // A new item: the server stamps it afresh (it refuses stamped fields in one).
        const fresh = withoutStamps(ctx.template, keyPath(listPath), ctx.me.role, item);
        ctx.submit([{ p: [...listPath, at], li: fresh }], `add ${pathKey(listPath)}`);
        const back = document.querySelector(`[data-node='${CSS.escape(pathKey([...listPath, at]))}']`);
        const first = back && back.querySelector('input:not([readonly]), textarea:not([readonly]), select, button');
        if (first) first.focus();
      },
    });
  }
}

// A chat message: its author by name from the case's people (the server stamped its id;
// older messages hold a name), a client's name marked as self-chosen.
function chatMessage(ctx, path) {
  const item = valueAt(ctx.doc.data, path);
  const message = isObject(item) ? item : { text: String(item) };
  const mine = message.from === ctx.me.id || (message.from === ctx.me.name && message.from_role === ctx.me.role);
  const role = message.from_role ? t(`role.${message.from_role}`) : '';
  return {
    element: h(
      'li',
      { class: ['chat-message', mine && 'is-mine'], dataset: { node: pathKey(path) } },
      h(
        'p',
        { class: 'chat-meta' },
        h('span', { class: 'chat-from' }, message.from ? ctx.names.text(message.from) : t('presence.unknown')),
        role ? h('span', { class: 'chat-role' }, ` · ${role}`) : null,
        toDate(message.at) ? h('time', { datetime: toDate(message.at).toISOString(), class: 'chat-time' }, ` · ${formatDateTime(message.at)}`) : null,
      ),
      h('p', { class: 'chat-text' }, message.text || ''),
    ),
  };
}

function renderItem(ctx, listPath, index, writable) {
  const path = [...listPath, index];
  if (keyPath(listPath) === CHAT) return chatMessage(ctx, path);
  const item = valueAt(ctx.doc.data, path);
  const label = itemLabel(listPath, index, ctx.audience);
  const remove = writable
    ? h(
        'button',
        {
          type: 'button',
          class: 'link-button remove',
          dataset: { action: 'remove', path: pathKey(path) },
          onclick: () => removeItem(ctx, listPath, index, label),
        },
        t('list.remove'),
        h('span', { class: 'visually-hidden' }, `: ${label}`),
      )
    : null;
  if (!isObject(item)) {
    const field = renderField(ctx, path, label);
    return { element: h('li', { class: 'item item-simple', dataset: { node: pathKey(path) } }, field.element, remove), update: field.update };
  }
  const headingId = uniqueId('item');
  return {
    element: h(
      'li',
      { class: 'item', dataset: { node: pathKey(path) }, 'aria-labelledby': headingId },
      h('div', { class: 'item-head' }, h('span', { class: 'item-title', id: headingId }, label), h('span', { class: 'presence-slot' }), remove),
      h('div', { class: 'item-fields' }, ctx.renderObjectBody(path)),
    ),
  };
}

// The list itself, registered as one node: a change of its items renders it anew.
function renderListNode(ctx, path, headingLevel) {
  const items = valueAt(ctx.doc.data, path);
  const appendOnly = ctx.access.isAppendOnly(path);
  const writable = ctx.mayWrite(path) && !appendOnly;
  const headingId = uniqueId('list');
  const heading = headingLevel ? h(headingLevel, { class: 'list-title', id: headingId }, fieldLabel(path, ctx.audience), h('span', { class: 'presence-slot' })) : null;
  const chat = keyPath(path) === CHAT;
  const entries = items.map((_, index) => ctx.node([...path, index], () => renderItem(ctx, path, index, writable)));
  const add = writable
    ? h(
        'button',
        { type: 'button', class: 'secondary add', dataset: { action: 'add', path: pathKey(path) }, onclick: () => addItem(ctx, path) },
        t('list.add', { what: itemLabel(path, items.length, ctx.audience) }),
      )
    : null;
  const element = h(
    'div',
    { class: ['list', chat && 'chat'], dataset: { node: pathKey(path) }, role: 'group', 'aria-labelledby': heading ? headingId : null },
    heading,
    items.length
      ? h('ol', { class: chat ? 'chat-log' : 'items', 'aria-live': chat ? 'polite' : null }, entries)
      : h('p', { class: 'empty' }, t(chat ? 'chat.empty' : 'list.empty')),
    add,
  );
  // A chat log that scrolls on its own shows its newest message; the page itself is never
  // moved (a client far from the chat is told of new messages instead: room.js).
  if (chat) {
    requestAnimationFrame(() => {
      const log = element.querySelector('.chat-log');
      if (log && log.scrollHeight > log.clientHeight) log.scrollTop = log.scrollHeight;
    });
  }
  return { element };
}

function addItem(ctx, path) {
  const items = valueAt(ctx.doc.data, path);
  const index = items.length;
  const item = layout.newItem(keyPath(path), items, ctx.itemContext());
  ctx.submit([{ p: [...path, index], li: item }], `add ${pathKey(path)}`);
  const fresh = document.querySelector(`[data-node='${CSS.escape(pathKey([...path, index]))}']`);
  const first = fresh && fresh.querySelector('input:not([readonly]), textarea:not([readonly]), select:not([disabled])');
  if (first) first.focus();
}

// The form for a consent record (protocol/access.md, "Consents"): its kind (those the
// template keeps), with whom for sharing (a specialty) or a release (a recipient), given
// or revoked, and — when a counsellor records it on the client's behalf — how it was
// given; the server stamps who gave and recorded it, and when.
function renderConsentForm(ctx, path) {
  const kinds = (ctx.template && ctx.template.consents && ctx.template.consents.kinds) || ['processing'];
  const specialties = ['debt', 'social_law', 'migration', 'housing', 'family', 'addiction'];
  const field = (label, input, extra) => {
    const id = uniqueId('consent');
    input.id = id;
    return h('div', { class: ['field', extra] }, h('label', { for: id, class: 'field-label' }, label), input);
  };
  const choice = (key, values, initial) =>
    h('select', { dataset: { field: key } }, values.map((v) => h('option', { value: v, selected: v === initial }, choiceLabel([...path, 0, key], v))));
  const kind = choice('kind', kinds, kinds[0]);
  const withSpecialty = h('select', { dataset: { field: 'with' } }, specialties.map((s) => h('option', { value: s }, t(`specialty.${s}`))));
  const withRecipient = h('input', { type: 'text', autocomplete: 'off', dataset: { field: 'with' } });
  const status = choice('status', ['given', 'revoked'], 'given');
  const how = ctx.me.role === 'client' ? null : choice('how', ['in_person', 'paper', 'phone'], 'in_person');
  const note = h('input', { type: 'text', autocomplete: 'off', dataset: { field: 'note' } });
  const specialtyField = field(t('consent.with_specialty'), withSpecialty, 'consent-with');
  const recipientField = field(t('consent.with_recipient'), withRecipient, 'consent-with');
  const show = () => {
    specialtyField.hidden = kind.value !== 'share';
    recipientField.hidden = kind.value !== 'release';
  };
  kind.addEventListener('change', show);
  show();
  const form = h(
    'form',
    { class: 'append-form consent-form' },
    field(fieldLabel([...path, 0, 'kind'], ctx.audience), kind),
    specialtyField,
    recipientField,
    field(fieldLabel([...path, 0, 'status'], ctx.audience), status),
    how ? field(fieldLabel([...path, 0, 'how'], ctx.audience), how) : null,
    field(fieldLabel([...path, 0, 'note'], ctx.audience), note),
    h('button', { type: 'submit', class: 'primary' }, t('list.append')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const item = { kind: kind.value, status: status.value };
    if (kind.value === 'share') item.with = withSpecialty.value;
    if (kind.value === 'release') {
      if (!withRecipient.value.trim()) return withRecipient.focus();
      item.with = withRecipient.value.trim();
    }
    if (how) item.how = how.value;
    if (note.value.trim()) item.note = note.value.trim();
    ctx.append(path, item);
    withRecipient.value = '';
    note.value = '';
    kind.focus();
  });
  return form;
}

// A form that composes a new item for an append-only list; only the fields people fill
// in (the server stamps the automatic ones).
function renderAppendForm(ctx, path) {
  const kp = keyPath(path);
  if (isConsentList(ctx.template, kp)) return renderConsentForm(ctx, path);
  const template = layout.newItem(kp, valueAt(ctx.doc.data, path), ctx.itemContext());
  const isText = typeof template === 'string';
  const inputs = {};
  const fields = (isText ? [null] : Object.keys(template).filter((k) => !layout.isAutomatic(`${kp}.${k}`))).map((key) => {
    const id = uniqueId('draft');
    const fieldPath = key === null ? path : [...path, key];
    const initial = key === null ? template : template[key];
    const choices = key === null ? null : layout.choicesFor(`${kp}.${key}`);
    let input;
    if (choices) {
      input = h('select', { id }, choices.map((c) => h('option', { value: c, selected: c === initial }, choiceLabel(fieldPath, c))));
    } else if (typeof initial === 'boolean') {
      input = h('input', { id, type: 'checkbox', checked: initial });
    } else {
      input = h(layout.isLongText(`${kp}.${key}`) ? 'textarea' : 'input', { id, type: 'text', autocomplete: 'off', rows: 2 });
    }
    inputs[key] = input;
    const label = key === null || kp === CHAT ? t(`draft.${kp}`) : fieldLabel(fieldPath, ctx.audience);
    return h('div', { class: ['field', typeof initial === 'boolean' && 'field-check'] }, h('label', { for: id, class: 'field-label' }, label), input);
  });
  const send = h('button', { type: 'submit', class: 'primary' }, t(kp === CHAT ? 'chat.send' : 'list.append'));
  const form = h('form', { class: ['append-form', kp === CHAT && 'chat-form'] }, fields, send);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const item = isText ? inputs[null].value : layout.newItem(kp, [], ctx.itemContext());
    if (!isText) {
      for (const [key, input] of Object.entries(inputs)) item[key] = input.type === 'checkbox' ? input.checked : input.value;
    }
    if (kp === CHAT && !String(item.text || '').trim()) return;
    ctx.append(path, item);
    for (const input of Object.values(inputs)) if (input.type !== 'checkbox' && input.tagName !== 'SELECT') input.value = '';
    const first = Object.values(inputs)[0];
    if (first) first.focus();
  });
  return form;
}

// The list with its heading (or without, when a section heading names it already) and,
// for append-only lists the user may add to, the form for new items.
function renderListBlock(ctx, path, headingLevel) {
  const list = ctx.node(path, () => renderListNode(ctx, path, headingLevel));
  const appendable = ctx.access.isAppendOnly(path) && ctx.access.canWrite(path);
  return h('div', { class: 'list-block' }, list, appendable ? renderAppendForm(ctx, path) : null);
}

module.exports = { renderListBlock };
