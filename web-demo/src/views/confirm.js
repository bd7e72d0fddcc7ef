// A button that asks before it acts: the first press shows the question with a
// confirming button and a cancel button in its place; only the confirming one acts.
const { h } = require('../dom');
const { t } = require('../i18n');

function confirmingButton({ label, question, confirm, className, onConfirm }) {
  const holder = h('span', { class: 'confirming' });
  const first = h('button', { type: 'button', class: className || 'secondary' }, label);
  const ask = () => {
    const yes = h('button', { type: 'button', class: 'danger confirm-yes' }, confirm);
    const no = h('button', { type: 'button', class: 'secondary confirm-no' }, t('case.cancel'));
    no.addEventListener('click', () => {
      holder.replaceChildren(first);
      first.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      await onConfirm();
    });
    holder.replaceChildren(h('span', { class: 'confirm-question', role: 'alert' }, question), ' ', yes, ' ', no);
    no.focus();
  };
  first.addEventListener('click', ask);
  holder.append(first);
  return holder;
}

module.exports = { confirmingButton };
