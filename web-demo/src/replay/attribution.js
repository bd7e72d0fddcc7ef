// How the replay names who made a change and when: "Anna Berg · Beratung (Schuldnerberatung)"
// and the time in the page's language.
const { t } = require('../i18n');

function authorText(author) {
  const role = author.role ? t(`role.${author.role}`) : '';
  const specialty = author.specialty ? ` (${t(`specialty.${author.specialty}`)})` : '';
  return role ? `${author.name} · ${role}${specialty}` : author.name;
}

const timeText = (ts) => new Date(ts).toLocaleTimeString(document.documentElement.lang, { timeStyle: 'medium' });

const dateTimeText = (ts) => new Date(ts).toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' });

module.exports = { authorText, timeText, dateTimeText };
