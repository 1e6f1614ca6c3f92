package console

// reviewerRoutes registers the reviewer pages (see routes).
func (c *Console) reviewerRoutes() {}

// reviewerMessages are the reviewer pages' texts, merged into messages.
var reviewerMessages = map[string][2]string{}
