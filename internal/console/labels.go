package console

import (
	"github.com/reso-fr/reso/domain"
)

// roleLabel is a role as the field names it.
func roleLabel(r domain.Role) string {
	switch r {
	case domain.RoleAdvisor:
		return "conseiller"
	case domain.RoleReferent:
		return "référent"
	case domain.RoleAnimateur:
		return "animateur"
	case domain.RoleFunder:
		return "financeur"
	case domain.RoleAdmin:
		return "administrateur"
	case domain.RoleSystem:
		return "automatique"
	}
	return string(r)
}

// needStatusLabel names a need status ("abandoned" included).
func needStatusLabel(s string) string { return domain.NeedStatus(s).Label() }

// matchStatusLabel names a match status.
func matchStatusLabel(s string) string { return domain.MatchStatus(s).Label() }

// statusTone is the colour family of a status badge: the badge always
// shows its word too, never a colour alone.
func statusTone(s string) string {
	switch s {
	case "done":
		return "success"
	case "taking_care":
		return "info"
	case "done_no_help", "done_not_reachable":
		return "neutral"
	case "not_for_me", "abandoned":
		return "error"
	case "quo", "captured":
		return "warning"
	}
	return "neutral"
}

// basketLabel names a reminder basket as the animateurs' page does.
func basketLabel(b string) string {
	switch domain.Basket(b) {
	case domain.BasketPoke:
		return "Sans réponse"
	case domain.BasketLastChance:
		return "Dernière chance"
	case domain.BasketAbandon:
		return "À abandonner"
	}
	return ""
}

// tabLabel names an inbox tab.
func tabLabel(t string) string {
	switch t {
	case "quo":
		return "Boîte de réception"
	case "taking_care":
		return "En cours"
	case "done":
		return "Clôturés"
	case "not_for_me":
		return "Refusés"
	case "expired":
		return "Expirés"
	}
	return t
}

// subjectLabel names a subject by its code.
func subjectLabel(code string) string {
	if s, ok := domain.SubjectByCode(code); ok {
		return s.Label
	}
	return code
}

// actionLabels are the buttons of a referent's positions, in the field's
// words.
var actionLabels = map[string]string{
	"take_charge":        "Je prends en charge",
	"decline":            "Ce n'est pas pour moi",
	"done":               "Aide proposée",
	"done_no_help":       "Pas d'aide disponible",
	"done_not_reachable": "Entreprise injoignable",
	"reopen":             "Rouvrir",
}

// actionsFrom lists the actions a match in status s allows, in the order
// the buttons show: the transition table of the domain.
func actionsFrom(s domain.MatchStatus) []string {
	var out []string
	for _, a := range []struct {
		action string
		to     domain.MatchStatus
	}{{"take_charge", domain.MatchTakingCare}, {"decline", domain.MatchNotForMe}, {"done", domain.MatchDone},
		{"done_no_help", domain.MatchDoneNoHelp}, {"done_not_reachable", domain.MatchDoneNotReachable}, {"reopen", domain.MatchQuo}} {
		if domain.CanTransition(s, a.to) {
			out = append(out, a.action)
		}
	}
	return out
}

// eventLabel names a step of a need's history.
func eventLabel(typ string) string {
	switch typ {
	case domain.TypeNeedCaptured:
		return "Besoin saisi"
	case domain.TypeNeedForwarded:
		return "Mise en relation"
	case domain.TypeMatchStatusChanged:
		return "Positionnement"
	case domain.TypeCommentAdded:
		return "Commentaire"
	case domain.TypeReminderSent:
		return "Relance"
	case domain.TypeNeedAbandoned:
		return "Abandon"
	case domain.TypeContactErased:
		return "Contact effacé"
	}
	return typ
}

// reminderLabel names a reminder kind.
func reminderLabel(k string) string {
	switch k {
	case "poke":
		return "Relance (sans réponse)"
	case "last_chance":
		return "Relance de la dernière chance"
	}
	return k
}

// zoneLevelLabel names a zone level.
func zoneLevelLabel(l domain.ZoneLevel) string {
	switch l {
	case domain.LevelCommune:
		return "commune"
	case domain.LevelEPCI:
		return "EPCI"
	case domain.LevelDepartement:
		return "département"
	case domain.LevelRegion:
		return "région"
	case domain.LevelNational:
		return "national"
	}
	return string(l)
}

// orgKindLabel names an organisation kind.
func orgKindLabel(k string) string {
	switch domain.OrganisationKind(k) {
	case domain.KindCCI:
		return "CCI"
	case domain.KindCMA:
		return "CMA"
	case domain.KindDREETS:
		return "DREETS"
	case domain.KindRegion:
		return "Région"
	case domain.KindFranceTravail:
		return "France Travail"
	case domain.KindURSSAF:
		return "URSSAF"
	case domain.KindBpifrance:
		return "Bpifrance"
	case domain.KindChambreAgriculture:
		return "Chambre d'agriculture"
	}
	return "Autre"
}

// notificationKindLabel names a kind of mail, as the notifications page
// lists them.
func notificationKindLabel(k domain.NotificationKind) string {
	switch k {
	case domain.NotifyForwarded:
		return "Besoin transmis (au référent)"
	case domain.NotifyPoke:
		return "Relance (sans réponse)"
	case domain.NotifyLastChance:
		return "Relance de la dernière chance"
	case domain.NotifyAllDeclined:
		return "Tous les référents ont décliné (au conseiller)"
	case domain.NotifyAbandoned:
		return "Besoin abandonné (au conseiller)"
	case domain.NotifyTakenCharge:
		return "Prise en charge (à l'entreprise)"
	case domain.NotifyDone:
		return "Besoin clôturé (à l'entreprise)"
	case domain.NotifyComment:
		return "Nouveau commentaire"
	case domain.NotifyDigest:
		return "Récapitulatif hebdomadaire"
	case domain.NotifySignIn:
		return "Lien de connexion"
	case domain.NotifyAdvisorTakenCharge:
		return "Prise en charge (au conseiller)"
	}
	return string(k)
}
