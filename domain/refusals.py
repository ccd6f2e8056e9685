"""The one catalogue of refusal texts, English and Dutch (issue 22, "Dutch answers").

Pure data and one renderer. A refusal (:class:`domain.errors.DomainError`) carries a code, its
legal ``source`` and named parameters; its text is looked up here under its key: the code, or
``code.variant`` where one code has several texts (``out_of_order.booking``). Templates use
:meth:`str.format` fields named after the parameters; two format specs join a list: ``{x:or}``
("A or B" / "A of B") and ``{x:list}`` ("A, B"); an empty list or None reads "nobody" /
"niemand"; ``{x:kind}`` names a kind of subject in Dutch ("aanvraag"). The Dutch is the
formal register of a government system (u-form); codes, step names, organisation codes and
legal sources stay as they are in both languages.

A test (tests/unit/test_refusal_catalogue.py) collects every code raised in domain/, api/,
mlob/ and projections/ and fails for one without both texts here, or whose texts name a
parameter its raise sites do not pass.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any, NamedTuple


class Text(NamedTuple):
    en: str
    nl: str


#: Languages a refusal is rendered in; English is the default.
LANGUAGES = ("en", "nl")

_NOBODY = {"en": "nobody", "nl": "niemand"}
#: ``{x:kind}``: a kind of subject (its API name or its class) in Dutch; English keeps it.
_KINDS_NL = {
    "request": "aanvraag",
    "AssistanceRequest": "aanvraag",
    "incident": "incident",
    "Incident": "incident",
    "capacity": "capaciteit",
    "Capacity": "capaciteit",
    "subscription": "abonnement",
    "Subscription": "abonnement",
}
_OR = {"en": " or ", "nl": " of "}

#: Texts that two codes share (one refused by the write path, one by a read or the feed).
_NO_SUCH_SUBJECT = Text(
    "no {subject_kind} {subject}", "Er bestaat geen {subject_kind:kind} {subject}."
)
_EXERCISE_VALUES = Text(
    "exercise is false (real only, the default), true (exercises only) or all "
    "(both), not {value!r}",
    "exercise is false (alleen echt, de standaard), true (alleen oefeningen) of all "
    "(beide), niet {value!r}.",
)

TEXTS: dict[str, Text] = {
    # --- access tokens --------------------------------------------------------------------------
    "unknown_token": Text("no token {token_id}", "Er bestaat geen token {token_id}."),
    "unknown_role": Text(
        "role must be one of {roles:list}", "De rol moet een van de volgende zijn: {roles:list}."
    ),
    "expired_on_issue": Text("the expiry lies in the past", "De vervaldatum ligt in het verleden."),
    "already_revoked": Text("the token was revoked already", "Het token is al eerder ingetrokken."),
    "admin_only.token": Text(
        "only an administrator issues or revokes tokens",
        "Alleen een beheerder kan tokens uitgeven of intrekken.",
    ),
    "not_own_organisation.token": Text(
        "an administrator manages only its own organisation's tokens",
        "Een beheerder beheert alleen de tokens van de eigen organisatie.",
    ),
    "clearance_above_own.token": Text(
        "a token's clearance may not exceed its issuer's",
        "Het autorisatieniveau van een token mag niet hoger zijn dan dat van de uitgever.",
    ),
    "role_not_held.token": Text(
        "this organisation may not hold that role",
        "Deze organisatie kan deze rol niet vervullen.",
    ),
    # --- reference data ---------------------------------------------------------------------------
    "unknown_organisation": Text("{org} is not known", "Organisatie {org} is niet bekend."),
    "unknown_capability": Text(
        "{capability} is not in the catalogue",
        "Capaciteit {capability} staat niet in de catalogus.",
    ),
    "unknown_region.home_region": Text(
        "{home_region} is not a safety region", "{home_region} is geen veiligheidsregio."
    ),
    "unknown_region.incident": Text(
        "{region} is not a safety region", "{region} is geen veiligheidsregio."
    ),
    "unknown_region.authority": Text(
        "{of} is not a safety region (VR01-VR25)",
        "{of} is geen veiligheidsregio (VR01-VR25).",
    ),
    "unknown_municipality": Text(
        "{of} is not a known municipality (the annex to art. 8 Wvr)",
        "{of} is geen bekende gemeente (bijlage bij art. 8 Wvr).",
    ),
    "unknown_prosecutor_office": Text(
        "{of} is not a public prosecutor's office (OM-..)",
        "{of} is geen parket van het Openbaar Ministerie (OM-..).",
    ),
    # --- corrections ------------------------------------------------------------------------------
    "reason_required": Text(
        "a correction must give its reason", "Bij een correctie moet u de reden vermelden."
    ),
    "void_not_latest.not_latest": Text(
        "only the latest correctable step (version {latest}) can be voided, "
        "not version {target_version}; record a new step instead",
        "Alleen de laatste corrigeerbare stap (versie {latest}) kan ongedaan worden gemaakt, "
        "niet versie {target_version}; legt u in plaats daarvan een nieuwe stap vast.",
    ),
    "void_not_latest.nothing_voidable": Text(
        "no step can be voided: the latest ones moved capacity or created the request",
        "Er kan geen stap ongedaan worden gemaakt: de laatste stappen hebben capaciteit "
        "verplaatst of de aanvraag aangemaakt.",
    ),
    "not_own_step": Text(
        "the latest step was recorded by {recorder}: only {recorder} voids it",
        "De laatste stap is vastgelegd door {recorder}; alleen {recorder} kan deze ongedaan maken.",
    ),
    # --- capacities -------------------------------------------------------------------------------
    "quantity_not_positive.whole_number": Text(
        "{what} must be a positive whole number", "{what} moet een positief geheel getal zijn."
    ),
    "quantity_not_positive.counts": Text(
        "counts cannot be negative", "Aantallen kunnen niet negatief zijn."
    ),
    "quantity_not_positive.share": Text(
        "share of line {line_id} for {to}: quantity must be positive",
        "Deel van regel {line_id} voor {to}: het aantal moet groter dan nul zijn.",
    ),
    "quantity_not_positive.line": Text(
        "line {line_id}: quantity must be positive",
        "Regel {line_id}: het aantal moet groter dan nul zijn.",
    ),
    "not_a_provider": Text(
        "{actor} ({kind}) provides no capacities",
        "{actor} ({kind}) levert geen capaciteiten.",
    ),
    "not_own_capacity.manage": Text(
        "{actor} manages only its own capacities, not {provider}'s",
        "{actor} beheert alleen de eigen capaciteiten, niet die van {provider}.",
    ),
    "not_own_capacity.no_booking": Text(
        "{actor} has no booking on this request to {step}",
        "{actor} heeft op deze aanvraag geen boeking waarop de stap {step} kan worden gezet.",
    ),
    "not_own_capacity.other_provider": Text(
        "{actor} may not {step} {provider}'s capacity",
        "{actor} mag de stap {step} niet zetten voor capaciteit van {provider}.",
    ),
    "not_own_capacity.commit": Text(
        "{actor} commits only its own capacities, not {provider}'s",
        "{actor} kan alleen de eigen capaciteiten toezeggen, niet die van {provider}.",
    ),
    "not_a_provider_of_capability.capacity": Text(
        "{provider} does not provide {capability_code} per the catalogue",
        "{provider} levert volgens de catalogus geen {capability_code}.",
    ),
    "not_a_provider_of_capability.request": Text(
        "{actor} provides none of {asked:list} per the catalogue",
        "{actor} levert volgens de catalogus geen van de volgende capaciteiten: {asked:list}.",
    ),
    "notice_negative": Text(
        "notice time cannot be negative", "De voorbereidingstijd kan niet negatief zijn."
    ),
    "capacity_exceeded.exceeds_existing": Text(
        "{booked} of {quantity} are booked; {unavailable} unavailable and "
        "{abroad} abroad would exceed what exists",
        "{booked} van de {quantity} zijn geboekt; met {unavailable} niet beschikbaar en "
        "{abroad} in het buitenland zou het totaal de aanwezige capaciteit overschrijden.",
    ),
    "capacity_exceeded.below_in_use": Text(
        "{in_use} are booked or unavailable; the quantity cannot drop to {quantity}",
        "{in_use} zijn geboekt of niet beschikbaar; het aantal kan niet dalen tot {quantity}.",
    ),
    "booking_exists": Text("booking {booking_id} exists", "Boeking {booking_id} bestaat al."),
    "double_booking": Text(
        "{name} ({capability}) of {provider} has {available} available, not {held}",
        "{name} ({capability}) van {provider} heeft er {available} beschikbaar, niet {held}.",
    ),
    "unknown_booking.capacity": Text(
        "no booking {booking_id} on this capacity",
        "Op deze capaciteit bestaat geen boeking {booking_id}.",
    ),
    "unknown_booking.request": Text(
        "no booking {booking_id} on this request",
        "Op deze aanvraag bestaat geen boeking {booking_id}.",
    ),
    "invalid_split": Text(
        "a part of booking {booking_id} is less than its {held} and new",
        "Een deel van boeking {booking_id} moet kleiner zijn dan de {held} van de boeking en "
        "nieuw zijn.",
    ),
    "capability_mismatch": Text(
        "line {line_id} asks for {capability}, the capacity is {capacity_capability}",
        "Regel {line_id} vraagt om {capability}; de capaciteit is {capacity_capability}.",
    ),
    "capacity_mismatch": Text(
        "the booking is on another capacity", "De boeking staat op een andere capaciteit."
    ),
    "invalid_successor": Text(
        "the successor is another booking, dispatched or on scene on the same line",
        "De aflossing moet een andere boeking zijn op dezelfde regel, onderweg of ter plaatse.",
    ),
    "exceeds_booked": Text(
        "booking {booking_id} holds {held}, not {quantity}",
        "Boeking {booking_id} omvat {held}, niet {quantity}.",
    ),
    "exercise_mismatch.exercise": Text(
        "this {subject} is an exercise (exercise={flag}) since it was created; a step on it "
        "must say exercise={flag} too",
        "Dit object ({subject}) is sinds de aanmaak een oefening (exercise={flag}); een stap "
        "hierop moet ook exercise={flag} vermelden.",
    ),
    "exercise_mismatch.real": Text(
        "this {subject} is real (exercise={flag}) since it was created; a step on it "
        "must say exercise={flag} too",
        "Dit object ({subject}) is sinds de aanmaak echt, geen oefening (exercise={flag}); "
        "een stap hierop moet ook exercise={flag} vermelden.",
    ),
    "exercise_mismatch.exercise_capacity": Text(
        "the capacity is registered for exercises only (exercise=true); a real request "
        "cannot book it",
        "De capaciteit is alleen voor oefeningen geregistreerd (exercise=true); een echte "
        "aanvraag kan haar niet boeken.",
    ),
    # --- the envelope ---------------------------------------------------------------------------
    "occurred_at_naive": Text(
        "occurred_at must carry a time zone", "occurred_at moet een tijdzone bevatten."
    ),
    "occurred_at_too_early": Text(
        "occurred_at {occurred_at} lies before 1900", "occurred_at {occurred_at} ligt vóór 1900."
    ),
    "occurred_at_in_future": Text(
        "occurred_at {occurred_at} lies in the future",
        "occurred_at {occurred_at} ligt in de toekomst.",
    ),
    "message_id_invalid": Text(
        "message_id must be 1 to 200 characters",
        "message_id moet 1 tot 200 tekens lang zijn.",
    ),
    "version_conflict.expected_version": Text(
        "{subject} is at version {actual}, not the expected {expected}",
        "{subject} staat op versie {actual}, niet op de verwachte versie {expected}.",
    ),
    "version_conflict.concurrent": Text(
        "another step was recorded on this subject at the same time; reload and retry",
        "Tegelijkertijd is een andere stap op dit onderwerp vastgelegd; laadt u de gegevens "
        "opnieuw en probeert u het nogmaals.",
    ),
    # --- incidents --------------------------------------------------------------------------------
    "regions_required": Text(
        "an incident concerns at least one region",
        "Een incident betreft ten minste één veiligheidsregio.",
    ),
    "not_own_region": Text(
        "{actor} records only incidents in its own region",
        "{actor} legt alleen incidenten in de eigen regio vast.",
    ),
    "title_required": Text("an incident needs a title", "Een incident moet een titel hebben."),
    "incident_closed": Text("the incident is closed", "Het incident is gesloten."),
    "no_change.grip": Text(
        "the incident is at GRIP {grip} already", "Het incident staat al op GRIP {grip}."
    ),
    "no_change.phase": Text(
        "the incident is in phase {phase} already", "Het incident is al in fase {phase}."
    ),
    "opener_stays": Text(
        "{opener} opened the incident and stays in it unless LOCC removes it",
        "{opener} heeft het incident geopend en blijft erbij betrokken, tenzij het LOCC deze "
        "organisatie verwijdert.",
    ),
    "remove_only_yourself": Text(
        "a safety region adds regions and removes only itself; LOCC and the NCC change the others",
        "Een veiligheidsregio kan regio's toevoegen en alleen zichzelf verwijderen; het LOCC "
        "en het NCC wijzigen de overige.",
    ),
    "summary_required": Text(
        "a situation report needs content", "Een situatierapport moet inhoud hebben."
    ),
    # --- subjects and the store ---------------------------------------------------------------
    "unknown_subject": _NO_SUCH_SUBJECT,
    "unknown_subject.wrong_kind": Text(
        "{subject} is not a {subject_kind}", "{subject} is geen {subject_kind:kind}."
    ),
    "subject_exists": Text("{subject} exists already", "{subject} bestaat al."),
    "not_possible_now": Text(
        "this step is not possible now", "Deze stap is op dit moment niet mogelijk."
    ),
    "message_id_reused": Text(
        "message id(s) {ids:list} were recorded before with other content",
        "Bericht-id('s) {ids:list} zijn eerder met een andere inhoud vastgelegd.",
    ),
    # --- who takes a step on a request ----------------------------------------------------------
    "read_only_role": Text(
        "role {role} records no steps", "Met de rol {role} kunt u geen stappen vastleggen."
    ),
    "step_not_permitted": Text(
        "{actor} ({org_kind}) may not {step} a {kind} request",
        "{actor} ({org_kind}) mag de stap {step} niet zetten op een aanvraag van het type {kind}.",
    ),
    "step_not_permitted.unarmed": Text(
        "{actor} ({org_kind}) may not {step} a {kind} request without an armed line",
        "{actor} ({org_kind}) mag de stap {step} niet zetten op een aanvraag van het type "
        "{kind} zonder regel voor gewapende inzet.",
    ),
    "step_not_permitted.not_appealable": Text(
        "a {kind} decision cannot be appealed: only a korpschef's refusal of "
        "police bijstand (art. 56) can",
        "Tegen een besluit op een aanvraag van het type {kind} staat geen beroep open; dat "
        "kan alleen tegen een weigering van politiebijstand door de korpschef (art. 56).",
    ),
    "step_not_permitted.incident": Text(
        "{actor} ({kind}) does not keep incident records",
        "{actor} ({kind}) houdt geen incidentregistratie bij.",
    ),
    "step_not_permitted.appeal_only": Text(
        "{org_kind} advises the Minister on an appeal only",
        "{org_kind} adviseert de minister alleen in beroep.",
    ),
    "step_not_permitted.appeal_advisers": Text(
        "on an appeal {advisers:or} advises the Minister, not {org_kind}",
        "In beroep adviseert {advisers:or} de minister, niet {org_kind}.",
    ),
    "not_own_organisation": Text(
        "{actor} drafts requests only for itself, not for {requester}",
        "{actor} stelt alleen aanvragen voor zichzelf op, niet voor {requester}.",
    ),
    "wrong_requester": Text(
        "{requester} ({requester_kind}) cannot request {kind}",
        "{requester} ({requester_kind}) kan geen aanvraag van het type {kind} indienen.",
    ),
    "not_own_request.requester_only": Text(
        "only {requester} may {step} this request, not {actor}",
        "Alleen {requester} mag de stap {step} zetten op deze aanvraag, niet {actor}.",
    ),
    "not_own_request.hub_or_requester": Text(
        "the hub ({hub_kinds:or}) or the requester ({requester}) may {step} this request, "
        "not {actor}",
        "Het knooppunt ({hub_kinds:or}) of de aanvrager ({requester}) mag de stap {step} "
        "zetten op deze aanvraag, niet {actor}.",
    ),
    "wrong_hub": Text(
        "this request runs through {hub_kinds:or}, not {org_kind}",
        "Deze aanvraag loopt via {hub_kinds:or}, niet via {org_kind}.",
    ),
    "wrong_decider.no_share": Text(
        "{actor} was not asked for any line it provides; the request waits for {waiting:list}",
        "Aan {actor} is geen regel gevraagd die deze organisatie levert; de aanvraag wacht op "
        "{waiting:list}.",
    ),
    "wrong_decider.hub": Text(
        "{hub_kinds:or} decides this request", "{hub_kinds:or} besluit op deze aanvraag."
    ),
    "wrong_decider.next": Text(
        "the next decision on a {kind} request is {expected}'s, not {org_kind}'s",
        "Het volgende besluit op een aanvraag van het type {kind} is aan {expected}, niet aan "
        "{org_kind}.",
    ),
    "wrong_decider.minister_signs": Text(
        "this is the Minister of J&V's decision; LOCC records it only signed by "
        "{bodies:or} (authority.body)",
        "Dit besluit is aan de minister van J&V; het LOCC legt het alleen vast als het is "
        "ondertekend door {bodies:or} (authority.body).",
    ),
    # --- the order of steps -----------------------------------------------------------------------
    "out_of_order.status": Text(
        "the request is {state}; {step} follows only: {follows}",
        "De aanvraag heeft de status {state}; de stap {step} volgt alleen op: {follows}.",
    ),
    "out_of_order.amend_after_decision": Text(
        "a request decided on can no longer be amended",
        "Een aanvraag waarop is besloten, kan niet meer worden gewijzigd.",
    ),
    "out_of_order.appeal": Text(
        "only a whole or partial refusal by the korpschef can be appealed",
        "Alleen tegen een gehele of gedeeltelijke weigering door de korpschef staat beroep open.",
    ),
    "out_of_order.no_share_waiting": Text(
        "no provider's share of this request waits for a decision (LOCC forwards the "
        "lines, or parts of them, to providers of them first)",
        "Geen deel van deze aanvraag wacht op een besluit van een leverancier (het LOCC zet de "
        "regels, of delen daarvan, eerst door naar hun leveranciers).",
    ),
    "out_of_order.all_decided": Text(
        "every decider has decided this {state} request",
        "Alle besluitvormers hebben op deze aanvraag (status {state}) besloten.",
    ),
    "out_of_order.booking_needs": Text(
        "booking {booking_id} is {booking_step}; {step} needs {needs:or}",
        "Boeking {booking_id} heeft de status {booking_step}; de stap {step} vereist {needs:or}.",
    ),
    "out_of_order.no_booking": Text(
        "no booking can be {step}d now: {step} needs a booking that is {needs:or}",
        "Op dit moment kan voor geen enkele boeking de stap {step} worden gezet: deze stap "
        "vereist een boeking met de status {needs:or}.",
    ),
    "out_of_order.no_booking_relieve": Text(
        "no booking can be {step}d now: {step} needs a booking that is {needs:or}, "
        "and a successor on its way or on scene",
        "Op dit moment kan voor geen enkele boeking de stap {step} worden gezet: deze stap "
        "vereist een boeking met de status {needs:or} en een aflossing die onderweg of ter "
        "plaatse is.",
    ),
    "out_of_order.refused": Text(
        "the request was refused; only a refusal by the providers asked leaves a "
        "remainder to forward to another provider",
        "De aanvraag is geweigerd; alleen een weigering door de gevraagde leveranciers laat "
        "een restant over dat aan een andere leverancier kan worden doorgezet.",
    ),
    "not_approved.status": Text(
        "capacity is committed and deployed only after formal approval; the request "
        "is {state} ({step} follows only: {follows})",
        "Capaciteit wordt pas na formele goedkeuring toegezegd en ingezet; de aanvraag heeft "
        "de status {state} (de stap {step} volgt alleen op: {follows}).",
    ),
    "not_approved.made_ready": Text(
        "made-ready capacity is deployed only after formal approval and commitment",
        "Gereedgestelde capaciteit wordt pas na formele goedkeuring en toezegging ingezet.",
    ),
    "nothing_to_formalise": Text(
        "no written form is outstanding", "Er staat geen schriftelijke bevestiging open."
    ),
    "active_bookings.withdraw": Text(
        "every booked capacity must be released and returned before the request is withdrawn",
        "Alle geboekte capaciteit moet zijn vrijgegeven en teruggekeerd voordat de aanvraag "
        "wordt ingetrokken.",
    ),
    "active_bookings.close": Text(
        "every booked capacity must be released and returned before the request is closed",
        "Alle geboekte capaciteit moet zijn vrijgegeven en teruggekeerd voordat de aanvraag "
        "wordt gesloten.",
    ),
    "duplicate_step.exhaustion": Text(
        "exhaustion was confirmed already", "De uitputting is al bevestigd."
    ),
    "duplicate_step.advice": Text("{org_kind} advised already", "{org_kind} heeft al geadviseerd."),
    "duplicate_step.share": Text(
        "{actor} decided its share already", "{actor} heeft al op het eigen deel besloten."
    ),
    "duplicate_step.duty": Text(
        "{duty} was done already", "Aan de informatieplicht {duty} is al voldaan."
    ),
    "duplicate_step.appeal_advice": Text(
        "{org_kind} advised on this appeal", "{org_kind} heeft in dit beroep al geadviseerd."
    ),
    "advice_missing.decision": Text(
        "the decision needs advice of {missing:list} first",
        "Voor het besluit is eerst advies nodig van {missing:list}.",
    ),
    "advice_missing.appeal": Text(
        "the Minister decides the appeal after the advice of {missing:list}",
        "De minister beslist op het beroep na advies van {missing:list}.",
    ),
    # --- forwarding, shares and commitments ------------------------------------------------------
    "nothing_to_commit": Text(
        "everything granted on the lines you provide is committed already",
        "Alles wat is toegekend op de regels die u levert, is al toegezegd.",
    ),
    "not_asked.line": Text(
        "{org} was not asked for line {line_id}; LOCC forwards a share to a provider before "
        "it commits",
        "Aan {org} is regel {line_id} niet gevraagd; het LOCC zet een deel door naar een "
        "leverancier voordat deze toezegt.",
    ),
    "not_asked.request": Text(
        "{org} was not asked for this request; LOCC forwards a share to a provider before "
        "it commits",
        "Aan {org} is deze aanvraag niet gevraagd; het LOCC zet een deel door naar een "
        "leverancier voordat deze toezegt.",
    ),
    "not_asked.line_shares": Text(
        "{org} was not asked for line {line_id} (its shares: lines {asked:list}); LOCC "
        "forwards a share to a provider before it commits",
        "Aan {org} is regel {line_id} niet gevraagd (gevraagde delen: regels {asked:list}); "
        "het LOCC zet een deel door naar een leverancier voordat deze toezegt.",
    ),
    "not_asked.request_shares": Text(
        "{org} was not asked for this request (its shares: lines {asked:list}); LOCC "
        "forwards a share to a provider before it commits",
        "Aan {org} is deze aanvraag niet gevraagd (gevraagde delen: regels {asked:list}); het "
        "LOCC zet een deel door naar een leverancier voordat deze toezegt.",
    ),
    "exceeds_movable": Text(
        "line {line_id}: {movable} can be {step}d by {actor} now ({needs:or}), not {quantity}",
        "Regel {line_id}: {actor} kan nu voor {movable} de stap {step} zetten ({needs:or}), "
        "niet voor {quantity}.",
    ),
    "exceeds_granted": Text(
        "line {line_id}: {room} remain for {actor} to commit of {granted} granted to it "
        "({remaining} of {request_granted} on the request)",
        "Regel {line_id}: {actor} kan nog {room} toezeggen van de {granted} die aan deze "
        "organisatie zijn toegekend ({remaining} van {request_granted} op de aanvraag).",
    ),
    "nothing_to_forward": Text(
        "every line is asked of a provider or granted already: nothing remains",
        "Elke regel is al aan een leverancier gevraagd of toegekend: er resteert niets.",
    ),
    "remainder_as_shares": Text(
        "after a decision LOCC forwards the remainder as shares "
        '("shares": [{{"to", "line_id", "quantity"}}]), not the whole request',
        "Na een besluit zet het LOCC het restant door als delen "
        '("shares": [{{"to", "line_id", "quantity"}}]), niet de hele aanvraag.',
    ),
    "recipients_required": Text(
        "forward to at least one organisation",
        "Zet de aanvraag door naar ten minste één organisatie.",
    ),
    "share_provider_mismatch": Text(
        "{to} does not provide {capability} (line {line_id}) per the catalogue",
        "{to} levert volgens de catalogus geen {capability} (regel {line_id}).",
    ),
    "duplicate_share": Text(
        "{to} is asked for line {line_id} once: it has a share of it already, or is asked "
        "for it twice in this forward",
        "Aan {to} wordt regel {line_id} eenmaal gevraagd: deze organisatie heeft er al een "
        "deel van, of wordt er in deze doorzending tweemaal om gevraagd.",
    ),
    "share_exceeds_remaining": Text(
        "line {line_id}: shares ask {quantity}, {remaining} remain to forward",
        "Regel {line_id}: de delen vragen {quantity}, terwijl er nog {remaining} door te "
        "zetten zijn.",
    ),
    "granted_out_of_range.share": Text(
        "line {line_id}: 0..{asked} can be granted, what {org} was asked for",
        "Regel {line_id}: er kan 0 tot en met {asked} worden toegekend, wat aan {org} is gevraagd.",
    ),
    "granted_out_of_range.line": Text(
        "line {line_id}: 0..{asked} can be granted",
        "Regel {line_id}: er kan 0 tot en met {asked} worden toegekend.",
    ),
    "granted_required": Text(
        "a partial grant states what is granted per line",
        "Bij een gedeeltelijke toekenning vermeldt u per regel wat wordt toegekend.",
    ),
    "not_partial": Text(
        "{org}'s partial grant grants every share as asked: decide granted, or name "
        "the lines granted less than asked",
        "De gedeeltelijke toekenning van {org} kent elk deel toe zoals gevraagd: besluit tot "
        "toekenning, of noem de regels waarvan minder wordt toegekend dan gevraagd.",
    ),
    # --- statements a step must carry -------------------------------------------------------------
    "exhaustion_not_confirmed.before_submit": Text(
        "LE Preparatie first tests whether the police are exhausted (or lack the "
        "specialism) and permits the request: record its confirmation on the draft "
        "(request.exhaustion_confirmed) before submitting",
        "LE Preparatie toetst eerst of de politie is uitgeput (of het specialisme mist) en "
        "staat de aanvraag toe: legt u die bevestiging vast op het concept "
        "(request.exhaustion_confirmed) voordat u indient.",
    ),
    "exhaustion_not_confirmed.before_forward": Text(
        "LE Preparatie must first confirm the police are exhausted or lack the specialism",
        "LE Preparatie moet eerst bevestigen dat de politie is uitgeput of het specialisme mist.",
    ),
    "reasons_required.appeal": Text(
        "an appeal states its grounds", "Een beroep vermeldt de gronden."
    ),
    "reasons_required.findings": Text("state what was found", "Vermeld wat is vastgesteld."),
    "reasons_required.assessment": Text(
        "an assessment records its findings (a refusal its reasons)",
        "Een beoordeling legt de bevindingen vast (een weigering de redenen).",
    ),
    "findings_required.assessment": Text(
        "an assessment records its findings (a refusal its reasons)",
        "Een beoordeling legt de bevindingen vast (een weigering de redenen).",
    ),
    "reasons_required.advice": Text("advice states its content", "Een advies vermeldt de inhoud."),
    "reasons_required.refusal": Text(
        "a (partial) refusal states its reasons",
        "Een (gedeeltelijke) weigering vermeldt de redenen.",
    ),
    "reasons_required.priority": Text(
        "a priority decision states its reasons", "Een prioriteringsbesluit vermeldt de redenen."
    ),
    "reasons_required.appeal_decision": Text(
        "the Minister's decision states its reasons",
        "Het besluit van de minister vermeldt de redenen.",
    ),
    "reasons_required.extension": Text(
        "an extension states its reason", "Een verlenging vermeldt de reden."
    ),
    "alternatives_not_checked": Text(
        "before military assistance is forwarded, LOCC records whether other regions' or "
        "civil means would achieve the effect",
        "Voordat militaire bijstand wordt doorgezet, legt het LOCC vast of middelen van andere "
        "regio's of civiele middelen het beoogde effect zouden bereiken.",
    ),
    "lessons_required": Text(
        "an evaluation records at least one lesson",
        "Een evaluatie legt ten minste één les vast.",
    ),
    "unknown_line.capability": Text(
        "the request asks for no {capability_code}",
        "De aanvraag vraagt niet om {capability_code}.",
    ),
    "unknown_line.line": Text(
        "the request has no line {line_id}", "De aanvraag heeft geen regel {line_id}."
    ),
    "rank_not_positive": Text("priority ranks start at 1", "De prioriteitsvolgorde begint bij 1."),
    # --- duties to inform -----------------------------------------------------------------------
    "no_duty_outstanding": Text(
        "{actor} owes no duty to inform on this request now",
        "{actor} heeft op dit moment geen openstaande informatieplicht bij deze aanvraag.",
    ),
    "unknown_duty": Text(
        "a {kind} request has no duty to inform {duty!r} (its duties: {known})",
        "Een aanvraag van het type {kind} kent geen informatieplicht {duty!r} "
        "(informatieplichten: {known}).",
    ),
    "duty_not_due": Text(
        "{duty} falls due after the step {after}",
        "De informatieplicht {duty} geldt pas na de stap {after}.",
    ),
    "duty_not_due.outcomes": Text(
        "{duty} falls due after the step {after} ({outcomes:or})",
        "De informatieplicht {duty} geldt pas na de stap {after} ({outcomes:or}).",
    ),
    "not_own_duty": Text(
        "{duty} is {owner}'s duty, not {actor}'s",
        "De informatieplicht {duty} rust op {owner}, niet op {actor}.",
    ),
    "wrong_addressee": Text(
        "{duty} is owed to {addressee}, not {to}",
        "De informatieplicht {duty} geldt jegens {addressee}, niet jegens {to}.",
    ),
    # --- what a request contains: kind, task, authority, lines, justifications ------------------
    "task_not_for_kind": Text(
        "a {kind} request serves {tasks:or}, not {task}",
        "Een aanvraag van het type {kind} dient voor {tasks:or}, niet voor {task}.",
    ),
    "task_required": Text(
        "a {kind} request states its task (data.task): {tasks:or}",
        "Een aanvraag van het type {kind} vermeldt de taak (data.task): {tasks:or}.",
    ),
    "msob_police_task": Text(
        "{kind} is for public-interest tasks a market party could in principle "
        "do, never for a police task ({task}): request it via {route}",
        "{kind} is bedoeld voor taken van openbaar belang die een marktpartij in beginsel "
        "zou kunnen uitvoeren, nooit voor een politietaak ({task}); vraagt u deze aan via "
        "{route}.",
    ),
    "lines_required": Text(
        "a request asks for at least one capability",
        "Een aanvraag vraagt om ten minste één capaciteit.",
    ),
    "duplicate_line": Text("line {line_id} appears twice", "Regel {line_id} komt tweemaal voor."),
    "capability_not_for_kind": Text(
        "{capability} is not requested as {kind}",
        "{capability} wordt niet aangevraagd als {kind}.",
    ),
    "effect_required": Text(
        "line {line_id}: state the effect wanted; regions ask for effects, not units",
        "Regel {line_id}: vermeld het beoogde effect; regio's vragen om effecten, niet om "
        "eenheden.",
    ),
    "period_invalid.line": Text(
        "line {line_id}: the period ends before it starts",
        "Regel {line_id}: de periode eindigt voordat deze begint.",
    ),
    "period_invalid.extension": Text(
        "an extension ends later than the current end",
        "Een verlenging moet later eindigen dan het huidige einde.",
    ),
    "inconsistent_line": Text(
        "automatic weapons imply an armed deployment",
        "Automatische wapens houden een gewapende inzet in.",
    ),
    "authority_required": Text(
        "a {kind} request is signed by or on behalf of: {authorities:list}",
        "Een aanvraag van het type {kind} wordt ondertekend door of namens: {authorities:list}.",
    ),
    "forbidden_authority": Text(
        "a {body} may not request {kind}",
        "Een {body} mag geen aanvraag van het type {kind} indienen.",
    ),
    "wrong_authority.not_competent": Text(
        "{body} is not competent for {kind}; competent: {authorities:list}",
        "{body} is niet bevoegd voor {kind}; bevoegd zijn: {authorities:list}.",
    ),
    "wrong_authority.appeal": Text(
        "a {kind} refusal is appealed to the Minister by {bodies:or}, not by {body}",
        "Beroep bij de minister tegen een weigering van het type {kind} wordt ingesteld door "
        "{bodies:or}, niet door {body}.",
    ),
    "wrong_authority.acts_own_region": Text(
        "{requester} acts only on its own region's authority, not {of}'s",
        "{requester} handelt alleen namens het gezag van de eigen regio, niet namens dat van {of}.",
    ),
    "wrong_authority.outside_area": Text(
        "the {body_name} of {of} ({municipality_region}) does not sign for "
        "{requester}, whose area is {area:list}",
        "De {body_name} van {of} ({municipality_region}) tekent niet voor {requester}, "
        "waarvan het gebied {area:list} omvat.",
    ),
    "authority_not_for_task": Text(
        "a {kind} request for {task} is signed by {competent:or}, not {body}",
        "Een aanvraag van het type {kind} voor {task} wordt ondertekend door {competent:or}, "
        "niet door {body}.",
    ),
    "missing_justification_no_market_alternative": Text(
        "state why no market party (or civil means) can do it",
        "Vermeld waarom geen marktpartij (en geen civiel middel) dit kan uitvoeren.",
    ),
    "missing_justification_own_capacity_insufficient": Text(
        "state that the own unit's capacity is insufficient",
        "Vermeld dat de capaciteit van de eigen eenheid ontoereikend is.",
    ),
    "missing_justification_police_exhausted_or_specialism": Text(
        "state that police capacity is exhausted or the specialism is missing at police and KMar",
        "Vermeld dat de politiecapaciteit is uitgeput of dat het specialisme bij politie en "
        "KMar ontbreekt.",
    ),
    "missing_justification_region_mayor_view": Text(
        "attach the region-mayor's view (not needed when urgent)",
        "Voeg het standpunt van de regioburgemeester toe (niet nodig bij spoed).",
    ),
    "missing_justification_prosecutor_permission": Text(
        "attach the public prosecutor's permission",
        "Voeg de toestemming van de officier van justitie toe.",
    ),
    "missing_justification_prosecutor_permission.automatic_weapons": Text(
        "automatic weapons under the Politiewet need the public prosecutor's permission",
        "Voor automatische wapens onder de Politiewet is toestemming van de officier van "
        "justitie nodig.",
    ),
    # --- the HTTP layer ------------------------------------------------------------------------
    "unauthenticated": Text(
        "send Authorization: Bearer <token>",
        "U bent niet aangemeld; stuur de header Authorization: Bearer <token> mee.",
    ),
    "invalid_token": Text(
        "the token is unknown, expired or revoked",
        "Het token is onbekend, verlopen of ingetrokken.",
    ),
    "role_not_permitted.roles": Text(
        "this needs role {roles:or}", "Hiervoor is de rol {roles:or} vereist."
    ),
    "read_only_for_auditors": Text(
        "this needs role {roles:or}",
        "Alleen toegankelijk met de rol {roles:or}.",
    ),
    "national_auditors_only": Text(
        "the read-access log is for national auditors",
        "Het leestoegangslogboek is alleen toegankelijk voor landelijke auditors.",
    ),
    "not_found": _NO_SUCH_SUBJECT,
    "not_found.http": Text("{detail}", "Deze pagina of route bestaat niet."),
    "method_not_allowed.http": Text("{detail}", "Deze methode is voor deze route niet toegestaan."),
    "http_error.http": Text("{detail}", "Het verzoek kan niet worden verwerkt ({detail})."),
    "rate_limited": Text(
        "at most {limit} per token on this node; retry after {wait} s",
        "Ten hoogste {limit} per token op deze node; probeert u het over {wait} s opnieuw.",
    ),
    "invalid_request": Text(
        "the request does not fit", "Het verzoek voldoet niet aan de vereiste vorm."
    ),
    "invalid_exercise": _EXERCISE_VALUES,
    "unknown_type": Text(
        "the type filter names no event type; GET /v1/event-types lists them",
        "Het typefilter noemt geen bekend gebeurtenistype; GET /v1/event-types geeft de lijst.",
    ),
    "store_unavailable": Text(
        "the store cannot be reached; nothing was recorded",
        "De opslag is niet bereikbaar; er is niets vastgelegd.",
    ),
    "outcome_unknown": Text(
        "the store did not confirm whether this was recorded; retry with the same message ids",
        "De opslag heeft niet bevestigd of dit is vastgelegd; probeert u het opnieuw met "
        "dezelfde bericht-id's.",
    ),
    "body_too_large": Text(
        "at most {max_bytes} bytes", "Het bericht mag ten hoogste {max_bytes} bytes bevatten."
    ),
    "invalid_characters": Text(
        "NUL characters are not accepted", "NUL-tekens worden niet geaccepteerd."
    ),
    "malformed_json": Text(
        "the body is not JSON: {error}", "De inhoud van het bericht is geen JSON: {error}."
    ),
    "invalid_item": Text(
        "the body is neither an item nor a batch of items",
        "De inhoud van het bericht is geen item en geen reeks items.",
    ),
    "empty_batch": Text("post at least one item", "Verstuur ten minste één item."),
    "batch_too_large": Text(
        "at most {max_items} items per post", "Ten hoogste {max_items} items per bericht."
    ),
    "unknown_event_type": Text(
        "no event type {type!r}; see GET /v1/event-types",
        "Gebeurtenistype {type!r} bestaat niet; zie GET /v1/event-types.",
    ),
    "duplicate_message_in_batch": Text(
        "message id {message_id} appears twice in this batch",
        "Bericht-id {message_id} komt tweemaal voor in deze reeks.",
    ),
    "invalid_data": Text(
        "data does not fit {type}", "De gegevens voldoen niet aan het type {type}."
    ),
    "classification_above_clearance": Text(
        "your clearance does not cover {classification}",
        "Uw autorisatieniveau reikt niet tot {classification}.",
    ),
    # --- the live feed (WebSocket error frames) -------------------------------------------------
    "token_revoked": Text("the token was revoked", "Het token is ingetrokken."),
    "token_expired": Text("the token expired", "Het token is verlopen."),
    "invalid_token.feed": Text("send a valid token", "Stuur een geldig token mee."),
    "store_unavailable.feed": Text(
        "the store is away: reconnect and resume",
        "De opslag is niet bereikbaar: maak opnieuw verbinding en ga verder waar u was.",
    ),
    "store_unavailable.feed_start": Text(
        "the store is unreachable: retry",
        "De opslag is niet bereikbaar; probeert u het opnieuw.",
    ),
    "binary_not_accepted": Text(
        "messages are JSON text; a binary message closes the connection (1003)",
        "Berichten zijn JSON-tekst; een binair bericht sluit de verbinding (1003).",
    ),
    "too_many_connections": Text(
        "at most {max_connections} feed connections per token: try again later",
        "Ten hoogste {max_connections} feedverbindingen per token; probeert u het later opnieuw.",
    ),
    "too_many_replays": Text(
        "at most {max_replays} replays (subscriptions with after) run at once per "
        "token: reconnect later and resume",
        "Per token lopen ten hoogste {max_replays} herhalingen (abonnementen met after) "
        "tegelijk; maak later opnieuw verbinding en ga verder waar u was.",
    ),
    "channel_too_long": Text(
        "a channel name has at most {max_length} characters ({longer} longer)",
        "Een kanaalnaam heeft ten hoogste {max_length} tekens ({longer} langer).",
    ),
    "channel_not_permitted": Text(
        "not a channel you may subscribe to: {channels:list}",
        "U mag zich niet abonneren op deze kanalen: {channels:list}.",
    ),
    "too_many_channels": Text(
        "at most {max_channels} channels per connection",
        "Ten hoogste {max_channels} kanalen per verbinding.",
    ),
    "after_only_first": Text(
        "history is replayed only on a connection's first subscription; "
        "reconnect with after to resume",
        "De geschiedenis wordt alleen bij het eerste abonnement van een verbinding herhaald; "
        "maak opnieuw verbinding met after om verder te gaan.",
    ),
    "already_authenticated": Text(
        "send it only once", "U bent al aangemeld; stuur het token slechts eenmaal."
    ),
    "malformed.object": Text("a message is a JSON object", "Een bericht is een JSON-object."),
    "malformed.channels": Text(
        "channels are a non-empty list of strings",
        "Kanalen zijn een niet-lege lijst van teksten.",
    ),
    "malformed.position": Text(
        "{name} is a position: a whole number >= 0",
        "{name} is een positie: een geheel getal van 0 of hoger.",
    ),
    "malformed.unknown": Text(
        "send subscribe, unsubscribe or ping", "Stuur subscribe, unsubscribe of ping."
    ),
    "malformed.exercise": _EXERCISE_VALUES,
    # --- subscriptions and alerts (issue 24) ----------------------------------------------------
    "role_not_permitted.subscription": Text(
        "an organisation's own subscriptions are managed with role {roles:or}",
        "De abonnementen van een organisatie worden beheerd met de rol {roles:or}.",
    ),
    "clearance_above_own.subscription": Text(
        "a subscription's clearance may not exceed the token's",
        "Het autorisatieniveau van een abonnement mag niet hoger zijn dan dat van het token.",
    ),
    "unknown_subscription": Text(
        "no subscription {subscription_id}",
        "Abonnement {subscription_id} bestaat niet.",
    ),
    "rotation_under_way": Text(
        "another rotation of this subscription's secret is being recorded; try again",
        "Het geheim van dit abonnement wordt al vernieuwd; probeer het opnieuw.",
    ),
    "channels_required": Text("name at least one channel", "Noem ten minste één kanaal."),
    "too_many_channels.subscription": Text(
        "at most {max_channels} channels per subscription",
        "Ten hoogste {max_channels} kanalen per abonnement.",
    ),
    "channel_not_permitted.subscription": Text(
        "not a channel this organisation may follow: {refused:list}",
        "Deze organisatie mag deze kanalen niet volgen: {refused:list}.",
    ),
    "invalid_exercise.subscription": Text(
        "exercise is false, true or all", "exercise is false, true of all."
    ),
    "invalid_after": Text("after is a position, 0 or more", "after is een positie: 0 of hoger."),
    "already_paused": Text(
        "the subscription is paused already", "Het abonnement is al gepauzeerd."
    ),
    "not_paused": Text(
        "the subscription is neither paused nor failing",
        "Het abonnement is niet gepauzeerd en niet in storing.",
    ),
    "duplicate_subscription": Text(
        "subscription {id} delivers exactly this already",
        "Abonnement {id} levert precies dit al.",
    ),
    "invalid_url.too_long": Text(
        "a URL has at most {max_url} characters", "Een URL heeft ten hoogste {max_url} tekens."
    ),
    "invalid_url.not_a_url": Text("not a URL", "Dit is geen URL."),
    "invalid_url.no_host": Text(
        "an http(s) URL with a host", "Geef een http(s)-URL met een host op."
    ),
    "invalid_url.credentials": Text(
        "a URL without user or password (the signature authenticates)",
        "Geef een URL zonder gebruikersnaam of wachtwoord op (de ondertekening zorgt voor de "
        "authenticatie).",
    ),
    "https_required.classified": Text(
        "a subscription above ongerubriceerd must use https",
        "Een abonnement boven ongerubriceerd moet https gebruiken.",
    ),
    "https_required.host": Text(
        "https is required (MLOB_WEBHOOK_INSECURE_HOSTS)",
        "https is verplicht (MLOB_WEBHOOK_INSECURE_HOSTS).",
    ),
    "private_address": Text(
        "{host} is a private or link-local address (MLOB_WEBHOOK_INSECURE_HOSTS)",
        "{host} is een privé- of link-local-adres (MLOB_WEBHOOK_INSECURE_HOSTS).",
    ),
    "webhooks_not_running": Text(
        "subscriptions are not served by this process",
        "Dit proces bedient geen abonnementen.",
    ),
    "webhooks_not_configured": Text(
        "this installation has no MLOB_WEBHOOK_KEY: subscriptions cannot be made",
        "Deze installatie heeft geen MLOB_WEBHOOK_KEY: er kunnen geen abonnementen worden "
        "aangemaakt.",
    ),
    "unknown_type.subscription": Text(
        "not an API type: {unknown:list}", "Geen API-type: {unknown:list}."
    ),
    "nothing_to_change": Text("give paused or rotate_secret", "Geef paused of rotate_secret op."),
    "unknown_delivery": Text("no delivery {delivery_id}", "Aflevering {delivery_id} bestaat niet."),
    "read_only_role.acknowledge": Text(
        "acknowledging an alert needs role {roles:or}",
        "Voor het bevestigen van een melding is de rol {roles:or} vereist.",
    ),
    "unknown_alert": Text(
        "no such alert for this organisation", "Deze melding bestaat niet voor deze organisatie."
    ),
    "already_acknowledged": Text(
        "this organisation acknowledged the alert already",
        "Deze organisatie heeft de melding al bevestigd.",
    ),
    # --- cursors and EDXL ------------------------------------------------------------------------
    "invalid_cursor.unknown": Text(
        "cursor is not a `next` this list answered",
        "De cursor is geen `next` die deze lijst heeft gegeven.",
    ),
    "invalid_cursor.other_filters": Text(
        "this cursor was given for other filters: ask the next page with the same filters "
        "as the page before, or start again without a cursor",
        "Deze cursor is voor andere filters gegeven: vraag de volgende pagina op met dezelfde "
        "filters als de vorige pagina, of begin opnieuw zonder cursor.",
    ),
    "not_found.edxl": Text(
        "the message names no request you may see",
        "Het bericht noemt geen aanvraag die u mag inzien.",
    ),
    "edxl_invalid": Text(
        "the schemas refuse {element}: {reason}",
        "De schema's weigeren {element}: {reason}",
    ),
    "sender_mismatch": Text(
        "senderID {sender!r} is not your organisation {org}",
        "senderID {sender!r} is niet uw organisatie {org}.",
    ),
    "edxl_unmapped": Text("{element}: {reason}", "{element} kan niet worden vertaald: {reason}"),
    "xml_forbidden.dtd": Text(
        "a DTD (and so any entity) is not accepted",
        "Een DTD (en daarmee elke entiteit) wordt niet geaccepteerd.",
    ),
    "xml_forbidden.entities": Text(
        "entities are not accepted", "Entiteiten worden niet geaccepteerd."
    ),
    "xml_too_deep": Text(
        "elements nest at most {max_depth} deep",
        "Elementen zijn ten hoogste {max_depth} niveaus diep genest.",
    ),
    "malformed_xml": Text(
        "the body is not XML: {error}", "De inhoud van het bericht is geen XML: {error}"
    ),
    "malformed_xml.no_element": Text(
        "the body is not XML: no element",
        "De inhoud van het bericht is geen XML: er is geen element.",
    ),
}


class _Formatter(string.Formatter):
    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None or (isinstance(value, list) and not value):
            return _NOBODY[self.language]
        if format_spec == "kind":
            return _KINDS_NL.get(str(value), str(value)) if self.language == "nl" else str(value)
        if format_spec in ("or", "list"):
            items = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            return (_OR[self.language] if format_spec == "or" else ", ").join(items)
        return str(super().format_field(value, format_spec))


def render(key: str, params: Mapping[str, Any], language: str = "en") -> str:
    """The text of ``key`` in ``language`` (English for any other) with ``params`` filled in.
    A key without a text renders as the key and its parameters, never as an error: a refusal
    must always be answerable (the catalogue test keeps this from happening)."""
    text = TEXTS.get(key)
    if text is None:
        return f"{key} {dict(params)}" if params else key
    language = "nl" if language == "nl" else "en"
    template = text.nl if language == "nl" else text.en
    try:
        return _Formatter(language).vformat(template, (), dict(params))
    except (KeyError, IndexError, ValueError):
        return f"{template} {dict(params)}"


#: The Dutch text of a field that fails its schema, per pydantic error type (a refusal's
#: ``details[].type``; ``msg`` is pydantic's English). Its parameters are the error's context
#: (``gt``, ``max_length``, ...). A type not here keeps the English ``msg`` in Dutch answers.
FIELD_TEXTS: dict[str, str] = {
    "missing": "Dit veld is verplicht.",
    "extra_forbidden": "Dit veld hoort hier niet.",
    "greater_than": "Moet groter zijn dan {gt}.",
    "greater_than_equal": "Moet minstens {ge} zijn.",
    "less_than": "Moet kleiner zijn dan {lt}.",
    "less_than_equal": "Mag hoogstens {le} zijn.",
    "string_too_short": "Moet minstens {min_length} teken(s) lang zijn.",
    "string_too_long": "Mag hoogstens {max_length} tekens lang zijn.",
    "string_pattern_mismatch": "Bevat tekens die hier niet zijn toegestaan.",
    "too_short": "Moet minstens {min_length} keer voorkomen.",
    "too_long": "Mag hoogstens {max_length} keer voorkomen.",
    "int_type": "Moet een geheel getal zijn.",
    "int_parsing": "Moet een geheel getal zijn.",
    "int_from_float": "Moet een geheel getal zijn.",
    "string_type": "Moet tekst zijn.",
    "bool_type": "Moet waar of onwaar (true/false) zijn.",
    "bool_parsing": "Moet waar of onwaar (true/false) zijn.",
    "enum": "Moet een van de volgende zijn: {expected}.",
    "literal_error": "Moet een van de volgende zijn: {expected}.",
    "uuid_type": "Moet een UUID zijn.",
    "uuid_parsing": "Moet een UUID zijn.",
    "datetime_type": "Moet een datum met tijd zijn (ISO 8601).",
    "datetime_parsing": "Moet een datum met tijd zijn (ISO 8601).",
    "datetime_from_date_parsing": "Moet een datum met tijd zijn (ISO 8601).",
    "timezone_aware": "Moet een tijdzone hebben (bijvoorbeeld +01:00).",
    "list_type": "Moet een lijst zijn.",
    "dict_type": "Moet een object zijn.",
    "model_type": "Moet een object zijn.",
    "model_attributes_type": "Moet een object zijn.",
    "union_tag_invalid": "Onbekend type {tag}; verwacht: {expected_tags}.",
    "union_tag_not_found": "Het veld {discriminator} ontbreekt.",
}


def field_text(error_type: str, context: Mapping[str, Any] | None) -> str | None:
    """The Dutch text of a field's schema error (None: none in :data:`FIELD_TEXTS`)."""
    template = FIELD_TEXTS.get(error_type)
    if template is None:
        return None
    try:
        return _Formatter("nl").vformat(template, (), dict(context or {}))
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0].split("{")[0].rstrip(" ,") + "."
