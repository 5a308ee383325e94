'use strict';
// Interoperability with Node's socketcluster-server, driven by NodeInteropTest.
//
//   node interop.js keys          prints key pairs in the PEM forms Node users have (PKCS#1 RSA,
//                                 SEC1 EC), for agserver to load
//   node interop.js run < in.json runs each case against a real socketcluster-server and prints
//                                 the results as JSON
//
// A case: {name, options: {authKey | authPrivateKey+authPublicKey, authAlgorithm, ...},
//          javaTokens: {label: token}, fixedClaims: {...}}. For each case the script starts a
//          socketcluster-server with the options and reports:
//   javaTokens.<label>: the raw #handshake answer to that token and the server's socket.authToken
//   nodeLogin: a token Node's server issued with setAuthToken (received by socketcluster-client),
//              the server's authToken for it, and whether the client is authenticated again after
//              a reconnect with its stored token
//   fixedToken: jsonwebtoken's signature of fixedClaims with the case's key and algorithm
const http = require('http');
const crypto = require('crypto');
const socketClusterServer = require('socketcluster-server');
const socketClusterClient = require('socketcluster-client');
const WebSocket = require('ws');
const jwt = require('jsonwebtoken');

function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${label}`)), ms);
    })
  ]);
}

async function startServer(options) {
  let httpServer = http.createServer();
  let agServer = socketClusterServer.attach(httpServer, options);
  (async () => {
    for await (let {socket} of agServer.listener('connection')) {
      (async () => {
        for await (let request of socket.procedure('whoami')) {
          request.end(socket.authToken);
        }
      })();
      (async () => {
        for await (let request of socket.procedure('login')) {
          await socket.setAuthToken(request.data);
          request.end({ok: true});
        }
      })();
    }
  })();
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {agServer, httpServer, port: httpServer.address().port};
}

// The raw answers to #handshake with a token, then to whoami.
async function rawHandshake(port, token) {
  let ws = new WebSocket(`ws://127.0.0.1:${port}/socketcluster/`);
  let messages = [];
  let waiters = [];
  ws.on('message', (data) => {
    let text = data.toString();
    if (text === '') {
      ws.send('');
      return;
    }
    messages.push(text);
    waiters.forEach((w) => w());
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let response = (rid) => new Promise((resolve) => {
    let check = () => {
      let found = messages.find((m) => JSON.parse(m).rid === rid);
      if (found) resolve(found);
    };
    waiters.push(check);
    check();
  });
  ws.send(JSON.stringify({event: '#handshake', cid: 1, data: {authToken: token}}));
  let handshake = await response(1);
  ws.send(JSON.stringify({event: 'whoami', cid: 2}));
  let whoami = JSON.parse(await response(2)).data;
  ws.terminate();
  return {handshake, whoami: whoami === undefined ? null : whoami, messages};
}

async function nodeLogin(port) {
  let client = socketClusterClient.create({hostname: '127.0.0.1', port, autoReconnect: false});
  try {
    await client.listener('connect').once();
    await client.invoke('login', {username: 'node-user', n: 1.5, tags: ['a', 'b']});
    if (!client.signedAuthToken) {
      await client.listener('authenticate').once();
    }
    let token = client.signedAuthToken;
    let authToken = await client.invoke('whoami');
    client.disconnect();
    client.connect();
    let status = (await client.listener('connect').once());
    let again = await client.invoke('whoami');
    return {token, authToken, reconnectAuthenticated: status.isAuthenticated, reconnectAuthToken: again};
  } finally {
    client.disconnect();
  }
}

async function runCase(c) {
  let {agServer, httpServer, port} = await startServer(c.options);
  try {
    let result = {name: c.name, javaTokens: {}};
    for (let [label, token] of Object.entries(c.javaTokens || {})) {
      result.javaTokens[label] = await withTimeout(rawHandshake(port, token), 10000, `${c.name} ${label}`);
    }
    result.nodeLogin = await withTimeout(nodeLogin(port), 10000, `${c.name} login`);
    if (c.fixedClaims) {
      result.fixedToken = jwt.sign(c.fixedClaims, c.options.authPrivateKey || c.options.authKey,
        {algorithm: c.options.authAlgorithm || 'HS256'});
    }
    return result;
  } finally {
    agServer.close();
    httpServer.close();
  }
}

function keys() {
  let rsa = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: {type: 'pkcs1', format: 'pem'},
    privateKeyEncoding: {type: 'pkcs1', format: 'pem'}
  });
  let ec = crypto.generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: {type: 'spki', format: 'pem'},
    privateKeyEncoding: {type: 'sec1', format: 'pem'}
  });
  return {rsaPrivatePkcs1: rsa.privateKey, rsaPublicPkcs1: rsa.publicKey,
    ecPrivateSec1: ec.privateKey, ecPublicSpki: ec.publicKey};
}

async function main() {
  if (process.argv[2] === 'keys') {
    process.stdout.write(JSON.stringify(keys()));
    return;
  }
  let input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  let results = [];
  for (let c of input.cases) {
    results.push(await runCase(c));
  }
  process.stdout.write(JSON.stringify(results));
}

main().then(() => process.exit(0), (error) => {
  console.error(error && error.stack || error);
  process.exit(1);
});
