// Sintra console: live regions, forms and buttons that call the /api routes with the session's CSRF token.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const LABELS = {connected: "Connected", auth_failed: "Authentication failed", provider_unreachable: "Provider unreachable",
                error: "Connection test failed", pending: "Still testing"};

async function api(method, url, body) {
  const opts = {method, credentials: "same-origin", headers: {"X-CSRF-Token": csrf(), "Accept": "application/json"}};
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let response;
  try { response = await fetch(url, opts); } catch (e) { return {ok: false, status: 0, data: {error: {message: "The server cannot be reached: " + e.message}}}; }
  let data = null;
  try { data = await response.json(); } catch (e) { data = {error: {message: `HTTP ${response.status}`}}; }
  if (response.status === 401) { window.location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search)); }
  return {ok: response.ok, status: response.status, data};
}

function errorText(res) {
  const err = res.data && res.data.error;
  if (!err) return `HTTP ${res.status}`;
  const fields = (err.fields || []).map(f => `${f.field}: ${f.problem}`).join("; ");
  return err.message + (fields && !err.message.includes(fields) ? ` (${fields})` : "");
}

function show(el, text, tone) {
  if (!el) return;
  el.textContent = text;
  el.className = "result " + (tone || "");
}

function resultFor(el) {
  const id = el.dataset.result;
  if (id && document.getElementById(id)) return document.getElementById(id);
  // a live region is replaced on refresh: its buttons report in the page's flash line instead
  if (el.closest("[data-refresh]")) return document.getElementById("flash");
  return el.parentElement.querySelector(".result");
}

function confirmDialog(title, body, okLabel) {
  const dialog = document.getElementById("confirm");
  if (!dialog || !dialog.showModal) return Promise.resolve(window.confirm(title + "\n\n" + body));
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  document.getElementById("confirm-ok").textContent = okLabel || "Confirm";
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-ok").focus();
  return new Promise(resolve => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true}));
}

function focusKey(el) {
  if (!el || el === document.body) return null;
  if (el.id) return "#" + CSS.escape(el.id);
  if (el.dataset.post) return `[data-post="${CSS.escape(el.dataset.post)}"]`;
  if (el.getAttribute("href")) return `a[href="${CSS.escape(el.getAttribute("href"))}"]`;
  return null;
}

async function refresh(region, force) {
  const active = document.activeElement;
  const inside = region.contains(active);
  // never replace a field the user is typing in; buttons and links keep their focus across the swap
  if (!force && (document.hidden || region.dataset.busy || (inside && active.matches("input, select, textarea")))) return;
  if (!force && region.querySelector("[data-final]")) return;  // a finished job changes only when retried
  try {
    const response = await fetch(region.dataset.refresh, {credentials: "same-origin", headers: {"Accept": "text/html"}});
    if (response.redirected && new URL(response.url).pathname === "/signin") { window.location.assign(response.url); return; }
    if (!response.ok) { region.dataset.stale = "1"; return; }
    const html = await response.text();
    const key = inside ? focusKey(active) : null;
    region.innerHTML = html;
    delete region.dataset.stale;
    if (key) region.querySelector(key)?.focus();
  } catch (e) { region.dataset.stale = "1"; }
}

function refreshAll() { document.querySelectorAll("[data-refresh]").forEach(region => refresh(region, true)); }

function startLive() {
  document.querySelectorAll("[data-refresh]").forEach(region => {
    setInterval(() => refresh(region), Number(region.dataset.every || 3000));
  });
}

const BUTTON_MESSAGES = {
  connect: d => [`${LABELS[d.status] || d.status}${d.message ? ": " + d.message : ""}`, d.status === "connected" ? "ok" : d.status === "pending" ? "warn" : "bad"],
  disconnect: d => [`Disconnected: credentials deleted, ${d.jobs_failed} queued job(s) failed, ${d.schedules_paused} schedule(s) paused.`, "ok"],
  retry: d => [`Retried: job ${String(d.id || "").slice(0, 12)} is ${d.status || "queued"} again.`, "ok"],
  cancel: d => [`Job ${String(d.id || "").slice(0, 12)} is ${d.status}${d.cancel_requested_at ? " (cancel requested)" : ""}.`, "ok"],
  pause: d => [`Paused.`, "ok"],
  resume: d => [`Resumed; next run ${d.next_fire_at || "-"}.`, "ok"],
  run_now: d => [`Job ${String(d.id || "").slice(0, 12)} submitted.`, "ok"],
};

async function onPostButton(button) {
  const out = resultFor(button);
  if (button.dataset.confirm) {
    const ok = await confirmDialog(button.dataset.confirmTitle || "Are you sure?", button.dataset.confirm,
                                   button.dataset.confirmOk || button.textContent.replace("…", "").trim());
    if (!ok) { show(out, "Nothing was changed.", ""); button.focus(); return; }
  }
  button.disabled = true;
  show(out, "Working…", "");
  const res = await api("POST", button.dataset.post);
  button.disabled = false;
  if (res.ok || res.status === 202) {
    const [text, tone] = (BUTTON_MESSAGES[button.dataset.kind] || (() => ["Done.", "ok"]))(res.data);
    show(out, text, tone);
    if (button.dataset.kind === "connect" && res.data.status === "pending") await finishConnect(out, res.data.job_id);
  } else show(out, errorText(res), "bad");
  refreshAll();
}

// a slow connection test answers 202: follow its job to the same outcome the API would have answered
const CONNECT_OUTCOME = {auth: "auth_failed", transient: "provider_unreachable", rate_limited: "provider_unreachable"};

