// The page for people: reads Thing Descriptions and draws live controls for any thing.
// No dependencies and no build step; served by the appliance itself.
"use strict";

(() => {
  const HISTORY = 60; // readings kept per chart
  const LOG_SIZE = 12; // entries kept in a thing's recent-events list
  const SEND_EVERY_MS = 80; // at most this often while a slider is dragged
  const HOLD_MS = 600; // after local input, remote echoes do not move the control
  const UNITS = {
    percent: "%",
    "degree celsius": "°C",
    celsius: "°C",
    "degree fahrenheit": "°F",
    fahrenheit: "°F",
    kelvin: "K",
    milliseconds: "ms",
    millisecond: "ms",
    seconds: "s",
    second: "s",
    lux: "lx",
    watt: "W",
    volt: "V",
    ampere: "A",
    hectopascal: "hPa",
    metre: "m",
    meter: "m",
  };
  const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });

  let lastId = 0;
  const newId = (prefix) => `${prefix}-${++lastId}`;

  /** A DOM element; `attrs.text` sets its text, `attrs.on*` functions become listeners. */
  function el(tag, attrs = {}, ...children) {
    const node = tag.startsWith("svg:")
      ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
      : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  const humanize = (key) => {
    const words = String(key).replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2");
    return words.charAt(0).toUpperCase() + words.slice(1);
  };

  const unitText = (unit) => (unit ? UNITS[String(unit).toLowerCase()] || String(unit) : "");

  function formatValue(value, unit) {
    if (value === undefined || value === null) return "–";
    const text = typeof value === "number" ? numberFormat.format(value) : String(value);
    const suffix = unitText(unit);
    if (!suffix) return text;
    return suffix === "%" ? `${text}%` : `${text} ${suffix}`;
  }

  function formatData(data) {
    if (data === undefined || data === null) return "";
    if (typeof data === "number") return numberFormat.format(data);
    return typeof data === "string" ? data : JSON.stringify(data);
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.message || body.detail || `${response.status} ${response.statusText}`;
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  // Where the page is served from. Opened directly, the server's paths are the page's; behind
  // a proxy that serves it under a prefix (the WebThings gateway's /proxy/<thing>/...) every
  // path gets that prefix, and the gateway's own token (?jwt= on the page's URL) is passed on,
  // because the gateway wants it on each request it proxies.
  const SOURCE = document.body.dataset.source || location.pathname;
  const MOUNT = (() => {
    const here = location.pathname.replace(/\/+$/, "");
    const source = SOURCE.replace(/\/+$/, "");
    return here.endsWith(source) ? here.slice(0, here.length - source.length) : "";
  })();
  const GATEWAY_JWT = new URLSearchParams(location.search).get("jwt");
  const BEHIND_GATEWAY = Boolean(GATEWAY_JWT && MOUNT);

  /** A server path as a link from this page (the gateway's token kept on it). */
  const link = (path) => MOUNT + path + (GATEWAY_JWT ? `?jwt=${encodeURIComponent(GATEWAY_JWT)}` : "");

  /** A server path (or URL) as this page reaches it. */
  function resolve(path) {
    const url = new URL(path, location.href);
    url.pathname = MOUNT + url.pathname;
    if (GATEWAY_JWT) url.searchParams.set("jwt", GATEWAY_JWT);
    return url.href;
  }

  /**
   * The bearer token for a server that asks for one. Kept in this origin's localStorage once
   * the owner has given it (in the form the page shows on a 401, or as #token=... in the URL:
   * a fragment never leaves the browser). Never sent through the gateway's proxy, which
   * keeps the Authorization header for its own token.
   */
  const auth = {
    key: "thingtalk.token",
    waiting: null,
    memory: "",
    get() {
      if (BEHIND_GATEWAY) return "";
      try {
        return localStorage.getItem(this.key) || this.memory;
      } catch {
        return this.memory;
      }
    },
    set(token) {
      try {
        if (token) localStorage.setItem(this.key, token);
        else localStorage.removeItem(this.key);
      } catch {
        // Storage is off (a private window): the token lasts as long as the page.
      }
      this.memory = token;
    },
    /** Resolves once the person has given a token; one form for every card. */
    need() {
      if (!this.waiting) this.waiting = new Promise((resolve) => showTokenForm(resolve));
      return this.waiting;
    },
  };

  function takeTokenFromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!match) return;
    auth.set(decodeURIComponent(match[1]));
    // Out of the address bar, the history and any screenshot.
    history.replaceState(null, "", location.pathname + location.search);
  }

  function showTokenForm(resolve) {
    const root = document.getElementById("things");
    const rejected = Boolean(auth.get());
    if (BEHIND_GATEWAY) {
      const notice = el("p", { class: "notice error", role: "alert" },
        document.createTextNode("This appliance needs an access token, which the gateway's proxy cannot pass on. Open the appliance directly, by its own address."));
      root.before(notice);
      return;
    }
    const id = newId("token");
    const input = el("input", { id, type: "password", autocomplete: "current-password", required: true, spellcheck: "false" });
    const form = el(
      "form",
      { class: "token", "aria-label": "Access token" },
      el("p", { role: "alert", text: rejected ? "The access token was not accepted. Enter a valid one." : "This appliance needs an access token." }),
      el("label", { for: id, text: "Access token" }),
      input,
      el("button", { type: "submit", text: "Unlock" }),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      auth.set(token);
      form.remove();
      auth.waiting = null;
      resolve();
    });
    root.before(form);
    input.focus();
  }

  async function request(url, method = "GET", body = undefined) {
    const init = { method, cache: "no-store", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const token = auth.get();
    if (token) init.headers.Authorization = `Bearer ${token}`;
    const response = await fetch(resolve(url), init);
    if (!response.ok) {
      const error = new Error(await errorText(response));
      error.status = response.status;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  const linkOf = (affordance, fallback) =>
    (affordance.links && affordance.links[0] && affordance.links[0].href) ||
    (affordance.forms && affordance.forms[0] && affordance.forms[0].href) ||
    fallback;

  /** One thing's card: its properties, actions, recent events, and its websocket. */
  class ThingView {
    constructor(td, linked) {
      this.td = td;
      this.path = td.href || new URL(td.base || location.href).pathname;
      const prefix = this.path === "/" ? "" : this.path.replace(/\/$/, "");
      const rel = (name) => (td.links || []).find((l) => l.rel === name);
      this.propertiesUrl = (rel("properties") || {}).href || `${prefix}/properties`;
      this.eventsUrl = (rel("events") || {}).href || `${prefix}/events`;
      this.prefix = prefix;
      this.controls = new Map();
      this.socket = null;
      this.retries = 0;
      this.retryTimer = 0;
      this.card = this.render(linked);
    }

    // ---- drawing -------------------------------------------------------------------------

    render(linked) {
      const td = this.td;
      const headingId = newId("thing");
      const title = td.title || td.id || this.path;
      this.status = el("span", { class: "status", role: "status", "data-state": "connecting", text: "Connecting…" });
      this.problem = el("p", { class: "problem", role: "alert" });
      const types = [].concat(td["@type"] || []);
      const card = el(
        "article",
        { class: "thing", "aria-labelledby": headingId, "data-thing": this.path },
        el(
          "div",
          { class: "thing-head" },
          el(
            "div",
            {},
            el(linked ? "h2" : "h1", { id: headingId, class: "title" }, linked ? el("a", { href: link(this.path), text: title }) : document.createTextNode(title)),
            td.description ? el("p", { class: "description", text: td.description }) : null,
          ),
          this.status,
        ),
        types.length ? el("ul", { class: "types", "aria-label": "Types" }, ...types.map((t) => el("li", { text: t }))) : null,
        this.problem,
      );
      const properties = Object.entries(td.properties || {});
      if (properties.length) {
        const list = el("div", { class: "props" });
        for (const [name, schema] of properties) list.append(this.renderProperty(name, schema));
        card.append(el("h3", { class: "section-title", text: "Properties" }), list);
      }
      const actions = Object.entries(td.actions || {});
      if (actions.length) {
        const list = el("div", { class: "actions" });
        for (const [name, schema] of actions) list.append(this.renderAction(name, schema));
        card.append(el("h3", { class: "section-title", text: "Actions" }), list);
      }
      this.log = el("ol", { class: "log", "aria-label": `Recent events of ${title}` });
      this.log.append(el("li", { class: "empty", text: "Nothing yet." }));
      card.append(el("h3", { class: "section-title", text: "Recent events" }), this.log);
      return card;
    }

    renderProperty(name, schema) {
      const id = newId(`p-${name}`);
      const hintId = schema.description ? `${id}-hint` : undefined;
      const label = schema.title || name;
      const unit = schema.unit;
      const numeric = schema.type === "number" || schema.type === "integer";
      const readOnly = Boolean(schema.readOnly);
      const row = el("div", { class: "prop", "data-property": name });
      const hint = hintId ? el("p", { class: "hint", id: hintId, text: schema.description }) : null;
      const href = linkOf(schema, `${this.prefix}/properties/${name}`);
      let control;

      if (readOnly && numeric) {
        row.classList.add("reading");
        const value = el("span", { class: "value", id }, "–");
        const unitSpan = el("span", { class: "unit", text: unitText(unit) });
        const chart = new Sparkline(label, unit);
        row.append(el("span", { class: "name", id: `${id}-label`, text: label }), el("span", {}, value, unitSpan));
        if (hint) row.append(hint);
        row.append(chart.node);
        control = {
          set(v, resync) {
            value.textContent = typeof v === "number" ? numberFormat.format(v) : formatData(v) || "–";
            // A re-read of an unchanged value is not a new reading.
            if (typeof v === "number" && !(resync && chart.last() === v)) chart.push(v);
          },
        };
      } else if (readOnly) {
        const badge = el("span", { class: schema.type === "boolean" ? "badge" : "value", id, "aria-labelledby": `${id}-label ${id}` });
        row.append(el("span", { class: "name", id: `${id}-label`, text: label }), badge);
        if (hint) row.append(hint);
        control = {
          set(v) {
            if (schema.type === "boolean") {
              badge.dataset.flag = String(Boolean(v));
              badge.textContent = v ? "Yes" : "No";
            } else badge.textContent = formatValue(v, unit);
          },
        };
      } else if (schema.type === "boolean") {
        const input = el("input", {
          type: "checkbox",
          role: "switch",
          class: "switch",
          id,
          "aria-describedby": hintId,
          onchange: () => this.write(name, href, input.checked),
        });
        row.append(el("label", { for: id, text: label }), input);
        if (hint) row.append(hint);
        control = { set(v) { input.checked = Boolean(v); } };
      } else if (numeric && schema.minimum !== undefined && schema.maximum !== undefined) {
        control = this.renderRange(name, href, schema, row, { id, hintId, label, hint });
      } else if (Array.isArray(schema.enum)) {
        const select = el("select", { id, "aria-describedby": hintId, onchange: () => this.write(name, href, schema.enum[select.selectedIndex]) },
          ...schema.enum.map((option) => el("option", { text: formatData(option) })));
        row.append(el("label", { for: id, text: label }), select);
        if (hint) row.append(hint);
        control = { set(v) { select.selectedIndex = schema.enum.indexOf(v); } };
      } else if (numeric || schema.type === "string") {
        const input = el("input", {
          type: numeric ? "number" : "text",
          id,
          step: schema.type === "integer" ? (schema.multipleOf || 1) : "any",
          min: schema.minimum,
          max: schema.maximum,
          "aria-describedby": hintId,
          onchange: () => {
            const v = numeric ? Number(input.value) : input.value;
            this.write(name, href, v);
          },
        });
        row.append(el("label", { for: id, text: unit ? `${label} (${unitText(unit)})` : label }), input);
        if (hint) row.append(hint);
        control = { set(v) { if (document.activeElement !== input) input.value = v ?? ""; } };
      } else {
        const value = el("code", { class: "value", id });
        row.append(el("span", { class: "name", text: label }), value);
        if (hint) row.append(hint);
        control = { set(v) { value.textContent = formatData(v); } };
      }
      this.controls.set(name, control);
      return row;
    }

    renderRange(name, href, schema, row, { id, hintId, label, hint }) {
      const unit = schema.unit;
      const step = schema.multipleOf || (schema.type === "integer" ? 1 : "any");
      const input = el("input", {
        type: "range",
        id,
        min: schema.minimum,
        max: schema.maximum,
        step,
        "aria-describedby": hintId,
      });
      const output = el("output", { for: id, class: "value", "aria-hidden": "true" });
      let heldUntil = 0;
      let latest; // the value the thing last reported
      let sent; // the value last sent
      let timer = 0;
      const show = (v) => {
        output.textContent = formatValue(v, unit);
        input.setAttribute("aria-valuetext", formatValue(v, unit));
      };
      const send = () => {
        timer = 0;
        const v = Number(input.value);
        if (v === sent) return;
        sent = v;
        this.write(name, href, v);
      };
      input.addEventListener("input", () => {
        heldUntil = performance.now() + HOLD_MS;
        show(Number(input.value));
        if (!timer) timer = setTimeout(send, SEND_EVERY_MS);
      });
      input.addEventListener("change", () => {
        clearTimeout(timer);
        send();
      });
      let applyTimer = 0;
      const apply = () => {
        applyTimer = 0;
        const wait = heldUntil - performance.now();
        if (wait > 0) {
          applyTimer = applyTimer || setTimeout(apply, wait + 10);
          return;
        }
        input.value = latest;
        show(latest);
        sent = latest;
      };
      row.append(el("label", { for: id, text: label }), output);
      if (hint) row.append(hint);
      row.append(el("div", { class: "range-row wide" }, input));
      return {
        set(v) {
          latest = v;
          if (!applyTimer) apply();
        },
      };
    }

    renderAction(name, schema) {
      const label = schema.title || name;
      const href = linkOf(schema, `${this.prefix}/actions/${name}`);
      const input = schema.input;
      const fields = [];
      const form = el("form", { "aria-label": label, novalidate: false });
      const addField = (key, fieldSchema, required) => {
        const id = newId(`a-${name}-${key || "input"}`);
        const numeric = fieldSchema.type === "number" || fieldSchema.type === "integer";
        const boolean = fieldSchema.type === "boolean";
        const initial = fieldSchema.default ?? fieldSchema.minimum;
        const field = el("input", {
          id,
          name: key || name,
          type: boolean ? "checkbox" : numeric ? "number" : "text",
          min: fieldSchema.minimum,
          max: fieldSchema.maximum,
          step: fieldSchema.type === "integer" ? 1 : numeric ? "any" : undefined,
          required: required && !boolean,
          value: boolean || initial === undefined ? undefined : initial,
        });
        const caption = `${fieldSchema.title || humanize(key || "input")}${fieldSchema.unit ? ` (${unitText(fieldSchema.unit)})` : ""}`;
        form.append(el("label", { for: id }, document.createTextNode(caption), field));
        fields.push({ key, field, read: () => (boolean ? field.checked : numeric ? Number(field.value) : field.value) });
      };
      if (input && input.type === "object" && input.properties) {
        const required = new Set(input.required || []);
        for (const [key, fieldSchema] of Object.entries(input.properties)) addField(key, fieldSchema, required.has(key));
      } else if (input && input.type) {
        addField(null, input, true);
      }
      form.append(el("button", { type: "submit", text: label }));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        let value;
        if (fields.length === 1 && fields[0].key === null) value = fields[0].read();
        else if (fields.length) value = Object.fromEntries(fields.map((f) => [f.key, f.read()]));
        const body = value === undefined ? {} : { input: value };
        try {
          await request(href, "POST", { [name]: body });
          this.showProblem("");
        } catch (error) {
          if (error.status === 401) this.awaitToken();
          else this.showProblem(`${label}: ${error.message}`);
        }
      });
      return el(
        "div",
        { class: "action", "data-action": name },
        schema.description ? el("p", { class: "hint", text: schema.description }) : null,
        form,
      );
    }

    // ---- talking to the thing --------------------------------------------------------------

    async start() {
      // Read first: a server that wants a token says so here, before any socket is tried.
      if (!(await this.refresh())) return;
      this.loadEvents();
      this.connect();
    }

    /** Wait for the owner's token, then start again (its socket too). */
    awaitToken() {
      if (this.waitingForToken) return;
      this.waitingForToken = true;
      this.disconnect();
      this.setStatus("closed", "Locked");
      auth.need().then(() => {
        this.waitingForToken = false;
        this.start();
      });
    }

    /**
     * Read every property over HTTP (at start, and after a reconnect or a refused write).
     * False when the server wants a token first.
     */
    async refresh() {
      try {
        const values = await request(this.propertiesUrl);
        for (const [name, value] of Object.entries(values)) this.update(name, value, true);
        this.showProblem("");
        return true;
      } catch (error) {
        if (error.status === 401) {
          this.awaitToken();
          return false;
        }
        this.showProblem(`Could not read the properties: ${error.message}`);
        return true;
      }
    }

    async loadEvents() {
      if (!Object.keys(this.td.events || {}).length) return;
      try {
        const events = await request(this.eventsUrl);
        for (const entry of events.slice(-LOG_SIZE)) this.logEvent(entry);
      } catch {
        // The list fills from the websocket anyway.
      }
    }

    update(name, value, resync = false) {
      const control = this.controls.get(name);
      if (control) control.set(value, resync);
    }

    async write(name, href, value) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ messageType: "setProperty", data: { [name]: value } }));
        return;
      }
      try {
        const answer = await request(href, "PUT", { [name]: value });
        this.showProblem("");
        if (answer && name in answer) this.update(name, answer[name]);
      } catch (error) {
        if (error.status === 401) {
          this.awaitToken();
          return;
        }
        this.showProblem(error.message);
        this.refresh();
      }
    }

    websocketUrl() {
      const alternate = (this.td.links || []).find((l) => l.rel === "alternate" && /^wss?:/.test(l.href));
      const url = new URL(resolve(alternate ? new URL(alternate.href).pathname : this.path));
      url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      // A browser's WebSocket cannot send headers: the token goes as ?jwt=, as the gateway's does.
      const token = auth.get();
      if (token) url.searchParams.set("jwt", token);
      return url.href;
    }

    disconnect() {
      clearTimeout(this.retryTimer);
      const socket = this.socket;
      this.socket = null;
      if (socket) socket.close();
    }

    connect() {
      this.disconnect();
      this.setStatus("connecting", "Connecting…");
      const socket = new WebSocket(this.websocketUrl());
      this.socket = socket;
      socket.addEventListener("open", () => {
        this.retries = 0;
        this.setStatus("open", "Live");
        const events = Object.keys(this.td.events || {});
        if (events.length) {
          const data = Object.fromEntries(events.map((e) => [e, {}]));
          socket.send(JSON.stringify({ messageType: "addEventSubscription", data }));
        }
        this.refresh(); // catch up on what changed while we were away
      });
      socket.addEventListener("message", (event) => this.receive(event.data));
      socket.addEventListener("close", () => {
        if (this.socket !== socket) return;
        this.socket = null;
        const delay = Math.min(15000, 500 * 2 ** this.retries) * (0.75 + Math.random() / 2);
        this.retries += 1;
        this.setStatus("closed", `Offline, retrying in ${Math.ceil(delay / 1000)} s`);
        this.retryTimer = setTimeout(() => this.connect(), delay);
      });
    }

    receive(text) {
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      const data = message.data || {};
      switch (message.messageType) {
        case "propertyStatus":
          for (const [name, value] of Object.entries(data)) this.update(name, value);
          break;
        case "event":
          this.logEvent(data);
          break;
        case "actionStatus":
          for (const [name, request] of Object.entries(data)) {
            const title = (this.td.actions?.[name] || {}).title || name;
            const time = request.timeCompleted || request.timeRequested;
            this.addLog(time, `${title}: ${request.status}`, request.error ? "error" : "");
          }
          break;
        case "error":
          this.showProblem(data.message || "The thing refused the request");
          this.refresh();
          break;
        default:
          break;
      }
    }

    logEvent(entry) {
      for (const [name, body] of Object.entries(entry)) {
        const schema = (this.td.events || {})[name] || {};
        const data = body.data === undefined ? "" : `: ${formatValue(body.data, schema.unit)}`;
        this.addLog(body.timestamp, `${schema.title || name}${data}`);
      }
    }

    addLog(timestamp, text, kind = "") {
      const empty = this.log.querySelector(".empty");
      if (empty) empty.remove();
      const when = timestamp ? new Date(timestamp) : new Date();
      const stamp = Number.isNaN(when.getTime()) ? new Date() : when;
      this.log.prepend(
        el("li", { class: kind || undefined }, el("time", { datetime: stamp.toISOString(), text: timeFormat.format(stamp) }), el("span", { text })),
      );
      while (this.log.children.length > LOG_SIZE) this.log.lastElementChild.remove();
    }

    setStatus(state, text) {
      this.status.dataset.state = state;
      this.status.textContent = text;
    }

    showProblem(text) {
      this.problem.textContent = text;
    }
  }

  /** A small chart of the last readings of a number. */
  class Sparkline {
    constructor(label, unit) {
      this.label = label;
      this.unit = unit;
      this.points = [];
      this.area = el("svg:polygon");
      this.line = el("svg:polyline");
      this.svg = el("svg:svg", { class: "spark", viewBox: "0 0 100 30", preserveAspectRatio: "none", role: "img", "data-points": "0" }, this.area, this.line);
      this.low = el("span");
      this.high = el("span");
      this.node = el("div", { class: "wide" }, this.svg, el("div", { class: "spark-range", "aria-hidden": "true" }, this.low, this.high));
      this.draw();
    }

    last() {
      return this.points[this.points.length - 1];
    }

    push(value) {
      this.points.push(value);
      if (this.points.length > HISTORY) this.points.shift();
      this.draw();
    }

    draw() {
      const points = this.points;
      const n = points.length;
      this.svg.dataset.points = String(n);
      if (!n) {
        this.svg.setAttribute("aria-label", `${this.label}: no readings yet`);
        return;
      }
      // At least one unit tall, so sensor noise in the last digit does not look like a swing.
      const mid = (Math.min(...points) + Math.max(...points)) / 2;
      const span = Math.max(Math.max(...points) - Math.min(...points), 1);
      const lo = mid - span / 2;
      // The readings so far span the width; the oldest drops off once HISTORY are kept.
      const step = 100 / Math.max(n - 1, 1);
      const xy = points.map((v, i) => `${(i * step).toFixed(2)},${(28 - ((v - lo) / span) * 26).toFixed(2)}`);
      if (n === 1) xy.push(`100,${xy[0].split(",")[1]}`);
      this.line.setAttribute("points", xy.join(" "));
      this.area.setAttribute("points", `0,30 ${xy.join(" ")} 100,30`);
      const min = Math.min(...points);
      const max = Math.max(...points);
      this.low.textContent = `min ${formatValue(min, this.unit)}`;
      this.high.textContent = `max ${formatValue(max, this.unit)} · last ${n}`;
      this.svg.setAttribute(
        "aria-label",
        `${this.label}, last ${n} readings, from ${formatValue(min, this.unit)} to ${formatValue(max, this.unit)}`,
      );
    }
  }

  async function main() {
    takeTokenFromFragment();
    const root = document.getElementById("things");
    const source = SOURCE;
    let data;
    try {
      data = await request(source);
    } catch (error) {
      root.replaceChildren(el("p", { class: "notice error", role: "alert", text: `Could not load ${source}: ${error.message}` }));
      return;
    }
    const many = Array.isArray(data);
    const views = (many ? data : [data]).map((td) => new ThingView(td, many));
    root.replaceChildren(...views.map((view) => view.card));
    for (const view of views) view.start();
  }

  main();
})();
