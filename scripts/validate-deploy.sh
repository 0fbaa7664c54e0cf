#!/usr/bin/env bash
# Validate the deployment files offline (no Docker engine, no Kubernetes cluster).
#
#   scripts/validate-deploy.sh                 # docker-compose.yml, deploy/otel-collector.yaml and deploy/k8s/
#   scripts/validate-deploy.sh PATH...         # only these files or directories
#
# What each path gets:
#   *compose*.yml|yaml       docker-compose 1.29 `config -q` AND check-jsonschema --builtin-schema vendor.compose-spec
#   otel-collector*.yaml     YAML parse + every pipeline component is defined
#   directory with Chart.yaml  helm lint + helm template (values: the chart's ci/*.yaml), then the rendered
#                            manifests as below, once per Kubernetes version in MICROCRED_KUBE_VERSIONS
#   other *.yaml|yml         kubernetes-validate --strict (bundled schemas, one run per Kubernetes version) and
#                            a check of every document: Strimzi resources (kafka.strimzi.io) against
#                            deploy/k8s/strimzi/strimzi-subset.schema.json, any other unknown kind is an ERROR
#                            (kubernetes-validate alone only warns, so a typo in apiVersion would pass)
#   other directory          every chart and *.yaml|yml file below it
#
# Exits 1 if anything is invalid, 2 if a tool cannot be had. Installs what it needs when missing:
# docker-compose via apt-get (as root), check-jsonschema and kubernetes-validate into .venv (with
# constraints.txt), helm via `go install` into ${MICROCRED_CACHE:-~/.cache/microcred}/tools.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MICROCRED_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
CHECK_JSONSCHEMA_VERSION=0.39.0
KUBERNETES_VALIDATE_VERSION=1.37.0
HELM_VERSION=v3.22.0
KUBE_VERSIONS="${MICROCRED_KUBE_VERSIONS:-1.27.0 1.37.0}"
STRIMZI_SCHEMA="$ROOT/deploy/k8s/strimzi/strimzi-subset.schema.json"
TOOLS="${MICROCRED_CACHE:-$HOME/.cache/microcred}/tools"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*"; }
die() { echo "validate-deploy: $*" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------- tools
ensure_docker_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "docker-compose is missing: apt-get install docker-compose (needs root)"
    echo "installing docker-compose (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq docker-compose >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq docker-compose >/dev/null 2>&1; } \
        || die "could not install docker-compose with apt-get"
}

ensure_python_tools() {
    if [ ! -x "$PY" ]; then
        echo "creating $VENV"
        python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV" || die "cannot create $VENV"
    fi
    if ! "$PY" - "$CHECK_JSONSCHEMA_VERSION" "$KUBERNETES_VALIDATE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("check-jsonschema"), version("kubernetes-validate")) == tuple(sys.argv[1:3]) else 1)
PY
    then
        echo "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $VENV"
        "$PY" -m pip install -q -c "$ROOT/constraints.txt" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
            "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" || die "pip install failed"
    fi
}

HELM=""
ensure_helm() {
    [ -n "$HELM" ] && return 0
    if [ -n "${MICROCRED_HELM:-}" ]; then HELM="$MICROCRED_HELM"
    elif command -v helm >/dev/null 2>&1; then HELM="$(command -v helm)"
    elif [ -x "$TOOLS/helm-$HELM_VERSION/helm" ]; then HELM="$TOOLS/helm-$HELM_VERSION/helm"
    else
        command -v go >/dev/null 2>&1 || die "helm is missing and Go is not installed to build it (set MICROCRED_HELM)"
        echo "building helm $HELM_VERSION with 'go install' (a few minutes, once) into $TOOLS/helm-$HELM_VERSION"
        mkdir -p "$TOOLS/helm-$HELM_VERSION"
        GOBIN="$TOOLS/helm-$HELM_VERSION" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >/dev/null \
            || die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed"
        HELM="$TOOLS/helm-$HELM_VERSION/helm"
    fi
    "$HELM" version --short >/dev/null 2>&1 || die "$HELM does not run"
}

