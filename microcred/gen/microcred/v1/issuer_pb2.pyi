import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import code_pb2 as _code_pb2
from google.rpc import error_details_pb2 as _error_details_pb2
from microcred.gen.microcred.v1 import elements_pb2 as _elements_pb2
from microcred.gen.microcred.v1 import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CredentialFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDENTIAL_FORMAT_UNSPECIFIED: _ClassVar[CredentialFormat]
    CREDENTIAL_FORMAT_DATA_INTEGRITY: _ClassVar[CredentialFormat]
    CREDENTIAL_FORMAT_SD_JWT_VC: _ClassVar[CredentialFormat]
    CREDENTIAL_FORMAT_EDC: _ClassVar[CredentialFormat]

class OfferState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OFFER_STATE_UNSPECIFIED: _ClassVar[OfferState]
    OFFER_STATE_OPEN: _ClassVar[OfferState]
    OFFER_STATE_REDEEMED: _ClassVar[OfferState]
    OFFER_STATE_EXPIRED: _ClassVar[OfferState]
    OFFER_STATE_WITHDRAWN: _ClassVar[OfferState]
CREDENTIAL_FORMAT_UNSPECIFIED: CredentialFormat
CREDENTIAL_FORMAT_DATA_INTEGRITY: CredentialFormat
CREDENTIAL_FORMAT_SD_JWT_VC: CredentialFormat
CREDENTIAL_FORMAT_EDC: CredentialFormat
OFFER_STATE_UNSPECIFIED: OfferState
OFFER_STATE_OPEN: OfferState
OFFER_STATE_REDEEMED: OfferState
OFFER_STATE_EXPIRED: OfferState
OFFER_STATE_WITHDRAWN: OfferState

class IssuedCredential(_message.Message):
    __slots__ = ("credential_id", "credential_json", "status_entries", "issued_at", "already_issued", "replaces", "sd_jwt_vc", "edc_jsonld")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_ISSUED_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    SD_JWT_VC_FIELD_NUMBER: _ClassVar[int]
    EDC_JSONLD_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    credential_json: str
    status_entries: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusEntry]
    issued_at: _timestamp_pb2.Timestamp
    already_issued: bool
    replaces: str
    sd_jwt_vc: str
    edc_jsonld: str
    def __init__(self, credential_id: _Optional[str] = ..., credential_json: _Optional[str] = ..., status_entries: _Optional[_Iterable[_Union[_status_pb2.StatusEntry, _Mapping]]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., already_issued: _Optional[bool] = ..., replaces: _Optional[str] = ..., sd_jwt_vc: _Optional[str] = ..., edc_jsonld: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("idempotency_key", "credential", "formats", "holder_jwk_json")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    HOLDER_JWK_JSON_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    credential: _elements_pb2.MicroCredential
    formats: _containers.RepeatedScalarFieldContainer[CredentialFormat]
    holder_jwk_json: str
    def __init__(self, idempotency_key: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., formats: _Optional[_Iterable[_Union[CredentialFormat, str]]] = ..., holder_jwk_json: _Optional[str] = ...) -> None: ...

class IssueCredentialResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: IssuedCredential
    def __init__(self, credential: _Optional[_Union[IssuedCredential, _Mapping]] = ...) -> None: ...

class IssueCredentialsRequest(_message.Message):
    __slots__ = ("idempotency_key", "credential", "client_reference", "formats", "holder_jwk_json")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    HOLDER_JWK_JSON_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    credential: _elements_pb2.MicroCredential
    client_reference: str
    formats: _containers.RepeatedScalarFieldContainer[CredentialFormat]
    holder_jwk_json: str
    def __init__(self, idempotency_key: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., client_reference: _Optional[str] = ..., formats: _Optional[_Iterable[_Union[CredentialFormat, str]]] = ..., holder_jwk_json: _Optional[str] = ...) -> None: ...

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

class CorrectCredentialRequest(_message.Message):
    __slots__ = ("credential_id", "credential", "reason")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    credential: _elements_pb2.MicroCredential
    reason: str
    def __init__(self, credential_id: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CorrectCredentialResponse(_message.Message):
    __slots__ = ("credential", "superseded_credential_id", "already_corrected")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CORRECTED_FIELD_NUMBER: _ClassVar[int]
    credential: IssuedCredential
    superseded_credential_id: str
    already_corrected: bool
    def __init__(self, credential: _Optional[_Union[IssuedCredential, _Mapping]] = ..., superseded_credential_id: _Optional[str] = ..., already_corrected: _Optional[bool] = ...) -> None: ...

class ListCredentialsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "issued_since", "issued_before")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ISSUED_SINCE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    issued_since: _timestamp_pb2.Timestamp
    issued_before: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., issued_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CredentialSummary(_message.Message):
    __slots__ = ("credential_id", "issued_at", "title", "replaces")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issued_at: _timestamp_pb2.Timestamp
    title: str
    replaces: str
    def __init__(self, credential_id: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., title: _Optional[str] = ..., replaces: _Optional[str] = ...) -> None: ...

class ListCredentialsResponse(_message.Message):
    __slots__ = ("credentials", "next_page_token")
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    credentials: _containers.RepeatedCompositeFieldContainer[CredentialSummary]
    next_page_token: str
    def __init__(self, credentials: _Optional[_Iterable[_Union[CredentialSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateOffersRequest(_message.Message):
    __slots__ = ("credentials", "tx_code", "expires_in_seconds", "not_before", "references")
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    TX_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    credentials: _containers.RepeatedCompositeFieldContainer[_elements_pb2.MicroCredential]
    tx_code: bool
    expires_in_seconds: int
    not_before: _timestamp_pb2.Timestamp
    references: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, credentials: _Optional[_Iterable[_Union[_elements_pb2.MicroCredential, _Mapping]]] = ..., tx_code: _Optional[bool] = ..., expires_in_seconds: _Optional[int] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., references: _Optional[_Iterable[str]] = ...) -> None: ...

class CredentialOffer(_message.Message):
    __slots__ = ("offer_id", "credential_offer_uri", "link", "tx_code", "expires_in_seconds")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_OFFER_URI_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    TX_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    credential_offer_uri: str
    link: str
    tx_code: str
    expires_in_seconds: int
    def __init__(self, offer_id: _Optional[str] = ..., credential_offer_uri: _Optional[str] = ..., link: _Optional[str] = ..., tx_code: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class CreateOffersResponse(_message.Message):
    __slots__ = ("offers",)
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[CredentialOffer]
    def __init__(self, offers: _Optional[_Iterable[_Union[CredentialOffer, _Mapping]]] = ...) -> None: ...

class ListOffersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "since")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: OfferState
    since: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[OfferState, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OfferSummary(_message.Message):
    __slots__ = ("offer_id", "state", "created_at", "expires_at", "reference", "credential_offer_uri", "link", "tx_code_required", "withdrawal_reason")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_OFFER_URI_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    TX_CODE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_REASON_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    state: OfferState
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    reference: str
    credential_offer_uri: str
    link: str
    tx_code_required: bool
    withdrawal_reason: str
    def __init__(self, offer_id: _Optional[str] = ..., state: _Optional[_Union[OfferState, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reference: _Optional[str] = ..., credential_offer_uri: _Optional[str] = ..., link: _Optional[str] = ..., tx_code_required: _Optional[bool] = ..., withdrawal_reason: _Optional[str] = ...) -> None: ...

class ListOffersResponse(_message.Message):
    __slots__ = ("offers", "next_page_token")
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[OfferSummary]
    next_page_token: str
    def __init__(self, offers: _Optional[_Iterable[_Union[OfferSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