async function finishConnect(out, jobId) {
  for (;;) {
    await new Promise(r => setTimeout(r, 700));
    const res = await api("GET", "/api/jobs/" + jobId);
    if (!res.ok) { show(out, errorText(res), "bad"); return; }
    if (!TERMINAL.has(res.data.status)) continue;
    const job = res.data;
    const status = job.status === "succeeded" ? "connected" : (CONNECT_OUTCOME[job.error && job.error.type] || "error");
    const [text, tone] = BUTTON_MESSAGES.connect({status, message: job.status === "succeeded" ? "connection test succeeded" : job.error && job.error.message});
    show(out, text, tone);
    return;
  }
}

async function onConfigure(form) {
  const out = resultFor(form);
  const credentials = {};
  form.querySelectorAll("input").forEach(input => { if (input.value.trim() !== "") credentials[input.name] = input.value; });
  show(out, "Saving…", "");
  const res = await api("POST", form.dataset.api, {credentials});
  form.querySelectorAll('input[type="password"]').forEach(input => { input.value = ""; });
  const oauth = document.getElementById("oauth-connect");
  if (res.ok && oauth) { oauth.disabled = false; oauth.removeAttribute("title"); }
  if (res.ok) show(out, oauth ? `Saved to Vault. Now ${oauth.textContent.trim()}.` : "Saved to Vault. Now test the connection.", "ok");
  else show(out, "Not saved: " + errorText(res), "bad");
  refreshAll();
}

function renderJob(out, job) {
  out.replaceChildren();
  const line = document.createElement("p");
  const badge = document.createElement("span");
  badge.className = "badge " + ({succeeded: "ok", failed: "bad", cancelled: "muted", retrying: "warn"}[job.status] || "info");
  badge.textContent = job.status;
  const link = document.createElement("a");
  link.href = "/ops/jobs/" + job.id;
  link.textContent = "job " + job.id.slice(0, 12);
  line.append(link, " ", badge);
  if (job.progress && !TERMINAL.has(job.status)) line.append(" " + job.progress.step + (job.progress.percent != null ? ` (${job.progress.percent} %)` : ""));
  if (job.error && job.status !== "succeeded") line.append(" " + job.error.message);
  out.append(line);
  if (job.status === "succeeded") {
    const pre = document.createElement("pre");
    pre.className = "json";
    pre.textContent = JSON.stringify(job.result, null, 2);
    out.append(pre);
  }
}

async function follow(out, jobId) {
  for (;;) {
    const res = await api("GET", "/api/jobs/" + jobId);
    if (!res.ok) { show(out, errorText(res), "bad"); return; }
    renderJob(out, res.data);
    if (TERMINAL.has(res.data.status)) { refreshAll(); return; }
    await new Promise(r => setTimeout(r, 600));
  }
}

async function onRun(form) {
  const out = resultFor(form);
  let params;
  try { params = JSON.parse(form.querySelector("textarea").value || "{}"); }
  catch (e) { show(out, "The parameters are not valid JSON: " + e.message, "bad"); return; }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  show(out, "Submitting…", "");
  const res = await api("POST", form.dataset.api, {agent: form.dataset.agent, integration: form.dataset.integration,
                                                  action: form.dataset.action, params});
  button.disabled = false;
  if (!res.ok) { show(out, "Not submitted: " + errorText(res), "bad"); return; }
  await follow(out, res.data.id);
}

async function onBulkRetry(button) {
  const out = resultFor(button);
  const filter = JSON.parse(button.dataset.bulk || "{}");
  show(out, "Counting…", "");
  const dry = await api("POST", "/api/jobs/retry", {...filter, status: "failed", dry_run: true});
  if (!dry.ok) { show(out, errorText(dry), "bad"); return; }
  const n = dry.data.count;
  if (!n) { show(out, "No failed job matches this filter.", ""); return; }
  const ok = await confirmDialog(`Retry ${n} failed job${n === 1 ? "" : "s"}?`,
    `Exactly ${n} failed job${n === 1 ? "" : "s"} matching this filter${filter.finished_after ? " (finished in this time range)" : ""} will run again, each keeping its id, attempt history and step log. If the match changes before you confirm, nothing is retried.`,
    `Retry ${n}`);
  if (!ok) { show(out, "Nothing was retried.", ""); button.focus(); return; }
  const res = await api("POST", "/api/jobs/retry", {...filter, status: "failed", dry_run: false, expected_count: n});
  if (res.ok) show(out, `Retried ${res.data.count} job${res.data.count === 1 ? "" : "s"}.`, "ok");
  else show(out, errorText(res), "bad");
  refreshAll();
}

// "Connect with <provider>": the API answers the consent URL (signed state, PKCE); the provider sends the
// browser back to /api/oauth/callback, which returns to this page while the worker exchanges the code
async function onAuthorize(button) {
  const out = resultFor(button);
  button.disabled = true;
  show(out, `Opening ${button.dataset.provider}…`, "");
  const res = await api("POST", button.dataset.authorize);
  if (res.ok) { window.location.assign(res.data.authorization_url); return; }
  button.disabled = false;
  show(out, errorText(res), "bad");
}

document.addEventListener("click", event => {
  const authorize = event.target.closest("button[data-authorize]");
  if (authorize) { event.preventDefault(); onAuthorize(authorize); return; }
  const post = event.target.closest("button[data-post]");
  if (post) { event.preventDefault(); onPostButton(post); return; }
  const bulk = event.target.closest("button[data-bulk]");
  if (bulk) { event.preventDefault(); onBulkRetry(bulk); }
});

document.addEventListener("submit", event => {
  const form = event.target;
  if (form.dataset.kind === "configure") { event.preventDefault(); onConfigure(form); }
  else if (form.dataset.kind === "run") { event.preventDefault(); onRun(form); }
});

document.addEventListener("change", event => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});

document.addEventListener("DOMContentLoaded", startLive);
