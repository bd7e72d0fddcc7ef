// Whether the hub can hear this page and this page the hub, known within seconds: while
// the stock client is connected it sends ShareDB's ping (connection.ping(), `pp`) every
// PING_MS and the hub answers `pp` at once. The link counts as alive while an answer (or
// any other message) came since the last ping, or the ping is younger than PONG_WAIT_MS.
// A link silent for RECONNECT_MS is given up and a new connection made (the hub hangs up
// on it by then too: --heartbeat-secs, protocol/sharedb-wire.md "Heartbeat").
//
// A browser's network can be down without the socket noticing (a phone between cells, a
// laptop's "offline" switch, a server stopped): the socket stays "open" and sends into the
// void, so only an unanswered ping tells. The clock is a dedicated worker's
// (tick-worker.js): a background tab's own timers are slowed to one a minute.
/* global KONSIL_ASSETS */
const PING_MS = 2500;
const PONG_WAIT_MS = 3500;
const RECONNECT_MS = 15000;

function startClock(onTick) {
  try {
    const worker = new Worker(KONSIL_ASSETS.tick);
    worker.onmessage = onTick;
    return () => worker.terminate();
  } catch (e) {
    const timer = setInterval(onTick, 1000);
    return () => clearInterval(timer);
  }
}

// live: {connection, socket}; onChange() when alive() changes.
function startHeartbeat(live, onChange) {
  const { connection, socket } = live;
  let heard = Date.now();
  let pingedAt = null;
  let lastPing = 0;
  let alive = false;

  function judge(now) {
    const was = alive;
    alive = connection.state === 'connected' && (pingedAt === null || now - pingedAt <= PONG_WAIT_MS);
    if (alive !== was) onChange();
  }

  function ping(now) {
    try {
      connection.ping();
      lastPing = now;
      if (pingedAt === null) pingedAt = now;
    } catch (e) {
      // Not connected: the state change says so.
    }
  }

  function tick() {
    const now = Date.now();
    if (connection.state !== 'connected') {
      pingedAt = null;
      return judge(now);
    }
    if (now - lastPing >= PING_MS) ping(now);
    if (now - heard > RECONNECT_MS) {
      heard = now;
      pingedAt = null;
      socket.reconnect();
    }
    judge(now);
  }

  const onReceive = () => {
    heard = Date.now();
    pingedAt = null;
    judge(heard);
  };
  const onState = (state) => {
    heard = Date.now();
    pingedAt = null;
    if (state === 'connected') ping(heard);
    judge(heard);
  };
  // The browser says the network is back (or gone): ask at once.
  const onOnline = () => connection.state === 'connected' && ping(Date.now());
  const onOffline = () => {
    if (pingedAt === null) pingedAt = Date.now() - PONG_WAIT_MS - 1;
    judge(Date.now());
  };
  connection.on('receive', onReceive);
  connection.on('state', onState);
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  const stopClock = startClock(tick);
  judge(Date.now());

  return {
    alive: () => alive,
    stop() {
      stopClock();
      connection.removeListener('receive', onReceive);
      connection.removeListener('state', onState);
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
    },
  };
}

module.exports = { startHeartbeat, PING_MS, PONG_WAIT_MS };
