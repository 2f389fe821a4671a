"use strict";
// 帮扶项目 in the cadre console (docs/console.md): 送温暖 campaigns and 金秋助学 student aid, the
// cadres' side of relief's programmes (issue 20). Loaded after console.js, whose helpers it uses
// (window.ZhijiaConsole); calls go through the forwarder to relief, which checks every scope and
// rule itself (four eyes, budgets, once per household) — this page only shows and asks.
(() => {
  const S = window.ZhijiaSession;
  const C = window.ZhijiaConsole;
  const { el, say, when, count, unionName } = C;
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;

  // The groups and school types of shared/contracts/relief_programmes.py, as the forms offer
  // them (answers carry their own *_label).
  const GROUPS = [
    ["deep", "深度困难职工"], ["relative", "相对困难职工"], ["accident", "意外致困职工"],
    ["model_worker", "困难劳模"], ["front_line", "一线职工"], ["employer", "困难企业"],
  ];
  const SCHOOL_TYPES = [["undergraduate", "本科"], ["junior_college", "高职(专科)"], ["secondary_vocational", "中职"], ["postgraduate", "研究生"]];
  const AID_STATUSES = [["", "全部"], ["submitted", "待审核"], ["in_disclosure", "公示中"], ["approved", "已通过待发放"], ["paid", "已发放"], ["declined", "不予资助"]];
  const SOURCE = { generated: "系统生成", added: "手动添加" };
  const FOUR_EYES = "同一人不能既提交又审批(四眼原则)";

  const state = {
    tab: "campaigns", scope: null, campaign: null, list: null, edit: null, employersNext: null,
    windows: [], aidNext: null, payKeys: new Map(),
  };

  // --- money and small helpers -------------------------------------------------------------------

  const money = (fen) => (fen === null || fen === undefined ? "—"
    : `¥${(Number(fen) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
  const yuanText = (fen) => (fen === null || fen === undefined ? "" : (Number(fen) / 100).toFixed(2));

  // Yuan as typed ("1,234.5", "¥800") → integer fen; null when empty, NaN when not an amount.
  function fenOf(text) {
    const t = String(text || "").trim().replace(/[,，\s]/g, "").replace(/^[¥￥]/, "");
    if (t === "") return null;
    const m = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(t);
    return m ? Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0")) : NaN;
  }

  const itemsOf = (data) => (Array.isArray(data) ? data : (data && data.items) || []);
  const unavailable = (result, what) => (result.status === 404 && !(result.data && /[\u4e00-\u9fff]/.test(result.data.detail || ""))
    ? `${what}暂未开通` : S.detailOf(result));
  const emptyRow = (cols, text) => el("tr", {}, el("td", { colSpan: cols }, text));
  const num = (text, testid) => el("td", { className: "num", ...(testid ? { testid } : {}) }, text);

  function button(text, testid, onClick, extra = {}) {
    const node = el("button", { type: "button", textContent: text, testid, ...extra });
    node.addEventListener("click", onClick);
    return node;
  }

  // Is this "by" field the signed-in cadre? Relief records actors as "role:sub".
  function isMe(by) {
    const { sub, role } = S.claims();
    return Boolean(by && sub && (by === sub || by === `${role}:${sub}` || by.endsWith(`:${sub}`)));
  }

  // The unions of the chosen scope's subtree (the coverage answer's parent links).
  function subtree() {
    const all = C.unions();
    const inside = new Set([C.scope()]);
    for (const u of all) if (inside.has(u.parent_id)) inside.add(u.union_id);
    return all.filter((u) => inside.has(u.union_id));
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A payment: one Idempotency-Key per click, kept while the answer is unknown (network, 5xx) so
  // the automatic retries and the next click replay the same payment instead of paying twice.
  async function payOnce(what, path, body) {
    if (!state.payKeys.has(what)) state.payKeys.set(what, newKey());
    const key = state.payKeys.get(what);
    let result;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      result = await S.call("relief", path, { method: "POST", body, headers: { "Idempotency-Key": key } });
      if (result.status !== 0 && result.status < 500) break;
      await new Promise((done) => setTimeout(done, 800 * (attempt + 1)));
    }
    if (result.status !== 0 && result.status < 500) state.payKeys.delete(what); // answered: the next click is new
    return result;
  }

  function moneyInputs(box, pairs, prefix) {
    box.replaceChildren(...pairs.map(([code, label]) => el("div", {},
      el("label", { htmlFor: `${prefix}-${code}`, textContent: label }),
      el("input", { id: `${prefix}-${code}`, inputMode: "decimal", maxLength: 12, testid: `${prefix}-${code}` }))));
  }

  // Amounts typed per code → {code: fen}, or the label of the first one that is no amount.
  function amountsFrom(pairs, prefix) {
    const out = {};
    for (const [code, label] of pairs) {
      const fen = fenOf($(`${prefix}-${code}`).value);
      if (Number.isNaN(fen)) return { bad: label };
      if (fen) out[code] = fen;
    }
    return { amounts: out };
  }

  // --- the view and its tabs ---------------------------------------------------------------------

  async function load() {
    // Another scope keeps the open campaign (its allocations seen from that union down) but not
    // the open list, which belongs to one base union.
    if (state.scope !== C.scope()) closeList();
    state.scope = C.scope();
    if (state.tab === "campaigns") await Promise.all([loadCampaigns(), loadDifficulty(false), state.campaign ? openCampaign(state.campaign.campaign_id) : null]);
    else await Promise.all([loadWindows(), loadApplications(false), loadDisclosure()]);
  }

  function selectTab(tab, focus) {
    state.tab = tab;
    for (const name of ["campaigns", "student-aid"]) {
      const on = name === tab;
      const node = $(`tab-${name}`);
      node.setAttribute("aria-selected", String(on));
      node.tabIndex = on ? 0 : -1;
      $(`panel-${name}`).hidden = !on;
      if (on && focus) node.focus();
    }
    return load();
  }

  function tabKeys(event) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    selectTab(state.tab === "campaigns" ? "student-aid" : "campaigns", true);
  }

  // --- 送温暖: campaigns ----------------------------------------------------------------------------

  async function loadCampaigns() {
    const body = $("campaigns-rows");
    const result = await S.call("relief", "/campaigns", { query: { union_id: C.scope() } });
    if (!result.ok) return body.replaceChildren(emptyRow(8, unavailable(result, "送温暖活动")));
    const items = itemsOf(result.data);
    body.replaceChildren(...items.map((c) => {
      const row = el("tr", { testid: "campaign-row" },
        el("th", { scope: "row" }, c.title), el("td", {}, c.union_name || unionName(c.union_id)),
        el("td", {}, `${c.starts_on} 至 ${c.ends_on}`), num(money(c.total_fen)), num(money(c.allocated_fen)),
        num(money(c.paid_fen)), el("td", { testid: "campaign-status" }, c.status_label || ""),
        el("td", {}, button("查看", "campaign-open", () => openCampaign(c.campaign_id), { "aria-label": `查看${c.title}` })));
      row.dataset.id = c.campaign_id;
      return row;
    }));
    if (!items.length) body.append(emptyRow(8, "暂无送温暖活动"));
  }

  async function launchCampaign(event) {
    event.preventDefault();
    const title = $("campaign-title-input").value.trim();
    const startsOn = $("campaign-starts").value;
    const endsOn = $("campaign-ends").value;
    const total = fenOf($("campaign-total").value);
    if (!title || !startsOn || !endsOn || total === null) return say("campaigns-message", "请填写活动名称、起止日期和资金总额", "error");
    if (Number.isNaN(total)) return say("campaigns-message", "资金总额请填写金额，例如 50000 或 50000.00", "error");
    if (endsOn < startsOn) return say("campaigns-message", "结束日期不能早于开始日期", "error");
    const { amounts, bad } = amountsFrom(GROUPS, "campaign-amount");
    if (bad) return say("campaigns-message", `${bad}的慰问标准请填写金额`, "error");
    if (!Object.keys(amounts).length) return say("campaigns-message", "请至少填写一类对象的慰问标准", "error");
    const body = { title, union_id: C.scope(), starts_on: startsOn, ends_on: endsOn, total_fen: total, amounts_fen: amounts };
    const result = await S.call("relief", "/campaigns", { method: "POST", body });
    if (!result.ok) return say("campaigns-message", S.detailOf(result, "发起未成功，请稍后重试"), "error");
    say("campaigns-message", `已发起：${result.data.title}`, "ok");
    $("campaign-form").reset();
    $("campaign-launch").open = false;
    await loadCampaigns();
    await openCampaign(result.data.campaign_id);
  }

  async function openCampaign(campaignId) {
    const result = await S.call("relief", `/campaigns/${campaignId}`);
    if (!result.ok) {
      state.campaign = null; // e.g. a scope the campaign does not concern: nothing stale stays shown
      $("campaign").hidden = true;
      return say("campaigns-message", unavailable(result, "送温暖活动"), "error");
    }
    const c = result.data;
    if (!state.campaign || state.campaign.campaign_id !== c.campaign_id) closeList();
    state.campaign = c;
    $("campaign-heading").textContent = `${c.title}（${c.status_label || ""}）`;
    const groups = (c.groups || []).map((g) => `${g.label} ${money(g.amount_fen)}`).join("；");
    $("campaign-meta").textContent = `${c.union_name || unionName(c.union_id)}发起 · ${c.starts_on} 至 ${c.ends_on} · 资金总额 ${money(c.total_fen)} · 已分配 ${money(c.allocated_fen)} · 已发放 ${money(c.paid_fen)} · 标准：${groups}`;
    $("campaign").hidden = false;
    fillListUnions();
    await Promise.all([loadAllocations(), loadLists(), loadCampaignReport()]);
  }

  // --- allocations ----------------------------------------------------------------------------------

  async function loadAllocations() {
    const c = state.campaign;
    const body = $("allocation-rows");
    const result = await S.call("relief", `/campaigns/${c.campaign_id}/allocations`, { query: { union_id: C.scope() } });
    if (!result.ok) {
      $("allocation-summary").textContent = unavailable(result, "资金分配");
      $("allocation-box").hidden = true;
      return;
    }
    const a = result.data;
    $("allocation-summary").textContent = `${a.union_name || unionName(a.union_id)}：分配额 ${money(a.total_fen)}，已分给下级 ${money(a.allocated_fen)}，已发放 ${money(a.paid_fen)}，尚可分配 ${money(a.remaining_fen)}`;
    $("allocation-summary").dataset.remaining = String(a.remaining_fen);
    const children = a.children || [];
    $("allocation-box").hidden = !children.length;
    if (!children.length) $("allocation-summary").append("（本级没有下级工会，名单直接在本级生成）");
    body.replaceChildren(...children.map((child) => {
      const id = `alloc-${child.union_id}`;
      const input = el("input", { id, inputMode: "decimal", maxLength: 12, value: child.total_fen ? yuanText(child.total_fen) : "", testid: "allocation-input" });
      input.dataset.suggested = yuanText(child.suggested_fen);
      const row = el("tr", { testid: "allocation-row" },
        el("th", { scope: "row" }, child.name), num(count(child.eligible_households), "allocation-households"),
        num(count(child.eligible_employers)), num(money(child.suggested_fen), "allocation-suggested"),
        num(money(child.total_fen), "allocation-total"), num(money(child.paid_fen)),
        el("td", { className: "cell-form" }, el("label", { htmlFor: id, className: "visually-hidden", textContent: `${child.name}的分配金额（元）` }), input,
          button("保存", "allocation-save", () => allocate(child, input))));
      row.dataset.unionId = child.union_id;
      return row;
    }));
  }

  async function allocate(child, input) {
    const fen = fenOf(input.value);
    if (fen === null || Number.isNaN(fen)) {
      input.focus();
      return say("campaigns-message", `请填写${child.name}的分配金额（元）`, "error");
    }
    const c = state.campaign;
    const result = await S.call("relief", `/campaigns/${c.campaign_id}/allocations/${child.union_id}`, { method: "PUT", body: { total_fen: fen } });
    if (!result.ok) return say("campaigns-message", S.detailOf(result, "分配未成功"), "error");
    say("campaigns-message", `已为${child.name}分配 ${money(fen)}`, "ok");
    await Promise.all([loadAllocations(), refreshCampaignFigures()]);
  }

  async function refreshCampaignFigures() {
    const result = await S.call("relief", `/campaigns/${state.campaign.campaign_id}`);
    if (result.ok) {
      const c = result.data;
      state.campaign = c;
      $("campaign-heading").textContent = `${c.title}（${c.status_label || ""}）`;
      $("campaign-meta").textContent = $("campaign-meta").textContent
        .replace(/已分配 [^ ]+/, `已分配 ${money(c.allocated_fen)}`).replace(/已发放 [^ ]+/, `已发放 ${money(c.paid_fen)}`);
    }
    await loadCampaigns();
  }

  function suggestAllocations() {
    for (const input of document.querySelectorAll('[data-testid="allocation-input"]')) input.value = input.dataset.suggested || "";
    say("campaigns-message", "已填入建议金额，请逐行核对后保存");
  }

  // --- distribution lists ---------------------------------------------------------------------------

  function fillListUnions() {
    const bases = subtree().filter((u) => !u.kind || u.kind === "base");
    $("list-union").replaceChildren(...bases.map((u) => el("option", { value: u.union_id, textContent: u.name })));
    $("list-generate-form").hidden = !bases.length;
  }

  async function loadLists() {
    const c = state.campaign;
    const body = $("lists-rows");
    const result = await S.call("relief", `/campaigns/${c.campaign_id}/lists`, { query: { union_id: C.scope() } });
    if (!result.ok) return body.replaceChildren(emptyRow(7, unavailable(result, "发放名单")));
    const items = itemsOf(result.data);
    body.replaceChildren(...items.map((l) => {
      const row = el("tr", { testid: "list-row" },
        el("th", { scope: "row" }, l.union_name || unionName(l.union_id)), el("td", { testid: "list-row-status" }, l.status_label || ""),
        num(count(l.entries_count)), num(count(l.included_count)), num(money(l.total_fen)), num(money(l.paid_fen)),
        el("td", {}, button("打开", "list-open", () => openList(l.list_id), { "aria-label": `打开${l.union_name || ""}的名单` })));
      row.dataset.id = l.list_id;
      return row;
    }));
    if (!items.length) body.append(emptyRow(7, "尚未生成名单"));
  }

  async function generateList(event) {
    event.preventDefault();
    const unionId = $("list-union").value;
    if (!unionId) return say("campaigns-message", "请选择基层工会", "error");
    const result = await S.call("relief", `/campaigns/${state.campaign.campaign_id}/lists`, { method: "POST", body: { union_id: unionId } });
    if (!result.ok) return say("campaigns-message", S.detailOf(result, "生成名单未成功"), "error");
    say("campaigns-message", `已生成${result.data.union_name || unionName(unionId)}的发放名单：${result.data.entries_count} 个对象`, "ok");
    showList(result.data);
    await loadLists();
  }

  async function openList(listId) {
    const result = await S.call("relief", `/campaign-lists/${listId}`);
    if (!result.ok) return say("campaigns-message", unavailable(result, "发放名单"), "error");
    showList(result.data);
    $("list").scrollIntoView({ block: "start" });
  }

  function closeList() {
    state.list = null;
    $("list").hidden = true;
  }

  function showList(l) {
    state.list = l;
    const draft = l.status === "draft";
    $("list").hidden = false;
    $("list").dataset.status = l.status;
    $("list-heading").textContent = `${l.union_name || unionName(l.union_id)} · ${l.campaign_title || ""} 发放名单（${l.status_label || ""}）`;
    // Relief names actors by account id: a person reads whether it was them.
    const who = (by) => (isMe(by) ? "本人" : "其他干部");
    const people = [l.prepared_by && `编制：${who(l.prepared_by)}`, l.submitted_by && `提交：${who(l.submitted_by)}`, l.approved_by && `审批：${who(l.approved_by)}`].filter(Boolean).join(" · ");
    $("list-meta").textContent = `共 ${count(l.entries_count)} 个对象，纳入 ${count(l.included_count)} 个，应发 ${money(l.total_fen)}，已发放 ${money(l.paid_fen)}${people ? ` · ${people}` : ""}`;
    const entries = l.entries || [];
    $("entries-rows").replaceChildren(...entries.map((e) => entryRow(e, draft)));
    if (!entries.length) $("entries-rows").append(emptyRow(8, "名单中没有对象"));
    $("entry-add-box").hidden = !draft;
    $("entry-edit").hidden = true;
    renderListActions(l);
  }

  function entryRow(e, draft) {
    const who = e.name || (e.recipient === "employer" ? "困难企业" : "会员");
    const actions = el("td", { className: "cell-form" });
    if (draft) {
      if (e.included) actions.append(button("剔除", "entry-exclude", () => editEntry(e, "exclude")));
      else actions.append(button("恢复", "entry-include", () => editEntry(e, "include")));
      actions.append(button("调整金额", "entry-adjust", () => editEntry(e, "adjust")));
    }
    const row = el("tr", { testid: "entry-row", className: e.included ? "" : "excluded" },
      el("th", { scope: "row" }, who), el("td", {}, e.group_label || ""), num(money(e.amount_fen), "entry-amount"),
      el("td", { testid: "entry-included" }, e.included ? "纳入" : "已剔除"), el("td", {}, SOURCE[e.source] || "—"),
      el("td", {}, e.reason || ""), el("td", { testid: "entry-paid" }, e.paid ? `已发放 ${when(e.paid_at)}` : "未发放"), actions);
    row.dataset.id = e.entry_id;
    return row;
  }

  const EDITS = { exclude: "剔除", include: "恢复", adjust: "调整金额" };

  function editEntry(entry, kind) {
    state.edit = { entry, kind };
    $("entry-edit-legend").textContent = `${EDITS[kind]}：${entry.name || "该对象"}（${entry.group_label || ""}）`;
    $("entry-edit-amount-box").hidden = kind !== "adjust";
    $("entry-edit-amount").value = kind === "adjust" ? yuanText(entry.amount_fen) : "";
    $("entry-edit-reason").value = "";
    $("entry-edit").hidden = false;
    $(kind === "adjust" ? "entry-edit-amount" : "entry-edit-reason").focus();
  }

  async function sendEdit(event) {
    event.preventDefault();
    const { entry, kind } = state.edit || {};
    if (!entry) return;
    const reason = $("entry-edit-reason").value.trim();
    if (!reason) {
      $("entry-edit-reason").focus();
      return say("list-message", "请填写理由", "error");
    }
    const base = `/campaign-lists/${state.list.list_id}/entries/${entry.entry_id}`;
    let result;
    if (kind === "adjust") {
      const fen = fenOf($("entry-edit-amount").value);
      if (fen === null || Number.isNaN(fen)) return say("list-message", "请填写调整后的金额（元）", "error");
      result = await S.call("relief", base, { method: "PATCH", body: { amount_fen: fen, reason } });
    } else {
      result = await S.call("relief", `${base}/${kind}`, { method: "POST", body: { reason } });
    }
    if (!result.ok) return say("list-message", S.detailOf(result, "修改未成功"), "error");
    say("list-message", `已${EDITS[kind]}：${entry.name || "该对象"}`, "ok");
    showList(result.data);
    await loadLists();
  }

  async function addEntry(event) {
    event.preventDefault();
    const id = $("entry-add-id").value.trim();
    const reason = $("entry-add-reason").value.trim();
    const amount = fenOf($("entry-add-amount").value);
    if (!/^[0-9a-fA-F-]{36}$/.test(id)) return say("list-message", "请填写系统内的会员编号或单位编号", "error");
    if (!reason) return say("list-message", "请填写添加的理由", "error");
    if (Number.isNaN(amount)) return say("list-message", "金额请填写数字，例如 800 或 800.00", "error");
    const employer = $("entry-add-kind").value === "employer";
    const body = { [employer ? "employer_id" : "member_id"]: id, group: $("entry-add-group").value, reason };
    if (amount !== null) body.amount_fen = amount;
    const result = await S.call("relief", `/campaign-lists/${state.list.list_id}/entries`, { method: "POST", body });
    if (!result.ok) return say("list-message", S.detailOf(result, "添加未成功"), "error");
    say("list-message", "已添加到名单", "ok");
    $("entry-add").reset();
    showList(result.data);
    await loadLists();
  }

  function renderListActions(l) {
    const box = $("list-actions");
    box.replaceChildren();
    const step = (path, body, done) => async (event) => {
      event.target.disabled = true;
      const result = await S.call("relief", `/campaign-lists/${l.list_id}/${path}`, { method: "POST", body });
      if (!result.ok) {
        event.target.disabled = false;
        return say("list-message", S.detailOf(result), "error");
      }
      say("list-message", done, "ok");
      await openList(l.list_id);
      await loadLists();
    };
    if (l.status === "draft") {
      box.append(button("重新生成（保留手工修改）", "list-regenerate", () => regenerate(l)),
        button("提交审批", "list-submit", step("submit", undefined, "已提交审批，请另一位干部审批")));
    } else if (l.status === "submitted") {
      const mine = isMe(l.submitted_by);
      box.append(button("审批通过", "list-approve", step("approve", undefined, "已审批通过，可以发放"), { disabled: mine }));
      if (mine) box.append(el("p", { className: "blocked", testid: "list-four-eyes" }, FOUR_EYES));
      const reason = el("input", { id: "list-return-reason", maxLength: 500, testid: "list-return-reason" });
      const back = async (event) => {
        if (!reason.value.trim()) {
          reason.focus();
          return say("list-message", "请填写退回理由", "error");
        }
        return step("return", { reason: reason.value.trim() }, "已退回修改")(event);
      };
      box.append(el("div", { className: "return-box" }, el("label", { htmlFor: "list-return-reason", textContent: "退回理由" }), reason,
        button("退回修改", "list-return", back)));
    } else if (l.status === "approved") {
      box.append(button(`发放（${money(l.total_fen - (l.paid_fen || 0))}）`, "list-pay", (event) => payList(event, l), { className: "primary" }));
    } else {
      box.append(el("p", { className: "hint", testid: "list-done" }, `已发放 ${money(l.paid_fen)}`));
    }
  }

  async function regenerate(l) {
    const result = await S.call("relief", `/campaigns/${l.campaign_id}/lists`, { method: "POST", body: { union_id: l.union_id } });
    if (!result.ok) return say("list-message", S.detailOf(result, "重新生成未成功"), "error");
    say("list-message", "已重新生成，手工修改已保留", "ok");
    showList(result.data);
    await loadLists();
  }

  async function payList(event, l) {
    const target = event.target;
    target.disabled = true;
    say("list-message", "正在发放…");
    const result = await payOnce(`list:${l.list_id}`, `/campaign-lists/${l.list_id}/pay`);
    if (!result.ok) {
      target.disabled = false;
      return say("list-message", S.detailOf(result, "发放未成功，请稍后重试（重试不会重复发放）"), "error");
    }
    const r = result.data;
    const others = r.already_paid_count ? `；${r.already_paid_count} 个对象已通过其他名单领取，本次未重复发放` : "";
    say("list-message", `已发放 ${count(r.paid_count)} 个对象，共 ${money(r.paid_fen)}${others}`, "ok");
    await openList(l.list_id);
    await Promise.all([loadLists(), loadAllocations(), loadCampaignReport(), refreshCampaignFigures()]);
  }

  // --- the campaign report --------------------------------------------------------------------------

  async function loadCampaignReport() {
    const c = state.campaign;
    const result = await S.call("relief", `/campaigns/${c.campaign_id}/report`, { query: { union_id: C.scope() } });
    const body = $("campaign-report-rows");
    $("campaign-report-totals").replaceChildren();
    if (!result.ok) return body.replaceChildren(emptyRow(5, unavailable(result, "活动统计")));
    const rows = result.data.rows || [];
    body.replaceChildren(...rows.map((r) => el("tr", { testid: "campaign-report-row" },
      el("th", { scope: "row" }, r.union_name || unionName(r.union_id)), el("td", {}, r.group_label || ""),
      num(count(r.households)), num(count(r.employers)), num(money(r.amount_fen)))));
    if (!rows.length) body.append(emptyRow(5, "尚无发放"));
    const t = result.data.totals || {};
    $("campaign-report-totals").append(el("tr", { testid: "campaign-report-total" },
      el("th", { scope: "row", colSpan: 2 }, "合计"), num(count(t.households)), num(count(t.employers)), num(money(t.amount_fen))));
  }

  async function exportCampaignReport(format) {
    const c = state.campaign;
    if (!c) return;
    const result = await S.download("relief", `/campaigns/${c.campaign_id}/report/export`, { union_id: C.scope(), format }, `${c.title}.${format}`);
    say("campaigns-message", result.ok ? "已导出" : unavailable(result, "统计导出"), result.ok ? "ok" : "error");
  }

  // --- 困难企业认定 ---------------------------------------------------------------------------------

  async function loadDifficulty(more) {
    const body = $("difficulty-rows");
    const query = { union_id: C.scope(), q: $("difficulty-q").value.trim(), in_difficulty: $("difficulty-state").value, limit: PAGE, after: more ? state.employersNext : undefined };
    const result = await S.call("relief", "/employers", { query });
    if (!more) body.replaceChildren();
    if (!result.ok) {
      $("difficulty-more").hidden = true;
      return body.replaceChildren(emptyRow(7, unavailable(result, "困难企业认定")));
    }
    body.append(...itemsOf(result.data).map(employerRow));
    if (!body.children.length) body.append(emptyRow(7, "没有符合条件的单位"));
    state.employersNext = result.data.next || null;
    $("difficulty-more").hidden = !state.employersNext;
  }

  function employerRow(e) {
    const id = `difficulty-${e.employer_id}`;
    const reason = el("input", { id, maxLength: 500, testid: "difficulty-reason" });
    const label = e.in_difficulty ? "取消认定" : "认定为困难企业";
    const act = async () => {
      if (!reason.value.trim()) {
        reason.focus();
        return say("campaigns-message", `请填写${label}的理由`, "error");
      }
      const result = await S.call("relief", `/employers/${e.employer_id}/difficulty`, { method: "PUT", body: { in_difficulty: !e.in_difficulty, reason: reason.value.trim() } });
      if (!result.ok) return say("campaigns-message", S.detailOf(result), "error");
      say("campaigns-message", `已${label}：${e.name}`, "ok");
      row.replaceWith(employerRow({ ...e, ...(result.data && result.data.employer_id ? result.data : { in_difficulty: !e.in_difficulty, difficulty_reason: reason.value.trim() }) }));
    };
    const row = el("tr", { testid: "difficulty-row" },
      el("th", { scope: "row" }, e.name), num(count(e.workforce)),
      el("td", {}, e.base_union_id ? unionName(e.base_union_id) : "未建会"),
      el("td", { testid: "difficulty-flag" }, e.in_difficulty ? "是" : "否"), el("td", {}, e.difficulty_reason || ""),
      el("td", {}, when(e.designated_at)),
      el("td", { className: "cell-form" }, el("label", { htmlFor: id, className: "visually-hidden", textContent: `${e.name}：${label}的理由` }), reason,
        button(label, "difficulty-toggle", act)));
    row.dataset.id = e.employer_id;
    return row;
  }

  // --- 金秋助学: windows -----------------------------------------------------------------------------

  // A datetime-local value (China time) → ISO 8601 with its offset.
  const chinaIso = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}+08:00` : "");

  async function loadWindows() {
    const body = $("windows-rows");
    const result = await S.call("relief", "/student-aid/windows", { query: { union_id: C.scope() } });
    if (!result.ok) {
      state.windows = [];
      fillWindowFilter();
      fillFileWindows();
      return body.replaceChildren(emptyRow(8, unavailable(result, "金秋助学")));
    }
    state.windows = itemsOf(result.data);
    fillWindowFilter();
    fillFileWindows();
    body.replaceChildren(...state.windows.map((w) => {
      const row = el("tr", { testid: "window-row" },
        el("th", { scope: "row" }, w.title), el("td", {}, w.union_name || unionName(w.union_id)),
        el("td", {}, when(w.opens_at)), el("td", {}, when(w.closes_at)), el("td", { testid: "window-status" }, w.status_label || ""),
        el("td", {}, (w.amounts || []).map((a) => `${a.label} ${money(a.amount_fen)}`).join("；")),
        num(count(w.disclosure_days)),
        el("td", {}, button("查看申请", "window-applications", () => { $("aid-window").value = w.window_id; loadApplications(false); })));
      row.dataset.id = w.window_id;
      return row;
    }));
    if (!state.windows.length) body.append(emptyRow(8, "暂无助学申请期"));
  }

  function fillWindowFilter() {
    const chosen = $("aid-window").value;
    $("aid-window").replaceChildren(el("option", { value: "", textContent: "全部申请期" }),
      ...state.windows.map((w) => el("option", { value: w.window_id, textContent: `${w.title}（${w.status_label || ""}）` })));
    if (state.windows.some((w) => w.window_id === chosen)) $("aid-window").value = chosen;
  }

  async function createWindow(event) {
    event.preventDefault();
    const year = Number($("window-year").value);
    const opens = $("window-opens").value;
    const closes = $("window-closes").value;
    if (!year || !opens || !closes) return say("aid-message", "请填写学年、开始时间和截止时间", "error");
    if (closes <= opens) return say("aid-message", "截止时间须晚于开始时间", "error");
    const { amounts, bad } = amountsFrom(SCHOOL_TYPES, "window-amount");
    if (bad) return say("aid-message", `${bad}的资助标准请填写金额`, "error");
    if (!Object.keys(amounts).length) return say("aid-message", "请至少填写一类学校的资助标准", "error");
    const body = { union_id: C.scope(), academic_year: year, opens_at: chinaIso(opens), closes_at: chinaIso(closes), amounts_fen: amounts };
    if ($("window-disclosure").value) body.disclosure_days = Number($("window-disclosure").value);
    const result = await S.call("relief", "/student-aid/windows", { method: "POST", body });
    if (!result.ok) return say("aid-message", S.detailOf(result, "开设未成功，请稍后重试"), "error");
    say("aid-message", `已开设：${result.data.title}（${result.data.status_label || ""}）`, "ok");
    $("window-form").reset();
    $("window-year").value = String(year);
    $("window-create").open = false;
    await loadWindows();
  }

  // --- an application filed by a cadre for a member -------------------------------------------------

  function fillFileWindows() {
    const open = state.windows.filter((w) => w.status === "open");
    const chosen = $("aid-file-window").value;
    $("aid-file-window").replaceChildren(
      ...(open.length ? open.map((w) => el("option", { value: w.window_id, textContent: w.title }))
        : [el("option", { value: "", textContent: "暂无开放中的申请期" })]));
    if (open.some((w) => w.window_id === chosen)) $("aid-file-window").value = chosen;
    fillFileSchoolTypes();
  }

  // The chosen window's school types, with what each is paid.
  function fillFileSchoolTypes() {
    const w = state.windows.find((x) => x.window_id === $("aid-file-window").value);
    $("aid-file-school-type").replaceChildren(...(w ? w.amounts : []).map((a) =>
      el("option", { value: a.school_type, textContent: `${a.label}（${money(a.amount_fen)}）` })));
  }

  async function findFileMembers() {
    const q = $("aid-file-q").value.trim();
    if (!q) return say("aid-message", "请输入会员姓名、卡号或身份证后四位", "error");
    const result = await S.call("enrollment", "/members/search", { query: { q, union_id: C.scope(), limit: 20 } });
    if (!result.ok) return say("aid-message", S.detailOf(result, "查找未成功，请稍后重试"), "error");
    const found = itemsOf(result.data).filter((m) => m.status === "active");
    $("aid-file-member").replaceChildren(...found.map((m) => el("option", {
      value: m.member_id, textContent: `${m.name}（${m.national_id_masked}，${m.base_union_name || ""}）`,
    })));
    say("aid-message", found.length ? `找到 ${found.length} 位在册会员，请选择` : "没有找到在册会员", found.length ? "ok" : "error");
  }

  async function fileApplication(event) {
    event.preventDefault();
    const windowId = $("aid-file-window").value;
    const memberId = $("aid-file-member").value;
    const student = $("aid-file-student").value.trim();
    const idNumber = $("aid-file-student-id").value.trim().toUpperCase();
    const school = $("aid-file-school").value.trim();
    const year = Number($("aid-file-year").value);
    if (!windowId) return say("aid-message", "请先选择开放中的申请期", "error");
    if (!memberId) return say("aid-message", "请先查找并选择申请的会员", "error");
    if (!student || !school) return say("aid-message", "请填写学生姓名和录取学校", "error");
    if (!/^\d{17}[\dX]$/.test(idNumber)) return say("aid-message", "请填写学生的 18 位身份证号", "error");
    if (!Number.isInteger(year) || year < 1990 || year > 2100) return say("aid-message", "请填写入学年份", "error");
    let household = null;
    if ($("aid-file-size").value || $("aid-file-income").value.trim()) {
      const size = Number($("aid-file-size").value);
      const income = fenOf($("aid-file-income").value);
      if (!Number.isInteger(size) || size < 1 || income === null || Number.isNaN(income)) {
        return say("aid-message", "请填写家庭人口和家庭月收入（元）", "error");
      }
      household = { household_size: size, monthly_income_fen: income };
    }
    const submit = $("aid-file-form").querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const evidence = await S.uploadEvidence($("aid-file-evidence").files[0]);
      if (!evidence.ok) return say("aid-message", evidence.detail, "error");
      const body = {
        window_id: windowId, member_id: memberId, student_name: student, student_id_number: idNumber,
        school_name: school, school_type: $("aid-file-school-type").value, admission_year: year,
        evidence_file_id: evidence.fileId, household,
      };
      const result = await S.call("relief", "/student-aid/applications", { method: "POST", body });
      if (!result.ok) return say("aid-message", S.detailOf(result, "申请未成功，请稍后重试"), "error");
      say("aid-message", `已代为申请：${result.data.member_name_masked} 之子女 ${result.data.student_name_masked}，${result.data.status_label}（请另一位干部审核）`, "ok");
      // Nothing of the student stays in the page once filed.
      for (const id of ["aid-file-student", "aid-file-student-id", "aid-file-school", "aid-file-size", "aid-file-income", "aid-file-evidence"]) $(id).value = "";
      $("aid-file").open = false;
      await loadApplications(false);
    } finally {
      submit.disabled = false;
    }
  }

  // --- applications, review, objections, payment ------------------------------------------------------

  async function loadApplications(more) {
    const list = $("aid-applications");
    const query = { union_id: C.scope(), window_id: $("aid-window").value, status: $("aid-status").value, limit: PAGE, after: more ? state.aidNext : undefined };
    const result = await S.call("relief", "/student-aid/applications", { query });
    if (!more) list.replaceChildren();
    if (!result.ok) {
      $("aid-more").hidden = true;
      return list.replaceChildren(el("li", { className: "empty" }, unavailable(result, "助学申请")));
    }
    list.append(...itemsOf(result.data).map(applicationItem));
    if (!list.children.length) list.append(el("li", { className: "empty", testid: "aid-empty" }, "没有符合条件的申请"));
    state.aidNext = result.data.next || null;
    $("aid-more").hidden = !state.aidNext;
  }

  async function reloadApplication(li, applicationId) {
    const result = await S.call("relief", `/student-aid/applications/${applicationId}`);
    if (result.ok) li.replaceWith(applicationItem(result.data));
    await loadDisclosure();
  }

  function applicationItem(a) {
    const li = el("li", { className: "item", testid: "aid-application" });
    li.dataset.id = a.application_id;
    li.dataset.status = a.status;
    const facts = [`${a.school_type_label || ""} · ${a.admission_year || ""}年入学`, `资助 ${money(a.amount_fen)}`, a.eligible_by_label,
      a.disclosure_ends_at && `公示至 ${when(a.disclosure_ends_at)}`, a.paid_at && `发放于 ${when(a.paid_at)}`].filter(Boolean).join(" · ");
    li.append(
      el("p", { className: "item-title" }, `${a.member_name_masked} · 子女 ${a.student_name_masked} · ${a.school_name}`),
      el("p", { className: "item-meta" }, el("span", { className: "badge", testid: "aid-status-label" }, a.status_label || ""), ` ${facts}`),
    );
    if (a.decision_reason) li.append(el("p", { className: "item-meta" }, `审核意见：${a.decision_reason}`));
    if (a.evidence && a.evidence.file_id) {
      li.append(button(`查看录取材料（${a.evidence.file_name || "文件"}）`, "aid-evidence", async () => {
        const result = await S.download("relief", `/student-aid/evidence/${a.evidence.file_id}`, null, a.evidence.file_name || "录取材料");
        if (!result.ok) say("aid-message", unavailable(result, "材料查看"), "error");
      }, { className: "link-button" }));
    }
    const objections = a.objections || [];
    if (objections.length) li.append(el("ul", { className: "objections" }, ...objections.map((o) => objectionItem(li, a, o))));
    const actions = el("div", { className: "actions" });
    if (a.status === "submitted") actions.append(reviewForm(li, a));
    else if (a.status === "approved") actions.append(payForm(li, a));
    if (actions.children.length) li.append(actions);
    return li;
  }

  function reviewForm(li, a) {
    const id = `aid-reason-${a.application_id}`;
    const reason = el("input", { id, maxLength: 500, testid: "aid-review-reason" });
    const send = (approve) => async (event) => {
      const text = reason.value.trim();
      if (!approve && !text) {
        reason.focus();
        return say("aid-message", "不予资助须填写理由", "error");
      }
      event.target.disabled = true;
      const result = await S.call("relief", `/student-aid/applications/${a.application_id}/review`, { method: "POST", body: { approve, reason: text } });
      if (!result.ok) {
        event.target.disabled = false;
        return say("aid-message", S.detailOf(result), "error");
      }
      say("aid-message", approve ? "已审核通过，进入公示" : "已决定不予资助", "ok");
      li.replaceWith(applicationItem(result.data));
      await loadDisclosure();
    };
    return el("div", { className: "review" },
      el("div", {}, el("label", { htmlFor: id, textContent: "审核意见（不予资助时必填）" }), reason),
      button("审核通过，进入公示", "aid-approve", send(true)), button("不予资助", "aid-decline", send(false)));
  }

  function objectionItem(li, a, o) {
    const item = el("li", { testid: "aid-objection" }, el("p", { className: "item-meta" }, `异议（${when(o.raised_at)}）：${o.text}`));
    if (o.answered_at) {
      item.append(el("p", { className: "item-meta" }, `答复（${when(o.answered_at)}，${o.upheld ? "异议成立" : "异议不成立"}）：${o.answer || ""}`));
      return item;
    }
    const id = `objection-${o.objection_id}`;
    const answer = el("input", { id, maxLength: 2000, testid: "aid-objection-answer" });
    const upheld = el("input", { type: "checkbox", id: `${id}-upheld`, testid: "aid-objection-upheld" });
    const send = async (event) => {
      if (!answer.value.trim()) {
        answer.focus();
        return say("aid-message", "请填写答复", "error");
      }
      event.target.disabled = true;
      const result = await S.call("relief", `/student-aid/objections/${o.objection_id}/answer`, { method: "POST", body: { upheld: upheld.checked, answer: answer.value.trim() } });
      if (!result.ok) {
        event.target.disabled = false;
        return say("aid-message", S.detailOf(result), "error");
      }
      say("aid-message", upheld.checked ? "已答复：异议成立，不予资助" : "已答复异议", "ok");
      await reloadApplication(li, a.application_id);
    };
    item.append(el("div", { className: "review" },
      el("div", {}, el("label", { htmlFor: id, textContent: "答复" }), answer),
      el("label", { className: "check" }, upheld, "异议成立（不予资助）"),
      button("答复异议", "aid-objection-send", send)));
    return item;
  }

  function payForm(li, a) {
    const id = `aid-budget-${a.application_id}`;
    const budget = el("select", { id, testid: "aid-budget" }, el("option", { value: "", textContent: "会员所在工会（默认）" }),
      ...C.unions().map((u) => el("option", { value: u.union_id, textContent: u.name })));
    const pay = async (event) => {
      event.target.disabled = true;
      say("aid-message", "正在发放…");
      const body = budget.value ? { budget_union_id: budget.value } : {};
      const result = await payOnce(`aid:${a.application_id}`, `/student-aid/applications/${a.application_id}/pay`, body);
      if (!result.ok) {
        event.target.disabled = false;
        return say("aid-message", S.detailOf(result, "发放未成功，请稍后重试（重试不会重复发放）"), "error");
      }
      say("aid-message", `已发放助学金 ${money(result.data.amount_fen)}`, "ok");
      li.replaceWith(applicationItem(result.data));
    };
    return el("div", { className: "review" },
      el("div", {}, el("label", { htmlFor: id, textContent: "从哪级工会的助学预算支出" }), budget),
      button(`发放助学金（${money(a.amount_fen)}）`, "aid-pay", pay, { className: "primary" }));
  }

  async function loadDisclosure() {
    const body = $("aid-disclosure-rows");
    const result = await S.call("relief", "/student-aid/disclosure", { query: { union_id: C.scope(), window_id: $("aid-window").value } });
    if (!result.ok) return body.replaceChildren(emptyRow(6, unavailable(result, "公示名单")));
    const items = itemsOf(result.data);
    body.replaceChildren(...items.map((d) => {
      const row = el("tr", { testid: "aid-disclosure-row" },
        el("th", { scope: "row" }, d.member_name_masked), el("td", {}, d.student_name_masked), el("td", {}, d.school_type_label || ""),
        num(money(d.amount_fen)), el("td", {}, d.union_name || ""), el("td", {}, when(d.disclosure_ends_at)));
      row.dataset.id = d.application_id;
      return row;
    }));
    if (!items.length) body.append(emptyRow(6, "暂无正在公示的申请"));
  }

  // --- wiring --------------------------------------------------------------------------------------------

  function start() {
    moneyInputs($("campaign-amounts"), GROUPS, "campaign-amount");
    moneyInputs($("window-amounts"), SCHOOL_TYPES, "window-amount");
    $("entry-add-group").replaceChildren(...GROUPS.map(([v, t]) => el("option", { value: v, textContent: t })));
    $("aid-status").replaceChildren(...AID_STATUSES.map(([v, t]) => el("option", { value: v, textContent: t })));
    $("aid-status").value = "submitted";
    $("window-year").value = String(new Date().getFullYear());
    for (const name of ["campaigns", "student-aid"]) {
      $(`tab-${name}`).addEventListener("click", () => selectTab(name, false));
      $(`tab-${name}`).addEventListener("keydown", tabKeys);
    }
    $("campaign-form").addEventListener("submit", launchCampaign);
    $("allocation-suggest").addEventListener("click", suggestAllocations);
    $("list-generate-form").addEventListener("submit", generateList);
    $("entry-edit").addEventListener("submit", sendEdit);
    $("entry-edit-cancel").addEventListener("click", () => { $("entry-edit").hidden = true; });
    $("entry-add").addEventListener("submit", addEntry);
    $("campaign-report-csv").addEventListener("click", () => exportCampaignReport("csv"));
    $("campaign-report-xlsx").addEventListener("click", () => exportCampaignReport("xlsx"));
    $("difficulty-filter").addEventListener("submit", (e) => { e.preventDefault(); loadDifficulty(false); });
    $("difficulty-more").addEventListener("click", () => loadDifficulty(true));
    $("window-form").addEventListener("submit", createWindow);
    $("aid-filter").addEventListener("submit", (e) => { e.preventDefault(); loadApplications(false); loadDisclosure(); });
    $("aid-more").addEventListener("click", () => loadApplications(true));
    $("aid-file-window").addEventListener("change", fillFileSchoolTypes);
    $("aid-file-find").addEventListener("click", findFileMembers);
    $("aid-file-q").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); findFileMembers(); } });
    $("aid-file-form").addEventListener("submit", fileApplication);
    $("aid-file-evidence").addEventListener("change", async () => {
      const file = $("aid-file-evidence").files[0];
      const checked = file ? await S.checkEvidence(file) : { error: null };
      say("aid-message", checked.error || "", checked.error ? "error" : undefined);
    });
    $("aid-file-year").value = String(new Date().getFullYear());
    C.addView("programmes", load);
  }

  start();
})();
