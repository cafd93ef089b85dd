// XBM console: a reference frontend on plain browser APIs (fetch, DOM), with no build step.
"use strict";

const DEFAULTS = {plans: "http://127.0.0.1:8001", campaigns: "http://127.0.0.1:8002", compliance: "http://127.0.0.1:8003"};
const SESSION = "xbm-console-session";
//: a token is exchanged again this long before it expires (a quarter of its life when that is shorter)
const REFRESH_MARGIN_MS = 60 * 1000;
//: pacing: spend more than this share of the budget ahead of (or behind) the share of days gone
const PACING_MARGIN = 0.10;
const REMATCH = "/v1/compliance/orders/{ebp_code}/{order_no}/rematch";
const state = {
  urls: {...DEFAULTS}, apiKey: null, token: null, expiresAt: 0, margin: REFRESH_MARGIN_MS, role: null, exchanging: null,
  plansCursor: null, ordersCursor: null, exceptionsCursor: null, plan: null, rematch: null,
};
const $ = (id) => document.getElementById(id);

// ---- talking to XBM ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `the service answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function request(service, path, options, token) {
  const headers = {Accept: "application/json", ...(options.headers || {})};
  if (token) headers.Authorization = "Bearer " + token;
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
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (error) {
    body = {detail: text.slice(0, 200)};
  }
  return {response, body};
}

function keep() {
  sessionStorage.setItem(SESSION, JSON.stringify(
    {apiKey: state.apiKey, token: state.token, expiresAt: state.expiresAt, margin: state.margin, role: state.role}));
}

