from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_PURPOSE_UNSPECIFIED: _ClassVar[StatusPurpose]
    STATUS_PURPOSE_REVOCATION: _ClassVar[StatusPurpose]
    STATUS_PURPOSE_SUSPENSION: _ClassVar[StatusPurpose]
STATUS_PURPOSE_UNSPECIFIED: StatusPurpose
STATUS_PURPOSE_REVOCATION: StatusPurpose
STATUS_PURPOSE_SUSPENSION: StatusPurpose

class StatusEntry(_message.Message):
    __slots__ = ("status_list_id", "status_list_index", "status_purpose", "status_list_credential")
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    status_list_id: str
    status_list_index: int
    status_purpose: StatusPurpose
    status_list_credential: str
    def __init__(self, status_list_id: _Optional[str] = ..., status_list_index: _Optional[int] = ..., status_purpose: _Optional[_Union[StatusPurpose, str]] = ..., status_list_credential: _Optional[str] = ...) -> None: ...

class StatusIndexBlock(_message.Message):
    __slots__ = ("status_list_id", "status_purpose", "status_list_credential", "indexes", "status_list_size")
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_SIZE_FIELD_NUMBER: _ClassVar[int]
    status_list_id: str
    status_purpose: StatusPurpose
    status_list_credential: str
    indexes: _containers.RepeatedScalarFieldContainer[int]
    status_list_size: int
    def __init__(self, status_list_id: _Optional[str] = ..., status_purpose: _Optional[_Union[StatusPurpose, str]] = ..., status_list_credential: _Optional[str] = ..., indexes: _Optional[_Iterable[int]] = ..., status_list_size: _Optional[int] = ...) -> None: ...
