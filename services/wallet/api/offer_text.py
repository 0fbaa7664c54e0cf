"""Words of the wallet app's "Receive a credential" view (OpenID4VCI offers, issue 20), English, Polish, German and
French: the labels, and one plain-language sentence per refusal code of :mod:`services.wallet.domain.offers` (what
happened and what the learner can do), so an issuer's OAuth error never reaches the learner as jargon.

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
    "de": {
        "offer_h": "Einen Nachweis empfangen", "offer_link": "Link des Angebots",
        "offer_link_hint": "Fügen Sie den Link aus der E-Mail oder dem QR-Code des Ausstellers ein.",
        "offer_inspect": "Angebot ansehen",
        "offer_from": "Angeboten von", "offer_what": "Nachweis", "offer_tx_code": "Code des Ausstellers",
        "offer_tx_hint": "Der Aussteller hat Ihnen diesen Code getrennt geschickt (per E-Mail oder SMS).",
        "offer_accept": "Annehmen", "offer_cancel": "Nicht jetzt",
        "offer_received": "Empfangen: Der Nachweis ist jetzt in Ihrer Liste.",
        "offer_pending": "Empfangen: Der Nachweis erscheint gleich in Ihrer Liste.",
        "offer_signin_first": "Melden Sie sich an, um den Ihnen angebotenen Nachweis zu empfangen.",
        "offer_addressed_h": "Ihnen angeboten", "offer_addressed_until": "Kann angenommen werden bis",
        "offer_addressed_code": "Sie brauchen den Code, den der Aussteller Ihnen geschickt hat.",
        "offer_addressed_open": "Dieses Angebot ansehen",
        "offer_continue": "Beim Aussteller fortfahren",
        "offer_continue_hint": "Die Seite des Ausstellers öffnet sich; dort werden Sie eventuell gebeten, sich "
                               "anzumelden. Danach kommen Sie hierher zurück.",
        "offer_completing": "Der Nachweis wird vom Aussteller abgeholt…",
        "offer_deferred": "Angenommen: Der Aussteller bereitet diesen Nachweis noch vor. Er erscheint in Ihrer "
                          "Liste, sobald er fertig ist; diese Seite prüft das.",
        "deferred_h": "Wird vom Aussteller vorbereitet", "deferred_accepted": "Angenommen am",
        "deferred_check": "Jetzt prüfen",
        "deferred_arrived": "Empfangen: Ein Nachweis, den der Aussteller vorbereitet hat, ist jetzt in Ihrer Liste.",
        "OFFER_DEFERRED_GONE": "Der Aussteller wird einen für Sie vorbereiteten Nachweis nicht senden: Er hat ihn "
                               "abgelehnt oder hat ihn nicht mehr. Wenden Sie sich an den Aussteller.",
        "OFFER_DEFERRED_EXPIRED": "Der Aussteller hat einen für Sie vorbereiteten Nachweis nicht innerhalb von 30 "
                                  "Tagen gesendet, daher wartet die Wallet nicht mehr darauf. Wenden Sie sich an "
                                  "den Aussteller.",
        "OFFER_LINK_INVALID": "Das ist kein Link zu einem Nachweis-Angebot. Kopieren Sie den ganzen Link aus der "
                              "Nachricht des Ausstellers und versuchen Sie es erneut.",
        "OFFER_ISSUER_NOT_TRUSTED": "Diese Wallet nimmt keine Nachweise von diesem Aussteller an: Nur Aussteller, "
                                    "denen die Plattform vertraut, können hierher Nachweise senden.",
        "OFFER_UNSUPPORTED": "Dieses Angebot betrifft eine Art von Nachweis oder eine Art der Ausstellung, die diese "
                             "Wallet noch nicht empfangen kann.",
        "OFFER_KEY_ATTESTATION_REQUIRED": "Dieser Aussteller sendet seine Nachweise nur an Wallets, deren Hersteller "
                                          "dafür bürgt, wie der Schlüssel aufbewahrt wird, etwa an eine "
                                          "Europäische Brieftasche für die Digitale Identität (EUDI-Wallet). Diese "
                                          "Wallet kann das nicht, daher wurde nichts angenommen: Das Angebot ist "
                                          "noch offen. Öffnen Sie den Link in einer solchen Wallet.",
        "OFFER_WALLET_ATTESTATION_REQUIRED": "Dieser Aussteller gibt Nachweise nur an Wallets, für die ihr "
                                             "Hersteller bürgt, etwa an eine Europäische Brieftasche für die "
                                             "Digitale Identität (EUDI-Wallet). Diese Wallet kann das nicht, daher "
                                             "wurde nichts angenommen: Das Angebot ist noch offen. Öffnen Sie den "
                                             "Link in einer solchen Wallet.",
        "OFFER_KEY_UNSUPPORTED": "Dieser Aussteller bindet seine Nachweise an eine Art von Schlüssel oder verlangt "
                                 "eine Art von Signatur, die diese Wallet nicht liefern kann, daher wurde nichts "
                                 "angenommen: Das Angebot ist noch offen. Öffnen Sie den Link in einer anderen "
                                 "Wallet.",
        "OFFER_GONE": "Dieses Angebot kann nicht mehr genutzt werden: Es wurde bereits angenommen, vom Aussteller "
                      "zurückgezogen, oder es ist abgelaufen. Bitten Sie den Aussteller um ein neues.",
        "OFFER_TX_CODE_REQUIRED": "Geben Sie den Code ein, den der Aussteller Ihnen geschickt hat.",
        "OFFER_TX_CODE_FORMAT": "Der Code hat nicht die erwartete Form. Prüfen Sie ihn und versuchen Sie es erneut.",
        "OFFER_TX_CODE_WRONG": "Der Aussteller hat den eingegebenen Code nicht angenommen. Prüfen Sie ihn und "
                               "versuchen Sie es erneut: Nach mehreren falschen Codes wird das Angebot gesperrt. "
                               "Wenn das Angebot abgelaufen ist oder schon genutzt wurde, bitten Sie den "
                               "Aussteller um ein neues.",
        "OFFER_ISSUER_REFUSED": "Der Aussteller hat es abgelehnt, den Nachweis auszustellen. Versuchen Sie es später "
                                "erneut oder wenden Sie sich an den Aussteller.",
        "OFFER_ISSUER_UNAVAILABLE": "Der Aussteller war nicht erreichbar. Versuchen Sie es in einigen Minuten "
                                    "erneut.",
        "OFFER_ISSUER_ANSWER_INVALID": "Die Antwort des Ausstellers war nicht verständlich. Wenden Sie sich an den "
                                       "Aussteller.",
        "OFFER_CREDENTIAL_REJECTED": "Der Nachweis, den der Aussteller gesendet hat, hat die Prüfungen der Wallet "
                                     "nicht bestanden und wurde daher nicht behalten. Der Aussteller wurde "
                                     "informiert.",
        "OFFER_AUTHORIZATION_DENIED": "Der Aussteller hat dieser Wallet nicht erlaubt, den Nachweis zu empfangen: "
                                      "Vielleicht wurden Sie als jemand anderes angemeldet, oder der Vorgang wurde "
                                      "abgebrochen. Öffnen Sie das Angebot erneut, um es noch einmal zu versuchen.",
        "OFFER_AUTHORIZATION_UNKNOWN": "Diese Rückkehr vom Aussteller wurde nicht erwartet (sie wurde schon "
                                       "verwendet oder hat länger als zehn Minuten gedauert). Öffnen Sie das "
                                       "Angebot erneut.",
    },
    "fr": {
        "offer_h": "Recevoir une attestation", "offer_link": "Lien de l’offre",
        "offer_link_hint": "Collez le lien du courriel ou du code QR de l’émetteur.", "offer_inspect": "Voir l’offre",
        "offer_from": "Proposée par", "offer_what": "Attestation", "offer_tx_code": "Code de l’émetteur",
        "offer_tx_hint": "L’émetteur vous a envoyé ce code séparément (par courriel ou SMS).",
        "offer_accept": "Accepter", "offer_cancel": "Pas maintenant",
        "offer_received": "Reçue\u00a0: l’attestation est maintenant dans votre liste.",
        "offer_pending": "Reçue\u00a0: l’attestation apparaîtra dans votre liste dans un instant.",
        "offer_signin_first": "Connectez-vous pour recevoir l’attestation qui vous a été proposée.",
        "offer_addressed_h": "Proposées pour vous", "offer_addressed_until": "Peut être acceptée jusqu’au",
        "offer_addressed_code": "Vous aurez besoin du code que l’émetteur vous a envoyé.",
        "offer_addressed_open": "Voir cette offre",
        "offer_continue": "Continuer chez l’émetteur",
        "offer_continue_hint": "La page de l’émetteur s’ouvre\u00a0; elle peut vous demander de vous connecter. "
                               "Elle vous ramène ensuite ici.",
        "offer_completing": "Réception de l’attestation auprès de l’émetteur…",
        "offer_deferred": "Acceptée\u00a0: l’émetteur prépare encore cette attestation. Elle apparaîtra dans votre "
                          "liste dès qu’elle sera prête\u00a0; cette page vérifie si elle est arrivée.",
        "deferred_h": "En préparation chez l’émetteur", "deferred_accepted": "Acceptée le",
        "deferred_check": "Vérifier maintenant",
        "deferred_arrived": "Reçue\u00a0: une attestation que l’émetteur préparait est maintenant dans votre liste.",
        "OFFER_DEFERRED_GONE": "L’émetteur n’enverra pas une attestation qu’il préparait pour vous\u00a0: il l’a "
                               "refusée ou ne l’a plus. Contactez l’émetteur.",
        "OFFER_DEFERRED_EXPIRED": "L’émetteur n’a pas envoyé dans les 30 jours une attestation qu’il préparait pour "
                                  "vous, le portefeuille a donc cessé de l’attendre. Contactez l’émetteur.",
        "OFFER_LINK_INVALID": "Ce n’est pas un lien d’offre d’attestation. Copiez le lien complet du message de "
                              "l’émetteur et réessayez.",
        "OFFER_ISSUER_NOT_TRUSTED": "Ce portefeuille n’accepte pas d’attestations de cet émetteur\u00a0: seuls les "
                                    "émetteurs auxquels la plateforme fait confiance peuvent envoyer des "
                                    "attestations ici.",
        "OFFER_UNSUPPORTED": "Cette offre porte sur un type d’attestation, ou utilise un mode de délivrance, que ce "
                             "portefeuille ne peut pas encore recevoir.",
        "OFFER_KEY_ATTESTATION_REQUIRED": "Cet émetteur n’envoie ses attestations qu’aux portefeuilles dont le "
                                          "fabricant garantit la manière dont la clé est conservée, comme un "
                                          "portefeuille européen d’identité numérique. Ce portefeuille ne le peut "
                                          "pas, donc rien n’a été accepté\u00a0: l’offre reste ouverte. Ouvrez le "
                                          "lien dans un tel portefeuille.",
        "OFFER_WALLET_ATTESTATION_REQUIRED": "Cet émetteur ne délivre d’attestations qu’aux portefeuilles dont le "
                                             "fabricant se porte garant, comme un portefeuille européen d’identité "
                                             "numérique. Ce portefeuille ne le peut pas, donc rien n’a été "
                                             "accepté\u00a0: l’offre reste ouverte. Ouvrez le lien dans un tel "
                                             "portefeuille.",
        "OFFER_KEY_UNSUPPORTED": "Cet émetteur lie ses attestations à un type de clé, ou demande un type de "
                                 "signature, que ce portefeuille ne peut pas fournir, donc rien n’a été "
                                 "accepté\u00a0: l’offre reste ouverte. Ouvrez le lien dans un autre portefeuille.",
        "OFFER_GONE": "Cette offre ne peut plus être utilisée\u00a0: elle a déjà été acceptée, retirée par "
                      "l’émetteur, ou elle a expiré. Demandez-en une nouvelle à l’émetteur.",
        "OFFER_TX_CODE_REQUIRED": "Saisissez le code que l’émetteur vous a envoyé.",
        "OFFER_TX_CODE_FORMAT": "Le code n’a pas la forme attendue. Vérifiez-le et réessayez.",
        "OFFER_TX_CODE_WRONG": "L’émetteur n’a pas accepté le code saisi. Vérifiez-le et réessayez\u00a0: après "
                               "plusieurs codes erronés, l’offre est bloquée. Si l’offre a expiré ou a déjà été "
                               "utilisée, demandez-en une nouvelle à l’émetteur.",
        "OFFER_ISSUER_REFUSED": "L’émetteur a refusé de délivrer l’attestation. Réessayez plus tard, ou contactez "
                                "l’émetteur.",
        "OFFER_ISSUER_UNAVAILABLE": "L’émetteur est injoignable. Réessayez dans quelques minutes.",
        "OFFER_ISSUER_ANSWER_INVALID": "La réponse de l’émetteur est incompréhensible. Contactez l’émetteur.",
        "OFFER_CREDENTIAL_REJECTED": "L’attestation envoyée par l’émetteur n’a pas passé les contrôles du "
                                     "portefeuille, elle n’a donc pas été conservée. L’émetteur en a été informé.",
        "OFFER_AUTHORIZATION_DENIED": "L’émetteur n’a pas autorisé ce portefeuille à recevoir l’attestation\u00a0: "
                                      "la connexion s’est peut-être faite sous une autre identité, ou a été "
                                      "annulée. Rouvrez l’offre pour réessayer.",
        "OFFER_AUTHORIZATION_UNKNOWN": "Ce retour de l’émetteur n’était pas attendu (il a déjà été utilisé, ou a "
                                       "pris plus de dix minutes). Rouvrez l’offre.",
    },
}
