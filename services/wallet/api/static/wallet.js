// Learner page of the microcred wallet: plain DOM + fetch against the wallet API with the bearer token.
// Every text from the API is inserted with textContent (never innerHTML), so credential data cannot inject markup.
"use strict";
(function () {
  const L = JSON.parse(document.getElementById("labels").textContent);
  const TOKEN_KEY = "microcred.wallet.token";
  const $ = (id) => document.getElementById(id);
  const t = (key) => L[key] || key;
  let credentials = [];

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function say(text) { $("status").textContent = text; }

  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    opts.headers = Object.assign({ Authorization: "Bearer " + token() }, opts.headers);
    const response = await fetch(path, opts);
    if (response.status === 401) { signOut(); throw new Error(t("signin")); }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response.blob();
  }

  function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td; }

  function renderCredentials() {
    const body = $("credentials").querySelector("tbody");
    body.replaceChildren();
    $("no-credentials").hidden = credentials.length > 0;
    for (const c of credentials) {
      const row = document.createElement("tr");
      const pick = document.createElement("input");
      pick.type = "checkbox"; pick.value = c.credential_id; pick.className = "pick";
      pick.setAttribute("aria-label", t("select") + ": " + (c.elements.title || c.credential_id));
      const first = document.createElement("td"); first.appendChild(pick); row.appendChild(first);
      cell(row, c.elements.title || c.credential_id);
      cell(row, c.issuer_name || c.issuer_did || c.issuer_id).title = c.issuer_did || c.issuer_id;
      cell(row, (c.elements.issued_at || "").slice(0, 10));
      cell(row, c.elements.eqf_level == null ? "–" : String(c.elements.eqf_level));
      cell(row, c.elements.ects == null ? "–" : c.elements.ects);
      const status = cell(row, t(c.status));
      status.className = "status-" + c.status.toLowerCase();
      if (c.replaced_by) {  // corrected: point the learner to the replacement
        const note = document.createElement("div");
        note.className = "replaced-by";
        note.textContent = t("replaced_by") + " " + titleOf(c.replaced_by);
        note.title = c.replaced_by;
        status.appendChild(note);
      }
      body.appendChild(row);
    }
  }

  function titleOf(id) {
    const c = credentials.find((x) => x.credential_id === id);
    return c ? (c.elements.title || id) : id;
  }

  async function loadShares() {
    const data = await api("v1/share-links");
    const body = $("shares").querySelector("tbody");
    body.replaceChildren();
    for (const s of data.share_links) {
      const row = document.createElement("tr");
      row.dataset.shareId = s.share_id;
      row.className = "share-row share-" + s.state;
      cell(row, s.credential_ids.map(titleOf).join(", "));
      cell(row, s.expires_at.replace("T", " ").replace("Z", " UTC"));
      cell(row, String(s.access_count));
      cell(row, t(s.state)).className = "share-state";
      const actions = cell(row, "");
      if (s.state === "active") {
        const button = document.createElement("button");
        button.type = "button"; button.textContent = t("share_withdraw"); button.className = "withdraw";
        button.addEventListener("click", () => withdraw(s.share_id));
        actions.appendChild(button);
      }
      body.appendChild(row);
    }
  }

  async function withdraw(shareId) {
    try { await api("v1/share-links/" + encodeURIComponent(shareId), { method: "DELETE" }); await loadShares(); }
    catch (e) { say(t("error") + " " + e.message); }
  }

  async function loadProgress() {
    const data = await api("v1/pathways/progress");
    const box = $("progress");
    box.replaceChildren();
    if (!data.progress.length) { const p = document.createElement("p"); p.textContent = t("none"); box.appendChild(p); }
    for (const p of data.progress) {
      const article = document.createElement("article");
      const h = document.createElement("h3");
      const title = p.pathway.title;
      h.textContent = (title[document.documentElement.lang] || title.en || Object.values(title)[0] || p.pathway.pathway_id)
        + " — " + (p.complete ? t("complete") : t("in_progress"));
      article.appendChild(h);
      const ects = document.createElement("p");
      ects.textContent = t("ects_gathered") + ": " + p.ects_gathered
        + (p.pathway.min_total_ects ? " / " + t("ects_min") + " " + p.pathway.min_total_ects : "");
      article.appendChild(ects);
      if (p.missing_achievement_ids.length) {
        const m = document.createElement("p");
        m.textContent = t("missing") + ": " + p.missing_achievement_ids.join(", ");
        article.appendChild(m);
      }
      const list = document.createElement("ul");
      for (const a of p.credentials) {
        const li = document.createElement("li");
        li.textContent = titleOf(a.credential_id) + ": " + (a.counts ? t("counts") + " (" + a.ects + " ECTS)"
          : t("does_not_count") + " — " + a.reasons.map(t).join(", "));
        list.appendChild(li);
      }
      article.appendChild(list);
      box.appendChild(article);
    }
  }

  async function loadKeys() {
    const data = await api("v1/holder-keys");
    const list = $("keys");
    list.replaceChildren();
    for (const k of data.holder_keys) { const li = document.createElement("li"); li.textContent = k.did; list.appendChild(li); }
    if (!data.holder_keys.length) { const li = document.createElement("li"); li.textContent = t("none"); list.appendChild(li); }
  }

  async function refresh() {
    try {
      const me = await api("v1/me");
      $("who").textContent = me.email || me.account_id;
      credentials = (await api("v1/credentials")).credentials;
      renderCredentials();
      await Promise.all([loadShares(), loadProgress(), loadKeys()]);
    } catch (e) { say(t("error") + " " + e.message); }
  }

  function showApp() {
    const signedIn = Boolean(token());
    $("signin").hidden = signedIn;
    $("app").hidden = !signedIn;
    if (signedIn) refresh();
  }

  function signOut() { sessionStorage.removeItem(TOKEN_KEY); showApp(); }

  async function createShare(event) {
    event.preventDefault();
    const ids = Array.from(document.querySelectorAll("input.pick:checked")).map((x) => x.value);
    if (!ids.length) { say(t("share_select_first")); return; }
    const days = Number($("share-days").value || "7");
    try {
      const share = await api("v1/share-links", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ credential_ids: ids, expires_in_seconds: Math.round(days * 86400) }),
      });
      const out = $("share-result");
      out.replaceChildren();
      out.append(t("share_created") + " ");
      const link = document.createElement("a");
      link.href = share.url; link.textContent = share.url; link.id = "share-url";
      out.appendChild(link);
      await loadShares();
    } catch (e) { say(t("error") + " " + e.message); }
  }

  async function exportAll(event) {
    event.preventDefault();
    try {
      const blob = await api("v1/export");
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = "microcred-wallet-export.zip";
      document.body.appendChild(a); a.click(); a.remove();
    } catch (e) { say(t("error") + " " + e.message); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (document.body.dataset.devLogin === "true") $("dev-login").hidden = false;
    $("dev-login").addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch("dev/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sub: $("dev-sub").value, email: $("dev-email").value || null }),
      });
      if (!response.ok) { say(t("error") + " " + response.status); return; }
      sessionStorage.setItem(TOKEN_KEY, (await response.json()).access_token);
      showApp();
    });
    $("token-login").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
      showApp();
    });
    $("signout").addEventListener("click", signOut);
    $("share-form").addEventListener("submit", createShare);
    $("export").addEventListener("click", exportAll);
    // Deleting the account takes a second, explicit step after the learner read what it does and keeps.
    $("delete-start").addEventListener("click", () => { $("delete-confirmation").hidden = false; });
    $("delete-cancel").addEventListener("click", () => { $("delete-confirmation").hidden = true; });
    $("delete-confirm").addEventListener("click", async () => {
      try {
        await api("v1/me?confirm=delete-my-account", { method: "DELETE" });
        signOut();
        say(t("deleted"));
      } catch (e) { say(t("error") + " " + e.message); }
    });
    $("key-create").addEventListener("click", async () => {
      try { await api("v1/holder-keys", { method: "POST" }); await loadKeys(); }
      catch (e) { say(t("error") + " " + e.message); }
    });
    showApp();
  });
})();
