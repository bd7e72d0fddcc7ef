// How the page names a person that the sheet names by id (a stamped author, a consent's
// given_by and recorded_by, a task's creator): from the case's people as the hub names
// them to this reader (the resource's `people`: a client's self-chosen name marked as
// such, or the pseudonym for a supervisor). Older sheets hold names in those fields,
// which are shown as they are.
const { t } = require('../i18n');
const { personName } = require('../format');

const SERVER = 'konsil';

function createNames(people) {
  const byId = new Map((people || []).map((p) => [p.id, p]));
  // {text, selfChosen, pseudonym, role} of value (an id, "client", or an older name).
  function of(value) {
    const id = String(value);
    const person = byId.get(id);
    if (person) {
      const text = personName(person.name);
      return {
        text,
        // (the default name the hub gives a client who chose none is not its choice)
        selfChosen: Boolean(person.name_self_chosen) && text === person.name,
        pseudonym: Boolean(person.pseudonym),
        role: person.role,
      };
    }
    if (id === 'client') return { text: t('name.the_client'), selfChosen: false, pseudonym: false, role: 'client' };
    if (id === SERVER) return { text: 'Konsil', selfChosen: false, pseudonym: false, role: 'server' };
    return { text: personName(id), selfChosen: false, pseudonym: false, role: null };
  }
  // One line of text: the name, and "(self-chosen)" for a client's own choice.
  const text = (value) => {
    const n = of(value);
    return n.selfChosen ? t('name.self_chosen', { name: n.text }) : n.text;
  };
  return { of, text };
}

module.exports = { createNames };
