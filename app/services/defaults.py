"""Shipped defaults: the organisation texts, the built-in deadline policies of LAW.md and four channels.

`ensure_defaults()` runs after every `meldkluis db upgrade`; it only adds what is missing, so an
admin's edits survive upgrades.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Channel, ChannelRecipient, DeadlinePolicy, Organisation, User

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


# Dutch names and descriptions of the built-in policies (the stored ones are English); shown while an admin
# has not renamed the policy.
BUILTIN_POLICIES_NL: dict[str, tuple[str, str]] = {
    "wbk": ("Wet bescherming klokkenluiders (Wbk)",
            "Ontvangstbevestiging binnen 7 dagen na ontvangst; terugkoppeling binnen 3 maanden na de bevestiging "
            "(of 3 maanden na de 7e dag als er geen bevestiging is verstuurd; de vroegste datum geldt), zonder "
            "verlenging; een gesprek binnen 14 dagen na het verzoek. Wbk art. 2; Richtlijn 2019/1937 art. 9 en "
            "15(1)(a)."),
    "bestuursdecreet": ("Bestuursdecreet (Vlaanderen)",
                        "Ontvangstbevestiging binnen 7 kalenderdagen; terugkoppeling binnen 3 maanden. "
                        "Bestuursdecreet art. III.60 e.v."),
    "be-private": ("België, private sector (wet van 28 november 2022)",
                   "Ontvangstbevestiging binnen 7 dagen; terugkoppeling binnen 3 maanden."),
    "klachtenregeling-2w": ("Klachtenregeling: reactie binnen twee weken",
                            "De klachtenmanager reageert binnen 14 dagen na ontvangst (klachtenregeling van de "
                            "organisatie)."),
    "awb-9": ("Awb 9:11 (Nederlandse overheidsorganen)",
              "Beslissen binnen 6 weken na ontvangst; 10 weken met een adviescommissie; eenmaal te verdagen met "
              "4 weken met een vastgelegde reden."),
}


def policy_text(policy: DeadlinePolicy, lang: str) -> tuple[str, str]:
    """The policy's name and description in the page's language (built-in ones that are unchanged)."""
    shipped = next((spec for spec in BUILTIN_POLICIES if spec["slug"] == policy.slug), None)
    dutch = BUILTIN_POLICIES_NL.get(policy.slug)
    if lang == "nl" and shipped is not None and dutch is not None:
        name = dutch[0] if policy.name == shipped["name"] else policy.name
        description = dutch[1] if policy.description == shipped["description"] else policy.description
        return name, description
    return policy.name, policy.description


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

# The generic text of earlier versions: replaced by the channel's own text where an admin never changed it.
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

# Each shipped channel's acknowledgement: its own deadline (its policy's) and its own noun.
CHANNEL_ACKNOWLEDGEMENTS: dict[str, tuple[str, str]] = {
    "misstand": (
        "Wij hebben uw melding van een vermoeden van een misstand ontvangen en bevestigen hierbij de ontvangst. "
        "Wij behandelen haar vertrouwelijk. U kunt in deze brievenbus vragen van ons verwachten en op elk moment "
        "aanvullen wat u wilt. U hoort uiterlijk drie maanden na deze bevestiging wat wij met uw melding hebben "
        "gedaan.",
        "We have received your report of suspected wrongdoing and hereby acknowledge its receipt. We treat it "
        "confidentially. You may find questions from us in this mailbox and you can add to your report at any time. "
        "You will hear what we have done with your report within three months of this acknowledgement at the "
        "latest.",
    ),
    "integriteit": (
        "Wij hebben uw melding van een integriteitsschending ontvangen en bevestigen hierbij de ontvangst. "
        "Wij behandelen haar vertrouwelijk. U kunt in deze brievenbus vragen van ons verwachten en op elk moment "
        "aanvullen wat u wilt. U hoort uiterlijk drie maanden na deze bevestiging wat wij met uw melding hebben "
        "gedaan.",
        "We have received your report of an integrity violation and hereby acknowledge its receipt. We treat it "
        "confidentially. You may find questions from us in this mailbox and you can add to your report at any time. "
        "You will hear what we have done with your report within three months of this acknowledgement at the "
        "latest.",
    ),
    "omgangsvormen": (
        "Wij hebben uw klacht over ongewenste omgangsvormen ontvangen en bevestigen hierbij de ontvangst. "
        "Wij behandelen haar vertrouwelijk. De klachtenmanager reageert binnen twee weken na ontvangst "
        "inhoudelijk op uw klacht en vertelt u dan hoe de klacht verder wordt behandeld.",
        "We have received your complaint about unwanted behaviour and hereby acknowledge its receipt. We treat it "
        "confidentially. The complaints manager will respond to your complaint within two weeks of receipt and "
        "tell you then how it will be handled further.",
    ),
    "vertrouwenspersoon": (
        "De vertrouwenspersoon heeft uw vraag ontvangen. Wat u schrijft blijft vertrouwelijk en u houdt zelf de "
        "regie: er gebeurt niets zonder uw toestemming. U krijgt binnen twee weken na ontvangst antwoord in deze "
        "brievenbus.",
        "The confidential adviser has received your question. What you write stays confidential and you stay in "
        "control: nothing happens without your consent. You will get an answer in this mailbox within two weeks "
        "of receipt.",
    ),
}

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
    existing = {channel.slug: channel for channel in session.scalars(select(Channel))}
    for spec in BUILTIN_CHANNELS:
        text_nl, text_en = CHANNEL_ACKNOWLEDGEMENTS[spec["slug"]]
        channel = existing.get(spec["slug"])
        if channel is not None:
            # Only the old generic text is replaced (it promised three months on every channel).
            if channel.acknowledgement_nl == ACKNOWLEDGEMENT_NL:
                channel.acknowledgement_nl = text_nl
            if channel.acknowledgement_en == ACKNOWLEDGEMENT_EN:
                channel.acknowledgement_en = text_en
            continue
        values = {key: value for key, value in spec.items() if key != "policy"}
        session.add(
            Channel(
                policy_id=policies[spec["policy"]].id,
                acknowledgement_nl=text_nl,
                acknowledgement_en=text_en,
                **values,
            )
        )
    session.flush()


def adopt_shipped_channels(session: Session, user: User) -> None:
    """First run: the first admin who is also a handler receives every shipped channel's reports.

    Without this a fresh installation has channels no one can read (a report would be sealed to the
    reporter alone while its statutory clock runs). Later admin-handlers are not added: recipients are
    then the admin's choice.
    """
    if not (user.is_admin and user.is_handler and user.public_key is not None):
        return
    earlier = session.scalar(select(User.id).where(
        User.is_admin.is_(True), User.is_handler.is_(True), User.public_key.is_not(None), User.id != user.id,
    ).limit(1))
    if earlier is not None:
        return
    shipped = [spec["slug"] for spec in BUILTIN_CHANNELS]
    channels = session.scalars(select(Channel).where(Channel.slug.in_(shipped)))
    have = set(session.scalars(select(ChannelRecipient.channel_id).where(ChannelRecipient.user_id == user.id)))
    for channel in channels:
        if channel.id not in have:
            session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
    session.flush()
