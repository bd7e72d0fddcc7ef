// How the replay names who made a change and when: "Anna Berg · Beratung (Schuldnerberatung)"
// and the time in the page's language.
// A client's name is marked as its own choice, or shown as the pseudonym it is (the hub
// names each author to the reader: protocol/http-api.md).
const { t } = require('../i18n');
const { personName } = require('../format');

function authorText(author) {
  const role = author.role ? t(`role.${author.role}`) : '';
  const specialty = author.specialty ? ` (${t(`specialty.${author.specialty}`)})` : '';
  const shown = personName(author.name) || author.id;
  const name = author.name_self_chosen && shown === author.name ? t('name.self_chosen', { name: shown }) : shown;
  return role && author.role !== 'server' ? `${name} · ${role}${specialty}` : name;
}

const timeText = (ts) => new Date(ts).toLocaleTimeString(document.documentElement.lang, { timeStyle: 'medium' });

const dateTimeText = (ts) => new Date(ts).toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' });

module.exports = { authorText, timeText, dateTimeText };
