'use strict';
// The accounts the browser tests log in with, and a helper that creates them on a server
// and logs each one in.
const { login } = require('./rest');

const PEOPLE = {
  anna: { name: 'anna', password: 'anna-passwort-1', role: 'counsellor', specialty: 'debt', displayName: 'Anna Berg' },
  ben: { name: 'ben', password: 'ben-passwort-1', role: 'counsellor', specialty: 'housing', displayName: 'Ben Okafor' },
};

// Adds every account; resolves with {anna: cookie, ben: cookie}.
async function setUpPeople(server) {
  const cookies = {};
  for (const person of Object.values(PEOPLE)) {
    server.addUser(person);
    cookies[person.name] = await login(server, person.name, person.password);
  }
  return cookies;
}

module.exports = { PEOPLE, setUpPeople };
