package domain

import (
	"slices"
	"strings"
)

// Subject is one kind of need in the taxonomy. Codes are stable (they are
// stored in events); labels are French, as the field writes them.
type Subject struct {
	Code       string
	Label      string
	Theme      string
	ThemeLabel string
}

// Theme groups subjects.
type Theme struct {
	Code  string
	Label string
}

var themes = []Theme{
	{"human_resources", "Ressources humaines"},
	{"financing", "Financement"},
	{"difficulties", "Trésorerie et difficultés"},
	{"international", "International"},
	{"digital", "Numérique"},
	{"ecology", "Transition écologique et énergie"},
	{"transfer", "Cession et reprise"},
	{"real_estate", "Immobilier et foncier"},
	{"innovation", "Innovation"},
	{"development", "Développement commercial"},
	{"regulation", "Réglementation et santé-sécurité"},
}

// subjects lists the taxonomy, theme by theme. Never change a code: stored
// events name it. Add new subjects at the end of their theme.
var subjects = []Subject{
	{Code: "recruitment", Label: "Recruter un ou plusieurs salariés", Theme: "human_resources"},
	{Code: "apprenticeship", Label: "Recruter un apprenti ou un alternant", Theme: "human_resources"},
	{Code: "training", Label: "Former ses salariés, développer les compétences", Theme: "human_resources"},
	{Code: "hr_management", Label: "Organiser la gestion des ressources humaines", Theme: "human_resources"},
	{Code: "financing", Label: "Financer un projet d'investissement", Theme: "financing"},
	{Code: "equity_funding", Label: "Lever des fonds, renforcer ses fonds propres", Theme: "financing"},
	{Code: "public_aid", Label: "Identifier les aides publiques mobilisables", Theme: "financing"},
	{Code: "cash_flow_difficulties", Label: "Difficultés de trésorerie", Theme: "difficulties"},
	{Code: "tax_social_debts", Label: "Étaler des dettes fiscales ou sociales", Theme: "difficulties"},
	{Code: "business_in_difficulty", Label: "Prévenir ou traiter les difficultés de l'entreprise", Theme: "difficulties"},
	{Code: "export", Label: "Développer ses ventes à l'export", Theme: "international"},
	{Code: "international_prospecting", Label: "Prospecter un marché étranger", Theme: "international"},
	{Code: "customs", Label: "Formalités douanières", Theme: "international"},
	{Code: "digital_transformation", Label: "Numériser son activité", Theme: "digital"},
	{Code: "e_commerce", Label: "Vendre en ligne", Theme: "digital"},
	{Code: "cybersecurity", Label: "Se protéger des cyberattaques", Theme: "digital"},
	{Code: "ecological_transition", Label: "Engager sa transition écologique (RSE, bilan carbone)", Theme: "ecology"},
	{Code: "energy_efficiency", Label: "Réduire ses consommations d'énergie", Theme: "ecology"},
	{Code: "waste_management", Label: "Réduire et valoriser ses déchets", Theme: "ecology"},
	{Code: "business_transfer", Label: "Céder son entreprise", Theme: "transfer"},
	{Code: "business_takeover", Label: "Reprendre une entreprise", Theme: "transfer"},
	{Code: "real_estate", Label: "Trouver un local, un terrain", Theme: "real_estate"},
	{Code: "premises_compliance", Label: "Mettre ses locaux aux normes (accessibilité, sécurité)", Theme: "real_estate"},
	{Code: "innovation", Label: "Innover (produit, procédé, R&D)", Theme: "innovation"},
	{Code: "intellectual_property", Label: "Protéger sa propriété intellectuelle", Theme: "innovation"},
	{Code: "business_development", Label: "Développer son activité commerciale", Theme: "development"},
	{Code: "public_procurement", Label: "Répondre aux marchés publics", Theme: "development"},
	{Code: "regulations", Label: "Comprendre une réglementation", Theme: "regulation"},
	{Code: "workplace_health_safety", Label: "Santé et sécurité au travail", Theme: "regulation"},
	{Code: "environmental_regulations", Label: "Respecter la réglementation environnementale", Theme: "regulation"},
}

var subjectIdx = func() map[string]int {
	labels := make(map[string]string, len(themes))
	for _, t := range themes {
		labels[t.Code] = t.Label
	}
	idx := make(map[string]int, len(subjects))
	for i := range subjects {
		subjects[i].ThemeLabel = labels[subjects[i].Theme]
		idx[subjects[i].Code] = i
	}
	return idx
}()

// Subjects returns the taxonomy, theme by theme.
func Subjects() []Subject { return slices.Clone(subjects) }

// Themes returns the themes, in the order of Subjects.
func Themes() []Theme { return slices.Clone(themes) }

// SubjectByCode returns the subject with code code.
func SubjectByCode(code string) (Subject, bool) {
	i, ok := subjectIdx[code]
	if !ok {
		return Subject{}, false
	}
	return subjects[i], true
}

// ValidSubject returns a *ValidationError (field "subject") unless code
// names a subject of the taxonomy.
func ValidSubject(code string) error {
	if _, ok := subjectIdx[code]; !ok {
		return invalid("subject", "unknown subject %q", code)
	}
	return nil
}

// SubjectByCodeOrLabel finds a subject by its code ("recruitment") or its
// French label ("Recruter un ou plusieurs salariés"), case, accents and
// punctuation ignored (FoldName), as people type them in spreadsheets.
func SubjectByCodeOrLabel(s string) (Subject, bool) {
	if sub, ok := SubjectByCode(strings.TrimSpace(s)); ok {
		return sub, true
	}
	f := FoldName(s)
	if f == "" {
		return Subject{}, false
	}
	for _, sub := range subjects {
		if FoldName(sub.Label) == f || FoldName(sub.Code) == f {
			return sub, true
		}
	}
	return Subject{}, false
}
