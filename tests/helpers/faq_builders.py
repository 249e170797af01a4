"""Builders and fakes for FAQ index tests."""

from __future__ import annotations

from faq_index import FaqEntry, HashingEncoder
from faq_index.encoders import Vectors

OUTAGE_FAQ_YAML = """\
version: 1
faqs:
  - id: card-payments-failing
    tags: [payments, cards]
    question:
      en: Why are my card payments failing?
      es: ¿Por qué fallan mis pagos con tarjeta?
    paraphrases:
      en: ["card declined", "can't pay with my card", "my card payment was rejected"]
      es: ["me rechazan la tarjeta", "no puedo pagar con mi tarjeta"]
    answer:
      en: Card payments are failing because of the outage at our card processor.
      es: Los pagos con tarjeta fallan por la caída de nuestro procesador de tarjetas.
  - id: when-fixed
    question:
      en: When will the service be back?
      es: ¿Cuándo vuelve el servicio?
    paraphrases:
      en: ["when will it be fixed", "how long until the outage is over", "eta for the fix"]
      es: ["cuándo se arregla", "cuánto falta para que funcione"]
    answer:
      en: We are working on it; see the status page for the latest estimate.
      es: Estamos trabajando en ello; mira la página de estado.
  - id: login-problems
    question:
      en: I cannot log in to the app
    paraphrases:
      en: ["login does not work", "the app will not let me sign in", "password rejected"]
    answer:
      en: Logins fail for some users during the outage; please try again later.
  - id: refund-outage
    question:
      en: Will I get a refund for the outage?
      es: ¿Me devolverán el dinero por la caída?
    paraphrases:
      es: ["quiero un reembolso", "compensación por el corte"]
    answer:
      en: Yes, affected customers get a credit on their next bill.
      es: Sí, los clientes afectados reciben un crédito en su próxima factura.
"""


def make_entry(
    faq_id: str,
    question: str,
    *,
    answer: str | None = None,
    paraphrases: list[str] | None = None,
    lang: str = "en",
) -> FaqEntry:
    """A one-language entry."""
    return FaqEntry(
        id=faq_id,
        question={lang: question},
        answer={lang: answer or f"Answer about {question}"},
        paraphrases={lang: tuple(paraphrases)} if paraphrases else {},
    )


class CountingEncoder:
    """Wraps the hashing encoder and counts the texts it was asked to encode."""

    def __init__(self, dim: int = 256) -> None:
        self._inner = HashingEncoder(dim=dim)
        self.calls = 0
        self.texts = 0

    @property
    def name(self) -> str:
        """Same name as the wrapped encoder (shares its cache key)."""
        return self._inner.name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._inner.dim

    def encode(self, texts: list[str]) -> Vectors:
        """Encode and count."""
        self.calls += 1
        self.texts += len(texts)
        return self._inner.encode(texts)
