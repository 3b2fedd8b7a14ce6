// The reference half of bench/compare.sh: automerge-repo devices (Node, the WebSocket network
// adapter, on-disk storage in temp directories) running the five scenarios of the workload file
// against the sync server at URL (through the harness's byte-counting proxy).
//
//   node client.mjs WORKLOAD.json ws://127.0.0.1:PORT DIR
//
// Talks to the harness (onsite-compare) one JSON object a line on stdout: {event:"start"} and
// {event:"end"} around each measured part (the harness answers "ok" on stdin once it has read
// the proxy and the server's /proc figures), then {event:"check"} with what was compared.
// A document the repo reports unavailable is counted and reported, never retried.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

const [workloadPath, url, dir] = process.argv.slice(2)
const w = JSON.parse(readFileSync(workloadPath, "utf8"))
const n = w.sizes.orders
/** How long a device may wait for the server before the wait is reported as a failure. */
const DEADLINE_MS = Number(process.env.COMPARE_DEADLINE_MS ?? 900_000)
/** Scenario 2 runs this many times, each with a fresh device (the harness sets it; the table
 * shows the median of the runs that converged). */
const COLD_RUNS = Number(process.env.COMPARE_COLD_RUNS ?? 1)
/** A wait for confirmations gives up after this long without one more document confirmed. */
const STALL_MS = Number(process.env.COMPARE_STALL_MS ?? 30_000)

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n")
async function mark(event, scenario) {
  // A window that ended by a stall reports the time of its last progress, not of giving up.
  const stalled = event === "end" && lastProgressAt > windowStart
  say(stalled ? { event, scenario, wall_ms: lastProgressAt - windowStart } : { event, scenario })
  await stdin.next()
  if (event === "start") { windowStart = Date.now(); lastProgressAt = 0 }
}
const check = (scenario, compared, problems, unavailable = 0) =>
  say({ event: "check", scenario, check: { compared, problems, unavailable } })
const log = (...a) => process.stderr.write(`reference: ${a.join(" ")}\n`)
// automerge-repo logs errors (e.g. "Websocket not ready" for messages reaching a repo that was
// shut down) with console.log/error; keep stdout for the harness, print the first few of them
// on one line each and count the rest.
let repoLogs = 0
console.log = console.error = console.warn = (...a) => {
  if (++repoLogs <= 5) log("repo says:", String(a[0]).slice(0, 200))
}

/** Shut a repo down; a repo holding handles that never became ready (unavailable documents)
 * throws "DocHandle is not ready" from its flush, which is logged and not fatal. */
async function close(repo) {
  try { await repo.shutdown() } catch (e) { log(`shutdown: ${e.message}`) }
}
async function flush(repo) {
  try { await repo.flush() } catch (e) { log(`flush: ${e.message}`) }
}

let devices = 0
/** A device: a repo on its own storage directory, online (WebSocket to the server) or not. */
function device(name, online) {
  return new Repo({
    storage: new NodeFSStorageAdapter(join(dir, name)),
    network: online ? [new WebSocketClientAdapter(url)] : [],
    peerId: `${name}-${++devices}`,
  })
}

