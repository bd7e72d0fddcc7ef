// The case sheet as a live form. Sections, groups of fields and lists follow the shape of
// the document the hub sent (it leaves out what the reader may not see, so that is not
// shown) and the labels of the catalogue. Every rendered part is registered under its
// path; an op from someone else updates a text field in place (caret kept) or renders the
// smallest part that holds the change anew, keeping the local focus and selection; a key
// that appears or goes (a consent given or revoked changes what the reader may read)
// renders the sheet anew. Under each section, and at each part with a rule of its own,
// the page says who reads it (readers.js: the hub's computation, never written here).
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { valueAt, pathKey, keyPath, isPrefix, shiftPathThroughListOp } = require('./paths');
const layout = require('./layout');
const { fieldLabel, hint } = require('./labels');
const { renderField } = require('./controls');
const { renderListBlock } = require('./lists');
const { createNames } = require('./names');
const { readersLine, isRulePath } = require('./readers');

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
// Concurrent appends to an append-only list: how often a late item is sent, and how
// long a retry waits at most for the item that got in first.
const APPEND_ATTEMPTS = 5;
const APPEND_WAIT_MS = 1000;

// owners: the people a task may be assigned to, [{id, name}] (the team's counsellors);
// template: the template's declarations ({stamps, consents}); people: the case's people as
// the hub names them to this reader; readers: who reads each part (the case resource's).
function createSheetForm({ doc, access, audience, me, onRejected, onRemoved, owners, template, people, readers }) {
  const nodes = new Map();
  const renderedListeners = new Set();
  let sections = [];

  // A client is not shown what it can neither change nor learn anything from: bookkeeping
  // fields and read-only fields and lists that are still empty.
  const saysNothingToClient = (path) => {
    if (layout.clientOmits(keyPath(path))) return true;
    const value = valueAt(doc.data, path);
    const empty = value === '' || value === null || value === false || (Array.isArray(value) && !value.length);
    return empty && !access.canWrite(path);
  };
  const visible = (path) => valueAt(doc.data, path) !== undefined && !(audience === 'client' && saysNothingToClient(path));

  // Inside an item of an append-only list: never edited.
  const insideAppendOnly = (path) =>
    path.some((step, i) => typeof step === 'number' && access.isAppendOnly(path.slice(0, i)));

  function submit(op, source, done) {
    doc.submitOp(op, { source }, (err) => {
      if (done) done(err);
      else if (err) onRejected(err);
    });
  }

  // sharedb answers a refused op by rolling it back and calling back without an error,
  // so whether the item arrived is read from the list itself. The refusal can come
  // before the item that got in first (the hub sends ops once they are on disk): the
  // next try waits for that op, or a moment.
  function append(listPath, item, attempt = 1) {
    const list = valueAt(doc.data, listPath);
    const text = JSON.stringify(item);
    submit([{ p: [...listPath, list.length], li: item }], `append ${pathKey(listPath)}`, (err) => {
      if (err) return onRejected(err);
      if (valueAt(doc.data, listPath).some((entry) => JSON.stringify(entry) === text)) return;
      if (attempt >= APPEND_ATTEMPTS) return onRejected({ message: t('room.append_failed') });
      const again = () => {
        clearTimeout(timer);
        doc.removeListener('op', onRemoteOp);
        append(listPath, item, attempt + 1);
      };
      const onRemoteOp = (op, source) => source || again();
      const timer = setTimeout(again, APPEND_WAIT_MS);
      doc.on('op', onRemoteOp);
    });
  }

  // Whether op only appends to append-only lists: a refusal of it is sent again, not shown.
  const isAppend = (op) =>
    Array.isArray(op) && op.length > 0 && op.every((c) => 'li' in c && !('ld' in c) && access.isAppendOnly(c.p.slice(0, -1)));

  // Renders through build() and registers the result under path.
  function node(path, build) {
    const built = build();
    nodes.set(pathKey(path), { path, build, element: built.element, update: built.update });
    return built.element;
  }

  const ctx = {
    doc,
    access,
    audience,
    me,
    submit,
    append,
    node,
    mayWrite: (path) => access.canWrite(path) && !insideAppendOnly(path),
    onRemoved,
    itemContext: () => ({ role: me.role, template: template || null }),
    owners: owners || [],
    template: template || null,
    names: createNames(people),
    renderObjectBody,
  };

  // A part with a rule of its own below its section says who reads it.
  const sectionDepth = (path) => (layout.GROUPS.includes(path[0]) ? 2 : 1);
  const withReaders = (path, element) => {
    if (path.length <= sectionDepth(path) || !isRulePath(readers, path)) return element;
    const line = readersLine(readers, path, me, ctx.names);
    return line ? h('div', { class: 'ruled-part' }, element, line) : element;
  };

  function renderChild(path) {
    const value = valueAt(doc.data, path);
    if (Array.isArray(value)) return withReaders(path, renderListBlock(ctx, path, 'h3'));
    if (isObject(value)) return withReaders(path, node(path, () => renderFieldset(path)));
    return withReaders(path, node(path, () => renderField(ctx, path)));
  }

  function renderObjectBody(path) {
    const value = valueAt(doc.data, path);
    return Object.keys(value)
      .map((key) => [...path, key])
      .filter(visible)
      .map(renderChild);
  }

  function renderFieldset(path) {
    const body = renderObjectBody(path);
    if (!body.length) return { element: h('div', { hidden: true, dataset: { node: pathKey(path) } }) };
    return {
      element: h(
        'fieldset',
        { class: 'group', dataset: { node: pathKey(path) } },
        h('legend', {}, fieldLabel(path, audience), h('span', { class: 'presence-slot' })),
        body,
      ),
    };
  }

  function sectionHeader(path, headingId) {
    const writable = access.canWrite(path) || Array.isArray(valueAt(doc.data, path));
    const description = hint(path, audience);
    return [
      h(
        'header',
        { class: 'section-head' },
        h('h2', { id: headingId, tabindex: '-1' }, fieldLabel(path, audience)),
        !writable && audience !== 'client' ? h('span', { class: 'readonly-tag' }, t('field.readonly')) : null,
        h('span', { class: 'presence-slot' }),
      ),
      description ? h('p', { class: 'hint' }, description) : null,
      readersLine(readers, path, me, ctx.names),
    ];
  }

  const anchorOf = (path) => `section-${keyPath(path).replace(/\./g, '-')}`;

  function renderSection(path) {
    const headingId = uniqueId('section');
    const anchor = anchorOf(path);
    const value = valueAt(doc.data, path);
    const attrs = (extra) => ({ class: ['sheet-section', `section-${path[path.length - 1]}`], id: anchor, 'aria-labelledby': headingId, ...extra });
    if (Array.isArray(value)) {
      return h('section', attrs({}), sectionHeader(path, headingId), renderListBlock(ctx, path, null));
    }
    if (isObject(value)) {
      return node(path, () => {
        const body = renderObjectBody(path);
        return { element: h('section', attrs({ dataset: { node: pathKey(path) } }), sectionHeader(path, headingId), body) };
      });
    }
    return h('section', attrs({}), sectionHeader(path, headingId), node(path, () => renderField(ctx, path, t('field.value'))));
  }

  function sectionPaths() {
    const data = doc.data || {};
    const paths = [];
    for (const key of Object.keys(data)) {
      if (layout.GROUPS.includes(key) && isObject(data[key])) {
        for (const sub of Object.keys(data[key])) if (visible([key, sub])) paths.push([key, sub]);
      } else if (visible([key])) {
        paths.push([key]);
      }
    }
    return paths;
  }

  // Renders every section anew; the listeners put them on the page, then the focus and
  // selection go back where they were.
  function renderAll() {
    const focus = captureFocus(document.body);
    nodes.clear();
    sections = sectionPaths().map((path) => ({ path, anchor: anchorOf(path), label: fieldLabel(path, audience), element: renderSection(path) }));
    sections = sections.filter((s) => s.element.querySelector('[data-path], .list'));
    renderedListeners.forEach((fn) => fn({ structure: true }));
    restoreFocus(document.body, focus, {});
  }

  function captureFocus(container) {
    const active = document.activeElement;
    if (!active || !container.contains(active) || !active.dataset.path) return null;
    let selection = null;
    try {
      if (typeof active.selectionStart === 'number') selection = [active.selectionStart, active.selectionEnd, active.selectionDirection];
    } catch (e) {
      selection = null;
    }
    return { path: JSON.parse(active.dataset.path), action: active.dataset.action || null, selection };
  }

  function restoreFocus(container, focus, component) {
    if (!focus) return;
    const path = 'li' in component || 'ld' in component || 'lm' in component ? shiftPathThroughListOp(focus.path, component) : focus.path;
    if (!path) return;
    const candidates = container.querySelectorAll(`[data-path='${CSS.escape(pathKey(path))}']`);
    const target = [...candidates].find((el) => (el.dataset.action || null) === focus.action);
    if (!target) return;
    target.focus({ preventScroll: true });
    if (focus.selection && typeof target.selectionStart === 'number') {
      const length = target.value.length;
      target.setSelectionRange(Math.min(focus.selection[0], length), Math.min(focus.selection[1], length), focus.selection[2]);
    }
  }

  function rerenderFrom(path, component) {
    for (let n = path.length; n >= 0; n--) {
      const entry = nodes.get(pathKey(path.slice(0, n)));
      if (!entry || !entry.element.isConnected) continue;
      const focus = captureFocus(entry.element);
      for (const [key, other] of nodes) if (isPrefix(entry.path, other.path)) nodes.delete(key);
      const fresh = node(entry.path, entry.build);
      entry.element.replaceWith(fresh);
      restoreFocus(fresh, focus, component);
      renderedListeners.forEach((fn) => fn({ structure: false }));
      return;
    }
    renderAll();
  }

  // One op component, already applied to doc.data (sharedb emits remote ops one
  // component at a time). The page's own text edits are on screen already.
  function applyComponent(component, source) {
    const p = component.p;
    const isText = 'si' in component || 'sd' in component;
    if (isText && typeof source === 'string' && source.startsWith('text ')) return;
    if (p.length === 0) return renderAll();
    // A key that appears or goes: a part of a section (what the reader may read changed
    // with a consent, or someone added a part) renders the sheet anew; in a list item (a
    // field the server stamped) the item.
    const keyComesOrGoes = ('oi' in component) !== ('od' in component);
    if (keyComesOrGoes && !p.some((step) => typeof step === 'number')) return renderAll();
    const changed = isText || 'li' in component || 'ld' in component || 'lm' in component || keyComesOrGoes ? p.slice(0, -1) : p;
    const entry = nodes.get(pathKey(changed));
    if (isText && entry && entry.update && entry.update(component)) return;
    const isSection = changed.length === 1 || (changed.length === 2 && layout.GROUPS.includes(changed[0]));
    if (isSection && !entry) return renderAll();
    return rerenderFrom(changed, component);
  }

  // The element that shows path, or the closest part above it that is shown.
  function elementFor(path) {
    for (let n = path.length; n >= 0; n--) {
      const entry = nodes.get(pathKey(path.slice(0, n)));
      if (entry && entry.element.isConnected) return entry.element;
    }
    return null;
  }

  renderAll();
  return {
    sections: () => sections,
    renderAll,
    applyComponent,
    elementFor,
    shows: (path) => valueAt(doc.data, path) !== undefined,
    isAppend,
    onRendered: (fn) => renderedListeners.add(fn),
  };
}

module.exports = { createSheetForm };
