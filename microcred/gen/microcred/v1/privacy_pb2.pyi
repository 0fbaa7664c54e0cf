from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LearnerRef(_message.Message):
    __slots__ = ("did", "email")
    DID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    did: str
    email: str
    def __init__(self, did: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class DeleteLearnerDataRequest(_message.Message):
    __slots__ = ("learner", "reason")
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    learner: LearnerRef
    reason: str
    def __init__(self, learner: _Optional[_Union[LearnerRef, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteLearnerDataResponse(_message.Message):
    __slots__ = ("learner_pseudonyms", "credential_ids", "key_destroyed")
    LEARNER_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    KEY_DESTROYED_FIELD_NUMBER: _ClassVar[int]
    learner_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    credential_ids: _containers.RepeatedScalarFieldContainer[str]
    key_destroyed: bool
    def __init__(self, learner_pseudonyms: _Optional[_Iterable[str]] = ..., credential_ids: _Optional[_Iterable[str]] = ..., key_destroyed: _Optional[bool] = ...) -> None: ...

class GetLearnerDataRequest(_message.Message):
    __slots__ = ("learner",)
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    learner: LearnerRef
    def __init__(self, learner: _Optional[_Union[LearnerRef, _Mapping]] = ...) -> None: ...

class GetLearnerDataResponse(_message.Message):
    __slots__ = ("learner_pseudonyms", "export_json")
    LEARNER_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    EXPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    learner_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    export_json: str
    def __init__(self, learner_pseudonyms: _Optional[_Iterable[str]] = ..., export_json: _Optional[str] = ...) -> None: ...