/** Poll `done` (every 10 ms) until it holds or the deadline passes; false on timeout. */
async function until(done, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline
  while (!done()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

/** Time of the last progress of the measured wait, for the harness (see `confirmedAll`). */
let lastProgressAt = 0
let windowStart = 0

/** The server's storage id once the device is connected to it. */
async function server(repo) {
  let sid
  const ok = await until(() => (sid = repo.peers.map((p) => repo.getStorageIdOfPeer(p)).find(Boolean)))
  if (!ok) throw new Error("no connection to the sync server")
  return sid
}

const same = (a, b) => !!a && !!b && a.length === b.length && a.every((h, i) => h === b[i])
/** The server has confirmed this handle's heads. */
const confirmed = (sid) => (h) => same(h.getSyncInfo(sid)?.lastHeads, h.heads())

/** Wait until the server confirmed every handle (and `extra` holds); the problems if not. The
 * wait gives up after STALL_MS without one more document confirmed, and remembers when the last
 * one was (the harness reports that as the window's time). */
async function confirmedAll(handles, sid, extra = () => true) {
  const isConfirmed = confirmed(sid)
  let count = -1
  let progressAt = Date.now()
  const done = () => {
    const now = handles.filter(isConfirmed).length
    if (now !== count) { count = now; progressAt = Date.now() }
    return (now === handles.length && extra()) || Date.now() - progressAt > STALL_MS
  }
  await until(done)
  if (count === handles.length && extra()) return []
  lastProgressAt = progressAt
  const left = handles.length - count
  log(`${left} of ${handles.length} documents not confirmed by the server; none more for ${STALL_MS} ms`)
  return [`${left} of ${handles.length} documents never confirmed by the server (no progress for ${STALL_MS} ms)`]
}

/** Find every url; handles by index, and how many the repo reported unavailable. */
async function findAll(repo, urls) {
  const settled = await Promise.allSettled(urls.map((u) => repo.find(u)))
  const handles = settled.map((s) => (s.status === "fulfilled" ? s.value : null))
  const failed = settled.filter((s) => s.status === "rejected")
  if (failed.length) log(`${failed.length} find(s) failed, first: ${failed[0].reason}`)
  return { handles, unavailable: failed.length }
}

const SCALARS = ["order_id", "order_no", "created_at_ms", "household_id", "customer_name", "phone",
  "address", "tier", "notes", "appliance_id", "category", "brand", "model", "serial", "service_type",
  "problem", "window_start_ms", "window_end_ms", "status"]

/** Mismatches between stored orders and the expected ones (20 scalars and the checklist items). */
function compareOrders(handles, expected) {
  const problems = []
  handles.forEach((h, i) => {
    if (!h) return
    const d = h.doc()
    const e = expected[i]
    const bad = SCALARS.filter((k) => d?.[k] !== e[k])
    if (d?.checklist?.length !== e.checklist.length) bad.push("checklist")
    if (bad.length) problems.push(`order ${i}: ${bad.join(", ")} differ`)
  })
  return problems
}

/** Create orders (and the index listing every order's url) on an offline device. */
async function createOffline(name, orders, index) {
  const repo = device(name, false)
  const urls = orders.map((o) => repo.create(structuredClone(o)).url)
  let indexUrl = index
  if (indexUrl) {
    const h = await repo.find(indexUrl)
    h.change((d) => { d.orders.push(...urls) })
  } else {
    indexUrl = repo.create({ orders: urls }).url
  }
  await flush(repo)
  await close(repo)
  return { urls, indexUrl }
}

/** Open `name` online and load the index and every order it lists from local storage. */
async function openAll(name, indexUrl) {
  const repo = device(name, true)
  const sid = await server(repo)
  const index = await repo.find(indexUrl)
  const { handles, unavailable } = await findAll(repo, index.doc().orders)
  return { repo, sid, index, handles, unavailable }
}

/** Change `edits` (problem and notes) on the handles, one change per order. */
function applyEdits(handles, edits, expected) {
  for (const e of edits) {
    expected[e.order] = { ...expected[e.order], problem: e.problem, notes: e.notes }
    handles[e.order].change((d) => { d.problem = e.problem; d.notes = e.notes })
  }
}

/** Scenario 4's changes on the technician's (offline) handle, one change per edit as on Onsite. */
function recordCompletion(h, c, png) {
  const at = () => Date.now()
  const list = (d, key) => { if (!d[key]) d[key] = []; return d[key] }
  const step = (kind) => h.change((d) => { list(d, "events").push({ kind, at_ms: at() }) })
  for (const kind of ["accepted", "en_route", "arrived", "work_started"]) step(kind)
  for (const a of c.answers) {
    h.change((d) => {
      const item = d.checklist.find((i) => i.template_id === a.template_id && i.item_id === a.item_id)
      item.answer = { ...a.answer, note: a.note, answered_at_ms: at() }
    })
  }
  h.change((d) => { list(d, "parts").push({ ...c.part }) })
  for (const f of c.fees) h.change((d) => { list(d, "fees").push({ ...f }) })
  h.change((d) => { d.home_checks = [{ appliance: c.home_check, result: "ok" }] })
  h.change((d) => { d.diagnosis = c.diagnosis; d.work_performed = c.work_performed })
  step("work_done")
  for (const k of ["usage.explained", "no.water", "no.smoke", "no.meal", "no.gift"]) {
    h.change((d) => {
      if (!d.confirmations) d.confirmations = {}
      d.confirmations[k] = true
    })
  }
  h.change((d) => { d.rating = { stars: c.rating_stars, comment: c.rating_comment } })
  h.change((d) => { d.signature = { signer_name: c.signer_name, image_png: png, signed_at_ms: at() } })
  step("signed")
}

/** The completion as a fresh reader sees it. */
function compareCompletion(d, c, png) {
  const problems = []
  const answered = (d?.checklist ?? []).filter((i) => i.answer).length
  if (answered !== c.answers.length) problems.push(`${answered} of ${c.answers.length} answers arrived`)
  if (d?.parts?.length !== 1 || d?.fees?.length !== c.fees.length) problems.push("parts or fees missing")
  const img = d?.signature?.image_png
  if (!img || Buffer.compare(Buffer.from(img), png) !== 0) problems.push("the signature image did not arrive intact")
  return problems
}

/** Scenario 2's measured window on a fresh device `name`: everything fetched, then compared. */
async function coldDownload(name, indexUrl, expected) {
  await mark("start", "cold_download")
  const b = { repo: device(name, true) }
  await server(b.repo)
  let found = { handles: [], unavailable: n + 1 }
  try {
    b.index = await b.repo.find(indexUrl)
    found = await findAll(b.repo, b.index.doc().orders)
  } catch (e) {
    log(`the index: ${e}`)
  }
  await mark("end", "cold_download")
  const problems = compareOrders(found.handles, expected)
  await close(b.repo)
  return { found, problems }
}

async function main() {
  const expected = w.orders.slice(0, n).map((o) => structuredClone(o))
  const live = (hs) => hs.filter(Boolean)

  // 1. The dispatcher's device created the orders offline; it connects and uploads them.
  const { urls, indexUrl } = await createOffline("a", expected, null)
  await mark("start", "upload")
  let a = await openAll("a", indexUrl)
  const p1 = await confirmedAll([a.index, ...live(a.handles)], a.sid)
  await mark("end", "upload")
  await close(a.repo)

  // 2. A fresh device (it knows the index's url) fetches everything; then again on other fresh
  // devices (COLD_RUNS), each checked. "b" is the device of scenario 3.
  for (let run = 0; run < COLD_RUNS; run++) {
    const { found, problems } = await coldDownload(run === 0 ? "b" : `b-again-${run}`, indexUrl, expected)
    if (run === 0) check("upload", n, [...p1, ...problems])
    check("cold_download", n, problems, found.unavailable)
  }

  // 3. 50 changed on the dispatcher's device (reaching the server), 50 on b while offline.
  a = await openAll("a", indexUrl)
  applyEdits(a.handles, w.relay_edits, expected)
  const pa = await confirmedAll(live(a.handles), a.sid)
  await close(a.repo)
  const b0 = device("b", false)
  const bh = []
  const missing = []
  for (const e of w.device_edits) {
    try { bh[e.order] = await b0.find(urls[e.order]) } catch { missing.push(e.order) }
  }
  const onDevice = w.device_edits.filter((e) => bh[e.order])
  applyEdits(bh, onDevice, expected)
  await flush(b0)
  await close(b0)
  await mark("start", "catch_up")
  const b = await openAll("b", indexUrl)
  const arrived = () => w.relay_edits.every((e) => b.handles[e.order]?.doc()?.problem === e.problem)
  const missingText = missing.length ? [`${missing.length} order(s) to change were not on the device (unavailable in scenario 2)`] : []
  const p3 = await confirmedAll([b.index, ...live(b.handles)], b.sid, arrived)
  await mark("end", "catch_up")
  await close(b.repo)
  a = await openAll("a", indexUrl)
  await until(() => onDevice.every((e) => a.handles[e.order]?.doc()?.problem === e.problem), 60_000)
  check("catch_up", 2 * n, [...missingText, ...pa, ...p3, ...compareOrders(b.handles, expected), ...compareOrders(a.handles, expected)],
    b.unavailable + a.unavailable)

  // 4. The technician completes one order offline, then syncs.
  const c = w.completion
  const png = Buffer.from(c.signature_png_base64, "base64")
  a.handles[c.order].change((d) => { d.assignee = c.technician })
  await confirmedAll([a.handles[c.order]], a.sid)
  await close(a.repo)
  let t = device("t", true)
  await server(t)
  await t.find(urls[c.order])
  await flush(t)
  await close(t)
  t = device("t", false)
  recordCompletion(await t.find(urls[c.order]), c, png)
  await flush(t)
  await close(t)
  await mark("start", "completion")
  t = device("t", true)
  const tsid = await server(t)
  const th = await t.find(urls[c.order])
  const p4 = await confirmedAll([th], tsid)
  await mark("end", "completion")
  await close(t)
  const v = device("v", true)
  await server(v)
  let vh = null
  try { vh = await v.find(urls[c.order]) } catch (e) { log(`the completed order: ${e}`) }
  check("completion", 1, [...p4, ...(vh ? compareCompletion(vh.doc(), c, png) : [])], vh ? 0 : 1)
  await close(v)

  // 5. The dispatcher's device holds all the scale orders; it reconnects with nothing to do.
  const more = w.orders.slice(n).map((o) => structuredClone(o))
  await createOffline("a", more, indexUrl)
  a = await openAll("a", indexUrl)
  const p5a = await confirmedAll([a.index, ...live(a.handles)], a.sid)
  await flush(a.repo)
  await close(a.repo)
  await mark("start", "no_op")
  a = await openAll("a", indexUrl)
  const p5 = await confirmedAll([a.index, ...live(a.handles)], a.sid)
  await mark("end", "no_op")
  const all = [...expected, ...more]
  check("no_op", all.length, [...p5a, ...p5, ...compareOrders(a.handles, all)], a.unavailable)
  await close(a.repo)
  log(`automerge-repo logged ${repoLogs} error line(s) in the run`)
  say({ event: "done" })
}

main().then(
  () => process.exit(0),
  (e) => { log(e?.stack ?? e); process.exit(1) },
)
