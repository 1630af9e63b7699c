// express-rate-limit in front of the stand-in API, for bench-limiters.sh: every request is
// counted by a limiter of LIMIT requests per WINDOW_MS, sending the headers of STANDARD
// (draft-6, draft-7 or legacy), and proxied to UPSTREAM when allowed. Listens on 127.0.0.1:PORT.
//
//	PORT=8081 UPSTREAM=http://127.0.0.1:8080 LIMIT=60 WINDOW_MS=3000 STANDARD=draft-7 node erl.js
const express = require('express');
const { rateLimit } = require('express-rate-limit');
const http = require('http');

const upstream = new URL(process.env.UPSTREAM);
const standard = process.env.STANDARD || 'draft-7';
const app = express();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
app.use(rateLimit({
  windowMs: Number(process.env.WINDOW_MS),
  limit: Number(process.env.LIMIT),
  standardHeaders: standard === 'legacy' ? false : standard,
  legacyHeaders: standard === 'legacy',
  // Every request counts, as a client's: one key for the whole run.
  keyGenerator: () => 'run',
  validate: false,
}));
app.use((req, res) => {
  const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method,
    headers: req.headers, agent }, (r) => {
    for (const [k, v] of Object.entries(r.headers)) {
      if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') res.setHeader(k, v);
    }
    res.status(r.statusCode);
    r.pipe(res);
  });
  up.on('error', (e) => { res.status(502).end(String(e)); });
  req.pipe(up);
});
app.listen(Number(process.env.PORT), '127.0.0.1');
