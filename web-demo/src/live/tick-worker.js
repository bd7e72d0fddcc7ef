// A clock for the heartbeat (live/heartbeat.js), in a dedicated worker: browsers throttle
// the timers of a page in a background tab to one a minute after a while, but not a
// worker's, and the messages it posts reach the page at once. Posts "tick" every second.
setInterval(() => postMessage('tick'), 1000);
