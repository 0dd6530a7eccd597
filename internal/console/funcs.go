package console

import (
	"fmt"
	"html/template"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// funcs are the templates' helpers: French formats and labels.
var funcs = template.FuncMap{
	"date":     frDate,
	"datetime": frDateTime,
	"optdatetime": func(t *time.Time) string {
		if t == nil {
			return "–"
		}
		return frDateTime(*t)
	},
	"isodatetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"localinput":  toLocalInput,
	"month":       frMonth,
	"int":         func(n int) string { return frInt(int64(n)) },
	"int64":       frInt,
	"needStatus":  func(s any) string { return needStatusLabel(fmt.Sprint(s)) },
	"matchStatus": func(s any) string { return matchStatusLabel(fmt.Sprint(s)) },
	"tone":        func(s any) string { return statusTone(fmt.Sprint(s)) },
	"basket":      basketLabel,
	"tab":         tabLabel,
	"subject":     subjectLabel,
	"role":        roleLabel,
	"event":       eventLabel,
	"reminder":    reminderLabel,
	"zoneLevel":   zoneLevelLabel,
	"orgKind":     orgKindLabel,
	"actionLabel": func(a string) string { return actionLabels[a] },
	"commune":     communeName,
	"zone":        zoneName,
	"siret":       func(s string) string { return domain.SIRET(s).Display() },
	"siren":       sirenDisplay,
	"score":       func(f float64) string { return frDecimal(f, 2) },
	"sfAlert":     func(a any) string { return sfAlertLabel(fmt.Sprint(a)) },
	"sfTone":      sfTone,
	"sfList":      sfListName,
	"mailKind":    notificationKindLabel,
	"delivery":    deliveryState,
	// formKey is a fresh idempotency key for a form: sent twice, the form
	// acts once.
	"formKey":     func() string { return uuid.Must(uuid.NewV7()).String() },
	"add":         func(a, b int) int { return a + b },
	"stateLabel":  stateLabel,
	"lagText":     lagText,
	"rebuildText": rebuildText,
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
}

// communeName names a commune by its INSEE code.
func communeName(code string) string {
	if c, ok := domain.DefaultGeography().Commune(code); ok {
		return c.Name
	}
	return code
}

// zoneName names a zone with its level: "Nord (département)".
func zoneName(z domain.Zone) string {
	if z.Level == domain.LevelNational {
		return "France entière"
	}
	return domain.DefaultGeography().ZoneName(z) + " (" + zoneLevelLabel(z.Level) + ")"
}