# ---------------------------------------------------------------------------------------------- checks
check_compose() {
    local file="$1" dir out
    dir="$(dirname "$file")"
    # ${MICROCRED_KEK:?...} and ${MICROCRED_PRIVACY_KEK:?...} must be set for interpolation; dummies will do.
    if out="$(cd "$dir" && MICROCRED_KEK="${MICROCRED_KEK:-dmFsaWRhdGlvbi1vbmx5LW5vdC1hLXJlYWwta2V5ISE=}" \
            MICROCRED_PRIVACY_KEK="${MICROCRED_PRIVACY_KEK:-dmFsaWRhdGlvbi1vbmx5LW5vdC1hLXJlYWwta2V5ISE=}" \
            docker-compose -f "$file" config -q 2>&1)"; then
        ok "$file: docker-compose $(docker-compose version --short 2>/dev/null) config"
    else
        bad "$file: docker-compose config: $out"
    fi
    if out="$("$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$file" 2>&1)"; then
        ok "$file: check-jsonschema $CHECK_JSONSCHEMA_VERSION compose-spec"
    else
        bad "$file: check-jsonschema compose-spec: $out"
    fi
}

check_otel() {
    local file="$1" out
    if out="$("$PY" - "$file" 2>&1 <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
errors = []
service = cfg.get("service") or {}
for ext in service.get("extensions", []):
    if ext not in (cfg.get("extensions") or {}):
        errors.append(f"extension {ext} is not defined")
for name, pipe in (service.get("pipelines") or {}).items():
    for section in ("receivers", "processors", "exporters"):
        for comp in pipe.get(section, []):
            if comp not in (cfg.get(section) or {}):
                errors.append(f"pipeline {name}: {section[:-1]} {comp} is not defined")
    if not pipe.get("receivers") or not pipe.get("exporters"):
        errors.append(f"pipeline {name} needs receivers and exporters")
if not service.get("pipelines"):
    errors.append("no pipelines")
print("; ".join(errors))
sys.exit(1 if errors else 0)
PY
    )"; then ok "$file: collector pipelines"; else bad "$file: $out"; fi
}

# Every document: Strimzi kinds against the subset schema, any other kind must be known to kubernetes-validate.
check_documents() {
    local version="$1"; shift
    "$PY" - "$STRIMZI_SCHEMA" "$version" "$@" <<'PY'
import json, sys
import jsonschema, yaml
from kubernetes_validate import utils as kv

schema_path, version, files = sys.argv[1], sys.argv[2], sys.argv[3:]
strimzi = jsonschema.Draft202012Validator(json.load(open(schema_path)))
rc, seen = 0, {}
for path in files:
    try:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as exc:
        print(f"ERROR {path}: not YAML: {exc}"); rc = 1; continue
    for doc in docs:
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            print(f"ERROR {path}: a document without apiVersion/kind"); rc = 1; continue
        name = (doc.get("metadata") or {}).get("name", "?")
        ident = f"{doc['kind']}/{name}"
        if ident in seen:
            print(f"ERROR {path}: {ident} is defined twice (also in {seen[ident]})"); rc = 1
        seen[ident] = path
        if str(doc["apiVersion"]).startswith("kafka.strimzi.io/"):
            for err in sorted(strimzi.iter_errors(doc), key=lambda e: list(e.path)):
                where = ".".join(str(p) for p in err.path) or "(document)"
                print(f"ERROR {path}: {ident}: {where}: {err.message}"); rc = 1
            continue
        try:
            kv.validate(doc, version, strict=True)
        except kv.SchemaNotFoundError:
            print(f"ERROR {path}: {ident}: no Kubernetes {version} schema for {doc['apiVersion']} {doc['kind']}")
            rc = 1
        except kv.ValidationError:
            pass  # reported by the kubernetes-validate run
sys.exit(rc)
PY
}

