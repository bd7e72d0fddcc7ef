// One form field for one value of the case sheet. Text edits become character-level json0
// string ops (si/sd) computed from the difference before and after each input event;
// choices, checkboxes and numbers replace their value with oi carrying the exact od.
// A field whose text someone else changes keeps the local caret in place. A supervisor
// without the client's supervision consent receives free text as a mask of the same
// length (protocol/access.md): such a field says its text is hidden, and how long it is.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { valueAt, pathKey, keyPath } = require('./paths');
const { textEditOp } = require('./text-diff');
const { shiftSelection } = require('./caret');
const layout = require('./layout');
const { fieldLabel, choiceLabel } = require('./labels');
const { formatDate, formatDateTime } = require('../format');

const MASK = /^\u2022+$/;
// Whether value is free text the hub masked for this reader (a supervisor's only).
const isMasked = (ctx, value) => ctx.me.role === 'supervisor' && typeof value === 'string' && MASK.test(value);

const textSource = (path) => `text ${pathKey(path)}`;
const valueSource = (path) => `value ${pathKey(path)}`;

function replaceOp(path, before, after) {
  return [{ p: path, od: before, oi: after }];
}

function textControl(ctx, path, id, readOnly) {
  const long = layout.isLongText(keyPath(path));
  const control = long
    ? h('textarea', { id, rows: ctx.audience === 'client' ? 4 : 3, readonly: readOnly })
    : h('input', { id, type: 'text', readonly: readOnly, autocomplete: 'off' });
  control.value = valueAt(ctx.doc.data, path);
  // The wrap holds the layer other people's carets are drawn on (carets.js).
  const element = h('div', { class: 'control-wrap' }, control);
  control.addEventListener('input', () => {
    const before = valueAt(ctx.doc.data, path);
    if (typeof before !== 'string') return;
    const op = textEditOp(path, before, control.value, control.selectionEnd);
    if (op.length) ctx.submit(op, textSource(path));
  });
  const update = (component) => {
    const value = valueAt(ctx.doc.data, path);
    if (typeof value !== 'string' || !('si' in component || 'sd' in component)) return false;
    if (document.activeElement === control) {
      const selection = { start: control.selectionStart, end: control.selectionEnd, direction: control.selectionDirection };
      const shifted = shiftSelection(selection, component);
      control.value = value;
      control.setSelectionRange(shifted.start, shifted.end, shifted.direction);
    } else {
      control.value = value;
    }
    return true;
  };
  return { control, update, element };
}

// A calendar day, day and time, or month (layout.dateKind), replaced whole on change.
function dateControl(ctx, path, id, readOnly, kind) {
  const control = h('input', { id, type: kind, readonly: readOnly, value: valueAt(ctx.doc.data, path) });
  control.addEventListener('change', () => {
    const before = valueAt(ctx.doc.data, path);
    if (typeof before === 'string' && before !== control.value) ctx.submit(replaceOp(path, before, control.value), valueSource(path));
  });
  const update = (component) => {
    if (!('si' in component || 'sd' in component)) return false;
    control.value = valueAt(ctx.doc.data, path);
    return true;
  };
  return { control, update };
}

function choiceControl(ctx, path, id, choices) {
  const value = valueAt(ctx.doc.data, path);
  const options = choices.includes(value) || value === '' ? choices : [value, ...choices];
  const control = h(
    'select',
    { id },
    value === '' ? h('option', { value: '' }, t('field.choose')) : null,
    options.map((choice) => h('option', { value: choice, selected: choice === value }, choiceLabel(path, choice))),
  );
  control.addEventListener('change', () => {
    const before = valueAt(ctx.doc.data, path);
    if (before !== control.value) ctx.submit(replaceOp(path, before, control.value), valueSource(path));
  });
  return { control };
}

