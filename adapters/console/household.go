package console

// householdRoutes registers the household pages (see routes).
func (c *Console) householdRoutes() {}

// householdMessages are the household pages' texts, merged into messages.
var householdMessages = map[string][2]string{}
