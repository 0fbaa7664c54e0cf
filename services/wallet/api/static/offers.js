// "Receive a credential" (OpenID4VCI offers, docs/wallet-oid4vci.md): the offers issuers of this platform made for
// the learner are listed first (GET v1/credential-offers), each opening like a pasted link; or the learner pastes
// an offer link, or opens the wallet's own link /?credential_offer_uri=... (what an issuer's QR code can point to);
// the wallet API reads the offer from a trusted issuer and says who offers what; the learner enters the transaction
// code when one is asked for and accepts; the credential then joins the list. Refusals come back as codes that are
// shown as plain sentences in the page's language (labels from api/offer_text.py). Plain DOM, textContent only.
// An offer of the authorization code grant only is accepted at the issuer: the page goes to the issuer's pages
// (which may ask the learner to sign in) and the issuer sends the browser back here with ?code&state&iss, which
// the page hands to the wallet API (v1/credential-offers/complete) before removing them from the address.
// A credential the issuer is still preparing (deferred issuance) is listed under "Being prepared" and asked for
// while the page is open, no more often than the issuer asked (v1/credential-offers/deferred/collect).
"use strict";
(function () {
  const L = Object.assign(JSON.parse(document.getElementById("labels").textContent),
    JSON.parse(document.getElementById("app-labels").textContent));
  const TOKEN_KEY = "microcred.wallet.token";  // as wallet.js
  const $ = (id) => document.getElementById(id);
  const t = (key) => L[key] || key;
  let offer = "";
  let grant = "";

  // The wallet API's answer, or an Error whose message is the plain-language text of the refusal's code.
  async function post(path, body) {
    return call(path, { method: "POST", body: JSON.stringify(body) });
  }

  async function call(path, init) {
    const response = await fetch(path + "?lang=" + document.documentElement.lang, Object.assign({
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) },
    }, init));
    let data = {};
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const code = data.code || "";
      throw new Error(L[code] ? L[code] : t("error") + " " + (data.detail || response.statusText));
    }
    return data;
  }

  function fail(message) {
    $("offer-error").textContent = message;
    $("offer-error").hidden = false;
  }

  function clear() {
    $("offer-error").textContent = ""; $("offer-error").hidden = true;
    $("offer-outcome").textContent = "";
  }

  async function inspect(event) {
    if (event) event.preventDefault();
    offer = $("offer-link").value.trim();
    clear();
    $("offer-review").hidden = true;
    try {
      const seen = await post("v1/credential-offers/inspect", { offer: offer });
      grant = seen.grant;
      $("offer-accept").textContent = t(grant === "authorization_code" ? "offer_continue" : "offer_accept");
      if (grant === "authorization_code") $("offer-outcome").textContent = t("offer_continue_hint");
      $("offer-issuer").textContent = seen.issuer_name;
      $("offer-issuer").title = seen.credential_issuer;
      const wanted = seen.credentials.find((c) => c.supported) || seen.credentials[0];
      $("offer-what").textContent = (wanted && (wanted.name || wanted.configuration_id)) || "";
      $("offer-tx").hidden = !seen.tx_code;
      const input = $("offer-tx-code");
      input.value = "";
      input.required = Boolean(seen.tx_code);
      if (seen.tx_code) {
        input.inputMode = seen.tx_code.input_mode === "numeric" ? "numeric" : "text";
        if (seen.tx_code.length) input.maxLength = seen.tx_code.length;
        // Our hint in the page's language, then the issuer's own words (in whatever language it wrote them).
        $("offer-tx-hint").textContent = t("offer_tx_hint") + (seen.tx_code.description ? " " + seen.tx_code.description : "");
      }
      $("offer-review").hidden = false;
      (seen.tx_code ? input : $("offer-accept")).focus();
    } catch (e) { fail(e.message); }
  }

  async function accept(event) {
    event.preventDefault();
    clear();
    const body = { offer: offer };
    if (!$("offer-tx").hidden) body.tx_code = $("offer-tx-code").value.trim();
    $("offer-accept").disabled = true;
    try {
      if (grant === "authorization_code") {  // to the issuer's pages; they send the browser back here
        const started = await post("v1/credential-offers/authorize", { offer: offer });
        location.assign(started.authorization_url);
        return;
      }
      const got = await post("v1/credential-offers/accept", body);
      $("offer-review").hidden = true;
      $("offer-link").value = "";
      $("offer-outcome").textContent = t(outcome(got));
      if (got.deferred) collectDeferred();
      if (location.search.includes("credential_offer")) history.replaceState(null, "", location.pathname + location.hash);
      document.dispatchEvent(new Event("microcred:refresh"));  // wallet.js reloads the list
      setTimeout(listAddressed, 1500);  // the redeemed offer leaves the list once the issuer's event is in
    } catch (e) {
      fail(e.message);
      if (!$("offer-tx").hidden) $("offer-tx-code").focus();
    } finally { $("offer-accept").disabled = false; }
  }

  // The wallet's own offer link: /?credential_offer_uri=... (or credential_offer=...) fills the form.
  function fromAddress() {
    const query = new URLSearchParams(location.search);
    if (!query.has("credential_offer_uri") && !query.has("credential_offer")) return "";
    const carried = new URLSearchParams();
    for (const name of ["credential_offer_uri", "credential_offer"]) if (query.has(name)) carried.set(name, query.get(name));
    return "openid-credential-offer://?" + carried.toString();
  }

  // Back from the issuer's pages: ?state with ?code (or ?error); removed from the address at once, so that a
  // reload does not send them again.
  function fromIssuer() {
    const query = new URLSearchParams(location.search);
    if (!query.has("state") || !(query.has("code") || query.has("error"))) return null;
    const answer = {};
    for (const name of ["state", "code", "iss", "error", "error_description", "error_uri"]) {
      if (query.has(name) && name !== "error_uri") answer[name] = query.get(name);
      query.delete(name);
    }
    const rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    return answer;
  }

  async function complete(answer) {
    clear();
    $("offer-outcome").textContent = t("offer_completing");
    try {
      const got = await post("v1/credential-offers/complete", answer);
      $("offer-outcome").textContent = t(outcome(got));
      if (got.deferred) collectDeferred();
      document.dispatchEvent(new Event("microcred:refresh"));
      setTimeout(listAddressed, 1500);
    } catch (e) {
      $("offer-outcome").textContent = "";
      fail(e.message);
    }
  }

  function outcome(got) {
    if (got.deferred) return "offer_deferred";
    return got.credentials.length ? "offer_received" : "offer_pending";
  }

  // One line of the page's offer lists: the title in bold, who offers it in parentheses, then a small note.
  const dated = () => new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "long", timeStyle: "short" });
  function listRow(title, by, note) {
    const li = document.createElement("li");
    const strong = document.createElement("strong");
    strong.textContent = title;
    const small = document.createElement("small");
    small.textContent = note;
    li.append(strong, by ? " (" + by + ")" : "", " ", small);
    return li;
  }

  // What the issuers are still preparing: the credential, its issuer, when the learner accepted it.
  let deferredTimer = null;
  function showDeferred(items) {
    const when = dated();
    $("offer-deferred-list").replaceChildren(...items.map((item) => listRow(item.name, item.issuer_name,
      t("deferred_accepted") + " " + when.format(new Date(item.accepted_at)))));
    $("offer-deferred").hidden = items.length === 0;
  }

  // Ask for what is due; again after the shortest interval the issuers named (2 s to 1 min) while any waits.
  async function collectDeferred() {
    clearTimeout(deferredTimer);
    deferredTimer = null;
    let got;
    try { got = await post("v1/credential-offers/deferred/collect", {}); } catch (e) { return; }
    showDeferred(got.waiting);
    if (got.credentials.length || got.pending) {
      $("offer-outcome").textContent = t("deferred_arrived");
      document.dispatchEvent(new Event("microcred:refresh"));
    }
    if (got.ended.length) fail(got.ended.map((item) => item.name + t("colon") + " " + t(item.code)).join(" "));
    if (got.waiting.length) {
      const wait = Math.min(60, Math.max(2, Math.min(...got.waiting.map((item) => item.interval))));
      deferredTimer = setTimeout(collectDeferred, wait * 1000);
    }
  }

  // The offers addressed to the learner: title, awarding body, until when, whether a code is needed, and a
  // button that opens the offer as if its link had been pasted.
  async function listAddressed() {
    let found = [];
    try { found = (await call("v1/credential-offers", { method: "GET" })).offers; } catch (e) { return; }
    const list = $("offer-addressed-list");
    list.replaceChildren();
    const until = dated();
    for (const item of found) {
      const li = listRow(item.title || t("offer_what"), item.awarding_body,
        t("offer_addressed_until") + " " + until.format(new Date(item.expires_at)) +
        (item.tx_code_required ? ". " + t("offer_addressed_code") : ""));
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = t("offer_addressed_open");
      open.setAttribute("aria-label", t("offer_addressed_open") + t("colon") + " " + (item.title || ""));
      open.addEventListener("click", () => { $("offer-link").value = item.link; inspect(); });
      li.append(" ", open);
      list.append(li);
    }
    $("offer-addressed").hidden = found.length === 0;
  }

  let returned = null;
  function signedIn() {
    if (returned) { const answer = returned; returned = null; complete(answer); }
    const link = fromAddress();
    if (link && !offer) { $("offer-link").value = link; inspect(); }
    listAddressed();
    collectDeferred();
  }

  // Registered now, before any DOMContentLoaded handler: wallet.js announces a sign-in from its own.
  document.addEventListener("microcred:signed-in", signedIn);
  returned = fromIssuer();  // read before wallet.js announces the sign-in
  document.addEventListener("DOMContentLoaded", () => {
    $("offer-form").addEventListener("submit", inspect);
    $("offer-review").addEventListener("submit", accept);
    $("offer-deferred-check").addEventListener("click", collectDeferred);
    $("offer-cancel").addEventListener("click", () => { $("offer-review").hidden = true; clear(); offer = ""; grant = ""; });
    if (fromAddress() && !sessionStorage.getItem(TOKEN_KEY)) $("status").textContent = t("offer_signin_first");
  });
})();
