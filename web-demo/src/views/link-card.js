// A client link as the counsellor hands it on: the full URL to copy, a QR code to scan
// from a phone, when it expires, and a button that revokes it.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { qrImage } = require('./qr');

// expires_at: milliseconds since the epoch (or an ISO date).
function formatExpiry(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' });
}

function linkCard(link, { onRevoke }) {
  const url = new URL(link.url, location.origin).href;
  const urlId = uniqueId('url');
  const urlField = h('input', { id: urlId, type: 'text', readonly: true, value: url, class: 'link-url' });
  const status = h('p', { class: 'link-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'secondary' }, t('links.copy'));
  copy.addEventListener('click', async () => {
    urlField.select();
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = t('links.copied');
    } catch (e) {
      status.textContent = t('links.copy_by_hand');
    }
  });
  const revoke = h('button', { type: 'button', class: 'danger' }, t('links.revoke'));
  const card = h(
    'li',
    { class: 'link-card', dataset: { linkId: link.id } },
    qrImage(url, t('links.qr_label')),
    h(
      'div',
      { class: 'link-body' },
      h('label', { for: urlId, class: 'field-label' }, t('links.url')),
      h('div', { class: 'copy-row' }, urlField, copy),
      link.expires_at ? h('p', { class: 'muted' }, t('links.expires', { when: formatExpiry(link.expires_at) })) : null,
      h('p', { class: 'muted' }, t(link.lobby ? 'links.with_lobby' : 'links.without_lobby')),
      status,
      revoke,
    ),
  );
  revoke.addEventListener('click', async () => {
    revoke.disabled = true;
    try {
      await onRevoke(link);
      card.classList.add('is-revoked');
      status.textContent = t('links.revoked');
      urlField.disabled = true;
      copy.disabled = true;
      revoke.remove();
    } catch (e) {
      revoke.disabled = false;
      status.textContent = t('error.generic', { message: e.message });
    }
  });
  return card;
}

module.exports = { linkCard };
