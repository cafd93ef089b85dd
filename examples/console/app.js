// XBM console: a reference frontend on plain browser APIs (fetch, DOM), with no build step.
"use strict";

const DEFAULTS = {plans: "http://127.0.0.1:8001", campaigns: "http://127.0.0.1:8002", compliance: "http://127.0.0.1:8003"};
const state = {urls: {...DEFAULTS}, token: null, expiresAt: 0, role: null, plansCursor: null, exceptionsCursor: null};
const $ = (id) => document.getElementById(id);

// ---- talking to XBM ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `the service answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function call(service, path, options = {}) {
  const headers = {Accept: "application/json", ...(options.headers || {})};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(state.urls[service] + path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    // the browser hides why: the service is down, or it does not list this origin in XBM_CORS_ORIGINS
    throw new ApiError(0, {detail: `cannot reach ${service} at ${state.urls[service]} (is it running, and does it allow this origin?)`});
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (response.status === 401 && state.token) {
    signOut("Your session has ended; sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ---- screens ----------------------------------------------------------------------------------------------

function show(section) {
  for (const id of ["sign-in", "plans", "grid", "exceptions"]) $(id).hidden = id !== section;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function money(value) {
  if (!value) return "—";
  const amount = Number(value.amount);  // display only: the API's amounts are exact decimal strings
  return `${value.currency} ${amount.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2})}`;
}

function ratio(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(2);
}

async function signIn(event) {
  event.preventDefault();
  showError("");
  for (const service of Object.keys(DEFAULTS)) {
    state.urls[service] = $(`${service}-url`).value.replace(/\/+$/, "");
  }
  localStorage.setItem("xbm-console-urls", JSON.stringify(state.urls));
  $("sign-in-button").disabled = true;
  try {
    state.token = null;
    const token = await call("plans", "/v1/auth/token", {method: "POST", body: {api_key: $("api-key").value.trim()}});
    state.token = token.access_token;
    state.expiresAt = Date.now() + token.expires_in * 1000;
    const claims = JSON.parse(atob(token.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    state.role = claims.role;
    sessionStorage.setItem("xbm-console-token", JSON.stringify({token: state.token, expiresAt: state.expiresAt, role: state.role}));
    $("api-key").value = "";
    signedIn();
    await listPlans();
  } catch (error) {
    state.token = null;
    showError(error.status === 401 ? "That API key was not accepted." : error.message);
  } finally {
    $("sign-in-button").disabled = false;
  }
}

function signedIn() {
  $("who").textContent = `Signed in (${state.role})`;
  for (const id of ["nav-plans", "nav-exceptions", "sign-out"]) $(id).disabled = false;
}

function signOut(message) {
  state.token = null;
  sessionStorage.removeItem("xbm-console-token");
  $("who").textContent = "";
  for (const id of ["nav-plans", "nav-exceptions", "sign-out"]) $(id).disabled = true;
  show("sign-in");
  showError(message || "");
}

async function listPlans(more = false) {
  showError("");
  show("plans");
  const tbody = $("plans-table").querySelector("tbody");
  if (!more) {
    tbody.replaceChildren();
    state.plansCursor = null;
  }
  try {
    const params = new URLSearchParams({limit: "50"});
    if (more && state.plansCursor) params.set("cursor", state.plansCursor);
    const page = await call("plans", "/v1/plans?" + params);
    for (const plan of page.items) {
      const row = tbody.insertRow();
      const link = document.createElement("a");
      link.textContent = plan.name;
      link.dataset.planId = plan.id;
      link.addEventListener("click", () => showGrid(plan));
      cell(row, "").appendChild(link);
      cell(row, plan.status);
      cell(row, `${plan.period_start} – ${plan.period_end}`);
      cell(row, plan.base_currency);
    }
    state.plansCursor = page.next_cursor;
    $("plans-more").hidden = !page.next_cursor;
    $("plans-empty").hidden = tbody.rows.length > 0;
  } catch (error) {
    showError(error.message);
  }
}

async function showGrid(plan) {
  showError("");
  show("grid");
  $("grid-title").textContent = `SBU grid — ${plan.name}`;
  const tbody = $("grid-table").querySelector("tbody");
  tbody.replaceChildren();
  try {
    const grid = await call("plans", `/v1/plans/${encodeURIComponent(plan.id)}/sbu-grid`);
    for (const sbu of grid.cells) {
      const row = tbody.insertRow();
      row.dataset.sbuId = sbu.sbu_id;
      cell(row, sbu.customer.name);
      cell(row, `${sbu.channel.name} (${sbu.channel.platform})`);
      cell(row, sbu.product.name);
      cell(row, sbu.need);
      cell(row, sbu.demand);
      cell(row, sbu.status);
      cell(row, money(sbu.budget), "num");
      cell(row, money(sbu.spend), "num");
      cell(row, money(sbu.revenue), "num");
      cell(row, ratio(sbu.roas), "num");
    }
    $("grid-empty").hidden = grid.cells.length > 0;
  } catch (error) {
    showError(error.message);
  }
}

async function listExceptions(more = false) {
  showError("");
  show("exceptions");
  const tbody = $("exceptions-table").querySelector("tbody");
  if (!more) {
    tbody.replaceChildren();
    state.exceptionsCursor = null;
  }
  try {
    const params = new URLSearchParams({limit: "50"});
    if (more && state.exceptionsCursor) params.set("cursor", state.exceptionsCursor);
    const page = await call("compliance", "/v1/compliance/exceptions?" + params);
    for (const item of page.items) {
      const row = tbody.insertRow();
      row.dataset.orderNo = item.order_no;
      cell(row, item.order_no);
      cell(row, item.ebp_code);
      cell(row, item.state);
      cell(row, item.reason === "mismatch" ? "documents disagree" : `waiting for ${item.missing.join(" and ")}`);
      const rules = cell(row, "");
      for (const rule of item.failing_rules) {
        const tag = document.createElement("span");
        tag.className = "rule";
        tag.textContent = rule;
        rules.appendChild(tag);
      }
      cell(row, new Date(item.since).toISOString().slice(0, 16).replace("T", " ") + " UTC");
    }
    state.exceptionsCursor = page.next_cursor;
    $("exceptions-more").hidden = !page.next_cursor;
    $("exceptions-empty").hidden = tbody.rows.length > 0;
  } catch (error) {
    showError(error.message);
  }
}

// ---- start ------------------------------------------------------------------------------------------------

function start() {
  const saved = JSON.parse(localStorage.getItem("xbm-console-urls") || "{}");
  const query = new URLSearchParams(location.search);
  for (const service of Object.keys(DEFAULTS)) {
    state.urls[service] = query.get(service) || saved[service] || DEFAULTS[service];
    $(`${service}-url`).value = state.urls[service];
  }
  $("sign-in-form").addEventListener("submit", signIn);
  $("nav-plans").addEventListener("click", () => listPlans());
  $("plans-more").addEventListener("click", () => listPlans(true));
  $("grid-back").addEventListener("click", () => listPlans());
  $("nav-exceptions").addEventListener("click", () => listExceptions());
  $("exceptions-more").addEventListener("click", () => listExceptions(true));
  $("sign-out").addEventListener("click", () => signOut());
  const kept = JSON.parse(sessionStorage.getItem("xbm-console-token") || "null");
  if (kept && kept.expiresAt > Date.now() + 5000) {
    Object.assign(state, {token: kept.token, expiresAt: kept.expiresAt, role: kept.role});
    signedIn();
    listPlans();
  } else {
    show("sign-in");
  }
}

start();
