'use strict';
// A stand-in for scc-state, SocketCluster's cluster state server, for bench/run's cluster scenario.
//
//   PORT=8603 HOST=127.0.0.1 node scc-state.js     prints "READY host:port pid=N" once listening
//
// scc-state is not published on npm, and its repository's newest version (9.3.0) refuses
// scc-broker and scc-broker-client 10 (its handshake middleware blocks another major version). What
// the two need from it is small, and this is that: an scc-broker joins (sccBrokerJoinCluster, its
// URI made of its address and the instancePort of its connection's query), and every scc-worker
// that joins (sccWorkerJoinCluster) or has joined hears the broker URIs (sccBrokerJoinCluster).
// Unlike scc-state: no scale-out delays, no version check, no leaving (a benchmark's cluster lives
// as long as one measurement), no auth key. A worker that joins before any broker gets an error and
// retries (scc-broker-client retries after brokerRetryDelay), as with scc-state.

const http = require('node:http');
const url = require('node:url');
const { attach } = require('socketcluster-server');

const port = Number.parseInt(process.env.PORT || '7777', 10);
const host = process.env.HOST || '127.0.0.1';

const httpServer = http.createServer((req, res) => {
  res.statusCode = 404;
  res.end();
});
const agServer = attach(httpServer);

const brokerURIs = new Set();
const workers = new Set();

function brokerState() {
  return { sccBrokerURIs: [...brokerURIs], time: Date.now() };
}

async function tell(socket, procedure, data) {
  try {
    await socket.invoke(procedure, data);
  } catch (error) {
    console.error(`scc-state: ${procedure} to a worker failed: ${error && error.message}`);
  }
}

async function serve(socket) {
  const query = url.parse(socket.request.url, true).query || {};
  (async () => {
    for await (const req of socket.procedure('sccBrokerJoinCluster')) {
      const data = req.data || {};
      const scheme = data.instanceSecure ? 'wss' : 'ws';
      const uri = `${scheme}://${data.instanceIp || socket.remoteAddress}:${query.instancePort}`;
      brokerURIs.add(uri);
      req.end();
      console.log(`broker joined ${uri}`);
      const state = brokerState();
      for (const w of workers) tell(w, 'sccBrokerJoinCluster', state);
    }
  })();
  (async () => {
    for await (const req of socket.procedure('sccWorkerJoinCluster')) {
      if (brokerURIs.size === 0) {
        req.error(new Error('no scc-broker has joined yet'));
        continue;
      }
      workers.add(socket);
      req.end({ ...brokerState(), sccWorkerURIs: [] });
      console.log(`worker joined (instancePort ${query.instancePort})`);
    }
  })();
  (async () => {
    for await (const _ of socket.listener('disconnect')) {
      workers.delete(socket);
    }
  })();
}

(async () => {
  for await (const { socket } of agServer.listener('connection')) {
    serve(socket);
  }
})();

httpServer.listen(port, host, () => {
  console.log(`READY ${host}:${port} pid=${process.pid}`);
});

function stop() {
  agServer.close();
  httpServer.close();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