// A task's owner: nobody, the client, or a counsellor of the team, by name; replaced whole.
function ownerControl(ctx, path, id) {
  const value = valueAt(ctx.doc.data, path);
  const known = [['', t('task.owner.nobody')], ['client', t('task.owner.client')], ...ctx.owners.map((o) => [o.id, o.name])];
  const options = known.some(([v]) => v === value) ? known : [...known, [value, value]];
  const control = h('select', { id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  control.addEventListener('change', () => {
    const before = valueAt(ctx.doc.data, path);
    if (before !== control.value) ctx.submit(replaceOp(path, before, control.value), valueSource(path));
  });
  return { control };
}

function ownerText(ctx, value) {
  if (value === 'client') return t('task.owner.client');
  const owner = ctx.owners.find((o) => o.id === value);
  return owner ? owner.name : value || t('task.owner.nobody');
}

function checkboxControl(ctx, path, id) {
  const control = h('input', { id, type: 'checkbox', checked: valueAt(ctx.doc.data, path) === true });
  control.addEventListener('change', () => {
    const before = valueAt(ctx.doc.data, path);
    ctx.submit(replaceOp(path, before, control.checked), valueSource(path));
  });
  return { control };
}

// yes / no / not stated, for a boolean that starts as null.
function tristateControl(ctx, path, id) {
  const value = valueAt(ctx.doc.data, path);
  const current = value === true ? 'yes' : value === false ? 'no' : '';
  const control = h(
    'select',
    { id },
    [['', t('field.unknown')], ['yes', t('field.yes')], ['no', t('field.no')]].map(([v, text]) =>
      h('option', { value: v, selected: v === current }, text),
    ),
  );
  control.addEventListener('change', () => {
    const after = control.value === 'yes' ? true : control.value === 'no' ? false : null;
    ctx.submit(replaceOp(path, valueAt(ctx.doc.data, path), after), valueSource(path));
  });
  return { control };
}

function numberControl(ctx, path, id, readOnly) {
  const value = valueAt(ctx.doc.data, path);
  const control = h('input', { id, type: 'number', inputmode: 'numeric', readonly: readOnly, value: value === null ? '' : String(value) });
  control.addEventListener('change', () => {
    const text = control.value.trim();
    const after = text === '' ? null : Number(text);
    const before = valueAt(ctx.doc.data, path);
    if (after !== before && (after === null || Number.isFinite(after))) ctx.submit(replaceOp(path, before, after), valueSource(path));
  });
  return { control };
}

function readonlyText(ctx, path, value) {
  if (value === null || value === '' || value === undefined) return t('field.empty');
  if (value === true) return t('field.yes');
  if (value === false) return t('field.no');
  if (isMasked(ctx, value)) return t('field.hidden', { count: [...value].length });
  const kp = keyPath(path);
  if (/(^|\.)(author|from|given_by|recorded_by|created_by)$/.test(kp)) return ctx.names.text(String(value));
  if (layout.isMoment(kp) || (layout.dateKind(kp) && layout.fitsDate(layout.dateKind(kp), value))) {
    return layout.dateKind(kp) === 'month' ? String(value) : layout.dateKind(kp) === 'date' ? formatDate(value) : formatDateTime(value);
  }
  return layout.choicesFor(kp) ? choiceLabel(path, value) : String(value);
}

// Read-only values that no control shows well: automatic ones, choices, owners, yes/no,
// nothing yet.
function showsAsText(ctx, kp, value, readOnly) {
  if (layout.isAutomatic(kp) || isMasked(ctx, value)) return true;
  return readOnly && (typeof value === 'boolean' || value === null || value === '' || Boolean(layout.choicesFor(kp)) || layout.isOwner(kp));
}

// The control for the value at path, chosen by its type and the layout. Read-only
// values reach here only as text or numbers (showsAsText takes the others).
function makeControl(ctx, path, id, readOnly) {
  const value = valueAt(ctx.doc.data, path);
  const kp = keyPath(path);
  const kind = value === null ? layout.nullableKind(kp) : typeof value;
  const choices = layout.choicesFor(kp);
  if (kind === 'string' && layout.isOwner(kp)) return ownerControl(ctx, path, id);
  if (kind === 'string' && choices) return choiceControl(ctx, path, id, choices);
  const dateKind = kind === 'string' ? layout.dateKind(kp) : null;
  if (dateKind && layout.fitsDate(dateKind, value)) return dateControl(ctx, path, id, readOnly, dateKind);
  if (kind === 'string') return textControl(ctx, path, id, readOnly);
  if (kind === 'boolean' && value === null) return tristateControl(ctx, path, id);
  if (kind === 'boolean') return checkboxControl(ctx, path, id);
  if (kind === 'number') return numberControl(ctx, path, id, readOnly);
  return null;
}

// A labelled field for the value at path: {element, update}. Automatic values (author,
// time) and values without an editor are shown as text.
function renderField(ctx, path, label) {
  const id = uniqueId('f');
  const kp = keyPath(path);
  const readOnly = !ctx.mayWrite(path) || layout.isAutomatic(kp);
  const text = label || fieldLabel(path, ctx.audience);
  const value = valueAt(ctx.doc.data, path);
  const made = showsAsText(ctx, kp, value, readOnly) ? null : makeControl(ctx, path, id, readOnly);
  const slot = h('span', { class: 'presence-slot' });
  if (!made) {
    const element = h(
      'div',
      { class: ['field', 'field-static', isMasked(ctx, value) && 'is-hidden-text'], dataset: { node: pathKey(path) } },
      h('div', { class: 'field-head' }, h('span', { class: 'field-label', id }, text), slot),
      h('span', { class: 'field-value', 'aria-labelledby': id, dataset: { path: pathKey(path) } }, layout.isOwner(kp) ? ownerText(ctx, value) : readonlyText(ctx, path, value)),
    );
    return { element };
  }
  const { control, update } = made;
  const shown = made.element || control;
  control.dataset.path = pathKey(path);
  const checkbox = control.type === 'checkbox';
  const labelElement = h('label', { for: id, class: 'field-label' }, text);
  const tag = readOnly && !checkbox && ctx.audience !== 'client' ? h('span', { class: 'readonly-tag' }, t('field.readonly')) : null;
  const element = h(
    'div',
    { class: ['field', checkbox && 'field-check', readOnly && 'is-readonly'], dataset: { node: pathKey(path) } },
    checkbox ? [control, labelElement, slot] : [h('div', { class: 'field-head' }, labelElement, tag, slot), shown],
  );
  return { element, update };
}

module.exports = { renderField };
