'use strict';
// The benchmark application on Node's socketcluster-server, the same one agserver's bench app is:
// one procedure, `echo`, answering with the request's data; clients may publish.
//
//   PORT=8600 HOST=127.0.0.1 node server.js     prints "READY host:port pid=N" once listening
//
// A plain http server (anything else than the WebSocket path gets 404) with AGServer attached at
// /socketcluster/, pingInterval 8000, pingTimeout 20000, ackTimeout 10000.
//
// With SCC_STATE_SERVER_HOST (and SCC_STATE_SERVER_PORT) it is an instance of an SCC cluster, as
// SocketCluster's own server template makes one: scc-broker-client attached to the server's broker
// engine, so that publishes go through the scc-broker that the state server names and reach the
// subscribers of every instance. It prints "SCC READY ..." once it knows the brokers.

const http = require('node:http');
const { attach } = require('socketcluster-server');

const port = Number.parseInt(process.env.PORT || '8600', 10);
const host = process.env.HOST || '127.0.0.1';

const httpServer = http.createServer((req, res) => {
  res.statusCode = 404;
  res.end();
});

const agServer = attach(httpServer, {
  path: '/socketcluster/',
  pingInterval: 8000,
  pingTimeout: 20000,
  ackTimeout: 10000,
  allowClientPublish: true
});

async function serveEcho(socket) {
  for await (const request of socket.procedure('echo')) {
    request.end(request.data);
  }
}

async function acceptConnections() {
  for await (const { socket } of agServer.listener('connection')) {
    serveEcho(socket);
  }
}

async function reportErrors() {
  for await (const { error } of agServer.listener('error')) {
    console.error(`server error: ${error && error.message}`);
  }
}

acceptConnections();
reportErrors();

if (process.env.SCC_STATE_SERVER_HOST) {
  const sccBrokerClient = require('scc-broker-client');
  const sccClient = sccBrokerClient.attach(agServer.brokerEngine, {
    instanceId: `${host}:${port}`,
    instancePort: port,
    instanceIp: host,
    stateServerHost: process.env.SCC_STATE_SERVER_HOST,
    stateServerPort: Number.parseInt(process.env.SCC_STATE_SERVER_PORT || '7777', 10),
    brokerRetryDelay: 500
  });
  (async () => {
    for await (const { brokerURIs } of sccClient.listener('updateBrokers')) {
      console.log(`SCC READY brokers=${brokerURIs.join(',')}`);
    }
  })();
  (async () => {
    for await (const { error } of sccClient.listener('error')) {
      console.error(`scc error: ${error && (error.name + ' ' + error.message)}`);
    }
  })();
}

httpServer.listen(port, host, () => {
  console.log(`READY ${host}:${port} pid=${process.pid}`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  agServer.close();
  httpServer.close();
  // Open sockets would keep the process alive: a benchmark server stops at once.
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
