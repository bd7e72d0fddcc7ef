// Asking before an action that others feel (ending a meeting, closing a case, removing
// someone, revoking a link): a modal <dialog> that says what will happen to whom, with
// the action and "cancel", and at most one option to tick (e.g. "also end the meeting for
// those who came through this link"). Escape cancels. The focus starts on "cancel" and
// goes back to where it was. Resolves with {ok, checked}.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');

// lines: paragraphs in order, each a text or a list of texts (a bulleted list, e.g. the
// people it concerns, right after the line that introduces them); empty ones are left out.
function confirmDialog({ title, lines = [], confirm, danger = true, option = null }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uniqueId('dialog-title');
    const bodyId = uniqueId('dialog-body');
    const optionId = uniqueId('dialog-option');
    const check = option ? h('input', { type: 'checkbox', id: optionId, checked: Boolean(option.checked) }) : null;
    const yes = h('button', { type: 'button', class: [danger ? 'danger' : 'primary', 'confirm-yes'] }, confirm);
    const no = h('button', { type: 'button', class: 'secondary confirm-no' }, t('case.cancel'));
    const dialog = h(
      'dialog',
      { class: 'confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
      h('h2', { id: titleId }, title),
      h(
        'div',
        { id: bodyId, class: 'confirm-body' },
        lines
          .filter((line) => (Array.isArray(line) ? line.length : line))
          .map((line) => (Array.isArray(line) ? h('ul', {}, line.map((item) => h('li', {}, item))) : h('p', {}, line))),
      ),
      option ? h('div', { class: 'field field-check confirm-option' }, check, h('label', { for: optionId, class: 'field-label' }, option.label)) : null,
      h('div', { class: 'button-row' }, yes, no),
    );
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve({ ok, checked: check ? check.checked : false });
    };
    yes.addEventListener('click', () => finish(true));
    no.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

module.exports = { confirmDialog };
