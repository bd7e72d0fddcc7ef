// Retention on the case page and the dashboard (protocol/retention.md): the case's
// retention class and its legal basis (the lead chooses another while the case is open),
// when it will be deleted, legal holds (set and lifted with a reason), restriction under
// Art. 18 (set and lifted with a reason), erasure on request (asked for by the lead with a
// reason, confirmed by a second staff member); the client's copy and the print view of the
// sheet as a client sees it. On the dashboard: the lead's cases without activity for long
// (close or keep) and the deletions coming up. Everything shown is what the server says
// (GET /api/cases…), nothing computed here.
const { h, uniqueId } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');

function dateText(ms) {
  return new Date(ms).toLocaleDateString(language(), { dateStyle: 'long' });
}

// A small form: one reason (and maybe more fields) and a submit button; onSubmit gets the
// values and runs the change.
function reasonForm({ className, label, submit, extra, onSubmit }) {
  const id = uniqueId('reason');
  const reason = h('input', { id, required: true, maxlength: 500, autocomplete: 'off' });
  const form = h(
    'form',
    { class: ['inline-form', className] },
    h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, label), reason),
    extra ? extra.element : null,
    h('button', { type: 'submit', class: 'secondary' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(reason.value.trim(), extra ? extra.value() : undefined);
  });
  return form;
}

function untilField() {
  const id = uniqueId('until');
  const input = h('input', { id, type: 'date' });
  return {
    element: h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, t('retention.hold_until')), input),
    value: () => (input.value ? new Date(`${input.value}T23:59:59`).getTime() : undefined),
  };
}

function classControl(kase, act) {
  const r = kase.retention;
  const id = uniqueId('class');
  const select = h(
    'select',
    { id, class: 'retention-class' },
    r.classes.map((c) => h('option', { value: c.name, selected: c.name === r.class }, t('retention.class_option', { name: c.name, days: c.after_closure_days }))),
  );
  select.addEventListener('change', () => act(() => api.setRetentionClass(kase.id, select.value), t('retention.class_set')));
  return h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, t('retention.class')), select);
}

