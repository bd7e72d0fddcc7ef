// The replay of a case for supervisors and the lead: the whole history is loaded once,
// then any version can be shown — scrubbed on the range or the timeline, stepped, or
// played at a chosen speed — with the case sheet as of that version (the room's form,
// read-only), the change that made it highlighted and attributed, and the list of who
// changed what. Space plays and pauses, the arrow keys step.
const defaultTemplate = require('../../../protocol/templates/default.json');
const { h, clear, uniqueId } = require('../dom');
const { t, has } = require('../i18n');
const { api } = require('../api');
const { createAccess } = require('../sheet/access');
const { createSheetForm } = require('../sheet/form');
const { GROUPS } = require('../sheet/layout');
const { loadHistory } = require('../replay/history');
const { changedPaths, pathLabel } = require('../replay/changes');
const { createTimeline, colourClass } = require('../replay/timeline');
const { createChangeList } = require('../replay/change-list');
const { createPlayer } = require('../replay/player');
const { authorText, dateTimeText } = require('../replay/attribution');
const { supervisionConsent } = require('../sheet/readers');

const SPEEDS = [1, 4, 16];
// Up to this many ops away from the version on screen, the parts of the sheet they
// touched are rendered anew (stepping, playing); further away, the sections that differ.
const INCREMENTAL_OPS = 50;
// Keys that act on the view unless a text field or a list of options has the focus
// (there they move the caret or the choice); on a button, space presses it.
const CONTROL_KEYS = [' ', 'ArrowLeft', 'ArrowRight'];

// Scrolls box (never the page) so that el, inside it, is in the box's upper half, which
// is on screen even when the box reaches below the window.
function revealWithin(box, el) {
  if (!el || !el.isConnected) return;
  const outer = box.getBoundingClientRect();
  const inner = el.getBoundingClientRect();
  if (inner.top >= outer.top && inner.bottom <= outer.top + outer.height / 2) return;
  box.scrollTop += inner.top - outer.top - Math.max(0, Math.min(outer.height / 4, outer.height / 2 - inner.height));
}

// The sections (as paths, a group's members one by one) whose content differs between
// two versions of the sheet; null when the sheet's shape differs.
function differingSections(before, after) {
  const keys = Object.keys(after);
  if (keys.join() !== Object.keys(before).join()) return null;
  const paths = [];
  for (const key of keys) {
    const group = GROUPS.includes(key) && after[key] && typeof after[key] === 'object' && !Array.isArray(after[key]);
    if (!group) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) paths.push([key]);
      continue;
    }
    const inner = differingSections(before[key] || {}, after[key]);
    if (!inner) return null;
    paths.push(...inner.map((path) => [key, ...path]));
  }
  return paths;
}

