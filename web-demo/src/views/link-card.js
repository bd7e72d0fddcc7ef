// One join link of a session as its counsellors see it on the session page: what someone
// opening it meets now (active, used up, expired, revoked, meeting ended), when it was
// made and by whom, until when it is valid, how often it was used of how often it may be,
// whether it leads through the lobby, the language the client's page opens in, and the
// clients who came through it (each removable from the meeting). The address — to copy or
// scan as QR code — only where this tab made the link (link-memory.js): the hub keeps no
// token; elsewhere an active link can be replaced by a new one with the same settings.
const { h, uniqueId } = require('../dom');
const { t, tn, languages } = require('../i18n');
const { formatDateTime, personName } = require('../format');
const { qrImage } = require('./qr');

// The name of a link's language, or "the browser's language" for none.
function languageName(code) {
  if (!code) return t('links.lang_auto');
  const known = languages().find((l) => l.code === code);
  return known ? known.name : code;
}

function usesText(link) {
  if (link.max_uses === null || link.max_uses === undefined) return tn('links.uses_unlimited', link.uses);
  return t('links.uses_of', { uses: link.uses, max: link.max_uses });
}

const STILL_IN = ['waiting', 'admitted'];

// link: one entry of GET /api/sessions/{id}/links; url: its address when this tab knows
// it. actions: {onRevoke(link), onReplace(link), onRemoveClient(client)}, each resolving
// once done (the page then lists the links anew).
function linkCard(link, url, { onRevoke, onReplace, onRemoveClient }) {
  const status = h('p', { class: 'link-status', role: 'status' });
  const parts = [];
  const active = link.status === 'active';
  if (url && active) {
    const absolute = new URL(url, location.origin).href;
    const urlId = uniqueId('url');
    const urlField = h('input', { id: urlId, type: 'text', readonly: true, value: absolute, class: 'link-url' });
    const copy = h('button', { type: 'button', class: 'secondary copy-link' }, t('links.copy'));
    copy.addEventListener('click', async () => {
      urlField.select();
      try {
        await navigator.clipboard.writeText(absolute);
        status.textContent = t('links.copied');
      } catch (e) {
        status.textContent = t('links.copy_by_hand');
      }
    });
    parts.push(qrImage(absolute, t('links.qr_label')), h('div', { class: 'link-body' }, h('label', { for: urlId, class: 'field-label' }, t('links.url')), h('div', { class: 'copy-row' }, urlField, copy)));
  }
  const facts = [
    t('links.created', { when: formatDateTime(link.created_at), name: link.created_by_name || '' }),
    t('links.expires', { when: formatDateTime(link.expires_at) }),
    usesText(link),
    t(link.lobby ? 'links.with_lobby' : 'links.without_lobby'),
    t('links.lang_is', { language: languageName(link.lang) }),
  ];
  const clients = (link.joined || []).map((client) => {
    const remove = STILL_IN.includes(client.status)
      ? h('button', { type: 'button', class: 'link-button remove-client' }, t('people.remove_client'), h('span', { class: 'visually-hidden' }, `: ${personName(client.name)}`))
      : null;
    if (remove) remove.addEventListener('click', () => onRemoveClient(client));
    return h(
      'li',
      { class: 'link-client', dataset: { clientId: client.id, status: client.status } },
      h('span', { class: 'person-name' }, personName(client.name)),
      ' ',
      h('span', { class: 'muted' }, t(`client.status.${client.status}`)),
      remove ? [' ', remove] : null,
    );
  });
  const actions = [];
  if (!url && active) {
    const replace = h('button', { type: 'button', class: 'secondary replace-link' }, t('links.replace'));
    replace.addEventListener('click', () => onReplace(link));
    actions.push(h('p', { class: 'hint' }, t('links.not_here')), replace);
  }
  if (link.status !== 'revoked' && link.status !== 'ended') {
    const revoke = h('button', { type: 'button', class: 'danger revoke-link' }, t('links.revoke'));
    revoke.addEventListener('click', () => onRevoke(link));
    actions.push(revoke);
  }
  return h(
    'li',
    { class: ['link-card', !active && 'is-inactive', link.status === 'revoked' && 'is-revoked'], dataset: { linkId: link.id, status: link.status } },
    parts,
    h(
      'div',
      { class: 'link-facts' },
      h('p', {}, h('span', { class: ['badge', `link-${link.status}`] }, t(`links.status.${link.status}`))),
      h('ul', { class: 'link-fact-list' }, facts.map((fact) => h('li', {}, fact))),
      clients.length ? [h('h3', { class: 'link-clients-title' }, t('links.clients')), h('ul', { class: 'link-clients' }, clients)] : null,
      actions.length ? h('div', { class: 'button-row link-actions' }, actions) : null,
      status,
    ),
  );
}

module.exports = { linkCard, languageName };
