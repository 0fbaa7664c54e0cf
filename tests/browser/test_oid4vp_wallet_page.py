"""OpenID4VP in two browsers (issue 21): an employer creates a presentation request on the gateway's page, the
learner answers it from our wallet's page (signed in, in Polish) in a second Chromium, and the employer's page
shows the verified result. axe-core reports no serious or critical violation on the wallet's "respond" view and
on the employer's result.

The wallet runs as its own process against the session's real Kafka and Redis (as in test_wallet_app.py); the
gateway in a thread on a loopback socket with its OpenID4VP identity (x509_san_dns under a test platform CA the
wallet trusts) and the SD-JWT test world's registry and status list.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from microcred import pki
from microcred.infra.ports import free_port
from microcred.kafka.topics import ensure_topics
from microcred.sdjwt.type_metadata import VCT
from microcred.sdjwt.view import sd_jwt_id
from services.verifier.app import create_app as create_verifier_app
from services.verifier.application import Gateway
from services.verifier.config import Settings as VerifierSettings
from services.wallet.events.intake import WALLET_TOPICS
from tests.browser.support import assert_accessible, chromium, screenshot, serve
from tests.browser.test_wallet_page import TOKEN_KEY, start_wallet, stop
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.sd_jwt import make_world
from tests.harness.wallet.oidc import LocalOidcProvider

pytestmark = pytest.mark.integration

HOST = "verifier.test"


async def _held(base: str, bearer: str, credential_id: str) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {bearer}"}, timeout=10) as http:
        for _ in range(300):
            listed = (await http.get("/v1/credentials")).json().get("credentials", [])
            if any(c["credential_id"] == credential_id for c in listed):
                return
            await asyncio.sleep(0.3)
    raise AssertionError("the imported credential never reached the wallet's API")


async def test_employer_asks_our_wallet_answers_and_the_employer_sees_it_verified(
        infrastructure: Infrastructure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unique = uuid.uuid4().hex[:10]
    await ensure_topics(infrastructure.kafka_bootstrap, topics=WALLET_TOPICS, prefix=f"t{unique}.")
    sd = make_world()
    issuer_anchors = tmp_path / "agency-ca.pem"
    issuer_anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in sd.anchors))
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(tmp_path, "verifier")
    verifier_anchors = tmp_path / "platform-ca.pem"
    verifier_anchors.write_bytes(ca.cert_pem)
    monkeypatch.setenv("MICROCRED_X509_TRUST_ANCHORS_FILE", str(issuer_anchors))  # read by the wallet process
    monkeypatch.setenv("MICROCRED_OID4VP_TRUST_ANCHORS_FILE", str(verifier_anchors))
    tag = uuid.uuid4().hex[:8]
    verifier = create_verifier_app(VerifierSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=infrastructure.redis_url, http_port=0,
        environment="test", registry_namespace=f"vreg-{tag}", registry_group=f"vreg-{tag}",
        rate_limit_per_second=1e6, rate_limit_burst=1_000_000, x509_trust_anchors_file=issuer_anchors,
        oid4vp_client_host=HOST, oid4vp_signing_cert_file=cert_file, oid4vp_signing_key_file=key_file))
    provider = LocalOidcProvider()
    port = free_port()
    process = await start_wallet(infrastructure, provider, tmp_path, unique, port)
    employer, learner = chromium(), chromium(lang="pl-PL")  # two browsers: nothing shared between them
    try:
        base = f"http://127.0.0.1:{port}"
        with serve(verifier) as verifier_url:
            verifier.state.gateway = Gateway(sd.ports())  # the test issuer's registry and status list

            # the learner signs in; their SD-JWT VC, bound to a P-256 key of theirs, is in the wallet
            learner.get(f"{base}/?lang=pl")
            WebDriverWait(learner, 30).until(ec.visibility_of_element_located((By.ID, "dev-login")))
            learner.find_element(By.ID, "dev-sub").send_keys(f"ola-{unique}")
            email = f"ola-{unique}@example.org"
            learner.find_element(By.ID, "dev-email").send_keys(email)
            learner.find_element(By.ID, "dev-login-button").click()
            stored = f"return sessionStorage.getItem('{TOKEN_KEY}')"
            WebDriverWait(learner, 30).until(lambda d: d.execute_script(stored))
            bearer = str(learner.execute_script(stored))
            headers = {"Authorization": f"Bearer {bearer}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
                created = await http.post("/v1/holder-keys", json={"alg": "ES256"})
                assert created.status_code == 201, created.text
                jwk = {k["did"]: k["jwk"] for k in (await http.get("/v1/holder-keys/jwks")).json()["keys"]}[
                    created.json()["did"]]
                mc = valid_micro_credential()
                mc.learner.email = email
                compact = sd.issue(mc=mc, holder_jwk=jwk).compact
                imported = await http.post("/v1/import", content=compact.encode(),
                                           headers={"content-type": "application/dc+sd-jwt"})
                assert imported.status_code == 201, imported.text
            credential_id = sd_jwt_id(compact)
            assert credential_id is not None
            await _held(base, bearer, credential_id)

            # the employer creates a request (the default template) and gets its link
            employer.get(f"{verifier_url}/presentations/new?lang=en")
            employer.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            WebDriverWait(employer, 30).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "a[href^='openid4vp://']"))
            link = employer.find_element(By.CSS_SELECTOR, "a[href^='openid4vp://']").get_attribute("href")
            assert link

            # a link that is not a request: a plain sentence in Polish in the section, the wallet's own words only
            # behind "technical details"
            learner.get(f"{base}/?lang=pl")
            wait = WebDriverWait(learner, 60)
            wait.until(ec.visibility_of_element_located((By.ID, "vp-link"))).send_keys("https://example.org/")
            learner.find_element(By.ID, "vp-inspect").click()
            refusal = wait.until(ec.visibility_of_element_located((By.ID, "vp-error"))).text
            assert refusal.startswith("Ten portfel nie potrafi odczytać tej prośby"), refusal
            assert "openid4vp" not in refusal and "link:" not in refusal, refusal
            assert_accessible(learner, "wallet: a link that is not a request (pl)")

            # the learner opens the request in our wallet, sees who asks and what, and sends
            learner.get(f"{base}/?lang=pl")
            wait.until(ec.visibility_of_element_located((By.ID, "vp-link"))).send_keys(link)
            learner.find_element(By.ID, "vp-inspect").click()
            try:
                wait.until(ec.visibility_of_element_located((By.ID, "vp-request")))
            except Exception as exc:
                raise AssertionError(learner.find_element(By.ID, "status").text) from exc
            assert learner.find_element(By.ID, "vp-verifier").text == HOST
            assert "potwierdzona" in learner.find_element(By.ID, "vp-verified").text
            choices = learner.find_element(By.ID, "vp-choices").text
            # each claim by its name in the learner's language (the type metadata's), never its path
            assert "Tytuł mikropoświadczenia" in choices and "achievement_title" not in choices, choices
            assert "given_name" not in choices and "[object" not in choices
            # every claim listed goes with the credential (no box to untick: OpenID4VP 1.0 §6.4); not sharing is
            # refusing, as the page says
            assert not learner.find_elements(By.CSS_SELECTOR, "#vp-choices input[type=checkbox]")
            assert "odmów" in learner.find_element(By.ID, "vp-all").text
            screenshot(learner, "wallet-oid4vp-respond-pl")
            assert_accessible(learner, "wallet: respond to a request (pl)")
            learner.find_element(By.ID, "vp-send").click()
            wait.until(lambda d: "Wysłano" in d.find_element(By.ID, "vp-outcome").text
                       or d.find_element(By.ID, "status").text)
            assert "Wysłano" in learner.find_element(By.ID, "vp-outcome").text, \
                learner.find_element(By.ID, "status").text

            # the employer's page (it refreshes itself) shows the verified result
            WebDriverWait(employer, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".verdict-valid"))
            screenshot(employer, "employer-oid4vp-verified-en")
            assert_accessible(employer, "employer: verified presentation (en)")

            # same device: a page in the learner's own browser asked (redirect_uri); once sent, the wallet takes
            # the browser back there, the response code in the fragment (OpenID4VP §8.2, HAIP)
            back = f"{verifier_url}/presentations/new?lang=pl"
            async with httpx.AsyncClient(timeout=30) as api:
                made = await api.post(f"{verifier_url}/v1/presentation-requests",
                                      json={"template": "micro-credential", "redirect_uri": back})
            assert made.status_code == 201, made.text
            learner.get(f"{base}/?lang=pl")
            wait.until(ec.visibility_of_element_located((By.ID, "vp-link"))).send_keys(made.json()["link"])
            learner.find_element(By.ID, "vp-inspect").click()
            wait.until(ec.visibility_of_element_located((By.ID, "vp-request")))
            learner.find_element(By.ID, "vp-send").click()
            wait.until(lambda d: d.current_url.startswith(back + "#response_code="))
            code = learner.current_url.split("#response_code=", 1)[1]
            async with httpx.AsyncClient(timeout=30) as api:
                shown = await api.get(made.json()["result_url"], params={"response_code": code})
            assert shown.json()["status"] == "verified" and "en" in shown.json(), shown.text

            # a request with a choice: a credential set's options (one the learner's credentials meet) and two
            # claim sets; the learner picks the second variant, and only its claims are sent
            query = {"credentials": [
                {"id": "other", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://other.example/vct"]}},
                {"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                 "claims": [{"id": "t", "path": ["achievement_title"]}, {"id": "f", "path": ["family_name"]},
                            {"id": "g", "path": ["given_name"]}], "claim_sets": [["t", "f"], ["t", "g"]]}],
                "credential_sets": [{"options": [["other"], ["mc"]]}]}
            async with httpx.AsyncClient(timeout=30) as api:
                made = await api.post(f"{verifier_url}/v1/presentation-requests",
                                      json={"dcql_query": query, "response_mode": "direct_post"})
            assert made.status_code == 201, made.text
            learner.get(f"{base}/?lang=en")
            wait.until(ec.visibility_of_element_located((By.ID, "vp-link"))).send_keys(made.json()["link"])
            learner.find_element(By.ID, "vp-inspect").click()
            wait.until(ec.visibility_of_element_located((By.ID, "vp-request")))
            picks = learner.find_elements(By.CSS_SELECTOR, "#vp-choices input.vp-pick")
            assert len(picks) == 2 and "variant 2" in learner.find_element(By.ID, "vp-choices").text
            learner.find_element(By.CSS_SELECTOR, f"label[for='{picks[1].get_attribute('id')}']").click()
            screenshot(learner, "wallet-oid4vp-claim-sets-en")
            assert_accessible(learner, "wallet: a request with claim sets (en)")
            learner.find_element(By.ID, "vp-send").click()
            wait.until(lambda d: "Sent" in d.find_element(By.ID, "vp-outcome").text
                       or d.find_element(By.ID, "status").text)
            async with httpx.AsyncClient(timeout=30) as api:
                result = (await api.get(made.json()["result_url"])).json()
            assert result["en"]["query"]["satisfied"] is True, result
            assert mc.learner.given_name in str(result) and mc.learner.family_name not in str(result)
    finally:
        employer.quit()
        learner.quit()
        stop(process)
        provider.stop()