function replayView({ caseId, me }) {
  const heading = h('h1', {}, t('replay.title'));
  const status = h('p', { class: 'muted replay-status', role: 'status' }, t('replay.loading', { n: 0 }));
  const rangeId = uniqueId('version');
  const speedId = uniqueId('speed');
  const eventId = uniqueId('event');
  const range = h('input', { id: rangeId, type: 'range', class: 'replay-range', min: 0, max: 0, step: 1, value: 0, disabled: true });
  const versionText = h('output', { class: 'replay-version', for: rangeId, 'aria-live': 'off' });
  const playButton = h('button', { type: 'button', class: 'primary replay-play', disabled: true });
  const backButton = h('button', { type: 'button', class: 'secondary replay-back', disabled: true }, t('replay.step_back'));
  const forwardButton = h('button', { type: 'button', class: 'secondary replay-forward', disabled: true }, t('replay.step_forward'));
  const speed = h('select', { id: speedId, class: 'replay-speed' }, SPEEDS.map((s) => h('option', { value: s }, t('replay.speed_value', { n: s }))));
  const attribution = h('p', { class: 'replay-attribution' });
  const legend = h('ul', { class: 'replay-legend' });
  const eventJump = h('select', { id: eventId, class: 'replay-event-jump' });
  const eventField = h('div', { class: 'field replay-events', hidden: true }, h('label', { for: eventId, class: 'field-label' }, t('replay.jump_event')), eventJump);
  const sheet = h('div', { class: 'replay-sheet-body' });
  // What a supervisor reads of free text, said plainly (protocol/access.md).
  const notice = h('p', { class: 'replay-notice', role: 'note', hidden: true });
  const timeline = createTimeline({ onSeek: (v) => show(v) });
  const changeList = createChangeList({ onSelect: (v) => show(v) });
  const element = h(
    'div',
    { class: 'replay', dataset: { state: 'loading' } },
    h('div', { class: 'replay-head' }, h('a', { href: '#/', class: 'replay-backlink' }, t('session.back')), heading),
    status,
    notice,
    h(
      'section',
      { class: 'card replay-controls', 'aria-label': t('replay.controls') },
      h('div', { class: 'replay-buttons' }, backButton, playButton, forwardButton, h('label', { for: speedId, class: 'field-label' }, t('replay.speed')), speed, versionText),
      h('div', { class: 'replay-track' }, h('label', { for: rangeId, class: 'visually-hidden' }, t('replay.version_label')), range, timeline.element),
      legend,
      eventField,
      h('p', { class: 'muted small' }, t('replay.keys')),
    ),
    attribution,
    h(
      'div',
      { class: 'replay-grid' },
      h('section', { class: 'card replay-sheet', 'aria-labelledby': 'replay-sheet-title' }, h('h2', { id: 'replay-sheet-title' }, t('replay.sheet')), sheet),
      changeList.element,
    ),
  );

  let history = null;
  let current = 0;
  let rendered = null;
  let pending = null;
  let frame = null;
  const doc = { data: null };
  // The sheet as a read-only form, with the case's people (stamped ids shown as names) and
  // who reads each part, once the case resource is there.
  function makeForm(kase) {
    const made = createSheetForm({
      doc,
      access: createAccess((kase && kase.rules) || defaultTemplate.rules, { role: 'supervisor' }),
      audience: 'team',
      me,
      onRejected: () => {},
      template: kase && kase.template,
      people: kase && kase.people,
      readers: kase && kase.readers,
    });
    made.onRendered(({ structure }) => structure && clear(sheet).append(...made.sections().map((s) => s.element)));
    return made;
  }
  let form = makeForm(null);

  function showNotice(kase) {
    if (me.role !== 'supervisor') return;
    const consent = supervisionConsent(kase && kase.readers, me.id);
    notice.hidden = false;
    notice.textContent = t(consent ? 'replay.notice.names_replaced' : 'replay.notice.hidden');
    notice.dataset.consent = consent ? 'given' : 'not_given';
  }

  const player = createPlayer({
    current: () => (pending === null ? current : pending),
    latest: () => history.versions.latest(),
    show: (v) => show(v),
    onState: labelPlay,
  });

  function labelPlay(playing) {
    playButton.textContent = playing ? t('replay.pause') : t('replay.play');
    playButton.dataset.playing = playing ? 'true' : 'false';
  }

  // Moves to version v; the page shows it on the next animation frame, so scrubbing
  // faster than the screen draws only computes the versions it shows.
  function show(v) {
    if (!history) return;
    pending = Math.max(history.versions.first(), Math.min(history.versions.latest(), Math.round(v)));
    range.value = String(pending);
    if (frame === null) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = null;
    if (pending === null) return;
    current = pending;
    pending = null;
    const { versions } = history;
    const before = doc.data;
    doc.data = versions.at(current);
    element.dataset.version = String(current);
    versionText.textContent = t('replay.version_of', { v: current, latest: versions.latest() });
    const pageScroll = { x: window.scrollX, y: window.scrollY };
    renderSheet(rendered, current, before);
    rendered = current;
    // The room's chat scrolls its newest message into view; here the page stays put.
    requestAnimationFrame(() => window.scrollTo(pageScroll.x, pageScroll.y));
    markLatestChange(versions.entryBefore(current));
    timeline.setCurrent(current);
    changeList.setVersion(current);
    requestAnimationFrame(() => revealWithin(changeList.list, changeList.list.querySelector('.is-current')));
    backButton.disabled = current <= versions.first();
    forwardButton.disabled = current >= versions.latest();
  }

  // The changes that lead from the sheet on screen (version from, data before) to
  // doc.data, as components naming what to render anew (the form reads the values from
  // doc.data): the ops between them when they are few, else a replacement of each
  // section that differs; null when the whole sheet must be rendered.
  function changesBetween(from, to, before) {
    if (from === null || before === null || !sheet.querySelector('.sheet-section')) return null;
    if (Math.abs(to - from) > INCREMENTAL_OPS) {
      const sections = differingSections(before, doc.data);
      return sections && sections.map((path) => ({ p: path, oi: null }));
    }
    const between = [];
    for (let v = Math.min(from, to) + 1; v <= Math.max(from, to); v++) between.push(history.versions.entryBefore(v));
    if (between.some((entry) => !entry.op)) return null;
    return (to > from ? between : between.reverse()).flatMap((entry) => entry.op);
  }

  // Shows doc.data (version to) where version from (data before) was shown.
  function renderSheet(from, to, before) {
    if (doc.data === null) {
      clear(sheet).append(h('p', { class: 'muted' }, t('replay.empty')));
      return;
    }
    const components = changesBetween(from, to, before);
    if (!components) {
      form.renderAll();
      return;
    }
    for (const marked of sheet.querySelectorAll('.is-latest-change')) marked.classList.remove('is-latest-change');
    for (const badge of sheet.querySelectorAll('.change-badge')) badge.remove();
    components.forEach((component) => form.applyComponent(component));
  }

  // Highlights the fields the op that made this version changed and says who and when.
  function markLatestChange(entry) {
    if (!entry) {
      attribution.replaceChildren(t('replay.no_change_yet'));
      return;
    }
    const lane = history.authors().findIndex((a) => entry.author && a.id === entry.author.id);
    const who = entry.author ? authorText(entry.author) : t('presence.unknown');
    const paths = changedPaths(entry);
    attribution.replaceChildren(
      h('span', { class: ['replay-swatch', colourClass(Math.max(0, lane))] }),
      t('replay.latest_change', { who, when: dateTimeText(entry.ts), what: paths.length ? paths.map(pathLabel).join('; ') : t('replay.nothing_visible') }),
    );
    let first = null;
    for (const path of paths) {
      const shown = path.length ? form.elementFor(path) : null;
      if (!shown) continue;
      shown.classList.add('is-latest-change');
      const slot = shown.querySelector('.presence-slot') || shown;
      slot.append(h('span', { class: ['change-badge', colourClass(Math.max(0, lane))] }, entry.author ? entry.author.name : t('presence.unknown')));
      first = first || shown;
    }
    requestAnimationFrame(() => {
      revealWithin(sheet, first);
      (entry.op || []).forEach(scrollToTextEdit);
    });
  }

  // A long text shows the place of a text edit, not only its beginning.
  function scrollToTextEdit(component) {
    if (!('si' in component || 'sd' in component)) return;
    const field = sheet.querySelector(`textarea[data-path='${CSS.escape(JSON.stringify(component.p.slice(0, -1)))}']`);
    if (!field || !field.value.length) return;
    const share = component.p[component.p.length - 1] / field.value.length;
    field.scrollTop = Math.max(0, share * field.scrollHeight - field.clientHeight / 2);
  }

  function step(delta) {
    player.pause();
    show((pending === null ? current : pending) + delta);
  }

  function drawLegend() {
    const lanes = history.authors().map((a, i) => h('li', {}, h('span', { class: ['replay-swatch', colourClass(i)] }), authorText(a)));
    const events = history.events().length ? [h('li', {}, h('span', { class: 'replay-swatch event-swatch' }), t('replay.events'))] : [];
    legend.replaceChildren(...lanes, ...events);
  }

  function drawTimeline() {
    const { versions } = history;
    const events = history.events().map((e) => ({ ...e, label: eventLabel(e) }));
    timeline.draw({ first: versions.first(), latest: versions.latest(), authors: history.authors(), entries: versions.entries(), events });
    timeline.setCurrent(current);
    eventField.hidden = !events.length;
    eventJump.replaceChildren(
      h('option', { value: '' }, t('replay.choose_event')),
      ...events.map((e) => h('option', { value: e.v }, `${t('replay.version_short', { v: e.v })} · ${e.label}`)),
    );
  }

  const eventLabel = (e) => {
    const key = `replay.event.${e.type}`;
    const name = has(key) ? t(key) : e.type;
    return [name, e.who, e.ts ? dateTimeText(e.ts) : ''].filter(Boolean).join(' · ');
  };

  playButton.addEventListener('click', () => {
    if (player.playing()) return player.pause();
    if (current >= history.versions.latest()) show(history.versions.first());
    player.play();
  });
  backButton.addEventListener('click', () => step(-1));
  forwardButton.addEventListener('click', () => step(1));
  eventJump.addEventListener('change', () => {
    if (eventJump.value === '') return;
    player.pause();
    show(Number(eventJump.value));
  });
  speed.addEventListener('change', () => player.setSpeed(Number(speed.value)));
  range.addEventListener('input', () => {
    player.pause();
    show(Number(range.value));
  });
  element.addEventListener('keydown', (event) => {
    if (!history || !CONTROL_KEYS.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const textual = target.matches('textarea, select, input:not([type="range"]):not([type="checkbox"])');
    if (textual || (event.key === ' ' && target.matches('button'))) return;
    if (target === range && event.key !== ' ') return;
    event.preventDefault();
    if (event.key === ' ') playButton.click();
    else step(event.key === 'ArrowLeft' ? -1 : 1);
  });

  function redraw() {
    labelPlay(player.playing());
    if (!history) return;
    rendered = null;
    drawLegend();
    drawTimeline();
    changeList.setData(history.changes.all(), history.authors());
    show(current);
  }

  api
    .case(caseId)
    .then((kase) => {
      heading.textContent = t('replay.title_of', { title: kase.title || t('case.untitled') });
      showNotice(kase);
      form = makeForm(kase);
      if (history) {
        rendered = null;
        show(current);
      }
    })
    // Without the case's title the heading stays "Verlauf"; the history's answer says why.
    .catch(() => {});
  loadHistory(caseId, ({ loaded }) => {
    status.textContent = t('replay.loading', { n: loaded });
  })
    .then((loaded) => {
      history = loaded;
      const { versions } = history;
      range.min = String(versions.first());
      range.max = String(versions.latest());
      for (const control of [range, playButton]) control.disabled = false;
      status.textContent = t('replay.loaded', { n: versions.latest(), changes: history.changes.all().length });
      element.dataset.state = 'ready';
      current = versions.latest();
      redraw();
    })
    .catch((e) => {
      element.dataset.state = 'failed';
      status.setAttribute('role', 'alert');
      status.textContent = e.status === 404 ? t('replay.not_found') : t('error.generic', { message: e.message });
    });
  labelPlay(false);

  return {
    element,
    destroy() {
      player.pause();
      if (frame !== null) cancelAnimationFrame(frame);
    },
  };
}

module.exports = { replayView };
