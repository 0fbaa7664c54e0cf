"""Credential PDF figures (issue 23), one core, distinct credentials (each its own id, learner index, title and
signature, so no layout or font work is reused across documents beyond what reportlab keeps per process).

* ``pdf_render_per_s``: documents per second through :func:`microcred.pdf.render.render_pdf` (layout, DejaVu
  subsetting, QR code of a distinct link, the signed credential attached with pikepdf), A4, languages in turn.
* ``pdf_render_ms_p50`` / ``pdf_render_ms_p99``: per-document wall time in that run.
* ``pdf_embed_ms_mean``: of which attaching the credential (pikepdf open + save) alone, mean.
* ``pdf_bytes_mean``: mean file size.
* ``pdf_cohort_2000_s_estimate``: seconds a 2,000-learner cohort takes at that rate on one core.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
from typing import Any

from microcred.pdf.embedded import embed_credentials
from microcred.pdf.render import CredentialPdf, render_pdf
from tests.verifier_support import World

__all__ = ["measure"]

LANGS = ("en", "pl", "de", "fr")


def _inputs(count: int) -> list[CredentialPdf]:
    world = World()
    out = []
    for n in range(count):
        def retitle(mc: Any, n: int = n) -> None:
            mc.title.values["en"] = f"Data analysis, cohort member {n}"
        doc = world.credential(10_000 + n, mutate=retitle)
        out.append(CredentialPdf(doc, doc["id"], f"https://verify.example/shares/{secrets.token_urlsafe(32)}",
                                 issuer_name="University of Zed",
                                 attachments=[("credential.json", json.dumps(doc).encode())]))
    return out


async def measure(infra: Any, quick: bool) -> dict[str, float]:
    """Render distinct credentials' PDFs on one core (no Kafka or Redis involved)."""
    count = 40 if quick else 300
    inputs = _inputs(count + 5)
    for data in inputs[:5]:  # warm-up: fonts registered, modules loaded
        render_pdf(data, "en")
    times: list[float] = []
    sizes: list[int] = []
    started = time.perf_counter()
    for n, data in enumerate(inputs[5:]):
        t = time.perf_counter()
        sizes.append(len(render_pdf(data, LANGS[n % len(LANGS)])))
        times.append(time.perf_counter() - t)
    rate = count / (time.perf_counter() - started)
    bare = render_pdf(CredentialPdf(inputs[0].document, inputs[0].credential_id, inputs[0].verification_url), "en")
    embeds = []
    for data in inputs[5:45]:
        t = time.perf_counter()
        embed_credentials(bare, list(data.attachments))
        embeds.append(time.perf_counter() - t)
    times.sort()
    return {"pdf_render_per_s": round(rate, 1), "pdf_render_ms_p50": round(1000 * statistics.median(times), 1),
            "pdf_render_ms_p99": round(1000 * times[min(len(times) - 1, int(len(times) * 0.99))], 1),
            "pdf_embed_ms_mean": round(1000 * statistics.mean(embeds), 2),
            "pdf_bytes_mean": round(statistics.mean(sizes)), "pdf_cohort_2000_s_estimate": round(2000 / rate, 1)}
