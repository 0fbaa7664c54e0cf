import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from microcred.gen.microcred.v1 import elements_pb2 as _elements_pb2
from microcred.gen.microcred.v1 import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventEnvelope(_message.Message):
    __slots__ = ("event_id", "event_type", "schema_version", "occurred_at", "tenant", "issuer_id", "trace_context", "payload", "payload_type", "subject", "actor")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: _timestamp_pb2.Timestamp
    tenant: str
    issuer_id: str
    trace_context: _containers.ScalarMap[str, str]
    payload: bytes
    payload_type: str
    subject: str
    actor: str
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., schema_version: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ..., issuer_id: _Optional[str] = ..., trace_context: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ..., payload_type: _Optional[str] = ..., subject: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class CredentialIssued(_message.Message):
    __slots__ = ("credential_id", "issuer_id", "learner_did", "learner_hashed_id", "credential_json", "credential", "status_entries", "replaces", "correction_reason", "learner_pseudonym", "sealed_personal", "learner_tags", "sd_jwt_vc", "edc_jsonld")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_DID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_HASHED_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_JSON_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    SEALED_PERSONAL_FIELD_NUMBER: _ClassVar[int]
    LEARNER_TAGS_FIELD_NUMBER: _ClassVar[int]
    SD_JWT_VC_FIELD_NUMBER: _ClassVar[int]
    EDC_JSONLD_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issuer_id: str
    learner_did: str
    learner_hashed_id: _elements_pb2.HashedIdentifier
    credential_json: str
    credential: _elements_pb2.MicroCredential
    status_entries: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusEntry]
    replaces: str
    correction_reason: str
    learner_pseudonym: str
    sealed_personal: bytes
    learner_tags: _containers.RepeatedScalarFieldContainer[str]
    sd_jwt_vc: str
    edc_jsonld: str
    def __init__(self, credential_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., learner_did: _Optional[str] = ..., learner_hashed_id: _Optional[_Union[_elements_pb2.HashedIdentifier, _Mapping]] = ..., credential_json: _Optional[str] = ..., credential: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., status_entries: _Optional[_Iterable[_Union[_status_pb2.StatusEntry, _Mapping]]] = ..., replaces: _Optional[str] = ..., correction_reason: _Optional[str] = ..., learner_pseudonym: _Optional[str] = ..., sealed_personal: _Optional[bytes] = ..., learner_tags: _Optional[_Iterable[str]] = ..., sd_jwt_vc: _Optional[str] = ..., edc_jsonld: _Optional[str] = ...) -> None: ...

class LearnerErased(_message.Message):
    __slots__ = ("learner_pseudonym", "reason", "actor", "credential_ids")
    LEARNER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    learner_pseudonym: str
    reason: str
    actor: str
    credential_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, learner_pseudonym: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., credential_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CredentialRevoked(_message.Message):
    __slots__ = ("credential_id", "issuer_id", "actor", "reason", "status_list_id", "status_list_index", "superseded_by")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_INDEX_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issuer_id: str
    actor: str
    reason: str
    status_list_id: str
    status_list_index: int
    superseded_by: str
    def __init__(self, credential_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., status_list_id: _Optional[str] = ..., status_list_index: _Optional[int] = ..., superseded_by: _Optional[str] = ...) -> None: ...

class CredentialSuspended(_message.Message):
    __slots__ = ("credential_id", "issuer_id", "actor", "reason", "status_list_id", "status_list_index")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_INDEX_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issuer_id: str
    actor: str
    reason: str
    status_list_id: str
    status_list_index: int
    def __init__(self, credential_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., status_list_id: _Optional[str] = ..., status_list_index: _Optional[int] = ...) -> None: ...

class CredentialReinstated(_message.Message):
    __slots__ = ("credential_id", "issuer_id", "actor", "reason", "status_list_id", "status_list_index")
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_INDEX_FIELD_NUMBER: _ClassVar[int]
    credential_id: str
    issuer_id: str
    actor: str
    reason: str
    status_list_id: str
    status_list_index: int
    def __init__(self, credential_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., status_list_id: _Optional[str] = ..., status_list_index: _Optional[int] = ...) -> None: ...

