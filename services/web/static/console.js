"use strict";
// The cadre console (工会工作台, docs/console.md): plain JS, no framework, nothing from a CDN.
// Calls go through the web service's forwarder with the staff session of session.js; every
// service checks the caller's scope itself, this page only picks what to ask. Text is set with
// textContent, never as HTML.
(() => {
  const S = window.ZhijiaSession;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000; // an import's progress
  const PAGE = 50;
  const state = { unions: [], byId: new Map(), scope: null, view: null, reports: null, report: null, importId: null, pollTimer: null, employersNext: null };

  const VIEWS = ["sign-in", "queues", "orgs", "import", "reports", "programmes"];
  const STATUS_LABELS = { checked: "已检查，尚未导入", committing: "正在导入", committed: "导入完成", failed: "导入失败" };
  const EMPLOYMENT = { employee: "职工", temporary: "临时工", migrant: "外来务工", flexible: "灵活就业" };
  const CHANNEL = { online: "网上申请", wechat: "微信", service_station: "服务站", cadre: "工会代办", import: "名册导入" };
  // Labels of the fields an action asks for (an action's body_hint names them).
  const FIELD_LABELS = {
    reason: "理由", answer: "答复", note: "备注", summary: "说明", on: "日期", outcome: "结果", stage: "阶段",
    aid: "帮扶方式", visited_on: "走访日期", household_size: "家庭人口", monthly_income_fen: "家庭月收入（分）",
    causes: "致困原因", findings: "走访情况", guarantees: "保障情况", medical: "医疗", work: "就业", schooling: "教育",
    housing: "住房", social_insurance: "社会保险", recovered_fen: "追回金额（分）",
    approve: "审核结论", upheld: "异议是否成立",
  };
  // The two answers of a yes/no field, as a person says them for that field (是/否 otherwise).
  const YES_NO = { approve: ["通过", "不通过"], upheld: ["成立", "不成立"] };
  // Choices a body_hint lists by their codes, as a person reads them (the code when unknown).
  const CHOICE_LABELS = {
    agreement: "达成协议", failed: "调解不成", window_passed: "期满未结",
    settled: "和解", award_won: "裁决胜诉", award_lost: "裁决败诉", withdrawn: "撤回", advice_given: "已提供咨询", rejected: "不予受理",
    consolation: "送温暖", tuition: "金秋助学", medical: "医疗救助", micro_loan: "小额贷款", job_help: "就业帮扶", counselling: "心理咨询",
    illness: "因病", disaster: "因灾", children_schooling: "因学", disability: "因残", single_parent: "单亲", accident: "意外",
    unemployment: "失业",
  };

  // One list per queue; every item has the generic shape of api.md (enrollment's two lists are
  // turned into it here).
  const QUEUES = [
    { key: "applications", title: "入会申请审核", service: "enrollment", load: loadApplications },
    { key: "transfers", title: "会员转入接收", service: "enrollment", load: loadTransfers },
    { key: "approvals", title: "帮扶审批", service: "relief", path: "/queues/approvals" },
    { key: "disclosures", title: "帮扶公示与异议", service: "relief", path: "/queues/disclosures" },
    { key: "reverifications", title: "帮扶复核", service: "relief", path: "/queues/reverifications" },
    { key: "programmes", title: "帮扶项目", service: "relief", path: "/queues/programmes" },
    { key: "deadlines", title: "法律援助时限（7天内）", service: "legal", path: "/queues/deadlines", query: { days: 7 } },
    { key: "supervisions", title: "劳动法律监督函", service: "legal", path: "/queues/supervisions" },
    { key: "spread", title: "评分分歧复核", service: "competitions", path: "/queues/spread" },
  ];

  const chinaTime = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const when = (iso) => (iso ? chinaTime.format(new Date(iso)) : "");
  const percent = (x) => (x === null || x === undefined || Number.isNaN(Number(x)) ? "—" : `${(Number(x) * 100).toFixed(1)}%`);
  const count = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString("zh-CN"));

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "testid") node.dataset.testid = value;
      else if (key === "className") node.className = value;
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function say(id, text, kind) {
    const box = $(id);
    box.textContent = text || "";
    box.classList.toggle("error", kind === "error");
    box.classList.toggle("ok", kind === "ok");
  }

  const unionName = (id) => (state.byId.get(id) || {}).name || "本范围内的工会";

  // --- views -----------------------------------------------------------------------------------

  function show(view, focus) {
    state.view = view;
    for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.getAttribute("href") === `#/${view}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (focus) $("main").focus();
  }

  async function route(focus) {
    if (!S.signedIn()) return show("sign-in");
    const wanted = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
    const view = VIEWS.includes(wanted) && wanted !== "sign-in" ? wanted : "queues";
    show(view, focus);
    say("console-message", "");
    if (view === "queues") await loadQueues();
    else if (view === "orgs") await loadOrgs();
    else if (view === "reports") await loadReportList();
    else if (views[view]) await views[view]();
  }

  // --- the session and the scope ---------------------------------------------------------------

  async function signIn(event) {
    event.preventDefault();
    const username = $("username").value.trim();
    const password = $("password").value;
    if (!username || !password) return say("sign-in-message", "请输入账号和密码", "error");
    say("sign-in-message", "正在登录…");
    const result = await S.signInStaff(username, password, $("totp").value.trim());
    if (!result.ok) return say("sign-in-message", S.detailOf(result), "error");
    $("password").value = "";
    $("totp").value = "";
    say("sign-in-message", "");
    await ready();
  }

  async function signOut() {
    await S.signOut();
    signedOut("已退出登录");
  }

  function signedOut(message) {
    clearTimeout(state.pollTimer);
    $("nav").hidden = true;
    $("scope-bar").hidden = true;
    show("sign-in");
    say("sign-in-message", message || "");
  }

  async function ready() {
    const claims = S.claims();
    if (!claims.union_id) {
      await S.signOut();
      return signedOut("此账号没有绑定工会，工作台需要工会干部账号登录");
    }
    $("nav").hidden = false;
    await loadScope(claims.union_id);
    await route(true);
  }

  // The cadre's subtree, as the coverage answer lists it (names and depths); the union alone
  // when the reports service does not answer.
  async function loadScope(root) {
    const result = await S.call("reports", `/unions/${root}/coverage`);
    const items = result.ok && result.data && Array.isArray(result.data.items) ? result.data.items : [];
    state.unions = items.length ? treeOrder(items) : [{ union_id: root, name: "本级工会", depth: 0, kind: null }];
    state.byId = new Map(state.unions.map((u) => [u.union_id, u]));
    state.scope = root;
    const select = $("scope-union");
    select.replaceChildren(...state.unions.map((u) =>
      el("option", { value: u.union_id, textContent: `${"　".repeat(Math.min(u.depth || 0, 6))}${u.name}` })));
    select.value = root;
    $("scope-bar").hidden = false;
    fillEmployerUnions();
  }

  async function changeScope() {
    state.scope = $("scope-union").value;
    state.report = null;
    $("report").hidden = true;
    await route(false);
  }

  // --- 待办 --------------------------------------------------------------------------------------

  async function loadApplications() {
    const result = await S.call("enrollment", "/applications", { query: { status: "pending", union_id: state.scope } });
    if (!result.ok) return result;
    const rows = [...result.data].sort((a, b) => a.submitted_at.localeCompare(b.submitted_at));
    result.items = rows.map((a) => ({
      id: a.application_id, kind: "application", subject_id: a.member_id, union_id: a.base_union_id, due_at: null,
      title: `入会申请 · ${a.name}（${[a.employer, EMPLOYMENT[a.employment_type] || "其他"].filter(Boolean).join("，")}）`,
      state_label: `待审核 · ${CHANNEL[a.channel] || "其他渠道"} · 提交于 ${when(a.submitted_at)} · 手机 ${a.phone_masked}`,
      actions: [
        { action: "approve", label: "批准入会", method: "POST", path: `/applications/${a.application_id}/approve`, body_hint: null },
        { action: "reject", label: "不予批准", method: "POST", path: `/applications/${a.application_id}/reject`, body_hint: { reason: "text (必填)" } },
      ],
    }));
    return result;
  }

  async function loadTransfers() {
    const query = { union_id: state.scope, direction: "incoming", status: "pending" };
    const result = await S.call("enrollment", "/transfers", { query });
    if (!result.ok) return result;
    const rows = [...result.data].sort((a, b) => a.expires_at.localeCompare(b.expires_at));
    result.items = rows.map((t) => ({
      id: t.transfer_id, kind: "transfer", subject_id: t.member_id, union_id: t.to_union_id, due_at: t.expires_at,
      title: `会员转入 · 转入${unionName(t.to_union_id)}（原因：${t.reason}）`,
      state_label: `${t.status_label} · 申请于 ${when(t.requested_at)}`,
      actions: [
        { action: "accept", label: "接收", method: "POST", path: `/transfers/${t.transfer_id}/accept`, body_hint: null },
        { action: "decline", label: "不予接收", method: "POST", path: `/transfers/${t.transfer_id}/decline`, body_hint: { reason: "text (必填)" } },
      ],
    }));
    return result;
  }

  async function loadGeneric(queue, after) {
    const result = await S.call(queue.service, queue.path, { query: { ...(queue.query || {}), union_id: state.scope, after } });
    if (result.ok) {
      result.items = (result.data && result.data.items) || [];
      result.next = result.data ? result.data.next : null;
    }
    return result;
  }

  async function loadQueues() {
    const box = $("queues");
    box.replaceChildren(...QUEUES.map((queue) => {
      const section = el("section", { className: "panel queue", testid: `queue-${queue.key}`, "aria-labelledby": `queue-${queue.key}-title` },
        el("h2", { id: `queue-${queue.key}-title` }, queue.title, el("span", { className: "count", testid: "queue-count" }, "加载中…")),
        el("ul", { className: "items" }));
      queue.section = section;
      return section;
    }));
    await Promise.all(QUEUES.map((queue) => fillQueue(queue)));
  }

  async function fillQueue(queue, after) {
    const result = queue.load ? await queue.load() : await loadGeneric(queue, after);
    const section = queue.section;
    const list = section.querySelector("ul");
    const counter = section.querySelector(".count");
    section.querySelector(".more")?.remove();
    if (!result.ok) {
      counter.textContent = "";
      const text = result.status === 404 ? "此项暂未开通" : S.detailOf(result);
      list.replaceChildren(el("li", { className: "empty", testid: "queue-unavailable" }, text));
      return;
    }
    if (!after) list.replaceChildren();
    list.append(...result.items.map((item) => renderItem(queue, item)));
    if (!list.children.length) list.append(el("li", { className: "empty", testid: "queue-empty" }, "暂无待办"));
    counter.textContent = `${list.querySelectorAll(".item").length} 项${result.next ? "以上" : ""}`;
    if (result.next) {
      const more = el("button", { type: "button", className: "more", textContent: "加载更多" });
      more.addEventListener("click", () => fillQueue(queue, result.next));
      section.append(more);
    }
  }

  // The one renderer every queue's items go through.
  function renderItem(queue, item) {
    const li = el("li", { className: "item", testid: "queue-item" });
    li.dataset.kind = item.kind || queue.key;
    li.dataset.id = item.id;
    const meta = el("p", { className: "item-meta" }, item.state_label || "");
    if (item.due_at) meta.append(" · ", el("span", { className: "due" }, `${item.due_label || "截止"} ${when(item.due_at)}`));
    li.append(el("p", { className: "item-title", testid: "queue-item-title" }, item.title || "待办事项"), meta);
    const blocked = item.can_act === false;
    if (blocked) li.append(el("p", { className: "blocked", testid: "queue-item-blocked" }, item.blocked_reason || "您不能办理此项"));
    const actions = el("div", { className: "actions" });
    // Reading actions (GET) have nothing to do here: the item says what there is to know.
    for (const action of (item.actions || []).filter((a) => a.method && a.method.toUpperCase() !== "GET")) {
      actions.append(renderAction(queue, item, action, blocked, li));
    }
    if (actions.children.length) li.append(actions);
    return li;
  }

  // An action's body_hint (docs/queues.md): per field "text", "date", "number", "bool"/"boolean"
  // (yes or no), "a|b|c" (one choice), ["a|b|c"] (a list of them), an object (its fields), or the
  // value the item fixes (sent as it is). "(必填…)" after a kind marks a field that must be filled;
  // an empty optional field is left out, so the service's default holds. A yes/no is always asked:
  // an unticked box would send "no" (decline, uphold) for a person who only forgot it.
  const INPUT_KINDS = { text: "text", date: "date", number: "number", integer: "number", bool: "radio", boolean: "radio" };
  const isYesNo = (field) => INPUT_KINDS[field.kind] === "radio";

  function fieldsOf(hint, path = []) {
    const fields = [];
    for (const [name, spec] of Object.entries(hint || {})) {
      const at = [...path, name];
      if (Array.isArray(spec)) fields.push({ at, kind: "many", options: String(spec[0] || "").split("|").filter(Boolean) });
      else if (spec && typeof spec === "object") fields.push(...fieldsOf(spec, at));
      else if (typeof spec === "string") {
        const base = spec.split(/[\s(（]/)[0];
        const note = (spec.match(/[(（](.*)[)）]\s*$/) || [])[1] || "";
        if (INPUT_KINDS[base]) fields.push({ at, kind: base, note, required: note.includes("必填") || INPUT_KINDS[base] === "radio" });
        else if (/^[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)+$/.test(spec)) fields.push({ at, kind: "one", options: spec.split("|") });
        else fields.push({ at, kind: "fixed", value: spec });
      } else fields.push({ at, kind: "fixed", value: spec });
    }
    return fields;
  }

  const labelOf = (field) => field.at.map((n) => FIELD_LABELS[n] || n).join(" · ");

  function renderField(field, id, blocked) {
    const label = labelOf(field) + (field.note ? `（${field.note}）` : "");
    if (field.kind === "many") {
      const boxes = field.options.map((option, i) => el("label", { className: "check" },
        el("input", { type: "checkbox", value: option, id: `${id}-${i}`, disabled: blocked }), CHOICE_LABELS[option] || option));
      return el("fieldset", {}, el("legend", {}, label), ...boxes);
    }
    if (isYesNo(field)) {
      const words = YES_NO[field.at[field.at.length - 1]] || ["是", "否"];
      const choices = ["true", "false"].map((value, i) => el("label", { className: "check" },
        el("input", { type: "radio", name: id, value, id: `${id}-${value}`, disabled: blocked }), words[i]));
      return el("fieldset", { className: "yes-no" }, el("legend", {}, label), ...choices);
    }
    let input;
    if (field.kind === "one") {
      input = el("select", {}, el("option", { value: "", textContent: "请选择" }),
        ...field.options.map((v) => el("option", { value: v, textContent: CHOICE_LABELS[v] || v })));
    } else {
      input = el("input", { type: INPUT_KINDS[field.kind] });
      if (field.kind === "text") input.maxLength = 2000;
    }
    Object.assign(input, { id, disabled: blocked });
    return el("div", {}, el("label", { htmlFor: id, textContent: label }), input);
  }

  function valueOf(field, node) {
    if (field.kind === "fixed") return field.value;
    if (field.kind === "many") return [...node.querySelectorAll("input:checked")].map((box) => box.value);
    if (isYesNo(field)) {
      const picked = node.querySelector("input:checked");
      return picked ? picked.value === "true" : undefined;
    }
    const input = node.querySelector("input, select");
    const text = input.value.trim();
    if (text === "") return undefined;
    return field.kind === "number" || field.kind === "integer" ? Number(text) : text;
  }

  function renderAction(queue, item, action, blocked, li) {
    const fields = fieldsOf(action.body_hint);
    const shown = fields.filter((f) => f.kind !== "fixed");
    const button = el("button", { type: shown.length ? "submit" : "button", textContent: action.label || "办理", disabled: blocked, testid: `action-${action.action}` });
    const nodes = new Map();
    const run = async (event) => {
      if (event) event.preventDefault();
      const body = {};
      for (const field of fields) {
        const value = valueOf(field, nodes.get(field));
        if (value === undefined) {
          if (!field.required) continue;
          nodes.get(field).querySelector("input, select").focus();
          return say("console-message", `请${isYesNo(field) ? "选择" : "填写"}${labelOf(field)}`, "error");
        }
        let at = body;
        for (const name of field.at.slice(0, -1)) at = at[name] = at[name] || {};
        at[field.at[field.at.length - 1]] = value;
      }
      button.disabled = true;
      const result = await S.call(queue.service, action.path, { method: (action.method || "POST").toUpperCase(), body: fields.length ? body : undefined });
      if (!result.ok) {
        button.disabled = false;
        return say("console-message", S.detailOf(result), "error");
      }
      say("console-message", `已办理：${action.label}（${item.title}）`, "ok");
      li.replaceChildren(el("p", { className: "item-meta", testid: "queue-item-done" }, `已${action.label}`));
      li.classList.add("done");
    };
    if (!shown.length) {
      button.addEventListener("click", run);
      return button;
    }
    const form = el("form", { noValidate: true });
    for (const field of shown) {
      const name = field.at.join(".");
      const node = renderField(field, `f-${queue.key}-${item.id}-${action.action}-${name}`.replace(/[^A-Za-z0-9_-]/g, "_"), blocked);
      const target = field.kind === "many" || isYesNo(field) ? node : node.querySelector("input, select");
      target.dataset.testid = `action-${action.action}-${name}`;
      // Each answer of a yes/no by its value: action-review-approve-true / -false.
      for (const radio of isYesNo(field) ? node.querySelectorAll("input") : []) radio.dataset.testid = `${target.dataset.testid}-${radio.value}`;
      nodes.set(field, node);
      form.append(node);
    }
    form.append(button);
    form.addEventListener("submit", run);
    return form;
  }

  // --- 单位与组织 ---------------------------------------------------------------------------------

  async function loadOrgs() {
    await Promise.all([loadCoverage(), loadEmployers(false)]);
  }

  async function loadCoverage() {
    const body = $("coverage-rows");
    const result = await S.call("reports", `/unions/${state.scope}/coverage`);
    if (!result.ok) {
      $("coverage-as-of").textContent = result.status === 404 ? "组织覆盖统计暂未开通" : S.detailOf(result);
      return body.replaceChildren();
    }
    const data = result.data;
    $("coverage-as-of").textContent = data.as_of ? `统计时间：${when(data.as_of)}` : "";
    const top = Math.min(...data.items.map((u) => u.depth || 0));
    body.replaceChildren(...treeOrder(data.items).map((u) => {
      const depth = Math.min((u.depth || 0) - top, 6);
      const row = el("tr", { testid: "coverage-row" });
      row.dataset.unionId = u.union_id;
      row.append(
        el("th", { scope: "row", className: depth ? `depth-${depth}` : "" }, u.name),
        ...[count(u.members), count(u.employers), count(u.employers_should), count(u.employers_with_union)].map((t) => el("td", { className: "num" }, t)),
        el("td", { className: "num", testid: "coverage-founding" }, percent(u.founding_rate)),
        el("td", { className: "num" }, count(u.workforce_covered)),
        el("td", { className: "num", testid: "coverage-enrollment" }, percent(u.enrollment_rate)),
      );
      return row;
    }));
  }

  // Each union right after its parent (siblings by name), whatever order the answer has.
  function treeOrder(items) {
    const ids = new Set(items.map((u) => u.union_id));
    const children = new Map();
    for (const u of items) {
      const parent = ids.has(u.parent_id) ? u.parent_id : null;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(u);
    }
    const out = [];
    const visit = (parent) => {
      for (const u of (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name, "zh-CN"))) {
        out.push(u);
        visit(u.union_id);
      }
    };
    visit(null);
    return out;
  }

  async function loadEmployers(more) {
    const body = $("employers-rows");
    const query = { union_id: state.scope, q: $("employers-q").value.trim(), covered: $("employers-covered").value, limit: PAGE, after: more ? state.employersNext : undefined };
    const result = await S.call("enrollment", "/employers", { query });
    if (!more) body.replaceChildren();
    if (!result.ok) {
      body.replaceChildren(el("tr", {}, el("td", { colSpan: 5 }, result.status === 404 ? "单位名录暂未开通" : S.detailOf(result))));
      $("employers-more").hidden = true;
      return;
    }
    body.append(...result.data.items.map((e) => el("tr", { testid: "employer-row" },
      el("th", { scope: "row" }, e.name), el("td", {}, e.credit_code), el("td", { className: "num" }, count(e.workforce)),
      el("td", {}, e.should_have_union ? "是" : "否"),
      el("td", {}, e.base_union_id ? unionName(e.base_union_id) : "未建会"))));
    if (!body.children.length) body.append(el("tr", {}, el("td", { colSpan: 5 }, "没有符合条件的单位")));
    state.employersNext = result.data.next;
    $("employers-more").hidden = !result.data.next;
  }

  function fillEmployerUnions() {
    const option = (u) => el("option", { value: u.union_id, textContent: u.name });
    $("employer-responsible").replaceChildren(...state.unions.map(option));
    const bases = state.unions.filter((u) => u.kind === "base");
    $("employer-base").replaceChildren(el("option", { value: "", textContent: "（尚未建会）" }), ...bases.map(option));
  }

  async function registerEmployer(event) {
    event.preventDefault();
    const name = $("employer-name").value.trim();
    const code = $("employer-code").value.trim().toUpperCase();
    const region = $("employer-region").value.trim();
    const workforce = $("employer-workforce").value.trim();
    if (!name || !code || !region || workforce === "") return say("employer-message", "请填写单位名称、信用代码、行政区划和职工人数", "error");
    const body = {
      name, credit_code: code, region, workforce: Number(workforce),
      responsible_union_id: $("employer-responsible").value, base_union_id: $("employer-base").value || null,
    };
    const result = await S.call("enrollment", "/employers", { method: "POST", body });
    if (!result.ok) return say("employer-message", S.detailOf(result, "登记未成功，请核对后重试"), "error");
    say("employer-message", `已登记：${result.data.name}`, "ok");
    $("employer-form").reset();
    await loadEmployers(false);
  }

  async function searchMembers(event) {
    event.preventDefault();
    const q = $("search-q").value.trim();
    const table = document.querySelector('[data-testid="search-table"]');
    if (!q) return say("search-message", "请输入查询内容", "error");
    const result = await S.call("enrollment", "/members/search", { query: { q, union_id: state.scope, limit: PAGE } });
    if (!result.ok) {
      table.hidden = true;
      return say("search-message", result.status === 404 ? "会员查询暂未开通" : S.detailOf(result), "error");
    }
    const items = result.data.items;
    say("search-message", items.length ? `找到 ${items.length} 位会员` : "没有找到符合条件的会员");
    $("search-rows").replaceChildren(...items.map((m) => el("tr", { testid: "search-row" },
      el("th", { scope: "row" }, m.name), el("td", {}, m.national_id_masked), el("td", {}, m.card_number || "—"),
      el("td", {}, m.membership_number || "—"), el("td", {}, m.base_union_name || unionName(m.base_union_id)),
      el("td", {}, m.status_label || ""))));
    table.hidden = items.length === 0;
  }

  // --- 名册导入 -----------------------------------------------------------------------------------

  const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

  async function checkImport(event) {
    event.preventDefault();
    clearTimeout(state.pollTimer);
    const file = $("import-file").files[0];
    $("import-result").hidden = true;
    if (!file) return say("import-message", "请选择名册文件", "error");
    const lower = file.name.toLowerCase();
    const type = lower.endsWith(".xlsx") ? XLSX_TYPE : lower.endsWith(".csv") ? "text/csv" : null;
    if (!type) return say("import-message", "只支持 CSV 或 Excel（.xlsx）文件", "error");
    if (file.size > 5 * 1024 * 1024) return say("import-message", "文件太大，请拆分后再试（不超过 5 MB）", "error");
    say("import-message", "正在检查名册…");
    const result = await S.call("enrollment", "/imports", {
      method: "POST", raw: file, contentType: type, query: { union_id: state.scope, file_name: file.name },
    });
    if (!result.ok) return say("import-message", result.status === 404 ? "名册导入暂未开通" : S.detailOf(result), "error");
    state.importId = result.data.import_id;
    showImport(result.data);
    say("import-message", `检查完成：${result.data.ok} 行可导入，${result.data.refused} 行不能导入`, result.data.refused ? "error" : "ok");
    await loadRefusedLines();
  }

  function showImport(job) {
    $("import-result").hidden = false;
    $("import-total").textContent = count(job.total);
    $("import-ok").textContent = count(job.ok);
    $("import-refused").textContent = count(job.refused);
    $("import-commit").hidden = job.status !== "checked" || !job.ok;
    $("import-commit").disabled = false;
  }

  async function loadRefusedLines() {
    const rows = [];
    let after;
    for (let page = 0; page < 20; page += 1) {
      const result = await S.call("enrollment", `/imports/${state.importId}/lines`, { query: { outcome: "refused", after, limit: 500 } });
      if (!result.ok) return say("import-message", S.detailOf(result), "error");
      rows.push(...result.data.items);
      after = result.data.next;
      if (!after) break;
    }
    $("import-lines-rows").replaceChildren(...rows.map((line) => el("tr", { testid: "import-line" },
      el("th", { scope: "row", className: "num" }, String(line.line)), el("td", {}, line.reason || ""))));
    if (!rows.length) $("import-lines-rows").append(el("tr", {}, el("td", { colSpan: 2 }, "所有行均可导入")));
  }

  async function commitImport() {
    $("import-commit").disabled = true;
    const result = await S.call("enrollment", `/imports/${state.importId}/commit`, { method: "POST" });
    if (!result.ok) {
      $("import-commit").disabled = false;
      return say("import-message", S.detailOf(result), "error");
    }
    $("import-commit").hidden = true;
    $("import-progress-box").hidden = false;
    await pollImport();
  }

  async function pollImport() {
    const result = await S.call("enrollment", `/imports/${state.importId}`);
    if (!result.ok) {
      say("import-message", S.detailOf(result), "error");
      state.pollTimer = setTimeout(pollImport, POLL_MS * 3);
      return;
    }
    const job = result.data;
    const progress = $("import-progress");
    progress.max = Math.max(1, job.ok);
    progress.value = job.done;
    $("import-status").textContent = `${STATUS_LABELS[job.status] || "处理中"}：已导入 ${job.done} / ${job.ok} 行`;
    $("import-status").dataset.status = job.status;
    if (job.status === "committing") state.pollTimer = setTimeout(pollImport, POLL_MS);
    else say("import-message", job.status === "committed" ? "名册导入完成" : "导入未完成，请稍后重试或联系管理员", job.status === "committed" ? "ok" : "error");
  }

  async function exportMembers(format) {
    say("export-message", "正在导出…");
    const result = await S.download("enrollment", "/members/export", { union_id: state.scope, format }, `会员名单.${format}`);
    say("export-message", result.ok ? "已导出" : result.status === 404 ? "会员导出暂未开通" : S.detailOf(result), result.ok ? "ok" : "error");
  }

  // --- 报表 ----------------------------------------------------------------------------------------

  function defaultPeriod() {
    const now = new Date();
    const month = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
    if (!$("report-to").value) $("report-to").value = month;
    if (!$("report-from").value) $("report-from").value = `${now.getFullYear()}-01`;
  }

  async function loadReportList() {
    defaultPeriod();
    if (state.reports) return;
    const result = await S.call("reports", "/reports");
    if (!result.ok) return say("report-message", result.status === 404 ? "报表暂未开通" : S.detailOf(result), "error");
    state.reports = Array.isArray(result.data) ? result.data : result.data.items || [];
    $("report-name").replaceChildren(...state.reports.map((r) => el("option", { value: r.report, textContent: r.title })));
  }

  function reportQuery() {
    return { union_id: state.scope, from: $("report-from").value, to: $("report-to").value };
  }

  async function showReport(event) {
    if (event) event.preventDefault();
    const name = $("report-name").value;
    if (!name) return say("report-message", "请选择报表", "error");
    const query = reportQuery();
    if (query.from && query.to && query.from > query.to) return say("report-message", "起始月份不能晚于截止月份", "error");
    say("report-message", "正在生成报表…");
    const result = await S.call("reports", `/reports/${encodeURIComponent(name)}`, { query });
    if (!result.ok) {
      $("report").hidden = true;
      return say("report-message", S.detailOf(result), "error");
    }
    say("report-message", "");
    state.report = { name, query };
    renderReport(result.data);
  }

  function renderReport(data) {
    $("report-title").textContent = data.title;
    const period = data.period || {};
    $("report-meta").textContent = `${data.union_name || unionName(data.union_id)} · ${period.from || ""} 至 ${period.to || ""}`;
    const parts = (data.tables || []).map((table) => {
      const charts = (data.charts || []).filter((c) => c.table === table.table);
      const part = el("section", { className: `report-part${charts.length ? " with-chart" : ""}`, testid: "report-part", "aria-label": table.title });
      part.append(...charts.map((chart) => renderChart(data.report, chart)));
      part.append(el("div", { className: "table-scroll", role: "region", "aria-label": `${table.title}（表格）`, tabindex: "0" }, renderTable(table)));
      return part;
    });
    $("report-body").replaceChildren(...parts);
    $("report").hidden = false;
  }

  function renderChart(report, chart) {
    const img = el("img", { alt: `${chart.title}（图表；数据见旁边的表格）`, testid: "report-chart" });
    img.dataset.chart = chart.chart;
    const figure = el("figure", {}, el("figcaption", {}, chart.title), img);
    // The chart is asked with the caller's token (an <img src> would carry none) and shown
    // from a blob: URL, which the page's policy allows.
    const path = chartPath(report, chart);
    S.call("reports", path.path, { query: path.query, as: "blob" }).then((result) => {
      if (result.ok && result.blob) {
        img.src = URL.createObjectURL(result.blob);
        img.dataset.loaded = "true";
      } else {
        figure.append(el("p", { className: "hint" }, "图表暂不可用，请看旁边的表格"));
      }
    });
    return figure;
  }

  function chartPath(report, chart) {
    if (chart.url) {
      const url = new URL(chart.url, location.origin);
      const path = url.pathname.replace(/^\/api\/reports(?=\/)/, "");
      return { path: `${path}${url.search}`, query: null };
    }
    return { path: `/reports/${encodeURIComponent(report)}/charts/${encodeURIComponent(chart.chart)}.svg`, query: state.report.query };
  }

  function renderTable(table) {
    const numeric = (kind) => ["number", "integer", "count", "money", "rate", "percent", "ratio"].includes(kind);
    const cell = (column, value) => {
      if (value === null || value === undefined) return "—";
      if (["rate", "percent", "ratio"].includes(column.kind)) return percent(value);
      if (column.kind === "money") return `${(Number(value) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`; // fen
      if (numeric(column.kind)) return count(value);
      return String(value);
    };
    const columns = table.columns || [];
    return el("table", { className: "data", testid: "report-table" },
      el("caption", {}, table.title),
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", className: numeric(c.kind) ? "num" : "" }, c.label)))),
      el("tbody", {}, ...(table.rows || []).map((row) => el("tr", {}, ...columns.map((c, i) =>
        el(i === 0 ? "th" : "td", { className: numeric(c.kind) ? "num" : "", ...(i === 0 ? { scope: "row" } : {}) }, cell(c, row[c.key])))))));
  }

  async function exportReport(format) {
    if (!state.report) return;
    const { name, query } = state.report;
    const result = await S.download("reports", `/reports/${encodeURIComponent(name)}/export`, { ...query, format }, `${name}.${format}`);
    say("report-message", result.ok ? "已导出" : S.detailOf(result), result.ok ? "ok" : "error");
  }

  // --- views in files of their own (console-programmes.js) -------------------------------------------

  // What such a view shares with this page: its helpers, the scope, the unions of the subtree.
  const views = {};
  window.ZhijiaConsole = {
    el, say, when, count, unionName,
    scope: () => state.scope,
    unions: () => state.unions,
    addView: (name, load) => { views[name] = load; },
  };

  // --- the page ------------------------------------------------------------------------------------

  async function start() {
    S.onSignedOut(signedOut);
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("scope-union").addEventListener("change", changeScope);
    $("queues-refresh").addEventListener("click", loadQueues);
    $("employers-filter").addEventListener("submit", (e) => { e.preventDefault(); loadEmployers(false); });
    $("employers-more").addEventListener("click", () => loadEmployers(true));
    $("employer-form").addEventListener("submit", registerEmployer);
    $("search-form").addEventListener("submit", searchMembers);
    $("import-form").addEventListener("submit", checkImport);
    $("import-commit").addEventListener("click", commitImport);
    $("export-csv").addEventListener("click", () => exportMembers("csv"));
    $("export-xlsx").addEventListener("click", () => exportMembers("xlsx"));
    $("report-form").addEventListener("submit", showReport);
    $("report-csv").addEventListener("click", () => exportReport("csv"));
    $("report-xlsx").addEventListener("click", () => exportReport("xlsx"));
    window.addEventListener("hashchange", () => route(true));
    // A page reloaded within the session resumes it through the refresh cookie.
    if (await S.renew()) await ready();
    else show("sign-in");
    document.body.dataset.ready = "true";
  }

  start();
})();