// The API key (kept for this tab) for a new access token; one exchange at a time however many calls wait on it.
function exchange() {
  if (!state.exchanging) {
    state.exchanging = (async () => {
      const {response, body} = await request("plans", "/v1/auth/token", {method: "POST", body: {api_key: state.apiKey}});
      if (!response.ok) throw new ApiError(response.status, body);
      state.token = body.access_token;
      state.expiresAt = Date.now() + body.expires_in * 1000;
      state.margin = Math.min(REFRESH_MARGIN_MS, body.expires_in * 1000 / 4);
      const claims = JSON.parse(atob(body.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      state.role = claims.role;
      keep();
    })().finally(() => { state.exchanging = null; });
  }
  return state.exchanging;
}

async function freshToken(force = false) {
  if (force || !state.token || Date.now() > state.expiresAt - state.margin) {
    try {
      await exchange();
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        signOut("Your API key is no longer accepted; sign in again.");
      }
      throw error;
    }
  }
  return state.token;
}

async function call(service, path, options = {}) {
  if (!state.apiKey) throw new ApiError(401, {detail: "not signed in"});
  let {response, body} = await request(service, path, options, await freshToken());
  if (response.status === 401) {
    // the token ended before we expected (a clock ahead, a restart): exchange the key again, once
    ({response, body} = await request(service, path, options, await freshToken(true)));
    if (response.status === 401) signOut("Your session has ended; sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function allPages(service, path, limit = 200, pages = 10) {
  const items = [];
  let cursor = null;
  for (let n = 0; n < pages; n++) {
    const params = new URLSearchParams({limit: String(limit)});
    if (cursor) params.set("cursor", cursor);
    const page = await call(service, path + (path.includes("?") ? "&" : "?") + params);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// ---- exact decimals for totals (amounts are decimal strings; never add them as floats) --------------------

function dec(text) {
  const [whole, frac = ""] = String(text).split(".");
  return {n: BigInt(whole + frac), scale: frac.length};
}

function toScale(value, scale) {
  if (value.scale === scale) return value.n;
  if (value.scale < scale) return value.n * 10n ** BigInt(scale - value.scale);
  const div = 10n ** BigInt(value.scale - scale);
  const q = value.n / div, r = value.n % div;
  const up = (r < 0n ? -r : r) * 2n >= div;  // half away from zero
  return up ? q + (value.n < 0n ? -1n : 1n) : q;
}

function cents(text) {
  return toScale(dec(text), 2);
}

function convertCents(amount, rate) {  // amount × rate, to the cent
  const a = dec(amount), r = dec(rate);
  return toScale({n: a.n * r.n, scale: a.scale + r.scale}, 2);
}

function formatCents(value) {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(3, "0");
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${whole}.${digits.slice(-2)}`;
}

// ---- screens ----------------------------------------------------------------------------------------------

const SECTIONS = ["sign-in", "plans", "grid", "campaign", "orders", "exceptions"];

function show(section) {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  showNotice("");
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
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
  return `${value.currency} ${formatCents(cents(value.amount))}`;
}

function ratio(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(2);
}

function percent(value, digits = 1) {
  return value === null || value === undefined ? "—" : `${(Number(value) * 100).toFixed(digits)} %`;
}

function rateText(rate, base) {
  return `1 ${rate.currency} = ${rate.rate} ${base} (${rate.source}, ${rate.as_of})`;
}

async function signIn(event) {
  event.preventDefault();
  showError("");
  showNotice("");
  for (const service of Object.keys(DEFAULTS)) {
    state.urls[service] = $(`${service}-url`).value.replace(/\/+$/, "");
  }
  localStorage.setItem("xbm-console-urls", JSON.stringify(state.urls));
  $("sign-in-button").disabled = true;
  try {
    state.apiKey = $("api-key").value.trim();
    state.token = null;
    state.rematch = null;
    await exchange();
    $("api-key").value = "";
    signedIn();
    await listPlans();
  } catch (error) {
    Object.assign(state, {apiKey: null, token: null});
    sessionStorage.removeItem(SESSION);
    showError(error.status === 401 ? "That API key was not accepted." : error.message);
  } finally {
    $("sign-in-button").disabled = false;
  }
}

const NAV = ["nav-plans", "nav-orders", "nav-exceptions", "sign-out"];

function signedIn() {
  $("who").textContent = `Signed in (${state.role})`;
  for (const id of NAV) $(id).disabled = false;
}

function signOut(message) {
  Object.assign(state, {apiKey: null, token: null, expiresAt: 0, role: null});
  sessionStorage.removeItem(SESSION);
  $("who").textContent = "";
  for (const id of NAV) $(id).disabled = true;
  show("sign-in");
  showNotice("");
  showError(message || "");
}

// ---- plans, the SBU grid and the plan's campaigns ----------------------------------------------------------

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

function budgetUsed(use) {
  if (!use) return "—";
  const rates = use.rates.map((r) => rateText(r, use.budget.currency));
  return `${percent(use.share, 0)} of ${money(use.budget)}` + (rates.length ? ` (spend converted at ${rates.join("; ")})` : "");
}

async function showGrid(plan) {
  showError("");
  showNotice("");
  show("grid");
  $("grid-title").textContent = `SBU grid — ${plan.name}`;
  const tbody = $("grid-table").querySelector("tbody");
  const tfoot = $("grid-table").querySelector("tfoot");
  tbody.replaceChildren();
  tfoot.replaceChildren();
  $("campaigns-table").querySelector("tbody").replaceChildren();
  $("campaigns-table").querySelector("tfoot").replaceChildren();
  try {
    const [full, grid] = await Promise.all([
      call("plans", `/v1/plans/${encodeURIComponent(plan.id)}`),
      call("plans", `/v1/plans/${encodeURIComponent(plan.id)}/sbu-grid`),
    ]);
    state.plan = full;
    const base = full.base_currency;
    const rates = full.fx_rates || [];
    $("rates").textContent = rates.length
      ? `Amounts in other currencies are converted to ${base} at the plan's rates: ${rates.map((r) => rateText(r, base)).join("; ")}.`
      : `The plan keeps no exchange rates: amounts in other currencies than ${base} are not converted.`;
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
      cell(row, sbu.performance_known && !sbu.budget_use && sbu.missing_rates.length
        ? `no rate for ${sbu.missing_rates.join(", ")}` : budgetUsed(sbu.budget_use));
    }
    $("grid-empty").hidden = grid.cells.length > 0;
    const totals = grid.totals;
    const row = tfoot.insertRow();
    row.id = "grid-total";
    if (totals.in_base) {
      const t = totals.in_base;
      cell(row, `Total in ${t.currency}`).colSpan = 6;
      cell(row, `${t.currency} ${formatCents(cents(t.budget))}`, "num");
      cell(row, `${t.currency} ${formatCents(cents(t.spend))}`, "num");
      cell(row, `${t.currency} ${formatCents(cents(t.revenue))}`, "num");
      cell(row, ratio(t.roas), "num");
      cell(row, t.rates.length ? `at ${t.rates.map((r) => rateText(r, t.currency)).join("; ")}` : "");
    } else {
      cell(row, `No total in ${grid.base_currency}: no rate for ${totals.missing_rates.join(", ")}. By currency: ` +
        totals.by_currency.map((c) => `${c.currency} budget ${formatCents(cents(c.budget))}, spend ${formatCents(cents(c.spend))}`).join("; ")).colSpan = 11;
    }
    await listCampaigns(full, grid.cells.map((c) => c.sbu_id));
  } catch (error) {
    showError(error.message);
  }
}

function pacingVerdict(p) {
  const budget = Number(p.budget.amount), spend = Number(p.spend.amount);
  if (!p.days_total || !budget) return {verdict: "—", text: "—"};
  const spent = spend / budget, time = Math.min(p.days_elapsed / p.days_total, 1);
  let verdict = "on pace";
  if (spent > 1) verdict = "over budget";
  else if (spent - time > PACING_MARGIN) verdict = "at risk";
  else if (time - spent > PACING_MARGIN) verdict = "behind";
  return {verdict, text: `${verdict}: ${percent(spent, 0)} of budget spent, ${percent(time, 0)} of days gone (day ${p.days_elapsed} of ${p.days_total})`};
}

async function listCampaigns(plan, sbuIds) {
  const tbody = $("campaigns-table").querySelector("tbody");
  const tfoot = $("campaigns-table").querySelector("tfoot");
  const ids = new Set(sbuIds);
  const campaigns = (await allPages("campaigns", "/v1/campaigns")).filter((c) => ids.has(c.sbu_id));
  const performances = await Promise.all(
    campaigns.map((c) => call("campaigns", `/v1/campaigns/${encodeURIComponent(c.id)}/performance`)));
  const base = plan.base_currency;
  const rates = Object.fromEntries((plan.fx_rates || []).map((r) => [r.currency, r]));
  let budget = 0n, spend = 0n, revenue = 0n;
  const used = new Map(), missing = new Set();
  campaigns.forEach((campaign, i) => {
    const perf = performances[i];
    const row = tbody.insertRow();
    row.dataset.campaignId = campaign.id;
    const link = document.createElement("a");
    link.textContent = campaign.name;
    link.dataset.campaignId = campaign.id;
    link.addEventListener("click", () => showCampaign(campaign));
    cell(row, "").appendChild(link);
    cell(row, campaign.kind);
    cell(row, campaign.status);
    cell(row, money(campaign.budget), "num");
    cell(row, money(perf.totals.cost), "num");
    cell(row, money(perf.totals.revenue), "num");
    cell(row, percent(perf.kpis.ctr, 2), "num");
    cell(row, percent(perf.kpis.cvr, 2), "num");
    cell(row, perf.kpis.cpa === null ? "—" : `${perf.currency} ${formatCents(cents(perf.kpis.cpa))}`, "num");
    cell(row, ratio(perf.kpis.roas), "num");
    const pace = pacingVerdict(perf.pacing);
    const td = cell(row, pace.text);
    td.dataset.verdict = pace.verdict;
    for (const [amount, add] of [[campaign.budget, (v) => { budget += v; }], [perf.totals.cost, (v) => { spend += v; }],
      [perf.totals.revenue, (v) => { revenue += v; }]]) {
      if (amount.currency === base) add(cents(amount.amount));
      else if (rates[amount.currency]) {
        add(convertCents(amount.amount, rates[amount.currency].rate));
        used.set(amount.currency, rates[amount.currency]);
      } else missing.add(amount.currency);
    }
  });
  $("campaigns-empty").hidden = campaigns.length > 0;
  if (!campaigns.length) return;
  const row = tfoot.insertRow();
  row.id = "campaigns-total";
  if (missing.size) {
    cell(row, `No total in ${base}: the plan has no rate for ${[...missing].sort().join(", ")}`).colSpan = 11;
    return;
  }
  cell(row, `Total in ${base}`).colSpan = 3;
  cell(row, `${base} ${formatCents(budget)}`, "num");
  cell(row, `${base} ${formatCents(spend)}`, "num");
  cell(row, `${base} ${formatCents(revenue)}`, "num");
  cell(row, "").colSpan = 3;
  cell(row, spend ? (Number(revenue) / Number(spend)).toFixed(2) : "—", "num");
  cell(row, used.size ? `converted at ${[...used.values()].map((r) => rateText(r, base)).join("; ")}` : "");
}

// ---- a campaign and its experiments -------------------------------------------------------------------------

async function showCampaign(campaign) {
  showError("");
  showNotice("");
  show("campaign");
  $("campaign-title").textContent = `${campaign.name} (${campaign.kind}, ${campaign.status})`;
  const dl = $("campaign-kpis");
  dl.replaceChildren();
  const tbody = $("experiments-table").querySelector("tbody");
  tbody.replaceChildren();
  try {
    const perf = await call("campaigns", `/v1/campaigns/${encodeURIComponent(campaign.id)}/performance`);
    const k = perf.kpis, t = perf.totals, c = perf.currency;
    const shown = [
      ["Budget", money(campaign.budget)], ["Spend", money(t.cost)], ["Revenue", money(t.revenue)],
      ["Impressions", t.impressions.toLocaleString("en-US")], ["Clicks", t.clicks.toLocaleString("en-US")],
      ["Conversions", t.conversions.toLocaleString("en-US")], ["CTR", percent(k.ctr, 2)], ["CVR", percent(k.cvr, 2)],
      ["CPC", k.cpc === null ? "—" : `${c} ${formatCents(cents(k.cpc))}`],
      ["CPA", k.cpa === null ? "—" : `${c} ${formatCents(cents(k.cpa))}`], ["ROAS", ratio(k.roas)], ["ROI", ratio(k.roi)],
      ["Attributed orders", String(t.attributed_orders)], ["Pacing", pacingVerdict(perf.pacing).text],
    ];
    for (const [term, value] of shown) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.kpi = term;
      dl.append(dt, dd);
    }
    const experiments = await allPages("campaigns", `/v1/campaigns/${encodeURIComponent(campaign.id)}/experiments`);
    for (const experiment of experiments) await experimentRow(tbody, experiment, campaign);
    $("experiments-empty").hidden = experiments.length > 0;
  } catch (error) {
    showError(error.message);
  }
}

const DECISIONS = {
  winner: "winner", no_winner: "no winner", insufficient_data: "not enough data yet", srm: "sample-ratio mismatch",
};

async function experimentRow(tbody, experiment, campaign) {
  const analysis = await call("campaigns", `/v1/experiments/${encodeURIComponent(experiment.id)}/analysis`);
  const row = tbody.insertRow();
  row.dataset.experimentId = experiment.id;
  cell(row, experiment.name);
  cell(row, experiment.method);
  cell(row, analysis.variants.map((v, i) => `${v.key}: ${percent(v.rate, 2)}` +
    (i === 0 ? " (control)" : v.relative_lift === null ? "" :
      `, ${v.relative_lift >= 0 ? "+" : ""}${percent(v.relative_lift)} [${percent(v.relative_ci_low)}, ${percent(v.relative_ci_high)}]`) +
    ` of ${v.n.toLocaleString("en-US")}`).join("; "));
  const reading = DECISIONS[analysis.decision] || analysis.decision;
  cell(row, (analysis.winner ? `${reading}: ${analysis.winner}` : reading) +
    (analysis.reasons && analysis.reasons.length ? ` (${analysis.reasons.join("; ")})` : ""));
  const decided = cell(row, "");
  if (experiment.decision) {
    decided.textContent = `recorded: ${DECISIONS[experiment.decision] || experiment.decision}` +
      (experiment.winner ? ` (${experiment.winner})` : "") + (experiment.decided_at ? ` on ${experiment.decided_at.slice(0, 10)}` : "");
  } else if (analysis.decision !== "insufficient_data") {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Record this decision";
    button.className = "record-decision";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await call("campaigns", `/v1/experiments/${encodeURIComponent(experiment.id)}/decision`, {method: "POST"});
        await showCampaign(campaign);
        showNotice(`Decision recorded for "${experiment.name}".`);
      } catch (error) {
        button.disabled = false;
        showError(error.message);
      }
    });
    decided.appendChild(button);
  } else {
    decided.textContent = "—";
  }
}

