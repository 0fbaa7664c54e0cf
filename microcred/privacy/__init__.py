"""Crypto-shredding of learners' personal data (issue 18).

* :mod:`.pseudonym`: the keyed learner pseudonym (HMAC-SHA256 of the learner's identifier under a platform
  secret) that routing, status and audit use instead of the learner's name, DID or e-mail;
* :mod:`.wrapping`: the privacy key-encryption key (KEK) and how a data key is wrapped under it;
* :mod:`.datakeys`: the :class:`~.datakeys.DataKeys` port (create / get / destroy one AES-256-GCM data key per
  pseudonym) and its in-memory twin;
* :mod:`.kafka_datakeys`: the real adapter (wrapped keys on a compacted Kafka topic, cached in Redis);
* :mod:`.sealing`: AES-GCM sealing of personal bytes under a data key, bound to the event and the pseudonym.

Destroying a learner's data key makes every sealed copy of their personal data unreadable, in every event,
replay and backup at once; ``docs/privacy.md`` states the bound within which the key itself is gone from disk.
"""
