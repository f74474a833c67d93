/*! Kalamna chat widget. Apache-2.0. One file, no dependencies, no third-party requests.
 * <script src="https://<kalamna host>/widget.js" data-api-key="klm_..." async></script>
 * Everything that comes from the network is set with textContent, never as HTML. */
(() => {
  "use strict";
  const script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-api-key]');
  if (!script || window.__kalamna) return;
  window.__kalamna = true;
  const KEY = script.getAttribute("data-api-key") || "";
  const API = new URL("api/v1/chat/", script.src).href;
  const STORE = "kalamna:" + KEY;
  const html = document.documentElement;
  const AR = /^ar\b/i.test(script.getAttribute("data-lang") || html.lang || "") || html.dir === "rtl";
  const T = AR
    ? {
        open: "افتح المحادثة مع ", close: "أغلق المحادثة", input: "اكتب رسالتك…", send: "إرسال",
        person: "تحدث مع موظف", helpful: "مفيد (helpful)", unhelpful: "غير مفيد (not helpful)",
        sources: "المصادر:", waiting: "ننتظر انضمام أحد الموظفين…", human: "أنت تتحدث مع ",
        closed: "انتهت هذه المحادثة.", restart: "ابدأ محادثة جديدة", thanks: "شكرًا على رأيك!",
        slow: (s) => `أرسلت رسائل كثيرة بسرعة. حاول مجددًا بعد ${s} ثانية.`,
        busy: "المساعد غير متاح الآن. حُفظت رسالتك؛ حاول مجددًا بعد قليل.",
        offline: "يبدو أنك غير متصل بالإنترنت. تحقق من اتصالك وحاول مجددًا.",
        away: "تعذر الوصول إلى المحادثة من هذه الصفحة الآن. نعتذر عن ذلك.",
        nobody: "لا يمكن تحويلك إلى موظف الآن.", oops: "حدث خطأ ما. حاول مجددًا.", log: "الرسائل",
      }
    : {
        open: "Open chat with ", close: "Close chat", input: "Type your message…", send: "Send",
        person: "Talk to a person", helpful: "Helpful", unhelpful: "Not helpful",
        sources: "Sources:", waiting: "Waiting for a person to join…", human: "You are chatting with ",
        closed: "This conversation has ended.", restart: "Start a new conversation",
        thanks: "Thanks for your feedback!",
        slow: (s) => `You are sending messages too quickly. Please try again in ${s} seconds.`,
        busy: "The assistant is unavailable right now. Your message was kept; please try again in a moment.",
        offline: "You seem to be offline. Check your connection and try again.",
        away: "Sorry, the chat can't be reached from this page right now.",
        nobody: "Nobody can take over this conversation right now.",
        oops: "Something went wrong. Please try again.", log: "Messages",
      };

  // ---- tiny DOM helpers (text only) ----
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = String(text);
    return n;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const icon = (d) => {
    const s = document.createElementNS(SVG, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", d);
    s.append(p);
    return s;
  };
  const I = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    x: "M6 6l12 12M18 6L6 18",
    send: "M3 20l18-8L3 4v6l12 2-12 2z",
    up: "M2 21h4V9H2zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13 1 6.6 7.4A2 2 0 0 0 6 8.8V19a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7A2 2 0 0 0 22 12z",
  };

  // ---- styles: everything lives in the shadow root; :host resets what the page could inherit ----
  const CSS = `
:host{all:initial!important;display:block!important;position:static!important}
*{box-sizing:border-box}
.r{--p:#0F766E;--f:#fff;position:fixed;bottom:20px;right:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans Arabic",Tahoma,"DejaVu Sans",sans-serif;color:#1f2328;text-align:start;letter-spacing:normal;word-spacing:normal;text-transform:none}
.r.left{right:auto;left:20px}
button,input{font:inherit;color:inherit;letter-spacing:inherit;margin:0}
button{cursor:pointer}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
svg{width:22px;height:22px;fill:currentColor;display:block}
.l{width:58px;height:58px;border-radius:50%;border:0;background:var(--p);color:var(--f);box-shadow:0 6px 20px rgba(0,0,0,.25);display:grid;place-items:center;margin-inline-start:auto}
.l svg{width:28px;height:28px}
.r.left .l{margin-inline-start:0}
.badge{position:absolute;top:-2px;right:-2px;background:#dc2626;color:#fff;border-radius:10px;font-size:12px;padding:0 6px}
.p{position:absolute;bottom:72px;right:0;width:370px;height:min(600px,calc(100vh - 110px));background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}
.r.left .p{right:auto;left:0}
.p[hidden]{display:none}
header{background:var(--p);color:var(--f);padding:14px 16px;display:flex;align-items:center;gap:8px}
header h2{font-size:16px;font-weight:600;margin:0;flex:1}
.x{background:transparent;border:0;color:inherit;padding:4px;border-radius:6px}
.x svg{stroke:currentColor;stroke-width:2.4;fill:none;width:20px;height:20px}
.g{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}
.m{max-width:85%;padding:9px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #e3e6ea;align-self:flex-start}
.m.user{align-self:flex-end;background:var(--p);color:var(--f);border-color:transparent}
.m.agent{border-color:var(--p)}
.m.system{align-self:center;background:transparent;border:0;color:#57606a;font-size:13px;text-align:center}
.m[aria-busy=true] .t:empty::after{content:"…"}
.who{font-size:12px;font-weight:600;color:var(--p);margin-bottom:2px}
.src{margin:6px 0 0;padding:6px 0 0;border-top:1px solid #e3e6ea;font-size:12px;color:#57606a;list-style:none}
.src li{display:inline}
.src li+li::before{content:" · "}
.fb{display:flex;gap:4px;margin-top:6px;align-items:center;font-size:12px;color:#57606a}
.fb button{background:transparent;border:1px solid #d0d7de;border-radius:8px;padding:3px 6px;color:#57606a}
.fb button svg{width:16px;height:16px}
.fb button.down svg{transform:rotate(180deg)}
.fb button[aria-pressed=true]{background:var(--p);color:var(--f);border-color:var(--p)}
.fb button:disabled{cursor:default}
.s{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 10px;background:#f6f7f9}
.s button{background:#fff;border:1px solid var(--p);color:#1f2328;border-radius:16px;padding:5px 11px;font-size:13px;text-align:start}
.n{margin:0 14px 8px;padding:8px 10px;border-radius:8px;background:#fff4e5;color:#7a4100;font-size:13px}
.b{padding:8px 14px;background:#eef6ff;color:#0b3d91;font-size:13px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.b button{background:var(--p);color:var(--f);border:0;border-radius:8px;padding:4px 10px;font-size:13px}
.n[hidden],.b[hidden],.s[hidden]{display:none}
form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #e3e6ea;background:#fff}
form input{flex:1;min-width:0;border:1px solid #d0d7de;border-radius:10px;padding:9px 11px;background:#fff}
form input:disabled{background:#f0f1f3}
form button{border:0;border-radius:10px;background:var(--p);color:var(--f);padding:0 12px}
form button:disabled{opacity:.5;cursor:default}
[dir=rtl] form button svg{transform:scaleX(-1)}
.ft{padding:0 12px 10px;background:#fff;text-align:center}
.ft button{background:transparent;border:0;color:#57606a;font-size:13px;text-decoration:underline}
.ft button:disabled{opacity:.5;cursor:default}
@media (max-width:480px){.r{bottom:12px;right:12px}.r.left{left:12px}
.p{position:fixed;inset:0;width:auto;height:auto;border-radius:0}}`;

  // ---- state ----
  let store = {};
  try {
    store = JSON.parse(localStorage.getItem(STORE) || "{}") || {};
  } catch (e) {
    store = {};
  }
  const save = () => {
    try {
      localStorage.setItem(STORE, JSON.stringify(store));
    } catch (e) {
      /* private mode: the session lasts this page only */
    }
  };
  let cfg = null;
  let cfgError = null;
  let loaded = false;
  let busy = false;
  let unread = 0;
  let events = null; // AbortController of the live events stream
  const seen = new Set();

  // ---- DOM ----
  const host = document.createElement("kalamna-widget");
  const root = host.attachShadow({ mode: "open" });
  const style = el("style");
  style.textContent = CSS;
  const R = el("div", "r");
  R.dir = AR ? "rtl" : "ltr";
  const launcher = el("button", "l");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "kalamna-panel");
  launcher.append(icon(I.chat));
  const badge = el("span", "badge");
  badge.hidden = true;
  launcher.append(badge);
  const panel = el("section", "p");
  panel.id = "kalamna-panel";
  panel.setAttribute("role", "dialog");
  panel.hidden = true;
  const head = el("header");
  const title = el("h2");
  const closeBtn = el("button", "x");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", T.close);
  const xs = icon(I.x);
  closeBtn.append(xs);
  head.append(title, closeBtn);
  const log = el("div", "g");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", T.log);
  log.tabIndex = 0;
  const sugg = el("div", "s");
  sugg.hidden = true;
  const notice = el("div", "n");
  notice.setAttribute("role", "alert");
  notice.hidden = true;
  const banner = el("div", "b");
  banner.setAttribute("role", "status");
  banner.hidden = true;
  const form = el("form");
  const input = el("input");
  input.type = "text";
  input.maxLength = 4000;
  input.dir = "auto";
  input.placeholder = T.input;
  input.setAttribute("aria-label", T.input);
  input.autocomplete = "off";
  const sendBtn = el("button");
  sendBtn.type = "submit";
  sendBtn.setAttribute("aria-label", T.send);
  sendBtn.append(icon(I.send));
  form.append(input, sendBtn);
  const foot = el("div", "ft");
  const personBtn = el("button", "", T.person);
  personBtn.type = "button";
  foot.append(personBtn);
  panel.append(head, log, sugg, notice, banner, form, foot);
  R.append(panel, launcher);
  root.append(style, R);

  const setName = (name) => {
    title.textContent = name;
    launcher.setAttribute("aria-label", T.open + name);
    panel.setAttribute("aria-label", name);
  };
  setName("Kalamna");

  // ---- network ----
  const headers = (extra) => {
    const h = { "X-API-Key": KEY, ...extra };
    if (store.token) h["X-Session-Token"] = store.token;
    return h;
  };
  const call = (method, path, body, extra) =>
    fetch(API + path, {
      method,
      headers: headers(body ? { "Content-Type": "application/json", ...extra } : extra),
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
    });
  const errorOf = async (res) => {
    let code = "";
    try {
      code = (await res.json()).code || "";
    } catch (e) {
      /* not JSON */
    }
    return { status: res.status, code, retry: res.headers.get("Retry-After") };
  };
  const say = (text) => {
    notice.textContent = text;
    notice.hidden = !text;
  };
  const explain = (err) => {
    if (!err || err.status === undefined) return say(navigator.onLine === false ? T.offline : T.away);
    if (err.status === 429) return say(T.slow(Math.max(1, parseInt(err.retry, 10) || 30)));
    if (err.status === 503) return say(T.busy);
    if (err.code === "session_closed") return setClosed(true);
    say(T.oops);
  };

  // Reads an SSE body: calls on(event, data) for each complete event.
  const readSSE = async (res, on) => {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf = (buf + dec.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let ev = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line[0] === ":") continue;
          const c = line.indexOf(":");
          const field = c < 0 ? line : line.slice(0, c);
          const val = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
          if (field === "event") ev = val;
          else if (field === "data") data.push(val);
        }
        if (data.length) {
          let parsed = null;
          try {
            parsed = JSON.parse(data.join("\n"));
          } catch (e) {
            continue;
          }
          on(ev, parsed);
        }
      }
    }
  };

  // ---- rendering ----
  const scroll = () => {
    log.scrollTop = log.scrollHeight;
  };
  const bubble = (role, text, who) => {
    const m = el("div", "m " + (role === "assistant" ? "bot" : role));
    m.dir = "auto";
    if (who) m.append(el("div", "who", who));
    const t = el("div", "t", text);
    m.append(t);
    log.append(m);
    scroll();
    return m;
  };
  const feedback = (m, id) => {
    const box = el("div", "fb");
    const make = (cls, label, rating) => {
      const b = el("button", cls);
      b.type = "button";
      b.setAttribute("aria-label", label);
      b.setAttribute("aria-pressed", String(store.rated && store.rated[id] === rating));
      b.append(icon(I.up));
      b.addEventListener("click", () => rate(box, id, rating));
      return b;
    };
    box.append(make("up", T.helpful, 5), make("down", T.unhelpful, 1));
    if (store.rated && store.rated[id]) for (const b of box.querySelectorAll("button")) b.disabled = true;
    m.append(box);
  };
  const finishReply = (m, msg) => {
    m.dataset.id = msg.id;
    seen.add(msg.id);
    m.querySelector(".t").textContent = msg.content;
    m.removeAttribute("aria-busy");
    const titles = [...new Set((msg.sources || []).map((s) => s.title).filter(Boolean))];
    if (titles.length) {
      const ul = el("ul", "src");
      ul.setAttribute("aria-label", T.sources);
      ul.append(el("li", "", T.sources + " " + titles[0]));
      for (const t of titles.slice(1)) ul.append(el("li", "", t));
      m.append(ul);
    }
    feedback(m, msg.id);
    scroll();
  };
  const render = (msg) => {
    if (!msg || !msg.id || seen.has(msg.id)) return;
    seen.add(msg.id);
    if (msg.role === "assistant") finishReply(bubble("assistant", ""), msg);
    else bubble(msg.role, msg.content, msg.role === "agent" ? msg.author_name : null).dataset.id = msg.id;
  };
  const welcome = () => {
    log.textContent = "";
    seen.clear();
    bubble("assistant", cfg ? cfg.welcome_message : "");
    sugg.textContent = "";
    for (const q of (cfg && cfg.suggested_questions) || []) {
      const b = el("button", "", q);
      b.type = "button";
      b.dir = "auto";
      b.addEventListener("click", () => send(q));
      sugg.append(b);
    }
    sugg.hidden = !sugg.childElementCount || !!store.id;
  };

  // ---- modes: bot, waiting, human; and the closed state ----
  const setMode = (mode, agent) => {
    store.mode = mode;
    if (agent) store.agent = agent;
    save();
    if (store.closed) return;
    banner.textContent = "";
    banner.hidden = mode === "bot" || !mode;
    if (mode === "waiting") banner.textContent = T.waiting;
    if (mode === "human") banner.textContent = T.human + (store.agent || "");
    personBtn.disabled = mode === "waiting" || mode === "human";
  };
  const setClosed = (closed) => {
    store.closed = closed;
    save();
    input.disabled = closed || !!cfgError;
    sendBtn.disabled = input.disabled;
    personBtn.disabled = closed || !!cfgError;
    banner.textContent = "";
    banner.hidden = !closed;
    if (closed) {
      if (events) events.abort();
      banner.append(el("span", "", T.closed));
      const again = el("button", "", T.restart);
      again.type = "button";
      again.addEventListener("click", () => restart(true));
      banner.append(again);
    } else setMode(store.mode);
  };
  const restart = (focus) => {
    if (events) events.abort();
    store = {};
    save();
    say("");
    setClosed(false);
    welcome();
    if (focus === true) input.focus();
  };

  // ---- session, history and the live events stream ----
  const ensureSession = async () => {
    if (store.id) return;
    const res = await call("POST", "sessions", {
      visitor: { locale: (navigator.language || "").slice(0, 35) || undefined },
      metadata: { page_url: location.href.slice(0, 2000) },
    });
    if (!res.ok) throw await errorOf(res);
    const s = await res.json();
    store = { id: s.session_id, token: s.session_token, mode: s.mode || "bot", rated: {} };
    save();
    sugg.hidden = true;
    listen();
  };
  const history = async () => {
    if (!store.id) return;
    const path = `sessions/${store.id}/messages?limit=100`;
    let res = await call("GET", path);
    if (res.status === 401 || res.status === 404) return restart();
    if (!res.ok) throw await errorOf(res);
    let page = await res.json();
    if (page.total > 100) {
      res = await call("GET", `${path}&offset=${page.total - 100}`);
      if (res.ok) page = await res.json();
    }
    for (const msg of page.items) render(msg);
  };
  const onEvent = (ev, data) => {
    if (ev === "message") {
      render(data);
      if (data.role === "agent" && data.author_name && store.mode !== "human") setMode("human", data.author_name);
      if (panel.hidden) {
        unread += 1;
        badge.textContent = String(unread);
        badge.hidden = false;
      }
    } else if (ev === "mode") setMode(data.mode, data.agent_name);
    else if (ev === "closed") setClosed(true);
  };
  // The events stream needs headers, so it is read with fetch (EventSource cannot send them); it
  // reconnects with backoff after a drop and fetches the history again to catch what it missed.
  const listen = async () => {
    if ((events && !events.signal.aborted) || !store.id || store.closed) return;
    const ctl = new AbortController();
    events = ctl;
    const id = store.id;
    let delay = 1000;
    let first = true;
    while (!ctl.signal.aborted && store.id === id && !store.closed) {
      try {
        const res = await fetch(API + `sessions/${id}/events`, {
          headers: headers({ Accept: "text/event-stream" }),
          signal: ctl.signal,
          credentials: "omit",
        });
        if ([401, 403, 404, 405].includes(res.status)) break; // no such stream: stop quietly
        if (res.ok) {
          if (!first) await history();
          first = false;
          delay = 1000;
          await readSSE(res, onEvent);
        }
      } catch (e) {
        if (ctl.signal.aborted) break;
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * 500));
      delay = Math.min(delay * 2, 30000);
    }
    if (events === ctl) events = null;
  };
  addEventListener("online", () => {
    if (events) events.abort();
    events = null;
    listen();
  });

  // ---- actions ----
  const send = async (text) => {
    text = (text || "").trim();
    if (!text || busy || store.closed || cfgError) return;
    busy = true;
    sendBtn.disabled = true;
    say("");
    sugg.hidden = true;
    input.value = "";
    const mine = bubble("user", text);
    let reply = null;
    try {
      await ensureSession();
      const res = await call("POST", `sessions/${store.id}/messages`, { content: text }, {
        Accept: "text/event-stream",
      });
      if (!res.ok) {
        const err = await errorOf(res);
        if (err.status !== 503) {
          mine.remove();
          if (err.code !== "session_closed") input.value = text;
        }
        explain(err);
        return;
      }
      const done = (d) => {
        if (d.message) {
          mine.dataset.id = d.message.id;
          seen.add(d.message.id);
        }
        if (d.reply && reply && d.reply.role === "assistant") finishReply(reply, d.reply);
        else {
          if (reply) reply.remove();
          render(d.reply); // a system message (handover), or nothing while a person is awaited
        }
        if (d.mode) setMode(d.mode);
      };
      if ((res.headers.get("Content-Type") || "").includes("text/event-stream")) {
        reply = bubble("assistant", "");
        reply.setAttribute("aria-busy", "true");
        let ended = false;
        await readSSE(res, (ev, d) => {
          if (ev === "delta") {
            reply.querySelector(".t").textContent += d.text || "";
            scroll();
          } else if (ev === "done") {
            ended = true;
            done(d);
          } else if (ev === "error") {
            ended = true;
            reply.remove();
            explain({ status: d.status_code, code: d.code });
          }
        });
        if (!ended) {
          reply.remove();
          explain(null);
        }
      } else done(await res.json());
    } catch (err) {
      if (reply) reply.remove();
      if (!mine.dataset.id) {
        mine.remove();
        input.value = text;
      }
      explain(err && err.status !== undefined ? err : null);
    } finally {
      busy = false;
      sendBtn.disabled = !!store.closed;
    }
  };
  const rate = async (box, id, rating) => {
    const buttons = box.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    try {
      const res = await call("POST", `sessions/${store.id}/feedback`, { rating, message_id: id });
      if (!res.ok) throw await errorOf(res);
      store.rated = { ...store.rated, [id]: rating };
      save();
      buttons[rating === 5 ? 0 : 1].setAttribute("aria-pressed", "true");
      box.append(el("span", "", T.thanks));
    } catch (err) {
      for (const b of buttons) b.disabled = false;
      explain(err && err.status !== undefined ? err : null);
    }
  };
  const handover = async () => {
    say("");
    try {
      await ensureSession();
      const res = await call("POST", `sessions/${store.id}/handover`, {});
      if (!res.ok) {
        const err = await errorOf(res);
        if (err.status === 409 || err.status === 404) return say(T.nobody);
        throw err;
      }
      setMode((await res.json()).mode || "waiting");
    } catch (err) {
      explain(err && err.status !== undefined ? err : null);
    }
  };

  const open = async (isOpen) => {
    panel.hidden = !isOpen;
    launcher.setAttribute("aria-expanded", String(isOpen));
    try {
      sessionStorage.setItem(STORE + ":open", isOpen ? "1" : "");
    } catch (e) {
      /* ignore */
    }
    if (!isOpen) return launcher.focus();
    unread = 0;
    badge.hidden = true;
    input.focus();
    if (!loaded) await load();
  };
  const load = async () => {
    loaded = true;
    try {
      await history();
    } catch (err) {
      explain(err && err.status !== undefined ? err : null);
    }
  };

  launcher.addEventListener("click", () => open(panel.hidden));
  closeBtn.addEventListener("click", () => open(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") open(false);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(input.value);
  });
  personBtn.addEventListener("click", handover);

  const start = async () => {
    (document.body || html).append(host);
    try {
      const res = await call("GET", "config");
      if (!res.ok) throw await errorOf(res);
      cfg = await res.json();
      const w = cfg.widget || {};
      if (/^#[0-9a-f]{6}$/i.test(w.primary_color || "")) {
        const n = parseInt(w.primary_color.slice(1), 16);
        const lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
        R.style.setProperty("--p", w.primary_color);
        R.style.setProperty("--f", lum > 0.6 ? "#111" : "#fff");
      }
      if (w.position === "left") R.classList.add("left");
      if (cfg.handover && cfg.handover.enabled === false) foot.hidden = true;
      setName(cfg.bot_name || "Kalamna");
    } catch (err) {
      cfgError = err;
    }
    welcome();
    if (cfgError) {
      log.textContent = "";
      explain(cfgError.status !== undefined ? cfgError : null);
      if (cfgError.status === 401 || cfgError.status === 403) say(T.away);
    }
    setClosed(!!store.closed);
    let reopen = false;
    try {
      reopen = sessionStorage.getItem(STORE + ":open") === "1";
    } catch (e) {
      /* ignore */
    }
    if (cfgError) return;
    if (store.id) await load(); // before the live stream, so that the order of messages is kept
    if (reopen) open(true);
    listen();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