// ---- orders -----------------------------------------------------------------------------------------------

async function listOrders(more = false) {
  showError("");
  show("orders");
  const tbody = $("orders-table").querySelector("tbody");
  if (!more) {
    tbody.replaceChildren();
    state.ordersCursor = null;
  }
  try {
    const params = new URLSearchParams({limit: "50"});
    if ($("orders-state").value) params.set("state", $("orders-state").value);
    if (more && state.ordersCursor) params.set("cursor", state.ordersCursor);
    const page = await call("compliance", "/v1/compliance/orders?" + params);
    for (const order of page.items) {
      const row = tbody.insertRow();
      row.dataset.orderNo = order.order_no;
      const doc = order.documents.order || {};
      cell(row, order.order_no + (order.test ? " (test)" : ""));
      cell(row, order.ebp_code);
      cell(row, order.trade_direction);
      cell(row, order.state);
      cell(row, doc.actual_paid ? `${doc.currency} ${formatCents(cents(doc.actual_paid))}` : "—", "num");
      cell(row, order.checks.filter((c) => !c.passed).map((c) => c.rule).join(" ") || "—");
      cell(row, new Date(order.created_at).toISOString().slice(0, 16).replace("T", " ") + " UTC");
    }
    state.ordersCursor = page.next_cursor;
    $("orders-more").hidden = !page.next_cursor;
    $("orders-empty").hidden = tbody.rows.length > 0;
  } catch (error) {
    showError(error.message);
  }
}

