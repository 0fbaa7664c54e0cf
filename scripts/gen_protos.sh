#!/usr/bin/env bash
# The one protobuf code generator for microcred.
#
#   scripts/gen_protos.sh          regenerate microcred/gen from proto/microcred/v1/*.proto
#   scripts/gen_protos.sh --check  regenerate into a temp dir; exit 1 if microcred/gen is stale
#
# Generates <name>_pb2.py, <name>_pb2.pyi (protoc --pyi_out) and, for files that declare a service,
# <name>_pb2_grpc.py plus typed <name>_pb2_grpc.pyi (mypy-protobuf's protoc-gen-mypy_grpc) into
# microcred/gen/microcred/v1/. Generated imports `from microcred.v1 import x_pb2` are rewritten to
# `from microcred.gen.microcred.v1 import x_pb2`, because `microcred` is our own top-level package.
#
# Environment: PYTHON (default: <repo>/.venv/bin/python) is the interpreter with grpcio-tools,
# googleapis-common-protos and mypy-protobuf installed.
set -euo pipefail
export LC_ALL=C # deterministic glob order and tool output

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
PROTO_DIR="$ROOT/proto"
GEN_DIR="$ROOT/microcred/gen"
PKG_REL="microcred/v1"

usage() {
    echo "usage: $0 [--check]" >&2
    exit 2
}

CHECK=0
case "${1:-}" in
    "") ;;
    --check) CHECK=1 ;;
    -h | --help) usage ;;
    *) usage ;;
esac

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "gen_protos: python interpreter not found: $PYTHON (set \$PYTHON)" >&2
    exit 2
fi
if [[ "$PYTHON" == */* ]]; then
    # Make a relative path absolute (we cd below); keep symlinks so a venv interpreter stays a venv one.
    PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"
fi

# Include paths: the well-known types shipped with grpc_tools, and the googleapis protos
# (google/rpc/*.proto, google/type/*.proto) shipped with googleapis-common-protos.
WKT_INCLUDE="$("$PYTHON" -c 'import os, grpc_tools; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"
GOOGLEAPIS_INCLUDE="$("$PYTHON" -c 'import os, google.rpc.error_details_pb2 as m; print(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(m.__file__)))))')"
# protoc-gen-mypy_grpc is installed next to the interpreter.
PLUGIN_DIR="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")"
if [[ ! -x "$PLUGIN_DIR/protoc-gen-mypy_grpc" ]]; then
    echo "gen_protos: protoc-gen-mypy_grpc not found in $PLUGIN_DIR (install mypy-protobuf)" >&2
    exit 2
fi

# generate OUT_DIR: writes the complete microcred/gen tree into OUT_DIR.
generate() {
    local out="$1"
    local protos=() f
    for f in "$PROTO_DIR/$PKG_REL"/*.proto; do
        [[ -e "$f" ]] && protos+=("${f#"$PROTO_DIR"/}")
    done
    if [[ ${#protos[@]} -eq 0 ]]; then
        echo "gen_protos: no .proto files under $PROTO_DIR/$PKG_REL" >&2
        exit 2
    fi
    mkdir -p "$out/$PKG_REL"
    (
        cd "$PROTO_DIR"
        PATH="$PLUGIN_DIR:$PATH" "$PYTHON" -m grpc_tools.protoc \
            -I . -I "$WKT_INCLUDE" -I "$GOOGLEAPIS_INCLUDE" \
            --python_out="$out" --pyi_out="$out" \
            --grpc_python_out="$out" --mypy_grpc_out=quiet:"$out" \
            "${protos[@]}"
    )
    # gRPC stubs only for files that declare a service.
    for f in "${protos[@]}"; do
        local base="${f%.proto}"
        if ! grep -Eq '^[[:space:]]*service[[:space:]]' "$PROTO_DIR/$f"; then
            rm -f "$out/${base}_pb2_grpc.py" "$out/${base}_pb2_grpc.pyi"
        fi
    done
    # Rewrite imports of our own generated modules (never touches the serialized descriptors).
    local py
    for py in "$out/$PKG_REL"/*.py "$out/$PKG_REL"/*.pyi; do
        sed -i -E \
            -e 's/^from microcred\.v1 import /from microcred.gen.microcred.v1 import /' \
            -e 's/^import microcred\.v1\./import microcred.gen.microcred.v1./' \
            -e "s/BuildTopDescriptorsAndMessages\\(DESCRIPTOR, 'microcred\\.v1\\./BuildTopDescriptorsAndMessages(DESCRIPTOR, 'microcred.gen.microcred.v1./" \
            "$py"
    done
    local init_doc='"""Generated protobuf code (scripts/gen_protos.sh). Do not edit."""'
    echo "$init_doc" >"$out/__init__.py"
    echo "$init_doc" >"$out/microcred/__init__.py"
    echo "$init_doc" >"$out/$PKG_REL/__init__.py"
}

if [[ $CHECK -eq 1 ]]; then
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    generate "$TMP/gen"
    if ! diff -r -q -x __pycache__ "$TMP/gen" "$GEN_DIR" >"$TMP/diff.txt" 2>&1; then
        echo "gen_protos --check: microcred/gen is stale; run scripts/gen_protos.sh and commit the result." >&2
        sed 's/^/  /' "$TMP/diff.txt" >&2
        exit 1
    fi
    echo "gen_protos --check: microcred/gen is up to date."
    exit 0
fi

# Generate next to the target, then swap, so a failed run never leaves a half-written tree.
STAGE="$(mktemp -d "$ROOT/microcred/.gen.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
generate "$STAGE/gen"
rm -rf "$GEN_DIR"
mv "$STAGE/gen" "$GEN_DIR"
echo "gen_protos: wrote $(find "$GEN_DIR" -type f | wc -l) files to microcred/gen"
