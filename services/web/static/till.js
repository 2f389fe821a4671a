// The till page (商户核验): till staff sign in with their own account, pick one of their
// partner's live offers from its list (typed by id only when the list is empty or fails), scan
// (camera + jsQR) or type a member's card code, verify, redeem.
// Everything goes through the web service's forwarder (/api/{service}/...) with the staff session
// of session.js: the access token in memory only, the refresh token in an HttpOnly cookie.
"use strict";

(() => {
  const CODE = /^[A-Za-z0-9_-]{16,64}$/;
  const RECENT_OFFERS = "zhijia.till.offers"; // offer ids only: no personal data is stored
  const SCAN_EVERY_MS = 150;
  const OFFER_PAGE = 200;
  const OFFER_PAGES = 5; // at most 1000 live offers in the pick-list
  const MESSAGES = {
    network: "网络异常，请检查网络后重试",
    camera: "无法打开摄像头，请手动输入会员码",
    notACode: "这不是会员码，请让会员出示会员卡上的二维码",
    badCode: "会员码格式不正确，请核对后重试",
    noOffer: "请先选定要核销的优惠",
    noOffers: "本商户暂无进行中的优惠，可手动输入优惠编号",
    offersFailed: "优惠列表加载失败，可手动输入优惠编号",
    invalid: "输入有误，请检查后重试",
    failed: "操作未完成，请稍后重试",
  };

  const $ = (id) => document.getElementById(id);
  const state = { offer: null, offers: [], pending: null, after: 0, seen: [], stream: null, scanTimer: null };

  // --- talking to the services (session.js: the staff session, its renewal and the calls) --------

  const S = window.ZhijiaSession;

  class Refused extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function shown(status, body) {
    // The service's own words when it gave them in Chinese; never a bare status code.
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    if (/[\u4e00-\u9fff]/.test(detail)) return detail;
    if (status === 0) return MESSAGES.network;
    if (status === 422 || status === 400) return MESSAGES.invalid;
    if (status === 401) return "账号或密码错误，或登录已失效";
    if (status === 403) return "此账号无权核验本商户的优惠（需要商户店员账号）";
    if (status === 429) return "尝试次数过多，请稍后再试";
    return MESSAGES.failed;
  }

  // `path` is "{service}/{path}?{query}"; a refusal is thrown with the words to show.
  async function call(method, path, body, extraHeaders) {
    const slash = path.indexOf("/");
    const answer = await S.call(path.slice(0, slash), path.slice(slash), { method, body, headers: extraHeaders });
    if (!answer.ok) throw new Refused(answer.status, shown(answer.status, answer.data));
    return answer;
  }

  // --- the session -----------------------------------------------------------------------------

  async function signIn(event) {
    event.preventDefault();
    const username = $("username").value.trim();
    const password = $("password").value;
    const totp = $("totp").value.trim();
    if (!username || !password) return notify("请输入账号和密码");
    const answer = await S.signInStaff(username, password, totp);
    if (!answer.ok) return notify(shown(answer.status, answer.data));
    $("password").value = "";
    $("totp").value = "";
    await ready();
  }

  async function signOut() {
    stopScan();
    await S.signOut(); // signed out here all the same if identity does not answer
    signedOut("已退出登录");
  }

  function signedOut(message) {
    Object.assign(state, { offer: null, offers: [], pending: null, after: 0, seen: [] });
    $("offer-chosen").textContent = "";
    $("work").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    notify(message);
  }

  async function ready() {
    notify(null);
    $("sign-in").hidden = true;
    $("work").hidden = false;
    $("sign-out").hidden = false;
    await loadOffers();
    await loadToday();
  }

  // --- the offer -------------------------------------------------------------------------------

  function recentOffers() {
    try {
      const list = JSON.parse(localStorage.getItem(RECENT_OFFERS) || "[]");
      return Array.isArray(list) ? list.filter((id) => typeof id === "string").slice(0, 10) : [];
    } catch (_) {
      return [];
    }
  }

  function remember(id) {
    localStorage.setItem(RECENT_OFFERS, JSON.stringify([id, ...recentOffers().filter((o) => o !== id)].slice(0, 10)));
  }

  const validUntil = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", month: "numeric", day: "numeric" });

  function offerLabel(item) {
    const parts = [item.title || item.offer_id, item.merchant_name];
    if (item.valid_until) parts.push(`至${validUntil.format(new Date(item.valid_until))}`);
    if (item.eligibility === "hardship_households") parts.push("凭专享券");
    return parts.join(" · ");
  }

  async function loadOffers() {
    // The partner's live offers; the last one chosen on this device is picked again.
    const select = $("offer-select");
    let items = [];
    try {
      let after = null;
      for (let page = 0; page < OFFER_PAGES; page += 1) {
        const query = `state=live&limit=${OFFER_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ""}`;
        const { data } = await call("GET", `partners/partner-api/v1/offers?${query}`);
        items.push(...data.items);
        after = data.next_after;
        if (!after) break;
      }
    } catch (refused) {
      items = null;
      notify(refused.message);
    }
    state.offers = items || [];
    select.replaceChildren(select.options[0], ...state.offers.map((item) =>
      Object.assign(document.createElement("option"), { value: item.offer_id, textContent: offerLabel(item) })));
    const listed = state.offers.length > 0;
    $("offer-pick").hidden = !listed;
    $("offer-form").hidden = listed; // typing an id: only when there is no list to pick from
    const listState = $("offer-list-state");
    listState.textContent = listed ? "" : items ? MESSAGES.noOffers : MESSAGES.offersFailed;
    listState.hidden = listed;
    const last = recentOffers()[0];
    if (listed) {
      const wanted = state.offer || last;
      select.value = state.offers.some((item) => item.offer_id === wanted) ? wanted : "";
      pickOffer();
    } else {
      showRecentOffers();
      if (last && !state.offer && items) {
        $("offer-id").value = last;
        await chooseOffer();
      }
    }
  }

  function pickOffer() {
    const item = state.offers.find((o) => o.offer_id === $("offer-select").value);
    clearVerdict();
    state.offer = item ? item.offer_id : null;
    $("offer-chosen").textContent = item ? `当前优惠：${item.title || item.offer_id}` : "";
    if (item) {
      remember(item.offer_id);
      notify(null);
    }
  }

  function showRecentOffers() {
    const list = $("recent-offers");
    list.replaceChildren(...recentOffers().map((id) => Object.assign(document.createElement("option"), { value: id })));
  }

  async function chooseOffer(event) {
    if (event) event.preventDefault();
    const id = $("offer-id").value.trim();
    const chosen = $("offer-chosen");
    state.offer = null;
    clearVerdict();
    if (!id) return notify(MESSAGES.noOffer);
    try {
      const { data } = await call("GET", `partners/partner-api/v1/offers/${encodeURIComponent(id)}`);
      const title = (data.offer && data.offer.title) || id;
      if (data.withdrawn) {
        chosen.textContent = `「${title}」已下架，不能核销`;
        return;
      }
      state.offer = id;
      chosen.textContent = `当前优惠：${title}`;
      remember(id);
      showRecentOffers();
      notify(null);
    } catch (refused) {
      chosen.textContent = "";
      notify(refused.status === 404 ? "没有找到这项优惠，请核对优惠编号" : refused.message);
    }
  }

  // --- verify and redeem -----------------------------------------------------------------------

  function clearVerdict() {
    state.pending = null;
    $("verdict").hidden = true;
    $("redeem").hidden = true;
    $("result").hidden = true;
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function verify(event) {
    if (event) event.preventDefault();
    clearVerdict();
    const code = $("code").value.trim();
    if (!state.offer) return notify(MESSAGES.noOffer);
    if (!CODE.test(code)) return notify(MESSAGES.badCode);
    notify(null);
    try {
      const { data } = await call("POST", "partners/partner-api/v1/verify", { code, offer_id: state.offer });
      showVerdict(data.ok, data.ok ? data.member : null);
      if (data.ok) {
        // One key per verified code: pressing 核销 again retries the same redemption.
        state.pending = { code, offer_id: state.offer, key: newKey() };
        $("redeem").hidden = false;
        $("redeem").disabled = false;
        $("redeem").focus();
      }
    } catch (refused) {
      notify(refused.message);
    }
  }

  function showVerdict(ok, member) {
    const box = $("verdict");
    box.className = `verdict ${ok ? "ok" : "no"}`;
    box.dataset.ok = ok ? "true" : "false";
    const line = document.createElement("span");
    line.textContent = ok ? "可以使用" : "不可使用";
    box.replaceChildren(line);
    if (ok && member) {
      const who = document.createElement("span");
      who.className = "who";
      who.dataset.testid = "till-member";
      who.textContent = `会员：${member}`;
      box.append(who);
    }
    box.hidden = false;
  }

  async function redeem() {
    const pending = state.pending;
    if (!pending) return;
    $("redeem").disabled = true;
    const result = $("result");
    try {
      const { data } = await call(
        "POST", "partners/partner-api/v1/redemptions",
        { code: pending.code, offer_id: pending.offer_id }, { "Idempotency-Key": pending.key },
      );
      result.className = "result";
      result.dataset.ok = "true";
      result.textContent = `核销成功 · ${data.member}`;
      state.pending = null;
      $("redeem").hidden = true;
      $("code").value = "";
      await loadToday();
    } catch (refused) {
      result.className = "result failed";
      result.dataset.ok = "false";
      result.textContent = refused.status === 409 ? "不可使用，未核销" : refused.message;
      if (refused.status === 409) state.pending = null;
      else $("redeem").disabled = false; // a network failure: the same key may be retried
    }
    result.hidden = false;
  }

  // --- today's redemptions ---------------------------------------------------------------------

  const chinaDay = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
  const chinaTime = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

  async function loadToday() {
    try {
      for (;;) {
        const { data } = await call("GET", `partners/partner-api/v1/redemptions?after=${state.after}&limit=500`);
        state.seen.push(...data.items);
        state.after = data.next_after;
        if (data.items.length < 500) break;
      }
    } catch (refused) {
      return notify(refused.message);
    }
    const today = chinaDay.format(new Date());
    const items = state.seen.filter((r) => chinaDay.format(new Date(r.redeemed_at)) === today).reverse();
    $("today").replaceChildren(...items.map((r) => {
      const li = document.createElement("li");
      li.dataset.testid = "till-redemption";
      li.textContent = `${chinaTime.format(new Date(r.redeemed_at))}　${r.member}　${r.offer_id}`;
      return li;
    }));
    $("today-empty").hidden = items.length > 0;
  }

  // --- the camera ------------------------------------------------------------------------------

  async function startScan() {
    clearVerdict();
    if (!state.offer) return notify(MESSAGES.noOffer);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
      return notify(MESSAGES.camera);
    }
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (_) {
      return notify(MESSAGES.camera);
    }
    notify(null);
    const video = $("video");
    video.srcObject = state.stream;
    $("camera").hidden = false;
    $("scan").hidden = true;
    $("scan-stop").hidden = false;
    $("scan-state").textContent = "请将会员码对准摄像头";
    try {
      await video.play();
    } catch (_) {
      // Autoplay of a muted stream is allowed; frames are read all the same.
    }
    state.scanTimer = setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function scanFrame() {
    const video = $("video");
    if (!state.stream) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      const scale = Math.min(1, 640 / video.videoWidth);
      const width = Math.round(video.videoWidth * scale);
      const height = Math.round(video.videoHeight * scale);
      const canvas = $("frame");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      const found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: "attemptBoth" });
      if (found && found.data) {
        if (CODE.test(found.data.trim())) {
          stopScan();
          $("code").value = found.data.trim();
          verify();
          return;
        }
        $("scan-state").textContent = MESSAGES.notACode;
      }
    }
    state.scanTimer = setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function stopScan() {
    clearTimeout(state.scanTimer);
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = null;
    $("video").srcObject = null;
    $("camera").hidden = true;
    $("scan").hidden = false;
    $("scan-stop").hidden = true;
  }

  // --- the page --------------------------------------------------------------------------------

  function notify(message) {
    const box = $("notice");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function start() {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("offer-form").addEventListener("submit", chooseOffer);
    $("offer-select").addEventListener("change", pickOffer);
    $("check-form").addEventListener("submit", verify);
    $("code").addEventListener("input", clearVerdict);
    $("redeem").addEventListener("click", redeem);
    $("scan").addEventListener("click", startScan);
    $("scan-stop").addEventListener("click", stopScan);
    $("refresh-list").addEventListener("click", loadToday);
    S.onSignedOut(signedOut);
    // A page reloaded within the session resumes it through the refresh cookie.
    if (await S.renew()) await ready();
    else $("sign-in").hidden = false;
    document.body.dataset.ready = "true";
  }

  start();
})();
