"use strict";
// A page's session and calls (the cadre console, the till, the member app): every call goes through the web service's forwarder (/api/{service}/...), the access
// token lives in memory only, the refresh token in identity's HttpOnly cookie, renewed through
// /web/token with the X-CSRF-Token header (docs/identity.md). Exposed as window.ZhijiaSession.
(() => {
  const RENEW_MARGIN_S = 60; // renew the access token this long before it expires
  const CSRF_COOKIE = "__Host-zhijia-csrf=";
  const state = { token: null, claims: null, renewTimer: null, onSignedOut: null };

  function csrfCookie() {
    const found = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE));
    return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length)) : "";
  }

  // The token's claims, read to pick the page's defaults (the cadre's union); the services
  // check the token itself on every call.
  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (_) {
      return {};
    }
  }

  function urlOf(service, path, query) {
    let url = `/api/${service}${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
      const text = params.toString();
      if (text) url += `${url.includes("?") ? "&" : "?"}${text}`;
    }
    return url;
  }

  // {status, ok, data, blob, fileName, retryAfter}: data is the JSON answer (or null), blob the
  // file when `as: "blob"` was asked and the answer is no problem document.
  async function call(service, path, options = {}) {
    const { method = "GET", body, raw, contentType, query, headers = {}, as = "json", retried = false } = options;
    const sent = { "Accept-Language": "zh-CN", ...headers };
    if (state.token) sent.Authorization = `Bearer ${state.token}`;
    let payload;
    if (raw !== undefined) {
      payload = raw;
      sent["Content-Type"] = contentType || "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      sent["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(urlOf(service, path, query), {
        method, headers: sent, credentials: "same-origin", cache: "no-store", body: payload,
      });
    } catch (_) {
      return { status: 0, ok: false, data: { detail: "网络连接失败，请检查网络后重试" } };
    }
    // An access token that ran out while the page slept: renew once and try again.
    if (response.status === 401 && state.token && !retried && !path.startsWith("/web/")) {
      if (await renew()) return call(service, path, { ...options, retried: true });
      if (state.onSignedOut) state.onSignedOut("登录已失效，请重新登录");
    }
    const type = response.headers.get("content-type") || "";
    const result = { status: response.status, ok: response.ok, data: null, retryAfter: response.headers.get("retry-after") };
    if (type.includes("json")) {
      try { result.data = await response.json(); } catch (_) { result.data = null; }
    } else if (as === "blob" && response.ok) {
      result.blob = await response.blob();
      result.fileName = fileNameOf(response.headers.get("content-disposition"));
    }
    return result;
  }

  function fileNameOf(disposition) {
    if (!disposition) return null;
    const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
    if (star) {
      try { return decodeURIComponent(star[1].trim()); } catch (_) { /* the plain name below */ }
    }
    const plain = /filename="?([^";]+)"?/i.exec(disposition);
    return plain ? plain[1].trim() : null;
  }

  // What a person reads for a refused call: the service's own words when they are Chinese,
  // never a bare status code.
  function detailOf(result, fallback) {
    const detail = result.data && typeof result.data.detail === "string" ? result.data.detail : "";
    if (/[\u4e00-\u9fff]/.test(detail)) return detail;
    if (result.status === 0) return "网络连接失败，请检查网络后重试";
    if (result.status === 400 || result.status === 422) return "输入有误，请检查后重试";
    if (result.status === 401) return "账号或密码错误，或登录已失效";
    if (result.status === 403) return "您没有权限办理此项";
    if (result.status === 404) return fallback || "暂无此项服务";
    if (result.status === 413) return "文件太大，请拆分后再试";
    if (result.status === 429) return "尝试次数过多，请稍后再试";
    if (result.status === 503) return "服务暂时不可用，请稍后再试";
    return fallback || "操作未成功，请稍后再试";
  }

  function useToken(answer) {
    state.token = answer.access_token;
    state.claims = claimsOf(answer.access_token);
    clearTimeout(state.renewTimer);
    const inSeconds = Math.max(10, (Number(answer.expires_in) || 600) - RENEW_MARGIN_S);
    state.renewTimer = setTimeout(renew, inSeconds * 1000);
  }

  async function renew() {
    if (!csrfCookie()) return false;
    const result = await call("identity", "/web/token", {
      method: "POST", headers: { "X-CSRF-Token": csrfCookie() }, retried: true,
    });
    if (result.ok && result.data) {
      useToken(result.data);
      return true;
    }
    forget();
    return false;
  }

  function forget() {
    state.token = null;
    state.claims = null;
    clearTimeout(state.renewTimer);
  }

  // Staff sign in with username, password and (once it is on) a TOTP code.
  async function signInStaff(username, password, totp) {
    const body = { username, password };
    if (totp) body.totp_code = totp;
    const result = await call("identity", "/web/staff-sessions", { method: "POST", body });
    if (result.ok && result.data) useToken(result.data);
    return result;
  }

  async function signOut() {
    if (csrfCookie()) {
      // Signed out here all the same if this fails; the session then expires on its own.
      await call("identity", "/web/sign-out", { method: "POST", headers: { "X-CSRF-Token": csrfCookie() } });
    }
    forget();
  }

  // A file asked with the caller's token, saved under the service's name for it.
  async function download(service, path, query, fallbackName) {
    const result = await call(service, path, { query, as: "blob" });
    if (!result.ok || !result.blob) return result;
    const url = URL.createObjectURL(result.blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = result.fileName || fallbackName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return result;
  }

  // 金秋助学's admission evidence (member app and console): checked in the page before any upload
  // (relief checks it again), then sent as the raw file.
  const MAX_EVIDENCE_BYTES = 5 * 1024 * 1024; // relief takes at most 5 MiB
  // What the first bytes of each allowed file say it is.
  const EVIDENCE_MAGIC = [
    ["image/jpeg", [0xff, 0xd8, 0xff]],
    ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
    ["application/pdf", [0x25, 0x50, 0x44, 0x46, 0x2d]], // %PDF-
  ];

  async function checkEvidence(file) {
    if (!file) return { error: "请选择录取通知书文件" };
    if (file.size === 0) return { error: "文件是空的，请重新选择" };
    if (file.size > MAX_EVIDENCE_BYTES) return { error: "文件不能超过 5 MB，请压缩或拍照后再上传" };
    const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    const found = EVIDENCE_MAGIC.find(([, magic]) => magic.every((b, i) => head[i] === b));
    if (!found) return { error: "只能上传 JPG、PNG 图片或 PDF 文件" };
    const allowed = EVIDENCE_MAGIC.map(([type]) => type);
    if (file.type && allowed.includes(file.type) && file.type !== found[0]) return { error: "文件内容与文件类型不符，请重新选择" };
    return { type: found[0] };
  }

  async function uploadEvidence(file) {
    const checked = await checkEvidence(file);
    if (checked.error) return { ok: false, detail: checked.error };
    const result = await call("relief", "/student-aid/evidence", {
      method: "POST", raw: file, contentType: checked.type, query: { file_name: file.name.slice(-200) || "录取通知书" },
    });
    if (!result.ok) return { ok: false, detail: detailOf(result, "录取通知书上传未成功") };
    return { ok: true, fileId: result.data.file_id };
  }

  window.ZhijiaSession = {
    call, detailOf, renew, signInStaff, signOut, download, urlOf, checkEvidence, uploadEvidence,
    adopt: useToken, // a session another sign-in gave (the member app's phone and code)
    claims: () => state.claims || {},
    signedIn: () => state.token !== null,
    onSignedOut: (handler) => { state.onSignedOut = handler; },
  };
})();
