// Dates, times, names and server refusals as the page shows them, in the current language
// and the browser's time zone. The hub stores times as ms since the epoch (or ISO text in
// older sheets) and dates as "YYYY-MM-DD": a date is a calendar day, shown as that day
// wherever the browser is. The hub names a client who gave no name "Klient:in" and shows
// clients to supervisors as "Klient:in A", "Klient:in B", …: these are shown in the page's
// language. A refusal's code (protocol/http-api.md, sharedb-wire.md) picks the catalogue's
// "error.<code>"; the server's English message is shown only for a code the catalogue
// does not know.
const { t, has, locale } = require('./i18n');

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const date = typeof value === 'number' ? new Date(value) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date;
}

function format(value, options) {
  const date = toDate(value);
  if (!date) return typeof value === 'string' ? value : '';
  const dateOnly = typeof value === 'string' && DATE_ONLY.test(value);
  return new Intl.DateTimeFormat(locale(), dateOnly ? { dateStyle: options.dateStyle || 'medium', timeZone: 'UTC' } : options).format(date);
}

const formatDateTime = (value, dateStyle = 'short', timeStyle = 'short') => format(value, { dateStyle, timeStyle });
const formatDate = (value, dateStyle = 'medium') => format(value, { dateStyle });
const formatTime = (value, timeStyle = 'short') => format(value, { timeStyle });

const CLIENT = 'Klient:in';
const PSEUDONYM = /^Klient:in ([A-Z]{1,3})$/;

function personName(name) {
  if (name === CLIENT) return t('name.client');
  const pseudonym = PSEUDONYM.exec(name || '');
  if (pseudonym) return t('name.client_pseudonym', { letter: pseudonym[1] });
  return name;
}

// err: an ApiError ({status, code, message}) or a ShareDB error ({code, message}).
function errorText(err) {
  const code = err && err.code;
  if (code && has(`error.${code}`)) return t(`error.${code}`);
  if (err && err.status === 0) return t('error.network');
  return t('error.generic', { message: (err && (err.message || code)) || '' });
}

module.exports = { formatDateTime, formatDate, formatTime, personName, errorText, toDate, DATE_ONLY };
