"""Draw the latest benchmark figures against their targets as an SVG bar chart (no plotting library needed)."""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

# figure key -> (label, target, "higher" or "lower" is better)
TARGETS: dict[str, tuple[str, float, str]] = {
    "issuance_e2e_per_s": ("issuance, credentials/s", 1000.0, "higher"),
    "verify_per_s": ("verifications/s", 1500.0, "higher"),
    "verify_p99_ms": ("verify p99, ms", 30.0, "lower"),
    "revocation_visible_p50_ms": ("revocation visible p50, ms", 1000.0, "lower"),
    "revocation_visible_p99_ms": ("revocation visible p99, ms", 1000.0, "lower"),
    "issuance_rate_1m_over_10k": ("rate at 1M / rate at 10k", 1.0, "higher"),
    # issues 19 to 21: the wallet ecosystem
    "sd_jwt_issuance_e2e_per_s": ("SD-JWT VC issuance/s", 2000.0, "higher"),
    "sd_jwt_gateway_verify_per_s": ("SD-JWT VC verifications/s", 3000.0, "higher"),
    "sd_jwt_gateway_verify_p99_ms": ("SD-JWT VC verify p99, ms", 20.0, "lower"),
    "oid4vci_offers_per_s": ("offers/s, one issuer process", 2000.0, "higher"),
    "oid4vci_offers_grpc_per_s": ("offers/s, one process, gRPC", 2000.0, "higher"),
    "oid4vci_offers_2_replicas_per_s": ("offers/s, two issuer processes", 2000.0, "higher"),
    "oid4vci_redemptions_per_s": ("OpenID4VCI redemptions/s", 500.0, "higher"),
    "oid4vp_round_trips_per_s": ("OpenID4VP round trips/s", 300.0, "higher"),
}


def render(results: dict[str, float]) -> str:
    """One row per figure: a bar scaled to its target (the dashed line), green when the target is met."""
    rows = [(k, *TARGETS[k]) for k in TARGETS if isinstance(results.get(k), (int, float))]
    width, row_h, left, bar_w = 760, 46, 250, 420
    height = 60 + row_h * len(rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="microcred benchmark figures against targets" font-family="sans-serif" font-size="13">',
           '<rect width="100%" height="100%" fill="#fff"/>',
           f'<text x="10" y="24" font-size="15" font-weight="bold">microcred benchmarks '
           f'({escape(str(results.get("timestamp", "")))}, {results.get("cpu_count", "?")} cores)</text>']
    for i, (key, label, target, better) in enumerate(rows):
        value = float(results[key])
        y = 44 + i * row_h
        scale = bar_w / (2 * target)  # the target sits in the middle of the bar area
        length = max(1.0, min(bar_w, value * scale))
        met = value >= target if better == "higher" else value <= target
        colour = "#1a7f37" if met else "#b42318"
        out += [f'<text x="10" y="{y + 18}">{escape(label)}</text>',
                f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="20" fill="{colour}"/>',
                f'<line x1="{left + bar_w / 2}" y1="{y}" x2="{left + bar_w / 2}" y2="{y + 28}" stroke="#333" '
                f'stroke-dasharray="4 3"/>',
                f'<text x="{left + bar_w + 8}" y="{y + 18}">{value:,.2f} (target {"≥" if better == "higher" else "≤"} '
                f'{target:,.0f})</text>']
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    """``python -m bench.plot [results.json] [out.svg]``."""
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results/latest.json")
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/performance.svg")
    dst.write_text(render(json.loads(src.read_text())))
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
