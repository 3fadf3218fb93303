// An HTTP/2-only backend over TLS (Node's built-in http2 module) that answers
// every request with what it received, as JSON: protocol version, method,
// path, headers (pseudo-headers included) and body. Prints
// `listening on PORT` once bound to 127.0.0.1.
//
//   node h2.js CERT.pem KEY.pem
'use strict';
const fs = require('fs');
const http2 = require('http2');

const [cert, key] = process.argv.slice(2);
const server = http2.createSecureServer({
  cert: fs.readFileSync(cert),
  key: fs.readFileSync(key),
  allowHTTP1: false,
});
server.on('stream', (stream, headers) => {
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  stream.on('end', () => {
    const body = JSON.stringify({
      version: '2',
      method: headers[':method'],
      path: headers[':path'],
      authority: headers[':authority'] || null,
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-backend': 'h2' });
    stream.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
