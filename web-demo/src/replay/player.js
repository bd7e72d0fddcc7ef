// Playback: moves through the versions at a steady rate (VERSIONS_PER_SECOND times the
// chosen speed) on animation frames, so a fast speed skips versions instead of falling
// behind; stops at the end.
const VERSIONS_PER_SECOND = 4;

// current() / latest() read the view's position; show(v) moves it; onState(playing).
function createPlayer({ current, latest, show, onState }) {
  let speed = 1;
  let frame = null;
  let lastTime = 0;
  let carried = 0;

  function tick(time) {
    carried += ((time - lastTime) / 1000) * VERSIONS_PER_SECOND * speed;
    lastTime = time;
    const steps = Math.floor(carried);
    if (steps > 0) {
      carried -= steps;
      const next = Math.min(latest(), current() + steps);
      show(next);
      if (next >= latest()) return pause();
    }
    frame = requestAnimationFrame(tick);
  }

  function play() {
    if (frame !== null) return;
    carried = 1;
    lastTime = performance.now();
    frame = requestAnimationFrame(tick);
    onState(true);
  }

  function pause() {
    if (frame === null) return;
    cancelAnimationFrame(frame);
    frame = null;
    onState(false);
  }

  return {
    play,
    pause,
    playing: () => frame !== null,
    setSpeed: (factor) => {
      speed = factor;
    },
  };
}

module.exports = { createPlayer };
