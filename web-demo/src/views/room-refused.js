// Edits that did not reach the case sheet — refused by the hub (rights changed while the
// person was offline, the session ended) or kept on the device but no longer
// restorable — are never dropped silently: this panel lists what each one said, field by
// field, until the person has copied or dismissed them.
const { h } = require('../dom');
const { t } = require('../i18n');
const { fieldLabel } = require('../sheet/labels');

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

// The words of one op worth keeping: what it inserted or set, per field.
function describe(op, audience) {
  const lines = [];
  for (const c of Array.isArray(op) ? op : []) {
    const path = Array.isArray(c.p) ? c.p : [];
    const at = typeof path[path.length - 1] === 'number' && ('si' in c || 'sd' in c) ? path.slice(0, -1) : path;
    const field = fieldLabel(at.filter((step) => typeof step === 'string').length ? at : ['?'], audience);
    const last = lines[lines.length - 1];
    if (typeof c.si === 'string' && last && last.field === field && last.insert) last.text += c.si;
    else if (typeof c.si === 'string' && c.si.trim()) lines.push({ field, text: c.si, insert: true });
    else if ('oi' in c && c.oi !== null && c.oi !== '') lines.push({ field, text: show(c.oi) });
    else if ('li' in c) lines.push({ field, text: show(c.li) });
    else if (typeof c.sd === 'string') lines.push({ field, text: t('refused.removed', { text: c.sd }) });
  }
  return lines;
}

function refusedPanel(audience) {
  const list = h('ul', { class: 'refused-list' });
  const copyButton = h('button', { type: 'button', class: 'secondary' }, t('refused.copy'));
  const dismiss = h('button', { type: 'button', class: 'link-button' }, t('refused.dismiss'));
  const note = h('p', { class: 'refused-note', role: 'status' });
  const element = h(
    'section',
    { class: 'refused card-flat', role: 'alert', hidden: true, 'aria-labelledby': 'refused-title' },
    h('h2', { id: 'refused-title' }, t('refused.title')),
    h('p', {}, t('refused.intro')),
    list,
    h('div', { class: 'refused-actions' }, copyButton, dismiss),
    note,
  );
  const lines = [];

  copyButton.addEventListener('click', async () => {
    const text = lines.map((l) => `${l.field}: ${l.text}`).join('\n');
    try {
      await navigator.clipboard.writeText(text);
      note.textContent = t('links.copied');
    } catch (e) {
      note.textContent = t('links.copy_by_hand');
    }
  });
  dismiss.addEventListener('click', () => {
    lines.length = 0;
    list.replaceChildren();
    element.hidden = true;
  });

  return {
    element,
    // ops: [{op}] (json0 component lists).
    add(ops) {
      const fresh = ops.flatMap((o) => describe(o.op, audience));
      if (!fresh.length) return;
      // Typing refused op by op continues one line per field.
      for (const line of fresh) {
        const last = lines[lines.length - 1];
        if (last && last.insert && line.insert && last.field === line.field) last.text += line.text;
        else lines.push(line);
      }
      list.replaceChildren(...lines.map((l) => h('li', {}, h('span', { class: 'refused-field' }, l.field), ' ', h('q', { class: 'refused-text' }, l.text))));
      element.hidden = false;
    },
    count: () => lines.length,
  };
}

module.exports = { refusedPanel };