// ---- the exceptions queue and what resolves each ----------------------------------------------------------

// Whether this compliance service re-matches on request (read once from its OpenAPI document): an older service
// without the route still shows every exception, and the console says re-matching is not available there.
async function canRematch() {
  if (state.rematch === null) {
    const {response, body} = await request("compliance", "/openapi.json", {}, null).catch(() => ({response: {ok: false}}));
    state.rematch = Boolean(response.ok && body && body.paths && body.paths[REMATCH]);
  }
  return state.rematch;
}

function orderPath(item) {
  return `/v1/compliance/orders/${encodeURIComponent(item.ebp_code)}/${encodeURIComponent(item.order_no)}`;
}

function itemsWithoutRecord(order) {
  const check = order && order.checks.find((c) => c.rule === "item_records" && !c.passed);
  if (!check) return [];
  const match = /no item record for (.+)$/.exec(check.detail);
  return match ? match[1].split(",").map((s) => s.trim()) : [];
}

// The actions that resolve an exception, as the queue names them ({action, text, method, path, item_no, fields,
// automatic}); from an older compliance service without them, the ones its reason implies.
function actionsFor(item, order) {
  if (Array.isArray(item.actions) && item.actions.length) {
    return item.actions.map((a) => (typeof a === "string" ? {action: a, text: a.replace(/_/g, " ")} : a));
  }
  const path = orderPath(item);
  if (item.reason === "incomplete") {
    return [{action: "complete_order", text: "give the missing fields", method: "PATCH", path, fields: item.missing, automatic: true}];
  }
  if (item.reason === "mismatch") {
    return [
      ...itemsWithoutRecord(order).map((n) => ({action: "add_item_record", text: `add the item record of ${n}`,
        method: "PUT", path: `/v1/compliance/items/${encodeURIComponent(n)}`, item_no: n, automatic: false})),
      {action: "rematch", text: "compare again once the sender has corrected the document that disagrees", method: "POST", path: path + "/rematch"},
    ];
  }
  if (item.reason === "missing_documents") {
    return item.missing.map((kind) => ({action: "send_documents", text: `send the ${kind} (its sender, or POST it)`}));
  }
  return [];
}

