// A QR code as an inline SVG (the npm qrcode package): a client's join link, an
// authenticator app's otpauth:// URI. No image is fetched and nothing inline is styled,
// so it works under the hub's Content-Security-Policy.
const QRCode = require('qrcode');
const { h } = require('../dom');
const { t } = require('../i18n');

function qrImage(text, label) {
  const holder = h('div', { class: 'qr', role: 'img', 'aria-label': label });
  QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } })
    .then((svg) => {
      const parsed = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
      parsed.setAttribute('aria-hidden', 'true');
      parsed.setAttribute('focusable', 'false');
      holder.append(document.importNode(parsed, true));
    })
    .catch(() => holder.append(t('links.qr_failed')));
  return holder;
}

module.exports = { qrImage };
