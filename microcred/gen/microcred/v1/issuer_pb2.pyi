import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import code_pb2 as _code_pb2
from google.rpc import error_details_pb2 as _error_details_pb2
from microcred.gen.microcred.v1 import elements_pb2 as _elements_pb2
from microcred.gen.microcred.v1 import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IssuedCredential(_message.Message):
    __slots__ = ("credential_id", "credential_json", "status_entries", "issued_at", "already_issued")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_ISSUED_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    credential_json: str
    status_entries: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusEntry]
    issued_at: _timestamp_pb2.Timestamp
    already_issued: bool
    def __init__(self, credential_id: _Optional[str] = ..., credential_json: _Optional[str] = ..., status_entries: _Optional[_Iterable[_Union[_status_pb2.StatusEntry, _Mapping]]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., already_issued: _Optional[bool] = ...) -> None: ...

class IssueFailure(_message.Message):
    __slots__ = ("code", "message", "field_violations")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    code: _code_pb2.Code
    message: str
    field_violations: _containers.RepeatedCompositeFieldContainer[_error_details_pb2.BadRequest.FieldViolation]
    def __init__(self, code: _Optional[_Union[_code_pb2.Code, str]] = ..., message: _Optional[str] = ..., field_violations: _Optional[_Iterable[_Union[_error_details_pb2.BadRequest.FieldViolation, _Mapping]]] = ...) -> None: ...

class IssueCredentialRequest(_message.Message):
    __slots__ = ("idempotency_key", "credential")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    credential: _elements_pb2.MicroCredential
    def __init__(self, idempotency_key: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ...) -> None: ...

class IssueCredentialResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: IssuedCredential
    def __init__(self, credential: _Optional[_Union[IssuedCredential, _Mapping]] = ...) -> None: ...

class IssueCredentialsRequest(_message.Message):
    __slots__ = ("idempotency_key", "credential", "client_reference")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    credential: _elements_pb2.MicroCredential
    client_reference: str
    def __init__(self, idempotency_key: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., client_reference: _Optional[str] = ...) -> None: ...

class IssueCredentialsResponse(_message.Message):
    __slots__ = ("idempotency_key", "client_reference", "issued", "failure")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    client_reference: str
    issued: IssuedCredential
    failure: IssueFailure
    def __init__(self, idempotency_key: _Optional[str] = ..., client_reference: _Optional[str] = ..., issued: _Optional[_Union[IssuedCredential, _Mapping]] = ..., failure: _Optional[_Union[IssueFailure, _Mapping]] = ...) -> None: ...

class GetCredentialRequest(_message.Message):
    __slots__ = ("credential_id",)
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    def __init__(self, credential_id: _Optional[str] = ...) -> None: ...

class GetCredentialResponse(_message.Message):
    __slots__ = ("credential", "micro_credential", "issuer_id")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    MICRO_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    credential: IssuedCredential
    micro_credential: _elements_pb2.MicroCredential
    issuer_id: str
    def __init__(self, credential: _Optional[_Union[IssuedCredential, _Mapping]] = ..., micro_credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., issuer_id: _Optional[str] = ...) -> None: ...