function why(item, order) {
  if (item.cause) return item.cause;
  if (item.reason === "incomplete") return `waiting for ${item.missing.join(", ")}`;
  if (item.reason === "missing_documents") return `waiting for the ${item.missing.join(" and ")} from the sender`;
  if (item.reason === "changed_after_declaration") return `the platform changed ${item.missing.join(", ") || "it"} after the declaration`;
  const failed = order ? order.checks.filter((c) => !c.passed).map((c) => c.detail) : [];
  return failed.length ? failed.join("; ") : "documents disagree";
}

function field(form, label, name, value, attrs = {}) {
  const wrap = document.createElement("label");
  wrap.textContent = label + " ";
  const input = document.createElement("input");
  input.name = name;
  input.value = value === undefined || value === null ? "" : String(value);
  Object.assign(input, attrs);
  wrap.appendChild(input);
  form.appendChild(wrap);
  return input;
}

function actionBlock(td, action) {
  const block = document.createElement("div");
  block.className = "action";
  block.dataset.action = action.action;
  td.appendChild(block);
  return block;
}

function hint(block, text) {
  const span = document.createElement("span");
  span.className = "hint";
  span.textContent = " " + text;
  block.appendChild(span);
  return span;
}

function actionForm(block, title, build, submit) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = title;
  button.dataset.action = title;
  block.appendChild(button);
  const form = document.createElement("form");
  form.hidden = true;
  form.className = "action-form";
  build(form);
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  form.appendChild(save);
  block.appendChild(form);
  button.addEventListener("click", () => { form.hidden = !form.hidden; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    showError("");
    try {
      await submit(form);
    } catch (error) {
      showError(error.message);
    } finally {
      save.disabled = false;
    }
  });
  return button;
}