check_manifests() {
    local label="$1"; shift
    local version out
    for version in $KUBE_VERSIONS; do
        if out="$("$VENV/bin/kubernetes-validate" --strict --quiet --no-warn -k "$version" "$@" 2>&1)"; then
            ok "$label: kubernetes-validate $KUBERNETES_VALIDATE_VERSION --strict (Kubernetes $version)"
        else
            bad "$label: kubernetes-validate --strict (Kubernetes $version):"$'\n'"$out"
        fi
        if out="$(check_documents "$version" "$@" 2>&1)"; then
            ok "$label: kinds known, Strimzi subset schema, no duplicates (Kubernetes $version)"
        else
            bad "$label: document check (Kubernetes $version):"$'\n'"$out"
        fi
    done
}

check_chart() {
    local chart="$1" out version rendered values=()
    ensure_helm
    local f
    for f in "$chart"/ci/*.yaml; do [ -e "$f" ] && values+=(-f "$f"); done
    local first="${KUBE_VERSIONS%% *}"
    if out="$("$HELM" lint --strict "$chart" "${values[@]}" --kube-version "$first" 2>&1)"; then
        ok "$chart: helm lint --strict ($("$HELM" version --short 2>/dev/null))"
    else
        bad "$chart: helm lint:"$'\n'"$out"
    fi
    rendered="$(mktemp -d)"
    for version in $KUBE_VERSIONS; do
        if "$HELM" template microcred "$chart" "${values[@]}" --namespace microcred --kube-version "$version" \
                >"$rendered/rendered-$version.yaml" 2>"$rendered/err"; then
            ok "$chart: helm template (Kubernetes $version)"
            KUBE_VERSIONS="$version" check_manifests "$chart (rendered)" "$rendered/rendered-$version.yaml"
        else
            bad "$chart: helm template (Kubernetes $version): $(cat "$rendered/err")"
        fi
    done
    rm -rf "$rendered"
}

check_path() {
    local path="$1"
    if [ -d "$path" ]; then
        if [ -f "$path/Chart.yaml" ]; then check_chart "$path"; return; fi
        local manifests=() sub
        while IFS= read -r -d '' sub; do
            check_chart "$(dirname "$sub")"
        done < <(find "$path" -name Chart.yaml -print0 | sort -z)
        while IFS= read -r -d '' sub; do
            manifests+=("$sub")
        done < <(find "$path" \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
        local m filtered=()
        for m in "${manifests[@]}"; do
            # skip files that belong to a chart (templates, values, ci values)
            local d; d="$(dirname "$m")"; local in_chart=""
            while [ "$d" != "/" ] && [ "${#d}" -ge "${#path}" ]; do
                [ -f "$d/Chart.yaml" ] && { in_chart=1; break; }
                d="$(dirname "$d")"
            done
            [ -z "$in_chart" ] && filtered+=("$m")
        done
        # Compose and collector files on their own; all other manifests of the directory together, so that
        # a resource defined twice across files is caught.
        local plain=()
        for m in "${filtered[@]}"; do
            case "$(basename "$m")" in
                *compose*.yml|*compose*.yaml|otel-collector*.yaml|otel-collector*.yml) check_path "$m" ;;
                *) plain+=("$m") ;;
            esac
        done
        [ "${#plain[@]}" -gt 0 ] && check_manifests "$path (${#plain[@]} files)" "${plain[@]}"
        return
    fi
    [ -f "$path" ] || { bad "$path: no such file"; return; }
    case "$(basename "$path")" in
        *compose*.yml|*compose*.yaml) ensure_docker_compose; check_compose "$path" ;;
        otel-collector*.yaml|otel-collector*.yml) check_otel "$path" ;;
        *.yaml|*.yml) check_manifests "$path" "$path" ;;
        *) bad "$path: not a YAML file" ;;
    esac
}

# ---------------------------------------------------------------------------------------------- main
ensure_python_tools
if [ "$#" -eq 0 ]; then
    set -- "$ROOT/docker-compose.yml" "$ROOT/deploy/otel-collector.yaml" "$ROOT/deploy/k8s"
fi
for p in "$@"; do
    case "$p" in /*) ;; *) p="$PWD/$p" ;; esac
    echo "== $p"
    check_path "$p"
done
echo "validate-deploy: $passed checks ok, $failed checks failed"
[ "$failed" -eq 0 ]
