// `/` accepts only POST; the health route is GET /healthz.
const http = require("http");

http
  .createServer((req, res) => {
    if (req.url === "/healthz" && req.method === "GET") {
      res.writeHead(200).end("ok\n");
    } else if (req.url === "/" && req.method === "POST") {
      res.writeHead(201).end("created\n");
    } else if (req.url === "/") {
      res.writeHead(405, { Allow: "POST" }).end();
    } else {
      res.writeHead(404).end();
    }
  })
  .listen(3000);