// POST …/rematch; null when this compliance service cannot (an older one: no such route).
async function rematch(path) {
  if (!(await canRematch())) return null;
  try {
    return await call("compliance", path, {method: "POST"});
  } catch (error) {
    if ((error.status === 404 && !/order/i.test(error.message)) || error.status === 405) {
      state.rematch = false;  // the route is gone (an older replica answered): say so instead of failing
      return null;
    }
    throw error;
  }
}

async function afterAction(item, done) {
  const view = await call("compliance", orderPath(item));
  await listExceptions();
  showNotice(`${done} Order ${item.order_no} is now ${view.state}.`);
}

const NOT_AVAILABLE = "Re-matching is not available on this compliance service: the order is compared again when its next document arrives.";
//: the parts of an object field a correction form asks for
const PARTS = {consignee: ["name", "telephone", "address"], buyer: ["name", "id_number", "telephone"], payer: ["name", "id_number"]};

function valueAt(doc, path) {
  return path.split(".").reduce((at, key) => (at && typeof at === "object" ? at[key] : undefined), doc);
}

function patchForm(block, title, item, order, fields, done) {
  const doc = (order && order.documents && order.documents.order) || {};
  const names = fields.flatMap((f) => (PARTS[f] ? PARTS[f].map((p) => `${f}.${p}`) : [f]));
  actionForm(block, title, (form) => {
    for (const name of names) field(form, name, name, valueAt(doc, name), {required: true});
  }, async (form) => {
    const patch = {};
    for (const [path, value] of new FormData(form)) {
      const keys = path.split(".");
      let at = patch;
      keys.slice(0, -1).forEach((k) => { at = at[k] = at[k] || {}; });
      at[keys[keys.length - 1]] = value;
    }
    await call("compliance", orderPath(item), {method: "PATCH", body: patch});
    await afterAction(item, done);
  });
}

