"""Words of the wallet app's "Receive a credential" view (OpenID4VCI offers, issue 20), English and Polish: the
labels, and one plain-language sentence per refusal code of :mod:`services.wallet.domain.offers` (what happened
and what the learner can do), so an issuer's OAuth error never reaches the learner as jargon.

Merged over the other labels when the page is rendered (:func:`services.wallet.api.web.render_page`).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["OFFER_LABELS"]

OFFER_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "offer_h": "Receive a credential", "offer_link": "Offer link",
        "offer_link_hint": "Paste the link from the issuer's e-mail or QR code.", "offer_inspect": "See the offer",
        "offer_from": "Offered by", "offer_what": "Credential", "offer_tx_code": "Code from the issuer",
        "offer_tx_hint": "The issuer sent you this code separately (by e-mail or text message).",
        "offer_accept": "Accept", "offer_cancel": "Not now",
        "offer_received": "Received: the credential is now in your list.",
        "offer_pending": "Received: the credential will appear in your list in a moment.",
        "offer_signin_first": "Sign in to receive the credential you were offered.",
        "offer_addressed_h": "Offered to you", "offer_addressed_until": "Can be accepted until",
        "offer_addressed_code": "You will need the code the issuer sent you.",
        "offer_addressed_open": "See this offer",
        "offer_continue": "Continue at the issuer",
        "offer_continue_hint": "The issuer's page opens; it may ask you to sign in. It then brings you back here.",
        "offer_completing": "Receiving the credential from the issuer…",
        "offer_deferred": "Accepted: the issuer is still preparing this credential. It will appear in your list "
                          "when it is ready; this page checks for it.",
        "deferred_h": "Being prepared by the issuer", "deferred_accepted": "Accepted on",
        "deferred_check": "Check now",
        "deferred_arrived": "Received: a credential the issuer was preparing is now in your list.",
        "OFFER_DEFERRED_GONE": "The issuer will not send a credential it was preparing for you: it refused it or no "
                               "longer has it. Contact the issuer.",
        "OFFER_DEFERRED_EXPIRED": "The issuer did not send a credential it was preparing for you within 30 days, so "
                                  "the wallet stopped waiting. Contact the issuer.",
        "OFFER_LINK_INVALID": "This is not a credential offer link. Copy the whole link from the issuer's message "
                              "and try again.",
        "OFFER_ISSUER_NOT_TRUSTED": "This wallet does not accept credentials from this issuer: only issuers the "
                                    "platform trusts can send credentials here.",
        "OFFER_UNSUPPORTED": "This offer is for a kind of credential, or uses a way of issuing it, that this wallet "
                             "cannot receive yet.",
        "OFFER_KEY_ATTESTATION_REQUIRED": "This issuer sends its credentials only to wallets whose maker vouches "
                                          "for how the key is kept, such as an EU Digital Identity Wallet. This "
                                          "wallet cannot, so nothing was accepted: the offer is still open. Open "
                                          "the link in such a wallet.",
        "OFFER_WALLET_ATTESTATION_REQUIRED": "This issuer gives credentials only to wallets whose maker vouches "
                                             "for the wallet, such as an EU Digital Identity Wallet. This wallet "
                                             "cannot, so nothing was accepted: the offer is still open. Open the "
                                             "link in such a wallet.",
        "OFFER_KEY_UNSUPPORTED": "This issuer binds its credentials to a kind of key, or asks for a kind of "
                                 "signature, that this wallet cannot give, so nothing was accepted: the offer is "
                                 "still open. Open the link in another wallet.",
        "OFFER_GONE": "This offer can no longer be used: it was already accepted, withdrawn by the issuer, or it "
                      "expired. Ask the issuer for a new one.",
        "OFFER_TX_CODE_REQUIRED": "Enter the code the issuer sent you.",
        "OFFER_TX_CODE_FORMAT": "The code does not have the expected form. Check it and try again.",
        "OFFER_TX_CODE_WRONG": "The issuer did not accept the code you entered. Check it and try again: after "
                               "several wrong codes the offer is locked. If the offer expired or was already "
                               "used, ask the issuer for a new one.",
        "OFFER_ISSUER_REFUSED": "The issuer refused to issue the credential. Try again later, or contact the "
                                "issuer.",
        "OFFER_ISSUER_UNAVAILABLE": "The issuer could not be reached. Try again in a few minutes.",
        "OFFER_ISSUER_ANSWER_INVALID": "The issuer's answer could not be understood. Contact the issuer.",
        "OFFER_CREDENTIAL_REJECTED": "The credential the issuer sent did not pass the wallet's checks, so it was "
                                     "not kept. The issuer was told.",
        "OFFER_AUTHORIZATION_DENIED": "The issuer did not let this wallet receive the credential: you may have "
                                      "signed in as someone else, or cancelled. Open the offer again to retry.",
        "OFFER_AUTHORIZATION_UNKNOWN": "This return from the issuer is not expected (it was already used, or took "
                                       "more than ten minutes). Open the offer again.",
    },
    "pl": {
        "offer_h": "Odbierz poświadczenie", "offer_link": "Link oferty",
        "offer_link_hint": "Wklej link z e-maila lub kodu QR od wystawcy.", "offer_inspect": "Zobacz ofertę",
        "offer_from": "Oferuje", "offer_what": "Poświadczenie", "offer_tx_code": "Kod od wystawcy",
        "offer_tx_hint": "Wystawca wysłał Ci ten kod osobno (e-mailem lub SMS-em).",
        "offer_accept": "Przyjmij", "offer_cancel": "Nie teraz",
        "offer_received": "Odebrano: poświadczenie jest już na Twojej liście.",
        "offer_pending": "Odebrano: poświadczenie za chwilę pojawi się na Twojej liście.",
        "offer_signin_first": "Zaloguj się, aby odebrać zaoferowane Ci poświadczenie.",
        "offer_addressed_h": "Oferowane Tobie", "offer_addressed_until": "Można przyjąć do",
        "offer_addressed_code": "Będzie potrzebny kod, który wysłał Ci wystawca.",
        "offer_addressed_open": "Zobacz tę ofertę",
        "offer_continue": "Przejdź do wystawcy",
        "offer_continue_hint": "Otworzy się strona wystawcy; może poprosić o zalogowanie. Potem wrócisz tutaj.",
        "offer_completing": "Odbieranie poświadczenia od wystawcy…",
        "offer_deferred": "Przyjęto: wystawca wciąż przygotowuje to poświadczenie. Pojawi się na Twojej liście, "
                          "gdy będzie gotowe; ta strona to sprawdza.",
        "deferred_h": "Przygotowywane przez wystawcę", "deferred_accepted": "Przyjęto",
        "deferred_check": "Sprawdź teraz",
        "deferred_arrived": "Odebrano: poświadczenie przygotowywane przez wystawcę jest już na Twojej liście.",
        "OFFER_DEFERRED_GONE": "Wystawca nie prześle poświadczenia, które dla Ciebie przygotowywał: odmówił go albo "
                               "już go nie ma. Skontaktuj się z wystawcą.",
        "OFFER_DEFERRED_EXPIRED": "Wystawca nie przesłał przygotowywanego dla Ciebie poświadczenia w ciągu 30 dni, "
                                  "więc portfel przestał na nie czekać. Skontaktuj się z wystawcą.",
        "OFFER_LINK_INVALID": "To nie jest link oferty poświadczenia. Skopiuj cały link z wiadomości od wystawcy "
                              "i spróbuj ponownie.",
        "OFFER_ISSUER_NOT_TRUSTED": "Ten portfel nie przyjmuje poświadczeń od tego wystawcy: przesyłać je tutaj "
                                    "mogą tylko wystawcy zaufani przez platformę.",
        "OFFER_UNSUPPORTED": "Ta oferta dotyczy rodzaju poświadczenia lub sposobu jego wydania, których ten portfel "
                             "jeszcze nie obsługuje.",
        "OFFER_KEY_ATTESTATION_REQUIRED": "Ten wystawca wysyła poświadczenia tylko do portfeli, których twórca "
                                          "poręcza za sposób przechowywania klucza, np. do Europejskiego Portfela "
                                          "Tożsamości Cyfrowej. Ten portfel tego nie potrafi, więc niczego nie "
                                          "przyjęto: oferta jest nadal otwarta. Otwórz link w takim portfelu.",
        "OFFER_WALLET_ATTESTATION_REQUIRED": "Ten wystawca wydaje poświadczenia tylko portfelom, za które "
                                             "poręcza ich twórca, np. Europejskiemu Portfelowi Tożsamości "
                                             "Cyfrowej. Ten portfel tego nie potrafi, więc niczego nie przyjęto: "
                                             "oferta jest nadal otwarta. Otwórz link w takim portfelu.",
        "OFFER_KEY_UNSUPPORTED": "Ten wystawca wiąże poświadczenia z rodzajem klucza lub żąda rodzaju podpisu, "
                                 "których ten portfel nie potrafi dać, więc niczego nie przyjęto: oferta jest nadal "
                                 "otwarta. Otwórz link w innym portfelu.",
        "OFFER_GONE": "Tej oferty nie można już użyć: została już przyjęta, wycofana przez wystawcę albo wygasła. "
                      "Poproś wystawcę o nową.",
        "OFFER_TX_CODE_REQUIRED": "Wpisz kod, który wysłał Ci wystawca.",
        "OFFER_TX_CODE_FORMAT": "Kod nie ma oczekiwanej postaci. Sprawdź go i spróbuj ponownie.",
        "OFFER_TX_CODE_WRONG": "Wystawca nie przyjął wpisanego kodu. Sprawdź go i spróbuj ponownie: po kilku "
                               "błędnych kodach oferta zostaje zablokowana. Jeśli oferta wygasła lub została już "
                               "wykorzystana, poproś wystawcę o nową.",
        "OFFER_ISSUER_REFUSED": "Wystawca odmówił wydania poświadczenia. Spróbuj później albo skontaktuj się z "
                                "wystawcą.",
        "OFFER_ISSUER_UNAVAILABLE": "Nie udało się połączyć z wystawcą. Spróbuj ponownie za kilka minut.",
        "OFFER_ISSUER_ANSWER_INVALID": "Nie udało się zrozumieć odpowiedzi wystawcy. Skontaktuj się z wystawcą.",
        "OFFER_CREDENTIAL_REJECTED": "Poświadczenie przesłane przez wystawcę nie przeszło kontroli portfela, więc "
                                     "nie zostało zachowane. Wystawca został o tym powiadomiony.",
        "OFFER_AUTHORIZATION_DENIED": "Wystawca nie pozwolił temu portfelowi odebrać poświadczenia: być może "
                                      "zalogowano się jako ktoś inny albo anulowano. Otwórz ofertę ponownie.",
        "OFFER_AUTHORIZATION_UNKNOWN": "Ten powrót od wystawcy nie był oczekiwany (został już użyty albo trwał "
                                       "dłużej niż dziesięć minut). Otwórz ofertę ponownie.",
    },
}