class StatusListPublished(_message.Message):
    __slots__ = ("status_list_id", "issuer_id", "status_purpose", "status_list_credential", "version", "credential_json", "size")
    STATUS_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_LIST_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_JSON_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    status_list_id: str
    issuer_id: str
    status_purpose: _status_pb2.StatusPurpose
    status_list_credential: str
    version: int
    credential_json: str
    size: int
    def __init__(self, status_list_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., status_purpose: _Optional[_Union[_status_pb2.StatusPurpose, str]] = ..., status_list_credential: _Optional[str] = ..., version: _Optional[int] = ..., credential_json: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class AgencyRegistered(_message.Message):
    __slots__ = ("agency_id", "organisation")
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    agency_id: str
    organisation: _elements_pb2.Organisation
    def __init__(self, agency_id: _Optional[str] = ..., organisation: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ...) -> None: ...

class IssuerRegistered(_message.Message):
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

class IssuerAccredited(_message.Message):
    __slots__ = ("issuer_id", "accreditation_id", "type", "framework", "accrediting_body", "max_eqf_level", "valid_from", "valid_until", "decision_reference")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    ACCREDITING_BODY_FIELD_NUMBER: _ClassVar[int]
    MAX_EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DECISION_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation_id: str
    type: _elements_pb2.AccreditationType
    framework: str
    accrediting_body: _elements_pb2.Organisation
    max_eqf_level: _elements_pb2.EqfLevel
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    decision_reference: str
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation_id: _Optional[str] = ..., type: _Optional[_Union[_elements_pb2.AccreditationType, str]] = ..., framework: _Optional[str] = ..., accrediting_body: _Optional[_Union[_elements_pb2.Organisation, _Mapping]] = ..., max_eqf_level: _Optional[_Union[_elements_pb2.EqfLevel, str]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision_reference: _Optional[str] = ...) -> None: ...

class AccreditationSuspended(_message.Message):
    __slots__ = ("issuer_id", "accreditation_id", "actor", "reason")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation_id: str
    actor: str
    reason: str
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AccreditationWithdrawn(_message.Message):
    __slots__ = ("issuer_id", "accreditation_id", "actor", "reason")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCREDITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    accreditation_id: str
    actor: str
    reason: str
    def __init__(self, issuer_id: _Optional[str] = ..., accreditation_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IssuerKeyRotated(_message.Message):
    __slots__ = ("issuer_id", "new_verification_method_id", "new_public_key_multibase", "retired_verification_method_id", "retired_at")
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_MULTIBASE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_VERIFICATION_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    RETIRED_AT_FIELD_NUMBER: _ClassVar[int]
    issuer_id: str
    new_verification_method_id: str
    new_public_key_multibase: str
    retired_verification_method_id: str
    retired_at: _timestamp_pb2.Timestamp
    def __init__(self, issuer_id: _Optional[str] = ..., new_verification_method_id: _Optional[str] = ..., new_public_key_multibase: _Optional[str] = ..., retired_verification_method_id: _Optional[str] = ..., retired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PathwayPublished(_message.Message):
    __slots__ = ("pathway_id", "issuer_id", "title", "description", "required_achievement_ids", "min_total_ects", "min_eqf_level", "awarded_achievement_id", "accepted_issuer_ids")
    PATHWAY_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_ACHIEVEMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    MIN_TOTAL_ECTS_FIELD_NUMBER: _ClassVar[int]
    MIN_EQF_LEVEL_FIELD_NUMBER: _ClassVar[int]
    AWARDED_ACHIEVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_ISSUER_IDS_FIELD_NUMBER: _ClassVar[int]
    pathway_id: str
    issuer_id: str
    title: _elements_pb2.LangString
    description: _elements_pb2.LangString
    required_achievement_ids: _containers.RepeatedScalarFieldContainer[str]
    min_total_ects: str
    min_eqf_level: _elements_pb2.EqfLevel
    awarded_achievement_id: str
    accepted_issuer_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pathway_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., title: _Optional[_Union[_elements_pb2.LangString, _Mapping]] = ..., description: _Optional[_Union[_elements_pb2.LangString, _Mapping]] = ..., required_achievement_ids: _Optional[_Iterable[str]] = ..., min_total_ects: _Optional[str] = ..., min_eqf_level: _Optional[_Union[_elements_pb2.EqfLevel, str]] = ..., awarded_achievement_id: _Optional[str] = ..., accepted_issuer_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PathwayCompleted(_message.Message):
    __slots__ = ("pathway_id", "learner_id", "credential_ids", "total_ects", "learner_did", "learner_pseudonym", "sealed_personal")
    PATHWAY_ID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ECTS_FIELD_NUMBER: _ClassVar[int]
    LEARNER_DID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    SEALED_PERSONAL_FIELD_NUMBER: _ClassVar[int]
    pathway_id: str
    learner_id: str
    credential_ids: _containers.RepeatedScalarFieldContainer[str]
    total_ects: str
    learner_did: str
    learner_pseudonym: str
    sealed_personal: bytes
    def __init__(self, pathway_id: _Optional[str] = ..., learner_id: _Optional[str] = ..., credential_ids: _Optional[_Iterable[str]] = ..., total_ects: _Optional[str] = ..., learner_did: _Optional[str] = ..., learner_pseudonym: _Optional[str] = ..., sealed_personal: _Optional[bytes] = ...) -> None: ...

class StatusIndexesReserved(_message.Message):
    __slots__ = ("reservation_id", "issuer_id", "blocks")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    issuer_id: str
    blocks: _containers.RepeatedCompositeFieldContainer[_status_pb2.StatusIndexBlock]
    def __init__(self, reservation_id: _Optional[str] = ..., issuer_id: _Optional[str] = ..., blocks: _Optional[_Iterable[_Union[_status_pb2.StatusIndexBlock, _Mapping]]] = ...) -> None: ...

class WalletAccountLinked(_message.Message):
    __slots__ = ("account_id", "email_index", "sealed_email")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_INDEX_FIELD_NUMBER: _ClassVar[int]
    SEALED_EMAIL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    email_index: str
    sealed_email: bytes
    def __init__(self, account_id: _Optional[str] = ..., email_index: _Optional[str] = ..., sealed_email: _Optional[bytes] = ...) -> None: ...

class HolderKeyCreated(_message.Message):
    __slots__ = ("account_id", "did", "key_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    did: str
    key_id: str
    def __init__(self, account_id: _Optional[str] = ..., did: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class CredentialBound(_message.Message):
    __slots__ = ("account_id", "credential_id", "holder_did")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_DID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    credential_id: str
    holder_did: str
    def __init__(self, account_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., holder_did: _Optional[str] = ...) -> None: ...

class CredentialImported(_message.Message):
    __slots__ = ("account_id", "credential_id", "credential_json", "import_check_json", "learner_pseudonym", "sealed_personal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_JSON_FIELD_NUMBER: _ClassVar[int]
    IMPORT_CHECK_JSON_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    SEALED_PERSONAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    credential_id: str
    credential_json: str
    import_check_json: str
    learner_pseudonym: str
    sealed_personal: bytes
    def __init__(self, account_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., credential_json: _Optional[str] = ..., import_check_json: _Optional[str] = ..., learner_pseudonym: _Optional[str] = ..., sealed_personal: _Optional[bytes] = ...) -> None: ...

class ShareLink(_message.Message):
    __slots__ = ("share_id", "account_id", "credential_ids", "created_at", "expires_at")
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    share_id: str
    account_id: str
    credential_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, share_id: _Optional[str] = ..., account_id: _Optional[str] = ..., credential_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShareLinkCreated(_message.Message):
    __slots__ = ("link",)
    LINK_FIELD_NUMBER: _ClassVar[int]
    link: ShareLink
    def __init__(self, link: _Optional[_Union[ShareLink, _Mapping]] = ...) -> None: ...

class ShareLinkWithdrawn(_message.Message):
    __slots__ = ("link", "withdrawn_at")
    LINK_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    link: ShareLink
    withdrawn_at: _timestamp_pb2.Timestamp
    def __init__(self, link: _Optional[_Union[ShareLink, _Mapping]] = ..., withdrawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WalletDeferredCredential(_message.Message):
    __slots__ = ("account_id", "transaction_ref", "sealed", "expires_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_REF_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    transaction_ref: str
    sealed: bytes
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., transaction_ref: _Optional[str] = ..., sealed: _Optional[bytes] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CredentialOfferCreated(_message.Message):
    __slots__ = ("offer_ref", "issuer_id", "credential_configuration_id", "tx_code_required", "expires_at", "learner_did", "learner_email", "offer_uri", "title", "awarding_body", "learner_pseudonym", "sealed_personal", "recovery")
    OFFER_REF_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_CONFIGURATION_ID_FIELD_NUMBER: _ClassVar[int]
    TX_CODE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    LEARNER_DID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    OFFER_URI_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AWARDING_BODY_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    SEALED_PERSONAL_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    offer_ref: str
    issuer_id: str
    credential_configuration_id: str
    tx_code_required: bool
    expires_at: _timestamp_pb2.Timestamp
    learner_did: str
    learner_email: str
    offer_uri: str
    title: _elements_pb2.LangString
    awarding_body: _elements_pb2.LangString
    learner_pseudonym: str
    sealed_personal: bytes
    recovery: OfferRecovery
    def __init__(self, offer_ref: _Optional[str] = ..., issuer_id: _Optional[str] = ..., credential_configuration_id: _Optional[str] = ..., tx_code_required: _Optional[bool] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., learner_did: _Optional[str] = ..., learner_email: _Optional[str] = ..., offer_uri: _Optional[str] = ..., title: _Optional[_Union[_elements_pb2.LangString, _Mapping]] = ..., awarding_body: _Optional[_Union[_elements_pb2.LangString, _Mapping]] = ..., learner_pseudonym: _Optional[str] = ..., sealed_personal: _Optional[bytes] = ..., recovery: _Optional[_Union[OfferRecovery, _Mapping]] = ...) -> None: ...

class OfferRecovery(_message.Message):
    __slots__ = ("offer_id", "offer_document", "code_digest", "tx_digest", "state_digest", "award", "not_before", "reference", "credential_issuer", "created_at")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    OFFER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CODE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    TX_DIGEST_FIELD_NUMBER: _ClassVar[int]
    STATE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    AWARD_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ISSUER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    offer_document: str
    code_digest: str
    tx_digest: str
    state_digest: str
    award: _elements_pb2.MicroCredential
    not_before: float
    reference: str
    credential_issuer: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, offer_id: _Optional[str] = ..., offer_document: _Optional[str] = ..., code_digest: _Optional[str] = ..., tx_digest: _Optional[str] = ..., state_digest: _Optional[str] = ..., award: _Optional[_Union[_elements_pb2.MicroCredential, _Mapping]] = ..., not_before: _Optional[float] = ..., reference: _Optional[str] = ..., credential_issuer: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CredentialOfferRedeemed(_message.Message):
    __slots__ = ("offer_ref", "issuer_id", "credential_ids")
    OFFER_REF_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_IDS_FIELD_NUMBER: _ClassVar[int]
    offer_ref: str
    issuer_id: str
    credential_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, offer_ref: _Optional[str] = ..., issuer_id: _Optional[str] = ..., credential_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CredentialOfferWithdrawn(_message.Message):
    __slots__ = ("offer_ref", "issuer_id", "reason")
    OFFER_REF_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    offer_ref: str
    issuer_id: str
    reason: str
    def __init__(self, offer_ref: _Optional[str] = ..., issuer_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CredentialOfferExpired(_message.Message):
    __slots__ = ("offer_ref", "issuer_id", "expired_at")
    OFFER_REF_FIELD_NUMBER: _ClassVar[int]
    ISSUER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_AT_FIELD_NUMBER: _ClassVar[int]
    offer_ref: str
    issuer_id: str
    expired_at: _timestamp_pb2.Timestamp
    def __init__(self, offer_ref: _Optional[str] = ..., issuer_id: _Optional[str] = ..., expired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