function addActions(td, item, order) {
  for (const action of actionsFor(item, order)) {
    const block = actionBlock(td, action);
    if (action.action === "add_item_record") {
      const itemNo = action.item_no || "";
      const line = ((order && order.documents.order && order.documents.order.items) || []).find((l) => l.item_no === itemNo) || {};
      actionForm(block, `Add the item record for ${itemNo}`, (form) => {
        field(form, "Goods name", "gname", line.name, {required: true});
        field(form, "Model", "gmodel", line.name);
        field(form, "HS code", "hs_code", "", {required: true, pattern: "[0-9]{10}", title: "ten digits"});
        field(form, "Unit (customs code)", "unit", line.unit, {required: true});
        field(form, "First legal unit", "unit1", line.unit, {required: true});
        field(form, "Legal quantity per unit", "qty1_per_unit", "1", {required: true});
        field(form, "Origin country (customs code)", "origin_country", "142", {required: true});
        field(form, "VAT rate", "vat_rate", "0.13", {required: true});
        field(form, "Consumption tax rate", "consumption_tax_rate", "0", {required: true});
      }, async (form) => {
        const body = Object.fromEntries(new FormData(form));
        if (!body.gmodel) delete body.gmodel;
        await call("compliance", action.path || `/v1/compliance/items/${encodeURIComponent(itemNo)}`, {method: "PUT", body});
        let said = `Item record ${itemNo} saved; the order was compared again.`;
        if (!action.automatic) {
          const rematched = await rematch(orderPath(item) + "/rematch");
          if (!rematched) said = `Item record ${itemNo} saved. ${NOT_AVAILABLE}`;
        }
        await afterAction(item, said);
      });
    } else if (action.action === "complete_order") {
      patchForm(block, "Complete the order", item, order, action.fields || item.missing, "Order completed and compared.");
    } else if (action.action === "correct_order" && (action.fields || []).length) {
      patchForm(block, "Correct the order", item, order, action.fields, "Order corrected and compared again.");
      hint(block, action.text);
    } else if (action.action === "rematch" || action.action === "correct_and_redeclare") {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = action.action === "rematch" ? "Re-match" : "Declare again";
      button.dataset.action = button.textContent;
      block.appendChild(button);
      const note = hint(block, action.text);
      canRematch().then((available) => {
        if (!available) {
          button.disabled = true;
          note.textContent = " re-matching is not available on this compliance service; a corrected document from the sender compares it again";
        }
      });
      button.addEventListener("click", async () => {
        button.disabled = true;
        showError("");
        try {
          const done = await rematch(action.path || orderPath(item) + "/rematch");
          if (!done) {
            note.textContent = " " + NOT_AVAILABLE;
            return;
          }
          await afterAction(item, "Compared again.");
        } catch (error) {
          button.disabled = false;
          showError(error.message);
        }
      });
    } else {
      // the sender's or the set-up's work (send or correct a document, register a payment institution,
      // withdraw): said in words
      block.textContent = action.text || action.action.replace(/_/g, " ");
    }
  }
  if (!td.childNodes.length) td.textContent = "—";
}

