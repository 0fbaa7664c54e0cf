import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import code_pb2 as _code_pb2
from microcred.gen.microcred.v1 import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CredentialStatus(_message.Message):
    __slots__ = ("credential_id", "issuer_id", "revoked", "suspended", "status_entries", "updated_at")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    SUSPENDED_FIELD_NUMBER: _ClassVar[int]
    STATUS_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issuer_id: str
    revoked: bool
    suspended: bool
    status_entries: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusEntry]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, credential_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., revoked: _Optional[bool] = ..., suspended: _Optional[bool] = ..., status_entries: _Optional[_Iterable[_Union[_status_pb2.StatusEntry, _Mapping]]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReserveStatusIndexesRequest(_message.Message):
    __slots__ = ("issuer_id", "status_purposes", "count")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_PURPOSES_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    status_purposes: _containers.RepeatedScalarFieldContainer[_status_pb2.StatusPurpose]
    count: int
    def __init__(self, issuer_id: _Optional[str] = ..., status_purposes: _Optional[_Iterable[_Union[_status_pb2.StatusPurpose, str]]] = ..., count: _Optional[int] = ...) -> None: ...

class ReserveStatusIndexesResponse(_message.Message):
    __slots__ = ("reservation_id", "blocks")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    blocks: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusIndexBlock]
    def __init__(self, reservation_id: _Optional[str] = ..., blocks: _Optional[_Iterable[_Union[_status_pb2.StatusIndexBlock, _Mapping]]] = ...) -> None: ...

class RevokeCredentialRequest(_message.Message):
    __slots__ = ("credential_id", "reason")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    reason: str
    def __init__(self, credential_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeCredentialResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CredentialStatus
    def __init__(self, status: _Optional[_Union[CredentialStatus, _Mapping]] = ...) -> None: ...

class SuspendCredentialRequest(_message.Message):
    __slots__ = ("credential_id", "reason")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    reason: str
    def __init__(self, credential_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendCredentialResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CredentialStatus
    def __init__(self, status: _Optional[_Union[CredentialStatus, _Mapping]] = ...) -> None: ...

class ReinstateCredentialRequest(_message.Message):
    __slots__ = ("credential_id", "reason")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    reason: str
    def __init__(self, credential_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReinstateCredentialResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CredentialStatus
    def __init__(self, status: _Optional[_Union[CredentialStatus, _Mapping]] = ...) -> None: ...

class GetCredentialStatusRequest(_message.Message):
    __slots__ = ("credential_id",)
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    def __init__(self, credential_id: _Optional[str] = ...) -> None: ...

class GetCredentialStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CredentialStatus
    def __init__(self, status: _Optional[_Union[CredentialStatus, _Mapping]] = ...) -> None: ...

class RevokeCredentialsItem(_message.Message):
    __slots__ = ("credential_id", "reason")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    reason: str
    def __init__(self, credential_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeCredentialsRequest(_message.Message):
    __slots__ = ("items", "reason")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[RevokeCredentialsItem]
    reason: str
    def __init__(self, items: _Optional[_Iterable[_Union[RevokeCredentialsItem, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeCredentialsResult(_message.Message):
    __slots__ = ("credential_id", "code", "message")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    code: _code_pb2.Code
    message: str
    def __init__(self, credential_id: _Optional[str] = ..., code: _Optional[_Union[_code_pb2.Code, str]] = ..., message: _Optional[str] = ...) -> None: ...

class RevokeCredentialsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RevokeCredentialsResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RevokeCredentialsResult, _Mapping]]] = ...) -> None: ...

class SuspendCredentialsRequest(_message.Message):
    __slots__ = ("items", "reason")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[RevokeCredentialsItem]
    reason: str
    def __init__(self, items: _Optional[_Iterable[_Union[RevokeCredentialsItem, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendCredentialsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RevokeCredentialsResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RevokeCredentialsResult, _Mapping]]] = ...) -> None: ...

class SupersedeCredentialRequest(_message.Message):
    __slots__ = ("credential_id", "superseded_by", "issuer_id", "actor")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    superseded_by: str
    issuer_id: str
    actor: str
    def __init__(self, credential_id: _Optional[str] = ..., superseded_by: _Optional[str] = ..., issuer_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class SupersedeCredentialResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CredentialStatus
    def __init__(self, status: _Optional[_Union[CredentialStatus, _Mapping]] = ...) -> None: ...
