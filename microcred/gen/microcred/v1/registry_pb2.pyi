import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from microcred.gen.microcred.v1 import elements_pb2 as _elements_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccreditationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCREDITATION_STATUS_UNSPECIFIED: _ClassVar[AccreditationStatus]
    ACCREDITATION_STATUS_ACTIVE: _ClassVar[AccreditationStatus]
    ACCREDITATION_STATUS_SUSPENDED: _ClassVar[AccreditationStatus]
    ACCREDITATION_STATUS_WITHDRAWN: _ClassVar[AccreditationStatus]
ACCREDITATION_STATUS_UNSPECIFIED: AccreditationStatus
ACCREDITATION_STATUS_ACTIVE: AccreditationStatus
ACCREDITATION_STATUS_SUSPENDED: AccreditationStatus
ACCREDITATION_STATUS_WITHDRAWN: AccreditationStatus

class Agency(_message.Message):
    __slots__ = ("agency_id", "organisation")
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    agency_id: str
    organisation: _elements_pb2.Organisation
    def __init__(self, agency_id: _Optional[str] = ..., organisation: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ...) -> None: ...

class VerificationMethod(_message.Message):
    __slots__ = ("id", "public_key_multibase", "created_at", "retired_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_MULTIBASE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    public_key_multibase: str
    created_at: _timestamp_pb2.Timestamp
    retired_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., public_key_multibase: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Accreditation(_message.Message):
    __slots__ = ("accreditation_id", "type", "framework", "accrediting_body", "max_eqf_level", "valid_from", "valid_until", "decision_reference", "status")
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    ACCREDITING_BODY_FIELD_NUMBER: _ClassVar[int]
    MAX_EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DECISION_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    accreditation_id: str
    type: _elements_pb2.AccreditationType
    framework: str
    accrediting_body: _elements_pb2.Organisation
    max_eqf_level: _elements_pb2.EqfLevel
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    decision_reference: str
    status: AccreditationStatus
    def __init__(self, accreditation_id: _Optional[str] = ..., type: _Optional[_Union[_elements_pb2.AccreditationType, str]] = ..., framework: _Optional[str] = ..., accrediting_body: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ..., max_eqf_level: _Optional[_Union[_elements_pb2.EqfLevel, str]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision_reference: _Optional[str] = ..., status: _Optional[_Union[AccreditationStatus, str]] = ...) -> None: ...

class Issuer(_message.Message):
    __slots__ = ("issuer_id", "agency_id", "organisation", "did", "verification_methods", "accreditations", "client_certificate_sha256")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    DID_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_METHODS_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATIONS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CERTIFICATE_SHA256_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    agency_id: str
    organisation: _elements_pb2.Organisation
    did: str
    verification_methods: _containers.RepeatedCompositeFieldContainer[VerificationMethod]
    accreditations: _containers.RepeatedCompositeFieldContainer[Accreditation]
    client_certificate_sha256: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, issuer_id: _Optional[str] = ..., agency_id: _Optional[str] = ..., organisation: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ..., did: _Optional[str] = ..., verification_methods: _Optional[_Iterable[_Union[VerificationMethod, _Mapping]]] = ..., accreditations: _Optional[_Iterable[_Union[Accreditation, _Mapping]]] = ..., client_certificate_sha256: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterAgencyRequest(_message.Message):
    __slots__ = ("agency_id", "organisation")
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    agency_id: str
    organisation: _elements_pb2.Organisation
    def __init__(self, agency_id: _Optional[str] = ..., organisation: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ...) -> None: ...

class RegisterAgencyResponse(_message.Message):
    __slots__ = ("agency",)
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...

class RegisterIssuerRequest(_message.Message):
    __slots__ = ("issuer_id", "agency_id", "organisation", "did", "verification_method_id", "public_key_multibase", "client_certificate_sha256", "logo", "logo_media_type")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    DID_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_MULTIBASE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CERTIFICATE_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOGO_FIELD_NUMBER: _ClassVar[int]
    LOGO_MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    agency_id: str
    organisation: _elements_pb2.Organisation
    did: str
    verification_method_id: str
    public_key_multibase: str
    client_certificate_sha256: _containers.RepeatedScalarFieldContainer[str]
    logo: bytes
    logo_media_type: str
    def __init__(self, issuer_id: _Optional[str] = ..., agency_id: _Optional[str] = ..., organisation: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ..., did: _Optional[str] = ..., verification_method_id: _Optional[str] = ..., public_key_multibase: _Optional[str] = ..., client_certificate_sha256: _Optional[_Iterable[str]] = ..., logo: _Optional[bytes] = ..., logo_media_type: _Optional[str] = ...) -> None: ...

class RegisterIssuerResponse(_message.Message):
    __slots__ = ("issuer",)
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    issuer: Issuer
    def __init__(self, issuer: _Optional[_Union[Issuer, _Mapping]] = ...) -> None: ...

class AccreditIssuerRequest(_message.Message):
    __slots__ = ("issuer_id", "accreditation")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation: Accreditation
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation: _Optional[_Union[Accreditation, _Mapping]] = ...) -> None: ...

class AccreditIssuerResponse(_message.Message):
    __slots__ = ("accreditation",)
    ACCREDITATION_FIELD_NUMBER: _ClassVar[int]
    accreditation: Accreditation
    def __init__(self, accreditation: _Optional[_Union[Accreditation, _Mapping]] = ...) -> None: ...

class SuspendAccreditationRequest(_message.Message):
    __slots__ = ("issuer_id", "accreditation_id", "reason")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation_id: str
    reason: str
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendAccreditationResponse(_message.Message):
    __slots__ = ("accreditation",)
    ACCREDITATION_FIELD_NUMBER: _ClassVar[int]
    accreditation: Accreditation
    def __init__(self, accreditation: _Optional[_Union[Accreditation, _Mapping]] = ...) -> None: ...

class WithdrawAccreditationRequest(_message.Message):
    __slots__ = ("issuer_id", "accreditation_id", "reason")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation_id: str
    reason: str
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawAccreditationResponse(_message.Message):
    __slots__ = ("accreditation",)
    ACCREDITATION_FIELD_NUMBER: _ClassVar[int]
    accreditation: Accreditation
    def __init__(self, accreditation: _Optional[_Union[Accreditation, _Mapping]] = ...) -> None: ...

class RotateIssuerKeyRequest(_message.Message):
    __slots__ = ("issuer_id", "new_verification_method_id", "new_public_key_multibase", "retired_verification_method_id", "retire_at")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_MULTIBASE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    RETIRE_AT_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    new_verification_method_id: str
    new_public_key_multibase: str
    retired_verification_method_id: str
    retire_at: _timestamp_pb2.Timestamp
    def __init__(self, issuer_id: _Optional[str] = ..., new_verification_method_id: _Optional[str] = ..., new_public_key_multibase: _Optional[str] = ..., retired_verification_method_id: _Optional[str] = ..., retire_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RotateIssuerKeyResponse(_message.Message):
    __slots__ = ("issuer",)
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    issuer: Issuer
    def __init__(self, issuer: _Optional[_Union[Issuer, _Mapping]] = ...) -> None: ...

class GetIssuerRequest(_message.Message):
    __slots__ = ("issuer_id",)
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    def __init__(self, issuer_id: _Optional[str] = ...) -> None: ...

class GetIssuerResponse(_message.Message):
    __slots__ = ("issuer",)
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    issuer: Issuer
    def __init__(self, issuer: _Optional[_Union[Issuer, _Mapping]] = ...) -> None: ...

class ListIssuersRequest(_message.Message):
    __slots__ = ("agency_id", "page_size", "page_token")
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agency_id: str
    page_size: int
    page_token: str
    def __init__(self, agency_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIssuersResponse(_message.Message):
    __slots__ = ("issuers", "next_page_token")
    ISSUERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    issuers: _containers.RepeatedCompositeFieldContainer[Issuer]
    next_page_token: str
    def __init__(self, issuers: _Optional[_Iterable[_Union[Issuer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAgenciesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAgenciesResponse(_message.Message):
    __slots__ = ("agencies", "next_page_token")
    AGENCIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agencies: _containers.RepeatedCompositeFieldContainer[Agency]
    next_page_token: str
    def __init__(self, agencies: _Optional[_Iterable[_Union[Agency, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RetireIssuerKeyRequest(_message.Message):
    __slots__ = ("issuer_id", "verification_method_id", "retire_at")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    RETIRE_AT_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    verification_method_id: str
    retire_at: _timestamp_pb2.Timestamp
    def __init__(self, issuer_id: _Optional[str] = ..., verification_method_id: _Optional[str] = ..., retire_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RetireIssuerKeyResponse(_message.Message):
    __slots__ = ("issuer",)
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    issuer: Issuer
    def __init__(self, issuer: _Optional[_Union[Issuer, _Mapping]] = ...) -> None: ...