function when(timestamp) {
  return new Date(timestamp).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// Payments and waybills whose order never came, and platform deliveries that could not be read as an order:
// listed with the queue's first page.
function sideLists(page) {
  const orphans = $("orphans-table").querySelector("tbody");
  orphans.replaceChildren();
  for (const doc of page.orphans || []) {
    const row = orphans.insertRow();
    row.dataset.orderNo = doc.order_no;
    cell(row, doc.kind);
    cell(row, doc.key);
    cell(row, doc.ebp_code ? `${doc.ebp_code}/${doc.order_no}` : doc.order_no);
    cell(row, when(doc.since));
    cell(row, `the platform's order ${doc.order_no} never arrived: have the platform send it (or check the number the ${doc.kind} gives)`);
  }
  $("orphans").hidden = !orphans.rows.length;
  const unreadable = $("unreadable-table").querySelector("tbody");
  unreadable.replaceChildren();
  for (const delivery of page.unreadable || []) {
    const row = unreadable.insertRow();
    row.dataset.deliveryId = delivery.delivery_id;
    cell(row, delivery.source_id);
    cell(row, delivery.topic);
    cell(row, delivery.outcome === "unknown_order"
      ? "it names an order XBM never received" : `its body is not a readable order${delivery.detail ? ": " + delivery.detail : ""}`);
    cell(row, when(delivery.since));
    cell(row, delivery.outcome === "unknown_order"
      ? "have the platform send the order itself; this delivery is kept as received"
      : "have the platform send the order again; this delivery is kept as received");
  }
  $("unreadable").hidden = !unreadable.rows.length;
  const taxes = $("tax-disagreements-table").querySelector("tbody");
  taxes.replaceChildren();
  for (const bill of page.tax_disagreements || []) {
    const row = taxes.insertRow();
    row.dataset.orderNo = bill.order_no;
    cell(row, `${bill.ebp_code}/${bill.order_no}`);
    cell(row, bill.customs_total);
    cell(row, bill.xbm_total ?? "—");
    cell(row, bill.lines.length
      ? bill.lines.map((l) => `line ${l.gnum} ${l.tax_type}: ${l.customs} vs ${l.xbm}`).join("; ")
      : `total differs by ${bill.difference ?? "?"} (±${bill.tolerance})`);
    cell(row, when(bill.since));
    cell(row, bill.actions.map((a) => a.text).join("; "));
  }
  $("tax-disagreements").hidden = !taxes.rows.length;
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
    const orders = await Promise.all(page.items.map((item) => item.reason === "mismatch"
      ? call("compliance", `/v1/compliance/orders/${encodeURIComponent(item.ebp_code)}/${encodeURIComponent(item.order_no)}`)
      : Promise.resolve(null)));
    page.items.forEach((item, i) => {
      const row = tbody.insertRow();
      row.dataset.orderNo = item.order_no;
      cell(row, item.order_no);
      cell(row, item.ebp_code);
      cell(row, item.state);
      cell(row, why(item, orders[i]));
      const rules = cell(row, "");
      for (const rule of item.failing_rules) {
        const tag = document.createElement("span");
        tag.className = "rule";
        tag.textContent = rule;
        rules.appendChild(tag);
      }
      cell(row, new Date(item.since).toISOString().slice(0, 16).replace("T", " ") + " UTC");
      addActions(cell(row, "", "actions"), item, orders[i]);
    });
    if (!more) sideLists(page);
    state.exceptionsCursor = page.next_cursor;
    $("exceptions-more").hidden = !page.next_cursor;
    $("exceptions-empty").hidden = tbody.rows.length > 0 || page.orphans.length > 0 || page.unreadable.length > 0;
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
  $("campaign-back").addEventListener("click", () => (state.plan ? showGrid(state.plan) : listPlans()));
  $("nav-orders").addEventListener("click", () => listOrders());
  $("orders-state").addEventListener("change", () => listOrders());
  $("orders-more").addEventListener("click", () => listOrders(true));
  $("nav-exceptions").addEventListener("click", () => listExceptions());
  $("exceptions-more").addEventListener("click", () => listExceptions(true));
  $("sign-out").addEventListener("click", () => signOut());
  const kept = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  if (kept && kept.apiKey) {
    // the tab was reloaded: the key is still here, so is the session (a new token comes when this one ends)
    Object.assign(state, {apiKey: kept.apiKey, token: kept.token, expiresAt: kept.expiresAt || 0,
      margin: kept.margin || REFRESH_MARGIN_MS, role: kept.role});
    signedIn();
    listPlans();
  } else {
    show("sign-in");
  }
}

start();
