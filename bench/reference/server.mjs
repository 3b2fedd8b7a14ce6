// Starts @automerge/automerge-repo-sync-server exactly as its CLI does (its own Server class,
// its own pinned automerge-repo, storage and config: PORT, DATA_DIR), but listening on
// 127.0.0.1 only: the package's CLI calls `app.listen(PORT)`, which binds every interface, so
// this launcher makes a bare-port `listen` bind the loopback address before loading it.
import http from "node:http"

const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (port, ...rest) {
  if (typeof port === "number" && typeof rest[0] !== "string") {
    return listen.call(this, port, "127.0.0.1", ...rest)
  }
  return listen.call(this, port, ...rest)
}

const { Server } = await import("@automerge/automerge-repo-sync-server/src/server.js")
const server = new Server()
await server.ready()
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close()
    process.exit(0)
  })
}
