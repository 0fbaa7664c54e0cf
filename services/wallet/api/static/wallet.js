// Learner wallet app: plain DOM + fetch against the wallet API with the bearer token, no build step (see
// docs/wallet-app.md). Views: the list (#/) with search, and one credential's detail (#/credential/<id>).
// Every text from the API is inserted with textContent (never innerHTML), so credential data cannot inject markup.
"use strict";
(function () {
  const L = Object.assign(JSON.parse(document.getElementById("labels").textContent),
    JSON.parse(document.getElementById("app-labels").textContent));
  const TOKEN_KEY = "microcred.wallet.token";
  const $ = (id) => document.getElementById(id);
  const t = (key) => L[key] || key;
  let credentials = [];

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function say(text) { $("status").textContent = text; }

  async function api(path, options, asFile) {
    const opts = Object.assign({ headers: {} }, options || {});
    opts.headers = Object.assign({ Authorization: "Bearer " + token() }, opts.headers);
    const response = await fetch(path, opts);
    if (response.status === 401) { signOut(); throw new Error(t("signin")); }
    if (!response.ok) {
      let detail = response.statusText, code = "";
      try { const problem = await response.json(); detail = problem.detail || detail; code = problem.code || ""; }
      catch (e) { /* not JSON */ }
      throw Object.assign(new Error(detail), { code: code });
    }
    const type = response.headers.get("content-type") || "";
    return !asFile && type.includes("json") ? response.json() : response.blob();
  }

  function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td; }

  function matches(c, query) {
    if (!query) return true;
    const text = [c.elements.title, c.issuer_name, c.issuer_did, c.issuer_id, c.elements.issued_at, t(c.status)]
      .filter(Boolean).join(" ").toLocaleLowerCase(document.documentElement.lang);
    return query.toLocaleLowerCase(document.documentElement.lang).split(/\s+/).every((word) => text.includes(word));
  }

  function renderCredentials() {
    const body = $("credentials").querySelector("tbody");
    body.replaceChildren();
    $("no-credentials").hidden = credentials.length > 0;
    const query = $("search").value.trim();
    const shown = credentials.filter((c) => matches(c, query));
    $("no-match").hidden = !credentials.length || shown.length > 0;
    for (const c of shown) {
      const row = document.createElement("tr");
      const pick = document.createElement("input");
      pick.type = "checkbox"; pick.value = c.credential_id; pick.className = "pick";
      pick.setAttribute("aria-label", t("select") + t("colon") + " " + (c.elements.title || c.credential_id));
      const first = document.createElement("td"); first.appendChild(pick); row.appendChild(first);
      const name = cell(row, c.elements.title || c.credential_id);
      const open = document.createElement("a");
      open.href = "#/credential/" + encodeURIComponent(c.credential_id);
      open.className = "open"; open.textContent = t("open");
      open.setAttribute("aria-label", t("open") + t("colon") + " " + (c.elements.title || c.credential_id));
      name.append(" "); name.appendChild(open);
      cell(row, c.issuer_name || c.issuer_did || c.issuer_id).title = c.issuer_did || c.issuer_id;
      cell(row, day(c.elements.issued_at));
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

  // Dates in the page's language (the browser's own Intl, CLDR data like the server's Babel).
  function day(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleDateString(document.documentElement.lang, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(document.documentElement.lang, { day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC";
  }

  function number(text) {
    const n = Number(text);
    return isNaN(n) ? String(text) : n.toLocaleString(document.documentElement.lang);
  }

  async function showQr(url) {
    const img = document.createElement("img");
    img.id = "share-qr"; img.alt = t("qr_alt") + t("colon") + " " + url;
    img.src = (await api("app/qr", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: url }) })).svg;
    return img;
  }

  async function share(ids) {
    const days = Number($("share-days").value || "7");
    const made = await api("v1/share-links", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ credential_ids: ids, expires_in_seconds: Math.round(days * 86400) }),
    });
    const out = $("share-result");
    out.replaceChildren();
    const p = document.createElement("p");
    p.append(t("share_created") + " ");
    const link = document.createElement("a");
    link.href = made.url; link.textContent = made.url; link.id = "share-url";
    p.appendChild(link);
    const hint = document.createElement("p");
    hint.textContent = t("copy_hint");
    out.append(p, await showQr(made.url), hint);
    await loadShares();
    return made;
  }

  async function download(url, filename) {
    try {
      saveBlob(await api(url, {}, true), filename);  // a file as served, even when it is JSON (EDC .jsonld)
    } catch (e) { say(t("error") + " " + e.message); }
  }

  function saveBlob(blob, filename) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = filename;
    document.body.appendChild(a); a.click(); a.remove();
  }

  function fileName(id) { return id.replace(/[^A-Za-z0-9._-]+/g, "_"); }

  async function showDetail(id) {
    $("list-view").hidden = true;
    $("detail").hidden = false;
    const lang = document.documentElement.lang;
    try {
      const [held, view] = await Promise.all([api("v1/credentials/" + encodeURIComponent(id)),
        api("app/view/" + encodeURIComponent(id) + "?lang=" + lang)]);
      $("detail-h").textContent = held.elements.title || id;
      $("detail-status").textContent = t(held.status);
      $("detail-status").className = "status-" + held.status.toLowerCase();
      // the issuer's logo only as the trust registry holds it, for an issuer it vouches for (never the credential's)
      const registered = view.registry_issuer;
      $("detail-issuer").hidden = !registered;
      $("detail-logo").src = registered ? registered.logo : "data:,";
      $("detail-issuer-name").textContent = registered ? registered.name : "";
      const body = $("detail-elements").querySelector("tbody");
      body.replaceChildren();
      for (const [label, value] of view.elements) {
        const row = document.createElement("tr");
        const th = document.createElement("th"); th.scope = "row"; th.textContent = label; row.appendChild(th);
        const td = document.createElement("td");
        if (Array.isArray(value)) {
          const ul = document.createElement("ul"); ul.className = "plain";
          for (const v of value) { const li = document.createElement("li"); li.textContent = v; ul.appendChild(li); }
          td.appendChild(ul);
        } else { td.textContent = value; }
        row.appendChild(td); body.appendChild(row);
      }
      const list = $("downloads");
      list.replaceChildren();
      const items = [{ format: "json", label: t("download_json"), run: () => saveBlob(
        new Blob([JSON.stringify(held.credential, null, 2)], { type: "application/json" }), fileName(id) + ".json") }];
      for (const d of view.downloads) {  // only the formats the wallet API offers
        items.push({ format: d.format, label: t("download_" + d.format), run: () => download(d.url, fileName(id) + d.suffix) });
      }
      for (const item of items) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button"; button.textContent = item.label; button.dataset.format = item.format;
        button.className = "download";
        button.addEventListener("click", item.run);
        li.appendChild(button); list.appendChild(li);
      }
      $("detail-share").onclick = async () => {
        try { await share([id]); $("share-url").focus(); } catch (e) { say(t("error") + " " + e.message); }
      };
      $("detail-h").focus();
    } catch (e) { say(t("error") + " " + e.message); }
  }

  function route() {
    const match = location.hash.match(/^#\/credential\/(.+)$/);
    if (match && token()) { showDetail(decodeURIComponent(match[1])); return; }
    $("detail").hidden = true;
    $("list-view").hidden = false;
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
      cell(row, when(s.expires_at));
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
      const bars = [];
      if (p.pathway.min_total_ects) {
        bars.push([Number(p.ects_gathered), Number(p.pathway.min_total_ects),
          t("progress_of").replace("{gathered}", number(p.ects_gathered)).replace("{needed}", number(p.pathway.min_total_ects))]);
      } else {
        const ects = document.createElement("p");
        ects.textContent = t("ects_gathered") + t("colon") + " " + number(p.ects_gathered);
        article.appendChild(ects);
      }
      const required = p.pathway.required_achievement_ids || [];
      if (required.length) {
        const have = required.length - p.missing_achievement_ids.length;
        bars.push([have, required.length, t("missing") + t("colon") + " " + p.missing_achievement_ids.length + " / " + required.length]);
      }
      bars.forEach(([value, max, text], i) => {
        const id = "bar-" + box.children.length + "-" + i;
        const label = document.createElement("p");
        label.className = "bar-text"; label.id = id; label.textContent = text;
        const bar = document.createElement("progress");
        bar.max = max; bar.value = Math.min(value, max);
        bar.setAttribute("aria-labelledby", id);
        article.append(bar, label);
      });
      if (p.missing_achievement_ids.length) {
        const m = document.createElement("p");
        m.textContent = t("missing") + t("colon") + " " + p.missing_achievement_ids.join(", ");
        article.appendChild(m);
      }
      const list = document.createElement("ul");
      for (const a of p.credentials) {
        const li = document.createElement("li");
        li.textContent = titleOf(a.credential_id) + t("colon") + " " + (a.counts ? t("counts") + " (" + a.ects + " ECTS)"
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
    const made = data.holder_keys.filter((k) => !k.for_credential); // a key per received credential is not shown
    for (const k of made) { const li = document.createElement("li"); li.textContent = k.did; list.appendChild(li); }
    if (!made.length) { const li = document.createElement("li"); li.textContent = t("none"); list.appendChild(li); }
  }

  // Respond to an OpenID4VP request (docs/oid4vp.md, "Our wallet as responder"): the wallet API fetches and checks
  // the request; the learner picks, where the request leaves a choice, which credentials (and which of the claim sets
  // the verifier accepts) to send, and sees every claim that goes with them. A credential goes with all the claims
  // asked for, or not at all (OpenID4VP 1.0 §6.4): a learner who does not want to share them refuses.
  let vpLink = "";

  // A claim's value as text: nested objects (learning outcomes...) by their leaves, never "[object Object]".
  function plain(v) {
    if (v === null || typeof v !== "object") return String(v);
    return (Array.isArray(v) ? v : Object.values(v)).map(plain).filter(Boolean).join("; ");
  }

  function vpBody(extra) {
    return { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ link: vpLink }, extra || {})) };
  }

  function radio(name, id, checked) {
    const input = document.createElement("input");
    input.type = "radio"; input.name = name; input.id = id; input.checked = checked;
    return input;
  }

  function labelFor(input, text) {
    const label = document.createElement("label");
    label.htmlFor = input.id; label.textContent = text;
    return label;
  }

  // One credential query of an option: a radio per (credential, claim set) that meets it, with the claims it sends.
  function renderQuery(query, matches, prefix) {
    const div = document.createElement("div");
    div.className = "vp-query"; div.dataset.query = query;
    let n = 0;
    matches.filter((m) => m.query === query).forEach((m) => m.options.forEach((o, k) => {
      const pick = radio(prefix + "-" + query, prefix + "-" + query + "-" + n, n === 0);
      pick.className = "vp-pick"; pick.dataset.credential = m.credential_id;
      pick.dataset.claimSet = o.claim_set === null ? "" : String(o.claim_set);
      pick.dataset.claims = JSON.stringify(o.claims.map((c) => c.claim));
      const variant = m.options.length > 1 ? " (" + t("vp_variant") + " " + (k + 1) + ")" : "";
      const title = (m.title || m.credential_id) + variant;
      const row = document.createElement("div");
      row.className = "vp-match";
      row.append(pick, " ", labelFor(pick, title));
      const list = document.createElement("ul");
      o.claims.forEach((c) => {
        const li = document.createElement("li");
        const name = (c.names || {})[document.documentElement.lang] || (c.names || {}).en || c.claim;
        li.textContent = name + t("colon") + " " + c.values.map(plain).join(", ");
        list.appendChild(li);
      });
      row.appendChild(list);
      div.appendChild(row);
      n += 1;
    }));
    return div;
  }

  // A credential set: its options the learner's credentials meet (a radio each when there is a choice, and "do not
  // share" for an optional set), each with its credential queries.
  function renderSet(set, si, matches) {
    const met = set.options.map((o, oi) => ({ o, oi })).filter((x) => x.o.met);
    const group = document.createElement("div");
    group.className = "vp-set";
    if (!met.length) return group;
    const choice = met.length > 1 || !set.required;
    if (choice) {
      const head = document.createElement("p");
      head.textContent = t(set.required ? "vp_one_of" : "vp_optional");
      group.appendChild(head);
    }
    if (!set.required) {
      const skip = radio("vp-set-" + si, "vp-set-" + si + "-skip", true);
      skip.className = "vp-option"; skip.value = "";
      group.append(skip, " ", labelFor(skip, t("vp_skip")));
    }
    met.forEach(({ o, oi }, k) => {
      const div = document.createElement("div");
      div.className = "vp-option-box"; div.dataset.option = String(oi);
      if (choice) {
        const pick = radio("vp-set-" + si, "vp-set-" + si + "-" + oi, set.required && k === 0);
        pick.className = "vp-option"; pick.value = String(oi);
        div.append(pick, " ", labelFor(pick, t("vp_option") + " " + (k + 1)));
      } else {
        div.dataset.only = "1";
      }
      o.queries.forEach((q) => div.appendChild(renderQuery(q, matches, "vp-s" + si + "o" + oi)));
      group.appendChild(div);
    });
    return group;
  }

  // A refusal in plain words, in the "Respond to a request" section: what happened and what to do (the wallet
  // API's code picks the sentence); its technical words only behind "Technical details".
  function vpFail(e) {
    const known = e.code && L["VP_" + e.code];
    $("vp-error-text").textContent = known || t("VP_FAILED");
    $("vp-error-detail").textContent = e.message;
    $("vp-error").hidden = false;
    $("vp-error").focus();
  }

  async function inspectRequest(event) {
    event.preventDefault();
    vpLink = $("vp-link").value.trim();
    $("vp-outcome").textContent = "";
    $("vp-error").hidden = true;
    try {
      const seen = await api("v1/presentation-requests/inspect", vpBody());
      $("vp-verifier").textContent = seen.verifier;
      $("vp-verified").textContent = t(seen.verified ? "vp_verified" : "vp_unverified");
      $("vp-purpose").hidden = !seen.purpose;
      $("vp-purpose").textContent = seen.purpose ? t("vp_purpose") + t("colon") + " " + seen.purpose : "";
      const box = $("vp-choices");
      box.querySelectorAll("div.vp-set").forEach((x) => x.remove());
      if (seen.answerable) seen.credential_sets.forEach((set, si) => box.appendChild(renderSet(set, si, seen.matches)));
      box.hidden = !seen.answerable;
      $("vp-all").hidden = !seen.answerable;
      $("vp-none").hidden = seen.answerable;
      $("vp-none").textContent = t(seen.matches.length ? "vp_cannot" : "vp_none");
      $("vp-send").disabled = !seen.answerable;
      $("vp-request").hidden = false;
    } catch (e) { $("vp-request").hidden = true; vpFail(e); }
  }

  // What the learner chose: in each credential set, the chosen option's credential queries, each with its picked
  // credential and claim set (and the claims the learner was shown, which the wallet checks are those it sends).
  function vpAnswers() {
    const answers = [];
    const seen = new Set();
    document.querySelectorAll("#vp-choices div.vp-set").forEach((group) => {
      const picked = group.querySelector("input.vp-option:checked");
      const box = picked ? group.querySelector("div.vp-option-box[data-option='" + picked.value + "']")
        : group.querySelector("div.vp-option-box[data-only]");
      if (!box) return; // an optional set the learner does not share
      box.querySelectorAll("div.vp-query").forEach((q) => {
        const pick = q.querySelector("input.vp-pick:checked");
        if (!pick || seen.has(q.dataset.query)) return;
        seen.add(q.dataset.query);
        answers.push({ query: q.dataset.query, credential_id: pick.dataset.credential,
          claim_set: pick.dataset.claimSet === "" ? null : Number(pick.dataset.claimSet),
          disclose: JSON.parse(pick.dataset.claims) });
      });
    });
    return answers;
  }

  async function answerRequest(refuse) {
    try {
      const reply = refuse ? await api("v1/presentation-requests/refuse", vpBody())
        : await api("v1/presentation-requests/answer", vpBody({ answers: vpAnswers() }));
      const said = reply.verifier_answer && reply.verifier_answer.error_description;
      $("vp-request").hidden = true;
      if (!reply.accepted) {
        vpFail({ code: "REJECTED", message: String(said || reply.verifier_status) });
        return;
      }
      $("vp-outcome").textContent = t(refuse ? "vp_refused" : "vp_sent");
      if (reply.continue_to) {  // same-device flow: OpenID4VP has the wallet send the browser back (§8.2)
        $("vp-outcome").textContent += " " + t("vp_returning");
        setTimeout(() => window.location.assign(reply.continue_to), 1500);
      }
    } catch (e) { vpFail(e); }
  }

  async function refresh() {
    try {
      const me = await api("v1/me");
      $("who").textContent = me.email || me.account_id;
      credentials = (await api("v1/credentials")).credentials;
      renderCredentials();
      await Promise.all([loadShares(), loadProgress(), loadKeys()]);
      route();
    } catch (e) { say(t("error") + " " + e.message); }
  }

  function showApp() {
    const signedIn = Boolean(token());
    $("signin").hidden = signedIn;
    $("app").hidden = !signedIn;
    if (signedIn) refresh();
    if (signedIn) document.dispatchEvent(new Event("microcred:signed-in"));  // offers.js: an offer in the address
  }

  function signOut() { sessionStorage.removeItem(TOKEN_KEY); showApp(); }

  async function createShare(event) {
    event.preventDefault();
    const ids = Array.from(document.querySelectorAll("input.pick:checked")).map((x) => x.value);
    if (!ids.length) { say(t("share_select_first")); return; }
    try { await share(ids); } catch (e) { say(t("error") + " " + e.message); }
  }

  async function exportAll(event) {
    event.preventDefault();
    try {
      saveBlob(await api("v1/export"), "microcred-wallet-export.zip");
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
    $("vp-form").addEventListener("submit", inspectRequest);
    $("vp-send").addEventListener("click", () => answerRequest(false));
    $("vp-refuse").addEventListener("click", () => answerRequest(true));
    $("search").addEventListener("input", renderCredentials);
    window.addEventListener("hashchange", route);
    document.addEventListener("microcred:refresh", refresh);  // offers.js: a credential was received
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
