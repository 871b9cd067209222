"""Shipped defaults: the organisation texts, the built-in deadline policies of LAW.md and four channels.

`ensure_defaults()` runs after every `meldkluis db upgrade`; it only adds what is missing, so an
admin's edits survive upgrades.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Channel, DeadlinePolicy, Organisation

# Rule format: see app/services/clock.py (the only reader). Each rule makes one milestone.
_RETENTION = {"milestone": "retention_review", "trigger": "closed", "retention": True, "done_by": ["purged"]}
_ACK_7_FEEDBACK_3M = [
    {"milestone": "acknowledge", "trigger": "received", "days": 7, "done_by": ["acknowledged"]},
    {
        "milestone": "feedback", "trigger": "acknowledged", "months": 3,
        "fallback": {"trigger": "received", "days": 7, "months": 3}, "done_by": ["feedback"],
    },
]
BUILTIN_POLICIES: list[dict[str, Any]] = [
    {
        "slug": "wbk",
        "name": "Wet bescherming klokkenluiders (Wbk)",
        "description": "Acknowledge within 7 days of receipt; feedback within 3 months of the acknowledgement "
        "(or 3 months after the 7th day when no acknowledgement was sent; the earlier date wins), no extension; "
        "a meeting within 14 days of the request. Wbk art. 2; Directive 2019/1937 art. 9 and 15(1)(a).",
        "rules": [
            _ACK_7_FEEDBACK_3M[0],
            {**_ACK_7_FEEDBACK_3M[1], "disclosure_risk": True},
            {"milestone": "meeting", "trigger": "meeting_requested", "days": 14, "done_by": ["meeting_held"]},
            _RETENTION,
        ],
    },
    {
        "slug": "bestuursdecreet",
        "name": "Bestuursdecreet (Vlaanderen)",
        "description": "Acknowledge within 7 calendar days; feedback within 3 months. Bestuursdecreet art. III.60 ff.",
        "rules": [*_ACK_7_FEEDBACK_3M, _RETENTION],
    },
    {
        "slug": "be-private",
        "name": "Belgium, private sector (law of 28 Nov 2022)",
        "description": "Acknowledge within 7 days; feedback within 3 months.",
        "rules": [*_ACK_7_FEEDBACK_3M, _RETENTION],
    },
    {
        "slug": "klachtenregeling-2w",
        "name": "Klachtenregeling: answer within two weeks",
        "description": "The klachtenmanager responds within 14 days of receipt (organisation's complaints procedure).",
        "rules": [
            {"milestone": "respond", "trigger": "received", "days": 14, "done_by": ["acknowledged", "feedback"]},
            _RETENTION,
        ],
    },
    {
        "slug": "awb-9",
        "name": "Awb 9:11 (Dutch public bodies)",
        "description": "Decide within 6 weeks of receipt; 10 weeks with an advisory committee; extendable once "
        "by 4 weeks with a recorded reason.",
        "rules": [
            {
                "milestone": "decide", "trigger": "received", "days": 42, "done_by": ["feedback", "closed"],
                "extensions": [{"slug": "committee", "days": 28}, {"slug": "extension", "days": 28}],
            },
            _RETENTION,
        ],
    },
]


def _categories(*pairs: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"slug": slug, "nl": nl, "en": en} for slug, nl, en in pairs]


# Wrongdoing (misstand) harms society or breaks the law; an integrity violation breaks the organisation's own
# rules and its harm mostly stays inside. Each gets its own list, from the seed documents (000, 002, 003).
MISSTAND_CATEGORIES = _categories(
    ("fraude", "Fraude", "Fraud"),
    ("corruptie", "Omkoping of corruptie", "Bribery or corruption"),
    ("regels", "Overtreding van de wet of van Europese regels", "Breach of the law or of European rules"),
    ("aanbesteding", "Overtreding van de regels voor aanbesteding", "Breach of public procurement rules"),
    ("gezondheid", "Gevaar voor de gezondheid van mensen", "Danger to people's health"),
    ("veiligheid", "Gevaar voor de veiligheid van mensen", "Danger to people's safety"),
    ("milieu", "Schade aan het milieu", "Harm to the environment"),
    ("mensenrechten", "Schending van mensenrechten of discriminatie door de organisatie",
     "Breach of human rights, or discrimination by the organisation"),
    ("arbeidsomstandigheden", "Ernstig slechte of onveilige omstandigheden op het werk",
     "Seriously bad or unsafe working conditions"),
    ("functioneren", "De organisatie werkt op een manier die schade doet", "The organisation works in a harmful way"),
    ("anders", "Anders", "Other"),
)

INTEGRITY_CATEGORIES = _categories(
    ("fraude", "Fraude", "Fraud"),
    ("corruptie", "Omkoping of corruptie", "Bribery or corruption"),
    ("diefstal", "Diefstal of verduistering", "Theft or embezzlement"),
    ("belangenverstrengeling", "Belangenverstrengeling of vriendjespolitiek", "Conflict of interest or favouritism"),
    ("nevenactiviteiten", "Nevenwerk of geldzaken die niet mogen", "Side jobs or financial interests that are not allowed"),
    ("geschenken", "Geschenken of uitnodigingen aannemen of vragen", "Accepting or asking for gifts or invitations"),
    ("informatie", "Lekken of misbruik van vertrouwelijke informatie", "Leaking or misuse of confidential information"),
    ("valsheid", "Valse papieren of een valse verklaring", "Forged documents or a false statement"),
    ("machtsmisbruik", "Misbruik van bevoegdheden", "Abuse of authority"),
    ("cyber", "Onveilig omgaan met computers en gegevens", "Careless handling of computers and data"),
    ("anders", "Anders", "Other"),
)

BEHAVIOUR_CATEGORIES = _categories(
    ("seksuele-intimidatie", "Seksuele intimidatie", "Sexual harassment"),
    ("intimidatie", "Intimidatie of machtsmisbruik", "Intimidation or abuse of power"),
    ("agressie", "Agressie en geweld", "Aggression and violence"),
    ("pesten", "Pesten", "Bullying"),
    ("discriminatie", "Discriminatie", "Discrimination"),
    ("online", "Ongewenst gebruik van e-mail, internet of sociale media", "Unwanted use of e-mail, internet or social media"),
    ("anders", "Anders", "Other"),
)

QUESTION_CATEGORIES = _categories(
    ("ongewenst-gedrag", "Ongewenst gedrag", "Unwanted behaviour"),
    ("integriteit", "Integriteitsvraag", "Integrity question"),
    ("melden", "Hoe meld ik iets?", "How do I report something?"),
    ("anders", "Anders", "Other"),
)

BUILTIN_CHANNELS: list[dict[str, Any]] = [
    {
        "slug": "misstand", "kind": "melding", "policy": "wbk", "position": 1,
        "name_nl": "Vermoeden van een misstand", "name_en": "Suspected wrongdoing",
        "description_nl": "Iets dat de samenleving schaadt: de wet wordt overtreden, of er is gevaar voor de "
        "gezondheid, de veiligheid of het milieu, of de organisatie werkt op een manier die veel mensen schaadt. "
        "Hier beschermt de Wet bescherming klokkenluiders (Wbk) u.",
        "description_en": "Something that harms society: the law is broken, or there is a danger to health, safety "
        "or the environment, or the organisation works in a way that harms many people. Here the Dutch "
        "Whistleblower Protection Act (Wbk) protects you.",
        "categories": MISSTAND_CATEGORIES,
    },
    {
        "slug": "integriteit", "kind": "melding", "policy": "wbk", "position": 2,
        "name_nl": "Integriteitsschending", "name_en": "Integrity violation",
        "description_nl": "Iemand in de organisatie breekt de regels van de organisatie, bijvoorbeeld met fraude, "
        "diefstal, geschenken aannemen of geheime informatie doorgeven. De schade blijft meestal binnen de "
        "organisatie.",
        "description_en": "Someone in the organisation breaks the organisation's own rules, for example by fraud, "
        "theft, accepting gifts or passing on secret information. The harm mostly stays inside the organisation.",
        "categories": INTEGRITY_CATEGORIES,
    },
    {
        "slug": "omgangsvormen", "kind": "klacht", "policy": "klachtenregeling-2w", "position": 3,
        "name_nl": "Ongewenste omgangsvormen", "name_en": "Unwanted behaviour",
        "description_nl": "Een klacht over hoe iemand met u omgaat, als dat over uw grens gaat: seksuele "
        "intimidatie, bedreigen, agressie, pesten, discriminatie.",
        "description_en": "A complaint about how someone treats you, when it crosses your limits: sexual "
        "harassment, threats, aggression, bullying, discrimination.",
        "categories": BEHAVIOUR_CATEGORIES,
    },
    {
        "slug": "vertrouwenspersoon", "kind": "vraag", "policy": "klachtenregeling-2w", "position": 4,
        "name_nl": "Vraag aan de vertrouwenspersoon", "name_en": "Question for the confidential adviser",
        "description_nl": "Eerst in vertrouwen overleggen, zonder formele melding of klacht. U houdt zelf de regie.",
        "description_en": "Talk in confidence first, without a formal report or complaint. You stay in control.",
        "categories": QUESTION_CATEGORIES,
    },
]

ACKNOWLEDGEMENT_NL = (
    "Wij hebben uw bericht ontvangen en bevestigen hierbij de ontvangst. Wij behandelen het vertrouwelijk. "
    "U kunt in deze brievenbus vragen van ons verwachten en op elk moment aanvullen wat u wilt. "
    "U hoort uiterlijk binnen drie maanden wat wij met uw melding hebben gedaan."
)
ACKNOWLEDGEMENT_EN = (
    "We have received your message and hereby acknowledge its receipt. We treat it confidentially. "
    "You may find questions from us in this mailbox and you can add to your report at any time. "
    "You will hear within three months at the latest what we have done with your report."
)

DEFAULT_ORGANISATION = {
    "name": "Onze organisatie",
    "intro_nl": "Hier kunt u veilig en anoniem een vermoeden van een misstand, een integriteitsschending of "
    "ongewenst gedrag melden, of eerst een vraag stellen aan de vertrouwenspersoon.",
    "intro_en": "Here you can safely and anonymously report suspected wrongdoing, an integrity violation or "
    "unwanted behaviour, or first ask the confidential adviser a question.",
    "adviser_name": "De vertrouwenspersoon",
    "adviser_contact_nl": "Bereikbaar via de afdeling P&O of rechtstreeks per telefoon; zie het intranet.",
    "adviser_contact_en": "Reachable through HR or directly by phone; see the intranet.",
}


def ensure_defaults(session: Session) -> None:
    """Add the shipped organisation, policies and channels that are missing; never overwrite."""
    if session.get(Organisation, 1) is None:
        session.add(Organisation(id=1, **DEFAULT_ORGANISATION))
    policies = {policy.slug: policy for policy in session.scalars(select(DeadlinePolicy))}
    for spec in BUILTIN_POLICIES:
        if spec["slug"] not in policies:
            policy = DeadlinePolicy(builtin=True, shift_to_working_day=False, **spec)
            session.add(policy)
            policies[policy.slug] = policy
    session.flush()
    existing = set(session.scalars(select(Channel.slug)))
    for spec in BUILTIN_CHANNELS:
        if spec["slug"] in existing:
            continue
        values = {key: value for key, value in spec.items() if key != "policy"}
        session.add(
            Channel(
                policy_id=policies[spec["policy"]].id,
                acknowledgement_nl=ACKNOWLEDGEMENT_NL,
                acknowledgement_en=ACKNOWLEDGEMENT_EN,
                **values,
            )
        )
    session.flush()
