"""Lint of proto/microcred/v1 in the spirit of `buf lint` (DEFAULT + COMMENTS), from descriptors.

The protos are compiled with source info (comments) by grpc_tools.protoc into a FileDescriptorSet;
the rules below are checked on it:

* package ``microcred.v1`` in directory ``microcred/v1``; services end in ``Service``;
* RPCs are VerbNoun; each takes ``<Rpc>Request`` and returns ``<Rpc>Response`` (used by no other RPC);
* enum zero values are ``<ENUM_NAME>_UNSPECIFIED`` and every value carries the ``<ENUM_NAME>_`` prefix;
* messages are PascalCase, fields lower_snake_case;
* every message, enum, service and RPC has a leading comment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import grpc_tools  # type: ignore[import-untyped, unused-ignore]
import pytest
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_tools import protoc  # type: ignore[import-untyped, unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
PACKAGE = "microcred.v1"

VERBS = (
    "Accredit|Batch|Check|Complete|Correct|Create|Delete|Get|Issue|List|Publish|Register|Reinstate|Reserve"
    "|Retire|Revoke|Rotate|Search|Supersede|Suspend|Update|Verify|Withdraw"
)
VERB_NOUN = re.compile(rf"^(?:{VERBS})(?:[A-Z][a-z0-9]+)+$")
PASCAL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

# FileDescriptorProto / DescriptorProto / ServiceDescriptorProto field numbers used in source-info paths.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_NESTED, MESSAGE_ENUM = 3, 4
SERVICE_METHOD = 2


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[descriptor_pb2.FileDescriptorProto]:
    out = tmp_path_factory.mktemp("descriptors") / "set.pb"
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in (PROTO_DIR / "microcred" / "v1").glob("*.proto"))
    assert protos, "no .proto files found"
    googleapis = Path(error_details_pb2.__file__).resolve().parents[2]
    wkt = Path(os.path.dirname(grpc_tools.__file__)) / "_proto"
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{wkt}", f"-I{googleapis}", "--include_source_info"]
    assert protoc.main([*args, f"--descriptor_set_out={out}", *protos]) == 0
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return list(fds.file)


def _comments(f: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {tuple(loc.path): loc.leading_comments.strip() for loc in f.source_code_info.location}


def _messages(
    messages: list[descriptor_pb2.DescriptorProto], path: tuple[int, ...]
) -> Iterator[tuple[descriptor_pb2.DescriptorProto, tuple[int, ...]]]:
    for i, m in enumerate(messages):
        yield m, (*path, i)
        yield from _messages(list(m.nested_type), (*path, i, MESSAGE_NESTED))


def _enums(
    f: descriptor_pb2.FileDescriptorProto,
) -> Iterator[tuple[descriptor_pb2.EnumDescriptorProto, tuple[int, ...]]]:
    for i, e in enumerate(f.enum_type):
        yield e, (FILE_ENUM, i)
    for m, path in _messages(list(f.message_type), (FILE_MESSAGE,)):
        for i, e in enumerate(m.enum_type):
            yield e, (*path, MESSAGE_ENUM, i)


def test_package_and_layout(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    for f in files:
        assert f.package == PACKAGE, f.name
        assert f.name.startswith("microcred/v1/"), f.name
        assert f.syntax == "proto3", f.name


def test_rpcs_are_verb_noun_with_standard_messages(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    used: set[str] = set()
    for f in files:
        local = {m.name for m in f.message_type}
        for service in f.service:
            assert service.name.endswith("Service") and PASCAL.match(service.name), service.name
            for rpc in service.method:
                assert VERB_NOUN.match(rpc.name), f"{service.name}.{rpc.name} is not VerbNoun"
                request, response = f".{PACKAGE}.{rpc.name}Request", f".{PACKAGE}.{rpc.name}Response"
                assert rpc.input_type == request, f"{rpc.name} must take {rpc.name}Request"
                assert rpc.output_type == response, f"{rpc.name} must return {rpc.name}Response"
                assert {f"{rpc.name}Request", f"{rpc.name}Response"} <= local, (
                    f"{rpc.name}: define in {f.name}"
                )
                assert not {request, response} & used, f"{rpc.name}: request/response reused"
                used |= {request, response}


def test_request_response_names_belong_to_rpcs(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    rpc_names = {rpc.name for f in files for s in f.service for rpc in s.method}
    for f in files:
        for m in f.message_type:
            for suffix in ("Request", "Response"):
                if m.name.endswith(suffix):
                    assert m.name.removesuffix(suffix) in rpc_names, f"{m.name} is not the {suffix} of an RPC"


def test_enums_are_prefixed_with_unspecified_zero(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    for f in files:
        for enum, _ in _enums(f):
            prefix = _upper_snake(enum.name) + "_"
            assert enum.value[0].number == 0 and enum.value[0].name == prefix + "UNSPECIFIED", enum.name
            for value in enum.value:
                assert value.name.startswith(prefix), f"{enum.name}.{value.name} lacks prefix {prefix}"


def test_names_are_cased(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    for f in files:
        for message, _ in _messages(list(f.message_type), (FILE_MESSAGE,)):
            assert PASCAL.match(message.name), message.name
            for field in message.field:
                assert SNAKE.match(field.name), f"{message.name}.{field.name}"


def test_everything_is_commented(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    missing: list[str] = []
    for f in files:
        comments = _comments(f)
        for message, path in _messages(list(f.message_type), (FILE_MESSAGE,)):
            if not comments.get(path) and not message.options.map_entry:
                missing.append(f"{f.name}: message {message.name}")
        for enum, path in _enums(f):
            if not comments.get(path):
                missing.append(f"{f.name}: enum {enum.name}")
        for i, service in enumerate(f.service):
            if not comments.get((FILE_SERVICE, i)):
                missing.append(f"{f.name}: service {service.name}")
            for j, rpc in enumerate(service.method):
                if not comments.get((FILE_SERVICE, i, SERVICE_METHOD, j)):
                    missing.append(f"{f.name}: rpc {service.name}.{rpc.name}")
    assert missing == []