function retentionCard(kase, me, act) {
  const r = kase.retention;
  if (!r) return null;
  const lead = kase.lead === me.id;
  const privileged = lead || me.role === 'admin';
  const parts = [];
  parts.push(
    h(
      'p',
      { class: 'retention-when' },
      r.delete_at ? t('retention.delete_at', { when: dateText(r.delete_at) }) : t('retention.delete_after', { days: r.after_closure_days }),
    ),
    h('p', { class: 'hint retention-basis' }, t('retention.basis', { name: r.class, basis: r.basis })),
  );
  if (lead && kase.status === 'open') parts.push(classControl(kase, act));
  if (r.inactive && lead) {
    parts.push(
      h(
        'p',
        { class: 'retention-inactive', role: 'note' },
        t('retention.inactive', { since: dateText(r.last_activity) }),
        ' ',
        h('button', { type: 'button', class: 'secondary keep-case', onclick: () => act(() => api.keepCase(kase.id), t('retention.kept')) }, t('retention.keep')),
      ),
    );
  }
  // Legal holds.
  const holds = r.holds.map((hold) =>
    h(
      'li',
      { class: 'hold', dataset: { holdId: hold.id } },
      t('retention.hold_line', { since: dateText(hold.set_at), until: hold.until ? dateText(hold.until) : t('retention.until_lifted') }),
      hold.reason ? [' — ', hold.reason] : null,
      privileged
        ? reasonForm({
            className: 'lift-hold',
            label: t('retention.lift_reason'),
            submit: t('retention.lift'),
            onSubmit: (reason) => act(() => api.liftHold(kase.id, hold.id, reason), t('retention.lifted')),
          })
        : null,
    ),
  );
  parts.push(h('h3', {}, t('retention.holds')), holds.length ? h('ul', { class: 'holds' }, holds) : h('p', { class: 'muted' }, t('retention.no_holds')));
  if (privileged) {
    parts.push(
      reasonForm({
        className: 'set-hold',
        label: t('retention.hold_reason'),
        submit: t('retention.hold'),
        extra: untilField(),
        onSubmit: (reason, until) => act(() => api.setHold(kase.id, reason, until), t('retention.held')),
      }),
    );
  }
  // Restriction (Art. 18).
  parts.push(h('h3', {}, t('retention.restriction')));
  if (kase.status === 'restricted') {
    const x = kase.restriction || {};
    parts.push(h('p', { class: 'restriction-line' }, t('retention.restricted_since', { since: dateText(x.since) }), x.reason ? [' — ', x.reason] : null));
    if (privileged)
      parts.push(
        reasonForm({
          className: 'unrestrict',
          label: t('retention.unrestrict_reason'),
          submit: t('retention.unrestrict'),
          onSubmit: (reason) => act(() => api.unrestrict(kase.id, reason), t('retention.unrestricted')),
        }),
      );
  } else {
    parts.push(h('p', { class: 'hint' }, t('retention.restrict_hint')));
    if (privileged)
      parts.push(
        reasonForm({
          className: 'restrict',
          label: t('retention.restrict_reason'),
          submit: t('retention.restrict'),
          onSubmit: (reason) => act(() => api.restrict(kase.id, reason), t('retention.restricted')),
        }),
      );
  }
  // Erasure on request.
  parts.push(h('h3', {}, t('retention.erasure')));
  const pending = r.erasure_request;
  if (pending) {
    const asker = pending.requested_by === me.id;
    parts.push(
      h('p', { class: 'erasure-pending' }, t('retention.erasure_pending', { when: dateText(pending.requested_at) }), pending.reason ? [' — ', pending.reason] : null),
      h(
        'div',
        { class: 'button-row' },
        !asker && me.role !== 'supervisor'
          ? h('button', { type: 'button', class: 'danger confirm-erasure', onclick: () => act(() => api.confirmErasure(kase.id, pending.id), t('retention.erased')) }, t('retention.confirm_erasure'))
          : h('span', { class: 'hint' }, t('retention.second_person')),
        privileged || asker
          ? h('button', { type: 'button', class: 'secondary cancel-erasure', onclick: () => act(() => api.cancelErasure(kase.id, pending.id), t('retention.erasure_cancelled')) }, t('retention.cancel_erasure'))
          : null,
      ),
    );
  } else if (privileged) {
    parts.push(
      h('p', { class: 'hint' }, t('retention.erasure_hint')),
      reasonForm({
        className: 'request-erasure',
        label: t('retention.erasure_reason'),
        submit: t('retention.request_erasure'),
        onSubmit: (reason) => act(() => api.requestErasure(kase.id, reason), t('retention.erasure_requested')),
      }),
    );
  }
  // The client's copy and the print view.
  if (me.role === 'counsellor' && kase.status !== 'restricted') {
    parts.push(
      h('h3', {}, t('retention.client_data')),
      h(
        'ul',
        { class: 'client-copies' },
        (kase.clients || []).map((c) => h('li', {}, h('a', { href: `#/copy/${encodeURIComponent(kase.id)}/${encodeURIComponent(c.id)}`, class: 'client-copy-link' }, t('retention.copy_for', { name: c.name })))),
        h('li', {}, h('a', { href: `#/print/${encodeURIComponent(kase.id)}`, class: 'print-view-link' }, t('retention.print_view'))),
      ),
    );
  }
  return h('section', { class: 'card retention-card', 'aria-labelledby': 'retention-title' }, h('h2', { id: 'retention-title' }, t('retention.title')), ...parts);
}

// The dashboard's card for a lead: cases without activity for long, deletions ahead.
function attentionCard(cases, me) {
  const mine = cases.filter((c) => c.my_role === 'lead' && c.retention);
  const inactive = mine.filter((c) => c.retention.inactive);
  const soon = mine.filter((c) => c.retention.deletion_soon);
  if (!inactive.length && !soon.length) return null;
  const link = (c) => h('a', { href: `#/cases/${encodeURIComponent(c.id)}` }, c.title || c.id);
  return h(
    'section',
    { class: 'card attention', 'aria-labelledby': 'attention-title' },
    h('h2', { id: 'attention-title' }, t('retention.attention')),
    inactive.length
      ? [
          h('h3', {}, t('retention.inactive_cases')),
          h(
            'ul',
            { class: 'inactive-cases' },
            inactive.map((c) =>
              h(
                'li',
                { dataset: { caseId: c.id } },
                link(c),
                ' ',
                h('span', { class: 'muted' }, t('retention.last_activity', { when: dateText(c.retention.last_activity) })),
                ' ',
                h('button', { type: 'button', class: 'secondary keep-case', onclick: (e) => api.keepCase(c.id).then(() => e.target.closest('li').remove()) }, t('retention.keep')),
                ' ',
                h('a', { href: `#/cases/${encodeURIComponent(c.id)}`, class: 'button secondary' }, t('retention.to_close')),
              ),
            ),
          ),
        ]
      : null,
    soon.length
      ? [
          h('h3', {}, t('retention.deletions_ahead')),
          h('ul', { class: 'deletions-ahead' }, soon.map((c) => h('li', { dataset: { caseId: c.id } }, link(c), ' ', h('span', { class: 'muted' }, t('retention.delete_at', { when: dateText(c.retention.delete_at) }))))),
        ]
      : null,
  );
}

module.exports = { retentionCard, attentionCard };
