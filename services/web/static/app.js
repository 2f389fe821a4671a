"use strict";
// The member app (会员服务): plain JS, no framework, nothing from a CDN. Every call goes through
// the web service's forwarder (/api/{service}/...) with session.js: the access token lives in this
// page's memory only and is renewed through identity's /web/token with the X-CSRF-Token header. Text is set
// with textContent, never as HTML.
(() => {
  const QR_RENEW_LEFT_S = 10; // a card code lives 60 s: a new one is asked at ~50 s
  const state = {
    memberId: null,
    me: null,
    card: null,
    joinUnion: null,
    transferUnion: null,
    aidWindow: null, // the 金秋助学 window the form files to
    evidence: null, // {file, fileId}: a file uploaded once, reused if the filing is refused and retried
    qrTimer: null,
    qrExpires: 0,
  };

  const $ = (id) => document.getElementById(id);

  // --- talking to the services -----------------------------------------------------------------

  // The calls and the session's token and renewal: session.js, shared with the staff pages.
  const S = window.ZhijiaSession;
  const call = (service, path, options) => S.call(service, path, options);

  function detailOf(result, fallback) {
    if (result.data && typeof result.data.detail === "string" && result.data.detail) return result.data.detail;
    if (result.status === 404) return fallback || "暂无此项服务";
    if (result.status === 503) return "服务暂时不可用，请稍后再试";
    return fallback || "操作未成功，请稍后再试";
  }

  function say(id, text, kind) {
    const el = $(id);
    el.textContent = text || "";
    el.classList.toggle("error", kind === "error");
    el.classList.toggle("ok", kind === "ok");
  }

  // --- the session -----------------------------------------------------------------------------

  async function renew() {
    if (await S.renew()) return true;
    forget();
    return false;
  }

  function forget() {
    state.memberId = null;
    state.me = null;
    state.card = null;
    stopQr();
  }

  async function loadMe() {
    const result = await call("identity", "/me");
    if (!result.ok) return false;
    state.me = result.data;
    state.memberId = result.data.member_id || null;
    return true;
  }

  // --- views -----------------------------------------------------------------------------------

  const VIEWS = ["sign-in", "real-name", "join", "card", "offers", "requests", "student-aid", "inbox"];

  function show(view) {
    for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
    $("nav").hidden = !S.signedIn() || !state.memberId;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.getAttribute("href") === `#/${view}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view !== "card") stopQr();
    document.title = `${$(`view-${view}`).querySelector("h1").firstChild.textContent.trim()} · 职工之家`;
  }

  async function route() {
    say("app-message", "");
    if (!S.signedIn()) {
      show("sign-in");
      return;
    }
    if (!state.me && !(await loadMe())) {
      forget();
      show("sign-in");
      return;
    }
    if (!state.memberId) {
      show("real-name");
      return;
    }
    const wanted = (location.hash || "#/card").slice(2);
    if (wanted === "offers") { show("offers"); await loadOffers(); return; }
    if (wanted === "requests") { show("requests"); await loadCompetitions(); return; }
    if (wanted === "student-aid") { show("student-aid"); await loadStudentAid(); return; }
    if (wanted === "inbox") { show("inbox"); await loadInbox(); return; }
    if (wanted === "join") { await showJoin(); return; }
    await showCard();
  }

  // --- sign in ---------------------------------------------------------------------------------

  $("signin-send-code").addEventListener("click", async () => {
    const phone = $("signin-phone").value.trim();
    if (!/^1\d{10}$/.test(phone)) { say("signin-message", "请输入 11 位手机号", "error"); return; }
    const button = $("signin-send-code");
    button.disabled = true;
    const result = await call("identity", "/codes", { method: "POST", body: { phone, purpose: "sign_in" } });
    if (result.ok) {
      say("signin-message", (result.data && result.data.message) || "验证码已发送", "ok");
      setTimeout(() => { button.disabled = false; }, 60000);
    } else {
      button.disabled = false;
      say("signin-message", detailOf(result), "error");
    }
  });

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = $("signin-phone").value.trim();
    const code = $("signin-code").value.trim();
    if (!/^1\d{10}$/.test(phone) || !/^\d{6}$/.test(code)) {
      say("signin-message", "请输入手机号和 6 位验证码", "error");
      return;
    }
    const result = await call("identity", "/web/sessions", { method: "POST", body: { phone, code } });
    if (!result.ok) { say("signin-message", detailOf(result), "error"); return; }
    S.adopt(result.data);
    $("signin-code").value = "";
    say("signin-message", "");
    state.me = null;
    await route();
  });

  $("sign-out").addEventListener("click", async () => {
    await S.signOut();
    forget();
    location.hash = "#/card";
    show("sign-in");
    say("signin-message", "已退出登录", "ok");
  });

  // --- real name -------------------------------------------------------------------------------

  $("real-name-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("realname-name").value.trim();
    const nationalId = $("realname-id").value.trim().toUpperCase();
    if (!name || !/^\d{17}[\dX]$/.test(nationalId)) {
      say("realname-message", "请填写姓名和 18 位身份证号", "error");
      return;
    }
    const result = await call("identity", "/me/real-name", { method: "POST", body: { name, national_id: nationalId } });
    if (!result.ok) { say("realname-message", detailOf(result), "error"); return; }
    $("realname-id").value = ""; // never kept by this page
    $("join-name").value = name;
    say("realname-message", "实名认证成功", "ok");
    await renew(); // the new token carries member_id
    state.me = null;
    location.hash = "#/card";
    await route();
  });

  // --- union directory (入会, 接转) ------------------------------------------------------------

  async function searchDirectory(q, region, list, onChoose) {
    list.replaceChildren();
    const result = await call("enrollment", "/directory/unions", { query: { q, region, limit: 20 } });
    if (!result.ok) {
      list.append(item(detailOf(result), "empty"));
      return;
    }
    if (!result.data.length) {
      list.append(item("没有找到符合条件的工会，请换个关键词", "empty"));
      return;
    }
    for (const union of result.data) {
      const li = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = union.path.join(" › ");
      const choose = document.createElement("button");
      choose.type = "button";
      choose.textContent = "选择";
      choose.setAttribute("aria-label", `选择 ${union.name}`);
      choose.dataset.testid = "directory-choose";
      choose.addEventListener("click", () => onChoose(union));
      li.append(text, choose);
      list.append(li);
    }
  }

  function item(text, cls) {
    const li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    return li;
  }

  $("directory-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await searchDirectory($("directory-q").value.trim(), $("directory-region").value.trim(), $("directory-results"), (union) => {
      state.joinUnion = union;
      $("join-union").textContent = `已选择：${union.path.join(" › ")}`;
      $("join-name").focus();
    });
  });

  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.joinUnion) { say("join-message", "请先查找并选择工会", "error"); return; }
    const body = {
      name: $("join-name").value.trim(),
      national_id: $("join-id").value.trim().toUpperCase(),
      phone: $("join-phone").value.trim(),
      employer: $("join-employer").value.trim(),
      employment_type: $("join-employment-type").value,
      base_union_id: state.joinUnion.union_id,
    };
    if (!body.name || !body.national_id || !body.phone) { say("join-message", "请填写姓名、身份证号和手机号", "error"); return; }
    const result = await call("enrollment", "/applications", { method: "POST", body });
    if (!result.ok) { say("join-message", detailOf(result), "error"); return; }
    $("join-id").value = "";
    say("join-message", (result.data && result.data.message) || "入会申请已提交，请等待工会审核", "ok");
    await showJoin();
  });

  async function showJoin() {
    show("join");
    const card = await call("projector", `/cards/${state.memberId}`);
    const box = $("application-status");
    const application = card.ok ? card.data.application : null;
    box.hidden = !application;
    if (application) {
      $("application-label").textContent = application.status_label;
      $("application-reason").hidden = !application.reason;
      $("application-reason").textContent = application.reason ? `原因：${application.reason}` : "";
      $("application-next-step").textContent = application.next_step || "";
    }
  }

  // --- the card --------------------------------------------------------------------------------

  async function showCard() {
    // The card and its code are asked for at once (one round trip less before the QR shows); a
    // code for a card that turns out not active is simply not shown (partners refuses it anyway).
    const codeAsked = call("web", "/card-code", { method: "POST" });
    const result = await call("projector", `/cards/${state.memberId}`);
    if (result.status === 404 || (result.ok && !result.data.membership)) {
      await showJoin();
      return;
    }
    show("card");
    if (!result.ok) { say("app-message", detailOf(result), "error"); return; }
    state.card = result.data;
    renderCard(result.data);
    if (result.data.membership.status === "active") showCode(await codeAsked);
    else {
      stopQr();
      $("card-qr-panel").hidden = true;
    }
  }

  function list(id, items, render, emptyText) {
    const ul = $(id);
    ul.replaceChildren();
    if (!items || !items.length) { ul.append(item(emptyText, "empty")); return; }
    for (const x of items) ul.append(item(render(x)));
  }

  const day = (iso) => (iso ? String(iso).slice(0, 10) : "");
  const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "");
  // A time's date in China (YYYY-MM-DD), whatever the phone's zone: a payment at 01:00 in
  // Beijing is that day's, not the day before's as its UTC date says.
  const CHINA_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
  const chinaDay = (iso) => (iso ? CHINA_DAY.format(new Date(iso)) : "");
  // Fen as yuan: 50000 → ¥500.00 (integers only: no float rounding).
  const yuan = (fen) => `¥${Math.trunc(fen / 100)}.${String(Math.abs(fen) % 100).padStart(2, "0")}`;

  function renderCard(card) {
    const m = card.membership;
    $("card-name").textContent = m.name;
    $("card-number").textContent = m.card_number;
    $("membership-number").textContent = m.membership_number;
    $("card-union-path").textContent = (m.base_union.path || []).join(" › ");
    $("card-status").textContent = m.status_label;
    $("card-next-step").textContent = m.next_step || `入会时间 ${day(m.member_since)}`;
    $("card-qr-panel").hidden = m.status !== "active";
    list("card-gaps", m.gaps, (g) => `${day(g.left_at)} 离会 → ${g.returned_at ? `${day(g.returned_at)} 重新入会` : "至今"}`, "会籍连续，无中断");
    list("card-honours", card.honours, (h) => `${h.title}（有效至 ${day(h.valid_until)}）`, "暂无荣誉");
    list("card-results", card.results, (r) => `${r.competition_name} · ${r.stage_name}：第 ${r.rank} 名 / 共 ${r.of_entries}`, "暂无竞赛成绩");
    list("card-legal", card.legal_cases, (c) => {
      const due = c.next_deadline_label ? `；${c.next_deadline_label}${c.next_due_on ? ` ${day(c.next_due_on)}` : ""}` : "";
      const next = c.next_step ? `；${c.next_step}` : "";
      return `${c.case_no} ${c.kind_label}：${c.stage_label}${due}${next}`;
    }, "暂无维权案件");
    const relief = $("card-relief");
    relief.replaceChildren();
    const p = document.createElement("p");
    if (card.relief) {
      const r = card.relief;
      const tier = r.tier_label ? `（${r.tier_label}）` : "";
      p.textContent = `${r.status_label}${tier}；${r.aid_year} 年已获帮扶 ¥${r.aid_paid_yuan}${r.next_step ? `；${r.next_step}` : ""}`;
    } else {
      p.textContent = "没有困难帮扶档案";
      p.className = "hint";
    }
    relief.append(p);
    list("card-programme-aid", card.programme_aid, (a) => `${a.programme_label} · ${a.title}：${yuan(a.amount_fen)}（${chinaDay(a.paid_at)}）`, "暂无慰问与助学记录");
    list("card-redemptions", card.redemptions, (u) => `${when(u.redeemed_at)} ${u.merchant_name || "合作商户"} · ${u.offer_title || "会员优惠"}`, "暂无使用记录");
    const transfer = $("card-transfer");
    transfer.hidden = !card.pending_transfer;
    if (card.pending_transfer) {
      const t = card.pending_transfer;
      transfer.textContent = `接转申请：转至 ${t.to_union_name || "新工会"}，${t.status_label}（${day(t.expires_at)} 前答复）`;
    }
  }

  function stopQr() {
    clearInterval(state.qrTimer);
    state.qrTimer = null;
  }

  async function renewQr() {
    stopQr();
    showCode(await call("web", "/card-code", { method: "POST" }));
  }

  function showCode(result) {
    stopQr();
    if (!result.ok) {
      $("card-qr").hidden = true;
      $("card-code-text").textContent = "";
      $("card-qr-countdown").textContent = "";
      say("card-qr-message", detailOf(result, "动态码暂时无法生成"), "error");
      return;
    }
    say("card-qr-message", "");
    const img = $("card-qr");
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.data.svg)}`;
    img.hidden = false;
    $("card-code-text").textContent = result.data.code;
    state.qrExpires = Date.parse(result.data.expires_at);
    tick();
    state.qrTimer = setInterval(tick, 1000);
  }

  function tick() {
    const left = Math.max(0, Math.round((state.qrExpires - Date.now()) / 1000));
    $("card-qr-countdown").textContent = `${left} 秒后更新`;
    if (left <= QR_RENEW_LEFT_S) renewQr();
  }

  $("card-qr-refresh").addEventListener("click", renewQr);

  // --- offers ----------------------------------------------------------------------------------

  const ELIGIBILITY = { all_members: "全体会员", model_workers: "劳模专享", hardship_households: "困难职工专享" };

  async function loadOffers() {
    const ul = $("offers-list");
    ul.replaceChildren();
    say("offers-message", "");
    const category = $("offers-category").value;
    const result = await call("projector", `/cards/${state.memberId}/offers`, { query: { category, limit: 50 } });
    if (!result.ok) { say("offers-message", detailOf(result), "error"); return; }
    if (!result.data.items.length) {
      say("offers-message", result.data.reason ? "您的会员卡当前不能使用优惠" : "暂无此类优惠");
      return;
    }
    const addresses = await merchantAddresses(result.data.items, category);
    for (const offer of result.data.items) ul.append(offerItem(offer, addresses));
  }

  async function merchantAddresses(offers, category) {
    // The member's region is that of their offers' merchants; one directory read per region.
    const byId = new Map();
    const regions = [...new Set(offers.map((o) => o.merchant.region))];
    for (const region of regions.slice(0, 5)) {
      const result = await call("projector", "/merchants", { query: { region, category, limit: 100 } });
      if (result.ok) for (const m of result.data.items) byId.set(m.merchant_id, m.address);
    }
    return byId;
  }

  function offerItem(offer, addresses) {
    const li = document.createElement("li");
    li.dataset.testid = "offer";
    const h = document.createElement("h2");
    h.textContent = `${offer.merchant.name} · ${offer.title}`;
    const discount = document.createElement("p");
    discount.className = "discount";
    discount.textContent = offer.discount.kind === "percent" ? percentOff(offer.discount.percent) : `立减 ¥${offer.discount.amount_yuan}`;
    const terms = document.createElement("p");
    terms.textContent = `${offer.description || ""}${offer.description ? "；" : ""}${ELIGIBILITY[offer.eligibility] || ""}，有效期至 ${day(offer.valid_until)}`;
    const address = document.createElement("p");
    address.className = "hint";
    address.textContent = `地址：${addresses.get(offer.merchant.merchant_id) || "请咨询商户"}`;
    li.append(h, discount, terms, address);
    if (offer.eligibility === "hardship_households") {
      // Never on the scanned card: a one-offer voucher the member opens on purpose.
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = "打开专享券";
      open.dataset.testid = "offer-voucher";
      open.addEventListener("click", () => openVoucher(offer.offer_key));
      li.append(open);
    }
    return li;
  }

  function percentOff(percent) {
    // 15% off reads 8.5 折 in Chinese; 100% off is free.
    const tenths = (100 - Number(percent)) / 10;
    return tenths <= 0 ? "免费" : `${Number(tenths.toFixed(2))} 折`;
  }

  async function openVoucher(offerKey) {
    const result = await call("web", "/vouchers", { method: "POST", body: { offer_key: offerKey } });
    if (!result.ok) { say("offers-message", detailOf(result), "error"); return; }
    $("voucher-qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.data.svg)}`;
    $("voucher-code-text").textContent = result.data.code;
    $("voucher-panel").hidden = false;
    $("voucher-panel").scrollIntoView();
  }

  $("offers-form").addEventListener("submit", (event) => { event.preventDefault(); loadOffers(); });

  // --- requests --------------------------------------------------------------------------------

  function toFen(text) {
    const t = String(text).trim();
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(t)) return null;
    const [yuan, cents = ""] = t.split(".");
    return Number(yuan) * 100 + Number(cents.padEnd(2, "0"));
  }

  $("relief-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const income = toFen($("relief-income").value);
    const size = Number($("relief-size").value);
    if (income === null || !Number.isInteger(size) || size < 1) {
      say("relief-message", "请填写家庭人口和月收入（元）", "error");
      return;
    }
    const causes = [...document.querySelectorAll('#relief-form input[name="causes"]:checked')].map((c) => c.value);
    const body = {
      household_register_no: $("relief-household-no").value.trim(), household_size: size,
      monthly_income_fen: income, causes, note: $("relief-note").value.trim(),
    };
    const result = await call("relief", "/cases", { method: "POST", body });
    if (!result.ok) { say("relief-message", detailOf(result), "error"); return; }
    const joined = result.data && result.data.outcome === "joined";
    say("relief-message", joined ? "已并入您家庭的困难档案，工会将跟进" : "困难申请已受理，工会将联系您入户核实", "ok");
  });

  $("legal-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = toFen($("legal-amount").value);
    if (amount === null || !$("legal-learned-on").value || !$("legal-employer").value.trim()) {
      say("legal-message", "请填写用人单位、金额和日期", "error");
      return;
    }
    const body = {
      kind: $("legal-kind").value, employer: $("legal-employer").value.trim(), amount_claimed_fen: amount,
      learned_on: $("legal-learned-on").value, migrant_worker: $("legal-migrant").checked,
      description: $("legal-description").value.trim(),
    };
    const key = `legal-${crypto.randomUUID ? crypto.randomUUID() : Date.now()}`;
    const result = await call("legal", "/cases", { method: "POST", body, headers: { "Idempotency-Key": key } });
    if (!result.ok) { say("legal-message", detailOf(result), "error"); return; }
    const no = result.data && result.data.case_no ? `，案件号 ${result.data.case_no}` : "";
    say("legal-message", `法律援助申请已受理${no}；进度会显示在会员卡上`, "ok");
  });

  async function loadCompetitions() {
    const ul = $("competitions-list");
    ul.replaceChildren();
    const result = await call("competitions", "/competitions/open");
    // Until competitions lists open ones, /competitions/open is read as a competition id (422).
    const none = result.status === 404 || result.status === 422 || (result.ok && !result.data.length);
    say("competitions-message", "");
    if (none) {
      ul.append(item("目前没有开放报名的竞赛", "empty"));
      return;
    }
    if (!result.ok) { say("competitions-message", detailOf(result), "error"); return; }
    for (const c of result.data) {
      const li = document.createElement("li");
      const text = document.createElement("span");
      const closes = c.registration_closes_on ? `${day(c.registration_closes_on)} 截止` : "报名进行中";
      text.textContent = `${c.title}（${c.kind_label}，${c.union_name ? `${c.union_name}主办，` : ""}${closes}）`;
      if (c.team) {
        // Team entries name a team and its union: the union registers them, not the member alone.
        text.textContent += " 团体赛，请联系本单位工会报名";
        li.append(text);
        ul.append(li);
        continue;
      }
      const enter = document.createElement("button");
      enter.type = "button";
      enter.textContent = "报名";
      enter.setAttribute("aria-label", `报名 ${c.title}`);
      enter.dataset.testid = "competition-enter";
      enter.addEventListener("click", async () => {
        const done = await call("competitions", `/competitions/${c.competition_id}/entries`, { method: "POST", body: {} });
        if (done.ok) say("competitions-message", `已报名“${c.title}”，报名号 ${done.data.entry_no}`, "ok");
        else say("competitions-message", detailOf(done), "error");
      });
      li.append(text, enter);
      ul.append(li);
    }
  }

  $("transfer-search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await searchDirectory($("transfer-q").value.trim(), $("transfer-region").value.trim(), $("transfer-results"), (union) => {
      state.transferUnion = union;
      $("transfer-union").textContent = `接收工会：${union.path.join(" › ")}`;
      $("transfer-reason").focus();
    });
  });

  $("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = $("transfer-reason").value.trim();
    if (!state.transferUnion || !reason) { say("transfer-message", "请选择接收工会并填写原因", "error"); return; }
    const result = await call("enrollment", `/members/${state.memberId}/transfers`, {
      method: "POST", body: { to_union_id: state.transferUnion.union_id, reason },
    });
    if (!result.ok) { say("transfer-message", detailOf(result), "error"); return; }
    say("transfer-message", `接转申请已提交：${(result.data && result.data.status_label) || "待接收"}`, "ok");
  });

  // --- 金秋助学 --------------------------------------------------------------------------------

  async function loadStudentAid() {
    say("student-aid-message", "");
    say("student-aid-list-message", "");
    const [windows, mine, card, disclosed] = await Promise.all([
      call("relief", "/student-aid/windows", { query: { open: "true" } }),
      call("relief", "/student-aid/applications/mine"),
      call("projector", `/cards/${state.memberId}`),
      call("relief", "/student-aid/disclosure"),
    ]);
    // In the relief register the household's figures are not asked for.
    const inRegister = card.ok && card.data.relief && card.data.relief.status === "in_register";
    $("student-aid-in-register").hidden = !inRegister;
    $("student-aid-household").hidden = Boolean(inRegister);
    if (!$("student-aid-admission-year").value) $("student-aid-admission-year").value = chinaDay(new Date().toISOString()).slice(0, 4);
    renderWindows(windows);
    renderApplications(mine);
    renderDisclosure(disclosed);
  }

  // The public list (公示) of the member's union: masked names; an objection is filed in the open.
  function renderDisclosure(result) {
    const ul = $("student-aid-disclosure");
    ul.replaceChildren();
    say("student-aid-disclosure-message", "");
    if (!result.ok) { ul.append(item(detailOf(result, "暂时无法查看公示名单"), "empty")); return; }
    if (!result.data.items.length) { ul.append(item("目前没有正在公示的助学名单", "empty")); return; }
    for (const d of result.data.items) {
      const li = document.createElement("li");
      li.dataset.testid = "student-aid-disclosed";
      li.append(
        line(`${d.union_name} · ${d.member_name_masked} 之子女 ${d.student_name_masked}，${d.school_type_label}，助学金 ${yuan(d.amount_fen)}`),
        line(`公示至 ${when(d.disclosure_ends_at)}`, "hint"),
      );
      const form = document.createElement("form");
      form.className = "objection";
      form.noValidate = true;
      const id = `objection-${d.application_id}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = "我有异议（请写明事实）";
      const text = document.createElement("textarea");
      text.id = id;
      text.maxLength = 500;
      text.rows = 2;
      text.dataset.testid = "student-aid-objection-text";
      const send = document.createElement("button");
      send.type = "submit";
      send.textContent = "提出异议";
      send.dataset.testid = "student-aid-objection-submit";
      form.append(label, text, send);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const words = text.value.trim();
        if (words.length < 5) { say("student-aid-disclosure-message", "请写明异议的事实（至少 5 个字）", "error"); text.focus(); return; }
        send.disabled = true;
        try {
          const result = await call("relief", `/student-aid/applications/${d.application_id}/objections`, { method: "POST", body: { text: words } });
          if (!result.ok) { say("student-aid-disclosure-message", detailOf(result), "error"); return; }
          text.value = "";
          say("student-aid-disclosure-message", "异议已提交，工会将核实后答复", "ok");
        } finally {
          send.disabled = false;
        }
      });
      li.append(form);
      ul.append(li);
    }
  }

  function renderWindows(result) {
    const ul = $("student-aid-windows");
    ul.replaceChildren();
    const items = result.ok ? result.data.items : [];
    // Relief's reason when it has one (会员信息尚未同步到帮扶系统: a member it has not heard of yet).
    if (!result.ok) ul.append(item(detailOf(result, "目前没有开放申请的金秋助学"), "empty"));
    else if (!items.length) ul.append(item("目前没有开放申请的金秋助学", "empty"));
    $("student-aid-form").hidden = !items.length;
    if (state.aidWindow && !items.some((w) => w.window_id === state.aidWindow.window_id)) state.aidWindow = null;
    for (const w of items) {
      const li = document.createElement("li");
      li.dataset.testid = "student-aid-window-item";
      const text = document.createElement("span");
      const amounts = w.amounts.map((a) => `${a.label} ${yuan(a.amount_fen)}`).join("，");
      text.textContent = `${w.title}（${w.union_name || "工会"}，${chinaDay(w.closes_at)} 截止）：${amounts}`;
      const choose = document.createElement("button");
      choose.type = "button";
      choose.textContent = "申请";
      choose.setAttribute("aria-label", `申请 ${w.title}`);
      choose.dataset.testid = "student-aid-choose";
      choose.addEventListener("click", () => chooseWindow(w, true));
      li.append(text, choose);
      ul.append(li);
    }
    if (!state.aidWindow && items.length === 1) chooseWindow(items[0], false);
    else if (state.aidWindow) chooseWindow(items.find((w) => w.window_id === state.aidWindow.window_id), false);
  }

  function chooseWindow(w, focus) {
    state.aidWindow = w;
    $("student-aid-window").textContent = `申请：${w.title}（${w.union_name || "工会"}）`;
    // The school types this window pays, each with its amount.
    const select = $("student-aid-school-type");
    const kept = select.value;
    select.replaceChildren();
    for (const a of w.amounts) {
      const option = document.createElement("option");
      option.value = a.school_type;
      option.textContent = `${a.label}（${yuan(a.amount_fen)}）`;
      select.append(option);
    }
    if (w.amounts.some((a) => a.school_type === kept)) select.value = kept;
    if (focus) $("student-aid-student-name").focus();
  }

  // One upload per chosen file: a second submit after a refusal reuses it.
  async function uploadEvidence(file) {
    if (state.evidence && state.evidence.file === file) return { ok: true, fileId: state.evidence.fileId };
    const uploaded = await S.uploadEvidence(file);
    if (uploaded.ok) state.evidence = { file, fileId: uploaded.fileId };
    return uploaded;
  }

  $("student-aid-evidence").addEventListener("change", async () => {
    // Checked as soon as it is chosen: a wrong file is said at once, before any upload.
    const file = $("student-aid-evidence").files[0];
    const checked = file ? await S.checkEvidence(file) : { error: null };
    say("student-aid-message", checked.error || "", checked.error ? "error" : undefined);
  });

  $("student-aid-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const w = state.aidWindow;
    const studentName = $("student-aid-student-name").value.trim();
    const idNumber = $("student-aid-student-id").value.trim().toUpperCase();
    const school = $("student-aid-school").value.trim();
    const year = Number($("student-aid-admission-year").value);
    if (!w) { say("student-aid-message", "请先选择开放申请的助学项目", "error"); return; }
    if (!studentName || !school) { say("student-aid-message", "请填写学生姓名和录取学校", "error"); return; }
    if (!/^\d{17}[\dX]$/.test(idNumber)) { say("student-aid-message", "请填写学生的 18 位身份证号", "error"); return; }
    if (!Number.isInteger(year) || year < 1990 || year > 2100) { say("student-aid-message", "请填写入学年份", "error"); return; }
    let household = null;
    if (!$("student-aid-household").hidden && ($("student-aid-income").value.trim() || $("student-aid-size").value)) {
      const income = toFen($("student-aid-income").value);
      const size = Number($("student-aid-size").value);
      if (income === null || !Number.isInteger(size) || size < 1) {
        say("student-aid-message", "请填写家庭人口和家庭月收入（元）", "error");
        return;
      }
      household = { monthly_income_fen: income, household_size: size };
    }
    const button = event.submitter || $("student-aid-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      say("student-aid-message", "正在上传录取通知书…");
      const evidence = await uploadEvidence($("student-aid-evidence").files[0]);
      if (!evidence.ok) { say("student-aid-message", evidence.detail, "error"); return; }
      const body = {
        window_id: w.window_id, student_name: studentName, student_id_number: idNumber, school_name: school,
        school_type: $("student-aid-school-type").value, admission_year: year, evidence_file_id: evidence.fileId, household,
      };
      const result = await call("relief", "/student-aid/applications", { method: "POST", body });
      if (!result.ok) { say("student-aid-message", detailOf(result), "error"); return; }
      // Nothing of the student stays in the page once filed.
      for (const id of ["student-aid-student-name", "student-aid-student-id", "student-aid-school", "student-aid-income", "student-aid-size", "student-aid-evidence"]) $(id).value = "";
      state.evidence = null;
      say("student-aid-message", `助学申请已提交：${result.data.status_label}，工会审核通过后将公示`, "ok");
      renderApplications(await call("relief", "/student-aid/applications/mine"));
    } finally {
      button.disabled = false;
    }
  });

  function line(text, cls) {
    const p = document.createElement("p");
    p.textContent = text;
    if (cls) p.className = cls;
    return p;
  }

  function renderApplications(result) {
    const ul = $("student-aid-applications");
    ul.replaceChildren();
    if (!result.ok && result.status !== 404) { say("student-aid-list-message", detailOf(result), "error"); return; }
    const items = result.ok ? result.data.items : [];
    if (!items.length) { ul.append(item("还没有助学申请", "empty")); return; }
    for (const a of items) {
      const li = document.createElement("li");
      li.dataset.testid = "student-aid-application";
      const title = document.createElement("strong");
      title.textContent = `${a.window_title} · ${a.student_name_masked}`;
      const status = document.createElement("p");
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.dataset.testid = "student-aid-status";
      badge.textContent = a.status_label; // the status in words only, never its code
      status.append(badge, ` 助学金 ${yuan(a.amount_fen)}（${a.eligible_by_label}）`);
      li.append(title, status, line(`${a.school_name}，${a.school_type_label}，${a.admission_year} 年入学`));
      if (a.decision_reason) li.append(line(`原因：${a.decision_reason}`));
      if (a.status === "in_disclosure" && a.disclosure_ends_at) li.append(line(`公示至 ${when(a.disclosure_ends_at)}，期间无异议即批准`, "hint"));
      for (const o of a.objections || []) {
        const verdict = o.upheld === true ? "（异议成立）" : o.upheld === false ? "（异议不成立）" : "";
        li.append(line(o.answer ? `公示异议：${o.text}；工会答复：${o.answer}${verdict}` : `公示异议：${o.text}；工会正在核实`, "hint"));
      }
      if (a.paid_at) li.append(line(`已于 ${chinaDay(a.paid_at)} 发放 ${yuan(a.amount_fen)}`));
      if (a.evidence) {
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = "下载录取通知书";
        open.dataset.testid = "student-aid-evidence-download";
        open.addEventListener("click", async () => {
          const got = await S.download("relief", `/student-aid/evidence/${a.evidence.file_id}`, null, a.evidence.file_name);
          if (!got.ok) say("student-aid-list-message", detailOf(got), "error");
        });
        li.append(open);
      }
      ul.append(li);
    }
  }

  // --- inbox -----------------------------------------------------------------------------------

  async function loadInbox(after) {
    const ul = $("inbox-list");
    const more = $("inbox-more");
    if (!after) ul.replaceChildren();
    more.hidden = true;
    say("inbox-message", "");
    const result = await call("projector", `/cards/${state.memberId}/inbox`, { query: { after, limit: 20 } });
    if (result.status === 404 || (result.ok && !after && !result.data.items.length)) {
      ul.append(item("暂无消息", "empty"));
      return;
    }
    if (!result.ok) { say("inbox-message", detailOf(result), "error"); return; }
    for (const m of result.data.items) {
      const li = document.createElement("li");
      li.dataset.testid = "inbox-item";
      const title = document.createElement("strong");
      title.textContent = m.title;
      const body = document.createElement("p");
      body.textContent = m.body;
      const time = document.createElement("time");
      time.dateTime = m.occurred_at;
      time.textContent = when(m.occurred_at);
      li.append(title, body, time);
      ul.append(li);
    }
    // Older items, newest first: next_after is null on a short (last) page.
    if (result.data.next_after) {
      more.hidden = false;
      more.onclick = () => loadInbox(result.data.next_after);
    }
  }

  // --- start -----------------------------------------------------------------------------------

  window.addEventListener("hashchange", route);
  S.onSignedOut(forget); // a 401 the renewal could not mend
  (async () => {
    // A page reloaded within a session: the refresh cookie gives a new access token.
    await renew();
    await route();
  })();
})();
